package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, fixed at
// 100 in the Linux user-space ABI.
const userHZ = 100

// CPU is a process's CPU time so far.
type CPU struct {
	User, System time.Duration
}

// Total is user plus system time.
func (c CPU) Total() time.Duration { return c.User + c.System }

// Sub returns the CPU used between o and c.
func (c CPU) Sub(o CPU) CPU { return CPU{User: c.User - o.User, System: c.System - o.System} }

// ReadCPU returns the CPU time used by process pid; 0 is this process (read
// with getrusage, microsecond resolution; /proc/PID/stat counts in 10 ms
// ticks).
func ReadCPU(pid int) (CPU, error) {
	if pid == 0 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return CPU{}, fmt.Errorf("getrusage: %w", err)
		}
		return CPU{User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano())}, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return CPU{}, fmt.Errorf("read cpu of process %d: %w", pid, err)
	}
	return parseStat(b)
}

// parseStat reads utime and stime (fields 14 and 15) from /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces, so
// fields are counted after its closing parenthesis.
func parseStat(b []byte) (CPU, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return CPU{}, errors.New("parse /proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 13 {
		return CPU{}, fmt.Errorf("parse /proc stat: %d fields after the command name, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return CPU{}, fmt.Errorf("parse /proc stat: %w", err)
	}
	tick := time.Second / userHZ
	return CPU{User: time.Duration(ut) * tick, System: time.Duration(st) * tick}, nil
}

// Memory is a process's memory use, in bytes, from /proc/PID/status.
type Memory struct {
	Peak uint64 // VmHWM: peak resident set
	RSS  uint64 // VmRSS: resident now
	Anon uint64 // RssAnon: resident anonymous memory (heap, stacks), not file mappings
	File uint64 // RssFile: resident file mappings (a bbolt store's mmap)
}

// ReadMemory returns the memory use of process pid; 0 is this process.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return Memory{}, fmt.Errorf("read memory of process %s: %w", procName(pid), err)
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (Memory, error) {
	var m Memory
	fields := map[string]*uint64{"VmHWM": &m.Peak, "VmRSS": &m.RSS, "RssAnon": &m.Anon, "RssFile": &m.File}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return Memory{}, fmt.Errorf("parse /proc status: %s: unexpected %q", name, strings.TrimSpace(rest))
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("parse /proc status: %s: %w", name, err)
		}
		*dst = v << 10
		found++
	}
	if found != len(fields) {
		return Memory{}, fmt.Errorf("parse /proc status: found %d of VmHWM, VmRSS, RssAnon, RssFile", found)
	}
	return m, nil
}

// ResetPeak resets process pid's peak resident set (VmHWM) to its current
// size, so a later ReadMemory reports the peak of what came after. It needs
// the right to write /proc/PID/clear_refs (the process itself has it).
func ResetPeak(pid int) error {
	if err := os.WriteFile(procPath(pid, "clear_refs"), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak memory of process %s: %w", procName(pid), err)
	}
	return nil
}

func procPath(pid int, file string) string { return "/proc/" + procName(pid) + "/" + file }

func procName(pid int) string {
	if pid == 0 {
		return "self"
	}
	return strconv.Itoa(pid)
}

// IO is what a process wrote to storage so far, from /proc/PID/io.
type IO struct {
	// WriteBytes is what the process caused to be sent to the storage
	// layer (page cache write-back of its writes, e.g. a bbolt commit).
	WriteBytes uint64
}

// Sub returns the IO done between o and i.
func (i IO) Sub(o IO) IO { return IO{WriteBytes: i.WriteBytes - o.WriteBytes} }

// ReadIO returns the storage IO of process pid; 0 is this process.
func ReadIO(pid int) (IO, error) {
	b, err := os.ReadFile(procPath(pid, "io"))
	if err != nil {
		return IO{}, fmt.Errorf("read io of process %s: %w", procName(pid), err)
	}
	return parseIO(b)
}

func parseIO(b []byte) (IO, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "write_bytes" {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
		if err != nil {
			return IO{}, fmt.Errorf("parse /proc io: write_bytes: %w", err)
		}
		return IO{WriteBytes: v}, nil
	}
	return IO{}, errors.New("parse /proc io: no write_bytes")
}
