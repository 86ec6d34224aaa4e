package rules

import (
	"slices"
	"time"
)

// mention is one covered office found in a field: an actor (possibly a
// role whose country came from context), a multi-country group of them, or
// a counterpart.
type mention struct {
	actor   int32 // index in Set.actors; -1 for a counterpart
	country int32 // country index, or unknownCountry / groupCountry
	kind    uint8 // 0 for a counterpart: it takes its partner's kind
	field   uint8
	sent    int32
	t0, t1  int32 // token range, head word included
	b0, b1  int32 // the alias that matched, in folded bytes
}

// contactHit is one contact term in a field.
type contactHit struct {
	kind    uint8 // index in contactKinds
	field   uint8
	sent    int32
	t0, t1  int32
	b0, b1  int32
	negated bool
}

// nameReach is how far before a name a void word ("former") reaches: it
// may sit before the title that precedes the name ("former CIA director
// William Burns").
const nameReach = 4

// groupReach is how far around a plural office countries and group words
// are looked for ("Nordic and Baltic intelligence chiefs").
const groupReach = 6

// countryReach is how far before an office its country may be named
// ("Syria's new intelligence head").
const countryReach = 4

// officeKinds are the hits mentions reads.
const officeKinds = 1<<hTitle | 1<<hAgency | 1<<hName | 1<<hCounterpart

// mentions appends the offices found in field fi.
func (v *Vocabulary) mentions(out []mention, fs *fieldScan, fi uint8, published time.Time, collided []bool) []mention {
	for i := range fs.hits {
		h := &fs.hits[i]
		p := h.p
		if officeKinds&(1<<p.kind) == 0 {
			continue // most hits: countries, contact terms, head words
		}
		m := mention{actor: p.actor, field: fi, t0: h.t0, t1: h.t1, b0: h.b0, b1: h.b1}
		plural, neutral := p.plural, p.neutral
		switch p.kind {
		case hTitle:
			if collided[p.actor] || fs.voided(h.t0, h.t1, 2) {
				continue
			}
		case hAgency:
			if collided[p.actor] {
				continue
			}
			head, ok := v.findHead(fs, *h)
			if !ok {
				continue
			}
			m.t0, m.t1 = min(h.t0, head.t0), max(h.t1, head.t1)
			plural, neutral = head.p.plural, head.p.neutral
			if fs.voided(m.t0, m.t1, 2) {
				continue
			}
		case hName:
			a := &v.actors[p.actor]
			if collided[p.actor] || !a.terms[p.holder].covers(published) || fs.voided(h.t0, h.t1, nameReach) {
				continue
			}
		case hCounterpart:
			m.actor = -1
			m.country = fs.countryNear(h.t0, h.t1)
			if m.country == noCountry {
				m.country = unknownCountry
			}
			m.sent = fs.toks[h.t0].sent
			out = append(out, m)
			continue
		default:
			continue
		}
		a := &v.actors[p.actor]
		m.kind = a.kind
		m.sent = fs.toks[m.t0].sent
		c, ok := fs.place(a, plural, neutral, m.t0, m.t1)
		if !ok {
			continue
		}
		m.country = c
		out = append(out, m)
	}
	return out
}

// place decides the country of an office found at tokens [t0, t1). A
// number-neutral title (Chinese, Japanese, Korean, Russian) stands for
// several offices when countries are named together next to it
// ("中美防长", "министры иностранных дел России и КНДР").
func (fs *fieldScan) place(a *actor, plural, neutral bool, t0, t1 int32) (int32, bool) {
	if a.country != noCountry {
		// "Indian foreign secretary" is not the UK's Foreign Secretary;
		// in Arabic, Persian and Hebrew the adjective follows the office
		// ("مدير المخابرات الأردنية"), and a country just before it
		// belongs to the office before ("…المصرية ومدير…").
		c, ok := fs.countryEndingAt(t0)
		if fs.postposed(t0) {
			c, ok = fs.countryStartingAt(t1)
		}
		if ok && c != a.country {
			return 0, false
		}
		return a.country, true
	}
	// A number-neutral title's plural reads as its singular (it was
	// listed under plurals for English-style lists), so only pairNear
	// decides.
	if plural && !neutral && fs.groupNear(t0, t1) || neutral && fs.pairNear(t0, t1) {
		return groupCountry, true
	}
	c := fs.countryNear(t0, t1)
	return c, c != noCountry
}

