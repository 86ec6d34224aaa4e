package rules

import (
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/backchannel/backchannel/model"
)

// Vocabulary is everything of a compiled Spec but its rules: countries,
// actors, head words, contact terms, cues, and the automaton of all their
// aliases. It is the costly part to build and to keep (megabytes, tens of
// milliseconds), and it is immutable, so every Set built on it shares it:
// a guild that changes a rule gets a Set of its own rules over the
// defaults' Vocabulary (Set.WithOverrides), not a new automaton. A
// Vocabulary comes from Set.Vocabulary; its zero value is not usable.
type Vocabulary struct {
	spec Spec // without its Rules, which belong to each Set

	// One automaton holds every alias, head word, cue and contact term, so
	// scanning an item costs one pass whatever the number of aliases.
	ac *automaton // nil when the spec has no aliases
	// pays[payAt[s]:payAt[s+1]] are the payloads of the patterns that
	// end at state s of ac, in pattern order: a walk reaching s reads
	// them in one place.
	pays  []payload
	payAt []int32
	// linkOnly has a bit for each state whose one payload is a link word
	// (most states a walk reports): its token is flagged without reading
	// the payloads.
	linkOnly []uint64

	countries []string // codes, sorted; a country's number is its index
	actors    []actor
	actorIDs  map[string]int // configured id → index

	window, negBefore, negAfter, headSpan int
	denialReach                           int
	pastYears                             bool

	scratch sync.Pool // *scratch, per-call working memory
}

// Set is a compiled rule set: a shared Vocabulary and the rules matched
// over it. It is immutable after Compile, so one Set is shared by every
// goroutine and guild that uses it; an edit builds a new Set and the
// caller swaps the pointer.
type Set struct {
	vocab *Vocabulary
	rules []rule
}

// actor is an ActorSpec ready for matching.
type actor struct {
	id, office string
	country    int32 // index in Vocabulary.countries; noCountry for a role
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

// Spec returns the Spec the set was compiled from. Its rule list is a
// copy; the rest is shared with every set of the same Vocabulary: treat
// it as read-only.
func (s *Set) Spec() Spec {
	out := s.vocab.spec
	if len(s.rules) > 0 {
		out.Rules = s.Rules()
	}
	return out
}

// Vocabulary returns the vocabulary the set's rules are matched over.
func (s *Set) Vocabulary() *Vocabulary { return s.vocab }

// ActorIDs returns the configured actor ids, sorted. A role id (an actor
// without a country) also stands for its per-country forms ("eg-intel").
func (s *Set) ActorIDs() []string { return s.vocab.ActorIDs() }

// ActorIDs returns the configured actor ids, sorted (see Set.ActorIDs).
func (v *Vocabulary) ActorIDs() []string {
	ids := make([]string, 0, len(v.actors))
	for _, a := range v.actors {
		ids = append(ids, a.id)
	}
	slices.Sort(ids)
	return ids
}

// knownActor reports whether id names an actor of the vocabulary: a
// configured id, or "<country>-<role id>".
func (v *Vocabulary) knownActor(id string) bool {
	if _, ok := v.actorIDs[id]; ok {
		return true
	}
	for i, a := range v.actors {
		if a.country != noCountry {
			continue
		}
		for _, cc := range v.countries {
			if id == roleID(cc, v.actors[i].id) {
				return true
			}
		}
	}
	return false
}
