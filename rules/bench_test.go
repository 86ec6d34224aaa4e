package rules

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/model"
)

// BenchmarkMatchDefault measures matching throughput of the shipped rules
// over the dev corpus (title and summary, as feeds give them).
func BenchmarkMatchDefault(b *testing.B) {
	set := defaultSet(b)
	items := loadCorpus(b, "testdata/corpus/dev.jsonl")
	arts := make([]model.Article, len(items))
	var bytes int64
	for i, it := range items {
		arts[i] = it.article()
		bytes += int64(len(it.Title) + len(it.Summary))
	}
	b.SetBytes(bytes / int64(len(arts)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		set.Match(arts[i%len(arts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
}

// BenchmarkCompileDefault measures compiling the shipped rules, and the
// memory the compiled Set keeps (retained-B: live heap after compiling
// one, garbage collected).
func BenchmarkCompileDefault(b *testing.B) {
	spec := defaultSpec(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(spec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(retained(b, func() any {
		set, _ := Compile(spec)
		return set
	})), "retained-B")
}

// retained returns how many bytes of live heap the value made by f keeps.
func retained(b *testing.B, f func() any) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

// BenchmarkAliasGrowth matches the same article against sets with 100 to
// 10,000 extra aliases; the time per article should stay flat, since all
// aliases share one automaton pass.
func BenchmarkAliasGrowth(b *testing.B) {
	base := defaultSpec(b)
	art := model.Article{
		Title:   "CIA Director Ratcliffe meets Egyptian intelligence chief Rashad in Cairo",
		Summary: "The two spy chiefs discussed the Gaza ceasefire and Sinai security during a visit that officials described as productive.",
	}
	for _, n := range []int{100, 1000, 10000} {
		spec := base
		spec.Actors = append(slicesClone(base.Actors), syntheticActors(n)...)
		set, err := Compile(spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("aliases=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set.Match(art)
			}
		})
	}
}

// syntheticActors returns actors holding n made-up aliases in total.
func syntheticActors(n int) []ActorSpec {
	var out []ActorSpec
	for i := 0; i < n; i += 10 {
		a := ActorSpec{ID: fmt.Sprintf("zz-synth-%d", i), Country: "US", Office: "synthetic", Kind: "intel"}
		h := HolderSpec{Name: synthName(i)}
		for j := 1; j < 10; j++ {
			h.Aliases = append(h.Aliases, synthName(i+j))
		}
		a.Holders = []HolderSpec{h}
		out = append(out, a)
	}
	return out
}

func synthName(i int) string {
	const letters = "bcdfghklmnprstvz"
	var sb strings.Builder
	sb.WriteString("Q")
	for k := 0; k < 6; k++ {
		sb.WriteByte(letters[i%len(letters)])
		i /= len(letters)
	}
	return sb.String()
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }

// BenchmarkMatchMultilingual measures matching throughput of the shipped
// rules over a mixed-script corpus: the English dev items and the
// multilingual ones (Russian, Ukrainian, Chinese, Japanese, Korean,
// Arabic, Persian, Hebrew), interleaved.
func BenchmarkMatchMultilingual(b *testing.B) {
	set := defaultSet(b)
	en := loadCorpus(b, "testdata/corpus/dev.jsonl")
	multi := loadCorpus(b, "testdata/corpus/dev_multi.jsonl")
	var arts []model.Article
	var bytes int64
	for i := 0; i < len(en) || i < len(multi); i++ {
		for _, list := range [][]corpusItem{multi, en} {
			if i < len(list) {
				arts = append(arts, list[i].article())
				bytes += int64(len(list[i].Title) + len(list[i].Summary))
			}
		}
	}
	b.SetBytes(bytes / int64(len(arts)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		set.Match(arts[i%len(arts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
}

// longTexts are adversarial summaries: unspaced Chinese (every character
// a token and a start for the automaton), runs of combining marks, Arabic
// words full of clitics, and one endless Cyrillic word.
var longTexts = map[string]string{
	"cjk":      "中美防长会晤国家安全部部长会见美国中央情报局局长北京国安",
	"marks":    "a\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
	"arabic":   "والمخابرات وللمخابرات ووزير الخارجية نظيره ",
	"cyrillic": "встречаминистраиностранныхдел",
}

// BenchmarkLongText matches one item whose summary is a long run of
// adversarial text, at three lengths (within the 16 KB read of a summary):
// the time per byte must stay flat, not grow with the length.
func BenchmarkLongText(b *testing.B) {
	set := defaultSet(b)
	for _, name := range []string{"cjk", "marks", "arabic", "cyrillic"} {
		for _, n := range []int{1 << 10, 4 << 10, 16 << 10} {
			text := repeatTo(longTexts[name], n)
			a := model.Article{Title: "CIA局长会见", Summary: text}
			b.Run(fmt.Sprintf("%s/bytes=%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					set.Match(a)
				}
			})
		}
	}
}

// BenchmarkFold folds and splits (foldTokens, sentences) long adversarial
// text without the matcher's length limits, at 16 KB to 256 KB: linear time.
func BenchmarkFold(b *testing.B) {
	for _, name := range []string{"cjk", "marks", "arabic", "cyrillic"} {
		for _, n := range []int{16 << 10, 64 << 10, 256 << 10} {
			text := repeatTo(longTexts[name], n)
			b.Run(fmt.Sprintf("%s/bytes=%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				var f folded
				var toks []token
				var sents []sentence
				f.src = text
				for b.Loop() {
					toks = f.foldTokens(toks[:0])
					sents = sentences(&f, toks, sents)
				}
			})
		}
	}
}

// repeatTo repeats s up to n bytes, cut on a rune boundary.
func repeatTo(s string, n int) string {
	return truncate(strings.Repeat(s, n/len(s)+1), n)
}

// BenchmarkGuildSets matches each dev item for the defaults and 100 guilds
// that each added one keyword rule, as dispatch does for 101 distinct
// sets: "each" calls every set's Match (one scan per set), "batch" reads
// the item once per vocabulary (Batch). ns/op is per item, for all sets.
func BenchmarkGuildSets(b *testing.B) {
	base := defaultSet(b)
	sets := []*Set{base}
	for i := range 100 {
		r := model.RuleSpec{Name: fmt.Sprintf("watch-%d", i), Keywords: []string{`\bsanctions?\b`, fmt.Sprintf(`\bwatch%d\b`, i)}, Actors: []string{"us-cia", "ru-svr"}}
		s, err := base.WithOverrides([]model.Override{{Name: r.Name, Rule: &r}})
		if err != nil {
			b.Fatal(err)
		}
		sets = append(sets, s)
	}
	items := loadCorpus(b, "testdata/corpus/dev.jsonl")
	arts := make([]model.Article, len(items))
	for i, it := range items {
		arts[i] = it.article()
	}
	b.Run("each", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			for _, s := range sets {
				s.Match(arts[i%len(arts)])
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			batch := NewBatch(arts[i%len(arts)])
			for _, s := range sets {
				batch.Match(s)
			}
			batch.Close()
		}
	})
}
