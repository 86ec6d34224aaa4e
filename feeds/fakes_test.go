package feeds

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/backchannel/backchannel/model"
)

// memStore is an in-memory Store de-duplicating by (feed, GUID).
type memStore struct {
	mu       sync.Mutex
	seen     map[int64]map[string]bool
	stored   []model.Article // every new article, as handed to StoreArticles
	states   map[int64]model.FeedState
	nextID   int64
	storeN   int   // StoreArticles calls
	storeErr error // returned by StoreArticles when set
	saveN    int   // SaveFeedState calls (written at once)
	queueN   int   // QueueFeedState calls
	saveErr  error // returned by SaveFeedState when set
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{seen: map[int64]map[string]bool{}, states: map[int64]model.FeedState{}}
}

func (s *memStore) StoreArticles(_ context.Context, feedID int64, items []model.Article) ([]model.Article, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.storeN++
	if s.storeErr != nil {
		return nil, s.storeErr
	}
	seen := s.seen[feedID]
	if seen == nil {
		seen = map[string]bool{}
		s.seen[feedID] = seen
	}
	var fresh []model.Article
	for _, a := range items {
		if seen[a.GUID] {
			continue
		}
		seen[a.GUID] = true
		s.nextID++
		a.ID = s.nextID
		fresh = append(fresh, a)
		s.stored = append(s.stored, a)
	}
	return fresh, nil
}

func (s *memStore) SaveFeedState(_ context.Context, feedID int64, st model.FeedState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveN++
	if s.saveErr != nil {
		return s.saveErr
	}
	s.states[feedID] = st
	return nil
}

func (s *memStore) QueueFeedState(feedID int64, st model.FeedState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queueN++
	s.states[feedID] = st
	return nil
}

// saves returns how many states were written at once and how many queued.
func (s *memStore) saves() (saved, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveN, s.queueN
}

func (s *memStore) state(feedID int64) model.FeedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states[feedID]
}

func (s *memStore) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeN
}

// handlerFunc adapts a function to Handler.
type handlerFunc func(ctx context.Context, b Batch) error

func (f handlerFunc) HandleNew(ctx context.Context, b Batch) error { return f(ctx, b) }

// batches records every batch handed over.
type batches struct {
	mu  sync.Mutex
	all []Batch
	err error
}

func (b *batches) HandleNew(_ context.Context, batch Batch) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all = append(b.all, batch)
	return b.err
}

func (b *batches) forFeed(id int64) []Batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Batch
	for _, x := range b.all {
		if x.Feed.ID == id {
			out = append(out, x)
		}
	}
	return out
}

// fetchFunc adapts a function to FeedFetcher.
type fetchFunc func(ctx context.Context, req Request) (Response, error)

func (f fetchFunc) Fetch(ctx context.Context, req Request) (Response, error) { return f(ctx, req) }

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

var errTest = errors.New("test failure")
