package jsonfile

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"time"
)

// ReadOptions select what Read sends, as `docker logs` asks.
type ReadOptions struct {
	Since, Until time.Time // zero: no bound; Since keeps messages at or after it
	Tail         int       // the last Tail messages only; negative means all
	Follow       bool      // after the files, wait for new messages until the writer closes
}

// Read sends the log's messages at path to fn, oldest first: the rotated
// files (<path>.N ... <path>.1), then the live one. w is the writer of the
// run in progress, if any: the files are opened and the follow registered
// under its lock, so that a rotation meanwhile changes nothing and every
// message is sent once. Read ends when ctx does, when fn fails, after the
// files without Follow (or without a writer), or when w closes.
func Read(ctx context.Context, path string, w *Writer, o ReadOptions, fn func(Message) error) error {
	var (
		files  []io.Reader
		closes []*os.File
		fol    *follower
	)
	defer func() {
		for _, f := range closes {
			f.Close()
		}
	}()
	open := func() {
		for i := 1; ; i++ {
			f, err := os.Open(path + "." + strconv.Itoa(i))
			if err != nil {
				break
			}
			closes = append(closes, f)
			files = append([]io.Reader{f}, files...)
		}
		if f, err := os.Open(path); err == nil {
			closes = append(closes, f)
			var r io.Reader = f
			if w != nil {
				r = io.LimitReader(f, w.size) // what was written before the follow began
			}
			files = append(files, r)
		}
	}
	if w != nil {
		w.mu.Lock()
		open()
		if o.Follow && !w.closed {
			fol = newFollower()
			w.followers[fol] = struct{}{}
		}
		w.mu.Unlock()
		if fol != nil {
			defer w.unfollow(fol)
		}
	} else {
		open()
	}

	done := false // an Until bound was passed
	keep := func(m Message) bool {
		if !o.Until.IsZero() && m.Time.After(o.Until) {
			done = true
			return false
		}
		return o.Since.IsZero() || !m.Time.Before(o.Since)
	}
	var tail []Message
	for _, r := range files {
		err := scan(r, func(m Message) error {
			if done || !keep(m) {
				return nil
			}
			if o.Tail < 0 {
				return fn(m)
			}
			if o.Tail > 0 {
				if len(tail) == o.Tail {
					tail = tail[1:]
				}
				tail = append(tail, m)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, m := range tail {
		if err := fn(m); err != nil {
			return err
		}
	}
	if fol == nil || done {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fol.wake:
		}
		msgs, closed := fol.take()
		for _, m := range msgs {
			if !keep(m) {
				if done {
					return nil
				}
				continue
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		if closed {
			return nil
		}
	}
}

// scan decodes one file's lines; a line that is not a log entry (a torn
// last line after a crash) is skipped.
func scan(r io.Reader, fn func(Message) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var e entry
			if json.Unmarshal(line, &e) == nil {
				t, _ := time.Parse(time.RFC3339Nano, e.Time)
				if ferr := fn(Message{Line: []byte(e.Log), Stream: e.Stream, Time: t}); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
