package commands

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/rulebook"
	"github.com/backchannel/backchannel/rules"
)

// TestRulesTestLanguages runs /rules test with the built-in rules over
// texts in Russian and Chinese: the answer names the rule and quotes the
// officials, the contact and the evidence as written, in their script.
func TestRulesTestLanguages(t *testing.T) {
	spec, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.book = rulebook.NewBook(set, e.store, rulebook.Options{})
	e.h = New(Options{
		Subscriptions: e.store, Alerts: e.store, Rules: e.store, Book: e.book,
		Feeds: e.store, Prober: e.prober, Scheduler: e.sched,
		Now:     func() time.Time { return e.now },
		Logger:  slog.New(e.panics),
		Metrics: metrics.NewUnregistered(),
	})
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"russian", "Нарышкин провел телефонный разговор с директором ЦРУ Рэтклиффом",
			[]string{"intel-heads", "“Нарышкин”", "“телефонный", "Нарышкин провел телефонный разговор с директором ЦРУ Рэтклиффом"}},
		{"chinese", "中國國家安全部部長會見美國中央情報局局長",
			[]string{"intel-heads", "(CN)", "(US)", "“會見”", "中國國家安全部部長會見美國中央情報局局長"}},
		{"chinese, no contact", "北京国安主场2比1逆转上海申花", []string{"None of this server's rules fires"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := e.run(t, slash(memberA, "rules", sub("test", str("text", c.text)))).text()
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
