package rules

import (
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/backchannel/backchannel/model"
)

// Set is a compiled rule set. It is immutable after Compile, so one Set is
// shared by every goroutine and guild that uses it; an edit compiles a new
// Set and the caller swaps the pointer.
type Set struct {
	spec Spec

	// One automaton holds every alias, head word, cue and contact term, so
	// scanning an item costs one pass whatever the number of aliases.
	ac       *automaton  // nil when the spec has no aliases
	payloads [][]payload // by pattern index

	countries []string // codes, sorted; a country's number is its index
	actors    []actor
	actorIDs  map[string]int  // configured id → index
	links     map[string]bool // folded link words (rules.heads.links)
	maxLink   int             // bytes of the longest link word
	rules     []rule

	window, negBefore, negAfter, headSpan int
	denialReach                           int
	pastYears                             bool

	scratch sync.Pool // *scratch, per-call working memory
}

// actor is an ActorSpec ready for matching.
type actor struct {
	id, office string
	country    int32 // index in Set.countries; noCountry for a role
	kind       uint8 // kindIntel or kindDiplomatic
	deferKind  bool  // a role that takes the kind of the named office of its country
	terms      []period
}

// period is a holder's term; a zero bound is open.
type period struct{ from, until time.Time }

func (p period) covers(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	return (p.from.IsZero() || !t.Before(p.from)) && (p.until.IsZero() || t.Before(p.until))
}

// rule is a RuleSpec ready for matching.
type rule struct {
	spec         model.RuleSpec
	keywords     []*regexp.Regexp
	exclude      []*regexp.Regexp
	actors       map[string]bool
	kinds        uint8 // allowed participant kinds
	require      uint8 // at least one participant of these kinds; 0: none
	contactKinds uint16
	window       int
	fields       uint8
}

const (
	kindIntel      uint8 = 1 << 0
	kindDiplomatic uint8 = 1 << 1
	kindAny              = kindIntel | kindDiplomatic
)

// Country numbers below zero are not countries.
const (
	noCountry      int32 = -1 // a role before its country is known
	unknownCountry int32 = -2 // a counterpart whose country is not named: foreign to anyone
	groupCountry   int32 = -3 // several countries at once
)

// Contact kinds, in the order of their bits.
var contactKinds = []string{"meeting", "call", "talks", "visit", "letter", "channel", "planned", "appearance"}

// Field names, in the order of their bits.
var fieldNames = []string{"title", "summary", "content"}

func kindName(k uint8) string {
	if k == kindIntel {
		return "intel"
	}
	return "diplomatic"
}

// Rules returns the set's rules in order.
func (s *Set) Rules() []model.RuleSpec {
	out := make([]model.RuleSpec, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.spec
	}
	return out
}

// Rule returns the rule called name.
func (s *Set) Rule(name string) (model.RuleSpec, bool) {
	for _, r := range s.rules {
		if r.spec.Name == name {
			return r.spec, true
		}
	}
	return model.RuleSpec{}, false
}

// Spec returns the Spec the set was compiled from, for WithOverrides. Its
// rule list is a copy; treat the rest as read-only.
func (s *Set) Spec() Spec {
	out := s.spec
	out.Rules = slices.Clone(s.spec.Rules)
	return out
}

// ActorIDs returns the configured actor ids, sorted. A role id (an actor
// without a country) also stands for its per-country forms ("eg-intel").
func (s *Set) ActorIDs() []string {
	ids := make([]string, 0, len(s.actors))
	for _, a := range s.actors {
		ids = append(ids, a.id)
	}
	slices.Sort(ids)
	return ids
}

// knownActor reports whether id names an actor of this set: a configured
// id, or "<country>-<role id>".
func (s *Set) knownActor(id string) bool {
	if _, ok := s.actorIDs[id]; ok {
		return true
	}
	for i, a := range s.actors {
		if a.country != noCountry {
			continue
		}
		for _, cc := range s.countries {
			if id == roleID(cc, s.actors[i].id) {
				return true
			}
		}
	}
	return false
}
