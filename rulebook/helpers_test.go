package rulebook

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// memStore is an OverrideStore in memory: guild id → overrides.
type memStore map[string][]model.Override

func (m memStore) GuildOverrides(_ context.Context, guildID string) ([]model.Override, error) {
	return m[guildID], nil
}

// fakeStore is an OverrideStore whose overrides, error and timing a test
// changes as it goes; it counts the loads.
type fakeStore struct {
	mu    sync.Mutex
	ov    map[string][]model.Override
	err   error
	loads map[string]int
	// during, when not nil, runs inside GuildOverrides after the
	// overrides are read: the moment a load is in flight.
	during func(guildID string)
}

func newFakeStore() *fakeStore {
	return &fakeStore{ov: map[string][]model.Override{}, loads: map[string]int{}}
}

func (f *fakeStore) GuildOverrides(_ context.Context, guildID string) ([]model.Override, error) {
	f.mu.Lock()
	f.loads[guildID]++
	ov, err, during := f.ov[guildID], f.err, f.during
	f.mu.Unlock()
	if during != nil {
		during(guildID)
	}
	return ov, err
}

func (f *fakeStore) set(guildID string, ov ...model.Override) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ov[guildID] = ov
}

func (f *fakeStore) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeStore) loadsOf(guildID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loads[guildID]
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
