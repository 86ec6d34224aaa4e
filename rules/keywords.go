package rules

import "github.com/backchannel/backchannel/model"

// Keyword rules: any of the RE2 patterns (case-insensitive) in the chosen
// fields, none of the exclude patterns, and when actor ids are given, at
// least one of those actors found in the item.

func (v *Vocabulary) matchKeywords(sc *scratch, r *rule) (model.Match, bool) {
	kw, field, ev := v.keywordHits(sc, r)
	if len(kw) == 0 || v.excluded(sc, r) {
		return model.Match{}, false
	}
	m := model.Match{Keywords: kw, Field: fieldNames[field], Evidence: validIn(ev, sc.fields[field].f.valid)}
	if r.actors != nil {
		ms := v.offices(sc)
		for i := range ms {
			mn := &ms[i]
			if v.actorWanted(r, mn) {
				m.Actors = append(m.Actors, v.actorHit(sc, mn, nil))
			}
		}
		if len(m.Actors) == 0 {
			return model.Match{}, false
		}
	}
	return m, true
}

// keywordHits returns the rule's keyword patterns that match its fields,
// the field of the first hit and the sentence around it.
func (v *Vocabulary) keywordHits(sc *scratch, r *rule) (kw []string, field int, evidence string) {
	for i, re := range r.keywords {
		for fi := range sc.fields {
			if r.fields&(1<<fi) == 0 {
				continue
			}
			fs := &sc.fields[fi]
			loc := re.FindStringIndex(fs.f.src)
			if loc == nil {
				continue
			}
			if len(kw) == 0 {
				field, evidence = fi, fs.around(loc[0], loc[1])
			}
			kw = append(kw, r.spec.Keywords[i])
			break
		}
	}
	return kw, field, evidence
}

// excluded reports whether any exclude pattern matches the rule's fields.
func (v *Vocabulary) excluded(sc *scratch, r *rule) bool {
	for _, re := range r.exclude {
		for fi := range sc.fields {
			if r.fields&(1<<fi) != 0 && re.MatchString(sc.fields[fi].f.src) {
				return true
			}
		}
	}
	return false
}

// around returns the sentence holding source bytes [b0, b1), or the field
// text when the span does not fall on a word.
func (fs *fieldScan) around(b0, b1 int) string {
	for _, sn := range fs.sents {
		if sn.t0 >= sn.t1 {
			continue
		}
		start := fs.f.at(int(fs.toks[sn.t0].b0))
		end := fs.f.at(int(fs.toks[sn.t1-1].b1 - 1))
		if b0 >= start && b0 <= end+4 {
			return truncate(fs.sentenceText(int32(indexOfSentence(fs, sn))), maxEvidence)
		}
	}
	return truncate(fs.f.src, maxEvidence)
}

func indexOfSentence(fs *fieldScan, sn sentence) int {
	return int(fs.toks[sn.t0].sent)
}
