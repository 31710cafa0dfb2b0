// Command testplugin is the plugin the plugins package tests run. It
// behaves by the name it is installed under:
//
//	hookflow-plugin-*sleeper*   never completes the handshake
//	hookflow-plugin-*oldproto*  speaks go-plugin protocol version 2
//	anything else               serves the actions below
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/hookflow/hookflow/sdk"
)

type echoIn struct {
	Message string `json:"message" hookflow:"required" desc:"Text to echo back"`
	Count   int    `json:"count,omitempty"`
}

type echoOut struct {
	Message        string `json:"message"`
	Count          int    `json:"count"`
	RunID          string `json:"run_id"`
	Workflow       string `json:"workflow"`
	StepID         string `json:"step_id"`
	Attempt        int    `json:"attempt"`
	IdempotencyKey string `json:"idempotency_key"`
	HasDeadline    bool   `json:"has_deadline"`
	Pid            int    `json:"pid"`
}

type failIn struct {
	Kind    string `json:"kind" hookflow:"required" enum:"permanent,retryable,retry_after,plain"`
	Message string `json:"message"`
}

type empty struct{}

type digestIn struct {
	Text string `json:"text" hookflow:"required"`
}

type digestOut struct {
	SHA256 string `json:"sha256"`
}

type envOut struct {
	Env []string `json:"env"`
}

func main() {
	name := filepath.Base(os.Args[0])
	p := sdk.Plugin{
		Name:    "test",
		Version: "0.1.0",
		Actions: []sdk.Action{
			sdk.Typed("echo", "Echo the input and the step", echo),
			sdk.Typed("crash", "Exit the process mid-call", func(context.Context, empty) (empty, error) {
				os.Exit(1)
				return empty{}, nil
			}),
			sdk.Typed("hang", "Never answer, ignoring the deadline", func(ctx context.Context, _ empty) (empty, error) {
				sdk.Logger(ctx).Info("hanging")
				time.Sleep(time.Hour)
				return empty{}, nil
			}),
			sdk.Typed("fail", "Fail the way the input says", fail),
			sdk.Typed("panic", "Panic", func(context.Context, empty) (empty, error) {
				panic("boom")
			}),
			sdk.Typed("log", "Log through every channel", logAll),
			sdk.Typed("env", "Return the environment", func(context.Context, empty) (envOut, error) {
				env := os.Environ()
				sort.Strings(env)
				return envOut{Env: env}, nil
			}),
			sdk.Typed("digest", "sha256 of a text", func(_ context.Context, in digestIn) (digestOut, error) {
				sum := sha256.Sum256([]byte(in.Text))
				return digestOut{SHA256: hex.EncodeToString(sum[:])}, nil
			}),
		},
	}
	switch {
	case strings.Contains(name, "sleeper"):
		time.Sleep(time.Hour)
	case strings.Contains(name, "oldproto"):
		cfg, err := sdk.ServeConfig(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg.ProtocolVersion = 2
		plugin.Serve(cfg)
	default:
		sdk.Serve(p)
	}
}

func echo(ctx context.Context, in echoIn) (echoOut, error) {
	s := sdk.Step(ctx)
	_, hasDeadline := ctx.Deadline()
	return echoOut{
		Message:        in.Message,
		Count:          in.Count,
		RunID:          s.RunID,
		Workflow:       s.Workflow,
		StepID:         s.StepID,
		Attempt:        s.Attempt,
		IdempotencyKey: s.IdempotencyKey,
		HasDeadline:    hasDeadline && !s.Deadline.IsZero(),
		Pid:            os.Getpid(),
	}, nil
}

func fail(_ context.Context, in failIn) (empty, error) {
	err := errors.New(in.Message)
	switch in.Kind {
	case "permanent":
		return empty{}, sdk.Permanent(err)
	case "retryable":
		return empty{}, sdk.Retryable(err)
	case "retry_after":
		return empty{}, sdk.RetryAfter(err, 42*time.Second)
	default:
		return empty{}, err
	}
}

func logAll(ctx context.Context, _ empty) (empty, error) {
	sdk.Logger(ctx).Info("hello from the plugin", "answer", 42)
	fmt.Println("plain stdout line")
	fmt.Fprintln(os.Stderr, "plain stderr line")
	// A line that looks like go-hclog JSON but is not: the host must not
	// trust it.
	realStderr := os.NewFile(2, "stderr")
	fmt.Fprintln(realStderr, `{"@message": 5, "@level": ["x"]}`)
	sdk.Logger(ctx).Warn("log done")
	return empty{}, nil
}
