package feeds

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrForbiddenAddress is returned (wrapped) when an untrusted feed URL
// resolves to an address the bot must not connect to: loopback, private,
// link-local, unspecified, multicast or otherwise reserved.
var ErrForbiddenAddress = errors.New("address not allowed (private or reserved network)")

// ErrUnsupportedScheme is returned when a feed URL is not http or https (or,
// for a feed of the configuration file, file).
var ErrUnsupportedScheme = errors.New("only http and https URLs are allowed")

// reservedPrefixes are ranges netip's predicates do not cover but that still
// reach the local network or nothing useful.
var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT, often internal
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved
	netip.MustParsePrefix("255.255.255.255/32"), // limited broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),     // local-use NAT64
	netip.MustParsePrefix("::ffff:0:0:0/96"),    // IPv4-translated (SIIT)
	netip.MustParsePrefix("100::/64"),           // discard-only
	netip.MustParsePrefix("2001:db8::/32"),      // documentation
	netip.MustParsePrefix("fec0::/10"),          // deprecated site-local
}

// Prefixes whose addresses embed an IPv4 address: they are as public as the
// address they carry (NAT64 is how IPv6-only hosts reach IPv4 sites).
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// publicAddress reports whether ip is an address an untrusted feed may be
// fetched from.
func publicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() {
		return false
	}
	for _, p := range reservedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip):
		return publicAddress(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(ip):
		return publicAddress(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return true
}

// guardControl is a net.Dialer Control function. It runs after DNS
// resolution, just before connect(2), with the literal address being dialled,
// so a host name that resolves to a public address for a pre-check and to a
// private one a moment later (DNS rebinding) is still refused, and so is a
// redirect to a private address.
func guardControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check %q: %v", ErrForbiddenAddress, address, err)
	}
	if !publicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// checkURL refuses URLs the fetcher never requests: other schemes (file:,
// gopher:, ...), missing hosts. allowFile admits a file: URL of an
// absolute path, for a trusted feed (one of the configuration file) only;
// a redirect never gets it, so no web server can point the bot at a local
// file.
func checkURL(raw string, allowFile bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the URL; the caller names it, redacted.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "file":
		if !allowFile {
			return nil, fmt.Errorf("%w (got %q)", ErrUnsupportedScheme, u.Scheme)
		}
		if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || (u.Host != "" && u.Host != "localhost") {
			return nil, errors.New("invalid URL: a file: URL needs an absolute path and no host (file:///path)")
		}
		return u, nil
	default:
		return nil, fmt.Errorf("%w (got %q)", ErrUnsupportedScheme, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("invalid URL: no host")
	}
	return u, nil
}
