package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/internal/jsonany"
)

// A run's state is stored in a compact binary form (layout 6). A state
// is written at every enqueue and every record, so its bytes are a good
// part of what each group commit writes: the JSON that layout 5 wrote took
// 340 bytes at enqueue and 740 for a finished one-step run; this form takes
// about a quarter of that. It starts with stateTag, a byte no JSON text
// starts with, so the JSON states of older files still read (decodeRun).
//
//	state   = stateTag ‖ uvarint(fields) ‖ str(workflow) ‖ status ‖ abs(created_at) ‖ rel(updated_at)
//	          ‖ varint(claims) ‖ each field of fields that is set, in the order of the bits below
//	str     = uvarint(len) ‖ bytes                      (any bytes: no escaping)
//	status  = one byte: an index in statuses, or 0 ‖ str for another
//	abs     = varint(Unix seconds) ‖ uvarint(nanoseconds)
//	rel     = varint(Unix seconds − created_at's) ‖ uvarint(nanoseconds)
//	lease   = str(owner) ‖ varint(token) ‖ 0 | 1 ‖ rel(expires_at)
//	steps   = uvarint(n) ‖ n × (uvarint(step fields) ‖ str(id) ‖ str(uses) ‖ status ‖ [json(outputs)]
//	          ‖ [uvarint(m) ‖ m × attempt] ‖ [str(error)])
//	attempt = uvarint(attempt fields) ‖ varint(number) ‖ rel(started_at) ‖ 8 bytes of duration_ms
//	          (IEEE 754, little-endian) ‖ str(outcome) ‖ [str(error)] ‖ [json(details)]
//	json    = str of the JSON of a map (appendValue)
//
// The run's id is its key and is not repeated. Times are read back in
// UTC: stored times are UTC already (utc), and a step's times are kept as
// instants. Step outputs and attempt details stay JSON, written and read
// as in layout 5, so a value reads back as it did then.
const stateTag = 0x02

// Bits of a state's fields.
const (
	stVersion uint64 = 1 << iota
	stDedupeKey
	stDedupeUntil
	stReplayOf
	stStartedAt
	stFinishedAt
	stDueAt
	stLease
	stCancel
	stSteps
	stError
)

// Bits of a step's and an attempt's optional fields.
const (
	stepOutputs uint64 = 1 << iota
	stepAttempts
	stepError
)

const (
	attemptError uint64 = 1 << iota
	attemptDetails
)

// statuses are the run and step statuses stored as one byte: the index.
var statuses = [...]string{1: string(engine.StatusQueued), string(engine.StatusRunning), string(engine.StatusRetrying),
	string(engine.StatusSucceeded), string(engine.StatusDead), string(engine.StatusCanceled),
	string(engine.StepSkipped), string(engine.StepFailed)}

