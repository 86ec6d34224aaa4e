package db

import (
	"context"
	"testing"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/stories"
	"github.com/backchannel/backchannel/stories/storiestest"
)

func TestStoryIndexConformance(t *testing.T) {
	storiestest.TestIndex(t, func(t *testing.T) stories.Index { return MustOpen(t).StoryIndex() })
}

// TestStoryIndexLookupIsARange: finding candidates uses the postings'
// primary key for the key and the days, never a scan of every story.
func TestStoryIndexLookupIsARange(t *testing.T) {
	db := MustOpen(t)
	rows, err := db.reader.Query(`EXPLAIN QUERY PLAN `+candidatesQuery, "RU|US", 10, 12)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	want := map[string]bool{
		"SEARCH k USING PRIMARY KEY (key=?)":                               false,
		"SEARCH p USING PRIMARY KEY (key=? AND day_from>? AND day_from<?)": false,
	}
	for _, step := range plan {
		if _, ok := want[step]; ok {
			want[step] = true
		}
	}
	for step, seen := range want {
		if !seen {
			t.Errorf("query plan %q lacks %q", plan, step)
		}
	}
}

func TestSaveStory(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	arts := mustStore(t, db, feed,
		model.Article{GUID: "1", Title: "Burns meets Naryshkin", Link: "https://wire.example/1"},
		model.Article{GUID: "2", Title: "Spy chiefs met in Ankara", Link: "https://wire.example/2"})
	first := stories.Story{ID: StoryRef(arts[0].ID), Reports: 1, Parties: []string{"RU", "US"},
		When: []stories.Span{{From: 100, To: 102}}}
	joined := first
	joined.Reports, joined.When = 2, []stories.Span{{From: 101, To: 101}}

	for _, tc := range []struct {
		name      string
		article   int64
		d         stories.Decision
		wantSaved bool
		wantStory string
		wantState stories.Story
	}{
		{"first report begins the story", arts[0].ID, stories.Decision{Story: first, New: true, Reason: "new story"}, true, first.ID, first},
		{"second report joins it", arts[1].ID, stories.Decision{Story: joined, Reason: "joins " + first.ID}, true, first.ID, joined},
		{"a retried report changes nothing", arts[1].ID, stories.Decision{Story: stories.Story{ID: "other", Reports: 9}, New: true}, false, first.ID, joined},
	} {
		saved, err := db.SaveStory(ctx, tc.article, tc.d)
		if err != nil || saved != tc.wantSaved {
			t.Fatalf("%s: SaveStory = %v, %v; want %v", tc.name, saved, err, tc.wantSaved)
		}
		story, _, found, err := db.ArticleStory(ctx, tc.article)
		if err != nil || !found || story != tc.wantStory {
			t.Fatalf("%s: ArticleStory = %q, %v, %v; want %q", tc.name, story, found, err, tc.wantStory)
		}
		got, err := db.StoryIndex().Candidates(ctx, stories.Query{Keys: []string{"RU|US"}, When: []stories.Span{{From: 101, To: 101}}})
		if err != nil || len(got) != 1 || got[0].Reports != tc.wantState.Reports {
			t.Fatalf("%s: candidates %+v, %v; want the story with %d reports", tc.name, got, err, tc.wantState.Reports)
		}
	}
	if _, _, found, err := db.ArticleStory(ctx, 999); found || err != nil {
		t.Errorf("ArticleStory of an unknown article: %v, %v", found, err)
	}
}
