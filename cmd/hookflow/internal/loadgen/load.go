package loadgen

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Event is one request to send: the generator numbers events from 0 and
// asks for each one's body and headers.
type Event struct {
	Body   []byte
	Header map[string]string
}

// Config describes one load.
type Config struct {
	// URL is where events are POSTed: http or https.
	URL string
	// Senders is how many requests may be in flight at once, each on its
	// own keep-alive connection. Closed model: this many senders send
	// back to back. Open model: the pool that sends on schedule; when all
	// are busy, later events start late and their latency shows it.
	Senders int
	// Rate is the open model's arrival rate in events per second; 0 selects
	// the closed model (as fast as the senders go).
	Rate float64
	// Duration is how long events are started for; the requests in flight
	// at the end are still awaited.
	Duration time.Duration
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
	// ContentType of every request; default application/json.
	ContentType string
	// Make builds event seq. It is called concurrently and must be cheap:
	// it runs on the measured path's CPU.
	Make func(seq uint64) (Event, error)
	// Answer, when set, sees every answer: status and body (valid only
	// during the call). It is called concurrently.
	Answer func(seq uint64, status int, body []byte)
	// Progress, when set, is called about every ProgressEvery with the
	// counts so far.
	Progress      func(p Progress)
	ProgressEvery time.Duration // default 1s
	// Seq is the number of the first event; a second load on the same
	// target continues the numbering so event ids stay unique.
	Seq uint64
}

// Progress is a live view of a load.
type Progress struct {
	Elapsed time.Duration
	Sent    uint64
	Acked   uint64 // 2xx answers
	Failed  uint64 // other answers and transport errors
}

// Result is what a load measured.
type Result struct {
	Model   string  // closed or open
	Senders int     //
	Rate    float64 // open model: the target rate
	Elapsed time.Duration
	Sent    uint64
	Acked   uint64            // 2xx answers
	Status  map[int]uint64    // answers by HTTP status
	Errors  map[string]uint64 // transport errors by kind
	NextSeq uint64            // the first event number not used
	// Latency holds 2xx answers' latency: from the send (closed model) or
	// from the scheduled send (open model) to the answer.
	Latency  *Histogram
	Behind   time.Duration // open model: the largest lateness of a send
	FirstErr string        // the first transport error's text, for diagnosis
}

// AckRate is acknowledged events per second over the whole load.
func (r *Result) AckRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Acked) / r.Elapsed.Seconds()
}

// Run sends the load described by cfg and returns what it measured. It
// returns an error only for a bad Config or when Make fails; transport
// errors and non-2xx answers are counted in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("loadgen: url %q: want http://host[:port]/path or https://...", cfg.URL)
	}
	switch {
	case cfg.Senders < 1:
		return nil, fmt.Errorf("loadgen: Senders must be at least 1, got %d", cfg.Senders)
	case cfg.Rate < 0:
		return nil, fmt.Errorf("loadgen: Rate must not be negative, got %g", cfg.Rate)
	case cfg.Duration <= 0:
		return nil, fmt.Errorf("loadgen: Duration must be positive, got %s", cfg.Duration)
	case cfg.Make == nil:
		return nil, errors.New("loadgen: Make is required")
	}
	timeout := cmp.Or(cfg.Timeout, 10*time.Second)
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	client := &fasthttp.HostClient{
		Addr:                     addr,
		Name:                     "hookflow-bench",
		IsTLS:                    u.Scheme == "https",
		MaxConns:                 cfg.Senders,
		MaxConnWaitTimeout:       timeout,
		ReadTimeout:              timeout,
		WriteTimeout:             timeout,
		MaxIdleConnDuration:      time.Minute,
		DisablePathNormalizing:   true,
		NoDefaultUserAgentHeader: true,
	}
	if client.IsTLS {
		client.TLSConfig = &tls.Config{ServerName: u.Hostname()}
	}
	defer client.CloseIdleConnections()

	l := &load{
		cfg:         cfg,
		client:      client,
		uri:         cfg.URL,
		contentType: cmp.Or(cfg.ContentType, "application/json"),
		res: &Result{
			Model: "closed", Senders: cfg.Senders, Rate: cfg.Rate,
			Status: map[int]uint64{}, Errors: map[string]uint64{},
			Latency: &Histogram{},
		},
	}
	if cfg.Rate > 0 {
		l.res.Model = "open"
		l.interval = float64(time.Second) / cfg.Rate
	}
	l.seq.Store(cfg.Seq)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.start = time.Now()
	l.end = l.start.Add(cfg.Duration)

	stopProgress := l.progress(ctx)
	var wg sync.WaitGroup
	errc := make(chan error, cfg.Senders)
	for i := 0; i < cfg.Senders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.sender(ctx); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	stopProgress()
	l.res.Elapsed = time.Since(l.start)
	l.res.NextSeq = l.seq.Load() // numbers taken but not sent at the end are skipped
	select {
	case err := <-errc:
		return l.res, err
	default:
	}
	return l.res, nil
}

