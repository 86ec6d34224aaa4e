package rules

import (
	"bytes"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Kalın":                 "kalin",
		"İbrahim KALIN":         "ibrahim kalin",
		"Präsident":             "prasident",
		"Außenminister":         "aussenminister",
		"BND-Präsident":         "bnd prasident",
		"Jean-Noël  Barrot":     "jean noel barrot",
		"Egypt’s":               "egypt's",
		"Đurić":                 "duric",
		"ﬁnance":                "finance",
		"Ｃｈｉｅｆ":                 "chief",
		"Al–Thani":              "al thani",
		"a\u00a0b":              "a b",
		"Naryšhkin, Narychkine": "naryshkin, narychkine",
		// Russian and Ukrainian: stems, ё/е, Latin look-alikes, acronyms kept.
		"Нарышкин Нарышкина Нарышкиным": "нарышкин нарышкин нарышкин",
		"Лавров Лаврова Лавровым":       "лавр лавр лавр",
		"провёл переговоры":             "провел переговор",
		"министром иностранных дел":     "министр иностранн дел",
		"Нaрышкин":              "нарышкин", // Latin a
		"СВР ЦРУ МИД":           "свр цру мид",
		"Україною Україна":      "украін украін",
		"Сергей Сергея Сергеем": "серг серг серг",
		// Arabic and Persian: hamza and alef forms, yeh and kaf, tatweel,
		// vowel marks, zero-width non-joiners and their suffixes.
		"أمير إبراهيم آل":            "امير ابراهيم ال",
		"مُحَمَّد ـــ كـــتاب":       "محمد كتاب",
		"ی ى ي ک ك":                  "ي ي ي ك ك",
		"سازمان‌های اطلاعاتی":        "سازمان اطلاعاتي",
		"سازمان های اطلاعاتی":        "سازمان اطلاعاتي",
		"می‌کنند گفت‌وگو":            "كنند گفتوگو",
		"۲۰۲۴ ٢٠٢٤":                  "2024 2024",
		"\u200fمدير\u200e CIA\u202b": "مدير cia",
		// Hebrew: points dropped, gershayim as '"'.
		"שָׁלוֹם":           "שלום",
		"השב״כ שב''כ אמ\"ן": `השב"כ שב"כ אמ"ן`,
		// Chinese and Japanese: traditional and shinjitai as simplified,
		// full-width forms, ideographic full stop as a sentence end.
		"國家安全部部長":    "国家安全部部长",
		"総理 関係 電話会談": "总理 关系 电话会谈",
		"ＣＩＡ局長。会談":   "cia局长\n会谈",
		"バーンズ・ガ":     "バーンズ ガ",
		// Korean syllables stay whole.
		"국정원장과": "국정원장과",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"<p>One.</p><p>Two</p>":             "\nOne.\n\nTwo\n",
		"Mossad &amp; CIA":                  "Mossad & CIA",
		"Egypt&amp;#8217;s":                 "Egypt\u2019s",
		"Ka<b>lın</b>":                      "Kalın",
		"a < b":                             "a < b",
		"x<script>alert(1)</script>y":       "x y",
		"x<sCript>\xd7\xd7</SCRIPT>y":       "x y",
		`<a href="https://x.example">l</a>`: "l",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSentences(t *testing.T) {
	f := folded{src: "U.S. officials met Mr. Smith. Then talks began; no more? Yes"}
	f.text, f.from = fold(nil, make([]int32, 0, 64), f.src)
	_, sents := tokenize(&f, nil, nil)
	if len(sents) != 4 {
		t.Fatalf("got %d sentences: %+v", len(sents), sents)
	}
	if !sents[2].question || sents[0].question {
		t.Errorf("question flags wrong: %+v", sents)
	}
}

func TestAliasCase(t *testing.T) {
	for in, want := range map[string]caseRule{"MIT": caseAll, "MİT": caseAll, "Burns": caseFirst, "spy chief": caseAny, "R&AW": caseAll, "A": caseFirst} {
		if got := aliasCase(in); got != want {
			t.Errorf("aliasCase(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestFoldTable compares, for every rune the fold table holds (and the
// Chinese and Korean ones read without it), folding
// with the table and without it (the slow path, x/text's decomposition),
// alone and between words of several scripts, offsets included.
func TestFoldTable(t *testing.T) {
	tab := foldTable()
	contexts := []string{"%s", "Ab%sКд%s%sx", "ПРИ%sВЕТ %s", "ال%sمخ", "中%s國", " %s\u200c%s "}
	bad := 0
	var runes []rune
	for r := rune(utf8.RuneSelf); r < foldTableMax; r++ {
		runes = append(runes, r)
	}
	for r := rune(wideMin); r <= wideMax; r++ {
		runes = append(runes, r)
	}
	// Chinese characters and Hangul syllables have fast paths of their own.
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		runes = append(runes, r)
	}
	for r := rune(0xAC00); r <= 0xD7A3; r++ {
		runes = append(runes, r)
	}
	for _, r := range runes {
		if bad >= 10 {
			break
		}
		for _, c := range contexts {
			src := strings.ReplaceAll(c, "%s", string(r))
			fast, fastFrom := foldWith(nil, []int32{}, src, true, tab)
			slow, slowFrom := foldWith(nil, []int32{}, src, true, nil)
			if !bytes.Equal(fast, slow) || !slices.Equal(fastFrom, slowFrom) {
				t.Errorf("%U in %q: table %q %v, slow path %q %v", r, c, fast, fastFrom, slow, slowFrom)
				bad++
			}
		}
	}
}

// TestScriptAt compares scriptAt and scriptLead, which read the lead
// byte of common blocks, with scriptOf for every letter or digit folded
// text may hold.
func TestScriptAt(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) || scriptOf(r) == scNone {
			continue
		}
		b := utf8.AppendRune(nil, r)
		if s, size := scriptAt(append(b, 'x'), 0); s != scriptOf(r) || size != len(b) {
			t.Fatalf("scriptAt(%U) = %v, %d; scriptOf %v, %d bytes", r, s, size, scriptOf(r), len(b))
		}
		if s, size := scriptLead(b[0], len(b)+1); size != 0 && (s != scriptOf(r) || size != len(b)) {
			t.Fatalf("scriptLead(%U) = %v, %d; scriptOf %v, %d bytes", r, s, size, scriptOf(r), len(b))
		}
	}
}

// checkFoldTokens compares foldTokens and sentences, which split words as
// fold writes them, with fold followed by tokenize, over the whole text;
// and the offsets foldTokens keeps as segs with those the slow path (fold
// without its table) writes byte by byte.
func checkFoldTokens(t *testing.T, src string) {
	t.Helper()
	want := folded{src: src}
	want.text, want.from = foldWith(nil, make([]int32, 0, 16), src, true, nil)
	wantToks, wantSents := tokenize(&want, nil, nil)
	got := folded{src: src}
	toks := got.foldTokens(nil)
	if got.valid != utf8.ValidString(src) {
		t.Fatalf("%q: foldTokens says valid %v", src, got.valid)
	}
	var stops []int32
	for i, c := range got.text {
		if stopByte(c) {
			stops = append(stops, int32(i))
		}
	}
	if !slices.Equal(got.stops, stops) {
		t.Fatalf("%q (folded %q): stops %v, want %v", src, got.text, got.stops, stops)
	}
	sents := sentences(&got, toks, nil)
	gotFrom := appendOffsets(nil, got.segs, src, len(got.text))
	if !bytes.Equal(got.text, want.text) || !slices.Equal(gotFrom, want.from) {
		t.Fatalf("%q: foldTokens folds to %q %v, fold to %q %v", src, got.text, gotFrom, want.text, want.from)
	}
	if !slices.Equal(toks, wantToks) || !slices.Equal(sents, wantSents) {
		t.Fatalf("%q (folded %q):\nfoldTokens %+v %+v\ntokenize   %+v %+v", src, got.text, toks, sents, wantToks, wantSents)
	}
}

// TestFoldTokens compares foldTokens with tokenize on words that fold
// rewrites (stems, mixed scripts, Persian affixes and plurals written
// apart), scripts with and without spaces side by side, digits, sentence
// marks of every kind, and every item of the corpora.
func TestFoldTokens(t *testing.T) {
	for _, src := range []string{
		"",
		"U.S. officials met Mr. Smith. Then talks began; no more? Yes! 2024.",
		"Нарышкиным и Лавровым; Нaрышкин (Latin a) СВР МИД 2024г",
		"سازمان های اطلاعاتی روسیه؛ می‌خواهند سازمان‌های والمخابرات ٢٠٢٤م",
		"CIA局长会见中情局长。国安部长2024年来访 ＣＩＡ１２",
		"국정원장, 워싱턴서 CIA국장과 회동했다? 한미",
		"ראש השב״כ נפגש; שב''כ 3מוסד",
		"a1b2 ab12cd ĀĒ ΑΘΗΝΑ Αθήνα1 e\u0301 ﬁnance ²³",
		"x.y. z . . ;;\n\n end",
	} {
		checkFoldTokens(t, src)
	}
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl", "testdata/extra.jsonl"} {
		for _, it := range loadCorpus(t, path) {
			checkFoldTokens(t, cleanText(it.Title))
			checkFoldTokens(t, cleanText(it.Summary))
		}
	}
}

// TestWordLists checks the word lists written as switches.
func TestWordLists(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func([]byte) bool
		yes  []string
	}{
		{"abbreviation", abbreviation, []string{"mr", "mrs", "ms", "dr", "st", "gen", "lt", "col", "maj", "sen", "rep", "gov", "adm", "sgt",
			"jr", "sr", "prof", "no", "vs", "brig", "capt", "mgr"}},
		{"noWord", noWord, []string{"no", "kein", "keine", "keinen", "aucun", "aucune", "ningun", "ninguna", "nessun", "nessuna", "geen"}},
	} {
		for _, w := range tc.yes {
			if !tc.f([]byte(w)) {
				t.Errorf("%s(%q) = false", tc.name, w)
			}
			for _, near := range []string{w + "s", w[:len(w)-1], "x" + w, strings.ToUpper(w)} {
				if tc.f([]byte(near)) && !slices.Contains(tc.yes, near) {
					t.Errorf("%s(%q) = true", tc.name, near)
				}
			}
		}
		if tc.f(nil) || tc.f([]byte("meeting")) {
			t.Errorf("%s: true for a word not listed", tc.name)
		}
	}
}

