package stories

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Story is one contact event as known from the reports grouped in it so
// far. It is plain data (JSON-encodable) so a store can keep it between
// runs; the grouper rebuilds nothing from elsewhere.
type Story struct {
	// ID is the Ref of the story's first report.
	ID      string    `json:"id"`
	Reports int       `json:"reports"`
	First   time.Time `json:"first"` // publication of the earliest report
	Last    time.Time `json:"last"`  // publication of the latest report
	Parties []string  `json:"parties"`
	Offices []Office  `json:"offices,omitempty"`
	Holders []Holder  `json:"holders,omitempty"`
	// Remote and InPerson count the reports that call the contact a call
	// only, or a meeting (visit, appearance) only.
	Remote   int `json:"remote,omitempty"`
	InPerson int `json:"in_person,omitempty"`
	// Group and Bilateral count multilateral reports and reports of two
	// named offices of two countries.
	Group     int  `json:"group,omitempty"`
	Bilateral int  `json:"bilateral,omitempty"`
	Repeat    bool `json:"repeat,omitempty"` // some report called it a repeat
	// Gatherings are the named gatherings ("G7") of its multilateral
	// reports; optional, absent from stories stored before it existed.
	Gatherings []string `json:"gatherings,omitempty"`
	// When: the days every report allows, as far as they date it.
	When  []Span `json:"when"`
	Dated bool   `json:"dated,omitempty"`
}

// Keys are the index keys of a story: each unordered pair of its parties
// ("RU|US"), each party with "*" ("RU|*"), under which a report naming
// a single country ("his E3 counterparts") looks, its one party with "1"
// ("IR|1") while its reports name no other country, under which a report
// naming both sides looks, and each gathering it is ("G7|#"), under which
// the gathering's other reports look.
func (s Story) Keys() []string {
	keys := append(partyKeys(s.Parties, true), gatheringKeys(s.Gatherings)...)
	if len(s.Parties) == 1 {
		keys = append(keys, s.Parties[0]+"|1")
	}
	return keys
}

func gatheringKeys(names []string) []string {
	var keys []string
	for _, g := range names {
		keys = append(keys, g+"|#")
	}
	return keys
}

// lookupKeys are the keys a report looks under: its pairs, or its single
// party with "*"; the stories of one side of its pairs ("Iran's foreign
// minister met his counterpart"); and its gatherings.
//
// A multilateral report also looks under each of its countries alone: the
// reports of a gathering name different members ("G7 ministers, with
// Ukraine on the agenda", "les ministres du G7, Barrot").
func lookupKeys(f Features) []string {
	keys := append(partyKeys(f.Parties, len(f.Parties) == 1 || f.Group), gatheringKeys(f.Gatherings)...)
	if len(f.Parties) > 1 {
		for _, cc := range f.Parties {
			keys = append(keys, cc+"|1")
		}
	}
	return keys
}

func partyKeys(parties []string, single bool) []string {
	var keys []string
	for i, a := range parties {
		for _, b := range parties[i+1:] {
			keys = append(keys, a+"|"+b)
		}
		if single {
			keys = append(keys, a+"|*")
		}
	}
	return keys
}

// Mode is the story's mode when its reports that say one agree.
func (s Story) Mode() Mode {
	switch {
	case s.Remote > 0 && s.InPerson == 0:
		return ModeRemote
	case s.InPerson > 0 && s.Remote == 0:
		return ModeInPerson
	}
	return ModeUnknown
}

// newStory starts a story with its first report.
func newStory(f Features) Story {
	s := Story{ID: f.Ref, First: f.Published, Last: f.Published, When: slices.Clone(f.When)}
	s.add(f, false)
	return s
}

// add folds a report into the story.
func (s *Story) add(f Features, narrow bool) {
	s.Reports++
	if f.Published.Before(s.First) {
		s.First = f.Published
	}
	if f.Published.After(s.Last) {
		s.Last = f.Published
	}
	s.Parties = union(s.Parties, f.Parties, strings.Compare)
	s.Offices = union(s.Offices, f.Offices, compareOffice)
	s.Holders = union(s.Holders, f.Holders, compareHolder)
	switch f.Mode {
	case ModeRemote:
		s.Remote++
	case ModeInPerson:
		s.InPerson++
	}
	if f.Group {
		s.Group++
	}
	if f.Bilateral {
		s.Bilateral++
	}
	s.Repeat = s.Repeat || f.Repeat
	s.Gatherings = union(s.Gatherings, f.Gatherings, strings.Compare)
	if narrow {
		s.When = intersect(s.When, f.When)
	}
	s.Dated = s.Dated || f.Dated
}

