// Package loadgen drives HTTP load for `hookflow bench` and measures it:
// a load generator with a closed and an open model, a memory-bounded
// log-linear latency histogram, a process's CPU time and memory read
// from the kernel, and what an fsync costs on the disk (SyncCost).
//
// The closed model keeps Config.Senders requests in flight back to back:
// it finds the maximum throughput. The open model sends Config.Rate events
// per second on a fixed schedule and measures each latency from the
// event's scheduled send time, so a server stall is charged to every event
// that should have been sent during it (no coordinated omission).
//
//	res, err := loadgen.Run(ctx, loadgen.Config{
//		URL:      "http://127.0.0.1:8080/hooks/orders",
//		Senders:  64,
//		Duration: 10 * time.Second,
//		Make: func(seq uint64) (loadgen.Event, error) {
//			return loadgen.Event{Body: []byte(`{"n":` + strconv.FormatUint(seq, 10) + `}`)}, nil
//		},
//	})
//	fmt.Println(res.AckRate(), res.Latency.Quantile(0.99))
//
// Caveats: requests go over fasthttp's client (one keep-alive connection
// per sender, no retries) because it costs the least CPU, and the generator
// usually shares the machine with what it measures. Process statistics read
// /proc and work on Linux only. Histogram quantiles are the upper bound of
// a bucket no wider than 1/128 of its values (under 0.8% high, never low).
package loadgen
