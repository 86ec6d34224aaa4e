package rules

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// defaultsTOML is the built-in vocabulary and rules, documented in place.
//
//go:embed defaults.toml
var defaultsTOML []byte

// Defaults returns the built-in Spec, decoded from defaults.toml: the rules
// every configuration starts from (see Spec.Merge). It is decoded afresh on
// each call (a few milliseconds; configurations are loaded once), so every
// caller owns its maps and slices and none can change another's defaults.
func Defaults() (Spec, error) {
	s, err := decodeSpec(defaultsTOML)
	if err != nil {
		return Spec{}, fmt.Errorf("rules: defaults.toml: %w", err)
	}
	return s, nil
}

// decodeSpec decodes a Spec written at the top level of a TOML document,
// strictly: a key the Spec does not know is an error naming it and its line.
func decodeSpec(data []byte) (Spec, error) {
	var s Spec
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&s)
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		keys := make([]string, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			row, _ := e.Position()
			keys = append(keys, fmt.Sprintf("%s (line %d)", strings.Join(e.Key(), "."), row))
		}
		return Spec{}, fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	if err != nil {
		return Spec{}, err
	}
	return s, nil
}
