package actions

import (
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr  string
		class string
	}{
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fd12:3456::1", "private"},
		{"fc00::1", "private"},
		{"169.254.169.254", "link-local (cloud metadata)"},
		{"fd00:ec2::254", "link-local (cloud metadata)"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.254", "shared (CGNAT)"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"64:ff9b::a00:1", "private"},                        // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", "loopback"},                      // NAT64 of 127.0.0.1
		{"2002:a9fe:a9fe::1", "link-local (cloud metadata)"}, // 6to4 of 169.254.169.254
		{"::7f00:1", "reserved"},
		{"8.8.8.8", ""},
		{"93.184.215.14", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2606:4700::6810:84e5", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},  // 6to4 of 8.8.8.8
	}
	for _, tt := range tests {
		if got := classify(netip.MustParseAddr(tt.addr)); got != tt.class {
			t.Errorf("classify(%s) = %q, want %q", tt.addr, got, tt.class)
		}
	}
}

func TestTargetPolicyCheck(t *testing.T) {
	t.Parallel()
	ap := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	tests := []struct {
		name   string
		policy TargetPolicy
		addr   string
		msg    string // "" allowed
	}{
		{"loopback refused", TargetPolicy{}, "127.0.0.1:8080",
			"target 127.0.0.1:8080 is a loopback address; private targets are refused (allow with --allow-private-targets)"},
		{"v6 loopback refused", TargetPolicy{}, "[::1]:443",
			"target [::1]:443 is a loopback address; private targets are refused (allow with --allow-private-targets)"},
		{"metadata refused", TargetPolicy{}, "169.254.169.254:80",
			"target 169.254.169.254:80 is a link-local (cloud metadata) address; private targets are refused (allow with --allow-private-targets)"},
		{"unspecified refused", TargetPolicy{}, "0.0.0.0:80",
			"target 0.0.0.0:80 is an unspecified address; private targets are refused (allow with --allow-private-targets)"},
		{"public allowed", TargetPolicy{}, "8.8.8.8:443", ""},
		{"allow private", TargetPolicy{AllowPrivate: true}, "10.0.0.1:80", ""},
		{"allow list hit", TargetPolicy{AllowList: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}}, "10.1.2.77:80", ""},
		{"allow list hit for mapped v4", TargetPolicy{AllowList: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}}, "[::ffff:10.1.2.77]:80", ""},
		{"allow list miss", TargetPolicy{AllowList: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}}, "10.1.3.1:80",
			"target 10.1.3.1:80 is a private address; private targets are refused (allow with --allow-private-targets)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check("", ap(tt.addr))
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Check: %v, want allowed", err)
				}
				return
			}
			var te *TargetError
			if !errors.As(err, &te) || err.Error() != tt.msg {
				t.Fatalf("Check error\n got %v\nwant %s", err, tt.msg)
			}
		})
	}
}

func TestTargetPolicyCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		msg string
	}{
		{"https://example.com/x", ""},
		{"http://localhost:8080/", ""}, // a name: checked at dial time
		{"ftp://example.com/", `url scheme "ftp" is not allowed: use http or https`},
		{"file:///etc/passwd", `url scheme "file" is not allowed: use http or https`},
		{"http:///nohost", "url has no host"},
		{"http://127.0.0.1/", "target 127.0.0.1:80 is a loopback address; private targets are refused (allow with --allow-private-targets)"},
		{"https://10.0.0.5/", "target 10.0.0.5:443 is a private address; private targets are refused (allow with --allow-private-targets)"},
		{"http://[::1]:9000/", "target [::1]:9000 is a loopback address; private targets are refused (allow with --allow-private-targets)"},
		{"http://169.254.169.254/latest/meta-data/", "target 169.254.169.254:80 is a link-local (cloud metadata) address; private targets are refused (allow with --allow-private-targets)"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		err = TargetPolicy{}.CheckURL(u)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.msg {
			t.Errorf("CheckURL(%s)\n got %q\nwant %q", tt.url, got, tt.msg)
		}
	}
}

// TestDialGuard shows that the client refuses by resolved address, whatever
// the URL said: a name resolving to loopback, and a literal that skips the
// actions' own URL check.
func TestDialGuard(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())

	t.Run("name resolving to loopback", func(t *testing.T) {
		client := NewHTTPClient(TargetPolicy{})
		_, err := client.Get("http://localhost:" + port + "/echo")
		var te *TargetError
		if !errors.As(err, &te) {
			t.Fatalf("Get: %v, want a *TargetError", err)
		}
		if te.Class != "loopback" || !strings.Contains(te.Error(), "target localhost:"+port+" (") {
			t.Errorf("error %q", te)
		}
		if len(f.requests()) != 0 {
			t.Error("the server was reached")
		}
	})
	t.Run("literal", func(t *testing.T) {
		client := NewHTTPClient(TargetPolicy{})
		_, err := client.Get(f.url("/echo"))
		var te *TargetError
		if !errors.As(err, &te) || te.Class != "loopback" {
			t.Fatalf("Get: %v, want a loopback *TargetError", err)
		}
	})
	t.Run("allowed", func(t *testing.T) {
		client := NewHTTPClient(TargetPolicy{AllowList: loopback})
		resp, err := client.Get(f.url("/echo"))
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		resp.Body.Close()
	})
}

