// Command backchannel watches news feeds for contacts between the heads of
// intelligence agencies and foreign, security and defence ministries of
// different countries, and posts each such report to the Discord channels
// subscribed to it. See README.md and docs/ARCHITECTURE.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/backchannel/backchannel/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: backchannel <command> [flags]

commands:
  run    [-config FILE] [-dry-run] [-log-format text|json]
                                    run the bot (scheduler, pollers, matcher, store, delivery, HTTP)
  check  [-config FILE]             validate the configuration and rules
  backup [-config FILE] OUT         write a consistent copy of the database to OUT (a new file),
                                    also while run is running
  match  [-config FILE] [-stories]  match JSON Lines articles on stdin, verdicts on stdout
                                    (-stories: read them as a news stream, give each its story id)
  health [-config FILE] [-ready] [-url URL]
                                    ask a running bot's /livez (or /readyz); exit 0 when healthy
  version                           print the version

The default configuration file is config.toml in the working directory.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, config.OSEnv())
	stop()
	os.Exit(code)
}

// run is the whole program behind main, with its environment passed in so
// tests can run any command in process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env config.Env) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, args, stdout, stderr, env)
	case "check":
		err = cmdCheck(args, stdout, env)
	case "backup":
		err = cmdBackup(ctx, args, stdout, stderr, env)
	case "match":
		err = cmdMatch(ctx, args, stdin, stdout, env)
	case "health":
		err = cmdHealth(ctx, args, stdout, env)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "backchannel", version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "backchannel: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "backchannel %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("backchannel "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "config.toml", "configuration file")
	return fs, path
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}
