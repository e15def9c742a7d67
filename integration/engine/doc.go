// Package engine holds the end-to-end tests of `wharf daemon`: each test
// package run builds the wharf binary once (TestMain), starts daemons on
// temporary sockets and data roots, and drives them with real clients: the
// docker CLI (/usr/local/bin/docker, and Debian's /usr/bin/docker 20.10 when
// installed), the official Go SDK, and raw HTTP for bad input.
//
// The harness (harness_test.go) is shared by every test file here:
//
//	d := startDaemon(t)                    // running, ready, stopped at cleanup
//	out := d.docker(t, "version")          // run the docker CLI against it, fail on error
//	out, err := d.dockerErr("rmi", "x")    // ...or look at the failure yourself
//	cli := d.client(t)                     // *client.Client with API negotiation
//	resp := d.do(t, "GET", "/v1.51/info", nil, nil)  // raw HTTP over the socket
//
// Files of the image store's tests are named image_*_test.go.
package engine