func union[T any](a, b []T, cmp func(T, T) int) []T {
	out := slices.Clone(a)
	for _, x := range b {
		if i, found := slices.BinarySearchFunc(out, x, cmp); !found {
			out = slices.Insert(out, i, x)
		}
	}
	return out
}

// repeatGap: a report that calls its contact a repeat ("talk again") and
// comes this long after a story began, which no report called a repeat,
// is about a later contact.
const repeatGap = 12 * time.Hour

// conflict says why a report cannot be about the story's contact, or ""
// when it can. Each test stands for one way two contacts of the same
// countries differ: the day, the holders of an office, the offices, call
// against meeting, multilateral against bilateral, and a repeat.
func (lx *Lexicon) conflict(s Story, f Features) string {
	if !overlapsAny(s.When, f.When) {
		return fmt.Sprintf("%s was on %s, this on %s", s.ID, spansString(s.When), spansString(f.When))
	}
	if len(s.Gatherings) > 0 && len(f.Gatherings) > 0 && shared(s.Gatherings, f.Gatherings) == 0 {
		return fmt.Sprintf("%s is a meeting of %s, this of %s", s.ID, strings.Join(s.Gatherings, ", "), strings.Join(f.Gatherings, ", "))
	}
	if len(f.Parties) != 1 && len(s.Parties) != 1 && shared(s.Parties, f.Parties) < 2 && (!f.Group || s.Group == 0) {
		// Found under one country alone or a gathering's name: only two
		// reports of a gathering, or a story that names one side only,
		// may share no more than one country.
		return fmt.Sprintf("%s is a contact of %s, this of %s", s.ID, partiesString(s.Parties), partiesString(f.Parties))
	}
	if why := lx.holderConflict(s, f); why != "" {
		return why
	}
	if why := lx.officeConflict(s, f); why != "" {
		return why
	}
	if sm := s.Mode(); sm != ModeUnknown && f.Mode != ModeUnknown && sm != f.Mode {
		return fmt.Sprintf("%s is a %s, this a %s", s.ID, sm, f.Mode)
	}
	if f.Group && s.Group == 0 && s.Bilateral > 0 && !namedGathering(s) {
		// A gathering named as such ("G20 foreign ministers") or of four
		// countries or more is not the bilateral; three countries naming
		// the bilateral's two may be its host joining it ("US, Russian
		// and Saudi ministers open talks in Riyadh").
		if f.PluralGroup || len(f.Plural) >= 4 || !subset(s.Parties, f.Plural) {
			return fmt.Sprintf("%s is a bilateral contact, this a multilateral one", s.ID)
		}
	}
	if f.Bilateral && s.Bilateral == 0 && s.Group > 0 {
		// Two of the gathering's participants named on their own are
		// still the gathering, unless this report puts them on its
		// sidelines or the story has not named them.
		switch {
		case f.Sidelines:
			return fmt.Sprintf("%s is a multilateral contact, this a bilateral one on its sidelines", s.ID)
		case !namesAll(s.Offices, f.Parties) && shared(s.Parties, f.Named) == 0:
			// Unless the report itself names other members of the
			// gathering ("met Araghchi alongside his French and
			// British counterparts").
			return fmt.Sprintf("%s is a multilateral contact, this a bilateral one", s.ID)
		}
	}
	if f.Repeat && !s.Repeat && f.Published.Sub(s.First) > repeatGap {
		return fmt.Sprintf("this reports another contact, %s after %s began", roundGap(f.Published.Sub(s.First)), s.ID)
	}
	return ""
}

// holderConflict: both name a holder of one office and no name is shared
// (Burns against Ratcliffe as CIA Director).
func (lx *Lexicon) holderConflict(s Story, f Features) string {
	for _, h := range f.Holders {
		var theirs []string
		same := false
		for _, o := range s.Holders {
			if o.Office != h.Office {
				continue
			}
			theirs = append(theirs, o.Name)
			for _, g := range f.Holders {
				same = same || g.Office == h.Office && g.Name == o.Name
			}
		}
		if len(theirs) > 0 && !same {
			return fmt.Sprintf("%s names %s as %s, this %s", s.ID, strings.Join(theirs, ", "), lx.office(h.Office), h.Name)
		}
	}
	return ""
}

