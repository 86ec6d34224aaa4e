// Package stories decides which reports are one contact event — one
// meeting, one call, one exchange of letters — however many outlets report
// it, in whatever words or language. A story is named after its first
// report; every later report either joins a stored story or begins one,
// with a one-line reason (Decision.Reason) that /explain and the dry run
// can show.
//
// # What a report is read for
//
// The grouper reads what the matcher already knows (model.Match: the
// offices with their countries, the contact kind and term, the evidence)
// and, with the rules' own vocabulary (Lexicon, built from rules.Spec), a
// few things more in the title, summary and the start of the content:
//
//   - parties: the countries of the matched offices; for a plural office
//     ("US and Russian spy chiefs", "G20 foreign ministers") the countries
//     the text names, a country named as a place ("talks in Turkey") left
//     out; and the countries of office holders named in the text, unless
//     their sentence sets them apart from the contact ("hours before
//     Lavrov's talks with Rubio", "without Rubio"). Names in Arabic and
//     Hebrew are read with the conjunctions and prepositions written
//     glued to them ("ولافروف"); one word may name two countries ("한중",
//     "日米");
//   - offices and holders: who held which office, by name, within the
//     holder's term at the publication date (Burns or Ratcliffe as CIA
//     Director); a plural office stands for its role in each country named
//     next to it ("India, China foreign ministers": the two foreign
//     ministers), and for itself, of no one country ("Nordic foreign
//     ministers");
//   - mode: only phone or video words (a call) or only meeting, visit or
//     appearance words (a meeting); with both, a call when the contact
//     the matcher fired on is one; anything else is unknown. A summit of
//     leaders, or a contact the text gives to presidents or prime
//     ministers ("ahead of the Trump-Xi summit", "the presidents' call"),
//     is the occasion of the report, not its contact: it neither gives a
//     mode nor dates the report;
//   - when: the days the contact may have taken place on. A weekday, a
//     date ("18 February", "9月9日") or "yesterday" next to a contact term
//     gives its day, counted from the publication date in the report's own
//     time zone; a weekday is the last one, or also the next one when the
//     report announces a contact ("will meet on Tuesday"); a day that was
//     only the day something was said ("the Kremlin said on Wednesday")
//     may be the day after the contact, and yields to a day of a contact.
//     A range of days ("August 18-19", "du 17 au 18 mars") gives those
//     days; a day of the month alone ("27일", "27日") the nearest such day.
//     Of several, the date next to the matcher's own contact words comes
//     first ("arrived on Thursday, to meet Dong Jun on Friday"); in
//     Chinese, Japanese and Korean a day stands before its verb. An
//     earlier day named only away from the matcher's words widens the
//     report's days rather than replacing them. "This week", "last week",
//     "next week" and "recently" give ranges. Without any, a report is
//     about the last two days before publication, or the coming week when
//     it announces a contact. A month next to a contact term ("the
//     February meeting") adds that month, so a look back finds its story;
//   - shape: multilateral (a plural office of three or more countries, or
//     a plural office or counterparts qualified by a group word such as
//     "ASEAN" or "G7", but not by a word for two, "the two countries", or
//     counterparts with three countries or more next to them), bilateral
//     (two named offices of exactly two countries, or a plural office of
//     two countries named next to it), on the sidelines of a gathering;
//     the gatherings named ("G7", "ministres du G7", "七国集团": one name in
//     every language);
//   - repeat: the report calls the contact another one ("talk again", "a
//     new call"), unless it announces one ("agreed to meet again"); the
//     next round of a series ("a new round of talks", like "second round"),
//     places ("New York") and a new holder ("Japan's new foreign
//     minister") are no repeat.
//
// Date, repeat, sidelines, call and "apart" words and the names of
// gatherings are this package's data (cues.go), in the seventeen
// languages the matcher reads.
//
// # The identity
//
// A report may join a story that shares an unordered pair of its countries
// (or, for a report naming one country, that country; for a story whose
// reports name one side only, that side; for two multilateral reports,
// one member or the gathering's name) and one of its days, and that no
// test below tells apart. Each test is one way two contacts of the same
// countries differ:
//
//   - day: the story's days (what all its reports allow) and the report's
//     share none: a call on Monday and a meeting on Thursday;
//   - holders: both name a holder of one office and no name is shared: a
//     Burns–Naryshkin call and a Ratcliffe–Naryshkin call, even when their
//     reports arrive together;
//   - offices: in some country where both name offices, none can be the
//     same (foreign ministers' talks against the spy chiefs' call of the
//     same two countries; Wang Yi's talks with Jaishankar against his
//     talks with Doval the next day; a role such as "Egypt's intelligence
//     chief" or a counterpart may be any office of its kind), or both are
//     gatherings of different ministers ("Nordic foreign ministers",
//     "Baltic defence ministers"), unless one side came with several
//     officials (a delegation);
//   - gathering: both are multilateral meetings of different named
//     gatherings (G7 against NATO); a report found under one country of a
//     story, other than of a gathering or a story naming one side only,
//     is another contact;
//   - mode: the story's reports say call and this one meeting, or the
//     reverse;
//   - shape: a multilateral report and a story of bilateral ones (a
//     gathering named by a group word, or of four countries or more, or of
//     three that do not include the bilateral's two); a bilateral report
//     and a multilateral story that has not named both its offices, unless
//     the report names other members of the gathering ("alongside his
//     French and British counterparts"), or when it says it met on the
//     sidelines;
//   - repeat: the report calls its contact another one and comes more
//     than twelve hours after the story began, which no report called a
//     repeat: "Lavrov and Rubio talk again" the day after their meeting.
//
// Among the stories that pass, the report joins the one sharing the most
// holders and countries, the same dated day, the same mode and the same
// shape; then the one reported most recently; then the smallest id. Given the same order of
// reports the decisions are the same.
//
// # Finding candidates
//
// The grouper never scans stories: it asks an Index for the stories under
// the report's keys ("RU|US"; "IR|*" for a single country or a member of
// a gathering; "IR|1" for a story naming one side only; "G7|#" for a
// named gathering; see Story.Keys) whose days overlap the report's days
// (Query). MemIndex keeps them in memory for
// `backchannel match -stories`; a store can implement the same two
// methods over its tables (see Index for the exact contract, and
// storiestest.TestIndex for a conformance test). Story is plain JSON-able
// data, so the state survives restarts with the store.
//
// # Limits
//
// The identity is as good as what the text says. A report that names
// neither a date nor anything distinctive and is published more than two
// days after the contact begins a new story. Two different contacts of the
// same offices on the same days, told in the same mode and not called a
// repeat, are one story. Names the rules' vocabulary does not know (a
// holder, a country word in a new script) are not read, so reports in a
// language the rules do not cover group by their matched offices and dates
// alone. A retrospective finds its story only through a month named next to
// a contact term, and not when that month is the current one a year on.
// Places are not compared: talks in Riyadh and in Jeddah on the same day
// between the same offices would be one story. A date of another event
// in the sentence of the matched contact words ("who took office on
// Tuesday, spoke by phone") dates the report wrongly, and a report
// corrected from a meeting to a call is two stories.
package stories
