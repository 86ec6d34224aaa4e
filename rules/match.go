package rules

import (
	"slices"
	"strings"
	"time"

	"github.com/backchannel/backchannel/model"
)

// maxEvidence bounds the evidence text of a match.
const maxEvidence = 400

// scratch is the working memory of one Match call, pooled per Set so a
// busy matcher does not allocate it for every item.
type scratch struct {
	fields   [3]fieldScan
	mentions []mention
	contacts []contactHit
	collided []bool
	unitM    []mention
	unitC    []contactHit
	// hedged: the title reports no contact of its own but a hedged one
	// (a question, a denial, readiness), so its offices are not read
	// together with a contact term of the summary.
	hedged bool
	// only, when not nil, limits a contact to offices of these countries
	// (the sides of talks between delegations, see delegations).
	only []int32
	// officesRead: mentions holds the item's offices (see offices);
	// published is the item's date, which they depend on.
	officesRead bool
	published   time.Time
}

// part is one piece of a unit: a sentence of a field, or (sent < 0) the
// whole field.
type part struct {
	field uint8
	sent  int32
}

// Match runs every rule of the set over a and returns the rules that fire,
// in rule order, each at most once.
func (s *Set) Match(a model.Article) []model.Match {
	sc := s.vocab.read(a)
	defer s.vocab.scratch.Put(sc)
	return s.vocab.evaluate(sc, s.rules)
}

// read scans a into working memory from the pool and finds its contact
// terms, and its offices when a rule asks for them (offices): everything
// the rules read, which depends on the vocabulary alone. The caller puts
// sc back into v.scratch.
func (v *Vocabulary) read(a model.Article) *scratch {
	sc := v.scratch.Get().(*scratch)
	texts := [3]string{truncate(a.Title, maxTitle), truncate(a.Summary, maxSummary), truncate(a.Content, maxContent)}
	veto := false
	sc.collided = resize(sc.collided, len(v.actors))
	clear(sc.collided)
	for i := range sc.fields {
		fs := &sc.fields[i]
		v.scan(fs, texts[i])
		if !fs.has(1<<hVeto | 1<<hCollision) {
			continue
		}
		for _, h := range fs.hits {
			switch h.p.kind {
			case hVeto:
				veto = true
			case hCollision:
				sc.collided[h.p.actor] = true
			}
		}
	}
	sc.mentions, sc.contacts = sc.mentions[:0], sc.contacts[:0]
	for i := range sc.fields {
		sc.contacts = v.contacts(sc.contacts, &sc.fields[i], uint8(i), veto, a.Published)
	}
	sc.officesRead, sc.published = false, a.Published
	sc.hedged = titleHedged(&sc.fields[0], sc.contacts)
	return sc
}

// offices returns the offices the item names (sc.mentions), finding them
// on first use: an item with no contact term a rule accepts, and no rule
// that names actors, is never read for them.
func (v *Vocabulary) offices(sc *scratch) []mention {
	if !sc.officesRead {
		sc.officesRead = true
		for i := range sc.fields {
			sc.mentions = v.mentions(sc.mentions, &sc.fields[i], uint8(i), sc.published, sc.collided)
		}
		v.settleDeferred(sc)
	}
	return sc.mentions
}

// evaluate runs rules over an article read into sc. It changes only the
// per-rule working memory of sc (units, sides) and, once, the offices it
// finds on first use (offices), so several rule lists can be evaluated
// over one reading.
func (v *Vocabulary) evaluate(sc *scratch, rules []rule) []model.Match {
	var out []model.Match
	for i := range rules {
		r := &rules[i]
		var m model.Match
		var ok bool
		if r.spec.Contact {
			m, ok = v.matchContact(sc, r)
		} else {
			m, ok = v.matchKeywords(sc, r)
		}
		if ok {
			m.Rule = r.spec.Name
			out = append(out, m)
		}
	}
	return out
}

// matchContact looks for a contact the rule accepts: first within one
// sentence, then between the title and one sentence of the summary (or of
// the content when there is no summary), which reads them together.
func (v *Vocabulary) matchContact(sc *scratch, r *rule) (model.Match, bool) {
	if !v.mayContact(sc, r) {
		return model.Match{}, false
	}
	return v.findContact(sc, r)
}

