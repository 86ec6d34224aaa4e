package config

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// TestRuleSetIsCompiledOnceByLoad: the rules Load compiled to validate them
// are the ones RuleSet hands out, so `run` compiles the defaults once; a
// Config whose rules changed afterwards, or that was built in code, gets
// them compiled from what it holds.
func TestRuleSetIsCompiledOnceByLoad(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "config.example.toml"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	first, err := cfg.RuleSet()
	if err != nil {
		t.Fatal(err)
	}
	second, err := cfg.RuleSet()
	if err != nil || second != first {
		t.Fatalf("RuleSet compiled again (%p then %p, %v); want the set Load compiled", first, second, err)
	}
	if first != cfg.ruleSet {
		t.Error("RuleSet is not the set Load kept")
	}

	changed := cfg
	changed.Rules.Rules = append([]model.RuleSpec{{Name: "extra", Keywords: []string{"x"}}}, cfg.Rules.Rules...)
	set, err := changed.RuleSet()
	if err != nil {
		t.Fatal(err)
	}
	if set == first {
		t.Fatal("rules changed after Load, RuleSet still hands out the loaded set")
	}
	if _, ok := set.Rule("extra"); !ok {
		t.Errorf("rules %v lack the added rule", set.Rules())
	}

	built := Default()
	if built.Rules, err = rules.Defaults(); err != nil {
		t.Fatal(err)
	}
	if set, err := built.RuleSet(); err != nil || len(set.Rules()) != len(built.Rules.Rules) {
		t.Errorf("a Config built in code: %v, %v", set, err)
	}
	built.Rules.Rules = []model.RuleSpec{{Name: "no-keywords"}}
	var list rules.SpecErrors
	if _, err := built.RuleSet(); !errors.As(err, &list) || list[0].Key != "rules.rule[0]" {
		t.Errorf("invalid rules: %v; want the SpecErrors", err)
	}
}
