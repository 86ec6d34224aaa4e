package rules

import "github.com/backchannel/backchannel/model"

// Batch matches one article against the rule sets of several guilds. The
// text is read (folded, scanned, its offices and contact terms found) once
// per Vocabulary, which is the bulk of the work, and each Set's rules are
// then evaluated over that reading, once per Set: a hundred guilds with
// rules of their own over the default vocabulary cost one scan, not a
// hundred. Set.Match(a) and Batch.Match(s) return the same matches.
//
// A Batch is for one goroutine. Close gives its working memory back to
// the vocabularies' pools; a Batch not closed is simply collected.
type Batch struct {
	a        model.Article
	readings []reading
	matches  map[*Set][]model.Match
}

// reading is an article read by one vocabulary.
type reading struct {
	v  *Vocabulary
	sc *scratch
}

// NewBatch returns a Batch for a.
func NewBatch(a model.Article) *Batch {
	return &Batch{a: a, matches: map[*Set][]model.Match{}}
}

// Match returns what s.Match would for the batch's article. A Set asked
// again gets the same slice: treat it as read-only.
func (b *Batch) Match(s *Set) []model.Match {
	if ms, ok := b.matches[s]; ok {
		return ms
	}
	var sc *scratch
	for _, r := range b.readings {
		if r.v == s.vocab {
			sc = r.sc
			break
		}
	}
	if sc == nil {
		sc = s.vocab.read(b.a)
		b.readings = append(b.readings, reading{v: s.vocab, sc: sc})
	}
	ms := s.vocab.evaluate(sc, s.rules)
	b.matches[s] = ms
	return ms
}

// Close returns the batch's working memory; the batch must not be used
// afterwards.
func (b *Batch) Close() {
	for _, r := range b.readings {
		r.v.scratch.Put(r.sc)
	}
	b.readings = nil
}
