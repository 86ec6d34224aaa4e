package stories

import (
	"slices"
	"strings"
	"time"

	"github.com/backchannel/backchannel/model"
)

// Report is one matched article as the grouper sees it.
type Report struct {
	// Ref identifies the report: an alert id in the bot, the line id in
	// `match -stories`. A story is named after the Ref of its first report.
	Ref     string
	Article model.Article
	// Matches are the rules that fired on the article (set.Match). One
	// article is one report, however many rules fired.
	Matches []model.Match
}

// Mode says how the participants were in contact, when the report says it
// plainly: only phone or video words (remote) or only meeting, visit or
// appearance words (in person). Anything else, "talks" alone or both kinds of words,
// is unknown and agrees with either.
type Mode uint8

const (
	ModeUnknown Mode = iota
	ModeRemote
	ModeInPerson
)

func (m Mode) String() string {
	switch m {
	case ModeRemote:
		return "call"
	case ModeInPerson:
		return "meeting"
	}
	return "contact"
}

// Office is one office taking part in a contact.
type Office struct {
	Country string `json:"country"`
	ID      string `json:"id"`
	Kind    string `json:"kind,omitempty"`
	// Generic: named by its role ("Egypt's intelligence chief") or as a
	// counterpart, so it may be any office of its kind in its country.
	Generic bool `json:"generic,omitempty"`
}

// Holder is a person named as the holder of an office.
type Holder struct {
	Office string `json:"office"` // actor id
	Name   string `json:"name"`
}

// Features are what the grouper knows of a report: who (countries,
// offices, holders), how (mode), when (days), and whether it is a
// multilateral contact or a repeat.
type Features struct {
	Ref       string    `json:"ref"`
	Published time.Time `json:"published"`
	// Parties: the countries taking part, sorted: those of the matched
	// offices, those named next to a plural office ("US and Russian spy
	// chiefs"), and those of office holders named in the report, unless
	// their sentence sets them apart from the contact ("hours before his
	// talks with Rubio").
	Parties []string `json:"parties"`
	Offices []Office `json:"offices,omitempty"`
	Holders []Holder `json:"holders,omitempty"`
	Mode    Mode     `json:"mode,omitempty"`
	// When: the days the contact may have taken place on.
	When []Span `json:"when"`
	// Dated: When comes from a date in the text (a weekday, a date,
	// "yesterday"), not from the publication time alone.
	Dated bool `json:"dated,omitempty"`
	// Group: a plural office of at least three countries ("ASEAN defence
	// ministers meet"): a multilateral contact.
	Group bool `json:"group,omitempty"`
	// Bilateral: two named offices of exactly two countries.
	Bilateral bool `json:"bilateral,omitempty"`
	// Plural: the countries named around a plural office ("US and
	// Russian spy chiefs"); PluralGroup: a group word qualifies it ("G20
	// foreign ministers", "defence ministers of the ASEAN members").
	Plural      []string `json:"plural,omitempty"`
	PluralGroup bool     `json:"plural_group,omitempty"`
	// Gatherings: for a multilateral report, the gatherings its group
	// words name ("G7" for "G7 foreign ministers", "ministres du G7"),
	// under which its story is also found.
	Gatherings []string `json:"gatherings,omitempty"`
	// Named: other countries the text names, not as a place and not
	// among Parties ("alongside his French and British counterparts",
	// "with Ukraine on the agenda").
	Named []string `json:"named,omitempty"`
	// Sidelines: the report places the contact on the margins of a larger
	// gathering ("on the sidelines of the G20").
	Sidelines bool `json:"sidelines,omitempty"`
	// Contact: some match names offices in contact (a keyword rule alone
	// does not); a report without one is a story of its own.
	Contact bool `json:"contact,omitempty"`
	// Repeat: the report calls the contact another one ("talk again", "a
	// new call", "second round of talks").
	Repeat bool `json:"repeat,omitempty"`
}

var eastAsia = time.FixedZone("UTC+9", 9*3600)

