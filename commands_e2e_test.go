package main

// End-to-end tests of the slash commands (issue 4): the whole app runs in
// process (startApp) on loopback ports, with a real SQLite database, the
// httptest feed server and the fake Discord. Every command is driven both
// as an INTERACTION_CREATE on the fake gateway and as a signed POST to the
// app's /interactions endpoint, and the tests assert the reply and the
// stored state (read through a second db.Open of the same file) or the
// behaviour (what gets posted where).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/internal/fakediscord"
	"github.com/backchannel/backchannel/model"
)

// Identities used by the command tests.
const (
	guildA  = "200000000000000010"
	guildB  = "200000000000000020"
	ownerID = "400000000000000001"
	userID  = "400000000000000002"

	// Permission sets of the members who type the commands.
	permPlain       = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages
	permManageChans = permPlain | discordgo.PermissionManageChannels
	permManageGuild = permPlain | discordgo.PermissionManageGuild
	permAdmin       = discordgo.PermissionAdministrator

	// cmdWait bounds every wait for an answer or a post.
	cmdWait = 20 * time.Second
)

// transport is how an interaction reaches the app.
type transport string

const (
	viaGateway transport = "gateway"
	viaHTTP    transport = "http"
)

var transports = []transport{viaGateway, viaHTTP}

// cmdEnv is one running app with its fakes.
type cmdEnv struct {
	t    *testing.T
	fd   *fakediscord.Server
	fs   *feedServer
	cfg  config.Config
	addr string
	priv ed25519.PrivateKey
	stop func()

	storeOnce sync.Once
	st        *db.DB
}

// interactionSeq makes interaction ids unique across the whole test binary
// (the HTTP endpoint refuses a replayed id).
var interactionSeq atomic.Int64

// startCmdApp starts the app with the HTTP interactions endpoint (a key
// made for the test), the gateway, owner ownerID, and two feeds served by
// a fresh feed server; tweak may change the configuration first.
func startCmdApp(t *testing.T, tweak func(*config.Config)) *cmdEnv {
	t.Helper()
	return startCmdAppWith(t, tweak, appOptions{})
}

// startCmdAppWith is startCmdApp with the app's options (a logger to read).
func startCmdAppWith(t *testing.T, tweak func(*config.Config), opts appOptions) *cmdEnv {
	t.Helper()
	fd := fakediscord.New(t)
	fs := newFeedServer(t)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e2eConfig(t, fd, fs)
	cfg.Discord.PublicKey = hex.EncodeToString(pub)
	cfg.Discord.OwnerIDs = []string{ownerID}
	if tweak != nil {
		tweak(&cfg)
	}
	e := &cmdEnv{t: t, fd: fd, fs: fs, cfg: cfg, priv: priv}
	e.addr, e.stop = startApp(t, cfg, opts)
	fd.WaitGatewayConnected(t, cmdWait)
	return e
}

// store opens the app's database a second time, for the tests to read.
func (e *cmdEnv) store(t *testing.T) *db.DB {
	t.Helper()
	e.storeOnce.Do(func() {
		st, err := db.Open(context.Background(), e.cfg.Database.Path)
		if err != nil {
			t.Errorf("open the app's database: %v", err)
			return
		}
		e.t.Cleanup(func() { _ = st.Close() })
		e.st = st
	})
	if e.st == nil {
		t.Fatal("the app's database is not open")
	}
	return e.st
}

