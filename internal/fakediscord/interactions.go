package fakediscord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// InteractionResponseTimeout is how long Discord waits for a bot's HTTP
// interactions endpoint to answer before the user sees "This interaction
// failed". PostInteraction gives up after it too.
const InteractionResponseTimeout = 3 * time.Second

// PublicKey is the hex Ed25519 public key the fake signs the interactions
// it posts with: configure the bot's interactions endpoint with it
// (discord.public_key).
func (s *Server) PublicKey() string {
	return hex.EncodeToString(s.signer.Public().(ed25519.PublicKey))
}

// PostInteraction delivers an interaction to a bot's HTTP interactions
// endpoint (a full URL, e.g. http://127.0.0.1:8080/interactions) the way
// Discord does: a POST signed with PublicKey's key, answered within
// InteractionResponseTimeout. The answer's body is recorded as the
// interaction's initial response, exactly as if it had come through the
// callback route: a message (4) or a deferral (5) becomes the original
// response, which the bot can then edit, delete or follow up through the
// webhook routes. Webhook requests for this interaction that reach the fake
// while the answer is still on its way wait for it, as on Discord, where
// the message exists once the answer is in.
//
// interaction is anything that marshals to an interaction object (a
// *discordgo.Interaction, a map); its "id" and "token" name the recorded
// response. An answer other than 200 with a JSON interaction response is
// an error and records nothing.
func (s *Server) PostInteraction(ctx context.Context, endpoint string, interaction any) (InteractionResponse, error) {
	body, err := json.Marshal(interaction)
	if err != nil {
		return InteractionResponse{}, fmt.Errorf("fakediscord: encode interaction: %w", err)
	}
	var ids struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &ids); err != nil || ids.Token == "" {
		return InteractionResponse{}, errors.New("fakediscord: the interaction has no token")
	}

	ctx, cancel := context.WithTimeout(ctx, InteractionResponseTimeout)
	defer cancel()
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	sig := ed25519.Sign(s.signer, append([]byte(stamp), body...))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return InteractionResponse{}, fmt.Errorf("fakediscord: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	req.Header.Set("X-Signature-Timestamp", stamp)

	s.mu.Lock()
	s.inflight[ids.Token] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, ids.Token)
		s.notifyLocked()
		s.mu.Unlock()
	}()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return InteractionResponse{}, fmt.Errorf("fakediscord: post interaction: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return InteractionResponse{}, fmt.Errorf("fakediscord: read the interaction's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return InteractionResponse{}, fmt.Errorf("fakediscord: interactions endpoint answered %d: %s", resp.StatusCode, bytes.TrimSpace(out))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.recordInitialResponseLocked(ids.ID, ids.Token, out, true); e != nil {
		return InteractionResponse{}, fmt.Errorf("fakediscord: interaction answer refused (code %d: %s): %s", e.Code, e.Message, out)
	}
	return s.interactionResponses[len(s.interactionResponses)-1], nil
}
