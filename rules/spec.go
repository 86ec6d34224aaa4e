package rules

import (
	"slices"

	"github.com/backchannel/backchannel/model"
)

// Spec is the whole [rules] table of the configuration: the vocabulary the
// matcher knows (countries, actors, head words, contact terms) and the rules
// built on it. It is plain data; Compile checks it and turns it into a Set.
//
// Aliases everywhere in a Spec are written as plain text and compared after
// folding (see Fold), on word boundaries. Two marks change that:
//   - a trailing "*" lets the alias continue with more letters
//     ("homolog*" finds homologue, homólogo, homologues);
//   - capitals are a constraint: an alias written with a leading capital
//     ("Burns") only matches text with a capital there, and one written all
//     in capitals ("MIT", "US") only matches text in capitals, which keeps
//     the German "mit", the pronoun "us" and "burns" out.
type Spec struct {
	// Countries maps a country code to the words that name it: names,
	// demonyms in several languages, possessive capitals ("Moscow's").
	Countries map[string][]string `toml:"countries" json:"countries,omitempty"`
	// Groups name several countries at once ("G7", "Five Eyes", "NATO",
	// "two countries"). Next to a plural role they make it a multilateral
	// contact on its own.
	Groups []string `toml:"groups" json:"groups,omitempty"`
	// Counterparts are words for "the same office in the other country"
	// ("counterpart", "homologue", "Amtskollege").
	Counterparts []string `toml:"counterparts" json:"counterparts,omitempty"`
	// Blocks are words that are not the names they hold or overlap: in
	// text without spaces a name is read inside longer words, and a block
	// takes it back ("北京国安", the football club, is not 国安; "部门",
	// "department", ends "国家安全部门", which is not the ministry
	// 国家安全部). A hit inside a block, or that a block straddles, is
	// dropped; one that holds a block whole is kept.
	Blocks []string `toml:"blocks" json:"blocks,omitempty"`
	// Heads says which words turn an agency name into its head.
	Heads HeadSpec `toml:"heads" json:"heads"`
	// Actors are the covered offices.
	Actors []ActorSpec `toml:"actor" json:"actors,omitempty"`
	// Contact holds the contact terms and negative cues.
	Contact ContactSpec `toml:"contact" json:"contact"`
	// Rules are the rules of the set, matched in order.
	Rules []model.RuleSpec `toml:"rule" json:"rules,omitempty"`
}

// HeadSpec lists the words that make an agency mention a mention of its
// head ("CIA chief", "head of the CIA", "Chef der CIA") and the words that
// disqualify one ("deputy", "former").
type HeadSpec struct {
	// Words: singular head words (chief, director, head, jefe, Präsident…).
	Words []string `toml:"words" json:"words,omitempty"`
	// Plural: plural head words (chiefs, heads…); with a group word or two
	// countries nearby they stand for several heads at once.
	Plural []string `toml:"plural" json:"plural,omitempty"`
	// Links: small words allowed between a head word and its agency
	// ("of", "the", "de", "la", "and").
	Links []string `toml:"links" json:"links,omitempty"`
	// Void: words that, just before an office (or just after, for
	// "adjoint"), mean it is not the office holder: deputy, former, vice…
	Void []string `toml:"void" json:"void,omitempty"`
	// Span: how many words may separate a head word from its agency
	// (default 6).
	Span int `toml:"span" json:"span,omitempty"`
}

// ContactSpec lists what counts as a contact and what cancels one.
type ContactSpec struct {
	// Window: default maximum number of words from the first to the last of
	// the two actors and the contact term (default 30). The three must also
	// be in one sentence, or in the title and one sentence of the summary.
	Window int `toml:"window" json:"window,omitempty"`
	// Terms maps a contact kind (meeting, call, talks, visit, letter,
	// channel, planned, appearance) to its words.
	Terms map[string][]string `toml:"terms" json:"terms,omitempty"`
	// Negative cues cancel a contact term near them: readiness, denial,
	// proposals, speculation ("ready to", "no plans", "denied").
	Negative []string `toml:"negative" json:"negative,omitempty"`
	// NegativeBefore and NegativeAfter: how many words before and after a
	// contact term a negative cue reaches (defaults 5 and 4).
	NegativeBefore int `toml:"negative_before" json:"negative_before,omitempty"`
	NegativeAfter  int `toml:"negative_after" json:"negative_after,omitempty"`
	// Denial cues cancel the contact terms of their sentence within
	// DenialReach words on either side: denials, cancellations, "not
	// confirmed", "nothing has been agreed", "put on hold", "Kein Treffen".
	Denial []string `toml:"denial" json:"denial,omitempty"`
	// DenialReach: how many words before and after a contact term a denial
	// or background cue reaches (default 12).
	DenialReach int `toml:"denial_reach" json:"denial_reach,omitempty"`
	// Background cues mark a sentence that mentions a past contact as
	// background ("the two last met in 2022", "years ago"): its contact
	// terms do not count. A story whose title reports the contact still
	// fires from the title.
	Background []string `toml:"background" json:"background,omitempty"`
	// PastYears: a sentence of the summary or content that dates its
	// contact to a year before the item's publication ("met in November
	// 2022", "in 2019"; not "since 2022") is background too.
	PastYears bool `toml:"past_years" json:"past_years,omitempty"`
	// Veto cues anywhere in an item cancel all its contacts: an unanswered
	// proposal ("yet to respond") reports no contact.
	Veto []string `toml:"veto" json:"veto,omitempty"`
}

