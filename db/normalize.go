package db

import "github.com/backchannel/backchannel/dedup"

// NormalizeLink is the store's url_key and link_key: dedup.NormalizeLink,
// which `check` uses too, so it refuses what the store would.
func NormalizeLink(raw string) string { return dedup.NormalizeLink(raw) }

// TitleFingerprint is the store's title_key: dedup.TitleFingerprint.
func TitleFingerprint(title string) string { return dedup.TitleFingerprint(title) }
