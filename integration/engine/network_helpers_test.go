package engine

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/nftables"
)

// netDaemon starts a daemon with a default bridge of its own name (the
// test's, never wharf0 or docker0) and busybox loaded; its nftables table
// is then wharf-<bridge>.
func netDaemon(t *testing.T, args ...string) (*daemonProc, string) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	bridge := "wt" + hex.EncodeToString(b)
	d := startDaemonWith(t, daemonOptions{Args: append([]string{"--bridge", bridge}, args...)})
	loadBusybox(t, d)
	return d, bridge
}

// hostNetState is what a test must leave as it found it: the host's
// links with their addresses, and nftables tables.
func hostNetState(t *testing.T) string {
	t.Helper()
	var out []string
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		var as []string
		for _, a := range addrs {
			as = append(as, a.String())
		}
		sort.Strings(as)
		out = append(out, "link "+i.Name+" "+strings.Join(as, ","))
	}
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		out = append(out, "table "+tb.Name)
	}
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	out = append(out, "ip_forward "+strings.TrimSpace(string(b)))
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// ownsTable reports whether an nftables table of that name exists.
func hasTable(t *testing.T, name string) bool {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := c.ListTableOfFamily(name, nftables.TableFamilyIPv4)
	return err == nil && tb != nil
}
