package bot_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/bot"
	"github.com/backchannel/backchannel/internal/fakediscord"
)

// BenchmarkFanOut posts alerts to many channels through one Poster, the
// way a parallel outbox would: workers goroutines take channels from a
// queue and post that channel's alerts in order, so one post is in flight
// per channel. The fake Discord enforces Discord's limits (50 requests/s,
// 5 messages per 5 s per channel) and answers each POST 100 ms after it
// arrived. Reported: posts/s, the most 429s any one bucket answered, the
// global 429s, the peak requests the fake saw in one second, the most
// requests it handled at once. Every channel must end with exactly its
// alerts, once each. The target is the first case: one alert to
// 1,000 channels. See BENCHMARKS.md; each case takes 15 to 25 s:
//
//	go test -run '^$' -bench FanOut -benchtime 1x ./bot/
//	go test -run '^$' -bench 'FanOut/channels=1000,alerts=1,workers=64$' -benchtime 1x ./bot/
func BenchmarkFanOut(b *testing.B) {
	cases := []struct {
		channels, perChannel, workers int
		// unpaced: the control, without the session's global pacing,
		// so only 429s hold the Poster back.
		unpaced bool
	}{
		{1000, 1, 8, false},
		{1000, 1, 64, false},
		// Six alerts a channel: the sixth waits for the bucket's reset.
		{100, 6, 64, false},
		{1000, 1, 64, true},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("channels=%d,alerts=%d,workers=%d", tc.channels, tc.perChannel, tc.workers)
		if tc.unpaced {
			name += ",unpaced"
		}
		b.Run(name, func(b *testing.B) {
			var elapsed time.Duration
			var max429, global429, peak, inflight int
			var postErrors atomic.Int64
			for range b.N {
				b.StopTimer()
				fd := fakediscord.New(b)
				fd.SetLimits(fakediscord.DiscordLimits())
				fd.SetLatency(fakediscord.CreateMessage(""), 100*time.Millisecond)
				cfg := bot.SessionConfig{Token: fd.Token(), APIURL: fd.URL(), HTTPTimeout: 30 * time.Second}
				if tc.unpaced {
					cfg.Limiter = rate.NewLimiter(rate.Inf, 0)
				}
				s, err := bot.NewSession(cfg)
				if err != nil {
					b.Fatal(err)
				}
				poster := bot.NewPoster(s, bot.PosterOptions{})
				queue := make(chan int, tc.channels)
				for i := range tc.channels {
					queue <- i
				}
				close(queue)
				b.StartTimer()

				start := time.Now()
				var wg sync.WaitGroup
				for range tc.workers {
					wg.Go(func() {
						for i := range queue {
							for j := range tc.perChannel {
								d := postDelivery(int64(i*tc.perChannel+j), fmt.Sprint("ch", i))
								// Retried as the outbox would; the nonce
								// keeps it one message.
								for attempt := 1; ; attempt++ {
									_, err := poster.Post(b.Context(), d)
									if err == nil {
										break
									}
									postErrors.Add(1)
									if attempt == 5 {
										b.Errorf("channel %d: %v", i, err)
										break
									}
								}
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)

				b.StopTimer()
				for i := range tc.channels {
					if n := len(fd.Messages(fmt.Sprint("ch", i))); n != tc.perChannel {
						b.Errorf("channel %d has %d messages, want exactly %d", i, n, tc.perChannel)
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
				inflight = max(inflight, st.MaxInFlight)
				fd.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*tc.channels*tc.perChannel)/elapsed.Seconds(), "posts/s")
			b.ReportMetric(float64(max429), "max-429/bucket")
			b.ReportMetric(float64(global429), "global-429s")
			b.ReportMetric(float64(peak), "peak-req/s")
			b.ReportMetric(float64(inflight), "max-in-flight")
			b.ReportMetric(float64(postErrors.Load()), "post-errors")
		})
	}
}
