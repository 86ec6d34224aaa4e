package rules

import (
	"fmt"
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

// BenchmarkCompileDefault measures compiling the shipped rules.
func BenchmarkCompileDefault(b *testing.B) {
	spec := defaultSpec(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(spec); err != nil {
			b.Fatal(err)
		}
	}
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
