package stories

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/backchannel/backchannel/rules"
)

// Lexicon is what the grouper reads in a report beyond the matcher's
// verdict: the rules' own vocabulary (country words, group words, office
// holders with their terms, contact terms by kind) and this package's date
// and repeat cues. It is immutable once built and safe for concurrent use.
type Lexicon struct {
	countries  *patSet // val: index in codes, or len(codes) + index in compounds
	codes      []string
	compounds  [][]string // the countries of compoundWords
	groups     *patSet    // val: groupMany, groupPair, or groupNamed + index in gatherings
	gatherings []string
	titles     *patSet // office titles ("foreign minister", "spy chiefs")
	holders    *patSet // val: index in people
	people     []person
	contacts   *patSet // val: index in kinds
	kinds      []string

	weekdays, months, monthsShort, relative, again, another, future, sidelines, remote, say, apart, leaders *patSet

	// numMonth, numDay, numYear: the folded marks of numeric dates
	// ("9月9日", "9월 9일", "2025年").
	numMonth, numDay, numYear map[string]bool

	roles    map[string]bool   // role actor ids, whose country comes from the text; true: the role defers its kind
	specific map[string]bool   // actor ids of one country's office
	offices  map[string]string // actor id → office, for reasons
}

// person is an office holder.
type person struct {
	actor, country, kind, name string
	from, until                time.Time // zero: open; until is exclusive
}

func (p person) covers(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	return (p.from.IsZero() || !t.Before(p.from)) && (p.until.IsZero() || t.Before(p.until))
}

// NewLexicon builds a lexicon from the rules' vocabulary. It reads only the
// words of spec, not its rules, so every guild's rule set shares one.
func NewLexicon(spec rules.Spec) (*Lexicon, error) {
	lx := &Lexicon{
		countries: newPatSet(), groups: newPatSet(), titles: newPatSet(), holders: newPatSet(), contacts: newPatSet(),
		weekdays: newPatSet(), months: newPatSet(), monthsShort: newPatSet(), relative: newPatSet(),
		again: newPatSet(), another: newPatSet(), future: newPatSet(), sidelines: newPatSet(), remote: newPatSet(), say: newPatSet(), apart: newPatSet(), leaders: newPatSet(),
		roles: map[string]bool{}, specific: map[string]bool{}, offices: map[string]string{},
		numMonth: foldedSet("月", "월"), numDay: foldedSet("日", "号", "일"), numYear: foldedSet("年", "년"),
	}
	for _, cc := range sortedKeys(spec.Countries) {
		id := int32(len(lx.codes))
		lx.codes = append(lx.codes, cc)
		for _, w := range spec.Countries[cc] {
			lx.countries.addClitics(w, id)
		}
	}
	known := map[string]bool{}
	for _, w := range pairWords {
		lx.groups.add(w, groupPair)
		known[rules.Fold(w)] = true
	}
	for _, w := range sortedKeys(compoundWords) {
		// "한중": Korea and China, named together; the number of
		// countries, not the word, makes it a gathering.
		id := int32(len(lx.codes) + len(lx.compounds))
		lx.compounds = append(lx.compounds, compoundWords[w])
		lx.countries.add(w, id)
		lx.groups.add(w, groupPair)
		known[rules.Fold(w)] = true
	}
	for _, name := range sortedKeys(gatheringWords) {
		id := groupNamed + int32(len(lx.gatherings))
		lx.gatherings = append(lx.gatherings, name)
		for _, w := range gatheringWords[name] {
			lx.groups.add(w, id)
			known[rules.Fold(w)] = true
		}
	}
	for _, w := range spec.Groups {
		if !known[rules.Fold(w)] {
			lx.groups.add(w, groupMany)
		}
	}
	for _, a := range spec.Actors {
		lx.offices[a.ID] = a.Office
		for _, w := range append(slices.Clone(a.Titles), a.Plurals...) {
			lx.titles.add(w, 0)
		}
		if a.Country == "" {
			lx.roles[a.ID] = a.Defer
			continue
		}
		lx.specific[a.ID] = true
		for _, h := range a.Holders {
			p := person{actor: a.ID, country: a.Country, kind: a.Kind, name: h.Name}
			var err error
			if p.from, _, err = termBounds(h.From); err != nil {
				return nil, fmt.Errorf("stories: actor %s holder %q: from: %w", a.ID, h.Name, err)
			}
			if _, p.until, err = termBounds(h.Until); err != nil {
				return nil, fmt.Errorf("stories: actor %s holder %q: until: %w", a.ID, h.Name, err)
			}
			id := int32(len(lx.people))
			lx.people = append(lx.people, p)
			lx.holders.addClitics(h.Name, id)
			for _, al := range h.Aliases {
				lx.holders.addClitics(al, id)
			}
		}
	}
	for _, k := range sortedKeys(spec.Contact.Terms) {
		id := int32(len(lx.kinds))
		lx.kinds = append(lx.kinds, k)
		for _, w := range spec.Contact.Terms[k] {
			lx.contacts.add(w, id)
		}
	}
	for _, w := range summitWords {
		lx.contacts.add(w, notContact)
	}
	for _, w := range leaderWords {
		lx.leaders.add(w, 0)
	}
	for d, ws := range weekdayWords {
		for _, w := range ws {
			lx.weekdays.add(w, int32(d))
		}
	}
	for m := range monthWords {
		for _, w := range monthWords[m] {
			lx.months.add(w, int32(m+1))
		}
		for _, w := range monthShort[m] {
			lx.monthsShort.add(w, int32(m+1))
		}
	}
	for _, k := range sortedKeys(relativeWords) {
		for _, w := range relativeWords[k] {
			lx.relative.add(w, k)
		}
	}
	for _, w := range againWords {
		lx.again.add(w, 0)
	}
	for _, w := range anotherWords {
		lx.another.add(w, 0)
	}
	for _, w := range notAnother {
		lx.another.add(w, -1)
	}
	for _, w := range futureWords {
		lx.future.add(w, 0)
	}
	for _, w := range sidelinesWords {
		lx.sidelines.add(w, 0)
	}
	for _, w := range remoteWords {
		lx.remote.add(w, 1)
	}
	for _, w := range notRemote {
		lx.remote.add(w, 0)
	}
	for _, w := range sayWords {
		lx.say.add(w, 0)
	}
	for _, w := range sayLastWords {
		lx.say.add(w, sayLast)
	}
	for _, w := range apartWords {
		lx.apart.add(w, 0)
	}
	return lx, nil
}