// ActorSpec is one covered office: the head of an agency, or a minister.
type ActorSpec struct {
	// ID names the actor in rules and alerts, e.g. "ru-svr".
	ID string `toml:"id" json:"id"`
	// Country is a key of Countries. Empty makes this a role ("foreign
	// minister", "spy chief") whose country is read from the words next to
	// it ("Egypt's intelligence chief", "son homologue iranien"); a matched
	// role is reported with the id "<country>-<id>", e.g. "eg-intel".
	Country string `toml:"country" json:"country,omitempty"`
	// Office is shown in alerts, e.g. "SVR Director".
	Office string `toml:"office" json:"office"`
	// Kind is "intel" or "diplomatic".
	Kind string `toml:"kind" json:"kind"`
	// Titles denote the office holder by themselves ("CIA director",
	// "secretary of state", "spy chief").
	Titles []string `toml:"titles" json:"titles,omitempty"`
	// Plurals are plural titles ("foreign ministers"): several holders,
	// which with two countries or a group word nearby make a contact alone.
	Plurals []string `toml:"plurals" json:"plurals,omitempty"`
	// Agencies are names of the agency or ministry ("CIA", "Mossad",
	// "intelligence service"). Alone they are the institution, not its
	// head: they count only with a head word next to them.
	Agencies []string `toml:"agencies" json:"agencies,omitempty"`
	// Holders are the office holders by name, each with an optional term.
	Holders []HolderSpec `toml:"holders" json:"holders,omitempty"`
	// Defer, for a role: when the item also names a covered office of the
	// role's country (any of them, for a group), the role takes that
	// office's kind. "Iranian security chief" next to Ali Larijani, Iran's
	// security council secretary, is an adviser, not an intelligence head.
	// Offices of both kinds named for the country leave the role as it is.
	Defer bool `toml:"defer" json:"defer,omitempty"`
	// Collisions: when any of these appears in an item, this actor's
	// titles, agency names and holder names do not count there ("Financial
	// Stability Board" for FSB, "Culinary Institute" for CIA, a US state's
	// secretary of state).
	Collisions []string `toml:"collisions" json:"collisions,omitempty"`
}

// HolderSpec is a person who holds (or held) an office.
type HolderSpec struct {
	// Name is the full name as usually written.
	Name string `toml:"name" json:"name"`
	// Aliases are other spellings: surnames, transliterations.
	Aliases []string `toml:"aliases" json:"aliases,omitempty"`
	// From and Until bound the term ("2021-03", "2025-01-20"; both
	// inclusive, either may be empty). Outside it, in an item with a
	// publication date, the name does not count as the office.
	From  string `toml:"from" json:"from,omitempty"`
	Until string `toml:"until" json:"until,omitempty"`
}

// Overlay is a configuration's [rules] table: changes to a base Spec,
// normally the built-in Defaults, applied by Spec.Merge. Its keys are the
// Spec's, with three differences: an actor or rule can say remove = true; a
// number or boolean left out keeps the base's value (hence the pointers);
// and defaults = false starts from an empty Spec instead of the base.
type Overlay struct {
	// Defaults = false drops the base: the overlay is then the whole Spec.
	Defaults *bool `toml:"defaults"`
	// Countries: words added to a base country, or a new country.
	Countries map[string][]string `toml:"countries"`
	// Groups and Counterparts: words added to the base's.
	Groups       []string    `toml:"groups"`
	Counterparts []string    `toml:"counterparts"`
	Blocks       []string    `toml:"blocks"`
	Heads        HeadOverlay `toml:"heads"`
	// Actors replace the base actor of the same id, remove it, or are added.
	Actors  []ActorChange  `toml:"actor"`
	Contact ContactOverlay `toml:"contact"`
	// Rules replace the base rule of the same name, remove it, or are added.
	Rules []RuleChange `toml:"rule"`
}

// HeadOverlay changes a HeadSpec: lists are added to, Span replaced.
type HeadOverlay struct {
	Words  []string `toml:"words"`
	Plural []string `toml:"plural"`
	Links  []string `toml:"links"`
	Void   []string `toml:"void"`
	Span   *int     `toml:"span"`
}

// ContactOverlay changes a ContactSpec: lists (and each kind's terms) are
// added to, numbers and PastYears replaced.
type ContactOverlay struct {
	Window         *int                `toml:"window"`
	Terms          map[string][]string `toml:"terms"`
	Negative       []string            `toml:"negative"`
	NegativeBefore *int                `toml:"negative_before"`
	NegativeAfter  *int                `toml:"negative_after"`
	Denial         []string            `toml:"denial"`
	DenialReach    *int                `toml:"denial_reach"`
	Background     []string            `toml:"background"`
	PastYears      *bool               `toml:"past_years"`
	Veto           []string            `toml:"veto"`
}

// ActorChange is an actor of an Overlay: a whole ActorSpec, or with Remove
// just the ID of a base actor to drop.
type ActorChange struct {
	ActorSpec
	Remove bool `toml:"remove"`
}

// RuleChange is a rule of an Overlay: a whole RuleSpec, or with Remove just
// the Name of a base rule to drop.
type RuleChange struct {
	model.RuleSpec
	Remove bool `toml:"remove"`
}

// WithOverrides returns s with a guild's overrides applied: each override
// replaces the rule of the same name, adds it when there is none, or
// removes it when its Rule is nil. s itself is not changed.
func (s Spec) WithOverrides(ov []model.Override) Spec {
	out := s
	out.Rules = slices.Clone(s.Rules)
	for _, o := range ov {
		i := slices.IndexFunc(out.Rules, func(r model.RuleSpec) bool { return r.Name == o.Name })
		switch {
		case o.Rule == nil && i >= 0:
			out.Rules = slices.Delete(out.Rules, i, i+1)
		case o.Rule == nil:
		case i >= 0:
			out.Rules[i] = *o.Rule
		default:
			out.Rules = append(out.Rules, *o.Rule)
		}
	}
	return out
}
