package rules

import "testing"

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
