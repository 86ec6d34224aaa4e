package rules

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/backchannel/backchannel/model"
)

// vocabularyCorpus is every labelled item the package has, as articles:
// English and multilingual, contacts and near misses.
func vocabularyCorpus(t *testing.T) []model.Article {
	t.Helper()
	var arts []model.Article
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl", "testdata/extra.jsonl"} {
		for _, it := range loadCorpus(t, path) {
			arts = append(arts, it.article())
		}
	}
	return arts
}

// TestSetWithOverridesIsCompile: a guild's set built over the defaults'
// vocabulary has the rules, the errors and the verdicts of the whole spec
// compiled afresh, and shares the vocabulary.
func TestSetWithOverridesIsCompile(t *testing.T) {
	base := defaultSet(t)
	arts := vocabularyCorpus(t)
	rule := func(r model.RuleSpec) *model.RuleSpec { return &r }
	tests := []struct {
		name string
		ov   []model.Override
		ok   bool
	}{
		{"no overrides", nil, true},
		{"narrower default contact rule", []model.Override{{Name: "intel-heads", Rule: rule(model.RuleSpec{
			Name: "intel-heads", Contact: true, Kinds: []string{"intel", "diplomatic"}, RequireKinds: []string{"intel"},
			ContactKinds: []string{"meeting", "call"}, Window: 12,
		})}}, true},
		{"added keyword rule with actors and a role", []model.Override{{Name: "watch", Rule: rule(model.RuleSpec{
			Name: "watch", Keywords: []string{`\bsanctions?\b`, `\btalks\b`}, Exclude: []string{`\bfootball\b`},
			Actors: []string{"us-cia", "ru-fm", "eg-intel"},
		})}}, true},
		{"added contact rule on fields", []model.Override{{Name: "titles-only", Rule: rule(model.RuleSpec{
			Name: "titles-only", Contact: true, Fields: []string{"title"}, Keywords: []string{`\bmeet`},
		})}}, true},
		{"default removed", []model.Override{{Name: "intel-heads"}}, true},
		{"every default removed, one added", []model.Override{
			{Name: "intel-heads"}, {Name: "diplomatic-heads"},
			{Name: "mossad", Rule: rule(model.RuleSpec{Name: "mossad", Keywords: []string{`mossad`}})},
		}, true},
		{"unknown actor", []model.Override{{Name: "x", Rule: rule(model.RuleSpec{Name: "x", Keywords: []string{"a"}, Actors: []string{"zz-nobody"}})}}, false},
		{"bad pattern", []model.Override{{Name: "x", Rule: rule(model.RuleSpec{Name: "x", Keywords: []string{"a", "("}})}}, false},
		{"bad name, kinds, window and field", []model.Override{{Name: "bad name", Rule: rule(model.RuleSpec{
			Name: "bad name", Contact: true, Kinds: []string{"diplomatic"}, RequireKinds: []string{"intel", "spy"},
			Window: 9999, Fields: []string{"body"}, ContactKinds: []string{"hug"},
		})}}, false},
		{"edit breaks a default", []model.Override{{Name: "diplomatic-heads", Rule: rule(model.RuleSpec{Name: "diplomatic-heads"})}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := Compile(base.Spec().WithOverrides(tt.ov))
			got, err := base.WithOverrides(tt.ov)
			if (err == nil) != tt.ok || (wantErr == nil) != tt.ok {
				t.Fatalf("WithOverrides error %v, Compile error %v; want ok = %v", err, wantErr, tt.ok)
			}
			if !tt.ok {
				var gotList, wantList SpecErrors
				if !errors.As(err, &gotList) || !errors.As(wantErr, &wantList) || !reflect.DeepEqual(gotList, wantList) {
					t.Errorf("errors differ:\nWithOverrides: %v\nCompile:       %v", err, wantErr)
				}
				return
			}
			if got.Vocabulary() != base.Vocabulary() {
				t.Error("the guild's set has a vocabulary of its own")
			}
			if !reflect.DeepEqual(got.Spec(), want.Spec()) || !reflect.DeepEqual(got.Rules(), want.Rules()) {
				t.Errorf("rules %v, want %v", ruleNames(got), ruleNames(want))
			}
			fired := 0
			for _, a := range arts {
				g, w := got.Match(a), want.Match(a)
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("%q: got %s, want %s", a.Title, describe(g), describe(w))
				}
				fired += len(g)
			}
			if fired == 0 && len(got.Rules()) > 0 {
				t.Error("no rule fired on the corpus: the comparison compared nothing")
			}
		})
	}
	if len(base.Rules()) != 2 {
		t.Errorf("WithOverrides changed the defaults: %v", ruleNames(base))
	}
}

func ruleNames(s *Set) []string {
	var out []string
	for _, r := range s.Rules() {
		out = append(out, r.Name)
	}
	return out
}

