package rulebook

import (
	"context"
	"fmt"
	"testing"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// memStore is an OverrideStore in memory: guild id → overrides.
type memStore map[string][]model.Override

func (m memStore) GuildOverrides(_ context.Context, guildID string) ([]model.Override, error) {
	return m[guildID], nil
}

func guildName(i int) string { return fmt.Sprintf("1000000000000%05d", i) }

// keywordRule is a rule like the ones /rules add makes, different for
// each i.
func keywordRule(i int) *model.RuleSpec {
	return &model.RuleSpec{
		Name:        fmt.Sprintf("watch-%d", i),
		Description: "sanctions talk, guild " + fmt.Sprint(i),
		Keywords:    []string{`\bsanctions?\b`, fmt.Sprintf(`\bwatch%d\b`, i)},
		Exclude:     []string{`\bfootball\b`},
		Actors:      []string{"us-cia", "ru-svr"},
	}
}

func compileDefaults(tb testing.TB) *rules.Set {
	tb.Helper()
	spec, err := rules.Defaults()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := rules.Compile(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}
