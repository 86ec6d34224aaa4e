package stories

// Words that date a contact or call it a repeat, in the languages the
// matcher reads (English, French, Spanish, German, Italian, Portuguese,
// Dutch, Polish, Turkish, Russian, Ukrainian, Chinese, Japanese, Korean,
// Arabic, Persian, Hebrew). They are written like matcher aliases (see
// rules.Spec): folded before use, a trailing "*" lets a word continue, a
// leading capital must be a capital in the text. Words that are also
// common words of another language are left out or written in a longer,
// unambiguous form ("в среду", not "среда", which is also "environment").

// weekdayWords[d] name time.Weekday(d).
var weekdayWords = [7][]string{
	{"Sunday", "dimanche", "domingo", "Sonntag", "domenica", "zondag", "niedziela", "niedzielę",
		"pazar günü", "воскресенье", "воскресенья", "неділя", "неділю", "неділі", "星期日", "星期天", "周日",
		"週日", "礼拜天", "日曜日", "일요일*", "الأحد", "یکشنبه", "یک شنبه", "יום ראשון", "ביום ראשון"},
	{"Monday", "lundi", "lunes", "Montag", "lunedì", "segunda-feira", "maandag", "poniedziałek",
		"poniedziałku", "pazartesi", "понедельник", "понедельника", "понеділок", "понеділка", "星期一", "周一",
		"週一", "礼拜一", "月曜日", "월요일*", "الاثنين", "الإثنين", "دوشنبه", "دو شنبه", "יום שני", "ביום שני"},
	{"Tuesday", "mardi", "martes", "Dienstag", "martedì", "terça-feira", "dinsdag", "wtorek",
		"wtorku", "salı", "вторник", "вторника", "вівторок", "вівторка", "星期二", "周二", "週二", "礼拜二",
		"火曜日", "화요일*", "الثلاثاء", "سه‌شنبه", "سه شنبه", "سه‌ شنبه", "יום שלישי", "ביום שלישי"},
	{"Wednesday", "mercredi", "miércoles", "Mittwoch", "mercoledì", "quarta-feira", "woensdag",
		"środa", "środę", "środy", "çarşamba", "среду", "середа", "середу", "星期三", "周三", "週三", "水曜日",
		"수요일*", "الأربعاء", "چهارشنبه", "چهار شنبه", "יום רביעי", "ביום רביעי"},
	{"Thursday", "jeudi", "jueves", "Donnerstag", "giovedì", "quinta-feira", "donderdag",
		"czwartek", "czwartku", "perşembe", "четверг", "четверга", "четвер", "星期四", "周四", "週四",
		"木曜日", "목요일*", "الخميس", "پنجشنبه", "پنج شنبه", "יום חמישי", "ביום חמישי"},
	{"Friday", "vendredi", "viernes", "Freitag", "venerdì", "sexta-feira", "vrijdag", "piątek",
		"piątku", "cuma", "пятница", "пятницу", "пятницы", "п'ятниця", "п'ятницю", "п'ятниці", "星期五",
		"周五", "週五", "金曜日", "금요일*", "الجمعة", "جمعه", "יום שישי", "ביום שישי"},
	{"Saturday", "samedi", "sábado", "Samstag", "Sonnabend", "sabato", "zaterdag", "sobota",
		"sobotę", "soboty", "cumartesi", "суббота", "субботу", "субботы", "субота", "суботу", "суботи",
		"星期六", "周六", "週六", "土曜日", "토요일*", "السبت", "شنبه", "בשבת", "יום שבת"},
}

