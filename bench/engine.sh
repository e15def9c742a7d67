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
# The daemons are started by bench/lib.sh, as for bench/container.sh.
#
# Environment: BENCH_MB (200), BENCH_LAYERS (5), BENCH_REPS (5),
# BENCH_TMPDIR (/tmp), DOCKER (/usr/local/bin/docker), DOCKERD
# (/usr/sbin/dockerd), DIST_BIN (/usr/bin/docker-registry), WHARF (a wharf
# binary; built from the tree when unset).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
mb=${BENCH_MB:-200}
layers=${BENCH_LAYERS:-5}
reps=${BENCH_REPS:-5}
dist_bin=${DIST_BIN:-/usr/bin/docker-registry}
bench_init ebench
bench_need "$docker" "$dockerd" "$dist_bin"

bench_wharf
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

wait_for registry curl -sf "http://$reg/v2/"

echo "making a ${mb} MiB image in $layers layers" >&2
"$eb" gen -mb "$mb" -layers "$layers" -out "$tmp/image.tar" -push "http://$reg" -repo bench/big -tag v1
ref=$reg/bench/big:v1

bench_start_daemons

# Idle memory: after both have settled.
sleep 5
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
