package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// The deployment the retention benchmarks simulate: 1,000 feeds bringing
// 20,000 new items a day, polled every 15 minutes, 0.5 % of the items
// alerting (one guild, one channel, each alert delivered), pruned every
// hour with the default windows of config.example.toml.
const (
	simItemsPerDay = 20_000
	simAlertEvery  = 200 // 0.5 %
	simPollsPerDay = 96
	simPrunesEvery = 4 // polls: hourly
)

// defaultRetention is config.Default's [retention].
var defaultRetention = Retention{Text: 48 * time.Hour, Keys: 720 * time.Hour, UndatedKeys: 8760 * time.Hour}

// retentionSim drives a store through simulated days on its fake clock.
type retentionSim struct {
	tb    testing.TB
	db    *DB
	clock *testClock
	feeds []int64
	next  int // the next item's number

	// Measured over the days run.
	peakFile, peakWAL   int64
	pruneCPU            time.Duration // CPU time of the prunes
	pruneCPUDay         []time.Duration
	maxLock             time.Duration
	stripped, keys      int
	pruneTx, vacuumPage int
}

func newRetentionSim(tb testing.TB) *retentionSim {
	db := MustOpen(tb)
	s := &retentionSim{tb: tb, db: db, clock: newClock(db), feeds: benchFeedIDs(tb, db)}
	if _, err := db.Subscribe(context.Background(), model.Subscription{GuildID: "g1", ChannelID: "c1"}); err != nil {
		tb.Fatal(err)
	}
	return s
}

// simInsertSQL stores an article already dispatched (the benchmark's
// matcher runs inline, see poll), under the id its keys got.
const simInsertSQL = `INSERT INTO articles
	(id, feed_id, feed, guid, link, title, summary, content, published, fetched, dispatched, backlog)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0)`