// appendState appends r's state, everything but its ID and its Event, to
// b. It fails only on a step output or attempt detail that has no JSON
// form.
func appendState(b []byte, r *engine.Run) ([]byte, error) {
	fields := flag(stVersion, r.WorkflowVersion != "") | flag(stDedupeKey, r.DedupeKey != "") |
		flag(stDedupeUntil, !r.DedupeUntil.IsZero()) | flag(stReplayOf, r.ReplayOf != "") |
		flag(stStartedAt, !r.StartedAt.IsZero()) | flag(stFinishedAt, !r.FinishedAt.IsZero()) |
		flag(stDueAt, !r.DueAt.IsZero()) | flag(stLease, r.Lease != (engine.Lease{})) |
		flag(stCancel, r.CancelRequested) | flag(stSteps, len(r.Steps) > 0) | flag(stError, r.Error != "")

	base := r.CreatedAt.Unix()
	b = append(b, stateTag)
	b = binary.AppendUvarint(b, fields)
	b = appendStr(b, r.Workflow)
	b = appendStatus(b, string(r.Status))
	b = binary.AppendVarint(b, base)
	b = binary.AppendUvarint(b, uint64(r.CreatedAt.Nanosecond()))
	b = appendRel(b, r.UpdatedAt, base)
	b = binary.AppendVarint(b, int64(r.Claims))
	if fields&stVersion != 0 {
		b = appendStr(b, r.WorkflowVersion)
	}
	if fields&stDedupeKey != 0 {
		b = appendStr(b, r.DedupeKey)
	}
	if fields&stDedupeUntil != 0 {
		b = appendRel(b, r.DedupeUntil, base)
	}
	if fields&stReplayOf != 0 {
		b = appendStr(b, r.ReplayOf)
	}
	if fields&stStartedAt != 0 {
		b = appendRel(b, r.StartedAt, base)
	}
	if fields&stFinishedAt != 0 {
		b = appendRel(b, r.FinishedAt, base)
	}
	if fields&stDueAt != 0 {
		b = appendRel(b, r.DueAt, base)
	}
	if fields&stLease != 0 {
		l := &r.Lease
		b = appendStr(b, l.Owner)
		b = binary.AppendVarint(b, l.Token)
		if l.ExpiresAt.IsZero() {
			b = append(b, 0)
		} else {
			b = appendRel(append(b, 1), l.ExpiresAt, base)
		}
	}
	if fields&stSteps != 0 {
		var err error
		if b, err = appendSteps(b, r.Steps, base); err != nil {
			return nil, err
		}
	}
	if fields&stError != 0 {
		b = appendStr(b, r.Error)
	}
	return b, nil
}

func appendSteps(b []byte, steps []engine.StepRecord, base int64) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(steps)))
	for i := range steps {
		st := &steps[i]
		fields := flag(stepOutputs, len(st.Outputs) > 0) | flag(stepAttempts, len(st.Attempts) > 0) | flag(stepError, st.Error != "")
		b = binary.AppendUvarint(b, fields)
		b = appendStr(b, st.ID)
		b = appendStr(b, st.Uses)
		b = appendStatus(b, string(st.Status))
		var err error
		if fields&stepOutputs != 0 {
			if b, err = appendJSON(b, st.Outputs, st.ID, "outputs"); err != nil {
				return nil, err
			}
		}
		if fields&stepAttempts != 0 {
			b = binary.AppendUvarint(b, uint64(len(st.Attempts)))
			for j := range st.Attempts {
				if b, err = appendAttempt(b, &st.Attempts[j], base, st.ID); err != nil {
					return nil, err
				}
			}
		}
		if fields&stepError != 0 {
			b = appendStr(b, st.Error)
		}
	}
	return b, nil
}

func appendAttempt(b []byte, a *engine.Attempt, base int64, step string) ([]byte, error) {
	fields := flag(attemptError, a.Error != "") | flag(attemptDetails, len(a.Details) > 0)
	b = binary.AppendUvarint(b, fields)
	b = binary.AppendVarint(b, int64(a.Number))
	b = appendRel(b, a.StartedAt, base)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.DurationMS))
	b = appendStr(b, a.Outcome)
	if fields&attemptError != 0 {
		b = appendStr(b, a.Error)
	}
	if fields&attemptDetails != 0 {
		return appendJSON(b, a.Details, step, "attempts.details")
	}
	return b, nil
}

