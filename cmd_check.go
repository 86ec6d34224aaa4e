package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/backchannel/backchannel/config"
)

// cmdCheck validates the configuration and rules and prints every problem.
func cmdCheck(args []string, stdout io.Writer, env config.LookupEnv) error {
	fs, path := newFlags("check", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, env)
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
	fmt.Fprintf(stdout, "%s: ok (%d feeds, %d rules)\n", *path, len(cfg.Feeds), len(cfg.Rules.Rules))
	return nil
}
