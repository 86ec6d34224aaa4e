package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// TestExtraCorpus runs items written apart from the dev set (real-world
// phrasings, several languages) as a guard against rules fitted to dev.
func TestExtraCorpus(t *testing.T) {
	set := defaultSet(t)
	for _, it := range loadCorpus(t, "testdata/extra.jsonl") {
		ms := set.Match(it.article())
		if got := label(ms); got != it.Label {
			t.Errorf("%s: got %s (%s), want %s | %s", it.ID, got, describe(ms), it.Label, it.Title)
		}
	}
}

func label(ms []model.Match) string {
	out := "none"
	for _, m := range ms {
		if strings.Contains(m.Rule, "intel") {
			return "intel_contact"
		}
		out = "diplomatic_contact"
	}
	return out
}

// TestDefaultRulesCases covers each alias kind, transliteration, exclusion
// and negative cue of the default rules, one behaviour per case.
func TestDefaultRulesCases(t *testing.T) {
	set := defaultSet(t)
	date := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cases := []struct {
		name, title, summary, date, want string
	}{
		// Alias kinds.
		{"agency with head word after", "SVR chief holds talks with CIA director", "", "2024-01-10", "intel_contact"},
		{"agency with head word before", "Head of the SVR met the chief of the CIA", "", "2024-01-10", "intel_contact"},
		{"coordinated agencies share a head word", "Mossad and CIA chiefs hold talks in Doha", "", "2024-01-10", "intel_contact"},
		{"agency alone is not its head", "CIA and SVR officials hold talks in Ankara", "", "2024-01-10", "none"},
		{"holder name in term", "Burns meets Naryshkin in Ankara", "", "2022-11-14", "intel_contact"},
		{"holder name out of term", "Burns meets Naryshkin in Ankara", "", "2025-06-01", "none"},
		{"holder name without date counts", "Burns meets Naryshkin in Ankara", "", "", "intel_contact"},
		{"role with demonym", "Egyptian intelligence chief meets Israeli spy chief", "", "2024-01-10", "intel_contact"},
		{"role with possessive country", "Egypt's intelligence chief meets Mossad director", "", "2024-01-10", "intel_contact"},
		{"role with possessive capital", "Moscow's spy chief talks to Washington's spymaster", "", "2024-01-10", "intel_contact"},
		{"role with leader possessive", "Putin's spy chief held talks with CIA director", "", "2024-01-10", "intel_contact"},
		{"role without country does not count", "Spy chief meets CIA director", "", "2024-01-10", "none"},
		{"plural role with two countries", "Greek and Turkish foreign ministers meet in Athens", "", "2024-01-10", "diplomatic_contact"},
		{"plural role with group word", "G7 foreign ministers gather in Capri", "", "2024-01-10", "diplomatic_contact"},
		{"plural role of one country", "Russian foreign ministers past and present meet", "", "2024-01-10", "none"},
		{"counterpart with country", "Lavrov holds talks with Serbian counterpart", "", "2024-01-10", "diplomatic_contact"},
		{"counterpart without country", "Wang Yi held talks with his counterpart in Beijing", "", "2024-01-10", "diplomatic_contact"},
		{"mixed pair is intel", "UAE's Sheikh Tahnoun meets CIA director", "", "2024-01-10", "intel_contact"},
		{"NSA equivalent", "Doval meets Shoigu in Moscow", "", "2024-09-10", "diplomatic_contact"},
		{"dual post: Qatari premier", "Qatari premier hosts Blinken in Doha", "", "2024-01-10", "diplomatic_contact"},
		{"acronym as title", "DG ISI meets Turkish intelligence chief", "", "2024-01-10", "intel_contact"},
		// Transliterations and diacritics.
		{"Narishkin", "Narishkin and Ratcliffe spoke by phone", "", "2025-03-10", "intel_contact"},
		{"Narychkine", "Narychkine s'est entretenu avec le directeur de la CIA", "", "2025-03-10", "intel_contact"},
		{"Naryschkin", "Naryschkin telefonierte mit CIA-Chef Ratcliffe", "", "2025-03-10", "intel_contact"},
		{"Kalın dotless", "Kalın meets Naryshkin in Moscow", "", "2024-01-10", "intel_contact"},
		{"Kalin plain", "Kalin meets Naryshkin in Moscow", "", "2024-01-10", "intel_contact"},
		{"KALIN capitals", "KALIN MEETS NARYSHKIN IN MOSCOW", "", "2024-01-10", "intel_contact"},
		{"MİT dotted capital", "MİT Başkanı, CIA Direktörü ile görüştü", "", "2024-01-10", "intel_contact"},
		{"Đurić", "Lavrov holds talks with Đurić", "", "2024-06-10", "diplomatic_contact"},
		{"Djuric", "Lavrov holds talks with Djuric", "", "2024-06-10", "diplomatic_contact"},
		{"entities and tags", "Mossad &amp; CIA chiefs in Doha for talks", "<p>More&#8230;</p>", "2024-01-10", "intel_contact"},
		{"hyphenated compound", "BND-Präsident trifft CIA-Direktor", "", "2024-01-10", "intel_contact"},
		{"German genitive", "Der Präsident des Bundesnachrichtendienstes sprach mit dem Chef der CIA", "", "2024-01-10", "intel_contact"},
		{"Spanish", "Los jefes de la CIA y del Mosad se reúnen en El Cairo", "", "2024-01-10", "intel_contact"},
		{"Italian", "Il capo dell'intelligence turca incontra il direttore della CIA", "", "2024-01-10", "intel_contact"},
		{"French counterpart after", "Barrot s'est entretenu avec son homologue iranien", "", "2025-01-10", "diplomatic_contact"},
		{"Portuguese", "Diretor da CIA conversou por telefone com o chefe da espionagem russa", "", "2025-03-10", "intel_contact"},
		{"Portuguese Narychkin", "Ratcliffe e Narychkin concordaram em manter contactos regulares", "", "2025-03-10", "intel_contact"},
		{"Dutch counterpart", "Veldkamp sprak met zijn Oekraïense ambtgenoot", "", "2025-03-10", "diplomatic_contact"},
		{"Dutch role title", "Nederlandse minister van Buitenlandse Zaken ontmoet Lavrov", "", "2025-03-10", "diplomatic_contact"},
		{"Polish declined names", "Naryszkin rozmawiał z Ratcliffe'em", "", "2025-03-10", "intel_contact"},
		{"Polish declined title", "Sikorski spotkał się z szefem dyplomacji Ukrainy", "", "2025-03-10", "diplomatic_contact"},
		{"Spanish present tense call", "Narishkin afirma que habla con Ratcliffe", "", "2025-03-10", "intel_contact"},
		{"a singular head belongs to the nearer agency", "Swap arranged in talks between the CIA and Russian intelligence, CIA Director Ratcliffe said", "", "2025-03-10", "none"},
		{"agencies then a plural head", "SVR, CIA heads discuss prisoner swap by phone", "", "2025-03-10", "intel_contact"},
		{"'under way' is not 'under secretary'", "Preparations under way for Lavrov-Rubio meeting", "", "2025-10-16", "diplomatic_contact"},
		{"'late on' is not 'the late'", "Late on Tuesday Lavrov met Rubio in Riyadh", "", "2025-02-18", "diplomatic_contact"},
		{"under secretary", "Under secretary of state meets Lavrov", "", "2025-02-18", "none"},
		{"a longer agency name is not another agency", "Kommersant: Foreign Intelligence Service director Sergei Naryshkin met CIA chief William Burns", "", "2022-11-14", "intel_contact"},
		{"'reported' is not French 'reporté'", "Kommersant reported that Naryshkin met CIA chief Burns", "", "2022-11-14", "intel_contact"},
		{"group adjective", "Araghchi meets European foreign ministers in Geneva", "", "2025-06-20", "diplomatic_contact"},
		{"Turkish agency name and hosting verb", "MİT Başkanı Kalın, Mısır Genel İstihbarat Başkanı'nı Ankara'da ağırladı", "", "2025-03-10", "intel_contact"},
		{"Spanish joint appearance", "Los jefes de la CIA y del MI6 comparecen juntos en público", "", "2024-09-07", "intel_contact"},
		{"void reaches across country words", "Ex-Iranian, US top diplomats share Doha panel", "They appeared together at a forum.", "2024-12-08", "none"},
		{"collision voids a title", "Georgia's secretary of state meets counterparts", "Brad Raffensperger hosted secretaries of state from five US states.", "2024-06-10", "none"},
		{"ISI the statistics institute", "ISI director meets counterpart from Brazil", "The head of the Indian Statistical Institute discussed research.", "2024-06-10", "none"},
		{"incoming is not yet the office", "Incoming MI6 chief met CIA's Ratcliffe, report says", "", "2025-08-20", "none"},
		{"holder after the term", "Kalın meets Syrian Interior Minister Khattab in Ankara", "", "2025-06-10", "none"},
		{"agreed to", "Hegseth, Nakatani agree to upgrade U.S. forces command in Japan", "", "2025-03-30", "diplomatic_contact"},
		{"agreeing with a view is not a contact", "Naryshkin agrees with CIA chief that Ukraine cannot win", "", "2025-06-10", "none"},
		{"TV channel", "HUR chief Budanov told a Ukrainian TV channel about his Russian counterpart", "", "2025-06-10", "none"},
		{"signed a protocol", "Romanian and Moldovan intelligence chiefs signed a protocol in Chisinau", "", "2025-06-10", "intel_contact"},
		{"adjective after, past one word", "Le chef du renseignement extérieur algérien a rencontré le patron de la DGSE", "", "2025-03-14", "intel_contact"},
		{"adjacent adjective after beats an earlier country", "El canciller argentino recibe al canciller chileno", "", "2025-03-14", "diplomatic_contact"},
		{"shared acronym with its country", "Kenya's NIS chief meets Ugandan intelligence head in Kampala", "", "2025-03-14", "intel_contact"},
		// Exclusions.
		{"same country", "Erdoğan, Fidan and Kalın hold security summit", "", "2024-01-10", "none"},
		{"minister and own spy chief", "Fidan meets MIT chief Kalın", "", "2024-01-10", "none"},
		{"head of state only", "CIA director Burns meets Netanyahu", "", "2024-01-10", "none"},
		{"envoy", "Witkoff meets Putin for five hours", "", "2025-04-10", "none"},
		{"deputy", "Deputy foreign ministers of Russia and Turkey hold talks", "", "2024-01-10", "none"},
		{"deputy director", "CIA deputy director meets SVR chief", "", "2024-01-10", "none"},
		{"former", "Former MI6 chief meets Russian spy chief", "", "2024-01-10", "none"},
		{"station chief", "CIA station chief met FSB director", "", "2024-01-10", "none"},
		{"ambassador", "US ambassador meets Pakistan's ISI chief", "", "2024-01-10", "none"},
		{"military chiefs", "Joint Chiefs chairman speaks with Russian chief of general staff", "", "2024-01-10", "none"},
		{"non-state group", "Egypt's intelligence chief meets Hamas leaders", "", "2024-01-10", "none"},
		{"Financial Stability Board", "FSB chief meets Bank of England governor", "The Financial Stability Board chair discussed stablecoins.", "2024-01-10", "none"},
		{"MIT university", "MIT president meets Stanford president", "University leaders met.", "2024-01-10", "none"},
		{"German mit", "Lavrov traf sich mit Vertretern", "", "2024-01-10", "none"},
		{"Culinary Institute", "CIA chef meets Mossad director", "Graduates of the Culinary Institute of America.", "2024-01-10", "none"},
		{"WWE Raw", "Raw boss meets ISI director", "", "2024-01-10", "none"},
		{"strategic business unit", "SBU head meets Turkish intelligence chief", "The strategic business unit's head discussed contracts.", "2024-01-10", "none"},
		{"foreign secretary of another country", "Indian foreign secretary meets Chinese vice minister", "", "2024-01-10", "none"},
		// Negative cues.
		{"readiness", "Naryshkin ready to meet CIA director", "", "2024-01-10", "none"},
		{"no plans", "Peskov: 'no plans' for Lavrov-Rubio meeting", "", "2025-03-10", "none"},
		{"denial", "Kremlin denies Naryshkin met CIA chief", "", "2024-01-10", "none"},
		{"question", "Will Lavrov and Rubio meet?", "", "2025-03-10", "none"},
		{"proposal not taken up", "Armenian foreign minister proposes meeting with Azerbaijani counterpart", "", "2024-01-10", "none"},
		{"unanswered proposal veto", "Mirzoyan and Bayramov talks: Baku yet to respond", "", "2024-01-10", "none"},
		{"third-party offer", "Hungary offers to host Lavrov-Rubio talks", "", "2025-03-10", "none"},
		{"obituary veto", "Obituary: the spy chief who met CIA director Burns", "Kalın met Burns.", "2024-01-10", "none"},
		{"statement, no contact term", "Lavrov criticises Blinken over remarks", "", "2023-01-10", "none"},
		// Denials and cancellations reach across their sentence.
		{"denial far from the contact term", "SVR says no meeting between Naryshkin and Ratcliffe is planned", "The service's press office denied a media report that the two intelligence chiefs would meet in the Gulf.", "2025-05-20", "none"},
		{"not confirmed after the term", "Kalın and Burns in Doha", "A meeting between the two spy chiefs at the talks is possible but not confirmed.", "2024-01-10", "none"},
		{"put on hold", "Rubio–Lavrov meeting in Budapest put on hold, official says", "", "2025-10-21", "none"},
		{"postponed", "Lavrov-Rubio talks postponed indefinitely", "", "2025-10-21", "none"},
		{"called off", "Hegseth calls off planned meeting with Dong Jun", "", "2025-05-21", "none"},
		{"no date set", "Peskov: no date set for Lavrov–Rubio meeting", "", "2025-02-14", "none"},
		{"nothing agreed", "Lavrov and Rubio", "The foreign minister said he was open to contacts with Rubio but nothing had been agreed.", "2025-05-14", "none"},
		{"German kein Treffen", "Kreml: Kein Treffen zwischen Naryschkin und CIA-Chef geplant", "", "2025-05-21", "none"},
		{"French aucune rencontre", "Aucune rencontre prévue entre Narychkine et le directeur de la CIA", "", "2025-05-21", "none"},
		{"Spanish ninguna reunión", "El Kremlin: ninguna reunión entre Lavrov y Rubio", "", "2025-05-21", "none"},
		{"Italian nessun incontro", "Nessun incontro tra Tajani e Lavrov", "", "2025-05-21", "none"},
		{"Italian non è in agenda", "Tajani e Lavrov", "Un incontro tra i due ministri 'non è in agenda'.", "2025-05-21", "none"},
		{"Turkish planlanmıyor", "Fidan ile Lavrov arasında görüşme planlanmıyor", "", "2025-05-21", "none"},
		{"not needed", "Lavrov-Rubio meeting not needed 'for now', US official says", "", "2025-10-22", "none"},
		{"an expected meeting that did not happen", "Blinken postpones China trip", "The secretary of state had been expected to meet Wang Yi in Beijing.", "2023-02-04", "none"},
		{"German counterfactual", "Wadephul sagt China-Reise ab", "Der Außenminister hätte in Peking seinen Amtskollegen Wang Yi treffen sollen.", "2025-10-24", "none"},
		{"profile veto", "Naryshkin at 70", "A profile of the SVR director, from his years as Duma speaker to his meeting with the CIA chief in Ankara.", "2024-10-27", "none"},
		{"departure veto", "CIA director Burns steps down", "His tenure included a meeting with Russia's SVR chief in Ankara and trips to Doha for talks.", "2025-01-20", "none"},
		{"Polish denial", "Kreml zaprzecza: nie było rozmowy Naryszkina z szefem CIA", "", "2025-05-21", "none"},
		{"no with names between", "Peskov: no Naryshkin-Ratcliffe meeting on the agenda", "", "2025-05-21", "none"},
		{"German kein with names between", "Kreml: kein Lawrow-Rubio-Treffen", "", "2025-05-21", "none"},
		{"no followed by other words", "No. 2 spy: Naryshkin met Ratcliffe", "", "2025-05-21", "intel_contact"},
		{"skip", "China's defence minister to skip Shangri-La Dialogue with Hegseth", "", "2025-05-28", "none"},
		{"long sentence, denial far after the term", "Rubio and Lavrov", "A planned meeting between Secretary of State Marco Rubio and Russian Foreign Minister Sergey Lavrov has been put on hold, an official said.", "2025-10-22", "none"},
		{"the summary sentence naming them says it will not happen", "China declines US request for defence chiefs' meeting", "Beijing said Li Shangfu would not meet Lloyd Austin at the forum.", "2023-05-29", "none"},
		{"the summary sentence naming them confirms it", "Defence chiefs' meeting in Singapore", "Li Shangfu and Lloyd Austin shook hands at the forum.", "2023-06-03", "diplomatic_contact"},
		{"denial of something else in another sentence", "Burns met Naryshkin in Ankara", "The Kremlin denied that sanctions were discussed.", "2022-11-14", "intel_contact"},
		// Deliberation is not a contact.
		{"weighs", "Washington weighs a Ratcliffe–Naryshkin sit-down", "", "2025-06-02", "none"},
		{"considering", "Tokyo considering defence ministers' meeting with Beijing", "", "2025-05-28", "none"},
		{"ready for contacts", "Lavrov says he is always ready for contacts with Rubio", "", "2025-05-14", "none"},
		// A hedged title is not completed by the summary.
		{"question title, contact word in summary", "Will Wang Yi and Rubio meet in Kuala Lumpur?", "Analysts expect a first meeting at the ASEAN gathering.", "2025-07-09", "none"},
		{"negated title, contact word in summary", "Naryshkin ready to meet CIA chief Ratcliffe", "The SVR director spoke of contacts with the Americans.", "2025-05-09", "none"},
		{"question then a real contact", "Why now? Burns met Naryshkin in Ankara", "", "2022-11-14", "intel_contact"},
		// Background: past contacts in the summary of another story.
		{"past year in summary", "Naryshkin says the West is losing in Ukraine", "The SVR chief, who met CIA director Burns in Ankara in November 2022, spoke on state television.", "2024-03-10", "none"},
		{"last met", "Naryshkin warns Washington", "He and CIA director Burns last met in Ankara.", "2024-03-10", "none"},
		{"since a past year is news", "Naryshkin and Burns hold talks", "It was their first meeting since 2022.", "2024-03-10", "intel_contact"},
		{"past year in the title counts", "How Burns met Naryshkin in Ankara in 2022", "", "2024-03-10", "intel_contact"},
		{"same year is news", "Naryshkin warns Washington", "He met CIA director Burns in Ankara in 2022, the SVR said.", "2022-11-20", "intel_contact"},
		{"last year", "Putin appoints new defence minister", "Belousov replaces Shoigu. Shoigu held talks with Chinese defence minister Dong Jun in Beijing last year.", "2024-05-12", "none"},
		{"past year far in a long sentence", "Russia's spy chief says the West is losing", "Naryshkin met CIA Director William Burns in Ankara in November 2022, the only acknowledged meeting.", "2024-02-10", "none"},
		{"title officials, contact deep in the summary", "Lavrov criticises Rubio over sanctions", "The Russian foreign minister addressed a forum in Moscow. Later on Tuesday he visited a factory in Tula.", "2025-05-01", "none"},
		{"title officials, contact in the lead sentence", "Lavrov and Rubio", "The two spoke by phone on Saturday, the ministry said.", "2025-05-01", "diplomatic_contact"},
		// Joint appearances and signings.
		{"joint public appearance", "CIA and MI6 chiefs make first joint public appearance", "", "2024-09-07", "intel_contact"},
		{"share the stage", "Burns and Moore shared the stage in London", "", "2024-09-07", "intel_contact"},
		{"appear together, multilateral", "Five Eyes security chiefs appear together at Stanford", "", "2023-10-17", "intel_contact"},
		{"joint press conference", "Lammy and Barrot hold joint press conference in Paris", "", "2024-10-10", "diplomatic_contact"},
		{"signing", "Kalın and Bortnikov signed a cooperation memorandum in Moscow", "", "2024-10-10", "intel_contact"},
		{"French joint press conference", "Conférence de presse commune de Barrot et Sybiha à Kyiv", "", "2025-02-05", "diplomatic_contact"},
		// Delegations and groups.
		{"delegation heads joined by semicolon", "Russian and Ukrainian delegations hold talks in Istanbul", "Russia's delegation was headed by military intelligence chief Igor Kostyukov; Ukraine's by Defence Minister Rustem Umerov.", "2025-05-16", "intel_contact"},
		{"intel head joins a group of ministers", "Russian and Belarusian security council secretaries, SVR head meet in Minsk", "", "2024-11-26", "intel_contact"},
		{"group with an unnamed counterpart only", "NATO foreign ministers meet counterparts", "", "2024-11-26", "diplomatic_contact"},
		{"an acronym shared by two services is one person", "SIS chief meets Slovak counterpart", "", "2024-11-26", "intel_contact"},
		// Agencies and heads beyond the big services.
		{"Japan's Cabinet Intelligence", "DNI Haines meets head of Japan's Cabinet Intelligence in Tokyo", "", "2024-04-10", "intel_contact"},
		{"counter-intelligence heads of three countries", "Heads of Polish, Czech and Slovak counter-intelligence meet in Prague", "", "2024-09-30", "intel_contact"},
		{"Syria's Mamlouk", "Turkish intelligence chief Fidan meets Syria's Mamlouk in Moscow", "", "2020-01-13", "intel_contact"},
		{"Czech BIS", "BIS director Koudelka meets MI5 chief McCallum", "", "2024-05-01", "intel_contact"},
		{"BIS the central bank club", "BIS chief meets Fed chair", "The Bank for International Settlements head discussed monetary policy.", "2024-05-01", "none"},
		{"shared acronym with its country", "Slovak SIS head meets Czech BIS director", "", "2024-05-01", "intel_contact"},
		{"shared acronym without a country", "SIS chief meets BIS director", "", "2024-05-01", "intel_contact"},
		{"Azerbaijan's State Security Service", "Azerbaijan's State Security Service chief meets Kalın", "", "2024-09-03", "intel_contact"},
		{"Jordan's GID", "Jordan's GID director meets Mossad chief Barnea", "", "2024-09-03", "intel_contact"},
		{"Ratcliffe as DNI by date", "DNI Ratcliffe meets Israeli national security adviser", "", "2020-08-03", "intel_contact"},
		// A deferring role takes the kind of the office named for its country.
		{"security chiefs who are advisers", "Saudi, Iranian security chiefs sign deal in Beijing with Wang Yi", "Ali Shamkhani and Saudi national security adviser Musaed al-Aiban agreed to restore relations.", "2023-03-10", "diplomatic_contact"},
		{"security chief who is an adviser", "Iranian security chief meets Shoigu in Tehran", "Ali Akbar Ahmadian received the Russian Security Council secretary.", "2024-08-05", "diplomatic_contact"},
		{"security chief with no named office", "Canadian and US security chiefs meet on foreign interference", "", "2024-02-08", "intel_contact"},
		{"security chief named as a service head", "Egypt's security chief meets Blinken", "Abbas Kamel, head of the General Intelligence Service, hosted the secretary of state.", "2024-03-20", "intel_contact"},
		// Wire prefixes, capitals, typography, HTML.
		{"wire prefix", "UPDATE 2-Rubio, Lavrov hold call on Ukraine", "", "2025-02-12", "diplomatic_contact"},
		{"exclusive prefix", "EXCLUSIVE-CIA chief Ratcliffe held talks with Naryshkin, sources say", "", "2025-03-12", "intel_contact"},
		{"all capitals", "BURNS AND NARYSHKIN HOLD TALKS IN ANKARA", "", "2022-11-14", "intel_contact"},
		{"smart quotes and dashes", "\u201cWe talked,\u201d says Naryshkin of call with CIA\u2019s Ratcliffe", "", "2025-03-20", "intel_contact"},
		{"HTML summary", "Spy chiefs in Cairo", "<p>Egypt&#8217;s intelligence chief Hassan Rashad <b>hosted</b> Mossad director David Barnea.</p>", "2025-02-10", "intel_contact"},
		{"dialed", "Hegseth dialed Dong Jun on Friday", "", "2025-09-10", "diplomatic_contact"},
		{"dials", "Doval dials Wang Yi after border clash", "", "2025-08-18", "diplomatic_contact"},
		{"exchanged messages", "Fidan and Lavrov exchanged messages on grain deal", "", "2024-06-10", "diplomatic_contact"},
		{"welcomes counterpart", "Lavrov welcomes Turkish counterpart Fidan to Moscow", "", "2024-06-10", "diplomatic_contact"},
		{"conferred", "Rubio conferred with Wang Yi in Kuala Lumpur", "", "2025-07-11", "diplomatic_contact"},
		{"hotline", "Naryshkin says hotline with CIA's Ratcliffe works", "", "2025-03-20", "intel_contact"},
		// Title and summary read together.
		{"summary adds counterpart", "Qatari state security chief in Washington", "He met the CIA director on Tuesday.", "2024-01-10", "intel_contact"},
		{"contact in summary only", "Week in review", "Markets slid; and Mossad director David Barnea flew to Cairo for talks with Egypt's intelligence chief Hassan Rashad.", "2025-01-10", "intel_contact"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := model.Article{Title: c.title, Summary: c.summary}
			if c.date != "" {
				a.Published = date(c.date)
			}
			ms := set.Match(a)
			if got := label(ms); got != c.want {
				t.Errorf("%q: got %s (%s), want %s", c.title, got, describe(ms), c.want)
			}
		})
	}
}

