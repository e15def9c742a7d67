#!/usr/bin/env bash
# Container benchmark: `wharf daemon` against Debian's dockerd 20.10 (with
# its managed containerd and runc), side by side in one run, through the
# same docker CLI, every container on --network none:
#
#   - docker run --rm busybox true
#   - docker exec into a running container
#   - docker stop of a container that exits on SIGTERM
#   - 50 containers (docker run --rm busybox true) started in parallel
#
#   bench/container.sh                           # 20 repetitions, 3 of the parallel one
#   BENCH_REPS=5 BENCH_PAR_REPS=1 bench/container.sh   # a quicker look
#
# The daemons are started as bench/engine.sh starts them: everything under
# one temp dir, each with its own --data-root, --exec-root, -H unix:// and
# pidfile; dockerd with --bridge=none (it then deletes a docker0 link if one
# exists; wharf never uses docker0) and no iptables, so the host's network
# and any installed docker service are left alone. The busybox image is
# made here from Debian's busybox-static (bench/containerbench busybox) and
# loaded into both; nothing is pulled. The table (medians) goes to stdout,
# each repetition to stderr. Everything started is stopped and removed on
# exit. Not part of the test suite; needs root.
#
# Environment: BENCH_REPS (20), BENCH_PAR (50), BENCH_PAR_REPS (3),
# BENCH_TMPDIR (/tmp), DOCKER (/usr/local/bin/docker), DOCKERD
# (/usr/sbin/dockerd), WHARF (a wharf binary; built from the tree when unset).
set -euo pipefail
cd "$(dirname "$0")/.."

docker=${DOCKER:-/usr/local/bin/docker}
dockerd=${DOCKERD:-/usr/sbin/dockerd}
for b in "$docker" "$dockerd"; do
	[ -x "$b" ] || { echo "container.sh: $b missing" >&2; exit 1; }
done

tmp=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/wharf-cbench.XXXXXX")
pids=()
cleanup() {
	# Containers first, while their daemons still run.
	for h in w d; do
		[ -S "$tmp/$h/sock" ] || continue
		ids=$(DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/$h/sock" timeout 30 "$docker" ps -aq 2>/dev/null || true)
		[ -n "$ids" ] && DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/$h/sock" timeout 60 "$docker" rm -f $ids >/dev/null 2>&1 || true
	done
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# dockerd stops its containerd; wait for both daemons and that child.
	for p in "${pids[@]}" ${containerd_pid:-}; do
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	# dockerd may leave its overlay mounts and the data-root's own mount.
	{ grep -o " $tmp[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	for _ in 1 2 3 4 5; do rm -rf "$tmp" 2>/dev/null && break; sleep 1; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${WHARF:-}" ]; then
	cp "$WHARF" "$tmp/wharf"
else
	echo "building wharf and containerbench" >&2
	go build -o "$tmp/wharf" ./cmd/wharf
fi
go build -o "$tmp/cb" ./bench/containerbench
"$tmp/cb" busybox -out "$tmp/busybox.tar"

mkdir -p "$tmp/w" "$tmp/d"
echo '{}' >"$tmp/daemon.json"
"$tmp/wharf" daemon -H "unix://$tmp/w/sock" --data-root "$tmp/w/data" --exec-root "$tmp/w/exec" \
	--pidfile "$tmp/w/pid" --config-file "$tmp/daemon.json" >"$tmp/w/log" 2>&1 &
pids+=($!)
"$dockerd" -H "unix://$tmp/d/sock" --data-root "$tmp/d/data" --exec-root "$tmp/d/exec" \
	--pidfile "$tmp/d/pid" --config-file "$tmp/daemon.json" --bridge=none --iptables=false --ip6tables=false \
	--storage-driver=overlay2 >"$tmp/d/log" 2>&1 &
pids+=($!)
dockerd_pid=$!

export DOCKER_CONFIG=$tmp/cfg
unset DOCKER_CONTEXT
W=(env DOCKER_HOST="unix://$tmp/w/sock" "$docker")
D=(env DOCKER_HOST="unix://$tmp/d/sock" "$docker")
# wait_for WHAT CMD...: run CMD until it succeeds, at most 60 s.
wait_for() {
	local what=$1; shift
	for _ in $(seq 600); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "container.sh: $what did not come up; its log:" >&2
	cat "$tmp/${what:0:1}/log" >&2
	exit 1
}
wait_for wharf "${W[@]}" version
wait_for dockerd "${D[@]}" version
containerd_pid=$(pgrep -P "$dockerd_pid" containerd || true)

"${W[@]}" load -q -i "$tmp/busybox.tar" >&2
"${D[@]}" load -q -i "$tmp/busybox.tar" >&2

"$tmp/cb" run -docker "$docker" -reps "${BENCH_REPS:-20}" -parallel "${BENCH_PAR:-50}" \
	-parallel-reps "${BENCH_PAR_REPS:-3}" \
	-host "wharf=unix://$tmp/w/sock" -host "dockerd 20.10=unix://$tmp/d/sock"
