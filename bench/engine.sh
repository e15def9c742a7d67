#!/usr/bin/env bash
# Engine benchmark: `wharf daemon` against Debian's dockerd 20.10 (with its
# managed containerd), side by side in one run:
#
#   - pull + unpack of a multi-layer image (~200 MiB) from a local registry
#   - `docker load` of the same image from a docker-save tar
#   - each daemon's idle resident memory (dockerd + containerd summed)
#
#   bench/engine.sh                  # 200 MiB in 5 layers, 5 repetitions
#   BENCH_MB=64 BENCH_REPS=3 bench/engine.sh   # a quicker look
#
# Everything runs under one temp dir on loopback: Debian's docker-registry
# (never the system service), wharf with --data-root/--exec-root/-H there,
# and dockerd with its own --data-root, --exec-root, -H unix://, no bridge
# and no iptables, so the host's network and any installed docker service
# are left alone. Before each measurement the image is removed from the
# daemon (and pruned) and the page cache is flushed with sync. The table
# (medians) goes to stdout, each repetition to stderr. Everything started is
# stopped and removed on exit. Not part of the test suite; needs root.
#
# Environment: BENCH_MB (200), BENCH_LAYERS (5), BENCH_REPS (5),
# BENCH_TMPDIR (/tmp), DOCKER (/usr/local/bin/docker), DOCKERD
# (/usr/sbin/dockerd), DIST_BIN (/usr/bin/docker-registry).
set -euo pipefail
cd "$(dirname "$0")/.."

mb=${BENCH_MB:-200}
layers=${BENCH_LAYERS:-5}
reps=${BENCH_REPS:-5}
docker=${DOCKER:-/usr/local/bin/docker}
dockerd=${DOCKERD:-/usr/sbin/dockerd}
dist_bin=${DIST_BIN:-/usr/bin/docker-registry}
for b in "$docker" "$dockerd" "$dist_bin"; do
	[ -x "$b" ] || { echo "engine.sh: $b missing" >&2; exit 1; }
done

tmp=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/wharf-ebench.XXXXXX")
pids=()
children=() # started by dockerd (its containerd): waited for, not signalled
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}" "${children[@]}"; do
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	# dockerd may leave its overlay mounts and the data-root's own mount.
	{ grep -o " $tmp[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	for _ in 1 2 3 4 5; do rm -rf "$tmp" 2>/dev/null && break; sleep 1; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building wharf and enginebench" >&2
go build -o "$tmp/wharf" ./cmd/wharf
go build -o "$tmp/eb" ./bench/enginebench
eb=$tmp/eb

port=$("$eb" freeport)
reg=127.0.0.1:$port
cat >"$tmp/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $tmp/registry
http:
  addr: $reg
YML
"$dist_bin" serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
pids+=($!)

# wait_for WHAT CMD...: run CMD until it succeeds, at most 60 s.
wait_for() {
	local what=$1; shift
	for _ in $(seq 600); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "engine.sh: $what did not come up" >&2
	exit 1
}
wait_for registry curl -sf "http://$reg/v2/"

echo "making a ${mb} MiB image in $layers layers" >&2
"$eb" gen -mb "$mb" -layers "$layers" -out "$tmp/image.tar" -push "http://$reg" -repo bench/big -tag v1
ref=$reg/bench/big:v1

mkdir -p "$tmp/w" "$tmp/d"
echo '{}' >"$tmp/daemon.json"
"$tmp/wharf" daemon -H "unix://$tmp/w/sock" --data-root "$tmp/w/data" --exec-root "$tmp/w/exec" \
	--pidfile "$tmp/w/pid" --config-file "$tmp/daemon.json" >"$tmp/w/log" 2>&1 &
pids+=($!)
wharf_pid=$!
"$dockerd" -H "unix://$tmp/d/sock" --data-root "$tmp/d/data" --exec-root "$tmp/d/exec" \
	--pidfile "$tmp/d/pid" --config-file "$tmp/daemon.json" --bridge=none --iptables=false --ip6tables=false \
	--storage-driver=overlay2 >"$tmp/d/log" 2>&1 &
pids+=($!)
dockerd_pid=$!

W=(env -u DOCKER_CONTEXT DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/w/sock" "$docker")
D=(env -u DOCKER_CONTEXT DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/d/sock" "$docker")
wait_for wharf "${W[@]}" version
wait_for dockerd "${D[@]}" version

# Idle memory: after both have settled.
sleep 5
containerd_pid=$(pgrep -P "$dockerd_pid" containerd || true)
[ -n "$containerd_pid" ] && children+=("$containerd_pid")
rss_w=$("$eb" rss "$wharf_pid")
rss_dd=$("$eb" rss "$dockerd_pid")
rss_c=0
[ -n "$containerd_pid" ] && rss_c=$("$eb" rss "$containerd_pid")

now() { date +%s.%N; }
# measure CLI CMD...: remove the image through the CLI array named CLI,
# flush, time CMD; prints seconds.
measure() {
	local -n cli=$1
	shift
	"${cli[@]}" rmi -f "$ref" >/dev/null 2>&1 || true
	"${cli[@]}" image prune -af >/dev/null 2>&1 || true
	sync
	local t0 t1
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }

: >"$tmp/pull_w"; : >"$tmp/pull_d"; : >"$tmp/load_w"; : >"$tmp/load_d"
for i in $(seq "$reps"); do
	pw=$(measure W "${W[@]}" pull -q "$ref")
	pd=$(measure D "${D[@]}" pull -q "$ref")
	lw=$(measure W "${W[@]}" load -q -i "$tmp/image.tar")
	ld=$(measure D "${D[@]}" load -q -i "$tmp/image.tar")
	echo "rep $i: pull wharf ${pw}s dockerd ${pd}s; load wharf ${lw}s dockerd ${ld}s" >&2
	echo "$pw" >>"$tmp/pull_w"; echo "$pd" >>"$tmp/pull_d"
	echo "$lw" >>"$tmp/load_w"; echo "$ld" >>"$tmp/load_d"
done

pw=$(median <"$tmp/pull_w"); pd=$(median <"$tmp/pull_d")
lw=$(median <"$tmp/load_w"); ld=$(median <"$tmp/load_d")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<TABLE
| workload (${mb} MiB, ${layers} layers, median of ${reps}) | wharf | dockerd 20.10 | wharf / dockerd |
|---|---|---|---|
| pull + unpack from a local registry | ${pw} s | ${pd} s | $(ratio "$pw" "$pd") |
| docker load of the same image | ${lw} s | ${ld} s | $(ratio "$lw" "$ld") |
| idle RSS | $((rss_w / 1024)) MiB | $((rss_dd / 1024)) + $((rss_c / 1024)) MiB (dockerd + containerd) | $(ratio "$rss_w" "$((rss_dd + rss_c))") |
TABLE
