// Package deps pins modules while the packages that use them are written.
// TEMPORARY: removed once every package imports what it needs.
package deps

import (
	_ "github.com/bwmarrin/discordgo"
	_ "github.com/gorilla/websocket"
	_ "github.com/mmcdole/gofeed"
	_ "github.com/pelletier/go-toml/v2"
	_ "github.com/petar-dambovaliev/aho-corasick"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/robfig/cron/v3"
	_ "golang.org/x/text/unicode/norm"
	_ "golang.org/x/time/rate"
	_ "modernc.org/sqlite"
)