func (e *cmdEnv) subscriptions(t *testing.T, guild string) []model.Subscription {
	t.Helper()
	subs, err := e.store(t).Subscriptions(context.Background(), guild)
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

func hasSub(subs []model.Subscription, channel, rule string) bool {
	return slices.ContainsFunc(subs, func(s model.Subscription) bool { return s.ChannelID == channel && s.Rule == rule })
}

// addRSS appends items to the RSS feed of fs.
func addRSS(fs *feedServer, items ...feedItem) {
	fs.mu.Lock()
	fs.rss = append(append([]feedItem(nil), fs.rss...), items...)
	fs.mu.Unlock()
}

// ---- building interactions ----

type who struct {
	user  string
	perms int64
}

var (
	plainMember   = who{userID, permPlain}
	chanAdmin     = who{userID, permManageChans}
	guildAdmin    = who{userID, permManageGuild}
	administrator = who{userID, permAdmin}
	owner         = who{ownerID, permPlain}
)

type opt = discordgo.ApplicationCommandInteractionDataOption

func strOption(name, v string) *opt {
	return &opt{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
}

func intOption(name string, v int) *opt {
	return &opt{Name: name, Type: discordgo.ApplicationCommandOptionInteger, Value: v}
}

func channelOption(name, id string) *opt {
	return &opt{Name: name, Type: discordgo.ApplicationCommandOptionChannel, Value: id}
}

func subOption(name string, opts ...*opt) *opt {
	return &opt{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}
}

// command builds an application command interaction as Discord sends it:
// typed by m in channel of guild.
func command(guild, channel string, m who, name string, opts ...*opt) *discordgo.Interaction {
	n := interactionSeq.Add(1)
	id := fmt.Sprintf("7%017d", n)
	return &discordgo.Interaction{
		ID:        id,
		AppID:     fakediscord.ApplicationID,
		Type:      discordgo.InteractionApplicationCommand,
		GuildID:   guild,
		ChannelID: channel,
		Member: &discordgo.Member{
			User:        &discordgo.User{ID: m.user, Username: "user" + m.user[len(m.user)-2:]},
			Permissions: m.perms,
		},
		Token:   "itx-token-" + strconv.FormatInt(n, 10),
		Version: 1,
		Data: discordgo.ApplicationCommandInteractionData{
			ID:          "500000000000000001",
			Name:        name,
			CommandType: discordgo.ChatApplicationCommand,
			Options:     opts,
		},
	}
}

// ---- answers ----

// answer is what the user saw: the final message of the interaction.
type answer struct {
	via     transport
	typ     discordgo.InteractionResponseType // the initial response: 4, or 5 then an edit
	flags   discordgo.MessageFlags
	content string
	embeds  []*discordgo.MessageEmbed
	raws    [][]byte // every body the bot sent for it
}

func (a answer) ephemeral() bool { return a.flags&discordgo.MessageFlagsEphemeral != 0 }

// text is everything the message shows, for substring assertions.
func (a answer) text() string {
	var b strings.Builder
	b.WriteString(a.content)
	for _, e := range a.embeds {
		b.WriteString("\n" + e.Title + "\n" + e.Description)
		for _, f := range e.Fields {
			b.WriteString("\n" + f.Name + "\n" + f.Value)
		}
		if e.Footer != nil {
			b.WriteString("\n" + e.Footer.Text)
		}
	}
	return b.String()
}

func (a answer) String() string {
	return fmt.Sprintf("[%s type %d flags %d] %q", a.via, a.typ, a.flags, a.text())
}

// mentionsSuppressed reports whether a response body (initial response,
// with "data", or an edit) has allowed_mentions with an empty parse list.
func mentionsSuppressed(raw []byte) bool {
	type am struct {
		Parse []string `json:"parse"`
	}
	var v struct {
		AllowedMentions *am `json:"allowed_mentions"`
		Data            *struct {
			AllowedMentions *am `json:"allowed_mentions"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	m := v.AllowedMentions
	if v.Data != nil {
		m = v.Data.AllowedMentions
	}
	return m != nil && m.Parse != nil && len(m.Parse) == 0
}

// run delivers i over tr and returns the answer, failing the test when none
// comes within cmdWait or when a body the bot sent could ping.
func (e *cmdEnv) run(t *testing.T, tr transport, i *discordgo.Interaction) answer {
	t.Helper()
	var a answer
	switch tr {
	case viaGateway:
		a = e.runGateway(t, i)
	case viaHTTP:
		a = e.runHTTP(t, i)
	default:
		t.Fatalf("unknown transport %q", tr)
	}
	for _, raw := range a.raws {
		if !mentionsSuppressed(raw) {
			t.Errorf("%s: reply without allowed_mentions.parse == []: %s", tr, raw)
		}
	}
	return a
}

func (e *cmdEnv) runGateway(t *testing.T, i *discordgo.Interaction) answer {
	t.Helper()
	if err := e.fd.Dispatch("INTERACTION_CREATE", i); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	var first *fakediscord.InteractionResponse
	deadline := time.Now().Add(cmdWait)
	for first == nil {
		for _, r := range e.fd.InteractionResponses() {
			if r.Token == i.Token {
				first = &r
				break
			}
		}
		if first == nil {
			if time.Now().After(deadline) {
				t.Fatalf("gateway: no answer to interaction %s within %v", i.ID, cmdWait)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	a := answer{via: viaGateway, typ: first.Response.Type, raws: [][]byte{first.Raw}}
	if d := first.Response.Data; d != nil {
		a.flags, a.content, a.embeds = d.Flags, d.Content, d.Embeds
	}
	if a.typ == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		m := e.fd.WaitOriginalResponse(t, i.Token, cmdWait, func(m fakediscord.Message) bool { return !bytes.Equal(m.Raw, first.Raw) })
		a.content, a.embeds = m.Content, m.Embeds
		a.raws = append(a.raws, m.Raw)
	}
	return a
}

// seedMarker is the content of the original response the test creates on
// the fake before an HTTP interaction; see runHTTP.
const seedMarker = "(deferred over HTTP)"

func (e *cmdEnv) runHTTP(t *testing.T, i *discordgo.Interaction) answer {
	t.Helper()
	// Discord makes the HTTP response body of an interaction its original
	// message, which a deferred answer is then edited into. The fake only
	// knows originals created through its callback route, so the test
	// creates it there first, as Discord would on seeing a type-5 body.
	seed := fmt.Sprintf(`{"type":5,"data":{"content":%q,"allowed_mentions":{"parse":[]}}}`, seedMarker)
	resp, err := http.Post(e.fd.URL()+"/interactions/"+i.ID+"/"+i.Token+"/callback", "application/json", strings.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seeded, _ := e.fd.OriginalResponse(i.Token)

	body, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.postSigned(t, body, time.Now(), e.priv, nil)
	if code != http.StatusOK {
		t.Fatalf("POST /interactions: %d %s", code, out)
	}
	var r discordgo.InteractionResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("POST /interactions answered %q: %v", out, err)
	}
	a := answer{via: viaHTTP, typ: r.Type, raws: [][]byte{out}}
	if r.Data != nil {
		a.flags, a.content, a.embeds = r.Data.Flags, r.Data.Content, r.Data.Embeds
	}
	if a.typ == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		m := e.fd.WaitOriginalResponse(t, i.Token, cmdWait, func(m fakediscord.Message) bool { return !bytes.Equal(m.Raw, seeded.Raw) })
		a.content, a.embeds = m.Content, m.Embeds
		a.raws = append(a.raws, m.Raw)
	}
	return a
}

// postSigned posts body to /interactions signed by priv at ts; tweak may
// change the request before it is sent.
func (e *cmdEnv) postSigned(t *testing.T, body []byte, ts time.Time, priv ed25519.PrivateKey, tweak func(*http.Request)) (int, []byte) {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, "http://"+e.addr+"/interactions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(priv, append([]byte(stamp), body...))))
	req.Header.Set("X-Signature-Timestamp", stamp)
	if tweak != nil {
		tweak(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// expect checks an answer: ephemeral or not, and containing every want.
func expect(t *testing.T, a answer, ephemeral bool, want ...string) {
	t.Helper()
	if a.ephemeral() != ephemeral {
		t.Errorf("ephemeral = %v, want %v: %s", a.ephemeral(), ephemeral, a)
	}
	txt := a.text()
	for _, w := range want {
		if !strings.Contains(txt, w) {
			t.Errorf("answer lacks %q: %s", w, a)
		}
	}
}

// refused checks an ephemeral refusal that says nothing was changed.
func refused(t *testing.T, a answer, why ...string) {
	t.Helper()
	expect(t, a, true, why...)
}

// ---- items ----

var itemSeq atomic.Int64

// dipItem is a fresh item that the default diplomatic-heads rule matches;
// topic makes its title unique (and searchable). Each item is another
// contact, a call on another day of the week (callDay), so a story of its
// own, posted as a new message rather than editing the last one's.
func dipItem(topic string) feedItem {
	n := itemSeq.Add(1)
	return feedItem{
		GUID: fmt.Sprintf("dip-%d", n), Title: "Lavrov and " + counterpartOf(n) + " hold phone call on " + topic,
		Link: fmt.Sprintf("https://wire.example/dip/%d", n), Summary: "The foreign ministers spoke by phone on " + callDay(n) + ".",
		Published: time.Now().UTC().Add(-10 * time.Minute),
	}
}

// intelItem is a fresh item that the default intel-heads rule matches, a
// story of its own as dipItem's are.
func intelItem(topic string) feedItem {
	n := itemSeq.Add(1)
	return feedItem{
		GUID: fmt.Sprintf("intel-%d", n), Title: callerOf(n) + " and SVR chief Naryshkin hold phone call on " + topic,
		Link: fmt.Sprintf("https://wire.example/intel/%d", n), Summary: "The spy chiefs spoke by phone on " + callDay(n) + ".",
		Published: time.Now().UTC().Add(-10 * time.Minute),
	}
}

// callDay names the day of the week of item n's call and callerOf its
// American side (counterpartOf for dipItem): with three parties and seven days, any 21 items in a row
// are 21 different contacts, so tests running side by side never make two
// of their items one story (which would edit a message, not post one).
func callDay(n int64) string { return time.Weekday(n % 7).String() }

// counterpartOf is Lavrov's counterpart in dipItem n's call, as callerOf.
func counterpartOf(n int64) string {
	return [...]string{"Rubio", "Wang Yi", "Fidan"}[(n/7)%3]
}

func callerOf(n int64) string {
	return [...]string{"CIA Director Ratcliffe", "DNI Gabbard", "FBI Director Patel"}[(n/7)%3]
}

// plainItem is a fresh item no default rule matches.
func plainItem(title string) feedItem {
	n := itemSeq.Add(1)
	return feedItem{
		GUID: fmt.Sprintf("plain-%d", n), Title: title, Link: fmt.Sprintf("https://wire.example/plain/%d", n),
		Summary: "Nothing about spies or ministers.", Published: time.Now().UTC().Add(-10 * time.Minute),
	}
}

var footerIDRE = regexp.MustCompile(`^alert ([A-Za-z0-9-]{1,25}) · rule (\S+)$`)

// postedWith returns the message in channel whose embed links to link.
func postedWith(t *testing.T, fd *fakediscord.Server, channel, link string) (fakediscord.Message, bool) {
	t.Helper()
	for _, m := range fd.Messages(channel) {
		if len(m.Embeds) > 0 && m.Embeds[0].URL == link {
			return m, true
		}
	}
	return fakediscord.Message{}, false
}

// waitPosted waits until item is posted to channel and returns the message.
func waitPosted(t *testing.T, fd *fakediscord.Server, channel string, it feedItem) fakediscord.Message {
	t.Helper()
	deadline := time.Now().Add(cmdWait)
	for {
		if m, ok := postedWith(t, fd, channel, it.Link); ok {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not posted to %s within %v (%d messages there)", it.Title, channel, cmdWait, len(fd.Messages(channel)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countPosted counts the messages in channel linking to it.
func countPosted(fd *fakediscord.Server, channel string, it feedItem) int {
	n := 0
	for _, m := range fd.Messages(channel) {
		if len(m.Embeds) > 0 && m.Embeds[0].URL == it.Link {
			n++
		}
	}
	return n
}

// alertID reads the alert id from a posted message's footer.
func alertID(t *testing.T, m fakediscord.Message) (id, rule string) {
	t.Helper()
	if len(m.Embeds) == 0 || m.Embeds[0].Footer == nil {
		t.Fatalf("message without an embed footer: %s", m.Raw)
	}
	sm := footerIDRE.FindStringSubmatch(m.Embeds[0].Footer.Text)
	if sm == nil {
		t.Fatalf("footer %q does not read `alert <ID> · rule <NAME>`", m.Embeds[0].Footer.Text)
	}
	return sm[1], sm[2]
}

// countingFeed is an RSS feed that counts the requests it gets.
type countingFeed struct {
	*httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	items []feedItem
}

func newCountingFeed(t *testing.T, title string) *countingFeed {
	cf := &countingFeed{}
	cf.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cf.hits.Add(1)
		cf.mu.Lock()
		items := cf.items
		cf.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://extra.example/</link><description>x</description>`, xmlEscape(title))
		for _, it := range items {
			fmt.Fprintf(w, `<item><guid>%s</guid><title>%s</title><link>%s</link><description>%s</description><pubDate>%s</pubDate></item>`,
				xmlEscape(it.GUID), xmlEscape(it.Title), xmlEscape(it.Link), xmlEscape(it.Summary), it.Published.Format(time.RFC1123Z))
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(cf.Close)
	return cf
}

func (cf *countingFeed) add(items ...feedItem) {
	cf.mu.Lock()
	cf.items = append(append([]feedItem(nil), cf.items...), items...)
	cf.mu.Unlock()
}

// channelFor makes a channel id of its own for each transport, so the
// subtests of the two transports share an app but not their state.
func channelFor(tr transport, n int) string {
	k := 1
	if tr == viaHTTP {
		k = 2
	}
	return fmt.Sprintf("3%02d%015d", k, n)
}

// TestCommandsSubscribeUnsubscribe: /subscribe by each kind of channel
// admin makes matching items post there exactly once; a plain member is
// refused and nothing changes; /unsubscribe stops the posts.
func TestCommandsSubscribeUnsubscribe(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, nil)
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			chPlain, chMC, chMG, chAdm, chOpt := channelFor(tr, 1), channelFor(tr, 2), channelFor(tr, 3), channelFor(tr, 4), channelFor(tr, 5)

			// A plain member is refused, and nothing is stored.
			a := e.run(t, tr, command(guildA, chPlain, plainMember, "subscribe"))
			refused(t, a, "Manage Channels", "Nothing was changed")
			if subs := e.subscriptions(t, guildA); hasSub(subs, chPlain, "") {
				t.Fatalf("refused /subscribe stored %+v", subs)
			}

			// Manage Channels, Manage Guild and Administrator may subscribe.
			for _, c := range []struct {
				ch string
				m  who
			}{{chMC, chanAdmin}, {chMG, guildAdmin}, {chAdm, administrator}} {
				a := e.run(t, tr, command(guildA, c.ch, c.m, "subscribe"))
				expect(t, a, false, "Subscribed <#"+c.ch+">", "every rule")
			}
			// Again: says so, and keeps one subscription.
			a = e.run(t, tr, command(guildA, chMC, chanAdmin, "subscribe"))
			expect(t, a, false, "already subscribed")

			// The channel option names another channel of the guild, which
			// Discord resolves; a channel it did not resolve is refused.
			i := command(guildA, chPlain, chanAdmin, "subscribe", channelOption("channel", chOpt))
			a = e.run(t, tr, i)
			refused(t, a, "not one of this server's channels")
			i = command(guildA, chPlain, chanAdmin, "subscribe", channelOption("channel", chOpt))
			data := i.Data.(discordgo.ApplicationCommandInteractionData)
			data.Resolved = &discordgo.ApplicationCommandInteractionDataResolved{Channels: map[string]*discordgo.Channel{
				chOpt: {ID: chOpt, GuildID: guildA, Type: discordgo.ChannelTypeGuildText, Name: "alerts"},
			}}
			i.Data = data
			a = e.run(t, tr, i)
			expect(t, a, false, "Subscribed <#"+chOpt+">")

			subs := e.subscriptions(t, guildA)
			for _, ch := range []string{chMC, chMG, chAdm, chOpt} {
				if !hasSub(subs, ch, "") {
					t.Errorf("no stored subscription of %s: %+v", ch, subs)
				}
			}
			if hasSub(subs, chPlain, "") {
				t.Errorf("channel %s subscribed though every /subscribe there was refused", chPlain)
			}

			// A matching item is posted to each subscribed channel, once.
			first := dipItem("grain corridor " + string(tr))
			addRSS(e.fs, first)
			for _, ch := range []string{chMC, chMG, chAdm, chOpt} {
				m := waitPosted(t, e.fd, ch, first)
				if !m.MentionsSuppressed() {
					t.Errorf("alert in %s may ping: %s", ch, m.Raw)
				}
			}
			waitPolls(t, e.addr, 4)
			for _, ch := range []string{chMC, chMG, chAdm, chOpt} {
				if n := countPosted(e.fd, ch, first); n != 1 {
					t.Errorf("%q posted %d times to %s, want once", first.Title, n, ch)
				}
			}
			if n := len(e.fd.Messages(chPlain)); n != 0 {
				t.Errorf("%d messages in the channel that was never subscribed", n)
			}

			// /unsubscribe: refused for a plain member, done for a channel
			// admin, and "no such subscription" the second time.
			a = e.run(t, tr, command(guildA, chMC, plainMember, "unsubscribe"))
			refused(t, a, "Manage Channels", "Nothing was changed")
			if !hasSub(e.subscriptions(t, guildA), chMC, "") {
				t.Fatal("a refused /unsubscribe removed the subscription")
			}
			a = e.run(t, tr, command(guildA, chMC, chanAdmin, "unsubscribe"))
			expect(t, a, false, "Unsubscribed <#"+chMC+">")
			a = e.run(t, tr, command(guildA, chMC, chanAdmin, "unsubscribe"))
			refused(t, a, "no subscription of <#"+chMC+">")
			if hasSub(e.subscriptions(t, guildA), chMC, "") {
				t.Fatal("subscription still stored after /unsubscribe")
			}

			// A later matching item reaches the channels still subscribed,
			// and not the unsubscribed one.
			second := intelItem("cyber truce " + string(tr))
			addRSS(e.fs, second)
			waitPosted(t, e.fd, chMG, second)
			waitPosted(t, e.fd, chAdm, second)
			waitPolls(t, e.addr, 2)
			if n := countPosted(e.fd, chMC, second); n != 0 {
				t.Errorf("posted %d times to %s after /unsubscribe", n, chMC)
			}

			// /subscriptions lists what is left.
			a = e.run(t, tr, command(guildA, chPlain, plainMember, "subscriptions"))
			expect(t, a, false, "<#"+chMG+">", "<#"+chAdm+">", "<#"+chOpt+">")
			if strings.Contains(a.text(), "<#"+chMC+">") {
				t.Errorf("/subscriptions lists the unsubscribed channel: %s", a)
			}
		})
	}
}

