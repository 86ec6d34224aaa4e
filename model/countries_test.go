package model_test

import (
	"testing"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// TestEveryBuiltInCountryHasAName: a role of any country the built-in rules
// know reads "<Name>'s office" in alerts, never "<CODE>'s office".
func TestEveryBuiltInCountryHasAName(t *testing.T) {
	spec, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	for code := range spec.Countries {
		if got := model.CountryPossessive(code); got == code+"'s" {
			t.Errorf("country %s of rules/defaults.toml has no name in model/countries.go", code)
		}
	}
}
