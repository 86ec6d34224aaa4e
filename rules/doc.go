// Package rules is backchannel's detector; the domain types it reads and
// returns are in package model.
//
// The detector reads an item (title, summary, content) and says whether it
// reports a contact between covered officials of two different countries:
// intelligence and security chiefs, foreign ministers, national security
// advisers and defence ministers. It works in four steps:
//
//  1. Text: HTML is stripped and entities decoded; the text is folded
//     (NFKC, lower case, diacritics removed, hyphens as spaces) and split
//     into words and sentences (see text.go, tokens.go). Each script has
//     its rules (script.go): Russian and Ukrainian words are reduced to
//     their stems, Arabic and Persian letter variants and marks are
//     unified, traditional Chinese reads as simplified, and every
//     character of Chinese, Japanese and Korean is a word of its own.
//  2. Scan: one automaton holding every alias of the Spec — countries,
//     offices, agency names, office holders, head words, contact terms,
//     cues — is walked from each word start, and in Arabic and Hebrew also
//     after each clitic prefix (automaton.go, scan.go); blocks and bound
//     one-character names settle what text without spaces holds.
//  3. Offices: hits become offices. An agency name counts only with a head
//     word ("CIA chief", "head of the CIA"); a role ("spy chief") takes its
//     country from the words around it; holder names count within their
//     term; "deputy" and "former" disqualify; collisions ("Financial
//     Stability Board") void an actor for the item (mentions.go).
//  4. Rules: a contact rule fires when two offices of different countries,
//     or one plural office naming several, and a contact term that no
//     negative cue cancels share a sentence within the rule's window, or
//     sit in the title and one sentence of the summary (match.go). Keyword
//     rules are RE2 patterns over the fields (keywords.go).
//
// The schema is Spec (spec.go). The built-in vocabulary and rules are
// defaults.toml, embedded and documented key by key in place; Defaults
// decodes them, and Spec.Merge applies a configuration's [rules] table (an
// Overlay) over them. Compile validates a Spec and returns an immutable
// *Set, safe for concurrent use; every problem comes back as a SpecErrors.
package rules
