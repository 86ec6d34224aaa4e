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
	u, err := url.Parse(raw)
	if err != nil {
		return redactUnparsed(raw)
	}
	u.User = nil
	u.RawQuery = redactParams(u.RawQuery)
	if u.Fragment != "" {
		frag := redactParams(u.EscapedFragment())
		u.Fragment, u.RawFragment = "", ""
		if f, err := url.PathUnescape(frag); err == nil {
			u.Fragment, u.RawFragment = f, frag
		}
	}
	return u.String()
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

// redactUnparsed is RedactURL for text net/url refuses: everything up to
// an '@' before the path goes, and the query is redacted as far as it
// splits.
func redactUnparsed(raw string) string {
	rest, query, hasQuery := strings.Cut(raw, "?")
	if scheme, after, ok := strings.Cut(rest, "://"); ok {
		host, path, _ := strings.Cut(after, "/")
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
		rest = scheme + "://" + host
		if path != "" || strings.Contains(after, "/") {
			rest += "/" + path
		}
	}
	if !hasQuery {
		return rest
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	out := rest + "?" + redactParams(query)
	if hasFrag {
		out += "#" + redactParams(frag)
	}
	return out
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
