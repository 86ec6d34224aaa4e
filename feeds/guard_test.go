package feeds

import (
	"errors"
	"net/netip"
	"testing"
)

func TestPublicAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34":        true,
		"1.1.1.1":              true,
		"2606:4700::1111":      true,
		"64:ff9b::5db8:d822":   true, // NAT64 of 93.184.216.34
		"127.0.0.1":            false,
		"127.255.0.1":          false,
		"10.1.2.3":             false,
		"172.16.0.1":           false,
		"192.168.1.1":          false,
		"169.254.169.254":      false, // cloud metadata
		"0.0.0.0":              false,
		"0.1.2.3":              false,
		"100.64.0.1":           false,
		"224.0.0.1":            false,
		"255.255.255.255":      false,
		"::1":                  false,
		"::":                   false,
		"fe80::1":              false,
		"fc00::1":              false,
		"fd12:3456::1":         false,
		"ff02::1":              false,
		"::ffff:127.0.0.1":     false, // v4-mapped loopback
		"::ffff:10.0.0.1":      false,
		"64:ff9b::a00:1":       false, // NAT64 of 10.0.0.1
		"64:ff9b::7f00:1":      false, // NAT64 of 127.0.0.1
		"2002:7f00:1::1":       false, // 6to4 of 127.0.0.1
		"2002:5db8:d822::1":    true,  // 6to4 of a public address
		"2001:db8::1":          false,
		"fec0::1":              false,
		"198.18.0.1":           false,
		"240.0.0.1":            false,
		"192.0.0.8":            false,
		"8.8.8.8":              true,
		"2a00:1450:4001::200e": true,
	} {
		if got := publicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: got %v, want %v", addr, got, want)
		}
	}
}

func TestGuardControl(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1:80":      true,
		"[::1]:443":         true,
		"[fe80::1%eth0]:80": true,
		"93.184.216.34:443": false,
		"not an address":    true,
	} {
		err := guardControl("tcp", addr, nil)
		if refused != errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: got %v", addr, err)
		}
	}
}