// monthWords[m-1] name time.Month(m). Short and ambiguous forms ("Mar",
// "mart", "ekim", "aralık") count only next to a day number.
var monthWords = [12][]string{
	{"January", "janvier", "enero", "Januar", "Jänner", "gennaio", "janeiro", "januari", "styczeń",
		"stycznia", "январь", "января", "январе", "січень", "січня", "يناير", "كانون الثاني", "ژانویه", "ינואר", "בינואר"},
	{"February", "février", "febrero", "Februar", "febbraio", "fevereiro", "februari", "luty", "lutego",
		"февраль", "февраля", "феврале", "лютий", "лютого", "فبراير", "شباط", "فوریه", "פברואר", "בפברואר"},
	{"March", "mars", "marzo", "März", "março", "maart", "marzec", "март", "марта", "марте", "березень",
		"березня", "مارس", "آذار", "מרץ", "במרץ"},
	{"April", "avril", "abril", "aprile", "kwiecień", "kwietnia", "апрель", "апреля", "апреле", "квітень",
		"квітня", "أبريل", "إبريل", "نيسان", "آوریل", "אפריל", "באפריל"},
	{"May", "mayo", "Mai", "maggio", "maio", "mayıs", "май", "мая", "травень", "травня", "مايو", "أيار", "מאי", "במאי"},
	{"June", "juin", "junio", "Juni", "giugno", "junho", "czerwiec", "czerwca", "haziran", "июнь", "июня",
		"июне", "червень", "червня", "يونيو", "يونيه", "حزيران", "ژوئن", "יוני", "ביוני"},
	{"July", "juillet", "julio", "Juli", "luglio", "julho", "lipiec", "lipca", "temmuz", "июль", "июля",
		"июле", "липень", "липня", "يوليو", "يوليه", "تموز", "ژوئیه", "יולי", "ביולי"},
	{"August", "août", "agosto", "augustus", "sierpień", "sierpnia", "ağustos", "август", "августа",
		"августе", "серпень", "серпня", "أغسطس", "آب", "אוגוסט", "באוגוסט"},
	{"September", "septembre", "septiembre", "setiembre", "settembre", "setembro", "wrzesień", "września",
		"eylül", "сентябрь", "сентября", "сентябре", "вересень", "вересня", "سبتمبر", "أيلول", "سپتامبر", "ספטמבר", "בספטמבר"},
	{"October", "octobre", "octubre", "Oktober", "ottobre", "outubro", "październik", "października",
		"октябрь", "октября", "октябре", "жовтень", "жовтня", "أكتوبر", "تشرين الأول", "اکتبر", "אוקטובר", "באוקטובר"},
	{"November", "novembre", "noviembre", "novembro", "listopad", "listopada", "kasım", "ноябрь", "ноября",
		"ноябре", "листопад", "листопада", "نوفمبر", "تشرين الثاني", "نوامبر", "נובמבר", "בנובמבר"},
	{"December", "décembre", "diciembre", "Dezember", "dicembre", "dezembro", "grudzień", "grudnia",
		"декабрь", "декабря", "декабре", "грудень", "грудня", "ديسمبر", "كانون الأول", "دسامبر", "דצמבר", "בדצמבר"},
}

// monthShort are forms that count only next to a day number.
var monthShort = [12][]string{
	{"Jan", "ocak"}, {"Feb", "şubat"}, {"Mar", "mart"}, {"Apr", "nisan"}, {"mei", "maj", "maja", "мае", "مه"},
	{"Jun", "juni"}, {"Jul", "juli"}, {"Aug"}, {"Sep", "Sept", "september"}, {"Oct", "oktober", "ekim"},
	{"Nov", "november"}, {"Dec", "december", "aralık"},
}

// Relative cues, by what they say about the day of the contact.
const (
	relYesterday int32 = iota
	relThisWeek
	relLastWeek
	relRecently
	relNextWeek
)

