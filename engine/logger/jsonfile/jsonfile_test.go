package jsonfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func collect(t *testing.T, path string, w *Writer, o ReadOptions) []string {
	t.Helper()
	var out []string
	err := Read(context.Background(), path, w, o, func(m Message) error {
		out = append(out, m.Stream+":"+string(m.Line))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteReadTailSinceUntil(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 5; i++ {
		stream := "stdout"
		if i%2 == 1 {
			stream = "stderr"
		}
		if err := w.Log(Message{Line: []byte(fmt.Sprintf("line %d <&>\n", i)), Stream: stream, Time: base.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	first := strings.SplitN(string(b), "\n", 2)[0]
	if first != `{"log":"line 0 <&>\n","stream":"stdout","time":"2025-01-02T03:04:05Z"}` {
		t.Fatalf("file line %s", first)
	}
	if got := collect(t, path, nil, ReadOptions{Tail: -1}); len(got) != 5 || got[1] != "stderr:line 1 <&>\n" {
		t.Fatalf("all: %q", got)
	}
	if got := collect(t, path, nil, ReadOptions{Tail: 2}); strings.Join(got, "") != "stderr:line 3 <&>\nstdout:line 4 <&>\n" {
		t.Fatalf("tail: %q", got)
	}
	if got := collect(t, path, nil, ReadOptions{Tail: 0}); len(got) != 0 {
		t.Fatalf("tail 0: %q", got)
	}
	got := collect(t, path, nil, ReadOptions{Tail: -1, Since: base.Add(2 * time.Second), Until: base.Add(3 * time.Second)})
	if strings.Join(got, "") != "stdout:line 2 <&>\nstderr:line 3 <&>\n" {
		t.Fatalf("since/until: %q", got)
	}
}

func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := Open(path, Options{MaxSize: 200, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if err := w.Log(Message{Line: []byte(fmt.Sprintf("%02d\n", i)), Stream: "stdout", Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for _, p := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Size() > 200 {
			t.Fatalf("%s: %v %v", p, fi, err)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Fatal("more files than max-file")
	}
	got := collect(t, path, nil, ReadOptions{Tail: -1})
	if len(got) == 0 || got[len(got)-1] != "stdout:39\n" {
		t.Fatalf("after rotation: %q", got)
	}
	for i := 1; i < len(got); i++ { // in order, none missing from what is kept
		var a, b int
		fmt.Sscanf(got[i-1], "stdout:%d", &a)
		fmt.Sscanf(got[i], "stdout:%d", &b)
		if b != a+1 {
			t.Fatalf("gap: %q", got)
		}
	}
}

func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := Open(path, Options{MaxSize: 300, MaxFiles: 5})
	if err != nil {
		t.Fatal(err)
	}
	log := func(i int) {
		if err := w.Log(Message{Line: []byte(fmt.Sprintf("%03d\n", i)), Stream: "stdout", Time: time.Now()}); err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < 3; i++ {
		log(i)
	}
	var mu sync.Mutex
	var got []string
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Read(context.Background(), path, w, ReadOptions{Tail: -1, Follow: true}, func(m Message) error {
			mu.Lock()
			got = append(got, string(m.Line))
			n := len(got)
			mu.Unlock()
			if n == 3 {
				close(started)
			}
			return nil
		})
	}()
	<-started
	for i := 3; i < 30; i++ { // rotates several times while followed
		log(i)
	}
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 30 {
		t.Fatalf("followed %d messages: %q", len(got), got)
	}
	for i, l := range got {
		if l != fmt.Sprintf("%03d\n", i) {
			t.Fatalf("message %d is %q", i, l)
		}
	}
}

func TestFollowEndsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Read(ctx, path, w, ReadOptions{Tail: -1, Follow: true}, func(Message) error { return nil }); err != context.Canceled {
		t.Fatalf("read: %v", err)
	}
	if len(w.followers) != 0 {
		t.Fatal("follower left registered")
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	l := NewLineWriter("stderr", func(m Message) { got = append(got, m.Stream+":"+string(m.Line)) })
	l.Write([]byte("a\nb"))
	l.Write([]byte("c\n\nd"))
	long := strings.Repeat("x", MaxLine+10)
	l.Write([]byte(long))
	l.Close()
	want := []string{"stderr:a\n", "stderr:bc\n", "stderr:\n", "stderr:d" + long[:MaxLine-1], "stderr:" + long[MaxLine-1:]}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %d pieces %q", len(got), got)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{"max-size": "1k", "max-file": "3"})
	if err != nil || o.MaxSize != 1024 || o.MaxFiles != 3 {
		t.Fatalf("%+v %v", o, err)
	}
	for opts, msg := range map[string]string{
		"bogus=1":                "unknown log opt 'bogus' for json-file log driver",
		"max-file=2":             "max-file cannot be set without max-size",
		"max-size=1k,max-file=0": "max-file cannot be less than 1",
	} {
		m := map[string]string{}
		for _, kv := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		if _, err := ParseOptions(m); err == nil || err.Error() != msg {
			t.Errorf("%s: %v, want %q", opts, err, msg)
		}
	}
}