// findHead finds the head word that makes agency hit h its head: after it
// ("CIA chief", "CIA, Mossad and Egyptian spy chiefs") or before it ("head
// of Iraq's intelligence service", "Chef der CIA"), with only links,
// countries and other offices in between, in the same sentence.
func (v *Vocabulary) findHead(fs *fieldScan, h hit) (hit, bool) {
	sn := fs.sents[fs.toks[h.t0].sent]
	// In Chinese and Korean the head word shares the agency's last
	// character: 情报局 + 局长 is 情报局长, 정보총국 + 국장 is 정보총국장.
	if last := h.t1 - 1; fs.toks[last].script.unspaced() && fs.flags[last]&fHeadStart != 0 {
		if hd, ok := fs.headAt(last, true); ok && hd.t1 > h.t1 {
			return hd, true
		}
	}
	crossed := false // another agency stands between: "SVR, CIA heads"
	for t := h.t1; t < sn.t1 && int(fs.dist(h.t1, t)) <= v.headSpan; t++ {
		if fs.flags[t]&fHeadStart != 0 {
			if hd, ok := fs.headAt(t, true); ok {
				if crossed && !hd.p.plural && !hd.p.neutral {
					// A singular head after another agency is that
					// agency's: "talks between the CIA and Russian
					// intelligence, CIA Director Ratcliffe said".
					break
				}
				return hd, true
			}
		}
		if fs.flags[t]&fSkippable == 0 {
			break
		}
		if fs.flags[t]&fAgency != 0 && fs.agencyStartsAt(t) {
			crossed = true
		}
	}
	for t := h.t0 - 1; t >= sn.t0 && int(fs.dist(t+1, h.t0)) <= v.headSpan; t-- {
		if fs.flags[t]&fHeadEnd != 0 {
			if hd, ok := fs.headAt(t, false); ok {
				return hd, true
			}
		}
		if fs.flags[t]&fSkippable == 0 {
			break
		}
	}
	return hit{}, false
}

// agencyStartsAt reports whether an agency name starts at token t (rather
// than t being the tail of a longer name that overlaps the one searching:
// "Foreign Intelligence Service director").
func (fs *fieldScan) agencyStartsAt(t int32) bool {
	if !fs.has(1 << hAgency) {
		return false
	}
	for _, h := range hitsBetween(fs.hits, t, t) {
		if h.t0 == t && h.p.kind == hAgency {
			return true
		}
	}
	return false
}

// headAt returns the longest head word starting (or ending) at token t.
func (fs *fieldScan) headAt(t int32, starting bool) (hit, bool) {
	var best hit
	found := false
	for _, h := range hitsBetween(fs.heads, t-fs.span, t) {
		if starting && h.t0 == t || !starting && h.t1-1 == t {
			if !found || h.t1-h.t0 > best.t1-best.t0 {
				best, found = h, true
			}
		}
	}
	return best, found
}