// guildsFor gives each transport its own pair of guilds.
func guildsFor(tr transport) (a, b string) {
	if tr == viaHTTP {
		return "201000000000000002", "202000000000000002"
	}
	return "201000000000000001", "202000000000000001"
}

// TestCommandsGuildIsolation: what guild A's admins subscribe and add is
// invisible to guild B's commands, and B's rule changes do not change what
// A receives.
func TestCommandsGuildIsolation(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, nil)
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			gA, gB := guildsFor(tr)
			chA, chB := channelFor(tr, 11), channelFor(tr, 12)
			rule := "zebra-watch-" + string(tr)

			expect(t, e.run(t, tr, command(gA, chA, chanAdmin, "subscribe")), false, "Subscribed <#"+chA+">")
			expect(t, e.run(t, tr, command(gB, chB, administrator, "subscribe")), false, "Subscribed <#"+chB+">")
			a := e.run(t, tr, command(gA, chA, guildAdmin, "rules", subOption("add", strOption("name", rule), strOption("keywords", `zebras?\b`))))
			expect(t, a, false, "Added rule `"+rule+"`")

			zebra := plainItem("Zebras cross the Mara river in record numbers " + string(tr))
			dip := dipItem("fisheries " + string(tr))
			addRSS(e.fs, zebra, dip)
			zm := waitPosted(t, e.fd, chA, zebra)
			waitPosted(t, e.fd, chA, dip)
			waitPosted(t, e.fd, chB, dip)
			waitPolls(t, e.addr, 2)
			if n := countPosted(e.fd, chB, zebra); n != 0 {
				t.Fatalf("guild A's rule posted to guild B's channel %d times", n)
			}
			zebraID, zebraRule := alertID(t, zm)
			if zebraRule != rule {
				t.Errorf("zebra alert footer names rule %q, want %q", zebraRule, rule)
			}

			// Guild B sees none of guild A's subscriptions, rules or alerts.
			a = e.run(t, tr, command(gB, chB, plainMember, "subscriptions"))
			expect(t, a, false, "<#"+chB+">")
			if strings.Contains(a.text(), chA) {
				t.Errorf("B's /subscriptions shows A's channel: %s", a)
			}
			a = e.run(t, tr, command(gB, chB, plainMember, "rules", subOption("list")))
			expect(t, a, false, "intel-heads", "diplomatic-heads")
			if strings.Contains(a.text(), "zebra") {
				t.Errorf("B's /rules list shows A's rule: %s", a)
			}
			a = e.run(t, tr, command(gA, chA, plainMember, "rules", subOption("list")))
			expect(t, a, false, rule)
			a = e.run(t, tr, command(gB, chB, plainMember, "latest", intOption("count", 10)))
			expect(t, a, false, dip.Title)
			if strings.Contains(a.text(), "Zebras") {
				t.Errorf("B's /latest shows A's alert: %s", a)
			}
			a = e.run(t, tr, command(gB, chB, plainMember, "search", strOption("query", "zebras")))
			expect(t, a, false, "No alerts in this server match")
			a = e.run(t, tr, command(gA, chA, plainMember, "search", strOption("query", "zebras")))
			expect(t, a, false, zebra.Title, zebra.Link)
			a = e.run(t, tr, command(gB, chB, plainMember, "explain", strOption("alert", zebraID)))
			refused(t, a, "This server has no alert "+zebraID)
			a = e.run(t, tr, command(gB, chB, plainMember, "rules", subOption("test", strOption("text", zebra.Title))))
			expect(t, a, true, "None of this server's rules fires")

			// B's admins cannot reach A's rule or subscription.
			a = e.run(t, tr, command(gB, chB, administrator, "rules", subOption("remove", strOption("name", rule))))
			refused(t, a, "no rule named", "Nothing was changed")
			a = e.run(t, tr, command(gB, chB, administrator, "unsubscribe", channelOption("channel", chA)))
			refused(t, a, "no subscription of <#"+chA+">")
			if !hasSub(e.subscriptions(t, gA), chA, "") {
				t.Fatal("guild B's /unsubscribe removed guild A's subscription")
			}
			ov, err := e.store(t).GuildOverrides(context.Background(), gA)
			if err != nil || !slices.ContainsFunc(ov, func(o model.Override) bool { return o.Name == rule && o.Rule != nil }) {
				t.Fatalf("guild A's overrides after B's /rules remove: %+v, %v", ov, err)
			}

			// B removes a default rule for itself: A still gets its alerts.
			a = e.run(t, tr, command(gB, chB, guildAdmin, "rules", subOption("remove", strOption("name", "diplomatic-heads"))))
			expect(t, a, false, "Removed rule `diplomatic-heads`")
			dip2 := dipItem("whaling " + string(tr))
			addRSS(e.fs, dip2)
			waitPosted(t, e.fd, chA, dip2)
			waitPolls(t, e.addr, 2)
			if n := countPosted(e.fd, chB, dip2); n != 0 {
				t.Errorf("guild B removed diplomatic-heads but was posted %q %d times", dip2.Title, n)
			}
			a = e.run(t, tr, command(gA, chA, plainMember, "rules", subOption("list")))
			expect(t, a, false, "diplomatic-heads")
		})
	}
}

