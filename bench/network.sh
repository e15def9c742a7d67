#!/usr/bin/env bash
# Network benchmark: `wharf daemon` against Debian's dockerd 20.10, each on
# its default bridge, through the same docker CLI (bench/netbench):
#
#   - docker run --rm busybox true on the default bridge
#   - TCP throughput from the host to a published port: busybox httpd
#     serving a file from a tmpfs on -p 127.0.0.1::8080, fetched by a Go
#     client (1 MiB reads, nothing kept)
#
#   bench/network.sh                       # 3 turns of 10 runs and 5 fetches each
#   BENCH_TURNS=1 BENCH_REPS=5 bench/network.sh   # a quicker look
#
# The two daemons run one after the other, never at once, in turns
# (wharf, dockerd, then dockerd, wharf, ...), so load on the shared machine
# weighs on both alike. Each gets a bridge of its own name, so nothing of
# the host's (docker0, a dev wharf0) is touched:
#
#   wharf    --bridge nb-wharf0: made by wharf at the first run, removed with
#            its nftables table (wharf-nb-wharf0) when it stops
#   dockerd  --bridge nb-docker0: made here with a free /24 before dockerd
#            starts, deleted here; --iptables=false --ip6tables=false
#            --ip-forward=false, so dockerd publishes ports with its default
#            userland proxy (docker-proxy) and leaves iptables, the FORWARD
#            policy, br_netfilter and ip_forward alone. (With iptables on it
#            would still proxy 127.0.0.1 in userland; its FORWARD DROP policy
#            would also cut the bridged traffic of any wharf running beside it.)
#
# Daemons are started as bench/lib.sh starts them (everything under one
# temp dir, own --data-root, --exec-root, -H unix:// and pidfile); the
# busybox image is made from Debian's busybox-static (bench/containerbench
# busybox) and loaded; nothing is pulled, and nothing is sent anywhere but
# 127.0.0.1. The table (medians, ratio, target) goes to stdout, samples to
# stderr. At exit (also on failure) containers, daemons, the bridge and the
# temp dir go; the host's links, iptables rules and ip_forward are compared
# with what they were and any difference is reported. Needs root.
#
# Environment: BENCH_TURNS (3), BENCH_REPS (10), BENCH_FETCHES (5),
# BENCH_SIZE (256, MiB), BENCH_TMPDIR, DOCKER, DOCKERD, WHARF (see lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
bench_init nbench
bench_need "$docker" "$dockerd"
wbridge=nb-wharf0
dbridge=nb-docker0

host_state() {
	ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	iptables-save -t nat 2>/dev/null | grep -v '^#' | sed 's/\[[0-9:]*\]//' || true
	iptables-save -t filter 2>/dev/null | grep -v '^#' | sed 's/\[[0-9:]*\]//' || true
	echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
}
host_state >"$tmp/host.before"

net_cleanup() {
	bench_cleanup_daemon
	ip link del "$dbridge" 2>/dev/null || true
	host_state >"$tmp/host.after" 2>/dev/null || true
	if ! diff -u "$tmp/host.before" "$tmp/host.after" >&2; then
		echo "network.sh: the host's network state changed (above); other programs may have changed it meanwhile" >&2
	fi
	bench_cleanup
}
trap net_cleanup EXIT

if ip link show "$dbridge" >/dev/null 2>&1 || ip link show "$wbridge" >/dev/null 2>&1; then
	echo "network.sh: $dbridge or $wbridge exists already (another run?)" >&2
	exit 1
fi