var relativeWords = map[int32][]string{
	relYesterday: {"yesterday", "ayer", "gestern", "ieri", "ontem", "gisteren", "wczoraj", "dün", "вчера",
		"вчора", "昨天", "昨日", "어제", "أمس", "امس", "دیروز", "אתמול"},
	relThisWeek: {"this week", "earlier this week", "cette semaine", "esta semana", "diese Woche", "dieser Woche",
		"questa settimana", "deze week", "w tym tygodniu", "bu hafta", "на этой неделе", "на цьому тижні",
		"цього тижня", "本周", "这周", "本週", "今週", "이번 주", "هذا الأسبوع", "این هفته", "השבוע"},
	relLastWeek: {"last week", "la semaine dernière", "la semana pasada", "letzte Woche", "vergangene Woche",
		"vergangenen Woche", "letzten Woche", "la settimana scorsa", "semana passada", "vorige week",
		"afgelopen week", "w zeszłym tygodniu", "w ubiegłym tygodniu", "geçen hafta", "на прошлой неделе",
		"минулого тижня", "на минулому тижні", "上周", "上週", "先週", "지난주", "지난 주", "الأسبوع الماضي",
		"هفته گذشته", "هفته پیش", "בשבוע שעבר"},
	relNextWeek: {"next week", "la semaine prochaine", "la próxima semana", "la semana que viene", "nächste Woche",
		"nächsten Woche", "kommende Woche", "kommenden Woche", "la prossima settimana", "la settimana prossima",
		"na próxima semana", "próxima semana", "volgende week", "w przyszłym tygodniu", "gelecek hafta",
		"önümüzdeki hafta", "на следующей неделе", "на будущей неделе", "наступного тижня", "на наступному тижні",
		"下周", "下週", "来週", "다음 주", "다음주", "الأسبوع المقبل", "الأسبوع القادم", "هفته آینده", "هفته بعد",
		"בשבוע הבא"},
	relRecently: {"recently", "récemment", "recientemente", "kürzlich", "di recente", "recentemente",
		"onlangs", "niedawno", "geçenlerde", "недавно", "нещодавно", "最近", "近日", "최근", "مؤخرا", "مؤخراً",
		"اخیرا", "اخیراً", "לאחרונה"},
}

// againWords say the contact happened once more ("talk again"). They count
// just after a contact term or just before it.
var againWords = []string{
	"again", "once again", "once more", "anew", "à nouveau", "de nouveau", "encore une fois", "de nuevo",
	"otra vez", "nuevamente", "erneut", "nochmals", "noch einmal", "di nuovo", "nuovamente", "novamente",
	"de novo", "outra vez", "opnieuw", "ponownie", "znowu", "znów", "yeniden", "tekrar", "снова", "вновь",
	"опять", "повторно", "знову", "вдруге", "再次", "再度", "再び", "다시", "재차", "مجددا", "مجدداً",
	"مرة أخرى", "مرة ثانية", "دوباره", "بار دیگر", "שוב", "מחדש",
}

// anotherWords call the contact itself a new one ("a new call", "another
// meeting"). They count a few words before a contact term. Ordinals
// ("second meeting") are left out: they say where the contact stands in a
// series, which every report of it may say.
var anotherWords = []string{
	"new", "another", "fresh", "renewed", "follow-up", "nouvel", "nouvelle", "nouveau", "nouvelles",
	"nuevo", "nueva", "nuevas", "nuevos", "otra", "otro", "neue", "neuen", "neues", "neuer", "erneute",
	"erneuten", "weitere", "weiteren", "nuovo", "nuova", "nuovi", "nuove", "novo", "nova", "novas", "novos",
	"outra", "outro", "nieuwe", "nowa", "nowe", "nowy", "nowej", "kolejna", "kolejne", "kolejny", "kolejnej",
	"yeni", "новый", "новая", "новое", "новой", "новом", "новую", "нового", "новые", "новых", "очередной",
	"очередная", "очередную", "очередные", "новий", "нову", "новій", "новому", "нові", "чергова", "чергову",
	"新的", "새로운", "جديدة", "جديد", "أخرى", "جدید", "חדשה", "חדש", "נוספת", "נוסף",
}