// TestUnspaced checks the one-compare unspaced against the scripts it
// stands for, over every script number.
func TestUnspaced(t *testing.T) {
	for s := script(0); s < 255; s++ {
		if want := s == scHan || s == scKana || s == scHangul; s.unspaced() != want {
			t.Errorf("script %d: unspaced %v, want %v", s, s.unspaced(), want)
		}
	}
}

// TestNotLower8 compares the first byte notLower8 marks with a byte by
// byte search, over every byte at every place among small letters and
// over random words of eight.
func TestNotLower8(t *testing.T) {
	first := func(s string) int {
		for i := 0; i < len(s); i++ {
			if s[i] < 'a' || s[i] > 'z' {
				return i
			}
		}
		return 8
	}
	check := func(s string) {
		got := 8
		if m := notLower8(s, 0); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if want := first(s); got != want {
			t.Fatalf("%q: first byte not a small letter %d, want %d", s, got, want)
		}
	}
	check("abcdefgh")
	for b := 0; b < 256; b++ {
		for at := 0; at < 8; at++ {
			w := []byte("azazazaz")
			w[at] = byte(b)
			check(string(w))
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		var w [8]byte
		for i := range w {
			if rng.IntN(3) == 0 {
				w[i] = byte(rng.IntN(256))
			} else {
				w[i] = byte('a' + rng.IntN(26))
			}
		}
		check(string(w[:]))
	}
}

// TestLetters2Counts checks the letter counts letters2 keeps in lanes of
// of twoLane bits over a run longer than it reads in one call, and the table
// entries it reads against the fold table's steps.
func TestLetters2Counts(t *testing.T) {
	tab := foldTable()
	src := strings.Repeat("Дд", 1_100_000) + "x"
	f := folder{word: -1, delta: noDelta}
	calls := 0
	for i := 0; i < len(src)-1; calls++ {
		i = f.letters2(src, i, tab)
	}
	if f.letters != 2_200_000 || f.upper != 1_100_000 || f.lower != 1_100_000 || calls < 3 {
		t.Errorf("letters %d, upper %d, lower %d in %d calls", f.letters, f.upper, f.lower, calls)
	}
	if string(f.dst) != strings.Repeat("дд", 1_100_000) {
		t.Errorf("folded to %d bytes", len(f.dst))
	}
	for r := rune(0); r < utf8.RuneSelf; r++ {
		// letters2 reads these for the overlong C0 and C1 sequences.
		if tab.two[r] != 0 {
			t.Fatalf("%U: entry %x", r, tab.two[r])
		}
	}
	for r := rune(utf8.RuneSelf); r < 0x800; r++ {
		e, two := tab.steps[r], tab.two[r]
		want := e.script != scNone && e.n == 2 && e.flags&stepZWNJ == 0
		if got := two&twoLetter != 0; got != want {
			t.Fatalf("%U: in letters2 %v, want %v", r, got, want)
		}
		counts := two >> twoCounts & (1<<(3*twoLane) - 1)
		wantCounts := uint64(e.flags&stepLetter) | uint64(e.flags&stepUpper/stepUpper)<<twoLane | uint64(e.flags&stepLower/stepLower)<<(2*twoLane)
		if want && (byte(two) != e.letter[0] || byte(two>>8) != e.letter[1] || uint16(two>>twoScripts) != 1<<e.script || counts != wantCounts || e.flags&^(stepLetter|stepUpper|stepLower) != 0) {
			t.Fatalf("%U: entry %x, step %+v", r, two, e)
		}
	}
}
