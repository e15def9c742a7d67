package engine

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
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

// footprint is what a daemon has put on the host, as far as a test can
// name it: the bridges given (its default bridge, br-<id12> of its
// networks) that exist, the links enslaved to them (container veths),
// and its nftables table. Other programs' links and tables are not
// looked at, so tests running beside it cannot disturb the comparison.
func footprint(t *testing.T, table string, bridges ...string) []string {
	t.Helper()
	var out []string
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	index := map[int]string{}
	for _, l := range links {
		index[l.Attrs().Index] = l.Attrs().Name
	}
	for _, l := range links {
		for _, b := range bridges {
			if l.Attrs().Name == b {
				out = append(out, "bridge "+b)
			}
			if m := l.Attrs().MasterIndex; m != 0 && index[m] == b {
				out = append(out, "port "+l.Attrs().Name+" of "+b)
			}
		}
	}
	if hasTable(t, table) {
		out = append(out, "table "+table)
	}
	sort.Strings(out)
	return out
}

// ipForward is the host's net.ipv4.ip_forward.
func ipForward(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// hasTable reports whether an nftables table of that name exists.
func hasTable(t *testing.T, name string) bool {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := c.ListTableOfFamily(name, nftables.TableFamilyIPv4)
	return err == nil && tb != nil
}
