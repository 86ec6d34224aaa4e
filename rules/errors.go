package rules

import (
	"fmt"
	"strings"
)

// SpecError is one problem in a Spec, with the key path of the value at
// fault below the configuration root, e.g. "rules.rule[2].keywords[0]".
type SpecError struct {
	Key string
	Msg string
}

func (e SpecError) Error() string { return e.Key + ": " + e.Msg }

// SpecErrors is every problem Compile found, in key order of the Spec. As
// an error it reads as one line per problem; callers that list problems
// get them with errors.As.
type SpecErrors []SpecError

func (es SpecErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// problems collects SpecErrors during validation.
type problems struct{ list SpecErrors }

func (p *problems) add(key, format string, args ...any) {
	p.list = append(p.list, SpecError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list
}
