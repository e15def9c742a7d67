package distribution

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/docker/go-units"
)

// Message is one line of dockerd's JSON progress stream (the shape the
// docker CLI's jsonmessage package reads).
type Message struct {
	Stream         string           `json:"stream,omitempty"`
	Status         string           `json:"status,omitempty"`
	ProgressDetail *ProgressDetail  `json:"progressDetail,omitempty"`
	Progress       string           `json:"progress,omitempty"`
	ID             string           `json:"id,omitempty"`
	ErrorDetail    *ErrorDetail     `json:"errorDetail,omitempty"`
	Error          string           `json:"error,omitempty"`
	Aux            *json.RawMessage `json:"aux,omitempty"`
}

// ProgressDetail is the numeric part of a progress bar.
type ProgressDetail struct {
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

// ErrorDetail carries an error inside the stream.
type ErrorDetail struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message"`
}

// Progress writes Messages to a stream, one JSON object per line. A nil
// *Progress discards everything, so callers need not check.
type Progress struct {
	mu  sync.Mutex
	enc *json.Encoder
	f   interface{ Flush() }
}

// NewProgress writes to w (flushing after each message if w can).
func NewProgress(w io.Writer) *Progress {
	p := &Progress{enc: json.NewEncoder(w)}
	p.f, _ = w.(interface{ Flush() })
	return p
}

// Send writes m.
func (p *Progress) Send(m Message) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.enc.Encode(m)
	if p.f != nil {
		p.f.Flush()
	}
}

// Status writes a status line, tied to id when id is set.
func (p *Progress) Status(id, format string, args ...any) {
	p.Send(Message{ID: id, Status: fmt.Sprintf(format, args...), ProgressDetail: &ProgressDetail{}})
}

// Bar writes a progress bar line ("Downloading", "Pushing", ...).
func (p *Progress) Bar(id, status string, current, total int64) {
	p.Send(Message{ID: id, Status: status, ProgressDetail: &ProgressDetail{Current: current, Total: total}, Progress: bar(current, total)})
}

// Error writes err as the stream's final error.
func (p *Progress) Error(err error) {
	p.Send(Message{ErrorDetail: &ErrorDetail{Message: err.Error()}, Error: err.Error()})
}

// Aux writes an auxiliary object (push results).
func (p *Progress) Aux(v any) {
	b, _ := json.Marshal(v)
	raw := json.RawMessage(b)
	p.Send(Message{Aux: &raw})
}

// bar renders "[=====>     ]  1.2MB/3.4MB" like dockerd.
func bar(current, total int64) string {
	if total <= 0 {
		return units.HumanSize(float64(current))
	}
	const width = 50
	n := int(float64(width) * float64(current) / float64(total))
	if n > width {
		n = width
	}
	arrow := strings.Repeat("=", n)
	if n < width {
		arrow += ">" + strings.Repeat(" ", width-n-1)
	}
	return fmt.Sprintf("[%s] %8s/%s", arrow, units.HumanSize(float64(current)), units.HumanSize(float64(total)))
}