bench_wharf
go build -o "$tmp/cb" ./bench/containerbench
go build -o "$tmp/nb" ./bench/netbench
"$tmp/cb" busybox -out "$tmp/busybox.tar"
mkdir -p "$tmp/w" "$tmp/d"
echo '{}' >"$tmp/daemon.json"
export DOCKER_CONFIG=$tmp/cfg
unset DOCKER_CONTEXT
W=(env -u DOCKER_CONTEXT DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/w/sock" "$docker")
D=(env -u DOCKER_CONTEXT DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/d/sock" "$docker")

# free_24: a /24 no route of the host covers more specifically than the
# default route, for dockerd's bridge.
free_24() {
	local c
	for c in 172.31.252 172.31.251 10.219.37 10.219.38 192.168.251; do
		if ! ip -4 route get "$c.1" 2>/dev/null | grep -q " dev " || ip -4 route get "$c.1" | grep -q " via "; then
			if ! ip -4 addr | grep -q "inet $c\."; then
				echo "$c"
				return 0
			fi
		fi
	done
	return 1
}

daemon_pid=
daemon_sock=
# bench_cleanup_daemon: SIGTERM the running daemon and wait for it (and for
# dockerd's containerd).
bench_cleanup_daemon() {
	[ -n "$daemon_pid" ] || return 0
	if [ -S "$daemon_sock" ]; then
		ids=$(DOCKER_HOST="unix://$daemon_sock" timeout 30 "$docker" ps -aq 2>/dev/null || true)
		[ -n "$ids" ] && DOCKER_HOST="unix://$daemon_sock" timeout 60 "$docker" rm -f $ids >/dev/null 2>&1 || true
	fi
	kill "$daemon_pid" 2>/dev/null || true
	for p in "$daemon_pid" $containerd_pid; do
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	daemon_pid= containerd_pid=
}

start_wharf() {
	"$tmp/wharf" daemon -H "unix://$tmp/w/sock" --data-root "$tmp/w/data" --exec-root "$tmp/w/exec" \
		--pidfile "$tmp/w/pid" --config-file "$tmp/daemon.json" --bridge "$wbridge" >>"$tmp/w/log" 2>&1 &
	daemon_pid=$! daemon_sock=$tmp/w/sock
	pids+=($!)
	wait_for wharf "${W[@]}" version
}

start_dockerd() {
	if ! ip link show "$dbridge" >/dev/null 2>&1; then
		local net
		net=$(free_24) || { echo "network.sh: no free /24 for $dbridge" >&2; exit 1; }
		ip link add "$dbridge" type bridge
		ip addr add "$net.1/24" dev "$dbridge"
		ip link set "$dbridge" up
	fi
	"$dockerd" -H "unix://$tmp/d/sock" --data-root "$tmp/d/data" --exec-root "$tmp/d/exec" \
		--pidfile "$tmp/d/pid" --config-file "$tmp/daemon.json" --bridge "$dbridge" \
		--iptables=false --ip6tables=false --ip-forward=false \
		--storage-driver=overlay2 >>"$tmp/d/log" 2>&1 &
	daemon_pid=$! daemon_sock=$tmp/d/sock
	pids+=($!)
	wait_for dockerd "${D[@]}" version
	containerd_pid=$(pgrep -P "$daemon_pid" containerd || true)
}

measure() { # NAME FILE SOCKET
	local cli=(env -u DOCKER_CONTEXT DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$3" "$docker")
	"${cli[@]}" image inspect busybox >/dev/null 2>&1 || "${cli[@]}" load -q -i "$tmp/busybox.tar" >&2
	"$tmp/nb" measure -docker "$docker" -host "unix://$3" -name "$1" -out "$2" \
		-reps "${BENCH_REPS:-10}" -fetches "${BENCH_FETCHES:-5}" -size "${BENCH_SIZE:-256}"
}

turn_wharf() {
	start_wharf
	measure wharf "$tmp/w.json" "$tmp/w/sock"
	bench_cleanup_daemon
	if ip link show "$wbridge" >/dev/null 2>&1; then
		echo "network.sh: wharf left its bridge $wbridge" >&2
		exit 1
	fi
}

turn_dockerd() {
	start_dockerd
	measure "dockerd 20.10" "$tmp/d.json" "$tmp/d/sock"
	bench_cleanup_daemon
}

for t in $(seq "${BENCH_TURNS:-3}"); do
	if [ $((t % 2)) = 1 ]; then
		turn_wharf
		turn_dockerd
	else
		turn_dockerd
		turn_wharf
	fi
done
"$tmp/nb" table "$tmp/w.json" "$tmp/d.json"