// TestCommandsRulesAddTestShow: /rules add refuses invalid and over-long
// patterns with the reason and saves nothing; a valid rule added by a
// Manage Guild member applies from the next poll, without a restart, to a
// channel subscribed to that rule alone; /rules test explains a match.
func TestCommandsRulesAddTestShow(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, nil)
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			g, _ := guildsFor(tr)
			ch := channelFor(tr, 21)
			name := "walrus-" + string(tr)
			add := func(m who, opts ...*opt) answer {
				t.Helper()
				return e.run(t, tr, command(g, ch, m, "rules", subOption("add", opts...)))
			}
			overrides := func() []model.Override {
				t.Helper()
				ov, err := e.store(t).GuildOverrides(context.Background(), g)
				if err != nil {
					t.Fatal(err)
				}
				return ov
			}

			// Refused: who may not, and what may not be saved.
			refused(t, add(plainMember, strOption("name", name), strOption("keywords", "walrus")), "Manage Server", "Nothing was changed")
			refused(t, add(chanAdmin, strOption("name", name), strOption("keywords", "walrus")), "Manage Server", "Nothing was changed")
			refused(t, add(guildAdmin, strOption("name", name), strOption("keywords", "walrus, (sea cow")),
				"keyword pattern 2", "not valid RE2", "missing closing )", "Nothing was changed")
			refused(t, add(guildAdmin, strOption("name", name), strOption("keywords", "walrus"), strOption("exclude", "[z-a]")),
				"exclude pattern 1", "not valid RE2", "Nothing was changed")
			refused(t, add(guildAdmin, strOption("name", name), strOption("keywords", strings.Repeat("w", 5000))),
				"keywords", "5000 characters", "Nothing was changed")
			refused(t, add(guildAdmin, strOption("name", name), strOption("keywords", "walrus"), strOption("exclude", strings.Repeat("x", 5000))),
				"exclude", "5000 characters", "Nothing was changed")
			refused(t, add(guildAdmin, strOption("name", name), strOption("keywords", strings.Repeat("w", 1500))),
				"too long: 1500 characters", "at most 1000", "Nothing was changed")
			refused(t, add(guildAdmin, strOption("name", name), strOption("keywords", "walrus"), strOption("actors", "no-such-actor")),
				"no-such-actor", "Nothing was changed")
			refused(t, add(guildAdmin, strOption("name", "intel-heads"), strOption("keywords", "walrus")), "already has a rule")
			if ov := overrides(); len(ov) != 0 {
				t.Fatalf("refused /rules add stored overrides: %+v", ov)
			}
			a := e.run(t, tr, command(g, ch, plainMember, "rules", subOption("list")))
			if strings.Contains(a.text(), name) {
				t.Fatalf("refused rule listed: %s", a)
			}
			// Subscribing to a rule the guild does not have is refused.
			refused(t, e.run(t, tr, command(g, ch, chanAdmin, "subscribe", strOption("rule", name))), "no rule named")

			// A valid rule by a Manage Guild member.
			a = add(guildAdmin, strOption("name", name), strOption("keywords", `walrus(es)?, sea cows?`), strOption("exclude", "cartoon"),
				strOption("description", "Walrus sightings"))
			expect(t, a, false, "Added rule `"+name+"`", "2 keyword patterns, 1 exclusions")
			if ov := overrides(); !slices.ContainsFunc(ov, func(o model.Override) bool {
				return o.Name == name && o.Rule != nil && slices.Equal(o.Rule.Keywords, []string{`walrus(es)?`, "sea cows?"})
			}) {
				t.Fatalf("overrides after /rules add: %+v", ov)
			}
			refused(t, add(guildAdmin, strOption("name", name), strOption("keywords", "walrus")), "already has a rule")
			expect(t, e.run(t, tr, command(g, ch, plainMember, "rules", subOption("list"))), false, name, "Walrus sightings", "this server's")
			expect(t, e.run(t, tr, command(g, ch, plainMember, "rules", subOption("show", strOption("name", name)))), false,
				"Rule "+name, "walrus(es)?", "cartoon")

			// It applies from the next poll: an item only it matches is
			// posted to the channel subscribed to it alone, and items of
			// other rules, or excluded ones, are not.
			expect(t, e.run(t, tr, command(g, ch, chanAdmin, "subscribe", strOption("rule", name))), false,
				"Subscribed <#"+ch+">", "rule `"+name+"`")
			walrus := plainItem("Walrus colony returns to a Svalbard beach " + string(tr))
			cartoon := plainItem("Walrus cartoon premieres on television " + string(tr))
			dip := dipItem("herring quotas " + string(tr))
			addRSS(e.fs, walrus, cartoon, dip)
			m := waitPosted(t, e.fd, ch, walrus)
			if _, r := alertID(t, m); r != name {
				t.Errorf("footer rule %q, want %q", r, name)
			}
			waitPolls(t, e.addr, 4)
			if n := countPosted(e.fd, ch, dip); n != 0 {
				t.Errorf("another rule's alert posted to the %s-only channel", name)
			}
			if n := countPosted(e.fd, ch, cartoon); n != 0 {
				t.Errorf("excluded item posted")
			}
			if n := countPosted(e.fd, ch, walrus); n != 1 {
				t.Errorf("walrus item posted %d times", n)
			}

			// /rules test explains, privately.
			a = e.run(t, tr, command(g, ch, plainMember, "rules", subOption("test", strOption("text", "Two walruses seen near Tromsø"))))
			expect(t, a, true, "1 rule(s) fire: "+name, "Keywords", "walrus")
			a = e.run(t, tr, command(g, ch, plainMember, "rules", subOption("test", strOption("text", "Lavrov and Rubio hold phone call on Gaza"))))
			expect(t, a, true, "diplomatic-heads", "Actors", "Contact", "Evidence", "phone")
			a = e.run(t, tr, command(g, ch, plainMember, "rules", subOption("test", strOption("text", "Walrus cartoon wins an award"))))
			expect(t, a, true, "None of this server's rules fires")
		})
	}
}