// voided reports whether a void word disqualifies the office at [t0, t1):
// inside it ("Mossad's former chief"), just after it ("directeur
// adjoint"), or ending within reach words before it ("deputy foreign
// minister", "former Russian spy chief").
func (fs *fieldScan) voided(t0, t1 int32, reach int32) bool {
	if !fs.has(1 << hVoid) {
		return false
	}
	sent := fs.toks[t0].sent
	for _, h := range fs.hitsNear(t0, t1, reach+voidCountrySlack+1) {
		if h.p.kind != hVoid || fs.toks[h.t0].sent != sent {
			continue
		}
		switch {
		case h.t0 >= t0 && h.t1 <= t1:
			return true
		case h.t0 == t1:
			return true
		case h.t1 <= t0 && fs.dist(h.t1, t0) <= reach-1+voidCountrySlack && fs.wordsBetween(h.t1, t0) <= reach-1:
			// A conjunction between them ends the reach: "deputy prime
			// minister and foreign minister" is a foreign minister.
			if !fs.linkBetween(h.t1, t0) {
				return true
			}
		}
	}
	return false
}

// voidCountrySlack is how many country words a void word reaches across
// on top of its reach: "ex-Iranian, US top diplomats", "former Russian
// and US spy chiefs".
const voidCountrySlack = 3

// wordsBetween counts the words in [t0, t1) that are not country names
// (a character of an unspaced script counting half).
func (fs *fieldScan) wordsBetween(t0, t1 int32) int32 {
	n := int32(0)
	for t := t0; t < t1; t++ {
		if fs.flags[t]&fCountry == 0 {
			n += fs.posAt(t+1) - fs.posAt(t)
		}
	}
	return (n + 1) / 2
}

// linkBetween reports whether a conjunction lies in [t0, t1): the
// boundary between two coordinated offices.
func (fs *fieldScan) linkBetween(t0, t1 int32) bool {
	for t := t0; t < t1; t++ {
		switch string(fs.f.text[fs.toks[t].b0:fs.toks[t].b1]) {
		case "and", "et", "y", "und", "e", "ve", "i":
			return true
		}
	}
	return false
}

// countryEndingAt returns the country named by the words just before
// token t0, if any.
func (fs *fieldScan) countryEndingAt(t0 int32) (int32, bool) {
	if !fs.has(1 << hCountry) {
		return 0, false
	}
	for _, h := range fs.hitsNear(t0, t0, 0) {
		if h.p.kind == hCountry && h.t1 == t0 && fs.toks[h.t0].sent == fs.toks[t0].sent {
			return h.p.arg, true
		}
	}
	return 0, false
}

// conjoined reports whether the office starting at token t0 is written
// with the conjunction و before it ("ورئيس").
func (fs *fieldScan) conjoined(t0 int32) bool {
	tk := fs.toks[t0]
	if !hasAt(fs.f.text[tk.b0:tk.b1], 0, arWaw) {
		return false
	}
	for _, h := range hitsBetween(fs.hits, t0, t0) {
		if h.b0 == tk.b0+int32(len(arWaw)) {
			return true
		}
	}
	return false
}

// postposed reports whether the office starting at token t0 is written
// in a script whose languages put the country adjective after the noun
// (Arabic, Persian, Hebrew).
func (fs *fieldScan) postposed(t0 int32) bool {
	s := fs.toks[t0].script
	return s == scArabic || s == scHebrew
}

// countryStartingAt returns the country named by the words starting at
// token t1, if any.
func (fs *fieldScan) countryStartingAt(t1 int32) (int32, bool) {
	if int(t1) >= len(fs.toks) || !fs.has(1<<hCountry) {
		return 0, false
	}
	for _, h := range hitsBetween(fs.hits, t1, t1) {
		if h.p.kind == hCountry && h.t0 == t1 && fs.toks[h.t0].sent == fs.toks[t1-1].sent {
			return h.p.arg, true
		}
	}
	return 0, false
}

