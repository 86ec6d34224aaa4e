package db

import (
	"context"
	"reflect"
	"testing"

	"github.com/backchannel/backchannel/model"
)

func TestGuildOverridesRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	if ov, err := db.GuildOverrides(ctx, "g"); err != nil || len(ov) != 0 {
		t.Fatalf("fresh guild: %v, %v", ov, err)
	}
	spec := model.RuleSpec{Name: "sanctions", Description: "d", Keywords: []string{`sanction\w*`, "embargo"}, Exclude: []string{"sport"}, Actors: []string{"ru-svr"}}
	if err := db.PutGuildRule(ctx, "g", spec); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveGuildRule(ctx, "g", "intel-heads"); err != nil {
		t.Fatal(err)
	}
	if err := db.PutGuildRule(ctx, "other", model.RuleSpec{Name: "x", Keywords: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GuildOverrides(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Override{{Name: "intel-heads"}, {Name: "sanctions", Rule: &spec}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("overrides\n got %+v\nwant %+v", got, want)
	}

	// A rule put after its tombstone comes back; a tombstone after a put
	// removes it again.
	back := model.RuleSpec{Name: "intel-heads", Keywords: []string{"met"}}
	if err := db.PutGuildRule(ctx, "g", back); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveGuildRule(ctx, "g", "sanctions"); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GuildOverrides(ctx, "g")
	want = []model.Override{{Name: "intel-heads", Rule: &back}, {Name: "sanctions"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("overrides after changes\n got %+v\nwant %+v", got, want)
	}
	if err := db.PutGuildRule(ctx, "g", model.RuleSpec{}); err == nil {
		t.Fatal("rule without a name accepted")
	}
}