func feedByURL(t *testing.T, e *cmdEnv, url string) (model.Feed, bool) {
	t.Helper()
	fs, err := e.store(t).Feeds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.URL == url {
			return f, true
		}
	}
	return model.Feed{}, false
}

// TestCommandsFeedsOwnerOnly: /feeds add and /feeds remove are for owners;
// a refused add fetches nothing; with poll.allow_private_networks off a
// loopback URL is refused and nothing is saved.
func TestCommandsFeedsOwnerOnly(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, func(c *config.Config) { c.Poll.AllowPrivateNetworks = false })
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			cf := newCountingFeed(t, "Extra "+string(tr))
			ch := channelFor(tr, 31)
			addCmd := func(m who) *discordgo.Interaction {
				return command(guildA, ch, m, "feeds", subOption("add", strOption("url", cf.URL+"/feed"), strOption("name", "Extra")))
			}
			for _, m := range []who{plainMember, guildAdmin, administrator} {
				refused(t, e.run(t, tr, addCmd(m)), "Only the bot's owners", "Nothing was changed")
			}
			if n := cf.hits.Load(); n != 0 {
				t.Fatalf("refused /feeds add fetched the URL %d times", n)
			}
			// The owner, but the URL is on loopback.
			a := e.run(t, tr, addCmd(owner))
			refused(t, a, "Could not add", "not allowed", "Nothing was saved")
			if n := cf.hits.Load(); n != 0 {
				t.Errorf("loopback URL fetched %d times with allow_private_networks off", n)
			}
			if f, ok := feedByURL(t, e, cf.URL+"/feed"); ok {
				t.Errorf("refused feed saved: %+v", f)
			}
			refused(t, e.run(t, tr, command(guildA, ch, administrator, "feeds", subOption("remove", strOption("name", "Wire")))),
				"Only the bot's owners", "Nothing was changed")
			if _, ok := feedByURL(t, e, e.fs.URL+"/rss"); !ok {
				t.Fatal("a refused /feeds remove removed the feed")
			}
			a = e.run(t, tr, command(guildA, ch, plainMember, "feeds", subOption("list")))
			expect(t, a, false, "Wire — <"+e.fs.URL+"/rss>", "Desk — <"+e.fs.URL+"/atom>")
			if strings.Contains(a.text(), "Extra") {
				t.Errorf("/feeds list shows the refused feed: %s", a)
			}
		})
	}
}

