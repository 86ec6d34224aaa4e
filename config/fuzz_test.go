package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no document, however broken, panics the loader,
// and that a rejected document always says what is wrong.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example), "")
	f.Add("[poll]\ntimeout = \"x\"\n", "soon")
	f.Add("[[feeds]]\nname = \"a\"\nurl = \"https://a.example/\"\n[[feeds]]\n", "")
	f.Add("[rules]\n[[rules.rule]]\nname = \"k\"\nkeywords = [\"(\"]\n", "")
	// [rules] is merged over the built-in rules: changes, removals, repeats.
	f.Add("[rules.contact]\nwindow = 40\npast_years = false\n[rules.countries]\nUS = [\"Yanks\", \"\"]\n", "")
	f.Add("[[rules.actor]]\nid = \"us-cia\"\nremove = true\n[[rules.actor]]\nid = \"us-cia\"\n[[rules.rule]]\nname = \"nope\"\nremove = true\nkeywords = [\"x\"]\n", "")
	f.Add("[rules]\ndefaults = false\ngroups = [\"G7\"]\n[[rules.rule]]\nname = \"intel-heads\"\nremove = true\n", "")
	f.Fuzz(func(t *testing.T, doc, envValue string) {
		env := Env{}
		if envValue != "" {
			env["BACKCHANNEL_POLL_TIMEOUT"] = envValue
			env["BACKCHANNEL_DISCORD_OWNER_IDS"] = envValue
		}
		_, err := Parse([]byte(doc), env)
		if err == nil {
			return
		}
		var probs Problems
		if errors.As(err, &probs) {
			if len(probs) == 0 {
				t.Fatal("empty Problems returned as an error")
			}
			for _, p := range probs {
				if p.Key == "" || p.Msg == "" {
					t.Fatalf("problem without key or message: %+v", p)
				}
			}
		}
	})
}
