package rules

import (
	"os"
	"strings"
	"testing"
)

func TestDebugItems(t *testing.T) {
	ids := strings.Split(os.Getenv("DBG"), ",")
	set := defaultSet(t)
	for _, path := range []string{"testdata/corpus/dev_multi.jsonl", "testdata/blind_multi1/blind_multi1.jsonl"} {
		for _, it := range loadCorpus(t, path) {
			for _, id := range ids {
				if it.ID != id {
					continue
				}
				sc := &scratch{}
				for i, txt := range []string{it.Title, it.Summary} {
					fs := &sc.fields[i]
					set.scan(fs, txt)
					t.Logf("%s f%d folded: %q", id, i, fs.f.text)
					for _, h := range fs.hits {
						t.Logf("   hit %d [%d,%d) %q kind=%d actor=%d arg=%d", h.p.kind, h.t0, h.t1, fs.f.text[h.b0:h.b1], h.p.kind, h.p.actor, h.p.arg)
					}
				}
				t.Logf("%s => %s", id, describe(set.Match(it.article())))
			}
		}
	}
}
