package db

import (
	"context"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

func TestSubscriptions(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	newClock(db)
	sub := func(g, c, r string) bool {
		t.Helper()
		added, err := db.Subscribe(ctx, model.Subscription{GuildID: g, ChannelID: c, Rule: r})
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	if !sub("g", "c1", "") || !sub("g", "c1", "intel-heads") || !sub("g", "c2", "") || !sub("h", "c9", "") {
		t.Fatal("new subscriptions not added")
	}
	if sub("g", "c1", "") {
		t.Fatal("existing subscription added again")
	}
	subs, err := db.Subscriptions(ctx, "g")
	if err != nil || len(subs) != 3 {
		t.Fatalf("subscriptions: %v, %v", subs, err)
	}
	if subs[0] != (model.Subscription{GuildID: "g", ChannelID: "c1", MinSources: 1, Created: epoch}) || subs[1].Rule != "intel-heads" {
		t.Fatalf("subscriptions: %+v", subs)
	}
	if removed, err := db.Unsubscribe(ctx, "g", "c1", "intel-heads"); err != nil || !removed {
		t.Fatalf("unsubscribe: %v, %v", removed, err)
	}
	if removed, err := db.Unsubscribe(ctx, "g", "c1", "intel-heads"); err != nil || removed {
		t.Fatalf("second unsubscribe: %v, %v", removed, err)
	}
	if removed, _ := db.Unsubscribe(ctx, "h", "c1", ""); removed {
		t.Fatal("unsubscribed another guild's channel")
	}
	active, err := db.ActiveSubscriptions(ctx)
	if err != nil || len(active) != 3 {
		t.Fatalf("active: %+v, %v", active, err)
	}
}

func TestSubscribeMinSources(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	for _, tc := range []struct {
		name      string
		rule      string
		min       int
		wantAdded bool
		want      int
	}{
		{"unset is one", "", 0, true, 1},
		{"another rule's own value", "intel-heads", 3, true, 3},
		{"subscribing again updates it", "", 2, false, 2},
		{"and back to one", "", 1, false, 1},
		{"negative is one", "intel-heads", -4, false, 1},
	} {
		added, err := db.Subscribe(ctx, model.Subscription{GuildID: "g", ChannelID: "c", Rule: tc.rule, MinSources: tc.min})
		if err != nil || added != tc.wantAdded {
			t.Fatalf("%s: Subscribe = %v, %v; want %v", tc.name, added, err, tc.wantAdded)
		}
		subs, err := db.Subscriptions(ctx, "g")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if s.Rule == tc.rule && s.MinSources != tc.want {
				t.Errorf("%s: min_sources %d, want %d", tc.name, s.MinSources, tc.want)
			}
		}
	}
}

func TestDisableChannel(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	for _, s := range []model.Subscription{
		{GuildID: "g", ChannelID: "gone"}, {GuildID: "g", ChannelID: "gone", Rule: "r"},
		{GuildID: "g", ChannelID: "fine"}, {GuildID: "h", ChannelID: "gone"},
	} {
		if _, err := db.Subscribe(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	mustAlert(t, db, feed, "g", "Story", nil, "gone", "fine")
	mustAlert(t, db, feed, "h", "Other story", nil, "gone")

	if err := db.DisableChannel(ctx, "g", "gone", "Missing Access (50001)"); err != nil {
		t.Fatal(err)
	}
	subs, _ := db.Subscriptions(ctx, "g")
	for _, s := range subs {
		if want := map[string]string{"gone": "Missing Access (50001)", "fine": ""}[s.ChannelID]; s.Disabled != want {
			t.Errorf("%s/%s disabled %q, want %q", s.ChannelID, s.Rule, s.Disabled, want)
		}
	}
	active, _ := db.ActiveSubscriptions(ctx)
	if len(active) != 2 {
		t.Fatalf("active after disabling: %+v", active)
	}
	due, _ := db.DueDeliveries(ctx, time.Now(), 0, 10)
	chans := map[string]bool{}
	for _, d := range due {
		chans[d.Alert.GuildID+"/"+d.ChannelID] = true
	}
	if len(due) != 2 || !chans["g/fine"] || !chans["h/gone"] {
		t.Fatalf("due after disabling g/gone: %v", chans)
	}
	var lastErr string
	db.reader.QueryRow(`SELECT last_error FROM deliveries WHERE guild_id = 'g' AND channel_id = 'gone'`).Scan(&lastErr)
	if lastErr != "channel disabled: Missing Access (50001)" {
		t.Fatalf("failed delivery's error %q", lastErr)
	}

	// Subscribing again re-enables (and says it already existed).
	added, err := db.Subscribe(ctx, model.Subscription{GuildID: "g", ChannelID: "gone"})
	if err != nil || added {
		t.Fatalf("re-subscribe: %v, %v", added, err)
	}
	subs, _ = db.Subscriptions(ctx, "g")
	if subs[1].ChannelID != "gone" || subs[1].Rule != "" || subs[1].Disabled != "" {
		t.Fatalf("not re-enabled: %+v", subs)
	}
	if subs[2].Disabled == "" {
		t.Fatalf("re-enabled the other rule's subscription too: %+v", subs[2])
	}
}
