package db

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

func feedNames(fs []model.Feed) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name+"="+string(f.Source))
	}
	return out
}

func TestAddAndRemoveFeed(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	f, err := db.AddFeed(ctx, model.Feed{Name: "bbc", URL: "https://feeds.bbci.co.uk/news/world/rss.xml", Schedule: "@every 10m"})
	if err != nil {
		t.Fatal(err)
	}
	if f.ID == 0 || f.Source != model.SourceAdmin || f.Schedule != "@every 10m" || !f.State.LastPoll.IsZero() {
		t.Fatalf("added %+v", f)
	}
	for _, dup := range []model.Feed{
		{Name: "bbc", URL: "https://other.example/feed"},
		{Name: "bbc2", URL: "https://feeds.bbci.co.uk/news/world/rss.xml"},
		{Name: "bbc3", URL: "HTTPS://FEEDS.BBCI.CO.UK:443/news/world/rss.xml?utm_source=x"},
	} {
		if _, err := db.AddFeed(ctx, dup); !errors.Is(err, model.ErrDuplicate) {
			t.Errorf("AddFeed(%+v): %v, want ErrDuplicate", dup, err)
		}
	}
	removed, err := db.RemoveFeed(ctx, "bbc")
	if err != nil || removed.ID != f.ID {
		t.Fatalf("RemoveFeed: %+v, %v", removed, err)
	}
	if _, err := db.RemoveFeed(ctx, "bbc"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("second RemoveFeed: %v", err)
	}
	var states int
	db.reader.QueryRow(`SELECT count(*) FROM feed_state`).Scan(&states)
	if states != 0 {
		t.Fatalf("%d state rows left", states)
	}
}

func TestSaveFeedState(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	id := mustFeed(t, db, "wire")
	now := epoch
	st := model.FeedState{
		LastPoll: now, LastSuccess: now.Add(-time.Minute), NextPoll: now.Add(5 * time.Minute),
		Status: "error", Error: "HTTP 503", ETag: `"abc"`, LastModified: "Sat, 01 Mar 2025 11:00:00 GMT",
		ItemsSeen: 12345, Failures: 3,
	}
	if err := db.SaveFeedState(ctx, id, st); err != nil {
		t.Fatal(err)
	}
	mustStore(t, db, id, art("1", "https://x.example/1", "One"))
	fs, _ := db.Feeds(ctx)
	got := fs[0].State
	want := st
	want.ItemsSeen = 1 // counted by StoreArticles, not taken from the caller
	if got != want {
		t.Fatalf("state\n got %+v\nwant %+v", got, want)
	}
	if err := db.SaveFeedState(ctx, 999, st); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("state of a missing feed: %v", err)
	}
}

