package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/backchannel/backchannel/config"
)

// cmdCheck validates the configuration and rules and prints every problem,
// or what the configuration amounts to: its feeds, and the actors and rules
// that result from merging its [rules] over the built-in ones.
func cmdCheck(args []string, stdout io.Writer, env config.LookupEnv) error {
	fs, path := newFlags("check", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, env)
	var probs config.Problems
	if errors.As(err, &probs) {
		for _, p := range probs {
			fmt.Fprintf(stdout, "%s: %s\n", *path, p)
		}
		return fmt.Errorf("%s: %d problem(s)", *path, len(probs))
	}
	if err != nil {
		return err
	}
	actors, rules := len(cfg.Rules.Actors), len(cfg.Rules.Rules)
	fmt.Fprintf(stdout, "%s: ok (%d feeds, %d actors, %d rules)\n", *path, len(cfg.Feeds), actors, rules)
	// Valid, but a bot that can match nothing: say so, without failing, as
	// a file may mean it (a staging bot, rules added per guild).
	if rules == 0 {
		fmt.Fprintf(stdout, "%s: warning: no rules: nothing will be matched until a guild adds one with /rules add\n", *path)
	}
	if actors == 0 {
		fmt.Fprintf(stdout, "%s: warning: no actors: contact rules cannot fire, only keyword rules\n", *path)
	}
	return nil
}
