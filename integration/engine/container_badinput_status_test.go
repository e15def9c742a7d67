package engine

import (
	"strings"
	"testing"
)

// Bad input for containers with dockerd's status codes and whole
// messages, on the raw API and through the CLI (exit codes 125 for a
// refused `docker run`, 1 for the other commands): unknown image, name
// conflict, invalid mounts, unknown container for every route that takes
// one, exec into a container that does not run. TestContainerBadInput
// checks more messages through the CLI.
//
// The messages are dockerd's current ones, which the API versions wharf
// serves (1.50 and up) come with; dockerd 20.10 differs in a few: it says
// "Container ... is not running" and answers 500 for an invalid -v spec.
func TestContainerBadInputStatus(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "bi-run", "bi-exited", "bi-created")
	runID := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "bi-run", "busybox", "sleep", "1000")...))
	d.docker(t, runArgs("--name", "bi-exited", "busybox", "true")...)
	exitedID := d.inspectField(t, "bi-exited", "{{.Id}}")
	createdID := strings.TrimSpace(d.docker(t, "create", "--pull=never", "--network", "none", "--name", "bi-created", "busybox", "true"))

	create := func(hostConfig string) string {
		return `{"Image":"busybox","Cmd":["true"],"HostConfig":` + hostConfig + `}`
	}
	notRunning := func(id string) string { return "container " + id + " is not running" }
	cases := []struct {
		method, path, body string
		status             int
		msg                string
	}{
		// Unknown image, name conflict.
		{"POST", "/containers/create", `{"Image":"nosuch"}`, 404, "No such image: nosuch:latest"},
		{"POST", "/containers/create", `{"Image":"nosuch:v9"}`, 404, "No such image: nosuch:v9"},
		{"POST", "/containers/create?name=bi-run", `{"Image":"busybox"}`, 409, `Conflict. The container name "/bi-run" is already in use by container "` + runID + `". You have to remove (or rename) that container to be able to reuse that name.`},
		// Invalid mounts.
		{"POST", "/containers/create", create(`{"Binds":["/tmp:relative"]}`), 400, `invalid volume specification: '/tmp:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute`},
		{"POST", "/containers/create", create(`{"Binds":["/tmp:/x:bogus"]}`), 400, "invalid mode: bogus"},
		{"POST", "/containers/create", create(`{"Binds":["/tmp:/"]}`), 400, `invalid volume specification: '/tmp:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{"POST", "/containers/create", create(`{"Binds":["/tmp:/x","/var:/x"]}`), 400, "Duplicate mount point: /x"},
		{"POST", "/containers/create", create(`{"Mounts":[{"Type":"bind","Source":"/nonexistent-wharf","Target":"/x"}]}`), 400, `invalid mount config for type "bind": bind source path does not exist: /nonexistent-wharf`},
		{"POST", "/containers/create", create(`{"Mounts":[{"Type":"bind","Target":"/x"}]}`), 400, `invalid mount config for type "bind": field Source must not be empty`},
		{"POST", "/containers/create", create(`{"Mounts":[{"Type":"bogus","Target":"/x"}]}`), 400, `invalid mount config for type "bogus": mount type unknown`},
		{"POST", "/containers/create", create(`{"Mounts":[{"Type":"tmpfs","Source":"/x","Target":"/y"}]}`), 400, `invalid mount config for type "tmpfs": field Source must not be specified`},
		{"POST", "/containers/create", create(`{"Mounts":[{"Type":"volume","Target":"relative"}]}`), 400, `invalid mount config for type "volume": invalid mount path: 'relative' mount path must be absolute`},
		{"POST", "/containers/create", create(`{"Mounts":[{"Type":"volume","Source":"/abs","Target":"/x"}]}`), 400, `create /abs: "/abs" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
		// Exec into containers that do not run, or into nothing.
		{"POST", "/containers/bi-exited/exec", `{"Cmd":["true"]}`, 409, notRunning(exitedID)},
		{"POST", "/containers/bi-created/exec", `{"Cmd":["true"]}`, 409, notRunning(createdID)},
		{"POST", "/containers/nosuch/exec", `{"Cmd":["true"]}`, 404, "No such container: nosuch"},
		{"POST", "/containers/bi-run/exec", `{"Cmd":[]}`, 400, "No exec command specified"},
		{"POST", "/exec/nosuch/start", `{"Detach":true}`, 404, "No such exec instance: nosuch"},
		{"GET", "/exec/nosuch/json", "", 404, "No such exec instance: nosuch"},
		{"POST", "/exec/nosuch/resize?h=10&w=10", "", 404, "No such exec instance: nosuch"},
		// Other operations that need a running container.
		{"GET", "/containers/bi-exited/top", "", 409, notRunning(exitedID)},
		{"POST", "/containers/bi-exited/resize?h=10&w=10", "", 409, notRunning(exitedID)},
		{"DELETE", "/containers/bi-run", "", 409, `cannot remove container "bi-run": container is running: stop the container before removing or force remove`},
		{"POST", "/containers/bi-run/start", "", 304, ""},
		{"POST", "/containers/bi-exited/stop", "", 304, ""},
	}
	// Every route that names a container: 404 for one that does not exist.
	for _, r := range []struct{ method, path string }{
		{"GET", "/json"}, {"POST", "/start"}, {"POST", "/stop"}, {"POST", "/restart"}, {"POST", "/pause"},
		{"POST", "/unpause"}, {"POST", "/wait"}, {"GET", "/logs?stdout=1"}, {"GET", "/top"}, {"GET", "/changes"},
		{"GET", "/export"}, {"GET", "/archive?path=/"}, {"HEAD", "/archive?path=/"}, {"POST", "/rename?name=x2"},
		{"POST", "/update"}, {"POST", "/resize?h=1&w=1"}, {"GET", "/stats?stream=0"}, {"DELETE", ""},
	} {
		cases = append(cases, struct {
			method, path, body string
			status             int
			msg                string
		}{r.method, "/containers/nosuch" + r.path, "{}", 404, "No such container: nosuch"})
	}
	cases = append(cases, struct {
		method, path, body string
		status             int
		msg                string
	}{"POST", "/commit?container=nosuch&repo=x", "{}", 404, "No such container: nosuch"})

	for _, tc := range cases {
		r := d.do(t, tc.method, "/v1.51"+tc.path, map[string]string{"Content-Type": "application/json"}, strings.NewReader(tc.body))
		want := ""
		if tc.msg != "" && tc.method != "HEAD" {
			want = `{"message":"` + strings.ReplaceAll(tc.msg, `"`, `\"`) + "\"}\n"
		}
		if r.Status != tc.status || r.Body != want {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, r.Status, r.Body, tc.status, want)
		}
	}
	// Refused creates leave nothing behind.
	if got := strings.Join(strings.Fields(d.docker(t, "ps", "-aq", "--no-trunc")), ","); got != createdID+","+exitedID+","+runID {
		t.Errorf("containers after the refused creates: %s", got)
	}

	// The CLI: `docker run` exits 125 when the daemon refuses, with the
	// daemon's message; other commands exit 1.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{runArgs("nosuch"), 125, "docker: Error response from daemon: No such image: nosuch:latest"},
		{runArgs("--name", "bi-run", "busybox", "true"), 125, `docker: Error response from daemon: Conflict. The container name "/bi-run" is already in use`},
		{runArgs("-v", "/tmp:relative", "busybox", "true"), 125, "docker: Error response from daemon: invalid volume specification: '/tmp:relative'"},
		{runArgs("--mount", "type=bind,source=/nonexistent-wharf,target=/x", "busybox", "true"), 125, "docker: Error response from daemon: invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-wharf"},
		{[]string{"exec", "bi-exited", "true"}, 1, "Error response from daemon: " + notRunning(exitedID)},
		{[]string{"exec", "nosuch", "true"}, 1, "Error response from daemon: No such container: nosuch"},
		{[]string{"start", "nosuch"}, 1, "Error response from daemon: No such container: nosuch"},
		{[]string{"rm", "bi-run"}, 1, `Error response from daemon: cannot remove container "bi-run": container is running`},
	} {
		out, code := d.dockerCode(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("docker %s: exit %d %q, want %d %q", strings.Join(tc.args, " "), code, out, tc.code, tc.want)
		}
	}
	// The refused ones changed nothing.
	if got := d.inspectField(t, "bi-run", "{{.State.Status}}"); got != "running" {
		t.Errorf("bi-run is %s", got)
	}
}
