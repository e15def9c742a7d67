package container

import (
	"io"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/logger/jsonfile"
)

// live is what the daemon holds in memory for a container besides its
// record: the streams clients attach to, the current run (log, spec),
// the exits seen so far (for wait), the restart manager and the execs.
// It lives from the first use until the container is removed.
//
//	attach ──> streams ──(stdin pipe)──> runtime ──(stdout, stderr)──┐
//	   ^                                                             │
//	   └──────── broadcast <── outWriter ──> LineWriter ──> json-file log
type live struct {
	// op serialises the operations that change whether the container
	// runs: start, stop, restart, kill-for-removal, pause, unpause.
	op sync.Mutex

	streams *streams
	restart *restartManager

	mu       sync.Mutex
	run      *run // the run in progress, nil between runs
	exitSeq  uint64
	lastExit ExitStatus
	removed  bool
	changed  chan struct{} // closed and replaced at each exit and at removal
	execs    map[string]*execConfig
}

// run is one run of the container's program.
type run struct {
	spec   *specs.Spec
	log    *jsonfile.Writer // nil with the "none" log driver
	lines  []*jsonfile.LineWriter
	stdin  *io.PipeReader // nil without OpenStdin
	exited chan struct{}  // closed once the exit is recorded
}

func newLive() *live {
	return &live{streams: newStreams(), restart: &restartManager{}, changed: make(chan struct{}), execs: map[string]*execConfig{}}
}

// live returns the container's in-memory state, making it on first use.
func (s *Service) live(c *Container) *live {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if s.lives == nil {
		s.lives = map[string]*live{}
	}
	l, ok := s.lives[c.ID]
	if !ok {
		l = newLive()
		s.lives[c.ID] = l
	}
	return l
}

// forget drops a removed container's in-memory state and wakes the
// waiters of condition "removed".
func (s *Service) forget(c *Container) {
	s.liveMu.Lock()
	l := s.lives[c.ID]
	delete(s.lives, c.ID)
	s.liveMu.Unlock()
	if l == nil {
		return
	}
	s.dropExecs(l)
	l.mu.Lock()
	if l.exitSeq == 0 {
		l.lastExit.Code = c.State.ExitCode()
	}
	l.removed = true
	l.notifyLocked()
	l.mu.Unlock()
	l.restart.Cancel()
	l.streams.endRun()
}

func (l *live) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// currentRun returns the run in progress, or nil.
func (l *live) currentRun() *run {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.run
}

// streams are a container's standard streams as clients see them: the
// output is broadcast to every attachment; the stdin pipe outlives
// attachments (a client that attaches before start writes into it) and is
// replaced after each run.
type streams struct {
	mu      sync.Mutex
	attach  map[*attachment]struct{}
	stdinR  *io.PipeReader
	stdinW  *io.PipeWriter
	stdinMu sync.Mutex // one writer at a time into stdinW
}

func newStreams() *streams {
	s := &streams{attach: map[*attachment]struct{}{}}
	s.stdinR, s.stdinW = io.Pipe()
	return s
}

// attachment is one client receiving output until the run ends.
type attachment struct {
	stdout, stderr io.Writer // nil when not asked for
	done           chan struct{}
	once           sync.Once
}

func (a *attachment) end() { a.once.Do(func() { close(a.done) }) }

func (s *streams) add(a *attachment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attach[a] = struct{}{}
}

func (s *streams) remove(a *attachment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.attach, a)
}

// stdin returns the pipe of the next (or current) run.
func (s *streams) stdin() (*io.PipeReader, *io.PipeWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdinR, s.stdinW
}

// broadcast writes p to every attachment's stream; an attachment whose
// client is gone is ended.
func (s *streams) broadcast(p []byte, stderr bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range s.attach {
		w := a.stdout
		if stderr {
			w = a.stderr
		}
		if w == nil {
			continue
		}
		if _, err := w.Write(p); err != nil {
			delete(s.attach, a)
			a.end()
		}
	}
}

// endRun ends every attachment (their output is complete) and gives the
// next run a fresh stdin pipe.
func (s *streams) endRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range s.attach {
		a.end()
	}
	s.attach = map[*attachment]struct{}{}
	s.stdinR.CloseWithError(io.EOF)
	s.stdinW.CloseWithError(io.ErrClosedPipe)
	s.stdinR, s.stdinW = io.Pipe()
}

// outWriter is what the runtime writes a stream of the program into: a
// copy goes to the attachments, one to the log.
type outWriter struct {
	streams *streams
	stderr  bool
	log     io.Writer // a LineWriter; nil without a log
}

func (o *outWriter) Write(p []byte) (int, error) {
	if o.log != nil {
		_, _ = o.log.Write(p)
	}
	o.streams.broadcast(p, o.stderr)
	return len(p), nil
}

// stoppedByUser records that the coming exit is the user's doing (stop,
// kill with the stop signal, restart, forced removal): the restart policy
// leaves the container stopped, and a pending restart is cancelled.
func (l *live) stoppedByUser(c *Container) {
	c.Lock()
	c.ManuallyStopped = true
	c.Unlock()
	l.restart.Cancel()
}
