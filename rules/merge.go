package rules

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/backchannel/backchannel/model"
)

// Merge returns s with the changes of over applied (see Overlay):
//   - an actor replaces the actor of s with its id, a rule the rule of s
//     with its name; new ones are added after those of s, in order; with
//     remove = true the actor or rule of s is dropped instead;
//   - numbers and booleans over sets replace those of s;
//   - word lists are added to those of s: order kept, words s already has
//     (or over already gave) left out;
//   - over.Defaults = false ignores s: over alone is the result.
//
// s is not changed, and the result shares no backing array it could grow
// into. The KeyMap turns the key of a problem Compile finds in the result
// into the key the overlay wrote it under. The error, when not nil, is a
// SpecErrors keyed by the overlay: an actor or rule to remove that s does
// not have, one given twice, remove = true with other keys. The Spec
// returned with it leaves those entries out, so it can still be compiled
// for the rest of its problems.
func (s Spec) Merge(over Overlay) (Spec, KeyMap, error) {
	base := s
	if over.Defaults != nil && !*over.Defaults {
		base = Spec{}
	}
	m := &merger{keys: KeyMap{m: map[string]string{}}}
	h, c := base.Heads, base.Contact
	out := Spec{
		Countries:    m.unionMap("rules.countries", base.Countries, over.Countries),
		Groups:       m.union("rules.groups", base.Groups, over.Groups),
		Counterparts: m.union("rules.counterparts", base.Counterparts, over.Counterparts),
		Blocks:       m.union("rules.blocks", base.Blocks, over.Blocks),
		Heads: HeadSpec{
			Words:  m.union("rules.heads.words", h.Words, over.Heads.Words),
			Plural: m.union("rules.heads.plural", h.Plural, over.Heads.Plural),
			Links:  m.union("rules.heads.links", h.Links, over.Heads.Links),
			Void:   m.union("rules.heads.void", h.Void, over.Heads.Void),
			Span:   set(h.Span, over.Heads.Span),
		},
		Contact: ContactSpec{
			Window:         set(c.Window, over.Contact.Window),
			Terms:          m.unionMap("rules.contact.terms", c.Terms, over.Contact.Terms),
			Negative:       m.union("rules.contact.negative", c.Negative, over.Contact.Negative),
			NegativeBefore: set(c.NegativeBefore, over.Contact.NegativeBefore),
			NegativeAfter:  set(c.NegativeAfter, over.Contact.NegativeAfter),
			Denial:         m.union("rules.contact.denial", c.Denial, over.Contact.Denial),
			DenialReach:    set(c.DenialReach, over.Contact.DenialReach),
			Background:     m.union("rules.contact.background", c.Background, over.Contact.Background),
			PastYears:      set(c.PastYears, over.Contact.PastYears),
			Veto:           m.union("rules.contact.veto", c.Veto, over.Contact.Veto),
		},
	}
	actors := make([]entry[ActorSpec], len(over.Actors))
	for i, a := range over.Actors {
		actors[i] = entry[ActorSpec]{a.ID, a.ActorSpec, a.Remove, reflect.DeepEqual(a.ActorSpec, ActorSpec{ID: a.ID})}
	}
	out.Actors = mergeEntries(m, "actor", "id", base.Actors, actors, func(a ActorSpec) string { return a.ID })
	ruleEntries := make([]entry[model.RuleSpec], len(over.Rules))
	for i, r := range over.Rules {
		ruleEntries[i] = entry[model.RuleSpec]{r.Name, r.RuleSpec, r.Remove, reflect.DeepEqual(r.RuleSpec, model.RuleSpec{Name: r.Name})}
	}
	out.Rules = mergeEntries(m, "rule", "name", base.Rules, ruleEntries, func(r model.RuleSpec) string { return r.Name })
	return out, m.keys, m.err()
}

// KeyMap maps the keys of a merged Spec back to where they were written:
// an entry added by the overlay to the overlay's key ("rules.actor[150]"
// to "rules.actor[2]", "rules.groups[57]" to "rules.groups[0]"), and an
// actor or rule kept from the base to its id or name ("rules.actor[3]" to
// `rules.actor["ru-svr"]`), since the overlay has no entry for it and its
// position there would name another.
type KeyMap struct {
	m map[string]string // key prefix in the merged Spec -> in the overlay
}

