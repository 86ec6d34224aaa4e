package rules

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/model"
)

var (
	fuzzSetOnce sync.Once
	fuzzSet     *Set
)

// FuzzMatch runs the default rules over arbitrary text: no panic,
// everything a match quotes comes from the item itself, and every hit's
// tokens are those of its bytes (checkHits).
func FuzzMatch(f *testing.F) {
	f.Add("CIA chief Burns met Russian spy chief in Ankara", "<p>The CIA director met SVR head Sergei Naryshkin.</p>", "")
	f.Add("MİT Başkanı Kalın, CIA Direktörü Ratcliffe ile görüştü", "Kalın&amp;#8217;s", "<script>x</script>")
	f.Add("U.S. Sec. of State Rubio met Lavrov?", ";;;...", "\u0301\u0301 ı İ ß")
	f.Add("", "", "")
	f.Add("<<<>>>&#;&amp", "'s 's - — –", "homologue* Naryshkin's")
	for _, seed := range scriptSeeds {
		f.Add(seed, seed, "")
	}
	f.Fuzz(func(t *testing.T, title, summary, content string) {
		fuzzSetOnce.Do(func() { fuzzSet = defaultSet(t) })
		a := model.Article{Title: title, Summary: summary, Content: content}
		valid := utf8.ValidString(title) && utf8.ValidString(summary) && utf8.ValidString(content)
		all := cleanText(truncate(title, maxTitle)) + cleanText(truncate(summary, maxSummary)) + cleanText(truncate(content, maxContent))
		for _, m := range fuzzSet.Match(a) {
			for _, h := range m.Actors {
				if valid && !strings.Contains(all, h.Alias) {
					t.Errorf("alias %q not in the item", h.Alias)
				}
			}
			if valid && !strings.Contains(all, m.ContactTerm) {
				t.Errorf("contact term %q not in the item", m.ContactTerm)
			}
			if !utf8.ValidString(m.Evidence) {
				t.Errorf("evidence %q is not valid UTF-8", m.Evidence)
			}
		}
		sc := fuzzSet.vocab.read(a)
		defer fuzzSet.vocab.scratch.Put(sc)
		for i := range sc.fields {
			checkHits(t, &sc.fields[i])
		}
	})
}

// scriptSeeds are texts in every script the matcher reads specially:
// inflected Russian and Ukrainian with Latin look-alikes, Chinese
// (traditional and simplified) and Japanese without spaces, Korean with
// particles, Arabic with vowel marks and tatweel, Persian with zero-width
// non-joiners, Hebrew with points and gershayim, mixed directions with
// bidi controls, runs of combining marks, and bytes that are not UTF-8.
var scriptSeeds = []string{
	"Нарышкин провёл телефонный разговор с директором ЦРУ Рэтклиффом",
	"Нaрышкин и Сибіга провели переговори; МИ-6, СВР",
	"中國國家安全部部長會見美國中央情报局局长。北京国安２比１",
	"CIA長官が来日、内閣情報官と会談　ＣＩＡ",
	"국정원장, 워싱턴서 CIA 국장과 회동했다 한미 외교장관회담",
	"رَئِيسُ المُخابَرات المصـــرية يلتقي مدير وكالة المخابرات المركزية الأمريكية ٢٠٢٤",
	"روسای سازمان‌های اطلاعاتی روسیه و آمریکا تلفنی گفت‌وگو می‌کنند",
	"ראש השב״כ נפגש עם ראש המודיעין המצרי; שב''כ אמ\"ן וְהַמּוֹסָד",
	"\u202bמדיר\u202c CIA \u200fوزير\u200e Lavrov \u2066x\u2069 \ufeff",
	"a\u0301\u0301\u0301\u0301\u0301\u0301 \u0301 е\u0308 ـــ \u200c\u200c\u200d",
	"\xff\xfe\xd0\xd7\x80 СВР \xe4\xb8 中\xe5",
}

