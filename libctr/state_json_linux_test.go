package libctr_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
)

// plainState is libctr.State without its methods: what encoding/json
// makes of the struct tags.
type plainState libctr.State

// State's hand-written JSON is encoding/json's, byte for byte, and its
// fast reader alone reads back what it wrote (configs' tests hold Config
// and Process to the same).
func TestStateJSONMatchesEncodingJSON(t *testing.T) {
	if n := reflect.TypeFor[libctr.State]().NumField(); n != 11 {
		t.Fatalf("State has %d fields: add the new ones to its MarshalJSON and UnmarshalJSON (state_linux.go), then update this count", n)
	}
	adj, timeout := 5, 3
	cfg := configs.Config{
		Rootfs: "/r", Readonlyfs: true, Hostname: "h<&>", Namespaces: configs.Namespaces{{Type: configs.NEWPID}, {Type: configs.NEWNET, Path: "/proc/1/ns/net"}},
		Mounts:      []configs.Mount{{Source: "proc", Destination: "/proc", Device: "proc", Flags: 14, Options: []string{"nosuid"}}},
		Devices:     []configs.Device{{Type: 'c', Path: "/dev/null", Major: 1, Minor: 3, FileMode: 0o666}},
		OomScoreAdj: &adj, Cgroups: &configs.Cgroup{Path: "/wharf/x", Resources: &configs.Resources{Memory: 1 << 20, Devices: []configs.DeviceRule{{Type: 'a', Access: "rwm"}}}},
		Hooks:  configs.Hooks{Poststop: []configs.Hook{{Path: "/bin/true", Timeout: &timeout}}},
		Labels: map[string]string{"b": "2", "a": "1"}, Version: "1.0.2",
	}
	states := []libctr.State{
		{ID: "empty"},
		{
			ID: "c1", InitPid: 42, InitStartTime: 123456, Created: time.Date(2026, 12, 2, 1, 2, 3, 456, time.UTC), Config: cfg,
			Bundle: "/b", InitProcess: &configs.Process{Args: []string{"sh", "-c", "echo \"hi\"\n"}, Env: []string{"A=1"}, Cwd: "/", Capabilities: &configs.Capabilities{Bounding: []string{"CAP_KILL"}}},
			Owner: "root", MonitorPid: 7, MonitorStartTime: 99, CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/wharf/c1", "cpu": "/sys/fs/cgroup/cpu/wharf/c1"},
		},
	}
	// c1's strings need escapes ("h<&>", a quote, a newline), which the
	// fast reader leaves to encoding/json; c2 is c1 with plain strings,
	// every field still set, and must take the fast path.
	escaped := map[string]bool{"c1": true}
	c2 := states[1]
	c2.ID = "c2"
	c2.Config.Hostname = "h"
	c2.InitProcess = &configs.Process{Args: []string{"sh", "-c", "echo hi"}, Env: []string{"A=1"}, Cwd: "/", Capabilities: &configs.Capabilities{Bounding: []string{"CAP_KILL"}}}
	states = append(states, c2)
	for _, st := range states {
		got, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(plainState(st))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("State %s: MarshalJSON differs from encoding/json:\n got %s\nwant %s", st.ID, got, want)
		}
		// What MarshalJSON writes, the fast reader must take alone: one
		// that gave up would send every Factory.Load to encoding/json.
		if !escaped[st.ID] {
			var fast libctr.State
			if !libctr.DecodeStateFast(want, &fast) {
				t.Fatalf("State %s: the fast reader gave up on MarshalJSON's own output %s (a field missing from readJSON?)", st.ID, want)
			}
			if !reflect.DeepEqual(fast, st) {
				t.Fatalf("State %s: fast read %+v, want %+v", st.ID, fast, st)
			}
		}
		var back libctr.State
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatal(err)
		}
		var std plainState
		if err := json.Unmarshal(want, &std); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, libctr.State(std)) || !reflect.DeepEqual(back, st) {
			t.Fatalf("State %s: read back %+v, want %+v", st.ID, back, st)
		}
	}
	// What the fast reader leaves to encoding/json: another key spelling.
	var back libctr.State
	if err := json.Unmarshal([]byte(`{"ID":"x","init_pid":3,"extra":[1]}`), &back); err != nil || back.ID != "x" || back.InitPid != 3 {
		t.Fatalf("fallback: %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"init_pid":"3"}`), &back); err == nil {
		t.Fatal("a string pid decoded without error")
	}
}
