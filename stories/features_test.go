package stories

import (
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// rep is a report of a contact between the US and Russian foreign
// ministers, the match as the matcher gives it, the text as given.
func rep(pub, title, summary string) Report {
	t, err := time.Parse(time.RFC3339, pub)
	if err != nil {
		panic(err)
	}
	return Report{Ref: "r", Article: model.Article{Title: title, Summary: summary, Published: t},
		Matches: []model.Match{{Rule: "diplomatic-heads", Evidence: title, Actors: []model.ActorHit{
			{ID: "us-fm", Country: "US", Kind: "diplomatic", Office: "Secretary of State", Alias: "secretary of state"},
			{ID: "ru-fm", Country: "RU", Kind: "diplomatic", Office: "Foreign Minister", Alias: "foreign minister"},
		}}}}
}

func days(spans ...[2]string) []Span {
	var out []Span
	for _, s := range spans {
		from, _ := time.Parse(time.DateOnly, s[0])
		to, _ := time.Parse(time.DateOnly, s[1])
		out = append(out, Span{DayOf(from), DayOf(to)})
	}
	return out
}

func TestWhen(t *testing.T) {
	lex := newEnv(t).lex
	// 2025-03-12 is a Wednesday.
	const wed = "2025-03-12T12:00:00+03:00"
	for _, tc := range []struct {
		name           string
		pub, title, tx string
		want           []Span
		dated          bool
	}{
		{"undated: the last two days", wed, "Rubio and Lavrov met in Riyadh", "", days([2]string{"2025-03-10", "2025-03-12"}), false},
		{"announced: the coming week too", wed, "Rubio and Lavrov will meet in Riyadh", "", days([2]string{"2025-03-10", "2025-03-19"}), false},
		{"recently", wed, "Rubio and Lavrov recently met", "", days([2]string{"2025-02-26", "2025-03-12"}), false},
		{"last weekday", wed, "Rubio and Lavrov met on Monday", "", days([2]string{"2025-03-10", "2025-03-10"}), true},
		{"possessive weekday", wed, "Inside Monday's meeting of Rubio and Lavrov", "", days([2]string{"2025-03-10", "2025-03-10"}), true},
		{"today's weekday", wed, "Rubio and Lavrov meet on Wednesday", "", days([2]string{"2025-03-12", "2025-03-12"}), true},
		{"announced weekday: last or next", wed, "Rubio and Lavrov will meet on Monday", "", days([2]string{"2025-03-10", "2025-03-10"}, [2]string{"2025-03-17", "2025-03-17"}), true},
		{"weekday nearest the contact", wed, "The Kremlin confirmed on Wednesday that Lavrov and Rubio met on Monday", "", days([2]string{"2025-03-10", "2025-03-10"}), true},
		{"the day it was said", wed, "Rubio and Lavrov, the ministry said on Tuesday", "they talked about Ukraine", days([2]string{"2025-03-10", "2025-03-11"}), true},
		{"dateline", wed, "Rubio and Lavrov hold talks", "RIYADH, March 12 (Reuters) - Rubio and Lavrov held talks in Riyadh, officials said.", days([2]string{"2025-03-11", "2025-03-12"}), true},
		{"written date", wed, "Rubio and Lavrov met on 18 February", "", days([2]string{"2025-02-18", "2025-02-18"}), true},
		{"month first", wed, "Rubio and Lavrov met on February 18, 2025", "", days([2]string{"2025-02-18", "2025-02-18"}), true},
		{"French weekday", wed, "Rubio et Lavrov se sont rencontrés lundi", "", days([2]string{"2025-03-10", "2025-03-10"}), true},
		{"yesterday", wed, "Rubio and Lavrov met yesterday", "", days([2]string{"2025-03-11", "2025-03-11"}), true},
		{"earlier this week", wed, "Rubio and Lavrov talks earlier this week", "", days([2]string{"2025-03-10", "2025-03-12"}), true},
		{"a date of another year is background", wed, "Rubio and Lavrov met, the first meeting since 12 November 2022", "", days([2]string{"2025-03-10", "2025-03-12"}), false},
		{"month next to the contact: a look back", "2025-12-22T08:00:00-05:00", "The February meeting of Rubio and Lavrov, ten months on", "",
			days([2]string{"2025-02-01", "2025-02-28"}, [2]string{"2025-12-20", "2025-12-22"}), false},
		{"time zone of the report", "2025-03-11T22:00:00-04:00", "Rubio and Lavrov met on Tuesday", "", days([2]string{"2025-03-11", "2025-03-11"}), true},
		// Thursday evening in New York is Friday in Kuala Lumpur.
		{"a day ahead in Asia", "2025-07-10T22:00:00-04:00", "Rubio and Lavrov met on Friday in Kuala Lumpur", "", days([2]string{"2025-07-04", "2025-07-04"}, [2]string{"2025-07-11", "2025-07-11"}), true},
		{"undated, a day ahead in Asia", "2025-07-10T22:00:00-04:00", "Rubio and Lavrov met in Kuala Lumpur", "", days([2]string{"2025-07-08", "2025-07-11"}), false},
		{"next week", wed, "Rubio and Lavrov will meet next week", "", days([2]string{"2025-03-17", "2025-03-23"}), true},
		{"next week, in Russian", wed, "Лавров и Рубио встретятся на следующей неделе", "", days([2]string{"2025-03-17", "2025-03-23"}), true},
		{"a range of days, month first", wed, "Rubio and Lavrov will meet in Riyadh on March 17-18", "", days([2]string{"2025-03-17", "2025-03-18"}), true},
		{"a range of days, month last", wed, "Rubio and Lavrov will meet in Riyadh on 17-18 March", "", days([2]string{"2025-03-17", "2025-03-18"}), true},
		{"a range of days joined by a word", wed, "Rubio and Lavrov will meet in Riyadh on 17 and 18 March", "", days([2]string{"2025-03-17", "2025-03-18"}), true},
		{"a French range", wed, "Rubio et Lavrov se rencontreront à Riyad du 17 au 18 mars", "", days([2]string{"2025-03-17", "2025-03-18"}), true},
		{"a date and a year are no range", wed, "Rubio and Lavrov met on March 10, 2025", "", days([2]string{"2025-03-10", "2025-03-10"}), true},
		{"two dates far apart are no range", wed, "Rubio and Lavrov will meet on 3 and 28 March", "", days([2]string{"2025-03-28", "2025-03-28"}), true},
	} {
		f := lex.Extract(rep(tc.pub, tc.title, tc.tx))
		if !slices.Equal(f.When, tc.want) || f.Dated != tc.dated {
			t.Errorf("%s: When %s dated %v, want %s dated %v", tc.name, spansString(f.When), f.Dated, spansString(tc.want), tc.dated)
		}
	}
}

// TestWhenOtherScripts reads dates in scripts whose contact words the
// rules may not know yet: the contact term is given, as the rules will find
// it once they read the language.
func TestWhenOtherScripts(t *testing.T) {
	lex := newEnv(t).lex
	pub, _ := time.Parse(time.RFC3339, "2025-03-12T12:00:00+03:00")
	for _, tc := range []struct {
		name, text, contact string
		want                []Span
	}{
		{"Russian date", "Лавров и Рубио встретились 18 февраля", "встретились", days([2]string{"2025-02-18", "2025-02-18"})},
		{"Russian weekday", "Лавров и Рубио встретились во вторник", "встретились", days([2]string{"2025-03-11", "2025-03-11"})},
		{"Ukrainian weekday", "Сибіга і Рубіо зустрілися у понеділок", "зустрілися", days([2]string{"2025-03-10", "2025-03-10"})},
		{"Chinese date", "王毅3月11日同鲁比奥通电话", "通", days([2]string{"2025-03-11", "2025-03-11"})},
		{"Chinese weekday", "王毅星期一同鲁比奥通电话", "通", days([2]string{"2025-03-10", "2025-03-10"})},
		{"Korean date", "외교장관 3월 11일 회담", "회담", days([2]string{"2025-03-11", "2025-03-11"})},
		{"Arabic weekday", "التقى لافروف وروبيو يوم الثلاثاء", "التقى", days([2]string{"2025-03-11", "2025-03-11"})},
		{"Persian weekday", "عراقچی و لاوروف سه‌شنبه دیدار کردند", "دیدار", days([2]string{"2025-03-11", "2025-03-11"})},
		{"Hebrew weekday", "השרים נפגשו ביום שני", "נפגשו", days([2]string{"2025-03-10", "2025-03-10"})},
		{"German date", "Rubio und Lawrow trafen sich am 18. Februar", "trafen", days([2]string{"2025-02-18", "2025-02-18"})},
		{"Spanish date", "Rubio y Lavrov se reunieron el 18 de febrero", "reunieron", days([2]string{"2025-02-18", "2025-02-18"})},
		{"Korean day of the month alone", "조현 장관, 11일 왕이 부장과 회담", "회담", days([2]string{"2025-03-11", "2025-03-11"})},
		{"Chinese day of the month alone", "王毅11日会见赵显", "会", days([2]string{"2025-03-11", "2025-03-11"})},
		{"a day alone: of the month that brings it closest", "王毅28日会见赵显", "会", days([2]string{"2025-02-28", "2025-02-28"})},
		{"Korean: the day it was said, after the day of the talks", "외교부는 조현 장관이 14일 왕이 부장과 회담할 예정이라고 12일 밝혔다", "회담할",
			days([2]string{"2025-03-14", "2025-03-14"})},
	} {
		toks, _ := tokenize(nil, tc.text, 0, 0)
		var contacts []hit
		for i, tk := range toks {
			if tk.f == rules.Fold(tc.contact) {
				contacts = append(contacts, hit{i: i, j: i + 1})
			}
		}
		if len(contacts) == 0 {
			t.Fatalf("%s: no token %q in %q", tc.name, tc.contact, tc.text)
		}
		got, dated := lex.when(toks, contacts, nil, pub, false)
		if !slices.Equal(got, tc.want) || !dated {
			t.Errorf("%s: %s (dated %v), want %s", tc.name, spansString(got), dated, spansString(tc.want))
		}
	}
}

func TestModeRepeatSidelines(t *testing.T) {
	lex := newEnv(t).lex
	const pub = "2025-03-12T12:00:00Z"
	for _, tc := range []struct {
		title, summary string
		mode           Mode
		repeat         bool
		sidelines      bool
	}{
		{"Rubio and Lavrov hold phone call", "", ModeRemote, false, false},
		{"Rubio and Lavrov spoke by video link", "", ModeRemote, false, false},
		{"Лавров и Рубио провели телефонный разговор", "", ModeRemote, false, false},
		{"Rubio and Lavrov met in Riyadh", "", ModeInPerson, false, false},
		{"Rubio spoke with Lavrov in Riyadh", "", ModeUnknown, false, false},
		{"Rubio and Lavrov discuss summit preparations by phone", "", ModeRemote, false, false},
		{"Rubio and Lavrov discuss preparations for a meeting by phone", "", ModeUnknown, false, false},
		{"US and Chinese defence ministers talk by video as Busan summit nears", "", ModeRemote, false, false},
		{"Rubio calls for talks with Lavrov", "", ModeUnknown, false, false},
		{"Rubio and Lavrov talk again", "", ModeUnknown, true, false},
		{"Lavrov says he had a new call with Rubio", "", ModeRemote, true, false},
		{"New round of US-Russia talks opens", "", ModeUnknown, false, false},
		{"Rubio and Lavrov hold new talks", "", ModeUnknown, true, false},
		{"Rubio and Japan's new foreign minister hold talks", "", ModeInPerson, false, false},
		{"Rubio says talks with Lavrov in New York were useful", "", ModeUnknown, false, false},
		{"Second round of US-Russia talks opens", "", ModeUnknown, false, false},
		{"Rubio and Lavrov met and agreed to meet again", "", ModeInPerson, false, false},
		{"Rubio says Lavrov floated a new idea", "after their meeting", ModeInPerson, false, false},
		{"Rubio and Lavrov meet on the sidelines of the G20", "", ModeInPerson, false, true},
	} {
		f := lex.Extract(rep(pub, tc.title, tc.summary))
		if f.Mode != tc.mode || f.Repeat != tc.repeat || f.Sidelines != tc.sidelines {
			t.Errorf("%q: mode %v repeat %v sidelines %v, want %v %v %v", tc.title, f.Mode, f.Repeat, f.Sidelines, tc.mode, tc.repeat, tc.sidelines)
		}
	}
}

// TestWhenNearTheMatchedContact: a day named next to the contact words
// the matcher fired on wins over one next to other contact words.
func TestWhenNearTheMatchedContact(t *testing.T) {
	lex := newEnv(t).lex
	// 2025-10-30 is a Thursday.
	r := rep("2025-10-30T18:00:00+08:00", "Rubio to meet his Russian counterpart Sergei Lavrov in Riyadh on Friday",
		"Rubio held talks with Saudi officials on Thursday, officials said.")
	for _, tc := range []struct {
		term string
		want []Span
	}{
		{"", days([2]string{"2025-10-30", "2025-10-30"})}, // "held talks … on Thursday" stands closer
		{"to meet", days([2]string{"2025-10-24", "2025-10-24"}, [2]string{"2025-10-31", "2025-10-31"})},
	} {
		r.Matches[0].ContactTerm = tc.term
		if f := lex.Extract(r); !slices.Equal(f.When, tc.want) {
			t.Errorf("matched term %q: When %s, want %s", tc.term, spansString(f.When), spansString(tc.want))
		}
	}
}

// TestPluralOffices: a plural office stands for its role in each country
// named next to it, the configured office where there is one, and is kept
// as the office of no one country too.
func TestPluralOffices(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		pub, title string
		want       []Office
	}{
		{"2025-08-18T12:00:00Z", "India, China foreign ministers meet as ties thaw", []Office{{ID: "multi-fm", Kind: "diplomatic"},
			{Country: "CN", ID: "cn-fm", Kind: "diplomatic"}, {Country: "IN", ID: "in-fm", Kind: "diplomatic"}}},
		{"2025-03-12T12:00:00Z", "Russian and US spy chiefs speak by phone", []Office{{ID: "multi-intel", Kind: "intel"},
			{Country: "RU", ID: "ru-intel", Kind: "intel", Generic: true}, {Country: "US", ID: "us-intel", Kind: "intel", Generic: true}}},
		{"2025-03-12T12:00:00Z", "Iranian and Iraqi security chiefs meet in Baghdad", []Office{{ID: "multi-security", Generic: true},
			{Country: "IQ", ID: "iq-security", Generic: true}, {Country: "IR", ID: "ir-security", Generic: true}}},
		// Of no country named next to it, the office is still read.
		{"2025-10-15T12:00:00Z", "Nordic foreign ministers meet in Oslo", []Office{{ID: "multi-fm", Kind: "diplomatic"}}},
	} {
		a := model.Article{Title: tc.title}
		a.Published, _ = time.Parse(time.RFC3339, tc.pub)
		ms := e.set.Match(a)
		if len(ms) == 0 {
			t.Errorf("%q: not matched", tc.title)
			continue
		}
		if f := e.lex.Extract(Report{Ref: "r", Article: a, Matches: ms}); !slices.Equal(f.Offices, tc.want) {
			t.Errorf("%q: offices %+v, want %+v", tc.title, f.Offices, tc.want)
		}
	}
}

