package db

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// Many goroutines store overlapping batches, create alerts, drain the
// outbox and read at once. Run with -race. Every story must be stored once,
// every delivery made once, and no call may fail with SQLITE_BUSY.
func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	const feeds, stories, pollers = 4, 60, 8
	var feedIDs []int64
	for i := range feeds {
		feedIDs = append(feedIDs, mustFeed(t, db, fmt.Sprintf("feed%d", i)))
	}
	if _, err := db.Subscribe(ctx, model.Subscription{GuildID: "g", ChannelID: "c"}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	newIDs := map[int64]bool{}
	errs := make(chan error, 1000)
	var wg sync.WaitGroup

	// Pollers: every poller sees every story (syndicated across feeds, so
	// links collide across feeds too) and races the others to store it.
	for p := range pollers {
		wg.Go(func() {
			feed := feedIDs[p%feeds]
			for s := 0; s < stories; s += 5 {
				var batch []model.Article
				for i := s; i < s+5 && i < stories; i++ {
					batch = append(batch, model.Article{
						GUID:  fmt.Sprintf("p%d-%d", p, i), // GUIDs differ per poller: dedup must come from link/title
						Link:  fmt.Sprintf("https://news.example/%d?utm_source=p%d", i, p),
						Title: fmt.Sprintf("Story %d", i),
					})
				}
				got, err := db.StoreArticles(ctx, feed, batch)
				if err != nil {
					errs <- err
					return
				}
				for _, a := range got {
					mu.Lock()
					if newIDs[a.ID] {
						errs <- fmt.Errorf("article %d returned as new twice", a.ID)
					}
					newIDs[a.ID] = true
					mu.Unlock()
					if _, _, err := db.CreateAlert(ctx, model.Alert{GuildID: "g", Article: a,
						Matches: []model.Match{{Rule: "r"}}}, routes("c"), 0); err != nil {
						errs <- err
					}
				}
			}
		})
	}

	// Readers and an outbox worker run beside them.
	stop := make(chan struct{})
	var delivered sync.Map
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			due, err := db.DueDeliveries(ctx, time.Now(), 0, 20)
			if err != nil {
				errs <- err
				return
			}
			for _, d := range due {
				if _, dup := delivered.LoadOrStore(d.ID, true); dup {
					errs <- fmt.Errorf("delivery %d due after it was delivered", d.ID)
				}
				if err := db.MarkDelivered(ctx, d, "m"); err != nil {
					errs <- err
				}
			}
		}
	})
	for range 3 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.LatestAlerts(ctx, "g", "", 5); err != nil {
					errs <- err
				}
				if _, err := db.SearchAlerts(ctx, "g", "story", 5); err != nil {
					errs <- err
				}
				if _, err := db.Feeds(ctx); err != nil {
					errs <- err
				}
				if _, err := db.QueueDepth(ctx); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	// Let the worker drain the queue, then stop the readers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := db.QueueDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(newIDs) != stories {
		t.Fatalf("%d articles stored as new, want %d", len(newIDs), stories)
	}
	n := 0
	delivered.Range(func(any, any) bool { n++; return true })
	if n != stories {
		t.Fatalf("%d deliveries made, want %d", n, stories)
	}
}
