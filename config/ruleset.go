package config

import (
	"fmt"
	"reflect"

	"github.com/backchannel/backchannel/rules"
)

// RuleSet returns Rules compiled. Load and Parse compile them to validate
// them and keep the result, so a program that loads its configuration
// compiles its rules once (tens of milliseconds and megabytes); a Config
// built in code, or whose Rules changed since it was loaded, has them
// compiled now.
func (c Config) RuleSet() (*rules.Set, error) {
	// The comparison takes microseconds (the loaded set shares its lists
	// with Rules), compiling tens of milliseconds.
	if c.ruleSet != nil && reflect.DeepEqual(c.ruleSet.Spec(), c.Rules) {
		return c.ruleSet, nil
	}
	set, err := rules.Compile(c.Rules)
	if err != nil {
		return nil, fmt.Errorf("config: rules: %w", err)
	}
	return set, nil
}
