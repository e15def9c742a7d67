#!/usr/bin/env bash
# Registry benchmark: wharf against Debian's docker-registry (distribution
# 2.8.2), side by side in one run, plus the machine's ceiling for a push.
#
#   bench/registry.sh                 # full run (512 MiB blob, 200 images, 5 s windows; ~5 min)
#   BENCH_QUICK=1 bench/registry.sh   # quick check (64 MiB, 50 images, 2 s windows)
#   BENCH_PROFILE=DIR bench/registry.sh   # then CPU-profile each workload on each server into DIR
#
# It builds wharf and bench/regbench into a temp dir, starts on loopback
# `wharf registry serve`, `docker-registry serve` (never the system service)
# and `regbench ceiling` (a trivial PUT-to-file+sha256 server), each with a
# fresh data dir under one temp dir so all write to the same filesystem,
# runs every workload against each and prints one table on stdout (progress
# and per-repetition numbers go to stderr). Everything it started is
# stopped and removed on exit. Not part of the test suite.
#
# Environment: DIST_BIN (default /usr/bin/docker-registry), BENCH_TMPDIR
# (default /tmp), BENCH_QUICK, BENCH_PROFILE, BENCH_ARGS (extra regbench
# run flags, e.g. "-reps 5 -window 10s").
set -euo pipefail
cd "$(dirname "$0")/.."

dist_bin=${DIST_BIN:-/usr/bin/docker-registry}
[ -x "$dist_bin" ] || { echo "registry.sh: $dist_bin missing (apt-get install -y docker-registry)" >&2; exit 1; }

tmp=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/wharf-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building wharf and regbench" >&2
go build -o "$tmp/wharf" ./cmd/wharf
go build -o "$tmp/regbench" ./bench/regbench
rb=$tmp/regbench

read -r port_w port_d port_c dbg_w dbg_d < <("$rb" freeport 5)

# write_config FILE PORT DEBUGPORT DATADIR: the same config for both
# servers: quiet logs (no access log), the in-memory blob descriptor cache
# registry:2 ships with, deletes on.
write_config() {
	cat >"$1" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $4
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
EOF
	if [ -n "${BENCH_PROFILE:-}" ]; then
		printf '  debug:\n    addr: 127.0.0.1:%s\n' "$3" >>"$1"
	fi
}
write_config "$tmp/wharf.yml" "$port_w" "$dbg_w" "$tmp/data-wharf"
write_config "$tmp/dist.yml" "$port_d" "$dbg_d" "$tmp/data-dist"

"$tmp/wharf" registry serve "$tmp/wharf.yml" >"$tmp/wharf.log" 2>&1 &
pid_w=$!
pids+=("$pid_w")
"$dist_bin" serve "$tmp/dist.yml" >"$tmp/dist.log" 2>&1 &
pid_d=$!
pids+=("$pid_d")
"$rb" ceiling -addr "127.0.0.1:$port_c" -dir "$tmp/data-ceiling" 2>"$tmp/ceiling.log" &
pid_c=$!
pids+=("$pid_c")

dist_version=$("$dist_bin" --version 2>/dev/null | awk '{print $NF}')
args=(-dist "http://127.0.0.1:$port_d" -dist-pid "$pid_d" -dist-data "$tmp/data-dist" -dist-version "$dist_version"
	-wharf "http://127.0.0.1:$port_w" -wharf-pid "$pid_w" -wharf-data "$tmp/data-wharf"
	-ceiling "http://127.0.0.1:$port_c" -ceiling-pid "$pid_c")
[ "${BENCH_QUICK:-0}" != 0 ] && args+=(-quick)
if [ -n "${BENCH_PROFILE:-}" ]; then
	mkdir -p "$BENCH_PROFILE"
	args+=(-profile "$BENCH_PROFILE" -wharf-pprof "http://127.0.0.1:$dbg_w" -dist-pprof "http://127.0.0.1:$dbg_d")
fi
# shellcheck disable=SC2206 # BENCH_ARGS is split on purpose
args+=(${BENCH_ARGS:-})

status=0
"$rb" run "${args[@]}" || status=$?

for s in wharf dist ceiling; do
	if [ -s "$tmp/$s.log" ]; then
		echo "--- last lines of $s's log" >&2
		tail -n 3 "$tmp/$s.log" | cut -c1-400 >&2
	fi
done
if [ -n "${BENCH_PROFILE:-}" ]; then
	cp "$tmp/wharf" "$BENCH_PROFILE/wharf.bin"
	for f in "$BENCH_PROFILE"/*.pprof; do
		[ -e "$f" ] || continue
		case $(basename "$f") in
		wharf-*) bin=$BENCH_PROFILE/wharf.bin ;;
		*) bin=$dist_bin ;;
		esac
		go tool pprof -top -nodecount=30 "$bin" "$f" >"${f%.pprof}.top.txt" 2>/dev/null || true
	done
	echo "CPU profiles and their top-30 lists in $BENCH_PROFILE (*.pprof, *.top.txt)" >&2
fi
exit "$status"