// Approximate windows, in days, for reports that do not date their
// contact: a report is about a contact of the last days; an announced one
// may be a week ahead; "recently" reaches two weeks back.
const (
	pastDays       = 2
	plannedDays    = 7
	recentDays     = 14
	cueReach       = 1000 // distance of a cue in a sentence without a contact term
	maxCueYears    = 400  // days: a date further from publication is background
	againAfter     = 5    // "spoke to CIA's Ratcliffe again"
	againBefore    = 2    // "again met"
	anotherReach   = 4    // "second round of Russia-Ukraine talks": words between
	monthReach     = 2    // "the February meeting", "February's talks"
	sayReach       = 2    // "said on Wednesday", "заявил в среду"
	datelineReach  = 4    // "MOSCOW, March 12 (Reuters) -" opens a lead
	maxDayAlone    = 15   // days: "27일" without a month is within half a month
	headFinalAfter = 20   // words: how much farther a day after a CJK contact term stands
	leaderReach    = 3    // words: "the presidents' call", "разговора президентов"
	// counterpartsMany: counterparts with this many countries next to them
	// are a gathering ("his counterparts from France, Poland and Italy").
	counterpartsMany = 3
)

// Extract reads a report. It is a pure function of the report and the
// lexicon.
func (lx *Lexicon) Extract(r Report) Features {
	a := r.Article
	pub := a.Published
	if pub.IsZero() {
		pub = a.Fetched
	}
	f := Features{Ref: r.Ref, Published: pub}

	var toks []tok
	var sent int32
	toks, sent = tokenize(toks, a.Title, 0, sent)
	toks, sent = tokenize(toks, a.Summary, 1, sent)
	toks, _ = tokenize(toks, truncate(a.Content, maxContent), 2, sent)

	parties := map[string]bool{}
	offices := map[Office]bool{}
	holders := map[Holder]bool{}
	addHolder := func(p person) {
		holders[Holder{Office: p.actor, Name: p.name}] = true
		offices[Office{Country: p.country, ID: p.actor, Kind: p.kind}] = true
		parties[p.country] = true
	}
	holdersIn := func(toks []tok, actor string) []person {
		var out []person
		for _, h := range lx.holders.find(toks) {
			for _, v := range h.vals {
				if p := lx.people[v]; p.covers(pub) && (actor == "" || p.actor == actor) {
					out = append(out, p)
				}
			}
		}
		return out
	}
	// Holders named anywhere in the text take part, unless their sentence
	// sets them apart from the contact: "hours before Lavrov's talks with
	// Rubio", "a day after his meeting with Jaishankar", "G20 ministers
	// meet without Rubio". The holders of the matched offices are read
	// from the matcher's aliases below.
	type textHolder struct {
		person
		aside bool // its sentence sets it apart
	}
	var textHolders []textHolder
	apart := lx.apart.find(toks)
	for _, h := range lx.holders.find(toks) {
		for _, v := range h.vals {
			if p := lx.people[v]; p.covers(pub) {
				textHolders = append(textHolders, textHolder{p, sameSentence(toks, apart, h.i)})
			}
		}
	}

	multi, bilateral := false, len(r.Matches) > 0
	var textCountries []string // countries the text names, places left out; read once
	kinds, matchKinds := map[string]bool{}, map[string]bool{}
	for _, m := range r.Matches {
		if m.ContactKind != "" {
			kinds[m.ContactKind] = true
			matchKinds[m.ContactKind] = true
		}
		ev, _ := tokenize(nil, m.Evidence, 3, 0)
		named := 0
		f.Contact = f.Contact || len(m.Actors) > 0
		for _, h := range m.Actors {
			switch {
			case strings.HasPrefix(h.ID, "multi-"):
				// A plural office ("US and Russian spy chiefs", "G20
				// foreign ministers"): its countries are those named
				// around it; the report's parties are all the countries
				// it names.
				multi = true
				// The office itself, of no one country: a gathering of
				// foreign ministers is not one of defence ministers.
				if role := strings.TrimPrefix(h.ID, "multi-"); lx.roles[role] {
					offices[Office{ID: h.ID, Generic: true}] = true // "security chiefs": of any kind
				} else {
					offices[Office{ID: h.ID, Kind: h.Kind}] = true
				}
				if textCountries == nil {
					textCountries = lx.countriesIn(toks, 0, len(toks))
				}
				for _, cc := range textCountries {
					parties[cc] = true
				}
				near, group, names := lx.aroundPlural(ev, h.Alias)
				for _, cc := range near {
					// "US and Russian top diplomats": the two
					// countries' foreign ministers.
					offices[lx.roleOffice(cc, strings.TrimPrefix(h.ID, "multi-"), h.Kind)] = true
				}
				f.Plural = union(f.Plural, near, strings.Compare)
				f.PluralGroup = f.PluralGroup || group
				f.Gatherings = union(f.Gatherings, names, strings.Compare)
			case h.Country == "" && lx.counterpart(h.ID):
				// "her G7 counterparts", "his European counterparts": a
				// gathering, named by its group word.
				if near, group, names := lx.aroundPlural(ev, h.Alias); group || len(near) >= counterpartsMany {
					counterparts(&f, parties, near, group, names)
					multi = true
				}
			case h.Country != "":
				if lx.counterpart(h.ID) {
					// "seine Amtskollegen aus Frankreich, Polen,
					// Großbritannien, Italien, Spanien und der Ukraine":
					// the matcher took the first; the others are there.
					if near, group, names := lx.aroundPlural(ev, h.Alias); group || len(near) >= counterpartsMany {
						counterparts(&f, parties, near, group, names)
						multi = true
					}
				}
				named++
				parties[h.Country] = true
				o := Office{Country: h.Country, ID: h.ID, Kind: h.Kind, Generic: lx.generic(h.ID, h.Country)}
				if role, ok := strings.CutPrefix(h.ID, strings.ToLower(h.Country)+"-"); ok && lx.roles[role] {
					o.Kind = "" // a deferring role's kind is the matcher's guess
				}
				offices[o] = true
				al, _ := tokenize(nil, h.Alias, 3, 0)
				for _, p := range holdersIn(al, h.ID) {
					addHolder(p)
				}
			}
		}
		if named < 2 {
			bilateral = false
		}
	}
	for _, p := range textHolders {
		if !p.aside {
			addHolder(p.person)
		}
	}
	f.Parties = sortedSet(parties)
	if textCountries == nil {
		textCountries = lx.countriesIn(toks, 0, len(toks))
	}
	for _, cc := range textCountries {
		if !parties[cc] {
			f.Named = append(f.Named, cc)
		}
	}
	f.Group = multi && (len(f.Plural) >= 3 || f.PluralGroup && len(f.Plural) != 2)
	if !f.Group {
		f.Gatherings = nil
	}
	// Two named offices of two countries, or a plural office of two
	// countries named next to it, no group word and no office of another
	// country ("the Ukrainian and British foreign ministers", whatever
	// other countries the text names).
	f.Bilateral = bilateral && !multi && len(f.Parties) == 2 ||
		multi && !f.Group && !f.PluralGroup && len(f.Plural) == 2 && officesWithin(f.Offices, f.Plural)
	f.Offices = sortedOffices(offices)
	f.Holders = sortedHolders(holders)

	contacts, leaders := lx.contactsIn(toks)
	planned := false
	for _, c := range contacts {
		k := lx.kinds[c.val]
		kinds[k] = true
		planned = planned || k == "planned"
	}
	future := lx.future.find(toks)
	planned = planned || kinds["planned"] || len(future) > 0
	remote := false
	for _, h := range lx.remote.find(toks) {
		remote = remote || h.val == 1
	}
	inPerson := kinds["meeting"] || kinds["visit"] || kinds["appearance"]
	switch {
	case remote && !inPerson:
		f.Mode = ModeRemote
	case inPerson && !remote:
		f.Mode = ModeInPerson
	case remote && matchKinds["call"] && !matchKinds["meeting"] && !matchKinds["visit"] && !matchKinds["appearance"]:
		// Call and meeting words both, and the contact that fired is a
		// call: "Rubio, Lavrov hold call ahead of possible Budapest
		// summit". The meeting words speak of another contact.
		f.Mode = ModeRemote
	}

	f.Repeat = lx.repeated(toks, contacts, future)
	f.Sidelines = len(lx.sidelines.find(toks)) > 0
	f.When, f.Dated = lx.when(toks, contacts, fired(toks, r.Matches, leaders), pub, planned)
	return f
}

