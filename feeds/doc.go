// Package feeds fetches, parses, polls and schedules RSS, Atom and JSON feeds.
//
// The steps follow miniflux's split so each can be tested alone:
//
//	Fetcher.Fetch   conditional GET with limits and the private-network guard
//	                (fetcher.go, response.go, guard.go)
//	Parse           gofeed document → []model.Article (parse.go)
//	Poller.Poll     fetch → not modified? → parse → Store keeps only new
//	                articles → Handler gets them; state and backoff recorded
//	                (poller.go, backoff.go)
//	Scheduler       robfig/cron entries, one per time slot (up to 12 per
//	                schedule), each starting its feeds, spread over the
//	                interval (scheduler.go)
//
// Nothing here keeps package-level mutable state: every limit, clock, store
// and logger is passed to a constructor.
package feeds