// FuzzFold folds and tokenizes arbitrary text: no panic; the folded text is
// UTF-8 whose non-ASCII runes are all letters or digits; every byte has
// the offset of a source rune, in order; folding with and without offsets
// agrees; tokens and sentences are well formed and quote their source,
// and foldTokens splits them as tokenize does.
func FuzzFold(f *testing.F) {
	for _, s := range scriptSeeds {
		f.Add(s)
	}
	f.Add("")
	f.Add("U.S. officials met Mr. Smith. Then talks began; no more? Yes")
	f.Fuzz(func(t *testing.T, src string) {
		var fd folded
		fd.src = src
		fd.text, fd.from = fold(nil, make([]int32, 0, 16), src)
		if len(fd.text) != len(fd.from) {
			t.Fatalf("%d bytes, %d offsets", len(fd.text), len(fd.from))
		}
		if plain := Fold(src); plain != string(fd.text) {
			t.Fatalf("Fold %q, fold with offsets %q", plain, fd.text)
		}
		if got, want := validUTF8(src), strings.ToValidUTF8(src, "\uFFFD"); got != want {
			t.Fatalf("validUTF8 %q, strings.ToValidUTF8 %q", got, want)
		}
		for _, stem := range []bool{true, false} {
			fast, fastFrom := foldWith(nil, make([]int32, 0, 16), src, stem, foldTable())
			slow, slowFrom := foldWith(nil, make([]int32, 0, 16), src, stem, nil)
			if !bytes.Equal(fast, slow) || !slices.Equal(fastFrom, slowFrom) {
				t.Fatalf("stem %v: fold with the table %q %v, without %q %v", stem, fast, fastFrom, slow, slowFrom)
			}
		}
		if !utf8.Valid(fd.text) {
			t.Fatalf("folded text %q is not UTF-8", fd.text)
		}
		for _, r := range string(fd.text) {
			if r >= utf8.RuneSelf && scriptOf(r) == scNone {
				t.Fatalf("folded text %q holds %U, not a letter or digit", fd.text, r)
			}
		}
		if strings.Contains(string(fd.text), "  ") || strings.HasPrefix(string(fd.text), " ") {
			t.Fatalf("folded text %q has stray spaces", fd.text)
		}
		for i, at := range fd.from {
			if at < 0 || int(at) >= len(src) || i > 0 && at < fd.from[i-1] {
				t.Fatalf("offset %d of byte %d out of order or range (source %d bytes)", at, i, len(src))
			}
		}
		toks, sents := tokenize(&fd, nil, nil)
		checkFoldTokens(t, src)
		prevEnd, prevPos := int32(0), int32(-1)
		for _, tk := range toks {
			if tk.b0 < prevEnd || tk.b1 <= tk.b0 || tk.pos <= prevPos {
				t.Fatalf("token %+v after end %d, pos %d", tk, prevEnd, prevPos)
			}
			for b := tk.b0; b < tk.b1; b++ {
				if !isWordByte(fd.text[b]) {
					t.Fatalf("token %q holds a non-word byte", fd.text[tk.b0:tk.b1])
				}
			}
			if q := fd.quote(int(tk.b0), int(tk.b1)); !strings.HasPrefix(src[fd.from[tk.b0]:], q) || q == "" {
				t.Fatalf("token %q quotes %q, not in the source", fd.text[tk.b0:tk.b1], q)
			}
			prevEnd, prevPos = tk.b1, tk.pos
		}
		next := int32(0)
		for _, sn := range sents {
			if sn.t0 != next || sn.t1 <= sn.t0 {
				t.Fatalf("sentence %+v does not follow %d", sn, next)
			}
			next = sn.t1
		}
		if int(next) != len(toks) {
			t.Fatalf("sentences end at token %d of %d", next, len(toks))
		}
	})
}

// FuzzCompile builds a spec from arbitrary aliases, terms and patterns:
// Compile either refuses it with SpecErrors or returns a Set that matches
// arbitrary text without panicking.
func FuzzCompile(f *testing.F) {
	f.Add("Naryshkin*", "meet*", "chief", `\bSVR\b`, "Naryshkin meets the chief")
	f.Add("MIT", "talks", "head", "(", "MIT head talks")
	f.Add("'", "*", "", "", "")
	f.Add("U.S.", "a", "a", "a", "a a a a")
	f.Fuzz(func(t *testing.T, alias, term, head, pattern, text string) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("slow: %v for %q %q %q %q (%d bytes of text)", d, alias, term, head, pattern, len(text))
			}
		}()
		spec := Spec{
			Countries: map[string][]string{"AA": {alias}, "BB": {"bb"}},
			Heads:     HeadSpec{Words: []string{head}, Links: []string{"of"}},
			Actors: []ActorSpec{
				{ID: "aa-x", Country: "AA", Office: "x", Kind: "intel", Agencies: []string{alias}, Holders: []HolderSpec{{Name: alias}}},
				{ID: "role", Office: "y", Kind: "diplomatic", Titles: []string{term + " " + alias}, Plurals: []string{alias}},
			},
			Counterparts: []string{alias},
			Contact:      ContactSpec{Terms: map[string][]string{"meeting": {term}}, Negative: []string{head}},
			Rules: []model.RuleSpec{
				{Name: "c", Contact: true},
				{Name: "k", Keywords: []string{pattern}, Exclude: []string{alias}},
			},
		}
		set, err := Compile(spec)
		if err != nil {
			var list SpecErrors
			if len(err.Error()) == 0 || !asSpecErrors(err, &list) || len(list) == 0 {
				t.Fatalf("error %v is not a non-empty SpecErrors", err)
			}
			return
		}
		set.Match(model.Article{Title: text, Summary: alias + " " + text, Content: term})
	})
}

func asSpecErrors(err error, list *SpecErrors) bool {
	l, ok := err.(SpecErrors)
	*list = l
	return ok
}