// countryNear finds the country of a role at [t0, t1): named inside it
// ("head of Iraq's intelligence service"), just before it ("Egypt's
// intelligence chief", nearest first), or right after it ("son homologue
// iranien", "inteligencia egipcia").
func (fs *fieldScan) countryNear(t0, t1 int32) int32 {
	if !fs.has(1 << hCountry) {
		return noCountry // what the search below finds without one
	}
	sent := fs.toks[t0].sent
	inside, before, after := noCountry, noCountry, noCountry
	bestBefore, afterAt := int32(-1), int32(-1)
	for _, h := range fs.hitsNear(t0, t1, countryReach+1) {
		if h.p.kind != hCountry || fs.toks[h.t0].sent != sent {
			continue
		}
		switch {
		case h.t0 >= t0 && h.t1 <= t1:
			inside = h.p.arg
		case h.t1 <= t0 && fs.dist(h.t1, t0) <= countryReach && h.t1 > bestBefore:
			before, bestBefore = h.p.arg, h.t1
		case after == noCountry && (h.t0 == t1 || h.t0 == t1+1 && !fs.coveredBy(t1, ^uint32(0))):
			// Romance languages put the adjective after, sometimes past
			// one more word: "chef du renseignement extérieur algérien".
			after, afterAt = h.p.arg, h.t0
		}
	}
	if fs.postposed(t0) {
		// Arabic, Persian, Hebrew: "وزير الخارجية السعودي", "ראש
		// המודיעין המצרי".
		// A country before the office belongs to something else
		// ("…پاکستان با دبیر شورای…"), unless the office is joined to
		// the one before by و and has no country of its own: "وزير
		// الخارجية التركي ورئيس جهاز الاستخبارات" is Turkey's too.
		switch {
		case inside != noCountry:
			return inside
		case after != noCountry:
			return after
		case fs.conjoined(t0):
			return before
		}
		return noCountry
	}
	switch {
	case inside != noCountry:
		return inside
	case before != noCountry && bestBefore == t0:
		return before // "Russian foreign minister"
	case after != noCountry && afterAt == t1:
		// "al canciller chileno": the adjacent adjective, not the
		// country of an earlier office ("El canciller argentino recibe
		// al canciller chileno").
		return after
	case before != noCountry:
		return before
	}
	return after
}

// groupNear reports whether a plural office at [t0, t1) stands for several
// countries: a group word or two different countries close to it.
func (fs *fieldScan) groupNear(t0, t1 int32) bool {
	if !fs.has(1<<hGroup | 1<<hCountry) {
		return false
	}
	sent := fs.toks[t0].sent
	first := noCountry
	for _, h := range fs.hitsNear(t0, t1, groupReach) {
		if fs.toks[h.t0].sent != sent || !fs.near(h, t0, t1, groupReach) {
			continue
		}
		switch h.p.kind {
		case hGroup:
			return true
		case hCountry:
			if first == noCountry {
				first = h.p.arg
			} else if h.p.arg != first {
				return true
			}
		}
	}
	return false
}

// near reports whether hit h lies within reach words of tokens [t0, t1).
func (fs *fieldScan) near(h hit, t0, t1, reach int32) bool {
	switch {
	case h.t1 <= t0:
		return fs.dist(h.t1, t0) <= reach
	case h.t0 >= t1:
		return fs.dist(t1, h.t0) < reach
	}
	return true
}

// pairNear reports whether a number-neutral title at [t0, t1) stands for
// several offices: a group word next to it ("两国外长", "министров
// иностранных дел БРИКС"), or two different countries named together near
// it — side by side ("中美", "沙特伊朗", "России, Ирана"), or joined by a
// link word ("России и КНДР", "日本と韓国"). A group word further away
// does not count as it does for a plural: the title may be singular.
func (fs *fieldScan) pairNear(t0, t1 int32) bool {
	if !fs.has(1<<hGroup | 1<<hCountry) {
		return false
	}
	sent := fs.toks[t0].sent
	var prev *hit
	near := fs.hitsNear(t0, t1, groupReach)
	for i := range near {
		h := &near[i]
		if fs.toks[h.t0].sent != sent || !fs.near(*h, t0, t1, groupReach) {
			continue
		}
		switch h.p.kind {
		case hGroup:
			if h.t1 <= t0 && fs.dist(h.t1, t0) <= 1 || h.t0 >= t1 && fs.dist(t1, h.t0) <= 2 {
				return true
			}
		case hCountry:
			if prev != nil && prev.p.arg != h.p.arg && (h.t0 == prev.t1 || h.t0 == prev.t1+1 && fs.flags[prev.t1]&fLink != 0) {
				return true
			}
			if prev == nil || h.t0 >= prev.t1 {
				prev = h
			}
		}
	}
	return false
}