// officeConflict: in some country where both name offices, no office
// named here can be one named there: the foreign ministers' talks against
// the spy chiefs' call of the same two countries, or a minister's talks
// with one counterpart against his talks with another official of the
// same country on the same visit.
func (lx *Lexicon) officeConflict(s Story, f Features) string {
	var differ []string
	delegation := false
	for _, cc := range f.Parties {
		mine, theirs := officesOf(f.Offices, cc), officesOf(s.Offices, cc)
		switch {
		case len(mine) == 0 || len(theirs) == 0:
		case !officesAgree(mine, theirs):
			differ = append(differ, cc)
		case specific(mine) > 1 || specific(theirs) > 1:
			delegation = true
		}
	}
	if delegation {
		// Where one side came with several officials (foreign and
		// defence ministers and the spy chief), the other side's office
		// may be named by another member of the meeting.
		return ""
	}
	if mine, theirs := officesOf(f.Offices, ""), officesOf(s.Offices, ""); len(mine) > 0 && len(theirs) > 0 && !officesAgree(mine, theirs) {
		// Gatherings of different ministers ("Nordic foreign
		// ministers", "Baltic defence ministers").
		return fmt.Sprintf("%s is a meeting of %s, this of %s", s.ID, lx.officeList(theirs, []string{""}), lx.officeList(mine, []string{""}))
	}
	if len(differ) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is a contact of %s, this of %s", s.ID, lx.officeList(s.Offices, differ), lx.officeList(f.Offices, differ))
}

// namedGathering reports whether a story without a multilateral report
// is one all the same: a report named the offices of three countries or
// more ("Lammy, Barrot and Wadephul meet Araghchi").
func namedGathering(s Story) bool {
	return len(s.Parties) >= 3 && s.Bilateral < s.Reports
}

// specific counts the offices named by agency or title, not by role.
func specific(offices []Office) int {
	n := 0
	for _, o := range offices {
		if !o.Generic {
			n++
		}
	}
	return n
}

func partiesString(parties []string) string {
	if len(parties) == 0 {
		return "countries not named"
	}
	return strings.Join(parties, "–")
}

// shared counts the elements of b (sorted or not) in a (sorted).
func shared(a, b []string) int {
	n := 0
	for _, x := range b {
		if _, found := slices.BinarySearch(a, x); found {
			n++
		}
	}
	return n
}

// subset reports whether every element of a (sorted) is in b (sorted).
func subset(a, b []string) bool {
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			return false
		}
	}
	return true
}

// namesAll reports whether offices name an office of every country.
func namesAll(offices []Office, countries []string) bool {
	for _, cc := range countries {
		if len(officesOf(offices, cc)) == 0 {
			return false
		}
	}
	return true
}

// officesOf returns the offices of country cc: those named specifically
// when there are any, since "his Russian counterpart" next to Belousov is
// Belousov; else the roles and counterparts.
func officesOf(offices []Office, cc string) []Office {
	var specific, generic []Office
	for _, o := range offices {
		switch {
		case o.Country != cc:
		case o.Generic:
			generic = append(generic, o)
		default:
			specific = append(specific, o)
		}
	}
	if len(specific) > 0 {
		return specific
	}
	return generic
}

func officesAgree(a, b []Office) bool {
	for _, x := range a {
		for _, y := range b {
			if x.ID == y.ID {
				return true
			}
			counterpart := strings.HasSuffix(x.ID, "counterpart") || strings.HasSuffix(y.ID, "counterpart")
			if (x.Generic || y.Generic) && (counterpart || x.Kind == y.Kind || x.Kind == "" || y.Kind == "") {
				return true
			}
		}
	}
	return false
}

func (lx *Lexicon) officeList(offices []Office, countries []string) string {
	var names []string
	for _, o := range offices {
		if slices.Contains(countries, o.Country) && !o.Generic {
			names = append(names, lx.office(o.ID))
		}
	}
	names = slices.Compact(names)
	if len(names) == 0 {
		return "other offices"
	}
	return strings.Join(names, ", ")
}

// score ranks the stories a report may join: shared holders first, then
// shared countries, the same dated day, the same mode and the same shape.
func score(s Story, f Features) int {
	n := 0
	for _, h := range f.Holders {
		if _, found := slices.BinarySearchFunc(s.Holders, h, compareHolder); found {
			n += 4
		}
	}
	for _, cc := range f.Parties {
		if _, found := slices.BinarySearch(s.Parties, cc); found {
			n += 2
		}
	}
	if s.Dated && f.Dated && len(s.When) == 1 && s.When[0].Single() && slices.Equal(s.When, f.When) {
		n += 3
	}
	if m := s.Mode(); m != ModeUnknown && m == f.Mode {
		n++
	}
	if f.Bilateral && s.Bilateral > 0 && s.Group == 0 || f.Group && s.Group > 0 {
		n++ // the same shape: a bilateral, or a gathering
	}
	return n
}

func roundGap(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%dh", int(d.Hours()))
}
