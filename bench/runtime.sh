#!/usr/bin/env bash
# Runtime benchmark: `wharf runtime` against Debian's runc and crun, side by
# side in one run, on the same busybox bundle:
#
#   lifecycle    create + start + delete --force of a `true` container
#   run          `run` of the same container (foreground, waits for exit)
#   exec         `exec <id> true` into a running container
#   pause+resume pause then resume of a running container
#   noop         the runtime's version command: what starting the binary costs
#
#   bench/runtime.sh                 # 30 repetitions of each
#   BENCH_REPS=10 bench/runtime.sh   # a quicker look
#   BENCH_WHARF=/tmp/wharf-old bench/runtime.sh   # a wharf built earlier
#   BENCH_WHARF_OLD=/tmp/wharf-old bench/runtime.sh   # both, taking turns too
#
# Medians in milliseconds go to stdout as a table. The runtimes take turns
# within each repetition, so that whatever else loads the machine meanwhile
# weighs on all of them alike. crun refuses this host's hybrid cgroups, so
# the whole run happens in a private mount namespace with
# /sys/fs/cgroup/unified unmounted (the host's mount table is untouched;
# wharf and runc use the v1 hierarchies either way). Every runtime gets its
# own --root under one temp dir, removed on exit. wharf is the release
# build (build/static.sh) when musl-gcc is installed, else a plain go build
# (about 1 ms slower per process here; the build used is printed). Not
# part of the test suite; needs root and busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${BENCH_REPS:-30}

# --all <tmp>: inside the private mount namespace, run every workload.
if [ "${1:-}" = "--all" ]; then
	tmp=$2
	umount /sys/fs/cgroup/unified 2>/dev/null || true
	names=() cmds=()
	add() { names+=("$1"); cmds+=("$2"); }
	add wharf "$tmp/wharf runtime --root $tmp/root-wharf"
	[ -x "$tmp/wharf-old" ] && add wharf-old "$tmp/wharf-old runtime --root $tmp/root-wharf-old"
	command -v runc >/dev/null && add runc "runc --root $tmp/root-runc"
	command -v crun >/dev/null && add crun "crun --root $tmp/root-crun"
	now() { date +%s%N; }
	for i in "${!names[@]}"; do
		# shellcheck disable=SC2086 # cmds are word lists
		${cmds[$i]} run --detach --bundle "$tmp/sleep" "b-${names[$i]}-long" >/dev/null 2>&1 </dev/null
	done
	for r in $(seq "$reps"); do
		# The runtimes take turns in a rotating order: the first of a
		# round pays for what the last one left (caches, a busy kernel),
		# several ms of lifecycle here.
		for k in "${!names[@]}"; do
			i=$(((k + r) % ${#names[@]}))
			n=${names[$i]} rt=${cmds[$i]} id=b-${names[$i]}-$r out=$tmp/t-${names[$i]}
			# shellcheck disable=SC2086
			{
				t=$(now)
				$rt create --bundle "$tmp/true" "$id" >/dev/null 2>&1
				$rt start "$id"
				$rt delete --force "$id"
				echo $(($(now) - t)) >>"$out-lifecycle"
				t=$(now)
				$rt run --bundle "$tmp/true" "$id" >/dev/null 2>&1 || true
				echo $(($(now) - t)) >>"$out-run"
				$rt delete --force "$id" >/dev/null 2>&1 || true
				t=$(now)
				$rt exec "b-$n-long" true
				echo $(($(now) - t)) >>"$out-exec"
				t=$(now)
				$rt pause "b-$n-long"
				$rt resume "b-$n-long"
				echo $(($(now) - t)) >>"$out-pause"
				t=$(now)
				case $n in
				wharf*) ${rt%% *} version ;;
				*) ${rt%% *} --version ;;
				esac >/dev/null
				echo $(($(now) - t)) >>"$out-noop"
			}
		done
	done
	median() { sort -n "$1" | awk '{a[NR]=$1} END {m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1e6}'; }
	printf 'runtime\tlifecycle\trun\texec\tpause+resume\tnoop\t(median ms over %s)\n' "$reps"
	for i in "${!names[@]}"; do
		n=${names[$i]}
		# shellcheck disable=SC2086
		${cmds[$i]} delete --force "b-$n-long"
		o=$tmp/t-$n
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$(median "$o-lifecycle")" "$(median "$o-run")" \
			"$(median "$o-exec")" "$(median "$o-pause")" "$(median "$o-noop")"
	done
	exit 0
fi

[ -x /bin/busybox ] || { echo "runtime.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
command -v runc >/dev/null || echo "runc: not installed (apt-get install runc)" >&2
command -v crun >/dev/null || echo "crun: not installed (apt-get install crun)" >&2
tmp=$(mktemp -d /tmp/wharf-rbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${BENCH_WHARF_OLD:-}" ]; then
	cp "$BENCH_WHARF_OLD" "$tmp/wharf-old"
fi
. bench/lib.sh
WHARF=${BENCH_WHARF:-} bench_wharf # $tmp/wharf: copied, or the release build

# Two bundles sharing one rootfs: `true` and `sleep 100000`.
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/proc" "$tmp/rootfs/dev" "$tmp/rootfs/sys" "$tmp/rootfs/tmp"
cp /bin/busybox "$tmp/rootfs/bin/"
for a in sh true sleep; do ln -s busybox "$tmp/rootfs/bin/$a"; done
for b in true sleep; do
	mkdir -p "$tmp/$b"
	"$tmp/wharf" runtime spec --bundle "$tmp/$b"
	args='["true"]'
	[ "$b" = sleep ] && args='["sleep","100000"]'
	python3 - "$tmp/$b/config.json" "$tmp/rootfs" "$args" <<'PY'
import json, sys
path, rootfs, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = args
c["ociVersion"] = "1.0.2-dev"  # crun 1.8 refuses newer versions it does not know
json.dump(c, open(path, "w"))
PY
done
BENCH_REPS=$reps unshare -m --propagation private "$0" --all "$tmp"