type load struct {
	cfg         Config
	client      *fasthttp.HostClient
	uri         string
	contentType string
	start, end  time.Time
	interval    float64 // open model: nanoseconds between scheduled sends

	seq                 atomic.Uint64
	sent, acked, failed atomic.Uint64
	behind              atomic.Int64 // open model: the largest lateness of a send
	mu                  sync.Mutex   // guards res's maps and FirstErr
	res                 *Result
}

// sender sends events until the load ends.
func (l *load) sender(ctx context.Context) error {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	status := map[int]uint64{}
	errs := map[string]uint64{}
	defer l.mergeCounts(status, errs)

	for ctx.Err() == nil {
		seq := l.seq.Add(1) - 1
		var begin time.Time
		if l.interval > 0 {
			begin = l.start.Add(time.Duration(float64(seq-l.cfg.Seq) * l.interval))
			if !begin.Before(l.end) {
				return nil
			}
			if wait := time.Until(begin); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
			} else {
				for late := int64(-wait); ; {
					cur := l.behind.Load()
					if cur >= late || l.behind.CompareAndSwap(cur, late) {
						break
					}
				}
			}
		} else {
			begin = time.Now()
			if !begin.Before(l.end) {
				return nil
			}
		}
		ev, err := l.cfg.Make(seq)
		if err != nil {
			return fmt.Errorf("loadgen: make event %d: %w", seq, err)
		}
		req.Reset()
		req.SetRequestURI(l.uri)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType(l.contentType)
		for k, v := range ev.Header {
			req.Header.Set(k, v)
		}
		req.SetBodyRaw(ev.Body)
		resp.Reset()
		l.sent.Add(1)
		err = l.client.Do(req, resp)
		took := time.Since(begin)
		if err != nil {
			l.failed.Add(1)
			kind := errorKind(err)
			errs[kind]++
			if errs[kind] == 1 {
				l.mu.Lock()
				if l.res.FirstErr == "" {
					l.res.FirstErr = err.Error()
				}
				l.mu.Unlock()
			}
			continue
		}
		code := resp.StatusCode()
		status[code]++
		if code >= 200 && code < 300 {
			l.acked.Add(1)
			l.res.Latency.Record(took)
		} else {
			l.failed.Add(1)
		}
		if l.cfg.Answer != nil {
			l.cfg.Answer(seq, code, resp.Body())
		}
	}
	return nil
}

func (l *load) mergeCounts(status map[int]uint64, errs map[string]uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, v := range status {
		l.res.Status[k] += v
	}
	for k, v := range errs {
		l.res.Errors[k] += v
	}
	l.res.Sent = l.sent.Load()
	l.res.Acked = l.acked.Load()
	l.res.Behind = time.Duration(l.behind.Load())
}

// progress reports counts every ProgressEvery until the returned func is
// called.
func (l *load) progress(ctx context.Context) (stop func()) {
	if l.cfg.Progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(cmp.Or(l.cfg.ProgressEvery, time.Second))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.cfg.Progress(Progress{Elapsed: time.Since(l.start), Sent: l.sent.Load(), Acked: l.acked.Load(), Failed: l.failed.Load()})
			}
		}
	}()
	return func() { cancel(); <-done }
}

// errorKind names a transport error for the report.
func errorKind(err error) string {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		return "timeout"
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return "no_free_connection"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, fasthttp.ErrConnectionClosed),
		errors.Is(err, syscall.EPIPE):
		return "connection_closed"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "other"
}