func TestSyncConfigFeeds(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	admin, err := db.AddFeed(ctx, model.Feed{Name: "admin-one", URL: "https://admin.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.SyncConfigFeeds(ctx, []model.Feed{
		{Name: "a", URL: "https://a.example/feed"},
		{Name: "b", URL: "https://b.example/feed", Schedule: "@hourly"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a=config admin-one=admin b=config]"; feedNamesString(got) != want {
		t.Fatalf("after first sync %s, want %s", feedNamesString(got), want)
	}
	a := got[0]
	if err := db.SaveFeedState(ctx, a.ID, model.FeedState{Status: "ok", ETag: "e1", LastModified: "lm"}); err != nil {
		t.Fatal(err)
	}
	b := got[2]
	if err := db.SaveFeedState(ctx, b.ID, model.FeedState{Status: "ok", ETag: "e2"}); err != nil {
		t.Fatal(err)
	}

	// Second sync: a unchanged, b's URL changes, c is new, and the admin
	// feed is still there.
	got, err = db.SyncConfigFeeds(ctx, []model.Feed{
		{Name: "a", URL: "https://a.example/feed"},
		{Name: "b", URL: "https://b.example/other-feed"},
		{Name: "c", URL: "https://c.example/feed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a=config admin-one=admin b=config c=config]"; feedNamesString(got) != want {
		t.Fatalf("after second sync %s, want %s", feedNamesString(got), want)
	}
	if got[0].ID != a.ID || got[0].State.ETag != "e1" {
		t.Errorf("unchanged feed lost its id or state: %+v", got[0])
	}
	if got[2].ID != b.ID || got[2].State.ETag != "" || got[2].Schedule != "" {
		t.Errorf("feed with a new URL kept its ETag or schedule: %+v", got[2])
	}

	// Third sync: a is renamed to a2 (same URL: keeps id and state), b and
	// c are gone, and the file takes over the admin feed's URL.
	got, err = db.SyncConfigFeeds(ctx, []model.Feed{
		{Name: "a2", URL: "https://a.example/feed"},
		{Name: "adopted", URL: "https://admin.example/feed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a2=config adopted=config]"; feedNamesString(got) != want {
		t.Fatalf("after third sync %s, want %s", feedNamesString(got), want)
	}
	if got[0].ID != a.ID || got[0].State.ETag != "e1" {
		t.Errorf("renamed feed lost its id or state: %+v", got[0])
	}
	if got[1].ID != admin.ID {
		t.Errorf("adopted feed has a new id")
	}
	all, _ := db.Feeds(ctx)
	if feedNamesString(all) != feedNamesString(got) {
		t.Fatalf("Feeds %s, sync returned %s", feedNamesString(all), feedNamesString(got))
	}

	// Two names for one URL in the file is a duplicate.
	_, err = db.SyncConfigFeeds(ctx, []model.Feed{
		{Name: "x", URL: "https://x.example/feed"},
		{Name: "y", URL: "https://x.example/feed"},
	})
	if !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("duplicate URL in the file: %v", err)
	}
	// ...and the failed sync changed nothing.
	if after, _ := db.Feeds(ctx); feedNamesString(after) != feedNamesString(got) {
		t.Fatalf("a failed sync changed the feeds: %s", feedNamesString(after))
	}

	// An empty file removes every config feed.
	if got, err = db.SyncConfigFeeds(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty sync: %v, %v", feedNamesString(got), err)
	}
}

func feedNamesString(fs []model.Feed) string {
	out := "["
	for i, n := range feedNames(fs) {
		if i > 0 {
			out += " "
		}
		out += n
	}
	return out + "]"
}

// TestQueuedFeedStates: a queued state is read back by Feeds at once (so
// /status is current) but reaches the file only with a flush; the file
// alone, which is what a crash leaves, has the last flushed state.
func TestQueuedFeedStates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db := mustOpenPath(t, path)
	a, b := mustFeed(t, db, "a"), mustFeed(t, db, "b")
	mustStore(t, db, a, art("1", "https://x.example/1", "One"))
	other := mustOpenPath(t, path) // another process's view of the file

	stA := model.FeedState{LastPoll: epoch, LastSuccess: epoch, Status: model.StatusNotModified, ETag: `"a1"`, ItemsSeen: 99}
	stB := model.FeedState{LastPoll: epoch, Status: model.StatusError, Error: "HTTP 500", Failures: 1, NextPoll: epoch.Add(time.Minute)}
	for id, st := range map[int64]model.FeedState{a: stA, b: stB} {
		if err := db.QueueFeedState(id, st); err != nil {
			t.Fatal(err)
		}
	}
	wantA := stA
	wantA.ItemsSeen = 1 // the store's count, not the caller's
	states := func(d *DB) map[int64]model.FeedState {
		t.Helper()
		fs, err := d.Feeds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]model.FeedState{}
		for _, f := range fs {
			out[f.ID] = f.State
		}
		return out
	}
	if got := states(db); got[a] != wantA || got[b] != stB {
		t.Fatalf("Feeds before the flush: %+v", got)
	}
	if got := states(other); got[a] != (model.FeedState{ItemsSeen: 1}) || got[b] != (model.FeedState{}) {
		t.Fatalf("queued states reached the file before a flush: %+v", got)
	}

	if err := db.FlushFeedStates(ctx); err != nil {
		t.Fatal(err)
	}
	if got := states(other); got[a] != wantA || got[b] != stB {
		t.Fatalf("after the flush the file has %+v", got)
	}
	// A state queued again is written by the next flush; an empty queue
	// writes nothing.
	stA.LastPoll = epoch.Add(time.Minute)
	wantA.LastPoll = stA.LastPoll
	if err := db.QueueFeedState(a, stA); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.FlushFeedStates(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pending := queued(db)
	if got := states(other); got[a] != wantA || pending != 0 {
		t.Fatalf("second flush: %+v, %d still queued", got[a], pending)
	}

	// Writing one state at once takes the queued ones along.
	stA.ETag, wantA.ETag = `"a2"`, `"a2"`
	stB.Failures = 2
	if err := db.QueueFeedState(a, stA); err != nil {
		t.Fatal(err)
	}
	if err := db.QueueFeedState(b, model.FeedState{Status: "older"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveFeedState(ctx, b, stB); err != nil {
		t.Fatal(err)
	}
	pending = queued(db)
	if got := states(other); got[a] != wantA || got[b] != stB || pending != 0 {
		t.Fatalf("after SaveFeedState the file has %+v, %d still queued", got, pending)
	}
}

func TestQueuedFeedStatesFlushedInBackgroundAndAtClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.states.every = 20 * time.Millisecond
	id := mustFeed(t, db, "a")
	other := mustOpenPath(t, path)
	etag := func() string {
		fs, err := other.Feeds(ctx)
		if err != nil || len(fs) != 1 {
			t.Fatalf("%v, %v", fs, err)
		}
		return fs[0].State.ETag
	}
	if err := db.QueueFeedState(id, model.FeedState{ETag: `"1"`}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); etag() != `"1"`; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("queued state not flushed in the background within 5s")
		}
	}

	db.states.mu.Lock()
	db.states.every = time.Hour
	db.states.mu.Unlock()
	if err := db.QueueFeedState(id, model.FeedState{ETag: `"2"`}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := etag(); got != `"2"` {
		t.Fatalf("Close did not flush: etag %s", got)
	}
	if err := db.QueueFeedState(id, model.FeedState{ETag: `"3"`}); err == nil {
		t.Fatal("queued a state on a closed database")
	}
}

// TestQueuedStateOfRemovedFeed: a removed feed's queued state is skipped,
// and never reaches a feed added later, even one that gets its id.
func TestQueuedStateOfRemovedFeed(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	keep := mustFeed(t, db, "keep")
	gone := mustFeed(t, db, "gone") // the highest id: SQLite gives it out again
	if err := db.QueueFeedState(gone, model.FeedState{LastSuccess: epoch, ETag: `"old"`}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RemoveFeed(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	// Queued after the removal, as a poll in flight might.
	if err := db.QueueFeedState(gone, model.FeedState{LastSuccess: epoch, ETag: `"old"`}); err != nil {
		t.Fatal(err)
	}
	if err := db.QueueFeedState(keep, model.FeedState{ETag: `"k"`}); err != nil {
		t.Fatal(err)
	}
	if err := db.FlushFeedStates(ctx); err != nil {
		t.Fatalf("flush with a removed feed's state: %v", err)
	}
	if err := db.QueueFeedState(gone, model.FeedState{LastSuccess: epoch, ETag: `"old"`}); err != nil {
		t.Fatal(err)
	}
	added, err := db.AddFeed(ctx, model.Feed{Name: "new", URL: "https://new.example/feed"})
	if err != nil || added.ID != gone {
		t.Fatalf("added %+v (want the removed feed's id %d, to test its reuse), %v", added, gone, err)
	}
	if err := db.FlushFeedStates(ctx); err != nil {
		t.Fatal(err)
	}
	fs, _ := db.Feeds(ctx)
	for _, f := range fs {
		switch f.Name {
		case "keep":
			if f.State.ETag != `"k"` {
				t.Errorf("keep: %+v", f.State)
			}
		case "new":
			if f.State != (model.FeedState{}) {
				t.Errorf("new feed (id %d, removed feed's was %d) has state %+v", added.ID, gone, f.State)
			}
		}
	}
}

// TestQuietStatesWaitLonger: a poll that changed only a feed's times (a
// 304) is written at the quiet interval, not the short one; any other
// change is written soon, and takes the quiet ones along.
func TestQuietStatesWaitLonger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.states.mu.Lock()
	db.states.every, db.states.quiet = 20*time.Millisecond, time.Hour
	db.states.mu.Unlock()
	a, b := mustFeed(t, db, "a"), mustFeed(t, db, "b")
	other := mustOpenPath(t, path)
	stored := func() map[int64]model.FeedState {
		fs, err := other.Feeds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]model.FeedState{}
		for _, f := range fs {
			f.State.ItemsSeen = 0
			out[f.ID] = f.State
		}
		return out
	}
	waitFor := func(what string, ok func(map[int64]model.FeedState) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(stored()); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not written within 5s: %+v", what, stored())
			}
		}
	}

	// First states of both feeds: nothing written for them yet, so soon.
	stA := model.FeedState{LastPoll: epoch, LastSuccess: epoch, Status: model.StatusOK, ETag: `"a"`}
	stB := model.FeedState{LastPoll: epoch, LastSuccess: epoch, Status: model.StatusOK, ETag: `"b"`}
	for id, st := range map[int64]model.FeedState{a: stA, b: stB} {
		if err := db.QueueFeedState(id, st); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("first states", func(m map[int64]model.FeedState) bool { return m[a].ETag == `"a"` && m[b].ETag == `"b"` })
	// The flush forgets what it wrote just after its commit; wait for that
	// too, or the next states could be compared with nothing written.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		n := queued(db)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d states still queued after their flush", n)
		}
	}

	// A 304 of each: only the times move. Not written within many short
	// intervals; shown by Feeds of the same DB all the same.
	quietA, quietB := stA, stB
	quietA.LastPoll, quietA.LastSuccess = epoch.Add(time.Minute), epoch.Add(time.Minute)
	quietB.LastPoll, quietB.NextPoll = epoch.Add(time.Minute), epoch.Add(2*time.Minute)
	for id, st := range map[int64]model.FeedState{a: quietA, b: quietB} {
		if err := db.QueueFeedState(id, st); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // 15 short intervals
	if got := stored(); !got[a].LastPoll.Equal(epoch) || !got[b].LastPoll.Equal(epoch) {
		t.Fatalf("times-only states written at the short interval: %+v", got)
	}
	fs, err := db.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if !f.State.LastPoll.Equal(epoch.Add(time.Minute)) {
			t.Errorf("Feeds shows %s polled at %v, want the queued time", f.Name, f.State.LastPoll)
		}
	}

	// b fails: written soon, and a's quiet state with it.
	failB := quietB
	failB.Status, failB.Error, failB.Failures = model.StatusError, "500", 1
	if err := db.QueueFeedState(b, failB); err != nil {
		t.Fatal(err)
	}
	waitFor("a failure", func(m map[int64]model.FeedState) bool {
		return m[b].Status == model.StatusError && m[a].LastPoll.Equal(quietA.LastPoll)
	})

	// At the quiet interval, times-only states are written too.
	db.states.mu.Lock()
	db.states.quiet = 30 * time.Millisecond
	db.states.mu.Unlock()
	quietA.LastPoll = epoch.Add(3 * time.Minute)
	if err := db.QueueFeedState(a, quietA); err != nil {
		t.Fatal(err)
	}
	waitFor("the quiet interval", func(m map[int64]model.FeedState) bool { return m[a].LastPoll.Equal(quietA.LastPoll) })
}

// queued is how many feed states wait for a flush.
func queued(db *DB) int {
	db.states.mu.Lock()
	defer db.states.mu.Unlock()
	return len(db.states.pending)
}