// flag is bit when on, else 0: a field's bit in a set of present fields.
func flag(bit uint64, on bool) uint64 {
	if on {
		return bit
	}
	return 0
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStatus(b []byte, s string) []byte {
	for i := 1; i < len(statuses); i++ {
		if statuses[i] == s {
			return append(b, byte(i))
		}
	}
	return appendStr(append(b, 0), s)
}

// appendRel appends t as seconds from base (wrapping, so any time reads
// back) and nanoseconds.
func appendRel(b []byte, t time.Time, base int64) []byte {
	b = binary.AppendVarint(b, t.Unix()-base)
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// appendJSON appends m's JSON (appendValue) with its length; an error
// names the step and the field.
func appendJSON(b []byte, m map[string]any, step, field string) ([]byte, error) {
	b, at := openSized(b)
	b, err := appendValue(b, m)
	if err != nil {
		return nil, fmt.Errorf("steps.%s.%s: %w", step, field, err)
	}
	return closeSized(b, at), nil
}

// lengthRoom holds the place of a length not known yet.
var lengthRoom [binary.MaxVarintLen64]byte

// openSized starts a part of b that its length (uvarint) will precede:
// it reserves room for the length, and returns where the room starts.
func openSized(b []byte) ([]byte, int) { return append(b, lengthRoom[:]...), len(b) }

// closeSized ends the part openSized started at at: it writes the part's
// length there and moves the part up to it.
func closeSized(b []byte, at int) []byte {
	part := b[at+len(lengthRoom):]
	head := binary.AppendUvarint(b[at:at], uint64(len(part)))
	return append(b[:at+len(head)], part...)
}

// stateSize is a close guess at the length of appendState's output for r:
// its strings, and room for the numbers and times around them.
func stateSize(r *engine.Run) int {
	n := 96 + len(r.Workflow) + len(r.WorkflowVersion) + len(r.DedupeKey) + len(r.ReplayOf) + len(r.Error) + len(r.Lease.Owner)
	for i := range r.Steps {
		st := &r.Steps[i]
		n += 160 + len(st.ID) + len(st.Uses) + len(st.Error) + 48*len(st.Attempts)
	}
	return n
}

// errState is wrapped by decodeBinaryState's errors.
var errState = errors.New("corrupt binary state")

// stateReader reads a binary state; the first error sticks.
type stateReader struct {
	b   []byte
	err error
}

func (p *stateReader) fail(what string) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s", errState, what)
	}
}

func (p *stateReader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(p.b)
	if !p.took(n, what) {
		return 0
	}
	return v
}

func (p *stateReader) varint(what string) int64 {
	v, n := binary.Varint(p.b)
	if !p.took(n, what) {
		return 0
	}
	return v
}

// took moves past the n bytes of a varint just read (n ≤ 0: none could
// be), and reports whether it did.
func (p *stateReader) took(n int, what string) bool {
	switch {
	case p.err != nil:
		return false
	case n <= 0:
		p.fail(what)
		return false
	}
	p.b = p.b[n:]
	return true
}

