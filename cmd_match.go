package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
	"github.com/backchannel/backchannel/stories"
)

// maxMatchLine bounds one input line of `match`; a longer line is reported
// as an error and skipped, and processing continues.
const maxMatchLine = 8 << 20

type matchInput struct {
	ID        *string `json:"id"`
	Title     *string `json:"title"`
	Summary   string  `json:"summary"`
	Content   string  `json:"content"`
	Link      string  `json:"link"`
	Published string  `json:"published"`
	Feed      string  `json:"feed"`
}

type matchAlert struct {
	Rule     string   `json:"rule"`
	Actors   []string `json:"actors"`
	Contact  string   `json:"contact"`
	Evidence string   `json:"evidence"`
}

type matchOutput struct {
	ID      *string      `json:"id"`
	Matched bool         `json:"matched"`
	Alerts  []matchAlert `json:"alerts"`
	// With -stories, on matched lines: the story (one contact event) the
	// line reports, and why it joined that story or began it.
	Story       string `json:"story,omitempty"`
	StoryReason string `json:"story_reason,omitempty"`
}

type matchError struct {
	ID    *string `json:"id"`
	Error string  `json:"error"`
}

// cmdMatch reads articles as JSON Lines and writes one verdict per line, in
// order. It touches neither the network nor the database. With -stories
// the lines are a news stream in publication order and each matched line
// is put in a story by the same grouping the bot uses, over an in-memory
// index.
func cmdMatch(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, env config.Env) error {
	fs, path := newFlags("match", stdout)
	withStories := fs.Bool("stories", false, "read the lines as a stream in publication order and give each matched line its story id")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, env)
	if err != nil {
		return err
	}
	set := cfg.Defaults
	m := &matcher{set: set}
	if *withStories {
		lex, err := stories.NewLexicon(set.Spec())
		if err != nil {
			return err
		}
		m.stories = stories.NewGrouper(lex, stories.NewMemIndex())
		m.refs = map[string]int{}
	}
	return m.stream(ctx, stdin, stdout)
}

// matcher answers `match` line by line; with stories it also remembers the
// stream: the stories so far, the ids used, the last publication time.
type matcher struct {
	set     *rules.Set
	stories *stories.Grouper // nil without -stories
	refs    map[string]int   // line ids seen, so a repeated id still names one report
	clock   time.Time        // the latest publication time read, for lines without one
}

func (m *matcher) stream(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(in, maxMatchLine)
		if errors.Is(err, io.EOF) && line == nil {
			break
		}
		var v any
		switch {
		case errors.Is(err, errLineTooLong):
			v = matchError{Error: err.Error()}
		case err != nil && !errors.Is(err, io.EOF):
			return fmt.Errorf("read stdin: %w", err)
		default:
			if strings.TrimSpace(string(line)) == "" {
				continue
			}
			if v, err = m.line(ctx, line); err != nil {
				return err
			}
		}
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write stdout: %w", err)
		}
	}
	return out.Flush()
}

func (m *matcher) line(ctx context.Context, line []byte) (any, error) {
	var in matchInput
	if err := json.Unmarshal(line, &in); err != nil {
		return matchError{Error: "invalid JSON: " + err.Error()}, nil
	}
	switch {
	case in.ID == nil:
		return matchError{Error: `missing required field "id"`}, nil
	case in.Title == nil:
		// docs/CONTRACT.md: a malformed line has "id": null; the error names the id.
		b, _ := json.Marshal(*in.ID)
		return matchError{Error: `missing required field "title" in the line with id ` + string(b)}, nil
	}
	a := model.Article{GUID: *in.ID, Title: *in.Title, Summary: in.Summary, Content: in.Content, Link: in.Link, Feed: in.Feed}
	if in.Published != "" {
		if t, err := time.Parse(time.RFC3339, in.Published); err == nil {
			a.Published = t
		}
	}
	out := matchOutput{ID: in.ID, Alerts: []matchAlert{}}
	ms := m.set.Match(a)
	for _, mt := range ms {
		out.Alerts = append(out.Alerts, toMatchAlert(mt))
	}
	out.Matched = len(out.Alerts) > 0
	if m.stories != nil && out.Matched {
		d, err := m.story(ctx, a, ms)
		if err != nil {
			return nil, err
		}
		out.Story, out.StoryReason = d.Story.ID, d.Reason
	}
	return out, nil
}

// story puts a matched line in its story. A line without a publication
// time is taken to be as recent as the latest line before it (the stream
// is in publication order); a repeated id gets a suffix, so it is still a
// report of its own.
func (m *matcher) story(ctx context.Context, a model.Article, ms []model.Match) (stories.Decision, error) {
	if a.Published.IsZero() {
		a.Fetched = m.clock
	} else if a.Published.After(m.clock) {
		m.clock = a.Published
	}
	ref := a.GUID
	if n := m.refs[a.GUID]; n > 0 {
		ref = fmt.Sprintf("%s~%d", a.GUID, n+1)
	}
	m.refs[a.GUID]++
	return m.stories.Assign(ctx, stories.Report{Ref: ref, Article: a, Matches: ms})
}

func toMatchAlert(m model.Match) matchAlert {
	actors := make([]string, 0, len(m.Actors))
	for _, a := range m.Actors {
		actors = append(actors, a.ID)
	}
	contact := m.How()
	if contact == "" && len(m.Keywords) > 0 {
		contact = "keywords: " + strings.Join(m.Keywords, ", ")
	}
	return matchAlert{Rule: m.Rule, Actors: actors, Contact: contact, Evidence: m.Evidence}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline. A line longer than
// max is consumed to its end and reported as errLineTooLong, so one huge
// line costs nothing for the lines after it.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && (len(buf) > 0 || tooLong):
			// Last line without a newline: return it now, EOF next call.
			if tooLong {
				return []byte{}, fmt.Errorf("%w (over %d bytes)", errLineTooLong, max)
			}
			return buf, nil
		case err != nil:
			return nil, err
		}
		if tooLong {
			return []byte{}, fmt.Errorf("%w (over %d bytes)", errLineTooLong, max)
		}
		return trimNewline(buf), nil
	}
}

func trimNewline(b []byte) []byte {
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
