#!/usr/bin/env bash
# Runtime benchmark: `wharf runtime` against Debian's runc and crun, side by
# side in one run, on the same busybox bundle:
#
#   lifecycle    create + start + delete --force of a `true` container
#   run          `run` of the same container (foreground, waits for exit)
#   exec         `exec <id> true` into a running container
#   pause+resume pause then resume of a running container
#
#   bench/runtime.sh                 # 30 repetitions of each
#   BENCH_REPS=10 bench/runtime.sh   # a quicker look
#
# Medians in milliseconds go to stdout as a table. crun refuses this host's
# hybrid cgroups, so its runs happen in a private mount namespace with
# /sys/fs/cgroup/unified unmounted (the host's mount table is untouched).
# Every runtime gets its own --root under one temp dir, removed on exit.
# Not part of the test suite; needs root and busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${BENCH_REPS:-30}

# one <name> <runtime command...>: time each workload, print "name median..."
if [ "${1:-}" = "--one" ]; then
	shift
	name=$1
	shift
	rt=("$@")
	bundle=$BENCH_BUNDLE
	ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
	median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
	lc=() run=() ex=() pr=()
	for i in $(seq "$reps"); do
		id=b-$name-$i
		t=$(date +%s%N)
		"${rt[@]}" create --bundle "$bundle/true" "$id" >/dev/null 2>&1
		"${rt[@]}" start "$id"
		"${rt[@]}" delete --force "$id"
		lc+=("$(ms "$t")")
		t=$(date +%s%N)
		"${rt[@]}" run --bundle "$bundle/true" "$id" >/dev/null 2>&1 || true
		run+=("$(ms "$t")")
		"${rt[@]}" delete --force "$id" >/dev/null 2>&1 || true
	done
	id=b-$name-long
	"${rt[@]}" run --detach --bundle "$bundle/sleep" "$id" >/dev/null 2>&1 </dev/null
	for i in $(seq "$reps"); do
		t=$(date +%s%N)
		"${rt[@]}" exec "$id" true
		ex+=("$(ms "$t")")
		t=$(date +%s%N)
		"${rt[@]}" pause "$id"
		"${rt[@]}" resume "$id"
		pr+=("$(ms "$t")")
	done
	"${rt[@]}" delete --force "$id"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" \
		"$(printf '%s\n' "${lc[@]}" | median)" "$(printf '%s\n' "${run[@]}" | median)" \
		"$(printf '%s\n' "${ex[@]}" | median)" "$(printf '%s\n' "${pr[@]}" | median)"
	exit 0
fi

[ -x /bin/busybox ] || { echo "runtime.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/wharf-rbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "building wharf" >&2
go build -o "$tmp/wharf" ./cmd/wharf

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
export BENCH_BUNDLE=$tmp BENCH_REPS=$reps

printf 'runtime\tlifecycle\trun\texec\tpause+resume\t(median ms over %s)\n' "$reps"
"$0" --one wharf "$tmp/wharf" runtime --root "$tmp/root-wharf"
if command -v runc >/dev/null; then
	"$0" --one runc runc --root "$tmp/root-runc"
else
	echo "runc: not installed (apt-get install runc)" >&2
fi
if command -v crun >/dev/null; then
	unshare -m --propagation private bash -c 'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec "$@"' _ \
		"$0" --one crun crun --root "$tmp/root-crun"
else
	echo "crun: not installed (apt-get install crun)" >&2
fi
