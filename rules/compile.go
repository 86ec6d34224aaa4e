package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/backchannel/backchannel/model"
)

// Limits on what a Spec may hold. Pattern limits are part of the external
// contract (/rules add); the others keep one bad configuration from making
// matching slow.
const (
	MaxRuleNameLen = 64   // characters in a rule name
	MaxPatternLen  = 1000 // characters per keyword or exclude pattern
	MaxPatterns    = 100  // patterns per keyword or exclude list
	maxAliasLen    = 200  // bytes per alias after folding
	maxWindow      = 500  // words
	maxSpan        = 20   // words between a head word and its agency
	maxNegReach    = 50   // words a negative cue reaches
)

var (
	ruleNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	actorIDRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	countryRE   = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,7}$`)
	periodForms = []string{"2006-01-02", "2006-01", "2006"}
)

// hitKind says what an automaton pattern stands for.
type hitKind uint8

const (
	hCountry hitKind = iota
	hGroup
	hHead
	hVoid
	hCounterpart
	hTitle
	hAgency
	hName
	hCollision
	hContact
	hNegative
	hDenial
	hVeto
	hBlock
	// hLink: a link word (rules.heads.links), which flags a token that
	// is the word itself (fLink) and makes no hit.
	hLink
)

// caseRule is the capital-letter constraint of an alias (see Spec).
type caseRule uint8

const (
	caseAny   caseRule = iota
	caseFirst          // first letter must be a capital
	caseAll            // every letter must be a capital
)

// payload is what one alias means. Several aliases can fold to the same
// pattern ("Kalin", "Kalın"), so a pattern carries a list of them.
type payload struct {
	kind   hitKind
	plural bool
	prefix bool // may continue with more letters
	// neutral: a title or head word of a language that does not mark the
	// plural (Chinese, Japanese, Korean) or whose plural fold reads as the
	// singular (Russian, Ukrainian stems): it stands for several offices
	// when two countries are named together next to it (see place).
	neutral bool
	// bound: one character of Chinese, Japanese or Korean (美, 中, 露),
	// which counts only right before another name (see fieldScan.settle).
	bound  bool
	suffix uint8 // endings that may follow it inside a word (sfx*)
	cased  caseRule
	actor  int32 // actor index (titles, agencies, names, collisions)
	holder int32 // holder index within the actor (names)
	arg    int32 // country index, contact kind index
}

// builder accumulates patterns and problems during Compile.
type builder struct {
	problems
	patterns []string
	index    map[string]int
	payloads [][]payload
}

// alias validates one alias and adds it to the automaton with p.
func (b *builder) alias(key, text string, p payload) {
	raw := strings.TrimSpace(text)
	if strings.HasSuffix(raw, "*") {
		p.prefix = true
		raw = strings.TrimSpace(strings.TrimSuffix(raw, "*"))
	}
	fb, _ := foldOpt(nil, nil, raw, !p.prefix)
	f := string(fb)
	switch {
	case f == "":
		b.add(key, "empty alias %q", text)
		return
	case len(f) > maxAliasLen:
		b.add(key, "alias longer than %d bytes after folding", maxAliasLen)
		return
	case !isWordByte(f[0]):
		b.add(key, "alias %q must begin with a letter or digit", text)
		return
	case p.prefix && !isWordByte(f[len(f)-1]):
		b.add(key, "alias %q: a trailing * must follow a letter or digit", text)
		return
	case strings.ContainsAny(f, "\n"):
		b.add(key, "alias %q spans lines", text)
		return
	}
	p.cased = aliasCase(raw)
	scriptRules(&p, f)
	b.pattern(f, p)
}

// pattern adds folded pattern f to the automaton with p.
func (b *builder) pattern(f string, p payload) {
	i, ok := b.index[f]
	if !ok {
		i = len(b.patterns)
		b.index[f] = i
		b.patterns = append(b.patterns, f)
		b.payloads = append(b.payloads, nil)
	}
	b.payloads[i] = append(b.payloads[i], p)
}

// scriptRules sets what the scripts of a folded alias imply for it: the
// endings its last word may take, whether it is a bound character, and
// whether a title or head word is number-neutral.
func scriptRules(p *payload, f string) {
	firstScript, _ := scriptAt([]byte(f), 0)
	// The last word: its script and its length in letters.
	lastScript, letters := scNone, 0
	for _, r := range f {
		s := scriptOf(r)
		switch {
		case s == scNone:
			lastScript, letters = scNone, 0
		case s != lastScript:
			lastScript, letters = s, 1
		default:
			letters++
		}
	}
	switch {
	case p.prefix:
	case lastScript == scArabic && letters <= 3:
		p.suffix = sfxArabicShort
	case lastScript == scArabic:
		p.suffix = sfxArabic
	case lastScript == scHebrew && letters >= 3:
		p.suffix = sfxHebrew
	}
	p.bound = utf8.RuneCountInString(f) == 1 && firstScript.unspaced()
	if p.kind == hTitle || p.kind == hHead {
		p.neutral = firstScript == scCyrillic || firstScript.unspaced()
	}
}

// aliasCase reads the capital-letter constraint from how an alias is
// written: all capitals (at least two letters) or a leading capital.
func aliasCase(s string) caseRule {
	letters, upper := 0, 0
	first := true
	firstUpper := false
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		if first {
			firstUpper, first = unicode.IsUpper(r), false
		}
		letters++
		if unicode.IsUpper(r) {
			upper++
		}
	}
	switch {
	case letters >= 2 && upper == letters:
		return caseAll
	case firstUpper:
		return caseFirst
	}
	return caseAny
}

func (b *builder) aliases(key string, list []string, p payload) {
	for i, a := range list {
		b.alias(fmt.Sprintf("%s[%d]", key, i), a, p)
	}
}

// Compile checks spec and builds a Set. The error, when not nil, is a
// SpecErrors listing every problem with its key path.
func Compile(spec Spec) (*Set, error) {
	b := &builder{index: map[string]int{}}
	v := compileVocabulary(b, spec)
	// The rules are checked against the vocabulary even when it has
	// problems of its own, so that one run reports them all.
	rs := compileRules(&b.problems, v, spec.Rules, nil)
	if err := b.err(); err != nil {
		return nil, err
	}
	if err := v.finish(b); err != nil {
		return nil, err
	}
	return &Set{vocab: v, rules: rs}, nil
}

// WithRules returns a Set of the rules rs over v, which it shares; only the
// rules are compiled. The error, when not nil, is a SpecErrors with the
// keys Compile gives the same rules ("rules.rule[2].actors[0]").
func (v *Vocabulary) WithRules(rs []model.RuleSpec) (*Set, error) {
	return v.withRules(rs, nil)
}

// WithOverrides returns s with a guild's overrides applied, as
// Compile(s.Spec().WithOverrides(ov)) would, but over s's Vocabulary:
// only the rules the overrides add or change are compiled, the others are
// shared with s. The error is Compile's for that Spec.
func (s *Set) WithOverrides(ov []model.Override) (*Set, error) {
	specs := Spec{Rules: s.Rules()}.WithOverrides(ov).Rules
	return s.vocab.withRules(specs, func(r model.RuleSpec) (rule, bool) {
		for _, cr := range s.rules {
			if cr.spec.Name == r.Name && reflect.DeepEqual(cr.spec, r) {
				return cr, true
			}
		}
		return rule{}, false
	})
}

func (v *Vocabulary) withRules(rs []model.RuleSpec, compiled func(model.RuleSpec) (rule, bool)) (*Set, error) {
	var p problems
	list := compileRules(&p, v, rs, compiled)
	if err := p.err(); err != nil {
		return nil, err
	}
	return &Set{vocab: v, rules: list}, nil
}

// compileVocabulary checks and compiles everything of spec but its rules,
// adding the problems to b; finish completes it once there are none.
func compileVocabulary(b *builder, spec Spec) *Vocabulary {
	v := &Vocabulary{spec: spec, actorIDs: map[string]int{}}
	v.spec.Rules = nil
	v.countries = compileCountries(b, spec.Countries)
	countryIndex := func(code string) int32 {
		i, ok := slices.BinarySearch(v.countries, code)
		if !ok {
			return noCountry
		}
		return int32(i)
	}
	b.aliases("rules.groups", spec.Groups, payload{kind: hGroup})
	b.aliases("rules.counterparts", spec.Counterparts, payload{kind: hCounterpart})
	b.aliases("rules.blocks", spec.Blocks, payload{kind: hBlock})
	compileHeads(b, v, spec.Heads)
	compileContact(b, v, spec.Contact)
	for i, a := range spec.Actors {
		compileActor(b, v, fmt.Sprintf("rules.actor[%d]", i), a, countryIndex)
	}
	return v
}

// finish builds the automaton of the aliases b collected. The error, a
// SpecErrors, says when there are too many to hold.
func (v *Vocabulary) finish(b *builder) error {
	if len(b.patterns) > 0 {
		ac, err := newAutomaton(b.patterns)
		if err != nil {
			b.add("rules", "%v", err)
			return b.err()
		}
		v.ac = ac
		v.payAt = make([]int32, ac.accepting()+2)
		v.linkOnly = make([]uint64, (ac.accepting()+2)/64+1)
		for s := 1; s <= ac.accepting(); s++ {
			for _, p := range ac.outputs(uint32(s)) {
				v.pays = append(v.pays, b.payloads[p]...)
			}
			v.payAt[s+1] = int32(len(v.pays))
			if list := v.pays[v.payAt[s]:]; len(list) == 1 && list[0].kind == hLink {
				v.linkOnly[s>>6] |= 1 << (s & 63)
			}
		}
	}
	v.scratch.New = func() any { return new(scratch) }
	return nil
}

// compileRules checks and compiles rs against v. compiled, when not nil,
// gives a rule already compiled against v, which is taken as it is.
func compileRules(p *problems, v *Vocabulary, rs []model.RuleSpec, compiled func(model.RuleSpec) (rule, bool)) []rule {
	out := make([]rule, 0, len(rs))
	names := map[string]int{}
	for i, r := range rs {
		key := fmt.Sprintf("rules.rule[%d]", i)
		if j, dup := names[r.Name]; dup && r.Name != "" {
			p.add(key+".name", "duplicate rule name %q (also rules.rule[%d])", r.Name, j)
		}
		names[r.Name] = i
		if compiled != nil {
			if cr, ok := compiled(r); ok {
				out = append(out, cr)
				continue
			}
		}
		if cr, ok := compileRule(p, v, key, r); ok {
			out = append(out, cr)
		}
	}
	return out
}

func compileCountries(b *builder, m map[string][]string) []string {
	codes := make([]string, 0, len(m))
	for code := range m {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for i, code := range codes {
		key := "rules.countries." + code
		if !countryRE.MatchString(code) {
			b.add(key, "country code must be 2 to 8 capital letters or digits, starting with a letter")
		}
		if len(m[code]) == 0 {
			b.add(key, "no names for the country")
		}
		b.aliases(key, m[code], payload{kind: hCountry, arg: int32(i)})
	}
	return codes
}

func compileHeads(b *builder, v *Vocabulary, h HeadSpec) {
	b.aliases("rules.heads.words", h.Words, payload{kind: hHead})
	b.aliases("rules.heads.plural", h.Plural, payload{kind: hHead, plural: true})
	// Links are short and frequent ("of", "de", "y"): the walk from a
	// word that is one flags it (keep) and makes no hit.
	for i, l := range h.Links {
		f := Fold(l)
		if f == "" || strings.ContainsAny(f, " '\n") {
			b.add(fmt.Sprintf("rules.heads.links[%d]", i), "link %q must be one word", l)
			continue
		}
		b.pattern(f, payload{kind: hLink})
	}
	b.aliases("rules.heads.void", h.Void, payload{kind: hVoid})
	v.headSpan = orDefault(h.Span, 6)
	checkRange(&b.problems, "rules.heads.span", h.Span, 0, maxSpan)
}

func compileContact(b *builder, v *Vocabulary, c ContactSpec) {
	kinds := make([]string, 0, len(c.Terms))
	for k := range c.Terms {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		key := "rules.contact.terms." + k
		i := slices.Index(contactKinds, k)
		if i < 0 {
			b.add(key, "unknown contact kind %q (want one of %s)", k, strings.Join(contactKinds, ", "))
			continue
		}
		b.aliases(key, c.Terms[k], payload{kind: hContact, arg: int32(i)})
	}
	b.aliases("rules.contact.negative", c.Negative, payload{kind: hNegative})
	b.aliases("rules.contact.denial", c.Denial, payload{kind: hDenial})
	b.aliases("rules.contact.background", c.Background, payload{kind: hDenial})
	b.aliases("rules.contact.veto", c.Veto, payload{kind: hVeto})
	v.pastYears = c.PastYears
	checkRange(&b.problems, "rules.contact.window", c.Window, 0, maxWindow)
	checkRange(&b.problems, "rules.contact.negative_before", c.NegativeBefore, 0, maxNegReach)
	checkRange(&b.problems, "rules.contact.negative_after", c.NegativeAfter, 0, maxNegReach)
	v.window = orDefault(c.Window, 30)
	v.negBefore = orDefault(c.NegativeBefore, 5)
	v.negAfter = orDefault(c.NegativeAfter, 4)
	checkRange(&b.problems, "rules.contact.denial_reach", c.DenialReach, 0, maxNegReach)
	v.denialReach = orDefault(c.DenialReach, 12)
}

func compileActor(b *builder, v *Vocabulary, key string, a ActorSpec, countryIndex func(string) int32) {
	idx := int32(len(v.actors))
	ac := actor{id: a.ID, office: a.Office, country: noCountry}
	switch {
	case a.ID == "":
		b.add(key+".id", "missing actor id")
	case !actorIDRE.MatchString(a.ID):
		b.add(key+".id", "actor id %q must be lower-case letters, digits and hyphens", a.ID)
	default:
		if j, dup := v.actorIDs[a.ID]; dup {
			b.add(key+".id", "duplicate actor id %q (also rules.actor[%d])", a.ID, j)
		}
		v.actorIDs[a.ID] = int(idx)
	}
	if a.Country != "" {
		ac.country = countryIndex(a.Country)
		if ac.country == noCountry {
			b.add(key+".country", "unknown country %q (not a key of rules.countries)", a.Country)
		}
	}
	switch a.Kind {
	case "intel":
		ac.kind = kindIntel
	case "diplomatic":
		ac.kind = kindDiplomatic
	default:
		b.add(key+".kind", `kind must be "intel" or "diplomatic", got %q`, a.Kind)
	}
	if strings.TrimSpace(a.Office) == "" {
		b.add(key+".office", "missing office")
	}
	if len(a.Titles)+len(a.Plurals)+len(a.Agencies)+len(a.Holders) == 0 {
		b.add(key, "actor %q has no titles, plurals, agencies or holders to be found by", a.ID)
	}
	b.aliases(key+".titles", a.Titles, payload{kind: hTitle, actor: idx})
	b.aliases(key+".plurals", a.Plurals, payload{kind: hTitle, actor: idx, plural: true})
	b.aliases(key+".agencies", a.Agencies, payload{kind: hAgency, actor: idx})
	b.aliases(key+".collisions", a.Collisions, payload{kind: hCollision, actor: idx})
	ac.deferKind = a.Defer
	if a.Defer && a.Country != "" {
		b.add(key+".defer", "only a role (no country) can defer its kind")
	}
	if len(a.Holders) > 0 && a.Country == "" {
		b.add(key+".holders", "holders need the actor's country; a role (no country) cannot have holders")
	}
	for j, h := range a.Holders {
		hk := fmt.Sprintf("%v.holders[%d]", key, j)
		if strings.TrimSpace(h.Name) == "" {
			b.add(hk+".name", "missing name")
		}
		p := payload{kind: hName, actor: idx, holder: int32(j)}
		b.alias(hk+".name", h.Name, p)
		b.aliases(hk+".aliases", h.Aliases, p)
		ac.terms = append(ac.terms, compilePeriod(&b.problems, hk, h))
	}
	v.actors = append(v.actors, ac)
}

// compilePeriod parses a holder's term. Until is inclusive: "2025-01" runs
// to the end of January 2025.
func compilePeriod(p *problems, key string, h HolderSpec) period {
	from, okFrom := parsePeriod(h.From, false)
	if !okFrom {
		p.add(key+".from", "invalid date %q (want YYYY, YYYY-MM or YYYY-MM-DD)", h.From)
	}
	until, okUntil := parsePeriod(h.Until, true)
	if !okUntil {
		p.add(key+".until", "invalid date %q (want YYYY, YYYY-MM or YYYY-MM-DD)", h.Until)
	}
	if okFrom && okUntil && !from.IsZero() && !until.IsZero() && !from.Before(until) {
		p.add(key+".until", "term ends (%s) before it starts (%s)", h.Until, h.From)
	}
	return period{from: from, until: until}
}

// parsePeriod parses a date of day, month or year precision. With end set
// it returns the first instant after the period, so Until is inclusive.
func parsePeriod(s string, end bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	for i, layout := range periodForms {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if end {
			switch i {
			case 0:
				t = t.AddDate(0, 0, 1)
			case 1:
				t = t.AddDate(0, 1, 0)
			default:
				t = t.AddDate(1, 0, 0)
			}
		}
		return t, true
	}
	return time.Time{}, false
}

func compileRule(p *problems, v *Vocabulary, key string, r model.RuleSpec) (rule, bool) {
	before := len(p.list)
	cr := rule{spec: r, kinds: kindAny}
	if err := CheckRuleName(r.Name); err != nil {
		p.add(key+".name", "%v", err)
	}
	if !r.Contact && len(r.Keywords) == 0 {
		p.add(key, "a rule needs keywords, or contact = true")
	}
	cr.keywords = compilePatterns(p, key+".keywords", r.Keywords)
	cr.exclude = compilePatterns(p, key+".exclude", r.Exclude)
	if len(r.Actors) > 0 {
		cr.actors = map[string]bool{}
	}
	for i, id := range r.Actors {
		if !v.knownActor(id) {
			p.add(fmt.Sprintf("%v.actors[%d]", key, i), "unknown actor %q", id)
		}
		cr.actors[id] = true
	}
	if len(r.Kinds) > 0 {
		cr.kinds = compileKinds(p, key+".kinds", r.Kinds)
	}
	cr.require = compileKinds(p, key+".require_kinds", r.RequireKinds)
	if cr.require != 0 && cr.require&cr.kinds == 0 {
		p.add(key+".require_kinds", "requires a kind that kinds does not allow")
	}
	cr.contactKinds = 1<<len(contactKinds) - 1
	if len(r.ContactKinds) > 0 {
		cr.contactKinds = 0
		for i, k := range r.ContactKinds {
			j := slices.Index(contactKinds, k)
			if j < 0 {
				p.add(fmt.Sprintf("%v.contact_kinds[%d]", key, i), "unknown contact kind %q (want one of %s)", k, strings.Join(contactKinds, ", "))
				continue
			}
			cr.contactKinds |= 1 << j
		}
	}
	checkRange(p, key+".window", r.Window, 0, maxWindow)
	cr.window = orDefault(r.Window, v.window)
	cr.fields = 1<<len(fieldNames) - 1
	if len(r.Fields) > 0 {
		cr.fields = 0
		for i, f := range r.Fields {
			j := slices.Index(fieldNames, f)
			if j < 0 {
				p.add(fmt.Sprintf("%v.fields[%d]", key, i), "unknown field %q (want title, summary or content)", f)
				continue
			}
			cr.fields |= 1 << j
		}
	}
	return cr, len(p.list) == before
}

func compileKinds(p *problems, key string, list []string) uint8 {
	var k uint8
	for i, name := range list {
		switch name {
		case "intel":
			k |= kindIntel
		case "diplomatic":
			k |= kindDiplomatic
		default:
			p.add(fmt.Sprintf("%s[%d]", key, i), `kind must be "intel" or "diplomatic", got %q`, name)
		}
	}
	return k
}

// CheckRuleName says what is wrong with a rule name, or returns nil. A
// name is 1 to MaxRuleNameLen letters, digits, '.', '_' or '-', starting
// with a letter or digit: it appears in alert footers ("rule <NAME>") and
// is typed back into commands, so it is one plain word.
func CheckRuleName(name string) error {
	switch {
	case name == "":
		return errors.New("missing rule name")
	case len(name) > MaxRuleNameLen || !ruleNameRE.MatchString(name):
		return fmt.Errorf("rule name %q must be 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit",
			name, MaxRuleNameLen)
	}
	return nil
}

// PatternError says why CompilePattern refused a pattern.
type PatternError struct {
	// Problem is a phrase about the pattern, such as "is not valid RE2:
	// missing closing )", for callers that name the pattern their own way.
	Problem string
}

func (e *PatternError) Error() string { return "pattern " + e.Problem }

// CompilePattern compiles one keyword or exclude pattern as the matcher
// uses it: RE2, matched case-insensitively. An empty pattern, one that is
// not UTF-8, one longer than MaxPatternLen characters and one RE2 rejects
// are refused with a *PatternError.
func CompilePattern(pat string) (*regexp.Regexp, error) {
	switch {
	case strings.TrimSpace(pat) == "":
		return nil, &PatternError{Problem: "is empty"}
	case !utf8.ValidString(pat):
		return nil, &PatternError{Problem: "is not valid UTF-8"}
	}
	if n := utf8.RuneCountInString(pat); n > MaxPatternLen {
		return nil, &PatternError{Problem: fmt.Sprintf("is %d characters long; at most %d allowed", n, MaxPatternLen)}
	}
	re, err := regexp.Compile("(?i)" + pat)
	if err != nil {
		return nil, &PatternError{Problem: "is not valid RE2: " + reason(err)}
	}
	return re, nil
}

// compilePatterns compiles a keyword or exclude list: at most MaxPatterns,
// each as CompilePattern.
func compilePatterns(p *problems, key string, list []string) []*regexp.Regexp {
	if len(list) > MaxPatterns {
		p.add(key, "%d patterns; at most %d allowed", len(list), MaxPatterns)
		return nil
	}
	out := make([]*regexp.Regexp, 0, len(list))
	for i, pat := range list {
		re, err := CompilePattern(pat)
		if err != nil {
			p.add(fmt.Sprintf("%s[%d]", key, i), "%v", err)
			continue
		}
		out = append(out, re)
	}
	return out
}

// reason is what RE2 finds wrong with a pattern, without the pattern
// itself (which may be long, and which callers name their own way).
func reason(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return se.Code.String()
	}
	return err.Error()
}

func checkRange(p *problems, key string, v, lo, hi int) {
	if v < lo || v > hi {
		p.add(key, "must be between %d and %d, got %d", lo, hi, v)
	}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func roleID(country, id string) string {
	return strings.ToLower(country) + "-" + id
}
