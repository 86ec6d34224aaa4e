package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/backchannel/backchannel/bot"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/internal/fakediscord"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/outbox"
)

// BenchmarkDeliveryFanOut fans one story out to 1,000 channels through
// the parts `run` uses: the SQLite store's outbox (db), the parallel outbox
// with the app's 32 workers, the bot's paced Poster on a real discordgo
// session, and the in-repo fake Discord enforcing Discord's limits (50
// requests/s, 5 messages per 5 s per channel, creates and edits sharing
// the bucket) and answering every message POST and PATCH 100 ms after it
// arrived. Then a second outlet's report of the story makes the same 1,000
// messages owe an edit, delivered the same way. Every channel must end
// with exactly one message, edited once. Reported: posts/s and edits/s
// (from the first request to the last delivery recorded), the most 429s
// of any bucket, global 429s, the peak requests the fake saw in one
// second. Issue 12's target: ≥ 40 posts/s, at most one 429 per bucket.
// One iteration takes about 45 s; see BENCHMARKS.md:
//
//	go test -run '^$' -bench DeliveryFanOut -benchtime 1x .
func BenchmarkDeliveryFanOut(b *testing.B) {
	const channels = 1000
	var postSecs, editSecs float64
	var max429, global429, peak int
	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		fd := fakediscord.New(b)
		fd.SetLimits(fakediscord.DiscordLimits())
		fd.SetLatency(fakediscord.CreateMessage(""), 100*time.Millisecond)
		fd.SetLatency(fakediscord.EditMessage("", ""), 100*time.Millisecond)
		store, err := db.Open(ctx, filepath.Join(b.TempDir(), "fanout.db"))
		if err != nil {
			b.Fatal(err)
		}
		routes := make([]model.Subscription, channels)
		for i := range routes {
			routes[i] = model.Subscription{ChannelID: fmt.Sprintf("3%017d", i)}
		}
		report := func(feed, title string) {
			f, err := store.AddFeed(ctx, model.Feed{Name: feed, URL: "https://" + feed + ".example/rss"})
			if err != nil {
				b.Fatal(err)
			}
			arts, err := store.StoreArticles(ctx, f.ID, []model.Article{{GUID: title, Title: title, Link: "https://" + feed + ".example/1",
				Summary: "The heads of the CIA and the SVR met in Ankara.", Published: time.Now()}})
			if err != nil || len(arts) != 1 {
				b.Fatalf("store: %v", err)
			}
			_, _, err = store.CreateAlert(ctx, model.Alert{GuildID: "g", Article: arts[0], Story: "story",
				Matches: []model.Match{{Rule: "intel-heads", Actors: []model.ActorHit{
					{ID: "us-cia", Office: "CIA Director", Country: "US", Kind: "intel", Alias: "Burns"},
					{ID: "ru-svr", Office: "SVR Director", Country: "RU", Kind: "intel", Alias: "Naryshkin"}},
					ContactKind: "meeting", ContactTerm: "meets"}}}, routes, 0)
			if err != nil {
				b.Fatal(err)
			}
		}
		report("wire", "CIA Director Burns meets SVR chief Naryshkin in Ankara")
		s, err := bot.NewSession(bot.SessionConfig{Token: fd.Token(), APIURL: fd.URL(), HTTPTimeout: 30 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		ob := outbox.New(store, bot.NewPoster(s, bot.PosterOptions{}), outbox.Options{Workers: outboxWorkers, ShutdownGrace: postGrace})
		deliver := func() float64 {
			start := time.Now()
			// Flush until nothing is queued: a 429 would leave a retry.
			for round := 0; ; round++ {
				if err := ob.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				n, err := store.QueueDepth(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					return time.Since(start).Seconds()
				}
				if round == 100 {
					b.Fatalf("%d deliveries still queued", n)
				}
				time.Sleep(500 * time.Millisecond)
			}
		}
		b.StartTimer()
		postSecs += deliver()
		b.StopTimer()
		report("desk", "US and Russian spy chiefs held talks in Ankara")
		b.StartTimer()
		editSecs += deliver()
		b.StopTimer()

		for i := range channels {
			ch := routes[i].ChannelID
			msgs := fd.Messages(ch)
			if len(msgs) != 1 || msgs[0].Edits != 1 {
				b.Fatalf("channel %s: %d messages (%+v), want exactly one, edited once", ch, len(msgs), msgs)
			}
		}
		st := fd.LimitStats()
		for bucket, n := range st.TooManyRequests {
			max429 = max(max429, n)
			if bucket == fakediscord.GlobalBucket {
				global429 += n
			}
		}
		peak = max(peak, st.PeakPerSecond)
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
		fd.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*channels)/postSecs, "posts/s")
	b.ReportMetric(float64(b.N*channels)/editSecs, "edits/s")
	b.ReportMetric(float64(max429), "max-429/bucket")
	b.ReportMetric(float64(global429), "global-429s")
	b.ReportMetric(float64(peak), "peak-req/s")
}