// counterparts reads counterparts named as a gathering: by a group word,
// or with at least counterpartsMany countries next to them.
func counterparts(f *Features, parties map[string]bool, near []string, group bool, names []string) {
	for _, cc := range near {
		parties[cc] = true
	}
	f.Plural = union(f.Plural, near, strings.Compare)
	f.PluralGroup = f.PluralGroup || group
	f.Gatherings = union(f.Gatherings, names, strings.Compare)
}

// Around a plural office the words that say whose offices they are stand
// close: "US and Russian spy chiefs", "Turkish, Egyptian intelligence
// chiefs and Qatar's prime minister", "G20 foreign ministers", "defence
// ministers of the ASEAN members".
const (
	pluralBefore      = 5
	pluralAfter       = 6
	pluralGroupBefore = 4
	pluralGroupAfter  = 3
)

// aroundPlural returns the countries named around the plural office alias
// in the evidence, whether a group word ("G20", "Nordic") qualifies it,
// and the gatherings such words name ("G20").
func (lx *Lexicon) aroundPlural(ev []tok, alias string) (countries []string, group bool, gatherings []string) {
	at, _ := tokenize(nil, alias, 3, 0)
	i, j := 0, len(ev)
	for k := 0; len(at) > 0 && k+len(at) <= len(ev); k++ {
		same := true
		for n := range at {
			same = same && ev[k+n].f == at[n].f
		}
		if same {
			i, j = k, k+len(at)
			break
		}
	}
	found := i < j && j-i < len(ev)
	for _, g := range lx.groups.find(ev) {
		if g.val == groupPair || found && (g.j <= i-pluralGroupBefore || g.i >= j+pluralGroupAfter) {
			continue
		}
		group = true
		if g.val >= groupNamed {
			gatherings = union(gatherings, []string{lx.gatherings[g.val-groupNamed]}, strings.Compare)
		}
	}
	if found {
		return lx.countriesIn(ev, i-pluralBefore, j+pluralAfter), group, gatherings
	}
	return lx.countriesIn(ev, 0, len(ev)), group, gatherings
}