// countriesNear appends to out (up to its capacity) the countries named
// within groupReach words of a plural office at [t0, t1), in its sentence.
func (fs *fieldScan) countriesNear(out []int32, t0, t1 int32) []int32 {
	if !fs.has(1 << hCountry) {
		return out
	}
	sent := fs.toks[t0].sent
	for _, h := range fs.hitsNear(t0, t1, groupReach) {
		if h.p.kind != hCountry || fs.toks[h.t0].sent != sent || !fs.near(h, t0, t1, groupReach) {
			continue
		}
		if len(out) < cap(out) && !slices.Contains(out, h.p.arg) {
			out = append(out, h.p.arg)
		}
	}
	return out
}

// contacts appends the contact terms of field fi, marking the negated ones:
// a negative cue close by in the same sentence, a denial or background cue
// within denial reach in it, a question, a past year next to it (summary and content),
// or a veto cue anywhere in the item.
func (v *Vocabulary) contacts(out []contactHit, fs *fieldScan, fi uint8, veto bool, published time.Time) []contactHit {
	for _, h := range fs.hits {
		if h.p.kind != hContact {
			continue
		}
		sent := fs.toks[h.t0].sent
		c := contactHit{kind: uint8(h.p.arg), field: fi, sent: sent, t0: h.t0, t1: h.t1, b0: h.b0, b1: h.b1}
		c.negated = veto || fs.sents[sent].question || v.negatedAt(fs, h) || fs.noBefore(h.t0) ||
			v.pastYears && fi > 0 && !published.IsZero() && fs.pastYearNear(h.t0, h.t1, published.Year())
		out = append(out, c)
	}
	return out
}

// noWord reports whether w says "none" before a noun: "no
// Naryshkin-Ratcliffe meeting", "kein Lawrow-Rubio-Treffen". (A switch:
// cheaper than hashing every word before a contact term for a map.)
func noWord(w []byte) bool {
	switch string(w) {
	case "no", "kein", "keine", "keinen", "aucun", "aucune", "ningun", "ninguna", "nessun", "nessuna", "geen":
		return true
	}
	return false
}

// noReach is how many words of names may stand between "no" and the
// contact term it denies.
const noReach = 4

// noBefore reports whether the contact term starting at token t is denied
// by a "no" whose only words in between name offices or countries ("no
// Naryshkin-Ratcliffe meeting", "no US-China defence talks"). The plain
// phrases ("no meeting") are denial cues of the rules; this covers the
// names the rules cannot list.
func (fs *fieldScan) noBefore(t int32) bool {
	sent := fs.toks[t].sent
	for k := t - 1; k >= 0 && fs.dist(k, t) <= noReach+1 && fs.toks[k].sent == sent; k-- {
		if tk := fs.toks[k]; noWord(fs.f.text[tk.b0:tk.b1]) {
			return k < t-1 // "no meeting" alone is the rules' business
		}
		if !fs.coveredBy(k, nameKinds) {
			return false
		}
	}
	return false
}

// nameKinds are the hits that name an office, a holder, a country or a
// group.
const nameKinds = 1<<hName | 1<<hTitle | 1<<hAgency | 1<<hHead | 1<<hCountry | 1<<hGroup | 1<<hCounterpart

// coveredBy reports whether a hit of one of kinds (a bit set of hitKind)
// covers token t.
func (fs *fieldScan) coveredBy(t int32, kinds uint32) bool {
	if !fs.has(kinds) {
		return false
	}
	for _, h := range fs.hitsNear(t, t, 0) {
		if h.t0 <= t && t < h.t1 && kinds&(1<<h.p.kind) != 0 {
			return true
		}
	}
	return false
}