// TestCommandsFeedsAddRemove: an owner's /feeds add fetches the URL once,
// saves the feed and schedules it (its items get polled and posted);
// /feeds list shows it; /feeds remove stops its polls.
func TestCommandsFeedsAddRemove(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, func(c *config.Config) { c.Poll.AllowPrivateNetworks = true })
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			cf := newCountingFeed(t, "Extra desk "+string(tr))
			url := cf.URL + "/feed.xml"
			name := "Extra " + string(tr)
			ch := channelFor(tr, 32)

			refused(t, e.run(t, tr, command(guildA, ch, guildAdmin, "feeds", subOption("add", strOption("url", url)))), "Only the bot's owners")
			if n := cf.hits.Load(); n != 0 {
				t.Fatalf("refused /feeds add fetched %d times", n)
			}
			a := e.run(t, tr, command(guildA, ch, owner, "feeds", subOption("add", strOption("url", url), strOption("name", name))))
			expect(t, a, true, "Added feed `"+name+"`", "0 items found") // ephemeral, about the asker
			if a.typ != discordgo.InteractionResponseDeferredChannelMessageWithSource {
				t.Errorf("/feeds add answered with type %d, want a deferral (5) before fetching", a.typ)
			}
			if n := cf.hits.Load(); n < 1 {
				t.Fatalf("/feeds add did not fetch the URL")
			}
			f, ok := feedByURL(t, e, url)
			if !ok || f.Name != name || f.Source != model.SourceAdmin {
				t.Fatalf("stored feed %+v (found %v)", f, ok)
			}
			expect(t, e.run(t, tr, command(guildA, ch, plainMember, "feeds", subOption("list"))), false,
				name+" — <"+url+">", "added from Discord", "Wire")
			// A second add of the same URL is refused before any fetch.
			before := cf.hits.Load()
			refused(t, e.run(t, tr, command(guildA, ch, owner, "feeds", subOption("add", strOption("url", url)))), "already exists")
			if after := cf.hits.Load(); after > before+1 { // at most one scheduled poll in between
				t.Errorf("duplicate /feeds add fetched: %d -> %d", before, after)
			}

			// Scheduled: a new item of the added feed is posted.
			expect(t, e.run(t, tr, command(guildA, ch, chanAdmin, "subscribe")), false, "Subscribed")
			it := intelItem("a prisoner exchange via " + string(tr))
			cf.add(it)
			m := waitPosted(t, e.fd, ch, it)
			if !strings.Contains(string(m.Raw), name) {
				t.Errorf("alert does not name its feed %q: %s", name, m.Raw)
			}

			// /feeds remove: gone from the store and from the schedule.
			a = e.run(t, tr, command(guildA, ch, owner, "feeds", subOption("remove", strOption("name", name))))
			expect(t, a, true, "Removed feed `"+name+"`")
			if _, ok := feedByURL(t, e, url); ok {
				t.Fatal("feed still stored after /feeds remove")
			}
			waitPolls(t, e.addr, 2) // a poll in flight at removal may still land
			before = cf.hits.Load()
			waitPolls(t, e.addr, 4)
			if after := cf.hits.Load(); after != before {
				t.Errorf("removed feed still polled: %d -> %d requests", before, after)
			}
			refused(t, e.run(t, tr, command(guildA, ch, owner, "feeds", subOption("remove", strOption("name", name)))), "no feed named")
		})
	}
}