// locatives are the words that make a country the place of a contact
// rather than a party to it ("talks in Turkey", "à Ankara", "в Турции",
// "Türkiye'de").
var locatives = map[string]bool{"in": true, "at": true, "a": true, "en": true, "au": true, "aux": true,
	"im": true, "em": true, "na": true, "no": true, "w": true, "we": true, "в": true, "во": true, "у": true,
	"في": true, "در": true, "在": true, "于": true}

var locativeAfter = map[string]bool{"de": true, "da": true, "te": true, "ta": true, "で": true}

// countriesIn returns the countries named in toks[from:to] (clamped),
// sorted, leaving out those named as a place.
func (lx *Lexicon) countriesIn(toks []tok, from, to int) []string {
	from, to = max(from, 0), min(to, len(toks))
	set := map[string]bool{}
	for _, c := range lx.countries.find(toks[from:to]) {
		i, j := from+c.i, from+c.j
		if i > 0 && locatives[toks[i-1].f] && toks[i-1].sent == toks[i].sent {
			continue
		}
		if j < len(toks) && locativeAfter[toks[j].f] && toks[j].sent == toks[i].sent {
			continue
		}
		if n := int(c.val); n >= len(lx.codes) {
			for _, cc := range lx.compounds[n-len(lx.codes)] {
				set[cc] = true
			}
			continue
		}
		set[lx.codes[c.val]] = true
	}
	return sortedSet(set)
}

// contactsIn returns the contact terms of toks, less those of leaders: a
// summit ("ahead of the Trump-Xi summit", "首脳会談") or a contact the
// text gives to presidents or prime ministers ("the presidents' call of 16
// October"), which the offices this package groups only prepare or
// follow. Neither dates nor gives a mode to a report.
// The leaders' terms are returned apart, as dropped.
func (lx *Lexicon) contactsIn(toks []tok) (kept, dropped []hit) {
	leaders := lx.leaders.find(toks)
	for _, h := range lx.contacts.find(toks) {
		if slices.Contains(h.vals, notContact) || besideAny(toks, leaders, h) {
			dropped = append(dropped, h)
			continue
		}
		kept = append(kept, h)
	}
	return kept, dropped
}