// TestWhenLeadersContact: the day of a leaders' contact or summit, named
// next to it, does not date the ministers' one.
func TestWhenLeadersContact(t *testing.T) {
	lex := newEnv(t).lex
	for _, tc := range []struct {
		name, pub, title, summary, term string
		want                            []Span
		dated                           bool
	}{
		{"a day of the presidents' call, away from the matched words", "2025-03-12T12:00:00Z", "Rubio and Lavrov spoke by phone",
			"The ministers discussed steps to carry out what was agreed in the presidents' call of 3 March.", "spoke",
			days([2]string{"2025-03-03", "2025-03-03"}, [2]string{"2025-03-10", "2025-03-12"}), false},
		{"the same day next to the ministers' call", "2025-03-12T12:00:00Z", "Rubio and Lavrov spoke by phone",
			"The ministers spoke on 3 March about the presidents' plans.", "spoke",
			days([2]string{"2025-03-03", "2025-03-03"}), true},
		{"Japanese: the day of the summit after the talks", "2025-03-12T12:00:00+09:00", "ルビオ国務長官とラブロフ外相が会談",
			"ルビオ国務長官とラブロフ外相は10日、会談し、14日の首脳会談に向けて調整した。", "会談",
			days([2]string{"2025-03-10", "2025-03-10"}), true},
	} {
		r := rep(tc.pub, tc.title, tc.summary)
		r.Matches[0].ContactTerm = tc.term
		f := lex.Extract(r)
		if !slices.Equal(f.When, tc.want) || f.Dated != tc.dated {
			t.Errorf("%s: When %s dated %v, want %s dated %v", tc.name, spansString(f.When), f.Dated, spansString(tc.want), tc.dated)
		}
	}
}