// embedLines returns the description lines of every embed of a.
func embedLines(a answer) []string {
	var out []string
	for _, e := range a.embeds {
		for _, l := range strings.Split(e.Description, "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
		for _, f := range e.Fields {
			out = append(out, f.Name+" "+f.Value)
		}
	}
	return out
}

// TestCommandsSearchExplainLatestStatus: /search finds a posted alert by a
// word of its title, /explain by the id in its footer (and not from another
// guild), /latest honours count and actor, /status has one line per feed
// with ok or error: <reason>.
func TestCommandsSearchExplainLatestStatus(t *testing.T) {
	t.Parallel()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "feed generator crashed", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	e := startCmdApp(t, func(c *config.Config) {
		c.Feeds = append(c.Feeds, config.Feed{Name: "Broken", URL: broken.URL + "/rss"})
	})
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			g, other := guildsFor(tr)
			ch := channelFor(tr, 41)
			expect(t, e.run(t, tr, command(g, ch, chanAdmin, "subscribe")), false, "Subscribed")
			intel := intelItem("the kestrel accord " + string(tr))
			dip := dipItem("osprey fisheries " + string(tr))
			addRSS(e.fs, intel, dip)
			intelID, intelRule := alertID(t, waitPosted(t, e.fd, ch, intel))
			dipID, _ := alertID(t, waitPosted(t, e.fd, ch, dip))
			if intelRule != "intel-heads" {
				t.Errorf("footer rule %q", intelRule)
			}

			// /search by a word of the title.
			a := e.run(t, tr, command(g, ch, plainMember, "search", strOption("query", "kestrel")))
			expect(t, a, false, intel.Title, intel.Link, "alert "+intelID+" · rule intel-heads")
			if strings.Contains(a.text(), dip.Title) {
				t.Errorf("/search kestrel also found %q: %s", dip.Title, a)
			}
			expect(t, e.run(t, tr, command(g, ch, plainMember, "search", strOption("query", "albatross"))), false, "No alerts in this server match")
			refused(t, e.run(t, tr, command(g, ch, plainMember, "search", strOption("query", "kestrel"), intOption("count", 11))), "between 1 and 10")
			a = e.run(t, tr, command(other, ch, plainMember, "search", strOption("query", "kestrel")))
			expect(t, a, false, "No alerts in this server match")
			// Words with FTS5 syntax in them are words, not query errors.
			for _, q := range []string{`kestrel"`, `"kestrel`, `kestrel*`, `^kestrel`, `-kestrel`, `kestrel AND`, `KESTREL:`, `(`, `*`, `NEAR(kestrel`} {
				a = e.run(t, tr, command(g, ch, plainMember, "search", strOption("query", q)))
				if a.ephemeral() || strings.Contains(a.text(), "failed") {
					t.Errorf("/search %s: %s", q, a)
				}
			}

			// /explain by the footer id: rule, actors, contact, evidence.
			for _, id := range []string{intelID, "alert " + intelID} {
				a = e.run(t, tr, command(g, ch, plainMember, "explain", strOption("alert", id)))
				expect(t, a, false, "Alert "+intelID+": "+intel.Title, "Rule", "intel-heads", "Actors", "Contact", "phone", "Evidence", "Naryshkin",
					"alert "+intelID+" · rule intel-heads")
			}
			a = e.run(t, tr, command(g, ch, plainMember, "explain", strOption("alert", dipID)))
			expect(t, a, false, "diplomatic-heads", "Actors", "Contact", "Evidence", "Lavrov")
			refused(t, e.run(t, tr, command(other, ch, plainMember, "explain", strOption("alert", intelID))), "This server has no alert "+intelID)
			refused(t, e.run(t, tr, command(g, ch, plainMember, "explain", strOption("alert", "kestrel"))), "not an alert id")

			// /latest: count and actor.
			a = e.run(t, tr, command(g, ch, plainMember, "latest"))
			expect(t, a, false, intel.Title, dip.Title, intel.Link, dip.Link)
			a = e.run(t, tr, command(g, ch, plainMember, "latest", intOption("count", 1)))
			if len(a.embeds) != 1 || len(a.embeds[0].Fields) != 1 {
				t.Errorf("/latest count:1 gave %s", a)
			}
			a = e.run(t, tr, command(g, ch, plainMember, "latest", strOption("actor", "ru-svr"), intOption("count", 10)))
			expect(t, a, false, intel.Title, intel.Link)
			if strings.Contains(a.text(), dip.Title) {
				t.Errorf("/latest actor:ru-svr lists an alert without ru-svr: %s", a)
			}
			// Lavrov is the one party every dipItem has (its counterpart varies).
			a = e.run(t, tr, command(g, ch, plainMember, "latest", strOption("actor", "ru-fm")))
			expect(t, a, false, dip.Title)
			if strings.Contains(a.text(), intel.Title) {
				t.Errorf("/latest actor:ru-fm lists an alert without ru-fm: %s", a)
			}
			expect(t, e.run(t, tr, command(g, ch, plainMember, "latest", strOption("actor", "fr-dgse"))), false, "No alerts naming")
			refused(t, e.run(t, tr, command(g, ch, plainMember, "latest", intOption("count", 0))), "between 1 and 10")
			a = e.run(t, tr, command(other, ch, plainMember, "latest"))
			if strings.Contains(a.text(), intel.Title) || strings.Contains(a.text(), dip.Title) {
				t.Errorf("another guild's /latest shows this guild's alerts: %s", a)
			}

			// /status: one line per feed, starting with its name.
			a = e.run(t, tr, command(g, ch, plainMember, "status"))
			lines := embedLines(a)
			for name, want := range map[string]string{"Wire": " — ok", "Desk": " — ok", "Broken": " — error: "} {
				n := 0
				for _, l := range lines {
					if strings.HasPrefix(l, name+" ") {
						n++
						if !strings.HasPrefix(l, name+want) {
							t.Errorf("/status line %q; want it to start %q", l, name+want)
						}
						if name == "Broken" && !strings.Contains(l, "500") {
							t.Errorf("/status does not say why Broken failed: %q", l)
						}
					}
				}
				if n != 1 {
					t.Errorf("/status has %d lines for %s: %s", n, name, a)
				}
			}
		})
	}
}