// besideAny reports whether one of hits stands within leaderReach words of
// h, in its sentence.
func besideAny(toks []tok, hits []hit, h hit) bool {
	for _, x := range hits {
		if toks[x.i].sent == toks[h.i].sent && x.j > h.i-leaderReach && x.i < h.j+leaderReach {
			return true
		}
	}
	return false
}

// persons returns the positions in toks where a person is named: an
// office title ("foreign minister") or an office holder.
func (lx *Lexicon) persons(toks []tok) map[int]bool {
	at := map[int]bool{}
	for _, h := range append(lx.holders.find(toks), lx.titles.find(toks)...) {
		at[h.i] = true
	}
	return at
}

// officesWithin reports whether every office is of one of countries
// (sorted).
func officesWithin(offices []Office, countries []string) bool {
	for _, o := range offices {
		if _, found := slices.BinarySearch(countries, o.Country); !found {
			return false
		}
	}
	return true
}

// sameSentence reports whether one of hits is in the sentence of toks[i].
func sameSentence(toks []tok, hits []hit, i int) bool {
	for _, h := range hits {
		if toks[h.i].sent == toks[i].sent {
			return true
		}
	}
	return false
}

// repeated reports whether a contact term is called a repeat: "again" just
// after or before it, or "new", "second", "another" a few words before it.
// A sentence that announces a contact ("agreed to meet again") speaks of
// a later one, not of this one.
//
// "New" before a person ("Japan's new foreign minister", "the new CIA
// chief Ratcliffe") is the person's, not the contact's.
func (lx *Lexicon) repeated(toks []tok, contacts, future []hit) bool {
	var persons map[int]bool // read only when a word calls a contact new
	announced := func(sent int32) bool {
		for _, h := range future {
			if toks[h.i].sent == sent {
				return true
			}
		}
		for _, c := range contacts {
			if toks[c.i].sent == sent && lx.kinds[c.val] == "planned" {
				return true
			}
		}
		return false
	}
	for _, a := range lx.again.find(toks) {
		for _, c := range contacts {
			sent := toks[a.i].sent
			if sent == toks[c.i].sent && (a.i >= c.j && a.i-c.j < againAfter || a.j <= c.i && c.i-a.j < againBefore) && !announced(sent) {
				return true
			}
		}
	}
	for _, a := range lx.another.find(toks) {
		if a.val < 0 {
			continue // "New York", "a new round of talks"
		}
		if persons == nil {
			persons = lx.persons(toks)
		}
		if persons[a.j] || persons[a.j+1] {
			continue // "the new foreign minister"
		}
		for _, c := range contacts {
			sent := toks[a.i].sent
			if sent == toks[c.i].sent && a.j <= c.i && c.i-a.j <= anotherReach && !announced(sent) {
				return true
			}
		}
	}
	return false
}

// dayCue is a date found in the text: the days it may stand for and how
// far it stands from the nearest contact term of its sentence.
type dayCue struct {
	days  []Span
	dist  int
	fired int  // distance from the matcher's contact words
	said  bool // the day something was said
	at    int
}

