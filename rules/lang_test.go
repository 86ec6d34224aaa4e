package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// TestMatchLanguages covers the grammar the default rules read in each
// script — inflection, clitics, particles, text without spaces, negative
// cues, deputies, same-country meetings — with sentences written for this
// test, one behaviour per case.
func TestMatchLanguages(t *testing.T) {
	set := defaultSet(t)
	cases := []struct {
		lang, name, title, summary, date, want string
	}{
		// Russian: inflected names and offices, stems inside phrases.
		{"ru", "instrumental case names", "Директор СВР Нарышкин провел телефонный разговор с директором ЦРУ Рэтклиффом", "", "2025-03-12", "intel_contact"},
		{"ru", "genitive plural heads of two services", "Главы ФСБ и ЦРУ обсудили обмен заключенными", "", "2024-07-01", "intel_contact"},
		{"ru", "head of a foreign service by demonym", "Бортников встретился с главой азербайджанской разведки", "", "2024-05-01", "intel_contact"},
		{"ru", "foreign ministers by title and country", "Министр иностранных дел России провел переговоры с госсекретарем США", "", "2025-02-18", "diplomatic_contact"},
		{"ru", "plural ministers of two countries", "Министры обороны России и Белоруссии подписали соглашение", "", "2024-12-06", "diplomatic_contact"},
		{"ru", "singular minister and a foreign leader", "Президент Египта принял министра иностранных дел России", "", "2024-12-06", "none"},
		{"ru", "readiness is not a contact", "Лавров заявил о готовности встретиться с Рубио", "Министр сказал, что готов к встрече в любое время.", "2025-03-01", "none"},
		{"ru", "denial is not a contact", "В Кремле опровергли сообщения о встрече Нарышкина и Рэтклиффа", "", "2025-03-01", "none"},
		{"ru", "deputy minister is not covered", "Заместитель министра иностранных дел России Рябков провел переговоры с госсекретарем США", "", "2025-03-01", "none"},
		{"ru", "same country", "Путин провел совещание с Бортниковым и Нарышкиным", "Директор ФСБ и директор СВР доложили о ситуации.", "2025-03-01", "none"},
		{"ru", "question", "Встретятся ли Нарышкин и Рэтклифф?", "", "2025-03-01", "none"},
		{"ru", "Latin look-alikes inside a Cyrillic word", "Лaвров и Вaн И провели переговоры", "", "2025-03-01", "diplomatic_contact"},
		{"ru", "yo and e", "Шойгу провёл встречу с Довалом", "", "2025-03-01", "diplomatic_contact"},
		// Ukrainian.
		{"uk", "Ukrainian cases", "Сибіга провів телефонну розмову з Фіданом", "", "2025-03-01", "diplomatic_contact"},
		{"uk", "Ukrainian heads of services", "Голова СБУ зустрівся з керівником польської розвідки", "", "2025-03-01", "intel_contact"},
		// Chinese: no spaces, bound one-character countries, blocks.
		{"zh", "ministers without spaces", "王毅同俄罗斯外长拉夫罗夫通电话", "", "2025-03-01", "diplomatic_contact"},
		{"zh", "traditional characters", "王毅與美國國務卿魯比奧舉行會談", "", "2025-03-01", "diplomatic_contact"},
		{"zh", "two countries before a neutral title", "中俄外长举行会谈", "", "2025-03-01", "diplomatic_contact"},
		{"zh", "one-character country before an agency", "美中央情报局局长会见以色列摩萨德局长", "", "2024-01-10", "intel_contact"},
		{"zh", "Latin acronym inside Chinese", "CIA局长伯恩斯与MI6负责人会晤", "", "2024-01-10", "intel_contact"},
		{"zh", "football club is not the ministry", "北京国安与美国队举行会谈", "", "2024-01-10", "none"},
		{"zh", "departments are not the ministry", "美国家安全部门负责人会见中国外长", "", "2024-01-10", "none"},
		{"zh", "deputy is not covered", "外交部副部长会见美国国务卿", "", "2024-01-10", "none"},
		{"zh", "refusal cancels", "中方拒绝美方提出的两国防长会面", "", "2024-01-10", "none"},
		{"zh", "head of state only", "习近平会见俄罗斯外长拉夫罗夫", "", "2024-01-10", "none"},
		// Japanese and Korean.
		{"ja", "Japanese minister with particles", "岩屋外相が王毅外相と電話会談", "", "2025-03-01", "diplomatic_contact"},
		{"ko", "Korean particles after offices", "조현 외교부 장관은 루비오 국무장관과 회담했다", "", "2025-08-01", "diplomatic_contact"},
		{"ko", "Korean vice minister is not covered", "외교부 1차관이 미 국무부 부장관과 통화", "", "2025-08-01", "none"},
		// Arabic: clitics, suffixes, hamza forms, tatweel, vowel marks.
		{"ar", "counterpart with pronoun suffix", "وزير الخارجية المصري يبحث مع نظيره التركي الأوضاع في غزة", "", "2025-03-01", "diplomatic_contact"},
		{"ar", "conjunction and article prefixes", "لقاء بين رئيس المخابرات العامة المصرية ومدير المخابرات الأردنية", "", "2025-03-01", "intel_contact"},
		{"ar", "vowel marks and tatweel", "وَزِيرُ الخَارِجِيَّةِ السـعـودي يَلْتَقِي نَظِيرَهُ الإيراني", "", "2025-03-01", "diplomatic_contact"},
		{"ar", "phone call", "عراقجي يتلقى اتصالاً هاتفياً من وزير الخارجية العماني", "", "2025-03-01", "diplomatic_contact"},
		{"ar", "Latin acronym inside Arabic", "رئيس المخابرات المصرية يستقبل مدير CIA في القاهرة", "", "2025-03-01", "intel_contact"},
		{"ar", "deputy is not covered", "نائب وزير الخارجية الروسي يلتقي وزير الخارجية السوري", "", "2025-03-01", "none"},
		{"ar", "denial", "الخارجية الإيرانية تنفي وجود خطط للقاء عراقجي وروبيو", "", "2025-03-01", "none"},
		// Persian: ZWNJ, Persian letters, suffixes.
		{"fa", "Persian letters and suffixes", "عراقچی با همتای عمانی خود دیدار کرد", "", "2025-03-01", "diplomatic_contact"},
		{"fa", "ZWNJ plural before adjective", "روسای سرویس‌های اطلاعاتی ایران و روسیه در مسکو دیدار کردند", "", "2025-03-01", "intel_contact"},
		{"fa", "same country", "عراقچی با وزیر اطلاعات درباره امنیت سفارت‌ها گفت‌وگو کرد", "", "2025-03-01", "none"},
		// Hebrew: prefixes, gershayim.
		{"he", "prefixes and gershayim", "ראש השב״כ נפגש עם ראש המודיעין המצרי", "", "2024-02-13", "intel_contact"},
		{"he", "stacked prefixes", "שיחה בין ראש המוסד לבין ראש ה-CIA", "", "2024-02-13", "intel_contact"},
		{"he", "deputy is not covered", "סגן ראש המוסד נפגש עם ראש ה-CIA", "", "2024-02-13", "none"},
	}
	for _, c := range cases {
		t.Run(c.lang+"/"+c.name, func(t *testing.T) {
			a := model.Article{Title: c.title, Summary: c.summary}
			if c.date != "" {
				d, err := time.Parse("2006-01-02", c.date)
				if err != nil {
					t.Fatal(err)
				}
				a.Published = d
			}
			ms := set.Match(a)
			if got := label(ms); got != c.want {
				t.Errorf("%q: got %s (%s), want %s", c.title, got, describe(ms), c.want)
			}
		})
	}
}

