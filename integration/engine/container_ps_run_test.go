package engine

import (
	"regexp"
	"strings"
	"testing"
)

// ps and container prune once containers have run: running, paused,
// exited with 0, 3 and 137, and never started. Every expectation was
// checked against Debian's dockerd 20.10 with the same commands.
func TestContainerPsAndPruneAfterRuns(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "up", "three", "zero", "frozen", "fresh", "killed")
	id := map[string]string{}
	run := func(name string, args ...string) {
		t.Helper()
		d.docker(t, runArgs(append([]string{"--name", name}, args...)...)...)
		id[name] = d.inspectField(t, name, "{{.Id}}")
	}
	// In creation order (ps lists the newest first).
	run("up", "-d", "busybox", "sleep", "1000")
	if _, code := d.dockerCode(t, nil, runArgs("--name", "three", "busybox", "sh", "-c", "exit 3")...); code != 3 {
		t.Fatalf("three exited %d", code)
	}
	id["three"] = d.inspectField(t, "three", "{{.Id}}")
	run("zero", "busybox", "true")
	run("frozen", "-d", "busybox", "sleep", "1000")
	d.docker(t, "pause", "frozen")
	id["fresh"] = strings.TrimSpace(d.docker(t, "create", "--pull=never", "--network", "none", "--name", "fresh", "busybox", "true"))
	run("killed", "-d", "busybox", "sleep", "1000")
	d.docker(t, "kill", "killed")

	ps := func(args ...string) string {
		t.Helper()
		return strings.Join(strings.Fields(d.docker(t, append([]string{"ps", "--format", "{{.Names}}"}, args...)...)), " ")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "frozen up"}, // running, paused included
		{[]string{"-a"}, "killed fresh frozen zero three up"},
		{[]string{"--filter", "status=running"}, "up"},
		{[]string{"--filter", "status=paused"}, "frozen"},
		{[]string{"--filter", "status=running", "--filter", "status=paused"}, "frozen up"},
		{[]string{"--filter", "status=exited"}, "killed zero three"}, // a status filter implies -a
		{[]string{"--filter", "status=created"}, "fresh"},
		{[]string{"-a", "--filter", "exited=0"}, "zero"}, // never started is not exited 0
		{[]string{"-a", "--filter", "exited=3"}, "three"},
		{[]string{"-a", "--filter", "exited=137"}, "killed"},
		{[]string{"-a", "--filter", "exited=0", "--filter", "exited=3"}, "zero three"},
		{[]string{"-a", "--filter", "exited=3", "--filter", "status=exited"}, "three"},
		{[]string{"--filter", "exited=3"}, ""}, // without -a only running ones are candidates
		{[]string{"-a", "--filter", "since=three"}, "killed fresh frozen zero"},
		{[]string{"-a", "--filter", "before=frozen", "--filter", "status=exited"}, "zero three"},
		{[]string{"--filter", "ancestor=busybox"}, "frozen up"},
		{[]string{"-a", "--filter", "status=running", "--filter", "name=frozen"}, ""},
		{[]string{"-a", "--filter", "id=" + id["three"][:12]}, "three"},
		{[]string{"-l"}, "killed"},
	} {
		if got := ps(tc.args...); got != tc.want {
			t.Errorf("ps %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	// Status and State columns.
	status := map[string]*regexp.Regexp{
		"up":     regexp.MustCompile(`^Up .+\|running$`),
		"frozen": regexp.MustCompile(`^Up .+ \(Paused\)\|paused$`),
		"three":  regexp.MustCompile(`^Exited \(3\) .+ ago\|exited$`),
		"zero":   regexp.MustCompile(`^Exited \(0\) .+ ago\|exited$`),
		"killed": regexp.MustCompile(`^Exited \(137\) .+ ago\|exited$`),
		"fresh":  regexp.MustCompile(`^Created\|created$`),
	}
	for _, l := range nonEmptyLines(d.docker(t, "ps", "-a", "--format", "{{.Names}}|{{.Status}}|{{.State}}")) {
		name, rest, _ := strings.Cut(l, "|")
		if re := status[name]; re == nil || !re.MatchString(rest) {
			t.Errorf("ps status of %s: %q", name, rest)
		}
	}

	// prune with until: only containers created up to then (zero was
	// created after three, before frozen), and never running or paused ones.
	until := d.inspectField(t, "zero", "{{.Created}}")
	out := d.docker(t, "container", "prune", "-f", "--filter", "until="+until)
	if !strings.Contains(out, id["three"]) || !strings.Contains(out, id["zero"]) || strings.Contains(out, id["up"]) ||
		strings.Contains(out, id["killed"]) || !strings.Contains(out, "Total reclaimed space:") {
		t.Fatalf("prune until %s:\n%s", until, out)
	}
	if got := ps("-a"); got != "killed fresh frozen up" {
		t.Fatalf("after prune until: %q", got)
	}
	out = d.docker(t, "container", "prune", "-f")
	if !strings.Contains(out, id["killed"]) || !strings.Contains(out, id["fresh"]) || strings.Contains(out, id["frozen"]) || strings.Contains(out, id["up"]) {
		t.Fatalf("prune:\n%s", out)
	}
	if got := ps("-a"); got != "frozen up" {
		t.Fatalf("after prune: %q", got)
	}
	// The pruned containers are gone for good, the others still work.
	if out, code := d.dockerCode(t, nil, "inspect", "--type", "container", "three"); code == 0 || !strings.Contains(out, "No such container: three") {
		t.Fatalf("inspect a pruned container: exit %d %s", code, out)
	}
	d.docker(t, "unpause", "frozen")
	if out := d.docker(t, "exec", "frozen", "echo", "alive"); out != "alive\n" {
		t.Fatalf("exec after prune: %q", out)
	}
	r := d.do(t, "POST", "/v1.51/containers/prune", nil, nil)
	if r.Status != 200 || !strings.Contains(r.Body, `"SpaceReclaimed":0`) {
		t.Fatalf("prune with nothing to prune: %d %s", r.Status, r.Body)
	}
}