// pastReach is how many words from a contact term a past year is looked
// for ("met in Ankara in November 2022").
const pastReach = 12

// pastYearNear reports whether a year before thisYear, introduced as a
// date ("in 2022", "in November 2022", "en 2019"), stands within pastReach
// words of the contact term at [t0, t1) in its sentence. "since 2022" is
// not background: it dates the gap before a new contact.
func (fs *fieldScan) pastYearNear(t0, t1 int32, thisYear int) bool {
	if !fs.years {
		return false
	}
	sn := fs.sents[fs.toks[t0].sent]
	// The tokens of the sentence within reach: distances grow with
	// every token away from the hit, so they are one run around it.
	lo := t0
	for lo > sn.t0 && fs.dist(lo-1, t0) <= pastReach {
		lo--
	}
	hi := min(t1, sn.t1)
	for hi < sn.t1 && fs.dist(t1, hi) < pastReach {
		hi++
	}
	for t := lo; t < hi; t++ {
		w := fs.f.text[fs.toks[t].b0:fs.toks[t].b1]
		if len(w) != 4 || (w[0] != '1' && w[0] != '2') {
			continue
		}
		y := 0
		for _, c := range w {
			if c < '0' || c > '9' {
				y = -1
				break
			}
			y = y*10 + int(c-'0')
		}
		if y < 1900 || y >= thisYear {
			continue
		}
		p := t - 1
		if p >= sn.t0 && months[fs.word(p)] {
			p--
		}
		if p >= sn.t0 && datePrepositions[fs.word(p)] {
			return true
		}
	}
	return false
}

func (fs *fieldScan) word(t int32) string {
	tk := fs.toks[t]
	return string(fs.f.text[tk.b0:tk.b1])
}

// datePrepositions introduce a date ("in 2022", "en 2019", "im Jahr").
var datePrepositions = map[string]bool{"in": true, "en": true, "im": true, "nel": true, "jahr": true}

var months = map[string]bool{
	"january": true, "february": true, "march": true, "april": true, "may": true, "june": true,
	"july": true, "august": true, "september": true, "october": true, "november": true, "december": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true,
	"sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
	"janvier": true, "fevrier": true, "mars": true, "avril": true, "mai": true, "juin": true, "juillet": true,
	"aout": true, "septembre": true, "octobre": true, "novembre": true, "decembre": true,
	"enero": true, "febrero": true, "marzo": true, "abril": true, "mayo": true, "junio": true, "julio": true,
	"agosto": true, "septiembre": true, "octubre": true, "noviembre": true, "diciembre": true,
	"januar": true, "februar": true, "marz": true, "juni": true, "juli": true, "oktober": true, "dezember": true,
}

func (v *Vocabulary) negatedAt(fs *fieldScan, c hit) bool {
	if !fs.has(1<<hNegative | 1<<hDenial) {
		return false
	}
	sent := fs.toks[c.t0].sent
	reach := int32(max(v.negBefore, v.negAfter, v.denialReach))
	for _, h := range fs.hitsNear(c.t0, c.t1, reach) {
		before, after := int32(v.negBefore), int32(v.negAfter)
		switch h.p.kind {
		case hNegative:
		case hDenial:
			before, after = int32(v.denialReach), int32(v.denialReach)
		default:
			continue
		}
		if fs.toks[h.t0].sent != sent {
			continue
		}
		overlaps := h.t0 < c.t1 && h.t1 > c.t0
		isBefore := h.t1 <= c.t0 && fs.dist(h.t1, c.t0) <= before
		isAfter := h.t0 >= c.t1 && fs.dist(c.t1, h.t0) < after
		if overlaps || isBefore || isAfter {
			return true
		}
	}
	return false
}