// TestEvidenceInOriginalScript checks that explanations quote the text as
// written, not its folded form: whole inflected words, traditional
// characters, vowel marks.
func TestEvidenceInOriginalScript(t *testing.T) {
	set := defaultSet(t)
	date := time.Date(2025, 3, 12, 0, 0, 0, 0, time.UTC)
	blinken := time.Date(2024, 9, 12, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		title   string
		aliases []string
		term    string
	}{
		{"Нарышкиным и Рэтклиффом проведены переговоры", []string{"Нарышкиным", "Рэтклиффом"}, "переговоры"},
		{"王毅與魯比奧舉行電話會談", []string{"王毅", "魯比奧"}, "電話"},
		{"عراقجي يَلْتَقِي بلينكن", []string{"عراقجي", "بلينكن"}, "يَلْتَقِي"},
	} {
		d := date
		if strings.Contains(c.title, "بلينكن") {
			d = blinken
		}
		ms := set.Match(model.Article{Title: c.title, Published: d})
		if len(ms) == 0 {
			t.Errorf("%q: no match", c.title)
			continue
		}
		m := ms[0]
		var got []string
		for _, a := range m.Actors {
			got = append(got, a.Alias)
		}
		for _, want := range c.aliases {
			if !strings.Contains(strings.Join(got, "|"), want) {
				t.Errorf("%q: aliases %q, want one to be %q", c.title, got, want)
			}
		}
		if m.ContactTerm != c.term {
			t.Errorf("%q: contact term %q, want %q", c.title, m.ContactTerm, c.term)
		}
		if m.Evidence != c.title {
			t.Errorf("%q: evidence %q, want the title as written", c.title, m.Evidence)
		}
	}
}

// TestCutEnding compares cutEnding with a plain reading of cyrEndings:
// the longest ending (three letters, then two, then one) that leaves
// minCyrStem letters.
func TestCutEnding(t *testing.T) {
	want := func(w string) int {
		for _, list := range cyrEndings {
			for _, e := range list {
				if strings.HasSuffix(w, e) && len(w)-len(e) >= 2*minCyrStem {
					return len(w) - len(e)
				}
			}
		}
		return len(w)
	}
	for _, stem := range []string{"", "м", "ми", "мин", "минис", "министр"} {
		for _, list := range cyrEndings {
			for _, e := range list {
				for _, w := range []string{stem + e, stem + e + "а", stem + "ы" + e} {
					if got := cutEnding([]byte(w)); got != want(w) {
						t.Errorf("cutEnding(%q) = %d, want %d", w, got, want(w))
					}
				}
			}
		}
	}
}