// notAnother are phrases where an anotherWord calls nothing a repeat:
// places ("New York", "New Delhi") and the next round of a series of
// talks ("a new round of talks", "新一轮会谈"), which every report of that
// round may say, as with ordinals.
var notAnother = []string{
	"New York", "New Delhi", "New Zealand", "New Jersey", "New Mexico", "New England", "New Caledonia",
	"New Guinea", "Nueva York", "Nueva Delhi", "Nueva Zelanda", "Nouvelle-Zélande", "Nouvelle-Delhi",
	"Nouvelle-Calédonie", "Nuova York", "Nuova Delhi", "Nuova Zelanda", "Nova York", "Nova Deli",
	"Nova Délhi", "Nova Zelândia", "Nowy Jork", "Nowe Delhi", "Nowa Zelandia", "Yeni Delhi", "Yeni Zelanda",
	"Новая Зеландия", "Новой Зеландии", "Нова Зеландія",
	"new round", "fresh round", "another round", "nouveau cycle", "nouveau round", "nouveau tour",
	"nouvelle série", "nueva ronda", "otra ronda", "neue Runde", "neuen Runde", "weitere Runde",
	"weiteren Runde", "nuovo round", "nuovo ciclo", "nova rodada", "nova ronda", "outra rodada",
	"nowa runda", "nowej rundy", "kolejna runda", "kolejnej rundy", "yeni tur", "новый раунд",
	"нового раунда", "новом раунде", "очередной раунд", "очередного раунда", "новий раунд", "нового раунду",
	"черговий раунд", "чергового раунду", "新一轮", "새로운 라운드", "جولة جديدة", "جولة أخرى", "دور جدید",
	"סבב נוסף", "סבב חדש",
}

// futureWords announce a contact ("will meet on Tuesday", "to host talks
// on Tuesday"): only then may a weekday be the next one rather than the
// last one, and an undated contact lie in the coming week.
var futureWords = []string{
	"will", "to host", "to hold", "to meet", "due to", "set to", "is to", "are to", "plans to", "expected to",
	"scheduled", "upcoming", "next week", "va", "vont", "doit", "doivent", "devrait", "prochain", "prochaine",
	"se rendra", "va a", "van a", "próximo", "próxima", "viajará", "wird", "werden", "soll", "sollen",
	"kommenden", "nächste", "nächsten", "prossimo", "prossima", "vai", "vão", "zal", "zullen", "volgende",
	"przyszłym", "następnym", "önümüzdeki", "gelecek hafta", "будет", "будут", "состоится", "предстоящ*",
	"следующ*", "буде", "будуть", "відбудеться", "наступн*", "将", "将于", "即将", "下周", "予定", "예정",
	"سوف", "المقبل", "المقبلة", "خواهد", "آینده", "יתקיים", "הבא", "הבאה",
}

// sidelinesWords place a contact on the margins of a larger gathering: a
// bilateral meeting there is not the gathering itself.
var sidelinesWords = []string{
	"sidelines", "margins", "on the margin", "en marge", "al margen", "en los márgenes", "am Rande",
	"a margine", "à margem", "à margem", "aan de zijlijn", "w kuluarach", "marjında", "kulislerinde",
	"на полях", "в кулуарах", "на полях", "у кулуарах", "期间会见", "间隙", "会议期间", "の際に", "계기에",
	"على هامش", "في هامش", "در حاشیه", "בשולי",
}

// remoteWords say a contact was at a distance: a phone or video call. The
// matcher's call words also hold "spoke" and "talked", which describe a
// conversation in a room as well; these do not. notRemote are the phrases
// where "call" is no call ("call for", "calls on").
var remoteWords = []string{
	"phone", "phoned", "telephone", "telephoned", "by phone", "phone call", "call", "video call", "video link",
	"by video", "via video", "over video", "por video", "por vídeo", "per Video", "in video",
	"videolink", "video conference", "videoconference", "teleconference", "dialled", "dialed",
	"téléphon*", "appel", "visioconférence", "par vidéo", "llamada", "telefónic*", "telefoneó", "por teléfono",
	"videollamada", "videoconferencia", "Telefon*", "telefonier*", "Videoschalte", "Videokonferenz",
	"Videogespräch", "telefon*", "videochiamata", "videoconferenza", "videochamada", "videoconferência",
	"telefoongesprek", "belde", "videogesprek", "zadzwonił", "zadzwoniła", "wideokonferencj*",
	"video konferans", "телефон*", "звонок", "звонка", "звонке", "созвони*", "позвонил*", "видеосвяз*",
	"видеоконференц*", "дзвінок", "дзвінка", "зателефонував*", "відеоконференц*", "电话", "通话", "视频会谈",
	"视频会议", "电話", "通話", "電話", "オンライン会談", "テレビ会議", "통화", "전화", "화상", "هاتف*",
	"هاتفي*", "مكالمة", "عبر الفيديو", "تلفن*", "تماس تلفنی", "ویدئوکنفرانس", "טלפון*", "שיחת טלפון",
	"טלפונית", "שיחת וידאו",
}