func foldedSet(words ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		m[rules.Fold(w)] = true
	}
	return m
}

// termBounds reads a holder's term bound ("2021", "2021-03", "2025-01-20")
// and returns the first instant it covers and the first one after it.
func termBounds(s string) (from, until time.Time, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, time.Time{}, nil
	}
	for _, l := range []struct {
		layout string
		years  int
		months int
		days   int
	}{{"2006-01-02", 0, 0, 1}, {"2006-01", 0, 1, 0}, {"2006", 1, 0, 0}} {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, t.AddDate(l.years, l.months, l.days), nil
		}
	}
	return time.Time{}, time.Time{}, fmt.Errorf("%q is not YYYY, YYYY-MM or YYYY-MM-DD", s)
}

// office names an actor id for people: "CIA Director", or the id itself.
func (lx *Lexicon) office(id string) string {
	if o, ok := lx.offices[id]; ok && o != "" {
		return o
	}
	if role, ok := strings.CutPrefix(id, "multi-"); ok && lx.offices[role] != "" {
		return lx.offices[role] + "s" // "foreign ministers"
	}
	return id
}

// counterpart reports whether id is a counterpart office ("counterparts",
// "homologues"), of no country or of one.
func (lx *Lexicon) counterpart(id string) bool {
	return id == "counterpart" || strings.HasSuffix(id, "-counterpart")
}

// generic reports whether an actor id names an office by its role rather
// than by its agency ("eg-intel" for "Egypt's intelligence chief", or a
// counterpart): it may stand for any office of its kind in its country.
func (lx *Lexicon) generic(id, country string) bool {
	if lx.counterpart(id) {
		return true
	}
	if country == "" || lx.specific[id] {
		// "ru-defence" is the Russian defence minister, even though
		// "defence" is also a role whose Russian form has that id.
		return false
	}
	prefix := strings.ToLower(country) + "-"
	if !strings.HasPrefix(id, prefix) {
		return false
	}
	_, role := lx.roles[strings.TrimPrefix(id, prefix)]
	return role
}

// roleOffice is the office a role stands for in country cc: "in-fm" for
// the foreign ministers of "India, China foreign ministers meet", the
// configured office when there is one, else the role in that country
// (generic). A role that takes its kind from the office named next to it
// ("security chief": a spy chief or a security council's secretary) has
// no kind of its own here.
func (lx *Lexicon) roleOffice(cc, role, kind string) Office {
	id := strings.ToLower(cc) + "-" + role
	if lx.roles[role] {
		kind = ""
	}
	return Office{Country: cc, ID: id, Kind: kind, Generic: lx.generic(id, cc)}
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
