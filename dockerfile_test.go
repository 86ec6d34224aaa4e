package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// TestDockerfile lints the Dockerfile with BuildKit's own parser and
// linter (what `docker build --check` starts from; CI has no Docker
// daemon to build with) and checks what the image promises: a non-root
// user that owns /data, so a fresh named volume is writable, and a health
// check the distroless image can run by itself.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("parser warning: %s", w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		t.Errorf("lint %s: %s (%v)", rule, msg, loc)
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("instructions: %v", err)
	}
	if len(stages) == 0 {
		t.Fatal("no stages")
	}
	final := stages[len(stages)-1]
	var user string
	var health *instructions.HealthCheckCommand
	var dataOwned, volume bool
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.CopyCommand:
			if c.DestPath == "/data" && c.Chown != "" && !strings.HasPrefix(c.Chown, "0") && !strings.HasPrefix(c.Chown, "root") {
				dataOwned = true
			}
		case *instructions.VolumeCommand:
			volume = slices.Contains(c.Volumes, "/data")
		case *instructions.EntrypointCommand:
			if !c.PrependShell {
				continue
			}
			t.Error("ENTRYPOINT in shell form: distroless has no shell")
		}
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("final stage runs as %q; want a non-root user", user)
	}
	if !volume || !dataOwned {
		t.Errorf("/data: VOLUME %v, created owned by a non-root user %v; a fresh named volume must be writable", volume, dataOwned)
	}
	if health == nil || health.Health == nil || len(health.Health.Test) < 3 || health.Health.Test[0] != "CMD" || !slices.Contains(health.Health.Test, "health") {
		t.Errorf("HEALTHCHECK = %+v; want the exec form running `backchannel health`", health)
	}
}

// TestDockerignore: a local configuration (it may hold the token) and
// databases never enter the build context; the sources do.
func TestDockerignore(t *testing.T) {
	f, err := os.Open(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for path, wantIgnored := range map[string]bool{
		"config.toml":                 true,
		"prod.toml":                   true,
		"backchannel.db":              true,
		"backchannel.db-wal":          true,
		"data/backchannel.db-shm":     true,
		".git/config":                 true,
		"go.mod":                      false,
		"go.sum":                      false,
		"main.go":                     false,
		"config.example.toml":         false,
		"rules/defaults.toml":         false,
		"db/migrations/0001_init.sql": false,
	} {
		ignored, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		if ignored != wantIgnored {
			t.Errorf("%s: ignored %v, want %v", path, ignored, wantIgnored)
		}
	}
}