var notRemote = []string{
	"call for", "calls for", "call on", "calls on", "call to", "appel à", "appel au", "appel aux", "appel de",
	"llamada a", "wake-up call",
}

// sayWords before a date make it the day something was said, which may be
// the day after the contact ("the Kremlin said on Wednesday").
var sayWords = []string{
	"said", "says", "announced", "confirmed", "reported", "told", "stated", "added", "a déclaré", "a annoncé",
	"a confirmé", "a indiqué", "dijo", "anunció", "confirmó", "informó", "sagte", "erklärte", "bestätigte",
	"ha detto", "ha annunciato", "disse", "anunciou", "zei", "powiedział", "açıkladı", "dedi", "заявил*",
	"сообщил*", "сказал*", "подтвердил*", "повідомив*", "заявив*", "表示", "宣布", "称", "発表", "밝혔다",
	"قال", "أعلن", "صرح", "گفت", "اعلام کرد", "אמר", "הודיע",
}

// rangeWords join the first and last days of a range ("18 and 19
// August", "du 18 au 19 août"); a dash is not a word and joins them too.
var rangeWords = map[string]bool{"and": true, "to": true, "through": true, "au": true, "et": true, "y": true,
	"al": true, "und": true, "bis": true, "e": true, "a": true, "en": true, "tot": true, "i": true, "do": true,
	"ve": true, "и": true, "по": true, "і": true}

// sayLastWords say something was said and come after its date, as the
// verb does in Korean, Japanese, Turkish and Persian, and a Chinese verb
// after its subject and date ("外交部24日表示"): "24일 밝혔다", "24日発表した".
const sayLast int32 = 1

var sayLastWords = []string{
	"밝혔다", "말했다", "전했다", "발표했다", "설명했다", "表示", "宣布", "称", "说", "指出", "発表", "明らかにした",
	"述べた", "açıkladı", "dedi", "bildirdi", "duyurdu", "گفت", "اعلام کرد", "اعلام شد",
}

// summitWords name a summit of leaders: the occasion of a contact or the
// next step after it ("ahead of the Trump-Xi summit", "prepare a possible
// summit in Budapest"), never the contact of the offices this package
// groups. They neither date nor give a mode to a report.
const notContact int32 = -1

var summitWords = []string{
	"summit", "summits", "summitry", "sommet", "sommets", "cumbre", "cumbres", "Gipfel*", "vertice", "vertici",
	"cúpula", "szczyt*", "zirve*", "саммит*", "встреча на высшем уровне", "встречи на высшем уровне",
	"встречу на высшем уровне", "встрече на высшем уровне", "саміт*", "зустрічі на найвищому рівні", "峰会",
	"元首会晤", "首脑会晤", "首脑会谈", "首脳会談", "首脳会議", "サミット", "정상회담", "정상회의", "قمة", "القمة",
	"نشست سران", "اجلاس سران", "פסגה", "ועידת הפסגה", "ועידת פסגה",
}

// compoundWords name two or three countries in one word, as Korean,
// Japanese and Chinese headlines do ("한중 외교장관 회담", "日米外相",
// "中日韩"). Those whose syllables are also common words ("중미", Central
// America; "북미", North America) are left out.
var compoundWords = map[string][]string{
	"한미": {"KR", "US"}, "한중": {"KR", "CN"}, "한일": {"KR", "JP"}, "한러": {"KR", "RU"}, "미중": {"US", "CN"},
	"미일": {"US", "JP"}, "미러": {"US", "RU"}, "중러": {"CN", "RU"}, "중일": {"CN", "JP"}, "북중": {"KP", "CN"},
	"북러": {"KP", "RU"}, "남북": {"KR", "KP"}, "한미일": {"KR", "US", "JP"}, "한중일": {"KR", "CN", "JP"},
	"한일중": {"KR", "JP", "CN"},
	"日米":  {"JP", "US"}, "米日": {"US", "JP"}, "日中": {"JP", "CN"}, "中日": {"CN", "JP"}, "日韓": {"JP", "KR"},
	"韓日": {"KR", "JP"}, "日露": {"JP", "RU"}, "米中": {"US", "CN"}, "米露": {"US", "RU"}, "米韓": {"US", "KR"},
	"中韓": {"CN", "KR"}, "日米韓": {"JP", "US", "KR"}, "日中韓": {"JP", "CN", "KR"},
	"日韩": {"JP", "KR"}, "韩日": {"KR", "JP"}, "美日": {"US", "JP"}, "日美": {"JP", "US"}, "日俄": {"JP", "RU"},
	"中日韩": {"CN", "JP", "KR"}, "美日韩": {"US", "JP", "KR"},
}

