// Package network is the engine's networking: the networks of the Engine
// API (the predefined bridge, host and none, and user-defined bridge
// networks), their addresses, and the sandboxes of running containers.
//
// A bridge network is a Linux bridge with the network's gateway address
// (the default one named "wharf0", user-defined ones "br-<id>", never
// dockerd's docker0), NAT and isolation in one nftables table of wharf's
// own (see nft_linux.go), and an IPAM pool of addresses kept in the
// database, so addresses survive restarts and are handed out in turn.
//
// A container on bridge networks runs in a network namespace made here
// (its path goes into the OCI spec, so any runtime joins it):
//
//	j, _ := svc.Join(ctx, req)    // <exec-root>/netns/<id>: lo up; per network a veth pair
//	                              // (eth0, eth1, ...) with its address and MAC, default route
//	                              // via the first network's gateway; published ports reserved
//	                              // and DNATed; on user networks a DNS server on 127.0.0.11
//	spec.Linux.Namespaces[net].Path = j.NetnsPath
//	...the container runs; svc.Connect/Disconnect add or remove endpoints live...
//	svc.Leave(ctx, id)            // DNS server stopped, ports freed, veths and netns gone,
//	                              // addresses back in their pools
//
// A container outlives the daemon that started it, and so does its
// sandbox. The next daemon's Open keeps the sandboxes it finds as stale
// ones; Rejoin makes one live again for a container the daemon adopts
// (same namespace, veths and addresses; ports, DNS server and rules made
// again), and DropStale undoes the others (rejoin.go).
//
// On disk:
//
//	<data-root>/network/local-kv.db    networks, container attachments, sandboxes (store.go)
//	<exec-root>/netns/<container id>   the bind mounts keeping sandboxes' namespaces
//
// Everything works in one namespace given by Config.NetnsPath (the
// daemon's own by default), so tests run the whole service in a namespace
// they create and leave the host alone.
package network
