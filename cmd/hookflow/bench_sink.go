package main

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// benchSink receives the deliveries of the --webhook step and counts them.
type benchSink struct {
	app        *fiber.App
	ln         net.Listener
	done       chan error
	deliveries atomic.Uint64
}

func startSink() (*benchSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: webhook sink: %w", err)
	}
	s := &benchSink{ln: ln, done: make(chan error, 1)}
	// The daemon's HTTP client keeps connections to the sink open; a short
	// idle timeout lets Shutdown close them.
	s.app = fiber.New(fiber.Config{DisableStartupMessage: true, IdleTimeout: time.Second})
	s.app.Post("/sink", func(c *fiber.Ctx) error {
		s.deliveries.Add(1)
		return c.SendStatus(fiber.StatusNoContent)
	})
	go func() { s.done <- s.app.Listener(ln) }()
	return s, nil
}

// URL is where the webhook step delivers.
func (s *benchSink) URL() string { return "http://" + s.ln.Addr().String() + "/sink" }

func (s *benchSink) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := s.app.ShutdownWithContext(ctx)
	<-s.done
	return err
}
