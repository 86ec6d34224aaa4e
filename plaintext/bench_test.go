package plaintext

import "testing"

// typicalSummary is the description of an item of feeds/bench_test.go's
// feeds: a typical news summary of two paragraphs with inline markup, a
// link and an entity.
const typicalSummary = `<p>The foreign ministers of both countries held <b>talks</b> on Tuesday, officials said. <a href="https://news.example.org/x">Read more</a></p><p>Story 7 continues with details of the meeting, the delegations and what was agreed &amp; what was not.</p>`

func BenchmarkFromHTML(b *testing.B) {
	b.SetBytes(int64(len(typicalSummary)))
	for b.Loop() {
		_ = FromHTML(typicalSummary)
	}
}

func BenchmarkFromHTMLLines(b *testing.B) {
	b.SetBytes(int64(len(typicalSummary)))
	for b.Loop() {
		_ = FromHTMLLines(typicalSummary)
	}
}

// BenchmarkFromHTMLPlain is a title: no markup, nothing to change.
func BenchmarkFromHTMLPlain(b *testing.B) {
	const title = "Story 7: ministers meet in Ankara for talks"
	for b.Loop() {
		_ = FromHTML(title)
	}
}

func BenchmarkTruncate(b *testing.B) {
	s := FromHTML(typicalSummary)
	for b.Loop() {
		_ = Truncate(s, 120)
	}
}