// TestMatchExplains checks that a match carries what /explain shows.
func TestMatchExplains(t *testing.T) {
	set := defaultSet(t)
	ms := set.Match(model.Article{
		Title:     "White House confirms CIA's Burns met Russian spy chief in Ankara",
		Summary:   "<p>The CIA director used the meeting with SVR head Sergei Naryshkin to warn against nuclear use.</p>",
		Published: time.Date(2022, 11, 15, 0, 0, 0, 0, time.UTC),
	})
	if len(ms) != 1 {
		t.Fatalf("got %d matches (%s), want 1", len(ms), describe(ms))
	}
	m := ms[0]
	if m.Rule != "intel-heads" || m.Field != "title" || m.ContactKind != "meeting" || m.ContactTerm != "met" {
		t.Errorf("match = %+v", m)
	}
	if len(m.Actors) != 2 || m.Actors[0].ID != "us-cia" || m.Actors[1].ID != "ru-intel" || m.Actors[1].Alias != "spy chief" || m.Actors[1].Country != "RU" {
		t.Errorf("actors = %+v", m.Actors)
	}
	if !strings.Contains(m.Evidence, "Burns met Russian spy chief") {
		t.Errorf("evidence = %q", m.Evidence)
	}
}

// TestMatchConcurrent shares one Set between goroutines (run with -race).
func TestMatchConcurrent(t *testing.T) {
	set := defaultSet(t)
	items := loadCorpus(t, "testdata/corpus/dev.jsonl")
	want := make([]string, len(items))
	for i, it := range items {
		want[i] = describe(set.Match(it.article()))
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i, it := range items {
				if got := describe(set.Match(it.article())); got != want[i] {
					t.Errorf("%s: concurrent match %s, alone %s", it.ID, got, want[i])
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// TestMayContact checks that mayContact, which spares an item the search
// for a contact, never refuses one that findContact would find: over the
// corpora, for the default rules and rules of other kinds, required
// kinds and contact kinds.
func TestMayContact(t *testing.T) {
	base := defaultSet(t)
	rs := []model.RuleSpec{
		{Name: "any", Contact: true},
		{Name: "intel-only", Contact: true, Kinds: []string{"intel"}},
		{Name: "diplomatic-calls", Contact: true, Kinds: []string{"diplomatic"}, ContactKinds: []string{"call"}},
		{Name: "require-diplomatic", Contact: true, RequireKinds: []string{"diplomatic"}},
		{Name: "visits-intel", Contact: true, RequireKinds: []string{"intel"}, ContactKinds: []string{"visit", "meeting"}},
	}
	set, err := base.vocab.WithRules(append(base.Rules(), rs...))
	if err != nil {
		t.Fatal(err)
	}
	v := set.vocab
	found, refused := 0, 0
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl", "testdata/extra.jsonl",
		"testdata/blind_multi1/blind_multi1.jsonl", "testdata/blind5/blind5.jsonl"} {
		for _, it := range loadCorpus(t, path) {
			sc := v.read(it.article())
			for i := range set.rules {
				r := &set.rules[i]
				if _, ok := v.findContact(sc, r); ok {
					found++
					if !v.mayContact(sc, r) {
						t.Errorf("%s: rule %s finds a contact that mayContact refuses", it.ID, r.spec.Name)
					}
				} else if !v.mayContact(sc, r) {
					refused++
				}
			}
			v.scratch.Put(sc)
		}
	}
	if found == 0 || refused == 0 {
		t.Errorf("%d contacts found, %d refused early: the corpora do not exercise both", found, refused)
	}
}
