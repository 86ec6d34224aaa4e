package model

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted stands in for the value of a secret-looking query parameter.
const Redacted = "REDACTED"

// secretParams are query parameter names whose values are secrets, compared
// after lower-casing and turning '-' into '_'.
var secretParams = []string{
	"key", "apikey", "token", "secret", "password", "passwd", "pass", "pwd",
	"auth", "authorization", "sig", "signature", "credential", "credentials",
	"session", "sessionid", "sid", "jwt", "hash", "hmac",
}

// secretSuffixes make any parameter ending in them secret: "api_key",
// "x-api-key", "feedkey", "access_token", "authtoken", "client_secret",
// "X-Amz-Signature", "X-Amz-Credential".
var secretSuffixes = []string{
	"key", "token", "secret", "password", "passwd", "_pass", "_pwd",
	"_auth", "_sig", "signature", "credential", "credentials", "_session", "sessionid",
}

// SecretParam reports whether a query parameter of this name carries a
// secret (see RedactURL for the list). Names are compared case-insensitively,
// with '-' and '_' alike.
func SecretParam(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	for _, s := range secretParams {
		if n == s {
			return true
		}
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// RedactURL returns raw as it may be shown to anyone or logged: without
// user info ("alice:hunter2@") and with the value of every secret-looking
// query (or fragment) parameter replaced by Redacted. Secret-looking names
// are key, apikey, token, secret, password, passwd, pass, pwd, auth,
// authorization, sig, signature, credential(s), session, sessionid, sid,
// jwt, hash and hmac, and any name ending in key, token, secret, password,
// passwd, signature, credential(s), sessionid, _pass, _pwd, _auth, _sig or
// _session ("api_key", "X-Api-Key", "access_token", "X-Amz-Signature"),
// in any case, '-' and '_' alike. Other parameters keep their exact
// encoding, so the URL still says which feed it is. A secret in the path
// cannot be told from a path and is left alone.
//
// Every feed URL shown to members or written to a log goes through this one
// function; owners may see the URL whole.
func RedactURL(raw string) string {
	// Edit the text as given rather than re-spell it with net/url: every
	// other byte stays, and redacting twice changes nothing (u.String()
	// would shrink "//@//@" on each pass). net/url cuts at the first '#',
	// then the first '?', as here.
	rest, frag, hasFrag := strings.Cut(raw, "#")
	rest, query, hasQuery := strings.Cut(rest, "?")
	if u, err := url.Parse(raw); err != nil {
		// Text net/url refuses: whatever follows "://" (or a leading
		// "//") is taken for the authority.
		if i := strings.Index(rest, "://"); i >= 0 {
			rest = dropUserinfo(rest, i+1)
		} else {
			rest = dropUserinfo(rest, 0)
		}
	} else if u.User != nil {
		start := 0
		if u.Scheme != "" {
			start = len(u.Scheme) + 1
		}
		rest = dropUserinfo(rest, start)
	}
	if hasQuery {
		rest += "?" + redactParams(query)
	}
	if hasFrag {
		rest += "#" + redactParams(frag)
	}
	return rest
}

// dropUserinfo removes "user:pass@" from the authority of a URL without its
// query and fragment, where net/url finds it: the authority starts with "//"
// at s[start:], runs to the first '/', and its user info to the last '@'.
func dropUserinfo(s string, start int) string {
	if start > len(s) || !strings.HasPrefix(s[start:], "//") {
		return s
	}
	prefix, auth, path := s[:start+2], s[start+2:], ""
	if i := strings.IndexByte(auth, '/'); i >= 0 {
		auth, path = auth[:i], auth[i:]
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	return prefix + auth + path
}

// redactParams replaces the values of secret parameters in a raw query,
// keeping every other byte as it was.
func redactParams(raw string) string {
	if raw == "" || !strings.Contains(raw, "=") {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if SecretParam(name) {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// urlInText finds URLs written in free text, such as an error message that
// quotes the URL it failed on ("Get \"https://…\": dial tcp …").
var urlInText = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]+`)

// RedactURLs returns text with every URL in it passed through RedactURL:
// for error messages, which quote the URL they failed on, stored or shown
// where the URL itself may not be.
func RedactURLs(text string) string {
	if !strings.Contains(text, "://") {
		return text
	}
	return urlInText.ReplaceAllStringFunc(text, func(u string) string {
		// Punctuation after a URL ("…?token=x: dial tcp") ends the
		// sentence, not the URL, and must outlive the redacted value.
		trimmed := strings.TrimRight(u, ".,:;!?)]")
		return RedactURL(trimmed) + u[len(trimmed):]
	})
}

// RedactedURL is the feed's URL as members and logs may see it: RedactURL.
func (f Feed) RedactedURL() string { return RedactURL(f.URL) }
