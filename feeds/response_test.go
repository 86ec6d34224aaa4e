package feeds

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func hand(status int, header http.Header, body io.ReadCloser) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: header, Body: body, ContentLength: -1}
}

func TestHandleResponseNotModifiedDoesNotReadBody(t *testing.T) {
	req := Request{URL: "http://x/feed", ETag: `"v1"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT"}
	resp, err := handleResponse(hand(304, nil, failReader{t}), req, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.NotModified || resp.Body != nil || resp.Status != 304 {
		t.Fatalf("got %+v", resp)
	}
	// A 304 without validators keeps the ones we sent.
	if resp.ETag != req.ETag || resp.LastModified != req.LastModified {
		t.Fatalf("validators lost: %+v", resp)
	}
}

func TestHandleResponseNewValidators(t *testing.T) {
	h := http.Header{"Etag": {`"v2"`}, "Last-Modified": {"Tue, 03 Jan 2006 15:04:05 GMT"}}
	resp, err := handleResponse(hand(200, h, io.NopCloser(strings.NewReader("<rss/>"))), Request{ETag: `"v1"`}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ETag != `"v2"` || resp.LastModified != "Tue, 03 Jan 2006 15:04:05 GMT" || string(resp.Body) != "<rss/>" {
		t.Fatalf("got %+v", resp)
	}
}

func TestHandleResponseStatus(t *testing.T) {
	for _, code := range []int{404, 410, 500, 503, 301} {
		_, err := handleResponse(hand(code, nil, io.NopCloser(strings.NewReader("oops"))), Request{}, 100)
		var he *HTTPError
		if !errors.As(err, &he) || he.Code != code {
			t.Errorf("%d: got %v", code, err)
		}
	}
}

func TestReadLimited(t *testing.T) {
	for _, tc := range []struct {
		name          string
		size, cl, max int64
		tooLarge      bool
	}{
		{"under", 99, -1, 100, false},
		{"exact", 100, -1, 100, false},
		{"one over", 101, -1, 100, true},
		{"content-length over", 10, 1000, 100, true}, // refused before reading
		{"exact with length", 100, 100, 100, false},
		{"shorter than announced", 40, 50, 100, false},
		{"longer than announced", 50, 10, 100, false},
		{"longer than announced, over", 150, 10, 100, true},
		{"empty", 0, 0, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := readLimited(strings.NewReader(strings.Repeat("x", int(tc.size))), tc.cl, tc.max)
			if tc.tooLarge {
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("want ErrTooLarge, got %v", err)
				}
				return
			}
			if err != nil || int64(len(b)) != tc.size {
				t.Fatalf("got %d bytes, %v", len(b), err)
			}
		})
	}
}

func TestDeclaredEncoding(t *testing.T) {
	for in, want := range map[string]string{
		`<?xml version="1.0" encoding="ISO-8859-1"?><rss/>`:      "iso-8859-1",
		"\xef\xbb\xbf <?xml version='1.0' encoding = 'utf-8' ?>": "utf-8",
		`<?xml version="1.0"?><rss/>`:                            "",
		`<rss encoding="x"/>`:                                    "",
		`{"version": "https://jsonfeed.org/version/1.1"}`:        "",
		`<?xml version="1.0" encoding="unterminated`:             "",
	} {
		if got := declaredEncoding([]byte(in)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestToUTF8(t *testing.T) {
	latin := "<rss><channel><title>Caf\xe9</title></channel></rss>"
	for _, tc := range []struct {
		name, body, ctype, want string
	}{
		{"header charset applied", latin, "text/xml; charset=ISO-8859-1", "<rss><channel><title>Café</title></channel></rss>"},
		{"declaration wins", `<?xml version="1.0" encoding="ISO-8859-1"?>` + latin, "text/xml; charset=utf-8", `<?xml version="1.0" encoding="ISO-8859-1"?>` + latin},
		{"utf-8 header untouched", "Café", "application/json; charset=UTF-8", "Café"},
		{"no header", latin, "", latin},
		{"unknown charset", latin, "text/xml; charset=x-klingon", latin},
		{"bad media type", latin, "text/xml; charset", latin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(toUTF8([]byte(tc.body), tc.ctype)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