// findContact is matchContact without the test of mayContact.
func (v *Vocabulary) findContact(sc *scratch, r *rule) (model.Match, bool) {
	if len(sc.contacts) == 0 || len(v.offices(sc)) == 0 {
		return model.Match{}, false
	}
	var found model.Match
	ok := false
	try := func(parts ...part) bool {
		m, hit := v.contactIn(sc, r, parts)
		if hit {
			found, ok = m, true
		}
		return hit
	}
	for fi := range sc.fields {
		for si, sn := range sc.fields[fi].sents {
			if try(part{uint8(fi), int32(si)}) {
				return v.finishContact(sc, r, found)
			}
			if sn.joined && try(part{uint8(fi), int32(si - 1)}, part{uint8(fi), int32(si)}) {
				return v.finishContact(sc, r, found)
			}
		}
	}
	other := uint8(1)
	if len(sc.fields[1].sents) == 0 {
		other = 2
	}
	if len(sc.fields[0].sents) > 0 && !sc.hedged {
		for si, sn := range sc.fields[other].sents {
			if sentenceHedged(sc.contacts, other, int32(si)) {
				// The sentence naming the officials says the contact does
				// not happen ("Li Shangfu would not meet Austin"): it does
				// not complete the title's contact term.
				continue
			}
			if try(part{0, -1}, part{other, int32(si)}) {
				return v.finishContact(sc, r, found)
			}
			if sn.joined && try(part{0, -1}, part{other, int32(si - 1)}, part{other, int32(si)}) {
				return v.finishContact(sc, r, found)
			}
		}
	}
	// Talks between delegations: a title that reports talks between two
	// countries and names no office ("Russia and Ukraine hold direct talks
	// in Istanbul") and a summary that says who sat on each side, in two
	// sentences one after the other. Both officials must serve countries
	// the title names.
	if sides := v.delegations(sc); len(sides) >= 2 {
		sc.only = sides
		defer func() { sc.only = nil }()
		sents := sc.fields[other].sents
		for si := 1; si < len(sents); si++ {
			if sentenceHedged(sc.contacts, other, int32(si-1)) || sentenceHedged(sc.contacts, other, int32(si)) {
				continue
			}
			if try(part{0, -1}, part{other, int32(si - 1)}, part{other, int32(si)}) {
				return v.finishContact(sc, r, found)
			}
		}
	}
	return found, ok
}

// delegations returns the countries a title names when it reports talks
// without naming any office: an unhedged contact term, no office, two or
// more countries. Otherwise nil.
func (v *Vocabulary) delegations(sc *scratch) []int32 {
	if sc.hedged || len(sc.fields[0].sents) == 0 {
		return nil
	}
	for _, m := range sc.mentions {
		if m.field == 0 {
			return nil
		}
	}
	contact := false
	for _, c := range sc.contacts {
		contact = contact || c.field == 0 && !c.negated
	}
	if !contact {
		return nil
	}
	var sides []int32
	for _, h := range sc.fields[0].hits {
		if h.p.kind == hCountry && !slices.Contains(sides, h.p.arg) {
			sides = append(sides, h.p.arg)
		}
	}
	if len(sides) < 2 {
		return nil
	}
	return sides
}

// finishContact applies the rule's keyword and exclude patterns to a
// contact that was found; they are checked last because they cost more
// than the scan.
func (v *Vocabulary) finishContact(sc *scratch, r *rule, m model.Match) (model.Match, bool) {
	if v.excluded(sc, r) {
		return model.Match{}, false
	}
	if len(r.keywords) > 0 {
		kw, _, _ := v.keywordHits(sc, r)
		if len(kw) == 0 {
			return model.Match{}, false
		}
		m.Keywords = kw
	}
	return m, true
}

