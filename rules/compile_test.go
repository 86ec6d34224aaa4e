package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/model"
)

// tinySpec is a small valid spec for tests of compile and keyword rules.
func tinySpec() Spec {
	return Spec{
		Countries: map[string][]string{"US": {"US", "American"}, "RU": {"Russia", "Russian"}},
		Heads:     HeadSpec{Words: []string{"chief", "director"}, Links: []string{"of", "the"}},
		Actors: []ActorSpec{
			{ID: "us-cia", Country: "US", Office: "CIA Director", Kind: "intel", Agencies: []string{"CIA"}},
			{ID: "ru-svr", Country: "RU", Office: "SVR Director", Kind: "intel", Agencies: []string{"SVR"},
				Holders: []HolderSpec{{Name: "Sergei Naryshkin", Aliases: []string{"Naryshkin"}, From: "2016-10"}}},
			{ID: "intel", Office: "intelligence chief", Kind: "intel", Titles: []string{"spy chief"}},
		},
		Contact: ContactSpec{Terms: map[string][]string{"meeting": {"meet*", "met"}}},
		Rules: []model.RuleSpec{
			{Name: "intel-heads", Contact: true, RequireKinds: []string{"intel"}},
			{Name: "svr-news", Keywords: []string{`\bSVR\b`}, Exclude: []string{`stablecoin`}},
		},
	}
}

func TestCompileTiny(t *testing.T) {
	set, err := Compile(tinySpec())
	if err != nil {
		t.Fatal(err)
	}
	ms := set.Match(model.Article{Title: "CIA director meets SVR chief"})
	if len(ms) != 2 || ms[0].Rule != "intel-heads" || ms[1].Rule != "svr-news" {
		t.Fatalf("got %s", describe(ms))
	}
	if ms[1].Keywords[0] != `\bSVR\b` || ms[1].Field != "title" || ms[1].Evidence == "" {
		t.Errorf("keyword match = %+v", ms[1])
	}
	if got := set.Match(model.Article{Title: "SVR on stablecoins"}); len(got) != 0 {
		t.Errorf("exclude ignored: %s", describe(got))
	}
	if ids := set.ActorIDs(); strings.Join(ids, ",") != "intel,ru-svr,us-cia" {
		t.Errorf("ActorIDs = %v", ids)
	}
	if r, ok := set.Rule("svr-news"); !ok || r.Keywords[0] != `\bSVR\b` {
		t.Errorf("Rule = %+v, %v", r, ok)
	}
	if _, ok := set.Rule("nope"); ok {
		t.Error("Rule(nope) found")
	}
	if len(set.Rules()) != 2 {
		t.Errorf("Rules = %+v", set.Rules())
	}
}