// when dates the contact. A weekday, a date or "yesterday" gives its day
// (a weekday other than today's is the last one, or also the next one when
// the report announces a contact); "this
// week", "last week" and "recently" give a range; without them the contact
// is of the last days before publication, or of the next week when it is
// announced. A month next to a contact term ("the February meeting") adds
// that month, so a look back finds its story.
//
// A cue in a sentence where the matcher's own contact words stand comes
// before the others: in "arrived on Thursday and will meet Dong Jun on
// Friday", what fired was "will meet".
func (lx *Lexicon) when(toks []tok, contacts, fired []hit, pub time.Time, planned bool) ([]Span, bool) {
	p := DayOf(pub)
	// The contact may be on a later calendar day than the report: a
	// meeting on Friday morning in Kuala Lumpur is reported on Thursday
	// evening in New York. pHi is the date in East Asia at publication.
	pHi := max(p, DayOf(pub.In(eastAsia)))
	says := lx.say.find(toks)
	// said: the cue at i is the day something was said: "said on
	// Wednesday", or, where the verb comes last, "24일 밝혔다" ("said on
	// the 24th"), "外交部24日表示".
	said := func(i int) bool {
		for _, h := range says {
			if toks[h.i].sent != toks[i].sent {
				continue
			}
			if h.j <= i && i-h.j < sayReach || slices.Contains(h.vals, sayLast) && h.i > i && h.i-i <= sayReach {
				return true
			}
		}
		return false
	}
	dist := func(i int) int { return distance(toks, contacts, i) }
	firedDist := func(i int) int { return distance(toks, fired, i) }
	var cues []dayCue
	add := func(i int, days ...Span) {
		c := dayCue{days: days, dist: dist(i), fired: firedDist(i), said: said(i), at: i}
		if c.dist >= cueReach || c.said {
			// A day away from any contact term, or the day something
			// was said: the contact may have been the day before.
			for k := range c.days {
				c.days[k].From--
			}
		}
		cues = append(cues, c)
	}
	for _, h := range lx.weekdays.find(toks) {
		back := Day((int(p.Weekday()) - int(h.val) + 7) % 7)
		switch {
		case back == 0:
			add(h.i, Span{p, p})
		case planned || back == 6 && pHi > p:
			add(h.i, Span{p - back, p - back}, Span{p - back + 7, p - back + 7})
		default:
			add(h.i, Span{p - back, p - back})
		}
	}
	for _, d := range lx.dates(toks, pub) {
		if t := toks[d.at]; t.field != 0 && t.pos < datelineReach && !d.alone {
			// "MOSCOW, March 12 (Reuters) -": the dateline of the lead,
			// the day of the report; the contact may be the day before.
			add(d.at, Span{d.day - 1, d.to})
			continue
		}
		add(d.at, Span{d.day, d.to})
	}
	var weeks []dayCue
	recent := false
	monday := p - Day((int(p.Weekday())+6)%7)
	for _, h := range lx.relative.find(toks) {
		switch h.val {
		case relYesterday:
			add(h.i, Span{p - 1, p - 1})
		case relThisWeek:
			weeks = append(weeks, dayCue{days: []Span{{monday, p}}, dist: dist(h.i), fired: firedDist(h.i), at: h.i})
		case relLastWeek:
			weeks = append(weeks, dayCue{days: []Span{{monday - 7, monday - 1}}, dist: dist(h.i), fired: firedDist(h.i), at: h.i})
		case relNextWeek:
			weeks = append(weeks, dayCue{days: []Span{{monday + 7, monday + 13}}, dist: dist(h.i), fired: firedDist(h.i), at: h.i})
		case relRecently:
			recent = true
		}
	}
	approx := Span{p - pastDays, pHi}
	switch {
	case recent:
		approx.From = p - recentDays
	case planned:
		approx.To = p + plannedDays
	}
	if c, ok := nearest(cues); ok {
		if len(fired) > 0 && c.fired >= cueReach && c.days[len(c.days)-1].To < approx.From {
			// An earlier day, named only away from the words the matcher
			// fired on, may be the day of another contact ("agreements
			// reached in the presidents' call of 16 October"): the report
			// may still be of the last days.
			return normalize(append(c.days, approx)), false
		}
		return normalize(c.days), true
	}
	if c, ok := nearest(weeks); ok {
		return normalize(c.days), true
	}
	spans := []Span{approx}
	for _, h := range lx.months.find(toks) {
		if dist(h.i) > monthReach {
			continue
		}
		y, m, _ := pub.Date()
		month := time.Month(h.val)
		if month > m {
			y--
		}
		first := DayOf(time.Date(y, month, 1, 0, 0, 0, 0, time.UTC))
		last := DayOf(time.Date(y, month+1, 0, 0, 0, 0, 0, time.UTC))
		spans = append(spans, Span{first, last})
	}
	return normalize(spans), false
}

