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
// per story to W instead of posting to Discord, and for each later report
// of a story a short block naming the alert it joins. The zero value is
// not usable; set W. It is safe for concurrent use.
type Printer struct {
	W io.Writer

	mu    sync.Mutex     // one block at a time, never interleaved
	shown map[string]int // message id → sources printed so far
}

// Post prints the delivery's alert and returns a synthetic message id,
// "dry-run-<delivery id>".
func (p *Printer) Post(ctx context.Context, d model.Delivery) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	block := FormatAlert(d.Alert)
	id := "dry-run-" + strconv.FormatInt(d.ID, 10)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.W, block); err != nil {
		return "", fmt.Errorf("outbox: print alert %d: %w", d.Alert.ID, err)
	}
	p.setShown(id, max(len(d.Alert.Sources), 1))
	return id, nil
}

// Edit prints the reports the story gained since its block (or the last
// edit) was printed, each as a short block naming the alert it joins. A
// printer that did not print the story (the dry run restarted) prints the
// latest report.
func (p *Printer) Edit(ctx context.Context, d model.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	srcs := d.Alert.Sources
	shown, ok := p.shown[d.MessageID]
	if !ok || shown >= len(srcs) {
		shown = max(len(srcs)-1, 0)
	}
	var b strings.Builder
	for _, s := range srcs[shown:] {
		b.WriteString(FormatJoin(d.Alert, s))
	}
	if _, err := io.WriteString(p.W, b.String()); err != nil {
		return fmt.Errorf("outbox: print a report of alert %d: %w", d.Alert.ID, err)
	}
	p.setShown(d.MessageID, len(srcs))
	return nil
}

func (p *Printer) setShown(id string, n int) {
	if p.shown == nil {
		p.shown = map[string]int{}
	}
	p.shown[id] = n
}

// FormatJoin renders a later report of a's story as a short block: its
// title, the alert it joins, its feed and link, and the story's sources.
func FormatJoin(a model.Alert, s model.Source) string {
	var b strings.Builder
	title := plaintext.OneLine(s.Title)
	if title == "" {
		title = "(untitled)"
	}
	fmt.Fprintf(&b, "++ %s\n", title)
	fmt.Fprintf(&b, "   %-10s alert %d (%s)\n", "Joins:", a.ID, plaintext.Truncate(plaintext.OneLine(a.Article.Title), 80))
	line(&b, "Link", s.Link)
	line(&b, "Feed", s.Feed)
	fmt.Fprintf(&b, "   %-10s %s\n", "Sources:", sourceCount(len(a.Sources)))
	b.WriteString("\n")
	return b.String()
}

func sourceCount(n int) string {
	if n == 1 {
		return "1 source"
	}
	return strconv.Itoa(n) + " sources"
}

// line writes a labelled line of the block, unless value is blank.
func line(b *strings.Builder, label, value string) {
	if value = plaintext.OneLine(value); value != "" {
		fmt.Fprintf(b, "   %-10s %s\n", label+":", value)
	}
}

// FormatAlert renders an alert as a plain-text block ending in a blank
// line: title, who met whom and how, link, feed, time, the story's
// sources when it has more than one, rule and alert id.
func FormatAlert(a model.Alert) string {
	var b strings.Builder
	art := a.Article
	title := plaintext.OneLine(art.Title)
	if title == "" {
		title = "(untitled)"
	}
	fmt.Fprintf(&b, "== %s\n", title)
	if len(a.Matches) > 0 {
		m := a.Matches[0]
		line(&b, "Who", m.Who())
		line(&b, "Contact", m.How())
		if len(m.Actors) == 0 {
			line(&b, "Keywords", strings.Join(m.Keywords, ", "))
		}
		line(&b, "Evidence", m.Evidence)
	}
	line(&b, "Link", art.Link)
	line(&b, "Feed", art.Feed)
	if !art.Published.IsZero() {
		line(&b, "Published", art.Published.UTC().Format(time.RFC3339))
	} else {
		line(&b, "Published", "(no date)")
	}
	if len(a.Sources) > 1 {
		// Posted once min_sources feeds reported it.
		feeds := make([]string, len(a.Sources))
		for i, s := range a.Sources {
			feeds[i] = plaintext.OneLine(s.Feed)
		}
		line(&b, "Sources", sourceCount(len(a.Sources))+": "+strings.Join(feeds, ", "))
	}
	fmt.Fprintf(&b, "   %-10s %s\n", "Rule:", plaintext.OneLine(a.Rule()))
	fmt.Fprintf(&b, "   %-10s %d\n", "Alert:", a.ID)
	b.WriteString("\n")
	return b.String()
}