// TestModeFollowsTheMatchedContact: call and meeting words both give no
// mode, unless the contact the matcher fired on is a call.
func TestModeFollowsTheMatchedContact(t *testing.T) {
	lex := newEnv(t).lex
	for _, tc := range []struct {
		title, kind string
		want        Mode
	}{
		{"Rubio, Lavrov hold call ahead of possible meeting in Budapest", "call", ModeRemote},
		{"Rubio, Lavrov hold call ahead of possible meeting in Budapest", "", ModeUnknown},
		{"Rubio and Lavrov held talks by phone before the summit", "meeting", ModeUnknown},
	} {
		r := rep("2025-10-20T12:00:00Z", tc.title, "")
		r.Matches[0].ContactKind = tc.kind
		if got := lex.Extract(r).Mode; got != tc.want {
			t.Errorf("%q, matched as %q: mode %v, want %v", tc.title, tc.kind, got, tc.want)
		}
	}
}

func TestWhoTookPart(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		pub, title   string
		parties      []string
		plural       []string
		holders      []string
		group, bilat bool
	}{
		{"2022-11-14T12:00:00Z", "CIA Director Burns meets Russian intelligence chief Naryshkin in Ankara",
			[]string{"RU", "US"}, nil, []string{"Sergei Naryshkin", "William Burns"}, false, true},
		// Burns' term ended in January 2025; Ratcliffe the CIA director, not the DNI he was in 2020.
		{"2025-03-12T12:00:00Z", "Ratcliffe and Naryshkin speak by phone; Burns' channel revived",
			[]string{"RU", "US"}, nil, []string{"John Ratcliffe", "Sergei Naryshkin"}, false, true},
		// A plural office of two countries is a bilateral contact.
		{"2025-03-12T12:00:00Z", "Russian and US spy chiefs speak by phone",
			[]string{"RU", "US"}, []string{"RU", "US"}, nil, false, true},
		{"2022-11-14T12:00:00Z", "US and Russian spy chiefs held talks in Turkey",
			[]string{"RU", "US"}, []string{"RU", "US"}, nil, false, true},
		{"2025-10-08T12:00:00Z", "Turkish, Egyptian intelligence chiefs and Qatar's prime minister meet in Sharm el-Sheikh",
			[]string{"EG", "QA", "TR"}, []string{"EG", "QA", "TR"}, nil, true, false},
		{"2025-02-20T12:00:00Z", "G20 foreign ministers meet in Johannesburg",
			[]string{}, nil, nil, true, false},
		// A holder named next to another contact is no party to this one.
		{"2025-03-12T12:00:00Z", "Araghchi, Lavrov meet in Moscow, hours before Lavrov's talks with Rubio",
			[]string{"IR", "RU"}, nil, []string{"Abbas Araghchi", "Sergei Lavrov"}, false, true},
		{"2025-10-31T12:00:00Z", "Hegseth and India's defence minister sign framework hours after his meeting with China's Dong Jun",
			[]string{"IN", "US"}, nil, []string{"Pete Hegseth"}, false, true},
		// Without such words, a holder the matcher left out takes part.
		{"2025-06-20T12:00:00Z", "Lammy, Barrot and Wadephul meet Araghchi in Geneva",
			[]string{"DE", "FR", "GB", "IR"}, nil, []string{"Abbas Araghchi", "David Lammy", "Jean-Noël Barrot", "Johann Wadephul"}, false, false},
		// "The two countries" is a pair, not a gathering, however few
		// countries stand next to the plural office.
		{"2025-08-13T12:00:00Z", "Syria and Turkey: the two countries' intelligence chiefs met in Ankara",
			[]string{"SY", "TR"}, []string{"TR"}, nil, false, false},
		// Counterparts named by a group word are a gathering.
		{"2025-11-11T12:00:00Z", "Canada's foreign minister Anita Anand meets her G7 counterparts in Niagara",
			[]string{"CA"}, nil, []string{"Anita Anand"}, true, false},
		// One word for two countries: "한중" is Korea and China.
		{"2025-10-27T12:00:00Z", "한중 외교장관 회담",
			[]string{"CN", "KR"}, []string{"CN", "KR"}, nil, false, true},
		// Other countries the text names do not make it a gathering.
		{"2025-10-28T12:00:00Z", "Russia's shadow fleet on the agenda as the Ukrainian and British foreign ministers meet",
			[]string{"GB", "RU", "UA"}, []string{"GB", "UA"}, nil, false, true},
		// Counterparts from three countries or more are a gathering.
		{"2025-10-28T12:00:00Z", "Wadephul receives his counterparts from France, Poland, Britain, Italy and Spain in Berlin",
			[]string{"DE", "FR", "GB", "IT", "PL"}, []string{"FR", "GB", "IT", "PL"}, []string{"Johann Wadephul"}, true, false},
		// An Arabic name with "and" glued to it: "ولافروف".
		{"2025-02-18T12:00:00Z", "اجتماع في الرياض جمع روبيو ولافروف",
			[]string{"RU", "US"}, nil, []string{"Marco Rubio", "Sergei Lavrov"}, false, true},
	} {
		a := model.Article{Title: tc.title}
		a.Published, _ = time.Parse(time.RFC3339, tc.pub)
		ms := e.set.Match(a)
		if len(ms) == 0 {
			t.Errorf("%q: not matched", tc.title)
			continue
		}
		f := e.lex.Extract(Report{Ref: "r", Article: a, Matches: ms})
		var names []string
		for _, h := range f.Holders {
			names = append(names, h.Name)
		}
		slices.Sort(names)
		if !slices.Equal(f.Parties, tc.parties) || !slices.Equal(f.Plural, tc.plural) || !slices.Equal(names, tc.holders) || f.Group != tc.group || f.Bilateral != tc.bilat {
			t.Errorf("%q:\n got parties %v plural %v holders %v group %v bilateral %v\nwant parties %v plural %v holders %v group %v bilateral %v",
				tc.title, f.Parties, f.Plural, names, f.Group, f.Bilateral, tc.parties, tc.plural, tc.holders, tc.group, tc.bilat)
		}
	}
}