// contactIn finds a contact within the unit made of parts.
func (v *Vocabulary) contactIn(sc *scratch, r *rule, parts []part) (model.Match, bool) {
	in := func(field uint8, sent int32) bool {
		for _, p := range parts {
			if p.field == field && (p.sent < 0 || p.sent == sent) {
				return true
			}
		}
		return false
	}
	sc.unitM, sc.unitC = sc.unitM[:0], sc.unitC[:0]
	for _, m := range sc.mentions {
		if sc.only != nil && !slices.Contains(sc.only, m.country) {
			continue
		}
		if in(m.field, m.sent) && len(sc.unitM) < maxUnit {
			sc.unitM = append(sc.unitM, m)
		}
	}
	for _, c := range sc.contacts {
		if !c.negated && r.contactKinds&(1<<c.kind) != 0 && in(c.field, c.sent) && len(sc.unitC) < maxUnit {
			sc.unitC = append(sc.unitC, c)
		}
	}
	ms := sc.unitM
	cross := len(parts) > 1 && parts[0].sent < 0
	for _, c := range sc.unitC {
		// Read across title and summary, a contact term deep in the
		// summary does not complete two officials named only in the
		// title: past the lead sentence the summary has moved on.
		late := cross && c.field != 0 && c.sent > 0
		for i := range ms {
			a := &ms[i]
			if late && a.field == 0 && a.country == groupCountry {
				continue
			}
			if a.country == groupCountry && r.kindsOK(a.kind, a.kind) && within(r, c, a, a) && v.actorsOK(r, a, a) {
				return v.contactMatch(sc, parts, c, a, nil), true
			}
		}
		for i := range ms {
			a := &ms[i]
			for j := i + 1; j < len(ms); j++ {
				b := &ms[j]
				if a.actor < 0 && b.actor < 0 || overlap(a, b) || late && a.field == 0 && b.field == 0 {
					continue
				}
				// A group of several countries meets anyone, but only an
				// office, not an unnamed counterpart: "security council
				// secretaries of Russia and Belarus and the SVR head".
				if (a.country == groupCountry || b.country == groupCountry) && (a.actor < 0 || b.actor < 0 || a.country == b.country) {
					continue
				}
				if a.country == b.country && a.country != unknownCountry {
					continue
				}
				ka, kb := a.kind, b.kind
				if a.actor < 0 {
					ka = kb
				}
				if b.actor < 0 {
					kb = ka
				}
				if r.kindsOK(ka, kb) && within(r, c, a, b) && v.actorsOK(r, a, b) {
					return v.contactMatch(sc, parts, c, a, b), true
				}
			}
		}
	}
	return model.Match{}, false
}

// settleDeferred gives each deferring role (see ActorSpec.Defer) the kind
// of the offices the item names for its country, or for the countries of
// its group, when they are all of one kind.
func (v *Vocabulary) settleDeferred(sc *scratch) {
	for i := range sc.mentions {
		m := &sc.mentions[i]
		if m.actor < 0 || !v.actors[m.actor].deferKind {
			continue
		}
		var buf [8]int32
		countries := buf[:0]
		switch {
		case m.country >= 0:
			countries = append(countries, m.country)
		case m.country == groupCountry:
			countries = sc.fields[m.field].countriesNear(countries, m.t0, m.t1)
		}
		var kinds uint8
		for j := range sc.mentions {
			n := &sc.mentions[j]
			if n.actor < 0 || v.actors[n.actor].country == noCountry {
				continue
			}
			for _, c := range countries {
				if n.country == c {
					kinds |= v.actors[n.actor].kind
				}
			}
		}
		if kinds == kindIntel || kinds == kindDiplomatic {
			m.kind = kinds
		}
	}
}

// overlap reports whether two mentions are read from the same words (an
// acronym two services share), which cannot be two people.
func overlap(a, b *mention) bool {
	return a.field == b.field && a.b0 < b.b1 && b.b0 < a.b1
}

// titleHedged reports whether the title is a question, or names contact
// terms that are all negated ("Will X and Y meet?", "no plans for X–Y
// meeting", "X ready to meet Y").
func titleHedged(fs *fieldScan, contacts []contactHit) bool {
	if len(fs.sents) == 0 {
		return false
	}
	questions := true
	for _, sn := range fs.sents {
		questions = questions && sn.question
	}
	if questions {
		return true
	}
	any := false
	for _, c := range contacts {
		if c.field != 0 {
			continue
		}
		if !c.negated {
			return false
		}
		any = true
	}
	return any
}

// sentenceHedged reports whether sentence sent of field has contact terms
// and all of them are negated.
func sentenceHedged(contacts []contactHit, field uint8, sent int32) bool {
	any := false
	for _, c := range contacts {
		if c.field != field || c.sent != sent {
			continue
		}
		if !c.negated {
			return false
		}
		any = true
	}
	return any
}