// TestCommandsDisabledSubscription: a channel Discord refuses with Missing
// Access is disabled instead of retried forever, which /status and
// /subscriptions say; /subscribe again re-enables it.
func TestCommandsDisabledSubscription(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, nil)
	ch, ok := channelFor(viaGateway, 71), channelFor(viaGateway, 72)
	for _, c := range []string{ch, ok} {
		expect(t, e.run(t, viaGateway, command(guildA, c, chanAdmin, "subscribe")), false, "Subscribed <#"+c+">")
	}
	e.fd.Fail(fakediscord.CreateMessage(ch), fakediscord.Always, fakediscord.MissingAccess)
	it := dipItem("locked channel")
	addRSS(e.fs, it)
	waitPosted(t, e.fd, ok, it)
	deadline := time.Now().Add(cmdWait)
	for !slices.ContainsFunc(e.subscriptions(t, guildA), func(s model.Subscription) bool { return s.ChannelID == ch && s.Disabled != "" }) {
		if time.Now().After(deadline) {
			t.Fatalf("subscription of %s not disabled after Missing Access: %+v", ch, e.subscriptions(t, guildA))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, tr := range transports {
		expect(t, e.run(t, tr, command(guildA, ok, plainMember, "status")), false, "Disabled subscriptions", "<#"+ch+">")
		expect(t, e.run(t, tr, command(guildA, ok, plainMember, "subscriptions")), false, "<#"+ch+">", "disabled")
		a := e.run(t, tr, command(guildB, ok, plainMember, "status"))
		if strings.Contains(a.text(), ch) {
			t.Errorf("another guild's /status shows this guild's disabled channel: %s", a)
		}
	}
	attempts := e.fd.CountRequests(fakediscord.CreateMessage(ch))
	waitPolls(t, e.addr, 4)
	if n := e.fd.CountRequests(fakediscord.CreateMessage(ch)); n != attempts {
		t.Errorf("disabled channel still tried: %d -> %d posts", attempts, n)
	}

	e.fd.ClearFaults()
	expect(t, e.run(t, viaHTTP, command(guildA, ch, chanAdmin, "subscribe")), false, "already subscribed", "re-enabled")
	next := dipItem("unlocked channel")
	addRSS(e.fs, next)
	waitPosted(t, e.fd, ch, next)
}

// addAtom appends items to the Atom feed of fs.
func addAtom(fs *feedServer, items ...feedItem) {
	fs.mu.Lock()
	fs.atom = append(append([]feedItem(nil), fs.atom...), items...)
	fs.mu.Unlock()
}

// TestCommandsStories: with the real store and grouper, two outlets'
// reports of one call are one message, edited to list both; /latest lists
// the story once with its source count, and /explain, by the footer's id
// or by the later report's, lists every report of the story.
func TestCommandsStories(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, nil)
	for i, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			g, other := guildsFor(tr)
			ch := channelFor(tr, 51)
			expect(t, e.run(t, tr, command(g, ch, chanAdmin, "subscribe")), false, "Subscribed")
			// One call (on another weekday for each transport, so each
			// is a story of its own), reported by both feeds.
			day := time.Weekday(i + 1).String()
			n := itemSeq.Add(1)
			first := feedItem{GUID: fmt.Sprintf("story-%d-a", n), Title: "Lavrov and Rubio hold phone call on the Arctic council " + string(tr),
				Link: fmt.Sprintf("https://wire.example/story/%d", n), Summary: "The foreign ministers spoke by phone on " + day + ".",
				Published: time.Now().UTC().Add(-10 * time.Minute)}
			later := feedItem{GUID: fmt.Sprintf("urn:desk:story-%d", n), Title: "Rubio spoke with Russian counterpart Lavrov, State Department says " + string(tr),
				Link: fmt.Sprintf("https://desk.example/story/%d", n), Summary: "The secretary raised the Arctic council in " + day + "'s call.",
				Published: time.Now().UTC().Add(-7 * time.Minute)}
			addRSS(e.fs, first)
			posted := waitPosted(t, e.fd, ch, first)
			footerID, _ := alertID(t, posted)
			addAtom(e.fs, later)
			m := e.fd.WaitMessageEdits(t, ch, posted.ID, 1, cmdWait)
			if got := sourcesField(m); !strings.HasPrefix(got, "2 sources\n[Wire]("+first.Link+")\n[Desk]("+later.Link+")") {
				t.Errorf("the edited message's Sources: %q", got)
			}
			if n := len(e.fd.Messages(ch)); n != 1 {
				t.Errorf("%d messages for one story, want 1", n)
			}

			// /latest: the story once, with its first report and count.
			a := e.run(t, tr, command(g, ch, plainMember, "latest"))
			expect(t, a, false, first.Title, first.Link, "2 sources", "alert "+footerID)
			if strings.Contains(a.text(), later.Title) {
				t.Errorf("/latest lists the later report as a story of its own: %s", a)
			}

			// /explain by the footer's id: every report of the story.
			a = e.run(t, tr, command(g, ch, plainMember, "explain", strOption("alert", footerID)))
			expect(t, a, false, "Alert "+footerID+": "+first.Title, "Story: 2 reports", "Wire", first.Title, "Desk", later.Title)
			laterID := ""
			for _, l := range embedLines(a) {
				if strings.Contains(l, later.Title) {
					if sm := regexp.MustCompile(`· alert (\d+)`).FindStringSubmatch(l); sm != nil {
						laterID = sm[1]
					}
				}
			}
			if laterID == "" || laterID == footerID {
				t.Fatalf("/explain names no alert for the later report: %s", a)
			}
			// … and by the later report's id: that alert, in the same story.
			a = e.run(t, tr, command(g, ch, plainMember, "explain", strOption("alert", laterID)))
			expect(t, a, false, "Alert "+laterID+": "+later.Title, "Story: 2 reports", first.Title, "joins alert "+footerID)
			refused(t, e.run(t, tr, command(other, ch, plainMember, "explain", strOption("alert", laterID))), "This server has no alert "+laterID)
		})
	}
}