// distance is how many words stand between toks[i] and the nearest of
// terms in its sentence, or cueReach+i when its sentence has none.
func distance(toks []tok, terms []hit, i int) int {
	best := cueReach + i
	for _, c := range terms {
		if toks[c.i].sent != toks[i].sent {
			continue
		}
		d := c.i - i
		if i >= c.j {
			d = i - c.j + 1
			if toks[c.i].cjk {
				// In Chinese, Japanese and Korean the day stands before
				// its verb ("27日会谈", "27일 회담"); one after it
				// belongs to the next clause ("会談し、30日の…").
				d += headFinalAfter
			}
		}
		best = min(best, max(d, 0))
	}
	return best
}

// fired returns where the matcher's own contact words (Match.ContactTerm)
// stand in the text, but in the leaders' contact terms.
func fired(toks []tok, matches []model.Match, leaders []hit) []hit {
	var out []hit
	for _, m := range matches {
		if m.ContactTerm == "" {
			continue
		}
		term, _ := tokenize(nil, m.ContactTerm, 3, 0)
		if len(term) == 0 {
			continue
		}
		for i := range toks {
			if occursAt(toks, term, i) && !overlapsHit(leaders, i, i+len(term)) {
				out = append(out, hit{i: i, j: i + len(term)})
			}
		}
	}
	return out
}

// overlapsHit reports whether one of hits overlaps toks[i:j].
func overlapsHit(hits []hit, i, j int) bool {
	for _, h := range hits {
		if h.i < j && i < h.j {
			return true
		}
	}
	return false
}

// occursAt reports whether the words of term stand at toks[i:].
func occursAt(toks []tok, term []tok, i int) bool {
	if i < 0 || i+len(term) > len(toks) {
		return false
	}
	for k, t := range term {
		if toks[i+k].f != t.f {
			return false
		}
	}
	return true
}

// nearest returns the cue closest to the matcher's contact words, else to
// any contact term; on a tie the later one, which in "confirmed on
// Wednesday that they met on Monday" is the day of the contact.
func nearest(cues []dayCue) (dayCue, bool) {
	if len(cues) == 0 {
		return dayCue{}, false
	}
	best := cues[0]
	for _, c := range cues[1:] {
		cf, bf := c.fired < cueReach, best.fired < cueReach
		switch {
		case c.said != best.said:
			// The day a thing was said yields to the day of a contact.
			if !c.said {
				best = c
			}
		case cf != bf:
			if cf {
				best = c
			}
		case cf && c.fired != best.fired:
			if c.fired < best.fired {
				best = c
			}
		case c.dist < best.dist || c.dist == best.dist && c.at > best.at:
			best = c
		}
	}
	return best, true
}

type dateHit struct {
	day, to Day // a date, or the first and last days of a range
	at      int
	alone   bool // a day of the month alone ("27일"): never a dateline
}

// maxRange bounds a range of days ("18-19 August", "November 11-12"):
// a meeting of a few days, not a season.
const maxRange = 6

