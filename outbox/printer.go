package outbox

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
)

// Printer is the Poster of `run -dry-run`: it writes one readable block
// per alert to W instead of posting to Discord. The zero value is not
// usable; set W. It is safe for concurrent use.
type Printer struct {
	W io.Writer

	mu sync.Mutex // one block at a time, never interleaved
}

// Post prints the delivery's alert and returns a synthetic message id,
// "dry-run-<delivery id>".
func (p *Printer) Post(ctx context.Context, d model.Delivery) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	block := FormatAlert(d.Alert)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.W, block); err != nil {
		return "", fmt.Errorf("outbox: print alert %d: %w", d.Alert.ID, err)
	}
	return "dry-run-" + strconv.FormatInt(d.ID, 10), nil
}

// FormatAlert renders an alert as a plain-text block ending in a blank
// line: title, who met whom and how, link, feed, time, rule and alert id.
func FormatAlert(a model.Alert) string {
	var b strings.Builder
	art := a.Article
	title := plaintext.OneLine(art.Title)
	if title == "" {
		title = "(untitled)"
	}
	fmt.Fprintf(&b, "== %s\n", title)
	line := func(label, value string) {
		if value = plaintext.OneLine(value); value != "" {
			fmt.Fprintf(&b, "   %-10s %s\n", label+":", value)
		}
	}
	if len(a.Matches) > 0 {
		m := a.Matches[0]
		line("Who", m.Who())
		line("Contact", m.How())
		if len(m.Actors) == 0 {
			line("Keywords", strings.Join(m.Keywords, ", "))
		}
		line("Evidence", m.Evidence)
	}
	line("Link", art.Link)
	line("Feed", art.Feed)
	if !art.Published.IsZero() {
		line("Published", art.Published.UTC().Format(time.RFC3339))
	} else {
		line("Published", "(no date)")
	}
	fmt.Fprintf(&b, "   %-10s %s\n", "Rule:", plaintext.OneLine(a.Rule()))
	fmt.Fprintf(&b, "   %-10s %d\n", "Alert:", a.ID)
	b.WriteString("\n")
	return b.String()
}
