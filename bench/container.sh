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
# The daemons are started by bench/lib.sh (as for bench/engine.sh):
# everything under one temp dir, each with its own --data-root,
# --exec-root, -H unix:// and pidfile; dockerd with --bridge=none (it then
# deletes a docker0 link if one exists; wharf never uses docker0) and no
# iptables, so the host's network and any installed docker service are
# left alone. The busybox image is
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

. bench/lib.sh
bench_init cbench
bench_need "$docker" "$dockerd"
bench_wharf
go build -o "$tmp/cb" ./bench/containerbench
"$tmp/cb" busybox -out "$tmp/busybox.tar"
bench_start_daemons

"${W[@]}" load -q -i "$tmp/busybox.tar" >&2
"${D[@]}" load -q -i "$tmp/busybox.tar" >&2

"$tmp/cb" run -docker "$docker" -reps "${BENCH_REPS:-20}" -parallel "${BENCH_PAR:-50}" \
	-parallel-reps "${BENCH_PAR_REPS:-3}" \
	-host "wharf=unix://$tmp/w/sock" -host "dockerd 20.10=unix://$tmp/d/sock"
