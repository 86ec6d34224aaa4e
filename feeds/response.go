package feeds

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// Request is one conditional GET of a feed.
type Request struct {
	URL          string
	ETag         string // sent as If-None-Match
	LastModified string // sent as If-Modified-Since
	// Trusted feeds (written in the configuration file) skip the
	// private-network guard; admin-added feeds must not set it.
	Trusted bool
}

// Response is the outcome of a successful fetch. When NotModified is true
// the server answered 304 and Body is nil: there is nothing to parse.
type Response struct {
	NotModified  bool
	Body         []byte // UTF-8 unless the document declares its own encoding
	ETag         string
	LastModified string
	Status       int
}

// ErrTooLarge is returned (wrapped) when a body is longer than Config.MaxBytes.
// The body is not read past the limit.
var ErrTooLarge = errors.New("response body too large")

// HTTPError is a non-2xx, non-304 answer.
type HTTPError struct {
	Code   int
	Status string // as sent, e.g. "503 Service Unavailable"
}

func (e *HTTPError) Error() string {
	if e.Status != "" {
		return "HTTP " + e.Status
	}
	return fmt.Sprintf("HTTP %d", e.Code)
}

// drainLimit is how much of an error body is read so the connection can go
// back to the keep-alive pool; beyond it, closing is cheaper than reading.
const drainLimit = 4 << 10

// handleResponse turns an HTTP response into a Response or an error. It is
// separate from the transport so conditional GET, status handling, the size
// cap and charsets can be tested with hand-built responses. It always closes
// the body.
func handleResponse(resp *http.Response, req Request, maxBytes int64) (Response, error) {
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode, ETag: req.ETag, LastModified: req.LastModified}
	// A new validator replaces the one we sent; a 304 without one keeps ours.
	if v := resp.Header.Get("ETag"); v != "" {
		out.ETag = v
	}
	if v := resp.Header.Get("Last-Modified"); v != "" {
		out.LastModified = v
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		// Not read, not parsed: the whole point of a conditional GET.
		out.NotModified = true
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		return out, &HTTPError{Code: resp.StatusCode, Status: resp.Status}
	}
	body, err := readLimited(resp.Body, resp.ContentLength, maxBytes)
	if err != nil {
		return out, err
	}
	out.Body = toUTF8(body, resp.Header.Get("Content-Type"))
	return out, nil
}

// readLimited reads at most maxBytes+1 bytes: one byte more than allowed is
// enough to know the body is too large, so a 50 MB page or a gzip bomb (the
// transport decompresses, so this counts decompressed bytes) costs at most
// maxBytes of memory.
func readLimited(r io.Reader, contentLength, maxBytes int64) ([]byte, error) {
	if contentLength > maxBytes {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds the %d-byte limit", ErrTooLarge, contentLength, maxBytes)
	}
	limited := io.LimitReader(r, maxBytes+1)
	var body []byte
	if contentLength >= 0 {
		// Known length: one exact allocation, read straight into it (one
		// spare byte so a body longer than announced is still noticed).
		buf := make([]byte, contentLength+1)
		n, err := io.ReadFull(limited, buf)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			body = buf[:n]
		case err != nil:
			return nil, fmt.Errorf("reading body: %w", err)
		default: // longer than announced: keep reading, within the cap
			rest, err := io.ReadAll(limited)
			if err != nil {
				return nil, fmt.Errorf("reading body: %w", err)
			}
			body = append(buf, rest...)
		}
	} else {
		var err error
		if body, err = io.ReadAll(limited); err != nil {
			return nil, fmt.Errorf("reading body: %w", err)
		}
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
	}
	return body, nil
}

// toUTF8 applies the Content-Type charset when the document does not declare
// its own. An XML declaration's encoding wins over the header because gofeed
// decodes according to the declaration (converting here too would decode
// twice), and because servers commonly add a default "charset=utf-8" to
// documents that are not. Bodies that are still not valid UTF-8 are handled
// by Parse.
func toUTF8(body []byte, contentType string) []byte {
	if contentType == "" || declaredEncoding(body) != "" {
		return body
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return body
	}
	label := strings.ToLower(strings.TrimSpace(params["charset"]))
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return body
	}
	if isASCII(body) { // nothing a single-byte charset would change
		return body
	}
	r, err := charset.NewReaderLabel(label, bytes.NewReader(body))
	if err != nil {
		return body // unknown label: let the UTF-8 check in Parse decide
	}
	converted, err := io.ReadAll(r)
	if err != nil {
		return body
	}
	return converted
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// declaredEncoding returns the encoding named in a leading XML declaration
// (<?xml version="1.0" encoding="ISO-8859-1"?>), lower-cased, or "".
func declaredEncoding(body []byte) string {
	b := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 || end > 512 {
		return ""
	}
	decl := b[:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	j := bytes.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return strings.ToLower(string(rest[1 : 1+j]))
}
