package config

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// lineIndex maps key paths such as "poll.timeout" or "feeds[1].url" to the
// line where the file writes them, so validation problems found after
// decoding can still point at a line.
type lineIndex map[string]int

func keyLines(data []byte) lineIndex {
	idx := lineIndex{}
	counts := map[string]int{} // array-of-tables occurrences so far
	prefix := ""
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		path, line := keyPath(&p, e)
		switch e.Kind {
		case unstable.Table:
			prefix = path
			idx.add(prefix, line)
		case unstable.ArrayTable:
			n := counts[path]
			counts[path] = n + 1
			prefix = fmt.Sprintf("%s[%d]", path, n)
			idx.add(prefix, line)
		case unstable.KeyValue:
			full := path
			if prefix != "" {
				full = prefix + "." + path
			}
			idx.add(full, line)
		}
	}
	// A parse error is reported by the decoder with its position; the index
	// just stops where the parser did.
	return idx
}

func keyPath(p *unstable.Parser, e *unstable.Node) (string, int) {
	var parts []string
	line := 0
	it := e.Key()
	for it.Next() {
		n := it.Node()
		parts = append(parts, string(n.Data))
		if line == 0 {
			line = p.Shape(n.Raw).Start.Line
		}
	}
	return strings.Join(parts, "."), line
}

func (idx lineIndex) add(key string, line int) {
	if _, ok := idx[key]; !ok {
		idx[key] = line
	}
}

// find returns the line of key, or of its nearest written ancestor
// ("rules.rule[2].keywords[0]" falls back to "rules.rule[2].keywords").
func (idx lineIndex) find(key string) int {
	for key != "" {
		if l, ok := idx[key]; ok {
			return l
		}
		cut := strings.LastIndexAny(key, ".[")
		if cut < 0 {
			return 0
		}
		key = key[:cut]
	}
	return 0
}
