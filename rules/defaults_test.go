package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

func TestDefaultsDecodeAndCompile(t *testing.T) {
	spec, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile(spec)
	if err != nil {
		t.Fatalf("the built-in rules do not compile:\n%v", err)
	}
	// Floors well below today's counts (143 actors, 2 rules, over 100
	// countries): a truncated or mis-nested file falls through them.
	if n := len(spec.Actors); n < 100 {
		t.Errorf("%d actors", n)
	}
	if n := len(spec.Countries); n < 80 {
		t.Errorf("%d countries", n)
	}
	if n := len(set.Rules()); n < 2 {
		t.Errorf("%d rules", n)
	}
	if len(spec.Groups) == 0 || len(spec.Counterparts) == 0 || len(spec.Heads.Words) == 0 ||
		len(spec.Contact.Terms) < 8 || len(spec.Contact.Negative) == 0 || len(spec.Contact.Denial) == 0 ||
		len(spec.Contact.Veto) == 0 || spec.Contact.Window == 0 || !spec.Contact.PastYears {
		t.Errorf("a section of the vocabulary is missing: heads %+v, contact window %d, past_years %v, %d contact kinds",
			spec.Heads.Span, spec.Contact.Window, spec.Contact.PastYears, len(spec.Contact.Terms))
	}
	for i, r := range spec.Rules {
		if r.Name == "" || r.Description == "" {
			t.Errorf("rule[%d] %+v: every rule needs a name and a description", i, r)
		}
	}
	for i, a := range spec.Actors {
		if a.ID == "" || a.Office == "" {
			t.Errorf("actor[%d] %+v: every actor needs an id and an office", i, a)
		}
	}
}

// TestDecodeSpecIsStrict: a misspelt or mis-nested key in the defaults is an
// error naming it, not a silently missing part of the vocabulary.
func TestDecodeSpecIsStrict(t *testing.T) {
	for _, doc := range []string{
		"grups = [\"G7\"]\n",
		"[contact]\nwindw = 3\n",
		"[rules.contact]\nwindow = 3\n", // a configuration's nesting
		"[[actor]]\nid = \"x\"\ntitle = [\"x\"]\n",
	} {
		if _, err := decodeSpec([]byte(doc)); err == nil || !strings.Contains(err.Error(), "unknown key") || !strings.Contains(err.Error(), "line") {
			t.Errorf("%q: err = %v; want an unknown key with its line", doc, err)
		}
	}
	if _, err := decodeSpec([]byte("groups = 3\n")); err == nil {
		t.Error("a number for a list was accepted")
	}
}

func TestDefaultsAreFreshOnEachCall(t *testing.T) {
	a, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	want := a.Countries["US"][0]
	a.Countries["US"][0] = "changed"
	a.Actors[0].ID = "changed"
	a.Rules = nil
	b, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if b.Countries["US"][0] != want || b.Actors[0].ID == "changed" || len(b.Rules) == 0 {
		t.Error("a change to one caller's defaults reached the next caller")
	}
}

// TestDefaultsKnownItems: a few reports the built-in rules are for, and a
// few they must leave alone, each resting on a different part of the file.
func TestDefaultsKnownItems(t *testing.T) {
	spec, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2022, 11, 14, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		title, rule string // rule "": no match
	}{
		{"CIA Director Burns met SVR chief Naryshkin in Ankara", "intel-heads"},
		{"Lavrov holds talks with Blinken on the sidelines of the G20", "diplomatic-heads"},
		{"Le patron de la DGSE a rencontré son homologue américain", "intel-heads"},
		{"Egyptian intelligence chief meets Israeli spy chief in Cairo", "intel-heads"},
		{"CIA and SVR officials hold talks in Ankara", ""},
		{"Lavrov is ready to meet Blinken", ""},
		{"Apple unveils a new phone", ""},
	}
	for _, c := range cases {
		ms := set.Match(model.Article{GUID: "x", Title: c.title, Published: day})
		var got []string
		for _, m := range ms {
			got = append(got, m.Rule)
		}
		if c.rule == "" && len(got) > 0 || c.rule != "" && !strings.Contains(strings.Join(got, " "), c.rule) {
			t.Errorf("%q: rules %v, want %q", c.title, got, c.rule)
		}
	}
}

// BenchmarkDefaults measures decoding defaults.toml, which Defaults does on
// every call (once per configuration load) rather than sharing one Spec.
func BenchmarkDefaults(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Defaults(); err != nil {
			b.Fatal(err)
		}
	}
}