// Source returns the overlay key of a key of the merged Spec, such as
// "rules.actor[150].holders[0].name"; a key that moved nowhere (a scalar,
// a country code) comes back as it is.
func (k KeyMap) Source(key string) string {
	for p := key; p != ""; {
		if src, ok := k.m[p]; ok {
			return src + key[len(p):]
		}
		cut := strings.LastIndexAny(p, ".[")
		if cut < 0 {
			break
		}
		p = p[:cut]
	}
	return key
}

type merger struct {
	problems
	keys KeyMap
}

// union returns base followed by the words of add it does not hold yet.
// The words of base are left as they are, duplicates included: the merge
// of an empty overlay is the base itself.
func (m *merger) union(key string, base, add []string) []string {
	if len(add) == 0 {
		return base
	}
	have := make(map[string]bool, len(base)+len(add))
	for _, w := range base {
		have[w] = true
	}
	out := slices.Clip(base) // appending copies: base never sees the words
	for i, w := range add {
		if have[w] {
			continue
		}
		have[w] = true
		m.keys.m[fmt.Sprintf("%s[%d]", key, len(out))] = fmt.Sprintf("%s[%d]", key, i)
		out = append(out, w)
	}
	return out
}

// unionMap is union for each list of a map, whose keys (country codes,
// contact kinds) are the same in base, overlay and result.
func (m *merger) unionMap(key string, base, add map[string][]string) map[string][]string {
	out := maps.Clone(base)
	if out == nil && len(add) > 0 {
		out = make(map[string][]string, len(add))
	}
	for k, list := range add {
		out[k] = m.union(key+"."+k, out[k], list)
	}
	return out
}

// set returns over when the overlay sets it, else base.
func set[T any](base T, over *T) T {
	if over != nil {
		return *over
	}
	return base
}

// entry is an actor or rule of an overlay, reduced to what merging needs.
type entry[T any] struct {
	id     string
	spec   T
	remove bool
	idOnly bool // nothing but the id is set
}

// mergeEntries merges the actors or rules of an overlay (table "actor" or
// "rule", identified by idKey) into those of the base.
func mergeEntries[T any](m *merger, table, idKey string, base []T, over []entry[T], id func(T) string) []T {
	out := slices.Clone(base)
	from := make([]int, len(out)) // overlay index of each entry of out; -1: the base's
	for i := range from {
		from[i] = -1
	}
	given := map[string]int{}
	for i, e := range over {
		key := fmt.Sprintf("rules.%s[%d]", table, i)
		if e.id != "" {
			if j, dup := given[e.id]; dup {
				m.add(key+"."+idKey, "%s %q given twice (also rules.%s[%d])", idKey, e.id, table, j)
				continue
			}
			given[e.id] = i
		}
		at := -1
		if e.id != "" {
			at = slices.IndexFunc(out, func(t T) bool { return id(t) == e.id })
		}
		switch {
		case e.remove && !e.idOnly:
			m.add(key+".remove", "remove = true takes only the %s: drop the other keys (or drop remove, to replace the %s)", idKey, table)
		case e.remove && e.id == "":
			m.add(key+"."+idKey, "remove = true needs the %s of the %s to remove", idKey, table)
		case e.remove && at < 0:
			m.add(key+"."+idKey, "no default %s with %s %q to remove", table, idKey, e.id)
		case e.remove:
			out = slices.Delete(out, at, at+1)
			from = slices.Delete(from, at, at+1)
		case at >= 0:
			out[at], from[at] = e.spec, i
		default:
			out = append(out, e.spec)
			from = append(from, i)
		}
	}
	for k, i := range from {
		merged := fmt.Sprintf("rules.%s[%d]", table, k)
		if i >= 0 {
			m.keys.m[merged] = fmt.Sprintf("rules.%s[%d]", table, i)
		} else {
			m.keys.m[merged] = fmt.Sprintf("rules.%s[%q]", table, id(out[k]))
		}
	}
	return out
}