// TestWithOverridesSharesUnchangedRules: the rules a guild did not touch
// are the defaults' compiled rules, not compiled again.
func TestWithOverridesSharesUnchangedRules(t *testing.T) {
	base, err := Compile(tinySpec())
	if err != nil {
		t.Fatal(err)
	}
	added := model.RuleSpec{Name: "added", Keywords: []string{"x"}}
	got, err := base.WithOverrides([]model.Override{{Name: "added", Rule: &added}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.rules) != 3 || got.rules[1].spec.Name != "svr-news" {
		t.Fatalf("rules %v", ruleNames(got))
	}
	if got.rules[1].keywords[0] != base.rules[1].keywords[0] {
		t.Error("the unchanged keyword rule was compiled again")
	}
	changed := model.RuleSpec{Name: "svr-news", Keywords: []string{`\bSVR\b`}, Exclude: []string{`crypto`}}
	got, err = base.WithOverrides([]model.Override{{Name: "svr-news", Rule: &changed}})
	if err != nil {
		t.Fatal(err)
	}
	if got.rules[1].exclude[0].String() != "(?i)crypto" {
		t.Errorf("a changed rule kept its old patterns: %v", got.rules[1].exclude)
	}
}

// TestVocabularyWithRules: rules compiled over a vocabulary report the
// problems Compile reports for them, with the same keys.
func TestVocabularyWithRules(t *testing.T) {
	base, err := Compile(tinySpec())
	if err != nil {
		t.Fatal(err)
	}
	v := base.Vocabulary()
	tests := []struct {
		name string
		rs   []model.RuleSpec
	}{
		{"valid", []model.RuleSpec{{Name: "a", Keywords: []string{"x"}, Actors: []string{"ru-intel"}}, {Name: "b", Contact: true}}},
		{"none", nil},
		{"duplicate and unknown actor", []model.RuleSpec{
			{Name: "a", Keywords: []string{"x"}},
			{Name: "a", Keywords: []string{"y"}, Actors: []string{"fr-dgse"}},
		}},
		{"no keywords", []model.RuleSpec{{Name: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tinySpec()
			spec.Rules = tt.rs
			want, wantErr := Compile(spec)
			got, err := v.WithRules(tt.rs)
			if !reflect.DeepEqual(err, wantErr) {
				t.Fatalf("WithRules error %v, Compile error %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if got.Vocabulary() != v || !reflect.DeepEqual(got.Rules(), want.Rules()) || !reflect.DeepEqual(got.Spec(), want.Spec()) {
				t.Errorf("rules %v, want %v", ruleNames(got), ruleNames(want))
			}
			a := model.Article{Title: "CIA director meets Russian spy chief", Summary: "x"}
			if g, w := got.Match(a), want.Match(a); !reflect.DeepEqual(g, w) {
				t.Errorf("got %s, want %s", describe(g), describe(w))
			}
		})
	}
}

// TestBatchIsMatch: a batch reads an article once for several sets, of one
// vocabulary or of two, and gives each set what its Match gives, whatever
// the order the sets are asked in.
func TestBatchIsMatch(t *testing.T) {
	base := defaultSet(t)
	sanctions := model.RuleSpec{Name: "sanctions", Keywords: []string{`\bsanctions?\b`, `\bmeets?\b`}, Actors: []string{"ru-fm", "us-fm", "intel"}}
	withKeyword, err := base.WithOverrides([]model.Override{{Name: "sanctions", Rule: &sanctions}})
	if err != nil {
		t.Fatal(err)
	}
	narrow := model.RuleSpec{Name: "intel-heads", Contact: true, RequireKinds: []string{"intel"}, ContactKinds: []string{"call"}, Window: 8}
	narrowed, err := base.WithOverrides([]model.Override{{Name: "diplomatic-heads"}, {Name: "intel-heads", Rule: &narrow}})
	if err != nil {
		t.Fatal(err)
	}
	tiny, err := Compile(tinySpec())
	if err != nil {
		t.Fatal(err)
	}
	sets := []*Set{base, withKeyword, narrowed, tiny}
	orders := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}}
	fired := make([]int, len(sets))
	for _, a := range vocabularyCorpus(t) {
		want := make([][]model.Match, len(sets))
		for i, s := range sets {
			want[i] = s.Match(a)
			fired[i] += len(want[i])
		}
		for _, order := range orders {
			b := NewBatch(a)
			for _, i := range order {
				if got := b.Match(sets[i]); !reflect.DeepEqual(got, want[i]) {
					t.Fatalf("%q, set %d after %v: got %s, want %s", a.Title, i, order, describe(got), describe(want[i]))
				}
			}
			if got := b.Match(sets[order[0]]); !reflect.DeepEqual(got, want[order[0]]) {
				t.Fatalf("%q: asked again, got %s", a.Title, describe(got))
			}
			if len(b.readings) != 2 {
				t.Fatalf("%d readings for two vocabularies", len(b.readings))
			}
			b.Close()
		}
	}
	for i, n := range fired {
		if n == 0 {
			t.Errorf("set %d fired on nothing: the comparison compared nothing", i)
		}
	}
}

// TestSetsShareVocabularyConcurrently: sets over one vocabulary share its
// working memory; matching with them from several goroutines at once (run
// with -race) gives what matching one at a time gave.
func TestSetsShareVocabularyConcurrently(t *testing.T) {
	base := defaultSet(t)
	var sets []*Set
	for _, name := range []string{"a", "b", "c"} {
		r := model.RuleSpec{Name: name, Keywords: []string{`\b` + name + `\b`, `\bminister\b`}}
		s, err := base.WithOverrides([]model.Override{{Name: name, Rule: &r}})
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, s)
	}
	arts := vocabularyCorpus(t)[:120]
	want := make([][][]model.Match, len(sets))
	for i, s := range sets {
		for _, a := range arts {
			want[i] = append(want[i], s.Match(a))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(sets)*2)
	for g := range len(sets) * 2 {
		wg.Go(func() {
			i := g % len(sets)
			for k, a := range slices.Backward(arts) {
				if got := sets[i].Match(a); !reflect.DeepEqual(got, want[i][k]) {
					errs <- a.Title
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for title := range errs {
		t.Errorf("%q matched differently when matched concurrently", title)
	}
}
