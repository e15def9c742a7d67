package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// runcState's hand-written JSON, and what `state` prints, are what
// encoding/json makes of its tags.
func TestRuncStateJSON(t *testing.T) {
	type plain runcState // the struct without its MarshalJSON
	for _, s := range []runcState{
		{},
		{Version: "1.0.2", ID: "web", Pid: 42, Status: "running", Bundle: "/b<&>", Rootfs: "/r\n\"x\"", Created: time.Date(2026, 12, 2, 1, 2, 3, 4, time.FixedZone("x", 3600)),
			Annotations: map[string]string{"z": "1", "a": "ü"}, Owner: "root"},
	} {
		got, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(plain(s))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("MarshalJSON\n got %s\nwant %s", got, want)
		}
		var out bytes.Buffer
		if err := printJSON(&out, s); err != nil {
			t.Fatal(err)
		}
		indented, _ := json.MarshalIndent(plain(s), "", "  ")
		if out.String() != string(indented)+"\n" {
			t.Errorf("printJSON\n got %s\nwant %s", out.String(), indented)
		}
	}
}
