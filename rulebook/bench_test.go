package rulebook

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// benchGuilds is how many customised guilds BenchmarkGuildSets holds: the
// target of issue 12 is 100 of them within 10 MB of the defaults alone.
const benchGuilds = 100

// BenchmarkGuildSets measures the memory a Book keeps for benchGuilds
// guilds that each added one keyword rule (as /rules add does), above the
// compiled defaults (defaults-B: what the defaults alone keep;
// guilds-B: what the guilds' sets add), and the time to build one
// customised guild's set (ns/op: ForGuild after Invalidate).
func BenchmarkGuildSets(b *testing.B) {
	ctx := context.Background()
	store := memStore{}
	for i := range benchGuilds {
		store[guildName(i)] = []model.Override{{Name: fmt.Sprintf("watch-%d", i), Rule: keywordRule(i)}}
	}
	var defaults *rules.Set
	defaultsB := heapDelta(func() {
		defaults = compileDefaults(b)
	})
	var book *Book
	guildsB := heapDelta(func() {
		book = NewBook(defaults, store, Options{})
		for i := range benchGuilds {
			if _, err := book.ForGuild(ctx, guildName(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	runtime.KeepAlive(book)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		g := guildName(i % benchGuilds)
		book.Invalidate(g)
		if _, err := book.ForGuild(ctx, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(defaultsB), "defaults-B")
	b.ReportMetric(float64(guildsB), "guilds-B")
}

// heapDelta returns how much the live heap grew across f, after garbage
// collection on both sides; what f built must stay reachable after it.
func heapDelta(f func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
