package actions

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// TargetPolicy decides which network addresses outbound actions may reach.
//
// The zero policy refuses every loopback, private, link-local (cloud metadata
// included), shared (CGNAT), unspecified, multicast and reserved address, so a
// workflow cannot be turned into a probe of the network hookflow runs in.
type TargetPolicy struct {
	// AllowPrivate lets every address through (--allow-private-targets).
	AllowPrivate bool
	// AllowList names ranges that are allowed even though they are refused
	// by default, e.g. 10.1.2.0/24 for one internal service network.
	AllowList []netip.Prefix
}

// TargetError says that an outbound target was refused. It is permanent:
// another attempt reaches the same address.
type TargetError struct {
	// Target is what was asked for: host:port as written in the URL.
	Target string
	// Addr is the resolved address that was refused; it equals Target's
	// address when the URL held an IP literal.
	Addr netip.AddrPort
	// Class names the kind of address, e.g. "loopback", "private".
	Class string
}

func (e *TargetError) Error() string {
	target := e.Addr.String()
	if e.Target != "" && e.Target != target {
		target = e.Target + " (" + e.Addr.Addr().String() + ")"
	}
	return fmt.Sprintf("target %s is %s %s address; private targets are refused (allow with --allow-private-targets)",
		target, article(e.Class), e.Class)
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// Address classes refused by default. Order matters: the first match names
// the class in the error.
var refusedRanges = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("169.254.169.254/32"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // 255.255.255.255 included
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "reserved"}, // deprecated IPv4-compatible
	{netip.MustParsePrefix("fc00::/7"), "private"},
	{netip.MustParsePrefix("fec0::/10"), "private"}, // deprecated site-local
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// IPv6 ranges that carry an IPv4 address in their last 32 bits; the embedded
// address is checked too (NAT64, 6to4 carries it in bits 16-48).
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// classify returns the class of a refused address, or "" when the address
// is public.
func classify(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	for _, r := range refusedRanges {
		if r.prefix.Contains(a) {
			return r.class
		}
	}
	if a.Is6() {
		b := a.As16()
		var v4 netip.Addr
		switch {
		case nat64Prefix.Contains(a):
			v4 = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(a):
			v4 = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		if v4.IsValid() {
			return classify(v4)
		}
	}
	return ""
}

// Check returns a *TargetError when the policy refuses ap, or nil.
// target is the host:port as asked for, used in the message.
func (p TargetPolicy) Check(target string, ap netip.AddrPort) error {
	if p.AllowPrivate {
		return nil
	}
	class := classify(ap.Addr())
	if class == "" {
		return nil
	}
	a := ap.Addr().Unmap().WithZone("")
	for _, allowed := range p.AllowList {
		if allowed.Contains(a) {
			return nil
		}
	}
	return &TargetError{Target: target, Addr: ap, Class: class}
}

// CheckURL checks what can be known of u before any connection: the scheme
// must be http or https, the host present, and a host given as an IP literal
// allowed by the policy. Host names are checked when they are resolved, at
// dial time, by the clients NewHTTPClient builds.
func (p TargetPolicy) CheckURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url scheme %q is not allowed: use http or https", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("url has no host")
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil // a name: resolved and checked at dial time
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("url port %q is not a port number", port)
	}
	return p.Check(net.JoinHostPort(host, port), netip.AddrPortFrom(a, uint16(pn)))
}

// dialContext returns a DialContext function that refuses every connection
// to an address the policy refuses. The check runs on the resolved address
// just before the socket connects, so neither a DNS answer that changes
// between checks (rebinding) nor a redirect gets past it.
func (p TargetPolicy) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	guarded := *d
	guarded.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("target %s: cannot check the address: %w", address, err)
		}
		return p.Check("", ap)
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := guarded.DialContext(ctx, network, addr)
		if err != nil {
			var te *TargetError
			if errors.As(err, &te) {
				c := *te
				c.Target = addr
				return nil, &c
			}
			return nil, err
		}
		return conn, nil
	}
}

// maxRedirects bounds the redirects a client built by NewHTTPClient follows.
const maxRedirects = 10

// NewHTTPClient returns a client for outbound actions whose every connection
// is checked against p at dial time. It uses no proxy (a proxy would hide the
// real target from the check), follows at most 10 redirects and only to http
// or https URLs, and has no overall timeout: actions bound each request with
// their context.
func NewHTTPClient(p TargetPolicy) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           p.dialContext(dialer),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: transport, CheckRedirect: checkRedirect(p)}
}

func checkRedirect(p TargetPolicy) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return &redirectError{fmt.Errorf("stopped after %d redirects", maxRedirects)}
		}
		if err := p.CheckURL(req.URL); err != nil {
			return &redirectError{fmt.Errorf("redirect to %s: %w", redactURL(req.URL), err)}
		}
		return nil
	}
}

// redactURL renders u for messages without user info, query or fragment,
// where credentials and tokens tend to live.
func redactURL(u *url.URL) string {
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}