// poll stores one poll's worth of new items in one transaction and
// records an alert, with its delivery, for every simAlertEvery-th.
func (s *retentionSim) poll(items int) {
	ctx := context.Background()
	now := s.clock.now()
	var alerting []model.Article
	err := s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		alerting = nil
		ids, err := newIDs(ctx, tx)
		if err != nil {
			return err
		}
		insKeys, err := tx.PrepareContext(ctx, insertKeysSQL)
		if err != nil {
			return err
		}
		defer insKeys.Close()
		ins, err := tx.PrepareContext(ctx, simInsertSQL)
		if err != nil {
			return err
		}
		defer ins.Close()
		for range items {
			i := s.next
			s.next++
			a := benchArticle(i)
			a.Published, a.Fetched = now.Add(-time.Hour), now
			feed := s.feeds[i%len(s.feeds)]
			a.ID = ids.next()
			if ok, err := insertKeyRows(ctx, tx, insKeys, keysOf(feed, a), a); err != nil || !ok {
				return fmt.Errorf("keys of item %d: stored %v, %w", i, ok, err)
			}
			ids.take()
			if _, err := ins.ExecContext(ctx, a.ID, feed, "feed-"+strconv.Itoa(int(feed)), a.GUID, a.Link, a.Title,
				a.Summary, a.Content, toMillis(a.Published), toMillis(a.Fetched)); err != nil {
				return err
			}
			if i%simAlertEvery == 0 {
				a.FeedID = feed
				alerting = append(alerting, a)
			}
		}
		return ids.save(ctx, tx)
	})
	if err != nil {
		s.tb.Fatal(err)
	}
	for _, a := range alerting {
		if _, _, err := s.db.CreateAlert(ctx, model.Alert{GuildID: "g1", Article: a, Matches: []model.Match{{
			Rule: "intel-heads", Actors: []model.ActorHit{naryshkin, burns}, ContactKind: "meeting", ContactTerm: "met",
			Field: "title", Evidence: a.Title}}}, routes("c1"), 0); err != nil {
			s.tb.Fatal(err)
		}
	}
	if len(alerting) > 0 {
		// Delivered: the outbox posted them.
		if err := s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'delivered', message_id = '1', rendered = 1, finished = ?
				WHERE status = 'pending'`, toMillis(now))
			return err
		}); err != nil {
			s.tb.Fatal(err)
		}
	}
}

// day runs one simulated day: a poll every 15 minutes, a prune every hour.
// It returns the CPU time of the day's prunes.
func (s *retentionSim) day() time.Duration {
	var cpu time.Duration
	for p := range simPollsPerDay {
		items := simItemsPerDay / simPollsPerDay
		if p < simItemsPerDay%simPollsPerDay {
			items++
		}
		s.poll(items)
		s.clock.advance(24 * time.Hour / simPollsPerDay)
		if (p+1)%simPrunesEvery == 0 {
			cpu += s.prune()
		}
	}
	s.pruneCPUDay = append(s.pruneCPUDay, cpu)
	return cpu
}

func (s *retentionSim) prune() time.Duration {
	// The polls' writes since the last prune are in the WAL (a poll's
	// commit checkpoints only past walAutocheckpoint pages); writing them
	// back is the polls' cost, which Prune's first checkpoint would
	// otherwise be charged with. So they are checkpointed first, untimed.
	if _, err := s.db.writer.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		s.tb.Fatal(err)
	}
	start := cpuNow(s.tb)
	st, err := s.db.Prune(context.Background(), defaultRetention)
	cpu := cpuNow(s.tb) - start
	if err != nil {
		s.tb.Fatal(err)
	}
	s.pruneCPU += cpu
	s.maxLock = max(s.maxLock, st.MaxLock)
	s.stripped += st.Stripped
	s.keys += st.Keys
	s.pruneTx += st.Transactions
	s.vacuumPage += st.Vacuumed
	file, wal := s.sizes()
	s.peakFile, s.peakWAL = max(s.peakFile, file), max(s.peakWAL, wal)
	return cpu
}

// sizes returns the sizes of the database file and of its WAL.
func (s *retentionSim) sizes() (file, wal int64) {
	if fi, err := os.Stat(s.db.Path()); err == nil {
		file = fi.Size()
	}
	if fi, err := os.Stat(s.db.Path() + "-wal"); err == nil {
		wal = fi.Size()
	}
	return file, wal
}

// simDays is the length of BenchmarkRetentionYear's run: a year, or
// BACKCHANNEL_BENCH_DAYS to try the benchmark on fewer.
func simDays(tb testing.TB) int {
	if v := os.Getenv("BACKCHANNEL_BENCH_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			tb.Fatalf("BACKCHANNEL_BENCH_DAYS=%q", v)
		}
		return n
	}
	return 365
}

const mb = 1 << 20

// BenchmarkRetentionYear runs a year of the simulated deployment and
// reports the database file's size at the end and at its peak (sampled
// after every prune), the WAL's peak, and, over the days after the key
// window filled, the CPU time pruning costs a day and the longest write
// transaction a prune made. Slow (minutes): run it with -benchtime 1x.
func BenchmarkRetentionYear(b *testing.B) {
	days := simDays(b)
	for b.Loop() {
		s := newRetentionSim(b)
		for d := range days {
			s.day()
			if (d+1)%30 == 0 || d == days-1 {
				file, _ := s.sizes()
				n, _ := s.db.ArticleCount(context.Background())
				b.Logf("day %d: %d articles, file %.1f MB (peak %.1f MB), WAL peak %.1f MB", d+1, n, float64(file)/mb, float64(s.peakFile)/mb, float64(s.peakWAL)/mb)
			}
		}
		file, _ := s.sizes()
		b.ReportMetric(float64(file)/mb, "MB-end")
		b.ReportMetric(float64(s.peakFile)/mb, "MB-peak")
		b.ReportMetric(float64(s.peakWAL)/mb, "MB-wal-peak")
		steady := s.pruneCPUDay
		if skip := int(defaultRetention.Keys/(24*time.Hour)) + 1; len(steady) > skip {
			steady = steady[skip:]
		}
		var sum, worst time.Duration
		for _, c := range steady {
			sum += c
			worst = max(worst, c)
		}
		b.ReportMetric(sum.Seconds()/float64(len(steady)), "prune-cpu-s/day")
		b.ReportMetric(worst.Seconds(), "prune-cpu-s/worst-day")
		b.ReportMetric(float64(s.maxLock.Microseconds())/1000, "ms-max-lock")
		b.Logf("pruned: %d texts, %d keys, %d transactions, %d pages vacuumed; prune CPU in all %.1f s",
			s.stripped, s.keys, s.pruneTx, s.vacuumPage, s.pruneCPU.Seconds())
	}
}

// BenchmarkPruneDay: with the key window full (38 simulated days), one op
// is a round of the key sweep (DefaultKeySweep: 7 days) of pruning — each
// day the text of one day's articles emptied, the sweep's share of the
// round walked (the keys of one day's articles, on average), the pages
// vacuumed — in the hourly runs of those days (the polls are not timed).
// Reports CPU per day, the worst day and the longest write transaction.
func BenchmarkPruneDay(b *testing.B) {
	s := newRetentionSim(b)
	// Warmed up until a sweep has a whole cycle of days to delete.
	cycle := int(DefaultKeySweep / (24 * time.Hour))
	for range int(defaultRetention.Keys/(24*time.Hour)) + cycle + 1 {
		s.day()
	}
	s.maxLock = 0
	var cpu, worst time.Duration
	n := 0
	b.ResetTimer()
	for b.Loop() {
		for range cycle {
			b.StopTimer()
			stripped, keys := s.stripped, s.keys
			b.StartTimer()
			c := s.day()
			cpu += c
			worst = max(worst, c)
			n++
			b.Logf("day: %d texts, %d keys deleted, %.3f CPU-s", s.stripped-stripped, s.keys-keys, c.Seconds())
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(n), "prune-cpu-s/day")
	b.ReportMetric(worst.Seconds(), "prune-cpu-s/worst-day")
	b.ReportMetric(float64(s.maxLock.Microseconds())/1000, "ms-max-lock")
}

// BenchmarkBytesPerKeyOnlyArticle stores the rig's first pass (36,226
// articles of the realistic shape of benchArticle, over 1,000 feeds)
// through StoreArticles, none alerting, lets the text window pass, prunes,
// and takes a backup: the backup's size divided by the articles is what
// each costs on disk once only its keys are left. It reports the size
// before pruning too.
func BenchmarkBytesPerKeyOnlyArticle(b *testing.B) {
	const n = 36_226
	ctx := context.Background()
	for b.Loop() {
		db := MustOpen(b)
		clock := newClock(db)
		feeds := benchFeedIDs(b, db)
		fillArticles(b, db, feeds, n)
		if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE articles SET dispatched = 1`)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		before := filepath.Join(dir, "before.db")
		if err := Backup(ctx, db.Path(), before); err != nil {
			b.Fatal(err)
		}
		clock.advance(defaultRetention.Text + time.Hour)
		st, err := db.Prune(ctx, defaultRetention)
		if err != nil {
			b.Fatal(err)
		}
		if st.Stripped != n {
			b.Fatalf("stripped %d of %d", st.Stripped, n)
		}
		after := filepath.Join(dir, "after.db")
		if err := Backup(ctx, db.Path(), after); err != nil {
			b.Fatal(err)
		}
		live, _ := os.Stat(db.Path())
		fb, _ := os.Stat(before)
		fa, _ := os.Stat(after)
		b.ReportMetric(float64(fb.Size())/n, "B/article-before")
		b.ReportMetric(float64(fa.Size())/n, "B/article")
		b.ReportMetric(float64(live.Size())/n, "B/article-live-file")
		b.Logf("prune: %+v", st)
		b.Logf("%d articles: backup %s before pruning, %s after; live file %s; empty schema and feeds included",
			n, fmtMB(fb.Size()), fmtMB(fa.Size()), fmtMB(live.Size()))
	}
}

func fmtMB(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/mb) }
