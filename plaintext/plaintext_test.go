package plaintext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFromHTML(t *testing.T) {
	for _, tc := range []struct{ in, want, lines string }{
		{"", "", ""},
		{"  plain   text\n", "plain text", "  plain   text\n"},
		{"<p>a</p><p>b</p>", "a b", "\na\n\nb\n"},
		{"<p>One.</p><p>Two</p>", "One. Two", "\nOne.\n\nTwo\n"},
		// A '<' that cannot start a tag is text.
		{"a < b and c > d", "a < b and c > d", "a < b and c > d"},
		{"I <3 feeds, x<-y", "I <3 feeds, x<-y", "I <3 feeds, x<-y"},
		{"ends in <", "ends in <", "ends in <"},
		{"Ping <@!42> and <#77>", "Ping <@!42> and <#77>", "Ping <@!42> and <#77>"},
		// Entities are decoded after tags are removed, and twice.
		{"AT&amp;T &lt;tag&gt; &#8217;", "AT&T <tag> ’", "AT&T <tag> ’"},
		{"Egypt&amp;#8217;s", "Egypt\u2019s", "Egypt\u2019s"},
		{"Mossad &amp; CIA", "Mossad & CIA", "Mossad & CIA"},
		{"non&nbsp;breaking", "non breaking", "non\u00a0breaking"},
		{"<b>a</b>&nbsp;&nbsp;b&#8203;c", "a b c", "a\u00a0\u00a0b\u200bc"},
		// Script and style bodies are dropped, whatever their case.
		{"x<script>evil()</script>y", "x y", "x y"},
		{"x<SCRIPT type=a>evil()</Script>y", "x y", "x y"},
		{"x<sCript>\xd7\xd7</SCRIPT>y", "x y", "x y"},
		{"x<style>p{}</style>y", "x y", "x y"},
		{"x<script>a='</scripts>'</script >y", "x y", "x y"},
		{"x<script>if (a<b) {}</script>y", "x y", "x y"},
		{"a</script>b", "a b", "a b"},
		// Comments and declarations separate words.
		{"a<!-- hidden -->b", "a b", "a b"},
		{"a<!-- x > y -->b", "a b", "a b"},
		{"a<!-->b", "a b", "a b"},
		{"<!DOCTYPE html><?xml version='1.0'?>a", "a", "  a"},
		// Inline elements do not separate words, block ones end lines,
		// others (images, unknown elements) separate words.
		{"<em>hot</em>line, <b>x</b> y", "hotline, x y", "hotline, x y"},
		{"Ka<b>lın</b>", "Kalın", "Kalın"},
		{"super<wbr>cali<span>fragi</span>", "supercalifragi", "supercalifragi"},
		{"<li>one</li><li>two</li>", "one two", "\none\n\ntwo\n"},
		{"<br/>line<br>break<BR />x", "line break x", "\nline\nbreak\nx"},
		{"<h2 class=t>Head</h2>text", "Head text", "\nHead\ntext"},
		{"<td>a</td><td>b</td>", "a b", "\na\n\nb\n"},
		{"a<img src=x.png>b", "a b", "a b"},
		{"a<o:p></o:p>b", "a b", "a  b"},
		{"a<custom-tag>b</custom-tag>c", "a b c", "a b c"},
		// A '>' inside a quoted attribute value does not end the tag.
		{`<a href="https://x.example" title="a > b">l</a>`, "l", "l"},
		{`<img alt='1 > 0'>x`, "x", " x"},
		{`<a title=it's>x</a>`, "x", "x"},
		// What is left open at the end is dropped rather than shown.
		{"unterminated <a href=", "unterminated", "unterminated "},
		{`unterminated <a href="x>y`, "unterminated", "unterminated "},
		{"unterminated comment <!-- x", "unterminated comment", "unterminated comment "},
		{"script never closed<script>x", "script never closed", "script never closed"},
		// White space.
		{"already collapsed", "already collapsed", "already collapsed"},
		{"trailing ", "trailing", "trailing "},
		{" leading", "leading", " leading"},
		{"tab\there", "tab here", "tab\there"},
		{"nel\u0085x\u00a0y", "nel x y", "nel\u0085x\u00a0y"},
		{"café  au lait", "café au lait", "café  au lait"},
		{"<p>\xff</p>", "\xff", "\n\xff\n"},
	} {
		if got := FromHTML(tc.in); got != tc.want {
			t.Errorf("FromHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := FromHTMLLines(tc.in); got != tc.lines {
			t.Errorf("FromHTMLLines(%q) = %q, want %q", tc.in, got, tc.lines)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		" ":                      "",
		"a":                      "a",
		"a b":                    "a b",
		"  a \n\t b  ":           "a b",
		"a\u00a0\u2028b":         "a b",
		"a\u200bb\ufeff":         "a b",
		"Foreign\nMinister (Fi)": "Foreign Minister (Fi)",
		"\xff \xfe":              "\xff \xfe",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOneLineDoesNotAllocateForCollapsedText(t *testing.T) {
	s := "The foreign ministers met in Ankara on Tuesday, officials said."
	if n := testing.AllocsPerRun(100, func() { _ = OneLine(s) }); n != 0 {
		t.Errorf("OneLine allocated %v times on collapsed text", n)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 5, ""},
		{"short", 5, "short"},
		{"short", 10, "short"},
		{"longer", 5, "long…"},
		{"a b c", 4, "a b…"},
		{"a   bcd", 4, "a…"},
		{"ab", 1, "…"},
		{"a", 1, "a"},
		{"abc", 0, ""},
		{"abc", -3, ""},
		{"Ünïcödé", 4, "Ünï…"},
		{"日本語のテキスト", 5, "日本語の…"},
		{"ab\xffcd", 4, "ab\xff…"},
		{"ab\u00a0\u00a0cdef", 5, "ab…"},
	} {
		got := Truncate(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > max(tc.n, 0) {
			t.Errorf("Truncate(%q, %d) has %d runes", tc.in, tc.n, n)
		}
	}
}

// Set BACKCHANNEL_UPDATE_GOLDEN=1 to rewrite the golden files.
func updateGolden() bool { return os.Getenv("BACKCHANNEL_UPDATE_GOLDEN") == "1" }

// TestGolden converts whole feed items as publishers write them: each
// testdata/html/NAME.html gives NAME.txt (FromHTML) and NAME.lines.txt
// (FromHTMLLines).
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "html", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(in, ".html")
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range []struct {
				path string
				got  string
			}{
				{name + ".txt", FromHTML(string(src)) + "\n"},
				{name + ".lines.txt", FromHTMLLines(string(src))},
			} {
				if updateGolden() {
					if err := os.WriteFile(out.path, []byte(out.got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(out.path)
				if err != nil {
					t.Fatal(err)
				}
				if out.got != string(want) {
					t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", out.path, out.got, want)
				}
			}
		})
	}
}
