package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/db"
)

// cmdBackup writes a consistent copy of the configuration's database to
// OUT, also while `run` runs (see db.Backup). It exits 0 only when the
// copy is complete, checked and named OUT; it never overwrites.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer, env config.Env) error {
	fs, path := newFlags("backup", stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: backchannel backup [-config FILE] OUT")
		fs.PrintDefaults()
	}
	// Flags may come before or after OUT.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fmt.Fprintln(fs.Output(), "backup needs exactly one argument, the output file")
		fs.Usage()
		return errUsage
	}
	out := rest[0]
	cfg, err := config.Load(*path, env)
	if err != nil {
		return err
	}
	if err := db.Backup(ctx, cfg.Database.Path, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s\n", cfg.Database.Path, out)
	return nil
}
