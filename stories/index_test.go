package stories_test

import (
	"testing"

	"github.com/backchannel/backchannel/stories"
	"github.com/backchannel/backchannel/stories/storiestest"
)

func TestMemIndex(t *testing.T) {
	storiestest.TestIndex(t, func(*testing.T) stories.Index { return stories.NewMemIndex() })
}
