package jsonfile

import (
	"bytes"
	"sync"
	"time"
)

// MaxLine is the longest piece of a line logged as one message; a longer
// line is logged in pieces of this size (dockerd's 16 KiB).
const MaxLine = 16 << 10

// LineWriter cuts a stream of output into messages, one per line, and
// hands each to a sink (a Writer's Log, usually). Close flushes what is
// left of an unfinished last line.
type LineWriter struct {
	stream string
	sink   func(Message)

	mu  sync.Mutex
	buf []byte
}

// NewLineWriter returns a LineWriter for stream ("stdout" or "stderr").
func NewLineWriter(stream string, sink func(Message)) *LineWriter {
	return &LineWriter{stream: stream, sink: sink}
}

// Write never fails: the program's output must keep flowing even when its
// log cannot be written.
func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		switch {
		case i >= 0 && i < MaxLine:
			l.emit(l.buf[:i+1], now)
			l.buf = l.buf[i+1:]
		case len(l.buf) >= MaxLine:
			l.emit(l.buf[:MaxLine], now)
			l.buf = l.buf[MaxLine:]
		default:
			if len(l.buf) == 0 {
				l.buf = nil // let a large backing array go
			}
			return len(p), nil
		}
	}
}

func (l *LineWriter) emit(b []byte, t time.Time) {
	l.sink(Message{Line: append([]byte(nil), b...), Stream: l.stream, Time: t})
}

// Close logs an unfinished last line.
func (l *LineWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf, time.Now())
		l.buf = nil
	}
	return nil
}
