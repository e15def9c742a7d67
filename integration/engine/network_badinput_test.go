package engine

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestNetworkBadInput: bad network input over the raw API, each answered
// with dockerd 20.10's status and message (checked against it): invalid
// port specifications at create, an unknown network at create and
// connect, an unknown container at connect, overlapping and surplus
// subnets, and busy host ports at start (held by another program, by a
// container, a whole range, an unknown protocol).
func TestNetworkBadInput(t *testing.T) {
	d, _ := netDaemon(t)
	d.removeOnCleanup(t, "holder")
	d.docker(t, "network", "create", "--subnet", "10.231.0.0/24", "badnet")
	req := func(method, path, body string) response {
		return d.do(t, method, path, map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"PortBindings":{"99999/tcp":[{"HostPort":"80"}]}}}`, 400, `invalid port specification: \"99999\"`},
		{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"99999"}]}}}`, 400, `invalid port specification: \"99999\"`},
		{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"abc"}]}}}`, 400, `invalid port specification: \"abc\"`},
		{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"PortBindings":{"80-82/tcp":[{"HostPort":"8080"}]}}}`, 400, `invalid port specification: \"80-82\"`},
		{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"NetworkMode":"nosuchnet"},"NetworkingConfig":{"EndpointsConfig":{"nosuchnet":{}}}}`, 404, "network nosuchnet not found"},
		{"POST", "/networks/badnet/connect", `{"Container":"nosuchctr"}`, 404, "No such container: nosuchctr"},
		{"DELETE", "/networks/nosuchnet", ``, 404, "network nosuchnet not found"},
		{"POST", "/networks/create", `{"Name":"over","IPAM":{"Config":[{"Subnet":"10.231.0.128/25"}]}}`, 403, "Pool overlaps with other one on this address space"},
		{"POST", "/networks/create", `{"Name":"two","IPAM":{"Config":[{"Subnet":"10.235.0.0/24"},{"Subnet":"10.236.0.0/24"}]}}`, 403, "bridge driver doesn't support multiple subnets"},
	} {
		r := req(c.method, c.path, c.body)
		if r.Status != c.status || !strings.Contains(r.Body, `"message":"`+c.msg) {
			t.Errorf("%s %s %s: %d %s, want %d %q", c.method, c.path, c.body, r.Status, r.Body, c.status, c.msg)
		}
	}

	// Busy ports, at start (500s, as dockerd).
	other, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherPort := other.Addr().(*net.TCPAddr).Port
	held := freePortRun(t, 1)
	d.docker(t, "run", "-d", "--pull=never", "--name", "holder", "--network", "badnet", "-p", fmt.Sprintf("127.0.0.1:%d:80", held), "busybox", "sleep", "300")
	if r := req("POST", "/networks/nosuchnet/connect", `{"Container":"holder"}`); r.Status != 404 || !strings.Contains(r.Body, `"message":"network nosuchnet not found"`) {
		t.Errorf("connect to an unknown network: %d %s", r.Status, r.Body)
	}
	for i, c := range []struct {
		bindings string
		msg      string
	}{
		{fmt.Sprintf(`{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d"}]}`, otherPort),
			fmt.Sprintf("Error starting userland proxy: listen tcp4 127.0.0.1:%d: bind: address already in use", otherPort)},
		{fmt.Sprintf(`{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d"}]}`, held),
			fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", held)},
		{fmt.Sprintf(`{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d-%d"}]}`, held, held),
			fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", held)},
		{`{"80/xyz":[{"HostPort":"8080"}]}`, "invalid transport protocol: 0"},
	} {
		name := fmt.Sprintf("busy%d", i)
		d.removeOnCleanup(t, name)
		r := req("POST", "/containers/create?name="+name, `{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"badnet","PortBindings":`+c.bindings+`}}`)
		if r.Status != 201 {
			t.Fatalf("create %s: %d %s", name, r.Status, r.Body)
		}
		r = req("POST", "/containers/"+name+"/start", "")
		want := "driver failed programming external connectivity on endpoint " + name + " ("
		if r.Status != 500 || !strings.Contains(r.Body, want) || !strings.Contains(r.Body, "): "+c.msg+`"`) {
			t.Errorf("start with %s: %d %s, want 500 %q...%q", c.bindings, r.Status, r.Body, want, c.msg)
		}
	}
}