// leaderWords name heads of state or government. A contact term next to
// one is theirs ("the presidents' phone call", "Trump-Putin summit"), not
// of the offices in the report. Words that also name an agency's head
// ("president" of a service, "رئيس") are left out where they would be.
var leaderWords = []string{
	"presidents", "presidential", "leaders", "leaders'", "heads of state", "prime ministers", "président",
	"présidents", "présidentiel*", "chefs d'État", "presidentes", "presidencial", "jefes de Estado",
	"Präsidenten", "Staatschefs", "presidenti", "capi di Stato", "prezydentów", "liderów", "liderler*",
	"cumhurbaşkanları", "президентов", "президентами", "президентский", "лидеров", "глав государств",
	"президентів", "лідерів", "元首", "两国元首", "首脑", "首脳", "大統領", "정상", "정상간", "대통령", "الرئيسين",
	"الزعيمين", "القادة", "رؤساء", "رهبران", "رئیسان جمهور", "روسای جمهور", "הנשיאים", "המנהיגים",
}

// dateFillers may stand between a day number and its month ("18th of
// February", "18 de febrero", "18-го февраля", "1er mars").
var dateFillers = map[string]bool{"th": true, "st": true, "nd": true, "rd": true, "of": true, "de": true,
	"del": true, "di": true, "er": true, "го": true, "e": true, "den": true, "am": true}

// apartWords set a person named in their sentence apart from the contact
// reported: another contact before or after it ("hours before Lavrov's
// talks with Rubio", "after his meeting with China's Dong Jun"), or an
// absence ("without Rubio"). A holder of a country no match names is not
// made a party by such a sentence. Short words that are also common in
// other uses ("po", "до", "voor", "na", "前") are left out.
var apartWords = []string{
	"before", "after", "ahead of", "following", "prior to", "without", "later in the day",
	"avant", "après", "sans", "antes de", "después de", "tras", "sin", "vor dem", "vor der", "nach dem",
	"nach der", "ohne", "prima di", "prima del", "prima della", "dopo", "senza", "depois de", "após", "sem",
	"voorafgaand", "zonder", "przed", "bez", "önce", "sonra", "öncesinde", "sonrasında", "olmadan", "перед",
	"после", "без", "після", "之前", "之后", "此前", "随后", "前に", "後に", "앞두고", "이후", "없이", "قبل",
	"بعد", "دون", "بدون", "پیش از", "پس از", "قبل از", "بعد از", "بدون", "לפני", "אחרי", "לאחר", "ללא", "בלי",
}

// Group words are the rules' (rules.Spec.Groups): they qualify a plural
// office. Some of them name two countries, not a gathering ("the two
// countries' foreign ministers", "两国外长"): pairWords, which never make a
// contact multilateral.
const (
	groupMany int32 = iota
	groupPair
	groupNamed // and up: a gathering of gatheringWords
)

