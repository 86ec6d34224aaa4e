package rules

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/backchannel/backchannel/model"
)

// mergeBase is a small base Spec; each call returns a new one.
func mergeBase() Spec {
	return Spec{
		Countries:    map[string][]string{"US": {"US", "American"}, "RU": {"Russia"}},
		Groups:       append(make([]string, 0, 8), "G7", "NATO"), // spare capacity: appending must not reach it
		Counterparts: []string{"counterpart*"},
		Heads:        HeadSpec{Words: []string{"chief"}, Links: []string{"of", "the", "of"}, Span: 6},
		Actors: []ActorSpec{
			{ID: "us-cia", Country: "US", Office: "CIA Director", Kind: "intel", Agencies: []string{"CIA"}},
			{ID: "ru-svr", Country: "RU", Office: "SVR Director", Kind: "intel", Agencies: []string{"SVR"}},
		},
		Contact: ContactSpec{
			Window: 30, NegativeBefore: 5, NegativeAfter: 4, DenialReach: 16, PastYears: true,
			Terms:    map[string][]string{"meeting": {"met", "meets"}, "call": {"phoned"}},
			Negative: []string{"ready to"},
		},
		Rules: []model.RuleSpec{
			{Name: "intel-heads", Contact: true, Kinds: []string{"intel"}},
			{Name: "diplomatic-heads", Contact: true, Kinds: []string{"diplomatic"}},
		},
	}
}

// overlay decodes a configuration's [rules] table written at the top level.
func overlay(t *testing.T, doc string) Overlay {
	t.Helper()
	var o Overlay
	if err := toml.Unmarshal([]byte(doc), &o); err != nil {
		t.Fatalf("%q: %v", doc, err)
	}
	return o
}

