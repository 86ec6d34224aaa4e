// Package dedup computes the keys under which the same story is recognised
// when it comes back: a link's normal form (NormalizeLink) and a title's
// fingerprint (TitleFingerprint). The store keys articles and feeds by them,
// and `check` uses the same NormalizeLink to refuse two feeds of one URL
// before the store would, so both must come from this one place.
package dedup

import (
	"net"
	"net/url"
	"sort"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// trackingParams are query parameters that identify a click or campaign,
// never the page; links differing only in them are the same story.
var trackingParams = map[string]bool{
	"fbclid":      true, // Facebook
	"gclid":       true, // Google Ads
	"gclsrc":      true,
	"dclid":       true,
	"gbraid":      true,
	"wbraid":      true,
	"msclkid":     true, // Microsoft Ads
	"yclid":       true, // Yandex
	"twclid":      true, // X/Twitter
	"igshid":      true, // Instagram
	"mc_cid":      true, // Mailchimp
	"mc_eid":      true,
	"_ga":         true, // Google Analytics cross-domain
	"_gl":         true,
	"_hsenc":      true, // HubSpot
	"_hsmi":       true,
	"mkt_tok":     true, // Marketo
	"oly_anon_id": true,
	"oly_enc_id":  true,
	"vero_id":     true,
}

// isTracking reports whether a query key is a tracking parameter. Keys are
// compared case-insensitively: UTM_SOURCE tracks as well as utm_source.
func isTracking(key string) bool {
	k := strings.ToLower(key)
	return strings.HasPrefix(k, "utm_") || trackingParams[k]
}

// NormalizeLink returns the form of an article link used to recognise the
// same story under different URLs: scheme and host lower-cased, default
// ports, fragment and tracking parameters (utm_*, fbclid, gclid, mc_cid...)
// dropped, the remaining query parameters sorted by key, and an empty path
// written "/". Anything that is not an absolute http(s) URL is returned
// trimmed but otherwise unchanged. NormalizeLink is idempotent.
func NormalizeLink(raw string) string {
	raw = strings.TrimSpace(raw)
	out := strings.TrimSpace(normalizeOnce(raw))
	// url.URL.String re-escapes some inputs (a stray '%' in the host, say)
	// into a form that parses differently. Such links are rare and broken;
	// they are kept as given (trimmed), so that NormalizeLink is always
	// idempotent and a stored key is a fixed point.
	if again := strings.TrimSpace(normalizeOnce(out)); again != out {
		return raw
	}
	return out
}

// normalizeOnce is NormalizeLink without the fixed-point check.
func normalizeOnce(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return raw
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return raw
	}
	u.Scheme = scheme
	u.Host = normalizeHost(scheme, u.Host)
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = normalizeQuery(u.RawQuery)
	u.ForceQuery = false
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	return u.String()
}

// normalizeHost lower-cases the host and drops the scheme's default port.
func normalizeHost(scheme, host string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return strings.TrimSuffix(host, ":") // "example.com:" has an empty port
	}
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		if strings.Contains(h, ":") {
			return "[" + h + "]" // IPv6 literal
		}
		return h
	}
	return host
}

// normalizeQuery drops tracking parameters and sorts the rest by key,
// keeping each parameter's original encoding (so the result is stable) and
// the relative order of repeated keys (which can matter to the server).
func normalizeQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	type param struct{ key, raw string }
	var kept []param
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		if isTracking(key) {
			continue
		}
		kept = append(kept, param{key: key, raw: part})
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].key < kept[j].key })
	parts := make([]string, len(kept))
	for i, p := range kept {
		parts[i] = p.raw
	}
	return strings.Join(parts, "&")
}

// TitleFingerprint returns the key under which titles count as the same:
// Unicode case-folded, NFKC-normalized (so full-width letters and ligatures
// match their plain forms), with runs of white space collapsed to one space
// and the ends trimmed. It returns "" for a title with no visible text.
func TitleFingerprint(title string) string {
	if isASCII(title) {
		// The common case, and NFKC and case folding of ASCII are just
		// lower-casing: skip the Unicode tables.
		return strings.Join(strings.Fields(strings.ToLower(title)), " ")
	}
	// A Caser keeps state and is not safe for concurrent use: make one per call.
	// Case folding alone is not idempotent for a few scripts (Cherokee
	// small letters fold to capitals, whose own folding goes back); lower-
	// casing after it settles them.
	folded := norm.NFKC.String(strings.ToLower(cases.Fold().String(norm.NFKC.String(title))))
	return strings.Join(strings.Fields(folded), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
