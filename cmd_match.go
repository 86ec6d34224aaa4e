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
}

type matchError struct {
	ID    *string `json:"id"`
	Error string  `json:"error"`
}

// cmdMatch reads articles as JSON Lines and writes one verdict per line, in
// order. It touches neither the network nor the database.
func cmdMatch(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, env config.Env) error {
	fs, path := newFlags("match", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, env)
	if err != nil {
		return err
	}
	return matchStream(ctx, cfg.Defaults, stdin, stdout)
}

func matchStream(ctx context.Context, set *rules.Set, stdin io.Reader, stdout io.Writer) error {
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
			v = matchLine(set, line)
		}
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write stdout: %w", err)
		}
	}
	return out.Flush()
}

func matchLine(set *rules.Set, line []byte) any {
	var in matchInput
	if err := json.Unmarshal(line, &in); err != nil {
		return matchError{Error: "invalid JSON: " + err.Error()}
	}
	switch {
	case in.ID == nil:
		return matchError{Error: `missing required field "id"`}
	case in.Title == nil:
		// INTERFACE.md: a malformed line has "id": null; the error names the id.
		b, _ := json.Marshal(*in.ID)
		return matchError{Error: `missing required field "title" in the line with id ` + string(b)}
	}
	a := model.Article{GUID: *in.ID, Title: *in.Title, Summary: in.Summary, Content: in.Content, Link: in.Link, Feed: in.Feed}
	if in.Published != "" {
		if t, err := time.Parse(time.RFC3339, in.Published); err == nil {
			a.Published = t
		}
	}
	out := matchOutput{ID: in.ID, Alerts: []matchAlert{}}
	for _, m := range set.Match(a) {
		out.Alerts = append(out.Alerts, toMatchAlert(m))
	}
	out.Matched = len(out.Alerts) > 0
	return out
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
