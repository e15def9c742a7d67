// Command netbench measures a daemon's networking through the docker CLI
// (bench/network.sh starts the daemons, one after the other, and calls it
// once per daemon and turn, then once more for the table):
//
//	netbench measure -docker /usr/local/bin/docker -host unix:///tmp/x/w/sock \
//	    -name wharf -out w.json        # appends this turn's samples to w.json
//	netbench table -target "run<=0.333" w.json d.json
//
// The workloads, with the busybox image already loaded, on the daemon's
// default bridge:
//
//	run          docker run --rm busybox true (wall time of the CLI)
//	throughput   a busybox httpd in a container serving a file of -size MiB
//	             from a tmpfs, published on 127.0.0.1 (-p 127.0.0.1::8080),
//	             fetched -fetches times by a Go HTTP client on the host (1 MiB
//	             reads, nothing kept): MB/s of each whole transfer
//
// Nothing leaves the machine: the only address used is 127.0.0.1.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: netbench measure|table ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "measure":
		err = measure(os.Args[2:])
	case "table":
		err = table(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netbench:", err)
		os.Exit(1)
	}
}