// TestSSRFRefused runs both network actions against targets refused by
// default and checks the error is permanent, clear, and that nothing was
// sent; then allows them.
func TestSSRFRefused(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	refuse := NetOptions{Now: f.opts.Now}

	targets := []struct {
		name, url, msg string
	}{
		{"127.0.0.1", f.url("/echo"), "target 127.0.0.1:" + port + " is a loopback address"},
		{"::1", "http://[::1]:" + port + "/echo", "target [::1]:" + port + " is a loopback address"},
		{"10.x", "http://10.20.30.40/echo", "target 10.20.30.40:80 is a private address"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", "target 169.254.169.254:80 is a link-local (cloud metadata) address"},
		{"localhost", "http://localhost:" + port + "/echo", "target localhost:" + port + " ("},
	}
	for _, action := range []struct {
		name  string
		a     func(NetOptions) Action
		input func(url string) map[string]any
	}{
		{"http", func(o NetOptions) Action { return NewHTTP(o) }, func(u string) map[string]any {
			return map[string]any{"url": u}
		}},
		{"webhook", func(o NetOptions) Action { return NewWebhook(o) }, func(u string) map[string]any {
			return map[string]any{"url": u, "secret": testSecret, "payload": map[string]any{"a": 1}}
		}},
	} {
		for _, tt := range targets {
			t.Run(action.name+"/"+tt.name, func(t *testing.T) {
				_, err := action.a(refuse).Execute(t.Context(), request(action.input(tt.url)))
				if err == nil {
					t.Fatal("Execute succeeded, want refused")
				}
				if !IsPermanent(err) {
					t.Errorf("error not permanent: %v", err)
				}
				prefix := action.name + ": " + tt.msg
				if !strings.HasPrefix(err.Error(), prefix) ||
					!strings.HasSuffix(err.Error(), "; private targets are refused (allow with --allow-private-targets)") {
					t.Errorf("error\n got %s\nwant %s...", err, prefix)
				}
			})
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("the server saw %d requests", n)
	}

	t.Run("allowed with AllowPrivate", func(t *testing.T) {
		allow := NetOptions{AllowPrivate: true, Now: f.opts.Now}
		out, err := NewHTTP(allow).Execute(t.Context(), request(map[string]any{"url": "http://localhost:" + port + "/echo"}))
		if err != nil || out["status"] != 200 {
			t.Fatalf("Execute: %v, %v", out, err)
		}
	})
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	a := NewHTTP(NetOptions{AllowList: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Now: f.opts.Now})

	tests := []struct {
		name string
		to   string
		msg  string // "" follows
	}{
		{"to an allowed target", f.url("/echo"), ""},
		{"to metadata", "http://169.254.169.254/latest/meta-data/iam",
			"redirect to http://169.254.169.254/latest/meta-data/iam: target 169.254.169.254:80 is a link-local (cloud metadata) address; private targets are refused (allow with --allow-private-targets)"},
		{"to v6 loopback", "http://[::1]:" + port + "/echo",
			"redirect to http://[::1]:" + port + "/echo: target [::1]:" + port + " is a loopback address; private targets are refused (allow with --allow-private-targets)"},
		{"to another scheme", "file:///etc/passwd", `redirect to file:///etc/passwd: url scheme "file" is not allowed: use http or https`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := a.Execute(t.Context(), request(map[string]any{"url": f.url("/redirect?to=" + url.QueryEscape(tt.to))}))
			if tt.msg == "" {
				if err != nil || out["status"] != 200 {
					t.Fatalf("Execute: %v, %v", out, err)
				}
				return
			}
			if err == nil {
				t.Fatal("Execute followed the redirect")
			}
			want := "http: GET " + f.url("/redirect") + ": " + tt.msg
			if !IsPermanent(err) || err.Error() != want {
				t.Errorf("error (permanent %v)\n got %s\nwant %s", IsPermanent(err), err, want)
			}
		})
	}

	t.Run("loop stops", func(t *testing.T) {
		_, err := a.Execute(t.Context(), request(map[string]any{"url": f.url("/loop")}))
		if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "stopped after 10 redirects") {
			t.Errorf("err %v", err)
		}
	})
}
