package fakediscord

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes used by the fake.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opResume         = 6
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
)

// heartbeatIntervalMS is what HELLO announces. discordgo heartbeats at
// once and then at this interval; a long one keeps tests quiet.
const heartbeatIntervalMS = 41250

// ErrGatewayNotConnected is returned by Dispatch when no gateway session is
// ready.
var ErrGatewayNotConnected = errors.New("fakediscord: no gateway session is connected")

// Identify is what the client sent in its last IDENTIFY.
type Identify struct {
	Token   string `json:"token"`
	Intents int    `json:"intents"`
}

type gatewayState struct {
	conns      []*gwConn
	sessions   map[string]bool // session ids handed out in READY
	identifies []Identify
	resumes    int
	seq        int64
}

func (g *gatewayState) all() []*gwConn { return append([]*gwConn(nil), g.conns...) }

// ready returns the newest connection that completed IDENTIFY or RESUME.
func (g *gatewayState) ready() *gwConn {
	for i := len(g.conns) - 1; i >= 0; i-- {
		if g.conns[i].ready {
			return g.conns[i]
		}
	}
	return nil
}

type gwConn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex // gorilla allows one concurrent writer
	ready   bool       // guarded by Server.mu
	once    sync.Once
}

func (c *gwConn) write(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

func (c *gwConn) close() { c.once.Do(func() { _ = c.ws.NetConn().Close() }) }

type gwPayload struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d"`
	Seq  *int64          `json:"s,omitempty"`
	Type string          `json:"t,omitempty"`
}

func (s *Server) handleGatewayWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{
		// Loopback test clients only; the origin is irrelevant.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered with an error.
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	s.gateway.conns = append(s.gateway.conns, c)
	s.gwWG.Add(1)
	s.notifyLocked()
	s.mu.Unlock()
	defer s.gwWG.Done()
	defer s.removeConn(c)
	defer c.close()

	hello, _ := json.Marshal(map[string]int{"heartbeat_interval": heartbeatIntervalMS})
	if err := c.write(gwPayload{Op: opHello, Data: hello}); err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	for {
		var p gwPayload
		if err := ws.ReadJSON(&p); err != nil {
			return
		}
		switch p.Op {
		case opHeartbeat:
			if c.write(gwPayload{Op: opHeartbeatAck}) != nil {
				return
			}
		case opIdentify:
			if !s.identify(c, p.Data) {
				return
			}
		case opResume:
			if !s.resume(c, p.Data) {
				return
			}
		}
	}
}

func (s *Server) removeConn(c *gwConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.gateway.conns {
		if x == c {
			s.gateway.conns = append(s.gateway.conns[:i:i], s.gateway.conns[i+1:]...)
			break
		}
	}
	s.notifyLocked()
}

// nextSeqLocked numbers dispatches across connections, as a resumed
// session continues its sequence.
func (s *Server) nextSeqLocked() *int64 {
	s.gateway.seq++
	n := s.gateway.seq
	return &n
}

func (s *Server) identify(c *gwConn, data json.RawMessage) bool {
	var id Identify
	if err := json.Unmarshal(data, &id); err != nil {
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "Error while decoding payload."), time.Now().Add(time.Second))
		return false
	}
	s.mu.Lock()
	if id.Token != "Bot "+s.token {
		s.mu.Unlock()
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
		return false
	}
	// Record without the token: tests may print identifies.
	s.gateway.identifies = append(s.gateway.identifies, Identify{Intents: id.Intents})
	sessionID := "session-" + s.newIDLocked()
	s.gateway.sessions[sessionID] = true
	seq := s.nextSeqLocked()
	s.mu.Unlock()

	ready, _ := json.Marshal(map[string]any{
		"v":                  10,
		"user":               botUser(),
		"session_id":         sessionID,
		"resume_gateway_url": s.GatewayURL(),
		"guilds":             []any{},
		"application":        map[string]any{"id": ApplicationID, "flags": 0},
	})
	if err := c.write(gwPayload{Op: opDispatch, Type: "READY", Seq: seq, Data: ready}); err != nil {
		return false
	}
	s.markReady(c)
	return true
}

func (s *Server) resume(c *gwConn, data json.RawMessage) bool {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return false
	}
	s.mu.Lock()
	known := s.gateway.sessions[r.SessionID] && r.Token == "Bot "+s.token
	if known {
		s.gateway.resumes++
	}
	seq := s.nextSeqLocked()
	s.mu.Unlock()
	if !known {
		// The client must identify again.
		return c.write(gwPayload{Op: opInvalidSession, Data: json.RawMessage("false")}) == nil
	}
	if err := c.write(gwPayload{Op: opDispatch, Type: "RESUMED", Seq: seq, Data: json.RawMessage("{}")}); err != nil {
		return false
	}
	s.markReady(c)
	return true
}

func (s *Server) markReady(c *gwConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.ready = true
	s.notifyLocked()
}

// Dispatch sends a gateway event (op 0) such as INTERACTION_CREATE with
// data as its payload to the connected session.
func (s *Server) Dispatch(eventName string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("fakediscord: encode %s: %w", eventName, err)
	}
	s.mu.Lock()
	c := s.gateway.ready()
	if c == nil {
		s.mu.Unlock()
		return ErrGatewayNotConnected
	}
	seq := s.nextSeqLocked()
	s.mu.Unlock()
	if err := c.write(gwPayload{Op: opDispatch, Type: eventName, Seq: seq, Data: raw}); err != nil {
		return fmt.Errorf("fakediscord: dispatch %s: %w", eventName, err)
	}
	return nil
}

// GatewayConnected reports whether a gateway session is connected and has
// completed IDENTIFY or RESUME.
func (s *Server) GatewayConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gateway.ready() != nil
}

// WaitGatewayConnected waits for a ready gateway session; it fails the test
// after timeout.
func (s *Server) WaitGatewayConnected(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	if !s.waitFor(timeout, func() bool { return s.gateway.ready() != nil }) {
		tb.Fatalf("fakediscord: no gateway session after %v", timeout)
	}
}

// DropGateway closes every gateway connection abruptly (no close frame), as
// a network failure would. discordgo then reconnects and resumes.
func (s *Server) DropGateway() {
	s.mu.Lock()
	conns := s.gateway.all()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// GatewayIdentifies returns the IDENTIFY payloads received (tokens removed).
func (s *Server) GatewayIdentifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.gateway.identifies...)
}

// GatewayIntents returns the intents of the last IDENTIFY, or -1 if none.
func (s *Server) GatewayIntents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.gateway.identifies) == 0 {
		return -1
	}
	return s.gateway.identifies[len(s.gateway.identifies)-1].Intents
}

// GatewayResumes counts successful RESUMEs.
func (s *Server) GatewayResumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gateway.resumes
}