// gatheringWords name the gatherings that reports of one meeting call by
// the same name in any language: "G7 foreign ministers", "ministres du G7",
// "七国集团外长". Its name is a key under which the reports of the gathering
// find each other whichever members they name. Group words that name no
// one gathering ("allies", "European", "regional") are left out.
var gatheringWords = map[string][]string{
	"G7": {"G7", "G-7", "Group of Seven", "groupe des Sept", "Grupo de los Siete", "Gruppe der Sieben",
		"Большой семерки", "Большой семёрки", "Великої сімки", "七国集团", "主要7カ国", "先进7カ国", "주요7개국",
		"مجموعة السبع", "گروه هفت"},
	"G20": {"G20", "G-20", "Group of 20", "Group of Twenty", "Большой двадцатки", "二十国集团", "主要20カ国",
		"주요20개국", "مجموعة العشرين", "گروه ۲۰"},
	"NATO": {"NATO", "OTAN", "НАТО", "北约", "北大西洋公約機構", "나토", "الناتو", "حلف شمال الأطلسي", "ناتو", "נאט״ו",
		"נאט\"ו"},
	"EU": {"EU", "European Union", "Union européenne", "Unión Europea", "Europäischen Union", "Unione europea",
		"União Europeia", "Unii Europejskiej", "Avrupa Birliği", "ЕС", "Евросоюз", "Евросоюза", "Європейського Союзу",
		"Євросоюз", "Євросоюзу", "欧盟", "欧州連合", "유럽연합", "الاتحاد الأوروبي", "اتحادیه اروپا", "האיחוד האירופי"},
	"ADMM-Plus": {"ADMM-Plus", "ADMM Plus", "ADMM+"},
	"ASEAN":     {"ASEAN", "ADMM", "АСЕАН", "东盟", "東南アジア諸国連合", "아세안", "آسه‌آن", "آسيان"},
	"SCO":       {"SCO", "Shanghai Cooperation Organisation", "Shanghai Cooperation Organization", "ШОС", "上合组织", "上海合作组织", "上海協力機構", "منظمة شنغهاي للتعاون", "سازمان همکاری شانگهای"},
	"BRICS":     {"BRICS", "БРИКС", "金砖国家", "金砖", "بريكس", "بریکس"},
	"CSTO":      {"CSTO", "ОДКБ"},
	"CIS":       {"CIS", "СНГ", "Содружества Независимых Государств", "独联体"},
	"GCC":       {"GCC", "Gulf Cooperation Council", "مجلس التعاون", "دول مجلس التعاون", "海合会"},
	"Arab League": {"Arab League", "Ligue arabe", "Liga Árabe", "Arabischen Liga", "Лиги арабских государств",
		"阿盟", "阿拉伯国家联盟", "جامعة الدول العربية", "الجامعة العربية", "اتحادیه عرب"},
	"OSCE":          {"OSCE", "OSZE", "ОБСЕ", "欧安组织"},
	"OIC":           {"OIC", "Organisation of Islamic Cooperation", "Organization of Islamic Cooperation", "منظمة التعاون الإسلامي"},
	"African Union": {"African Union", "Union africaine", "Unión Africana", "Afrikanischen Union", "Африканского союза", "非盟", "الاتحاد الأفريقي"},
	"Quad":          {"Quad"},
	"E3":            {"E3", "E-3", "troïka européenne", "европейской тройки", "تروئیکای اروپایی", "الترويكا الأوروبية"},
	"Ramstein":      {"Ramstein", "Рамштайн", "Рамштайна", "Рамштайну", "контактной группы по обороне", "Контактної групи з питань оборони", "Контактна група з питань оборони"},
	"Weimar": {"Weimar", "Weimar Triangle", "Triangle de Weimar", "Weimarer Dreieck", "Weimarer", "Trójkąt Weimarski",
		"Trójkąta Weimarskiego", "Weimarski*", "Веймар", "Веймарского", "Веймарской", "Веймарського", "Веймарської", "魏玛"},
	"Visegrad":  {"Visegrad", "Visegrád", "V4"},
	"Five Eyes": {"Five Eyes", "Fünf Augen", "Пять глаз", "五眼联盟"},
}

var pairWords = []string{
	"two countries", "both countries", "the two sides", "both sides", "two nations", "both nations",
	"deux pays", "les deux parties", "dos países", "ambos países", "beiden Länder", "beider Länder",
	"due paesi", "dois países", "beide landen", "obu krajów", "iki ülke", "двух стран", "обеих стран",
	"двух государств", "обеих сторон", "двох країн", "обох країн", "обох сторін", "两国", "双方", "両国",
	"양국", "بلدين", "البلدين", "الجانبين", "الجانبان", "دو کشور", "طرفین", "دو طرف", "שתי המדינות",
	"שני הצדדים",
}
