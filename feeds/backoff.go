package feeds

import "time"

// Backoff for failing feeds: the first failure waits BackoffBase, each further
// consecutive failure doubles the wait, up to BackoffMax, so a dead feed costs
// one request an hour and comes back by itself when it recovers.
const (
	BackoffBase = time.Minute
	BackoffMax  = time.Hour
)

// backoffDelay is the wait after the given number of consecutive failures.
func backoffDelay(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := BackoffBase
	for i := 1; i < failures; i++ {
		d *= 2
		if d >= BackoffMax {
			return BackoffMax
		}
	}
	return min(d, BackoffMax)
}
