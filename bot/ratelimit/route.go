package ratelimit

import "strings"

// Route identifies a REST request for rate limiting: Discord counts
// requests per route (method and path shape) and top-level resource.
type Route struct {
	// Key is the method and the path with every id but the top-level one
	// replaced, e.g. "PATCH /channels/{major}/messages/{id}". Until an
	// answer names the route's bucket, the key stands in for it.
	Key string
	// Major is the top-level resource (a channel, guild, webhook or
	// interaction); requests to different ones never share a bucket.
	Major string
	// Global reports whether the request counts toward the bot's global
	// limit. Interaction endpoints do not: Discord documents them as "not
	// bound to the bot's Global Rate Limit", which keeps commands answered
	// while a fan-out uses the whole global budget.
	Global bool
}

// RouteOf returns the route of a request to path, the part of the URL
// after the API version (e.g. "/channels/1/messages"); a query is ignored.
func RouteOf(method, path string) Route {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	r := Route{Global: true}
	switch {
	case len(segs) >= 2 && (segs[0] == "channels" || segs[0] == "guilds"):
		r.Major = segs[1]
		segs[1] = "{major}"
	case len(segs) >= 3 && segs[0] == "interactions":
		// /interactions/{id}/{token}/callback
		r.Major, r.Global = segs[1], false
		segs[1], segs[2] = "{major}", "{token}"
	case len(segs) >= 3 && segs[0] == "webhooks":
		// /webhooks/{application or webhook id}/{token}/...: the token is
		// part of the resource. With a token, no bot authentication: not
		// counted toward the bot's global limit.
		r.Major, r.Global = segs[1]+"/"+segs[2], false
		segs[1], segs[2] = "{major}", "{token}"
	case len(segs) == 2 && segs[0] == "webhooks":
		r.Major = segs[1]
		segs[1] = "{major}"
	}
	for i := 1; i < len(segs); i++ {
		switch {
		case segs[i-1] == "reactions":
			// Every emoji of a message shares one limit.
			segs = append(segs[:i], "{emoji}")
			i = len(segs)
		case isSnowflake(segs[i]):
			segs[i] = "{id}"
		}
	}
	r.Key = method + " /" + strings.Join(segs, "/")
	return r
}

func isSnowflake(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