func ids(as []ActorSpec) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func names(rs []model.RuleSpec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, got Spec)
	}{
		{"nothing set keeps the base", "", func(t *testing.T, got Spec) {
			if !reflect.DeepEqual(got, mergeBase()) {
				t.Errorf("got %+v", got)
			}
		}},
		{"a scalar set replaces, the others stay", "[contact]\nwindow = 40\n", func(t *testing.T, got Spec) {
			c := got.Contact
			if c.Window != 40 || c.NegativeBefore != 5 || c.NegativeAfter != 4 || c.DenialReach != 16 || !c.PastYears || got.Heads.Span != 6 {
				t.Errorf("contact %+v, span %d", c, got.Heads.Span)
			}
			if len(got.Actors) != 2 || len(got.Rules) != 2 || len(c.Terms["meeting"]) != 2 {
				t.Errorf("setting a scalar lost the rest: %d actors, %d rules", len(got.Actors), len(got.Rules))
			}
		}},
		{"every scalar", "[heads]\nspan = 3\n[contact]\nnegative_before = 1\nnegative_after = 2\ndenial_reach = 7\npast_years = false\n", func(t *testing.T, got Spec) {
			c := got.Contact
			if got.Heads.Span != 3 || c.NegativeBefore != 1 || c.NegativeAfter != 2 || c.DenialReach != 7 || c.PastYears || c.Window != 30 {
				t.Errorf("heads %+v contact %+v", got.Heads, c)
			}
		}},
		{"word lists are added to, without repeats", "groups = [\"Quad\", \"G7\", \"Quad\", \"BRICS\"]\n[heads]\nwords = [\"boss\"]\nlinks = [\"of\", \"de\"]\n[contact]\nnegative = [\"ready to\", \"willing to\"]\n", func(t *testing.T, got Spec) {
			want := map[string][2][]string{
				"groups":   {got.Groups, {"G7", "NATO", "Quad", "BRICS"}},
				"words":    {got.Heads.Words, {"chief", "boss"}},
				"links":    {got.Heads.Links, {"of", "the", "of", "de"}}, // the base's own repeat is the base's
				"negative": {got.Contact.Negative, {"ready to", "willing to"}},
				"plural":   {got.Heads.Plural, nil},
			}
			for k, w := range want {
				if !slices.Equal(w[0], w[1]) {
					t.Errorf("%s = %q, want %q", k, w[0], w[1])
				}
			}
		}},
		{"every word list", "groups = [\"zz\"]\ncounterparts = [\"zz\"]\n[heads]\nwords = [\"zz\"]\nplural = [\"zz\"]\nlinks = [\"zz\"]\nvoid = [\"zz\"]\n" +
			"[contact]\nnegative = [\"zz\"]\ndenial = [\"zz\"]\nbackground = [\"zz\"]\nveto = [\"zz\"]\n", func(t *testing.T, got Spec) {
			h, c := got.Heads, got.Contact
			for i, list := range [][]string{got.Groups, got.Counterparts, h.Words, h.Plural, h.Links, h.Void, c.Negative, c.Denial, c.Background, c.Veto} {
				if len(list) == 0 || list[len(list)-1] != "zz" {
					t.Errorf("list %d = %q, want the word added at the end", i, list)
				}
			}
		}},
		{"countries and contact kinds by key", "[countries]\nUS = [\"Washington's\", \"US\"]\nXK = [\"Kosovo\"]\n[contact.terms]\ncall = [\"phone call\"]\nletter = [\"wrote to\"]\n", func(t *testing.T, got Spec) {
			if !slices.Equal(got.Countries["US"], []string{"US", "American", "Washington's"}) ||
				!slices.Equal(got.Countries["RU"], []string{"Russia"}) || !slices.Equal(got.Countries["XK"], []string{"Kosovo"}) {
				t.Errorf("countries %q", got.Countries)
			}
			if !slices.Equal(got.Contact.Terms["call"], []string{"phoned", "phone call"}) ||
				!slices.Equal(got.Contact.Terms["meeting"], []string{"met", "meets"}) || !slices.Equal(got.Contact.Terms["letter"], []string{"wrote to"}) {
				t.Errorf("terms %q", got.Contact.Terms)
			}
		}},
		{"actors by id: replace in place, add at the end, remove", "[[actor]]\nid = \"fr-dgse\"\ncountry = \"FR\"\noffice = \"DGSE\"\nkind = \"intel\"\n\n[[actor]]\nid = \"us-cia\"\ncountry = \"US\"\noffice = \"Director of the CIA\"\nkind = \"intel\"\n\n[[actor]]\nid = \"ru-svr\"\nremove = true\n", func(t *testing.T, got Spec) {
			if !slices.Equal(ids(got.Actors), []string{"us-cia", "fr-dgse"}) {
				t.Fatalf("actors %q", ids(got.Actors))
			}
			if got.Actors[0].Office != "Director of the CIA" || got.Actors[0].Agencies != nil {
				t.Errorf("an actor is replaced whole, not merged: %+v", got.Actors[0])
			}
		}},
		{"rules by name: replace in place, add at the end, remove", "[[rule]]\nname = \"sanctions\"\nkeywords = [\"sanction\"]\n\n[[rule]]\nname = \"diplomatic-heads\"\nremove = true\n\n[[rule]]\nname = \"intel-heads\"\ncontact = true\nwindow = 12\n", func(t *testing.T, got Spec) {
			if !slices.Equal(names(got.Rules), []string{"intel-heads", "sanctions"}) {
				t.Fatalf("rules %q", names(got.Rules))
			}
			if r := got.Rules[0]; r.Window != 12 || r.Kinds != nil {
				t.Errorf("a rule is replaced whole: %+v", r)
			}
		}},
		{"defaults = false starts from nothing", "defaults = false\ngroups = [\"Quad\"]\n[[rule]]\nname = \"k\"\nkeywords = [\"x\"]\n", func(t *testing.T, got Spec) {
			want := Spec{Groups: []string{"Quad"}, Rules: []model.RuleSpec{{Name: "k", Keywords: []string{"x"}}}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v", got)
			}
		}},
		{"defaults = true is the default", "defaults = true\n", func(t *testing.T, got Spec) {
			if !reflect.DeepEqual(got, mergeBase()) {
				t.Errorf("got %+v", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := mergeBase()
			got, _, err := base.Merge(overlay(t, tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
			if !reflect.DeepEqual(base, mergeBase()) {
				t.Errorf("Merge changed its receiver: %+v", base)
			}
			if groups := base.Groups[:cap(base.Groups)]; groups[2] != "" {
				t.Errorf("Merge appended into the base's groups: %q", groups)
			}
		})
	}
}

func TestMergeProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []SpecError // in order; messages by substring
		left []string    // the rules left in the result
	}{
		{"remove an unknown rule", "[[rule]]\nname = \"nope\"\nremove = true\n",
			[]SpecError{{"rules.rule[0].name", `no default rule with name "nope" to remove`}}, []string{"intel-heads", "diplomatic-heads"}},
		{"remove an unknown actor", "[[rule]]\nname = \"k\"\nkeywords = [\"x\"]\n[[actor]]\nid = \"xx-nope\"\nremove = true\n",
			[]SpecError{{"rules.actor[0].id", `no default actor with id "xx-nope"`}}, []string{"intel-heads", "diplomatic-heads", "k"}},
		{"remove with other keys", "[[rule]]\nname = \"intel-heads\"\nremove = true\nkeywords = [\"x\"]\n",
			[]SpecError{{"rules.rule[0].remove", "takes only the name"}}, []string{"intel-heads", "diplomatic-heads"}},
		{"remove without an id", "[[actor]]\nremove = true\n",
			[]SpecError{{"rules.actor[0].id", "needs the id"}}, []string{"intel-heads", "diplomatic-heads"}},
		{"given twice", "[[rule]]\nname = \"k\"\nkeywords = [\"x\"]\n[[rule]]\nname = \"k\"\nkeywords = [\"y\"]\n[[rule]]\nname = \"intel-heads\"\nremove = true\n",
			[]SpecError{{"rules.rule[1].name", `name "k" given twice (also rules.rule[0])`}}, []string{"diplomatic-heads", "k"}},
		{"nothing to remove once defaults = false", "defaults = false\n[[rule]]\nname = \"intel-heads\"\nremove = true\n",
			[]SpecError{{"rules.rule[0].name", "no default rule"}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := mergeBase().Merge(overlay(t, tt.doc))
			var list SpecErrors
			if !errors.As(err, &list) || len(list) != len(tt.want) {
				t.Fatalf("err = %v; want %d problems", err, len(tt.want))
			}
			for i, w := range tt.want {
				if list[i].Key != w.Key || !strings.Contains(list[i].Msg, w.Msg) {
					t.Errorf("problem %d = %v; want %s: …%s…", i, list[i], w.Key, w.Msg)
				}
			}
			if !slices.Equal(names(got.Rules), tt.left) {
				t.Errorf("rules left %q, want %q", names(got.Rules), tt.left)
			}
		})
	}
}

// TestMergeKeyMap: a problem Compile finds in the merged Spec is reported
// under the key the overlay wrote, so `check` can give its line.
func TestMergeKeyMap(t *testing.T) {
	doc := "groups = [\"NATO\", \"Quad\", \"\"]\n[countries]\nUS = [\"*\"]\n" +
		"[[actor]]\nid = \"us-cia\"\ncountry = \"US\"\noffice = \"CIA Director\"\nkind = \"spy\"\nagencies = [\"CIA\"]\n" +
		"[[actor]]\nid = \"fr-dgse\"\ncountry = \"FR\"\noffice = \"DGSE\"\nkind = \"intel\"\nagencies = [\"DGSE\"]\n" +
		"[[rule]]\nname = \"k\"\nkeywords = [\"(\"]\n"
	merged, keys, err := mergeBase().Merge(overlay(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(merged)
	var list SpecErrors
	if !errors.As(err, &list) {
		t.Fatalf("Compile: %v", err)
	}
	got := map[string]bool{}
	for _, e := range list {
		got[keys.Source(e.Key)] = true
	}
	for _, want := range []string{
		"rules.groups[2]",           // merged groups[3]: "NATO" was left out
		"rules.countries.US[0]",     // merged US[2]
		"rules.actor[0].kind",       // replaced in place: merged actor[0]
		"rules.actor[1].country",    // added: merged actor[2]
		"rules.rule[0].keywords[0]", // added: merged rule[2]
	} {
		if !got[want] {
			t.Errorf("no problem under %s; got %v (compile: %v)", want, got, list)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"rules.actor[1].holders[0].name", `rules.actor["ru-svr"].holders[0].name`}, // kept from the base
		{"rules.rule[0].actors[1]", `rules.rule["intel-heads"].actors[1]`},
		{"rules.contact.window", "rules.contact.window"},
		{"rules.countries.XX", "rules.countries.XX"},
		{"rules.groups[1]", "rules.groups[1]"},
	} {
		if got := keys.Source(tc.in); got != tc.want {
			t.Errorf("Source(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestMergeOverDefaults: the built-in rules survive an overlay that only
// tunes them, the case that used to drop them all.
func TestMergeOverDefaults(t *testing.T) {
	def := defaultSpec(t)
	same, _, err := def.Merge(Overlay{})
	if err != nil || !reflect.DeepEqual(same, def) {
		t.Fatalf("an empty overlay changed the defaults (err %v)", err)
	}
	tuned, _, err := def.Merge(overlay(t, "[contact]\nwindow = 40\n"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile(tuned)
	if err != nil {
		t.Fatal(err)
	}
	if tuned.Contact.Window != 40 || len(tuned.Actors) != len(def.Actors) || len(set.Rules()) != len(def.Rules) {
		t.Errorf("window %d, %d actors, %d rules", tuned.Contact.Window, len(tuned.Actors), len(set.Rules()))
	}
}

// TestOverlayMirrorsSpec: every key a Spec has, an Overlay has too, so a
// key added to the schema cannot be left out of what a configuration may
// change (it would be refused as unknown).
func TestOverlayMirrorsSpec(t *testing.T) {
	keys := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			f := rt.Field(i)
			if f.Anonymous {
				continue
			}
			out = append(out, f.Tag.Get("toml"))
		}
		slices.Sort(out)
		return out
	}
	for _, pair := range [][2]any{
		{Spec{}, Overlay{}},
		{HeadSpec{}, HeadOverlay{}},
		{ContactSpec{}, ContactOverlay{}},
	} {
		spec, over := keys(pair[0]), keys(pair[1])
		over = slices.DeleteFunc(over, func(k string) bool { return k == "defaults" })
		if !slices.Equal(spec, over) {
			t.Errorf("%T keys %q, %T keys %q", pair[0], spec, pair[1], over)
		}
	}
}
