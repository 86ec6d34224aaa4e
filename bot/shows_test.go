package bot_test

import (
	"errors"
	"testing"

	"github.com/backchannel/backchannel/bot"
	"github.com/backchannel/backchannel/model"
)

// TestShows: the Poster tells whether a message already shows a delivery
// (the check before an edit whose answer was lost is sent again).
func TestShows(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	d := postDelivery(1, "c1")
	d.Alert.Sources = []model.Source{{AlertID: d.Alert.ID, Feed: "Wire", Link: "https://wire.example/1"}}
	id, err := env.poster.Post(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	d.MessageID = id
	more := d
	more.Alert.Sources = append(d.Alert.Sources, model.Source{AlertID: 7, Feed: "Desk", Link: "https://desk.example/7"})
	for _, tc := range []struct {
		name string
		do   func() error
		d    model.Delivery
		want bool
	}{
		{"as posted", nil, d, true},
		{"a source more than posted", nil, more, false},
		{"once edited to it", func() error { return env.poster.Edit(t.Context(), more) }, more, true},
		{"the earlier state", nil, d, false},
	} {
		if tc.do != nil {
			if err := tc.do(); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := env.poster.Shows(t.Context(), tc.d); err != nil || got != tc.want {
			t.Errorf("%s: Shows = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	env.fd.DeleteMessage("c1", id)
	_, err = env.poster.Shows(t.Context(), more)
	var pe *bot.PostError
	if !errors.As(err, &pe) || !pe.MessageGone() {
		t.Errorf("Shows of a deleted message: %v; want MessageGone", err)
	}
}