// mayContact reports whether the item holds what any contact rule r
// accepts needs (a cheap test before trying every unit): a contact term
// of its kinds not negated, and an office of a kind it requires. A pair
// passes kindsOK only if one of the two, or the partner whose kind a
// counterpart takes, is an office of a required kind that the rule allows.
// The offices are looked for only when there is such a contact term.
func (v *Vocabulary) mayContact(sc *scratch, r *rule) bool {
	contact := false
	for i := range sc.contacts {
		c := &sc.contacts[i]
		contact = contact || !c.negated && r.contactKinds&(1<<c.kind) != 0
	}
	if !contact {
		return false
	}
	want := r.require
	if want == 0 {
		want = r.kinds
	}
	ms := v.offices(sc)
	for i := range ms {
		if m := &ms[i]; m.actor >= 0 && m.kind&want != 0 && m.kind&r.kinds != 0 {
			return true
		}
	}
	return false
}

func (r *rule) kindsOK(a, b uint8) bool {
	return r.kinds&a != 0 && r.kinds&b != 0 && (r.require == 0 || r.require&(a|b) != 0)
}

// within reports whether the contact term and both actors fit the rule's
// window in every field they share.
func within(r *rule, c contactHit, a, b *mention) bool {
	for f := uint8(0); f < 3; f++ {
		lo, hi := int32(1<<30), int32(-1)
		n := 0
		add := func(field uint8, t0, t1 int32) {
			if field == f {
				lo, hi = min(lo, t0), max(hi, t1)
				n++
			}
		}
		add(c.field, c.t0, c.t1)
		add(a.field, a.t0, a.t1)
		add(b.field, b.t0, b.t1)
		if n > 1 && int(hi-lo) > r.window {
			return false
		}
	}
	return true
}

func (v *Vocabulary) actorsOK(r *rule, a, b *mention) bool {
	if r.actors == nil {
		return true
	}
	return v.actorWanted(r, a) || v.actorWanted(r, b)
}

func (v *Vocabulary) actorWanted(r *rule, m *mention) bool {
	if m.actor < 0 {
		return false
	}
	ac := &v.actors[m.actor]
	if r.actors[ac.id] {
		return true
	}
	return m.country >= 0 && ac.country == noCountry && r.actors[roleID(v.countries[m.country], ac.id)]
}

// contactMatch explains a contact: the actors as written, the contact term
// and the sentences it was read from.
func (v *Vocabulary) contactMatch(sc *scratch, parts []part, c contactHit, a, b *mention) model.Match {
	m := model.Match{
		ContactKind: contactKinds[c.kind],
		ContactTerm: validIn(sc.fields[c.field].f.quote(int(c.b0), int(c.b1)), sc.fields[c.field].f.valid),
		Field:       fieldNames[c.field],
	}
	n := 1
	if b != nil {
		n = 2
	}
	m.Actors = make([]model.ActorHit, 0, n)
	m.Actors = append(m.Actors, v.actorHit(sc, a, b))
	if b != nil {
		m.Actors = append(m.Actors, v.actorHit(sc, b, a))
	}
	var evBuf [3]string // a unit has at most three parts
	ev := evBuf[:0]
	valid := true
	for _, p := range parts {
		fs := &sc.fields[p.field]
		valid = valid && fs.f.valid
		if p.sent >= 0 {
			ev = append(ev, fs.sentenceText(p.sent))
		} else {
			ev = append(ev, fs.f.src)
		}
	}
	m.Evidence = validIn(truncate(strings.TrimSpace(strings.Join(ev, " — ")), maxEvidence), valid)
	return m
}

// actorHit describes mention m; partner gives a counterpart its kind.
func (v *Vocabulary) actorHit(sc *scratch, m, partner *mention) model.ActorHit {
	h := model.ActorHit{Alias: validIn(sc.fields[m.field].f.quote(int(m.b0), int(m.b1)), sc.fields[m.field].f.valid)}
	cc := ""
	if m.country >= 0 {
		cc = v.countries[m.country]
	}
	h.Country = cc
	if m.actor < 0 {
		h.ID, h.Office, h.Role = "counterpart", "counterpart", true
		if cc != "" {
			h.ID = roleID(cc, "counterpart")
		}
		if partner != nil && partner.actor >= 0 {
			h.Kind = kindName(partner.kind)
		}
		return h
	}
	a := &v.actors[m.actor]
	h.Kind, h.Office, h.ID, h.Role = kindName(m.kind), a.office, a.id, a.country == noCountry
	switch {
	case m.country == groupCountry:
		h.ID = "multi-" + a.id
	case a.country == noCountry && cc != "":
		h.ID = roleID(cc, a.id)
	}
	return h
}
