package container

import (
	"strings"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
)

func TestProbeCommand(t *testing.T) {
	for _, tc := range []struct {
		test  []string
		shell []string
		want  string
	}{
		{nil, nil, ""},
		{[]string{"NONE"}, nil, ""},
		{[]string{"CMD"}, nil, ""},
		{[]string{"CMD", "curl", "-f", "x"}, nil, "curl|-f|x"},
		{[]string{"CMD-SHELL", "exit 1"}, nil, "/bin/sh|-c|exit 1"},
		{[]string{"CMD-SHELL", "exit 1"}, []string{"/bin/bash", "-ec"}, "/bin/bash|-ec|exit 1"},
	} {
		c := &Container{Config: &containertypes.Config{Shell: tc.shell}}
		if tc.test != nil {
			c.Config.Healthcheck = &containertypes.HealthConfig{Test: tc.test}
		}
		if got := strings.Join(probeCommand(c), "|"); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.test, got, tc.want)
		}
	}
}

func TestLimitedBuffer(t *testing.T) {
	var b limitedBuffer
	chunk := strings.Repeat("x", 3000)
	for i := 0; i < 3; i++ {
		if n, err := b.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("write: %d %v", n, err)
		}
	}
	if len(b.String()) != maxProbeOutput {
		t.Fatalf("kept %d bytes, want %d", len(b.String()), maxProbeOutput)
	}
}
