package feeds

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/model"
)

// TestCrashLosesOnlyQueuedState runs the poller on the real store, then
// reads the database file as a process started after a crash would: the
// queued states (times, ETag) are lost, so the feed is fetched in full
// again, and the store's de-duplication keeps its items from coming back
// as new; a new item after that is news, not back catalogue. A first
// fetch that stored nothing is remembered without any flush.
func TestCrashLosesOnlyQueuedState(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "crash.db")
	open := func() *db.DB {
		store, err := db.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return store
	}
	srv, url := newEtagServer(t, makeRSS("crash", 3))
	emptySrv, emptyURL := newEtagServer(t, []byte(`<rss version="2.0"><channel><title>E</title></channel></rss>`))
	before := open()
	fs, err := before.SyncConfigFeeds(ctx, []model.Feed{{Name: "crash", URL: url}, {Name: "empty", URL: emptyURL}})
	if err != nil {
		t.Fatal(err)
	}
	feed, empty := fs[0], fs[1]
	got := &batches{}
	p := NewPoller(NewFetcher(Config{Logger: testLogger(t)}), before, got, PollerOptions{Logger: testLogger(t)})
	// The empty feed first: writing its state at once takes the queued
	// states along.
	for _, f := range []model.Feed{empty, feed, feed} { // the feed: a 200, then a 304
		if _, err := p.Poll(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if srv.full.Load() != 1 || srv.notMod.Load() != 1 || len(got.forFeed(feed.ID)) != 1 {
		t.Fatalf("before the crash: %d 200s, %d 304s, %d batches", srv.full.Load(), srv.notMod.Load(), len(got.forFeed(feed.ID)))
	}

	// The crash: a second process opens the file; the first never flushes.
	after := open()
	fs, err = after.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	feed, empty = fs[0], fs[1]
	if st := feed.State; st.ETag != "" || !st.LastPoll.IsZero() || st.ItemsSeen != 3 {
		t.Fatalf("after the crash the file has %+v: want the queued state lost and the 3 items counted", st)
	}
	if st := empty.State; st.LastSuccess.IsZero() || st.Status != model.StatusOK {
		t.Fatalf("an empty first fetch was not written at once: %+v", st)
	}
	// Meanwhile each feed got a new item, undated: news, not back
	// catalogue, though the crash lost when the feed was last fetched.
	for _, s := range []*etagServer{srv, emptySrv} {
		item := "<item><title>Breaking</title><guid>new</guid><link>https://news.example.org/breaking</link></item>"
		if s == emptySrv {
			item = "<item><title>Other</title><guid>new</guid><link>https://news.example.org/other</link></item>"
		}
		body := bytes.Replace(*s.body.Load(), []byte("<title>"), []byte(item+"<title>"), 1)
		s.body.Store(&body)
	}
	got = &batches{}
	p = NewPoller(NewFetcher(Config{Logger: testLogger(t)}), after, got, PollerOptions{Logger: testLogger(t)})
	for _, f := range []model.Feed{feed, empty} {
		if _, err := p.Poll(ctx, f); err != nil {
			t.Fatal(err)
		}
		b := got.forFeed(f.ID)
		if len(b) != 1 || len(b[0].Articles) != 1 || b[0].Articles[0].GUID != "new" || b[0].Articles[0].Backlog {
			t.Fatalf("%s: handed over %+v; want only the new item, not as back catalogue", f.Name, b)
		}
	}
	// The feed was fetched in full again (its ETag was lost): the three
	// items it had were not handed over again.
	if srv.full.Load() != 2 {
		t.Fatalf("%d full fetches of the feed", srv.full.Load())
	}
}