func TestCompileErrors(t *testing.T) {
	spec := tinySpec()
	spec.Countries["us"] = []string{"x"}
	spec.Actors = append(spec.Actors,
		ActorSpec{ID: "us-cia", Country: "XX", Office: "", Kind: "spy"},
		ActorSpec{ID: "Bad ID", Country: "US", Office: "o", Kind: "intel", Titles: []string{"  ", "'quote"},
			Holders: []HolderSpec{{Name: "A B", From: "2025-13", Until: "2024"}}},
	)
	spec.Heads.Links = append(spec.Heads.Links, "two words")
	spec.Contact.Terms["gossip"] = []string{"chat"}
	spec.Rules = append(spec.Rules,
		model.RuleSpec{Name: "svr-news", Keywords: []string{"("}},
		model.RuleSpec{Name: "", Actors: []string{"nobody"}, Kinds: []string{"spooky"}, ContactKinds: []string{"smoke"}, Fields: []string{"body"}, Window: -1},
		model.RuleSpec{Name: "long", Keywords: []string{strings.Repeat("a", MaxPatternLen+1)}},
	)
	_, err := Compile(spec)
	var list SpecErrors
	if !errors.As(err, &list) {
		t.Fatalf("error %v is not SpecErrors", err)
	}
	want := []string{
		`rules.countries.us: country code must be 2 to 8 capital letters or digits, starting with a letter`,
		`rules.heads.links[2]: link "two words" must be one word`,
		`rules.contact.terms.gossip: unknown contact kind "gossip"`,
		`rules.actor[3].id: duplicate actor id "us-cia" (also rules.actor[0])`,
		`rules.actor[3].country: unknown country "XX"`,
		`rules.actor[3].kind: kind must be "intel" or "diplomatic", got "spy"`,
		`rules.actor[3].office: missing office`,
		`rules.actor[3]: actor "us-cia" has no titles`,
		`rules.actor[4].id: actor id "Bad ID" must be lower-case`,
		`rules.actor[4].titles[0]: empty alias`,
		`rules.actor[4].titles[1]: alias "'quote" must begin with a letter or digit`,
		`rules.actor[4].holders[0].from: invalid date "2025-13"`,
		`rules.rule[2].name: duplicate rule name "svr-news" (also rules.rule[1])`,
		`rules.rule[2].keywords[0]: pattern is not valid RE2: missing closing )`,
		`rules.rule[3].name: missing rule name`,
		`rules.rule[3]: a rule needs keywords, or contact = true`,
		`rules.rule[3].actors[0]: unknown actor "nobody"`,
		`rules.rule[3].kinds[0]: kind must be "intel" or "diplomatic", got "spooky"`,
		`rules.rule[3].contact_kinds[0]: unknown contact kind "smoke"`,
		`rules.rule[3].window: must be between 0 and 500, got -1`,
		`rules.rule[3].fields[0]: unknown field "body"`,
		`rules.rule[4].keywords[0]: pattern is 1001 characters long; at most 1000 allowed`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing problem %q", w)
		}
	}
	if t.Failed() {
		t.Logf("got:\n%s", msg)
	}
}

func TestCompileEmpty(t *testing.T) {
	set, err := Compile(Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if ms := set.Match(model.Article{Title: "anything"}); len(ms) != 0 {
		t.Errorf("empty set matched: %v", ms)
	}
}

func TestHolderTerms(t *testing.T) {
	for _, c := range []struct {
		from, until, at string
		want            bool
	}{
		{"2021-03", "2025-01", "2025-01-31", true},  // until is inclusive
		{"2021-03", "2025-01", "2025-02-01", false}, // and ends with its month
		{"2021-03", "2025-01", "2021-02-28", false},
		{"2021-03-15", "", "2021-03-15", true},
		{"", "2020", "2020-12-31", true},
	} {
		from, _ := parsePeriod(c.from, false)
		until, _ := parsePeriod(c.until, true)
		at, _ := parsePeriod(c.at, false)
		if got := (period{from, until}).covers(at); got != c.want {
			t.Errorf("%s..%s at %s: %v, want %v", c.from, c.until, c.at, got, c.want)
		}
	}
}

func TestWithOverrides(t *testing.T) {
	spec := tinySpec()
	added := model.RuleSpec{Name: "added", Keywords: []string{"x"}}
	replaced := model.RuleSpec{Name: "svr-news", Keywords: []string{"y"}}
	out := spec.WithOverrides([]model.Override{
		{Name: "intel-heads", Rule: nil},
		{Name: "svr-news", Rule: &replaced},
		{Name: "added", Rule: &added},
		{Name: "missing", Rule: nil},
	})
	var names []string
	for _, r := range out.Rules {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "svr-news,added" || out.Rules[0].Keywords[0] != "y" {
		t.Errorf("rules = %+v", out.Rules)
	}
	if len(spec.Rules) != 2 || spec.Rules[0].Name != "intel-heads" || spec.Rules[1].Keywords[0] != `\bSVR\b` {
		t.Errorf("WithOverrides changed its receiver: %+v", spec.Rules)
	}
}

func TestKeywordRuleActors(t *testing.T) {
	spec := tinySpec()
	spec.Rules = []model.RuleSpec{{Name: "svr-talk", Keywords: []string{"talk"}, Actors: []string{"ru-svr"}}}
	set, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if ms := set.Match(model.Article{Title: "Naryshkin says talk is cheap", Summary: "x"}); len(ms) != 1 || ms[0].Actors[0].ID != "ru-svr" {
		t.Errorf("got %s", describe(ms))
	}
	if ms := set.Match(model.Article{Title: "Someone says talk is cheap"}); len(ms) != 0 {
		t.Errorf("matched without the actor: %s", describe(ms))
	}
}
