package rules

import (
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/model"
)

var (
	fuzzSetOnce sync.Once
	fuzzSet     *Set
)

// FuzzMatch runs the default rules over arbitrary text: no panic, and
// everything a match quotes comes from the item itself.
func FuzzMatch(f *testing.F) {
	f.Add("CIA chief Burns met Russian spy chief in Ankara", "<p>The CIA director met SVR head Sergei Naryshkin.</p>", "")
	f.Add("MİT Başkanı Kalın, CIA Direktörü Ratcliffe ile görüştü", "Kalın&amp;#8217;s", "<script>x</script>")
	f.Add("U.S. Sec. of State Rubio met Lavrov?", ";;;...", "\u0301\u0301 ı İ ß")
	f.Add("", "", "")
	f.Add("<<<>>>&#;&amp", "'s 's - — –", "homologue* Naryshkin's")
	f.Fuzz(func(t *testing.T, title, summary, content string) {
		fuzzSetOnce.Do(func() { fuzzSet = defaultSet(t) })
		a := model.Article{Title: title, Summary: summary, Content: content}
		valid := utf8.ValidString(title) && utf8.ValidString(summary) && utf8.ValidString(content)
		all := cleanText(truncate(title, maxTitle)) + cleanText(truncate(summary, maxSummary)) + cleanText(truncate(content, maxContent))
		for _, m := range fuzzSet.Match(a) {
			for _, h := range m.Actors {
				if valid && !strings.Contains(all, h.Alias) {
					t.Errorf("alias %q not in the item", h.Alias)
				}
			}
			if valid && !strings.Contains(all, m.ContactTerm) {
				t.Errorf("contact term %q not in the item", m.ContactTerm)
			}
			if !utf8.ValidString(m.Evidence) {
				t.Errorf("evidence %q is not valid UTF-8", m.Evidence)
			}
		}
	})
}

// FuzzCompile builds a spec from arbitrary aliases, terms and patterns:
// Compile either refuses it with SpecErrors or returns a Set that matches
// arbitrary text without panicking.
func FuzzCompile(f *testing.F) {
	f.Add("Naryshkin*", "meet*", "chief", `\bSVR\b`, "Naryshkin meets the chief")
	f.Add("MIT", "talks", "head", "(", "MIT head talks")
	f.Add("'", "*", "", "", "")
	f.Add("U.S.", "a", "a", "a", "a a a a")
	f.Fuzz(func(t *testing.T, alias, term, head, pattern, text string) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("slow: %v for %q %q %q %q (%d bytes of text)", d, alias, term, head, pattern, len(text))
			}
		}()
		spec := Spec{
			Countries: map[string][]string{"AA": {alias}, "BB": {"bb"}},
			Heads:     HeadSpec{Words: []string{head}, Links: []string{"of"}},
			Actors: []ActorSpec{
				{ID: "aa-x", Country: "AA", Office: "x", Kind: "intel", Agencies: []string{alias}, Holders: []HolderSpec{{Name: alias}}},
				{ID: "role", Office: "y", Kind: "diplomatic", Titles: []string{term + " " + alias}, Plurals: []string{alias}},
			},
			Counterparts: []string{alias},
			Contact:      ContactSpec{Terms: map[string][]string{"meeting": {term}}, Negative: []string{head}},
			Rules: []model.RuleSpec{
				{Name: "c", Contact: true},
				{Name: "k", Keywords: []string{pattern}, Exclude: []string{alias}},
			},
		}
		set, err := Compile(spec)
		if err != nil {
			var list SpecErrors
			if len(err.Error()) == 0 || !asSpecErrors(err, &list) || len(list) == 0 {
				t.Fatalf("error %v is not a non-empty SpecErrors", err)
			}
			return
		}
		set.Match(model.Article{Title: text, Summary: alias + " " + text, Content: term})
	})
}

func asSpecErrors(err error, list *SpecErrors) bool {
	l, ok := err.(SpecErrors)
	*list = l
	return ok
}
