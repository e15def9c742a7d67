// Package jsonfile is dockerd's json-file log driver: one JSON object per
// line of container output, in a file next to the container's record,
// rotated by size.
//
//	<data-root>/containers/<id>/
//	├── <id>-json.log      the live file, appended to
//	├── <id>-json.log.1    the previous one (max-file=3 keeps .1 and .2)
//	└── <id>-json.log.2
//
// Each line is
//
//	{"log":"hello\n","stream":"stdout","time":"2025-01-02T03:04:05.123456789Z"}
//
// where "log" is one line of output with its newline, or a piece of a line
// longer than MaxLine (or the last bytes before the stream ended) without
// one. A Writer is opened for each run of a container and closed when the
// run ends; Read serves `docker logs`, and with Follow it takes new lines
// straight from the Writer, so nothing is read twice or missed however
// files rotate meanwhile.
package jsonfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	units "github.com/docker/go-units"
)

// Message is one log entry.
type Message struct {
	Line   []byte    // the bytes, with their trailing newline unless partial
	Stream string    // "stdout" or "stderr"
	Time   time.Time // when the daemon received it
}

type entry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

// Options are the json-file --log-opt values the driver honours.
type Options struct {
	MaxSize  int64 // bytes per file before rotating; 0 means never rotate
	MaxFiles int   // files kept, the live one included (at least 1)
}

// ParseOptions reads --log-opt max-size and max-file with dockerd's rules
// and messages. Other keys dockerd's json-file accepts (labels, env,
// compress, tag...) are accepted and ignored.
func ParseOptions(opts map[string]string) (Options, error) {
	o := Options{MaxFiles: 1}
	for k := range opts {
		switch k {
		case "max-size", "max-file", "labels", "labels-regex", "env", "env-regex", "tag", "compress", "mode", "max-buffer-size":
		default:
			return o, fmt.Errorf("unknown log opt '%s' for json-file log driver", k)
		}
	}
	if v, ok := opts["max-size"]; ok && v != "" {
		n, err := units.RAMInBytes(v)
		if err != nil {
			return o, err
		}
		o.MaxSize = n
	}
	if v, ok := opts["max-file"]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return o, err
		}
		if n < 1 {
			return o, fmt.Errorf("max-file cannot be less than 1")
		}
		if o.MaxSize <= 0 {
			return o, fmt.Errorf("max-file cannot be set without max-size")
		}
		o.MaxFiles = n
	}
	if o.MaxSize < 0 {
		o.MaxSize = 0
	}
	return o, nil
}

// Writer appends a container's output to its log file.
type Writer struct {
	path string
	opts Options

	mu        sync.Mutex
	f         *os.File
	size      int64
	closed    bool
	followers map[*follower]struct{}
	buf       bytes.Buffer
}

// Open opens (appending) or creates the log file at path.
func Open(path string, opts Options) (*Writer, error) {
	if opts.MaxFiles < 1 {
		opts.MaxFiles = 1
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{path: path, opts: opts, f: f, size: fi.Size(), followers: map[*follower]struct{}{}}, nil
}

// Log writes one message and hands it to the followers.
func (w *Writer) Log(m Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return os.ErrClosed
	}
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entry{Log: string(m.Line), Stream: m.Stream, Time: m.Time.UTC().Format(time.RFC3339Nano)}); err != nil {
		return err
	}
	if w.opts.MaxSize > 0 && w.size > 0 && w.size+int64(w.buf.Len()) > w.opts.MaxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(w.buf.Bytes())
	w.size += int64(n)
	for f := range w.followers {
		f.push(m)
	}
	return err
}

// rotate shifts <path>.N-2 to <path>.N-1, ..., <path> to <path>.1 and
// starts an empty live file; with MaxFiles 1 the live file is truncated.
func (w *Writer) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	if w.opts.MaxFiles > 1 {
		for i := w.opts.MaxFiles - 1; i > 1; i-- {
			_ = os.Rename(w.path+"."+strconv.Itoa(i-1), w.path+"."+strconv.Itoa(i))
		}
		if err := os.Rename(w.path, w.path+".1"); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	w.f, w.size = f, 0
	return nil
}

// Close closes the file and ends every follow.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	for f := range w.followers {
		f.close()
	}
	w.followers = nil
	return w.f.Close()
}

// follower is the queue of messages a follow has yet to send.
type follower struct {
	mu     sync.Mutex
	q      []Message
	closed bool
	wake   chan struct{} // one pending wake-up
}

func newFollower() *follower { return &follower{wake: make(chan struct{}, 1)} }

func (f *follower) push(m Message) {
	f.mu.Lock()
	f.q = append(f.q, m)
	f.mu.Unlock()
	f.signal()
}

func (f *follower) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.signal()
}

func (f *follower) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// take returns the queued messages, and whether the writer has closed.
func (f *follower) take() ([]Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.q
	f.q = nil
	return q, f.closed
}

func (w *Writer) unfollow(f *follower) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.followers, f)
}
