package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/triggers/signature"
)

func newSendCmd() *cobra.Command {
	var (
		scheme, secret, secretFile, bodyFile, contentType, method string
		headers                                                   []string
		opts                                                      signature.Options
		timeout                                                   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "send URL --scheme S --secret X --body FILE",
		Short: "Sign an event like a real sender would, and POST it",
		Long: "Sign a body exactly like the named provider does (stripe, github, standard, slack,\n" +
			"shopify, twilio, hmac, none) and send it; prints the answer. For trying workflows.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyConfig(cmd); err != nil {
				return err
			}
			url := args[0]
			var body []byte
			var err error
			switch bodyFile {
			case "":
				return fmt.Errorf("--body is required (a file, or - for standard input)")
			case "-":
				body, err = io.ReadAll(cmd.InOrStdin())
			default:
				body, err = os.ReadFile(bodyFile)
			}
			if err != nil {
				return fmt.Errorf("read body: %w", err)
			}
			if secretFile != "" {
				b, err := os.ReadFile(secretFile)
				if err != nil {
					return fmt.Errorf("read secret: %w", err)
				}
				secret = strings.TrimRight(string(b), "\r\n")
			}
			s, err := signature.New(scheme, opts)
			if err != nil {
				return err
			}
			hdr, err := s.Sign(signature.Message{URL: url, Body: body, ID: newDeliveryID(), Timestamp: time.Now()}, secret)
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			req, err := http.NewRequestWithContext(cmd.Context(), method, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("User-Agent", "hookflow-send/"+version)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok {
					return fmt.Errorf("-H %q: want 'Name: value'", h)
				}
				req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			client := &http.Client{Timeout: timeout}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("send: %w", err)
			}
			defer resp.Body.Close()
			answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", resp.Proto, resp.Status)
			fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(string(answer)))
			if resp.StatusCode >= 300 {
				return exitError(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scheme, "scheme", "standard", "signature scheme: "+strings.Join(signature.Names(), ", "))
	f.StringVar(&secret, "secret", "", "signing secret (prefer --secret-file: a command line is visible to other users)")
	f.StringVar(&secretFile, "secret-file", "", "file holding the signing secret")
	f.StringVar(&bodyFile, "body", "", "file with the body to send, or - for standard input")
	f.StringVar(&contentType, "content-type", "application/json", "Content-Type of the body")
	f.StringVarP(&method, "method", "X", "POST", "HTTP method")
	f.StringArrayVarP(&headers, "header", "H", nil, "extra header 'Name: value' (repeatable)")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "request timeout")
	f.StringVar(&opts.Header, "hmac-header", "", "scheme hmac: header carrying the signature")
	f.StringVar(&opts.Algorithm, "hmac-algorithm", "", "scheme hmac: sha1, sha256 or sha512")
	f.StringVar(&opts.Encoding, "hmac-encoding", "", "scheme hmac: hex or base64")
	f.StringVar(&opts.Prefix, "hmac-prefix", "", "scheme hmac: prefix before the encoded signature")
	return cmd
}

// newDeliveryID makes a unique delivery id like senders do (msg_...).
func newDeliveryID() string {
	var b [12]byte
	rand.Read(b[:])
	return "msg_" + hex.EncodeToString(b[:])
}
