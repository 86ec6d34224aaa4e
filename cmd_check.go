package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/backchannel/backchannel/config"
)

// cmdCheck validates the configuration and rules exactly as `run` does
// (config.Load, and run's own requirements) and prints every problem, or
// what the configuration amounts to: its feeds, and the actors and rules
// that result from merging its [rules] over the built-in ones, then its
// warnings.
func cmdCheck(args []string, stdout io.Writer, env config.Env) error {
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
	fmt.Fprintf(stdout, "%s: ok (%d feeds, %d actors, %d rules)\n", *path, len(cfg.Feeds), len(cfg.Rules.Actors), len(cfg.Rules.Rules))
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stdout, "%s: warning: %s\n", *path, w)
	}
	// Whether the bot will run dry is not known here: a missing token is
	// what `run` refuses, unless it is a dry run.
	if err := requireToken(cfg.Config, false); err != nil {
		fmt.Fprintf(stdout, "%s: warning: %v\n", *path, err)
	}
	return nil
}