// dates finds written dates: "18 February", "February 18", "18 de
// febrero", "18-го февраля", "9月9日", "9월 9일", with an optional year, and
// ranges of days in one month ("August 18-19", "18 and 19 August"). A date
// without a year is put in the year that brings it closest to the
// publication; a date far from it is background and ignored.
func (lx *Lexicon) dates(toks []tok, pub time.Time) []dateHit {
	var out []dateHit
	p := DayOf(pub)
	// rangeEnd extends the last date added to the day to, when the two
	// are a short range of one month.
	rangeEnd := func(n, to int) {
		if len(out) <= n || to <= 0 {
			return
		}
		d := &out[len(out)-1]
		if end := d.day + Day(to-d.day.Time().Day()); end > d.day && end-d.day <= maxRange {
			d.to = end
		}
	}
	addDate := func(at, day, month, year int) {
		if day < 1 || day > 31 || month < 1 || month > 12 {
			return
		}
		best, found := Day(0), false
		years := []int{year}
		if year == 0 {
			years = []int{pub.Year() - 1, pub.Year(), pub.Year() + 1}
		}
		for _, y := range years {
			t := time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
			if t.Day() != day {
				continue // 31 June
			}
			d := DayOf(t)
			if !found || abs(int(d-p)) < abs(int(best-p)) {
				best, found = d, true
			}
		}
		if found && abs(int(best-p)) <= maxCueYears {
			out = append(out, dateHit{day: best, to: best, at: at})
		}
	}
	yearAt := func(i int) int {
		if i < len(toks) && toks[i].num >= 1900 && toks[i].num <= 2200 {
			return toks[i].num
		}
		return 0
	}
	months := append(lx.months.find(toks), lx.monthsShort.find(toks)...)
	for _, m := range months {
		// Day before the month: "18 February", "18th of February".
		i := m.i - 1
		for i >= 0 && m.i-i <= 3 && dateFillers[toks[i].f] {
			i--
		}
		if i >= 0 && toks[i].num > 0 && toks[i].field == toks[m.i].field {
			// "18-19 August", "18 and 19 August": the first day stands
			// one or two words before the last.
			first := 0
			for k := i - 1; k >= 0 && i-k <= 2 && toks[k].field == toks[i].field; k-- {
				if toks[k].num > 0 {
					first = toks[k].num
					break
				}
				if !rangeWords[toks[k].f] {
					break
				}
			}
			n := len(out)
			if first > 0 && first < toks[i].num && toks[i].num-first <= maxRange {
				addDate(i, first, int(m.val), yearAt(m.j))
				rangeEnd(n, toks[i].num)
				continue
			}
			addDate(i, toks[i].num, int(m.val), yearAt(m.j))
			continue
		}
		// Day after the month: "February 18, 2025", "August 18-19".
		if m.j < len(toks) && toks[m.j].num > 0 && toks[m.j].num <= 31 && toks[m.j].field == toks[m.i].field {
			n := len(out)
			last, k := 0, m.j+1
			if k < len(toks) && rangeWords[toks[k].f] && toks[k].field == toks[m.j].field {
				k++
			}
			if k < len(toks) && toks[k].field == toks[m.j].field && toks[k].num > toks[m.j].num && toks[k].num-toks[m.j].num <= maxRange {
				last, k = toks[k].num, k+1
			} else {
				k = m.j + 1
			}
			addDate(m.i, toks[m.j].num, int(m.val), yearAt(k))
			rangeEnd(n, last)
		}
	}
	// Numeric months: "9月9日", "9월 9일" (the year, "2025年", before).
	for i := 0; i+3 < len(toks); i++ {
		if toks[i].num <= 0 || toks[i+2].num <= 0 {
			continue
		}
		if lx.numMonth[toks[i+1].f] && lx.numDay[toks[i+3].f] {
			year := 0
			if i >= 2 && lx.numYear[toks[i-1].f] {
				year = yearAt(i - 2)
			}
			addDate(i, toks[i+2].num, toks[i].num, year)
		}
	}
	// A day of the month alone: "27일", "27日" (the 27th), in the month
	// that brings it closest to the publication.
	for i := 0; i+1 < len(toks); i++ {
		d := toks[i].num
		if d < 1 || d > 31 || !lx.numDay[toks[i+1].f] || i >= 1 && lx.numMonth[toks[i-1].f] {
			continue
		}
		best, found := Day(0), false
		for _, m := range []int{-1, 0, 1} {
			t := time.Date(pub.Year(), pub.Month()+time.Month(m), d, 0, 0, 0, 0, time.UTC)
			if t.Day() != d {
				continue // 31 September
			}
			if day := DayOf(t); !found || abs(int(day-p)) < abs(int(best-p)) {
				best, found = day, true
			}
		}
		if found && abs(int(best-p)) <= maxDayAlone {
			out = append(out, dateHit{day: best, to: best, at: i, alone: true})
		}
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedOffices(m map[Office]bool) []Office {
	out := make([]Office, 0, len(m))
	for o := range m {
		out = append(out, o)
	}
	slices.SortFunc(out, compareOffice)
	return out
}

func compareOffice(a, b Office) int {
	if c := strings.Compare(a.Country, b.Country); c != 0 {
		return c
	}
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	switch {
	case a.Generic == b.Generic:
		return 0
	case a.Generic:
		return 1
	}
	return -1
}

func sortedHolders(m map[Holder]bool) []Holder {
	out := make([]Holder, 0, len(m))
	for h := range m {
		out = append(out, h)
	}
	slices.SortFunc(out, compareHolder)
	return out
}

func compareHolder(a, b Holder) int {
	if c := strings.Compare(a.Office, b.Office); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}