// bytes returns the next n bytes, or fails when fewer are left.
func (p *stateReader) bytes(n uint64, what string) []byte {
	if p.err != nil {
		return nil
	}
	if n > uint64(len(p.b)) {
		p.fail(what)
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

func (p *stateReader) str(what string) string {
	return string(p.bytes(p.uvarint(what), what))
}

func (p *stateReader) status(what string) string {
	c := p.bytes(1, what)
	switch {
	case c == nil:
		return ""
	case c[0] == 0:
		return p.str(what)
	case int(c[0]) < len(statuses):
		return statuses[c[0]]
	}
	p.fail(what)
	return ""
}

// rel reads a time appendRel wrote.
func (p *stateReader) rel(base int64, what string) time.Time {
	return p.nanos(p.varint(what)+base, what)
}

// nanos reads the nanoseconds of a time in the second sec.
func (p *stateReader) nanos(sec int64, what string) time.Time {
	nsec := p.uvarint(what)
	if nsec >= 1e9 {
		p.fail(what)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// end checks a record read to its end: fields has no bit above last,
// the highest this build knows, and no bytes are left.
func (p *stateReader) end(fields, last uint64) {
	switch {
	case p.err != nil:
	case fields >= last<<1:
		p.fail("unknown fields")
	case len(p.b) > 0:
		p.fail("trailing bytes")
	}
}

// count reads a number of elements, each at least one byte long.
func (p *stateReader) count(what string) int {
	n := p.uvarint(what)
	if n > uint64(len(p.b)) {
		p.fail(what)
		return 0
	}
	return int(n)
}

func (p *stateReader) json(depth int, what string) map[string]any {
	js := p.bytes(p.uvarint(what), what)
	if p.err != nil {
		return nil
	}
	r := jsonany.NewReader(js)
	var m map[string]any
	if readValues(r, depth, &m) && r.End() && m != nil {
		return m
	}
	m = nil
	if err := json.Unmarshal(js, &m); err != nil || m == nil {
		p.fail(what)
	}
	return m
}

// decodeBinaryState reads a state appendState wrote, for the run id.
func decodeBinaryState(id string, v []byte) (*engine.Run, error) {
	if len(v) == 0 || v[0] != stateTag {
		return nil, fmt.Errorf("%w: no tag", errState)
	}
	p := &stateReader{b: v[1:]}
	r := &engine.Run{ID: id}
	fields := p.uvarint("fields")
	r.Workflow = p.str("workflow")
	r.Status = engine.Status(p.status("status"))
	base := p.varint("created_at")
	r.CreatedAt = p.nanos(base, "created_at")
	r.UpdatedAt = p.rel(base, "updated_at")
	r.Claims = int(p.varint("claims"))
	if fields&stVersion != 0 {
		r.WorkflowVersion = p.str("workflow_version")
	}
	if fields&stDedupeKey != 0 {
		r.DedupeKey = p.str("dedupe_key")
	}
	if fields&stDedupeUntil != 0 {
		r.DedupeUntil = p.rel(base, "dedupe_until")
	}
	if fields&stReplayOf != 0 {
		r.ReplayOf = p.str("replay_of")
	}
	if fields&stStartedAt != 0 {
		r.StartedAt = p.rel(base, "started_at")
	}
	if fields&stFinishedAt != 0 {
		r.FinishedAt = p.rel(base, "finished_at")
	}
	if fields&stDueAt != 0 {
		r.DueAt = p.rel(base, "due_at")
	}
	if fields&stLease != 0 {
		r.Lease.Owner = p.str("lease.owner")
		r.Lease.Token = p.varint("lease.token")
		if e := p.bytes(1, "lease.expires_at"); e != nil && e[0] == 1 {
			r.Lease.ExpiresAt = p.rel(base, "lease.expires_at")
		} else if e != nil && e[0] != 0 {
			p.fail("lease.expires_at")
		}
	}
	r.CancelRequested = fields&stCancel != 0
	if fields&stSteps != 0 {
		r.Steps = p.steps(base)
	}
	if fields&stError != 0 {
		r.Error = p.str("error")
	}
	p.end(fields, stError)
	if p.err != nil {
		return nil, p.err
	}
	return r, nil
}

func (p *stateReader) steps(base int64) []engine.StepRecord {
	n := p.count("steps")
	if p.err != nil || n == 0 {
		p.fail("steps")
		return nil
	}
	steps := make([]engine.StepRecord, n)
	for i := range steps {
		st := &steps[i]
		fields := p.uvarint("step")
		st.ID = p.str("step.id")
		st.Uses = p.str("step.uses")
		st.Status = engine.StepStatus(p.status("step.status"))
		if fields&stepOutputs != 0 {
			st.Outputs = p.json(stepDepth, "step.outputs")
		}
		if fields&stepAttempts != 0 {
			m := p.count("step.attempts")
			if m == 0 {
				p.fail("step.attempts")
			}
			st.Attempts = make([]engine.Attempt, m)
			for j := range st.Attempts {
				p.attempt(&st.Attempts[j], base)
			}
		}
		if fields&stepError != 0 {
			st.Error = p.str("step.error")
		}
		if fields >= stepError<<1 {
			p.fail("step fields")
		}
		if p.err != nil {
			return nil
		}
	}
	return steps
}

func (p *stateReader) attempt(a *engine.Attempt, base int64) {
	fields := p.uvarint("attempt")
	a.Number = int(p.varint("attempt.number"))
	a.StartedAt = p.rel(base, "attempt.started_at")
	if d := p.bytes(8, "attempt.duration_ms"); d != nil {
		a.DurationMS = math.Float64frombits(binary.LittleEndian.Uint64(d))
	}
	a.Outcome = p.str("attempt.outcome")
	if fields&attemptError != 0 {
		a.Error = p.str("attempt.error")
	}
	if fields&attemptDetails != 0 {
		a.Details = p.json(attemptDepth, "attempt.details")
	}
	if fields >= attemptDetails<<1 {
		p.fail("attempt fields")
	}
}
