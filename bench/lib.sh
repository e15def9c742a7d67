# bench/lib.sh: what the side-by-side benchmarks against Debian's dockerd
# share. Sourced (never run) by bench/engine.sh and bench/container.sh
# (bench/runtime.sh takes only bench_wharf):
#
#   . bench/lib.sh
#   bench_init cbench             # $tmp, and the exit trap that undoes all below
#   bench_need "$docker" "$dockerd"   # every binary named must be there
#   bench_wharf                   # $tmp/wharf: $WHARF copied, or built from the tree
#   "$dist_bin" serve ... &       # anything else started in the background:
#   pids+=($!)                    #   stopped at exit
#   bench_start_daemons           # wharf and dockerd up, see below
#   "${W[@]}" version; "${D[@]}" version   # the docker CLI against each
#
# bench_start_daemons starts `$tmp/wharf daemon` and dockerd the same way:
# everything under $tmp, each with its own --data-root, --exec-root,
# -H unix://$tmp/{w,d}/sock and pidfile, and an empty daemon.json; dockerd
# with --bridge=none (it then deletes a docker0 link if one exists; wharf
# never uses docker0), no iptables and overlay2, so the host's network and
# any installed docker service are left alone. It waits until both answer,
# and sets wharf_pid, dockerd_pid, containerd_pid (dockerd's managed
# containerd, "" if none) and the CLI arrays W and D (DOCKER_CONFIG is
# $tmp/cfg, exported, so that other tools driving the CLI use it too).
#
# At exit: the containers of both daemons are removed while the daemons
# still run, every process in pids is stopped (and waited for, with
# dockerd's containerd), the mounts dockerd may leave under $tmp are
# undone, and $tmp is removed.
#
# Environment: BENCH_TMPDIR (/tmp), DOCKER (/usr/local/bin/docker), DOCKERD
# (/usr/sbin/dockerd), WHARF (a wharf binary; built from the tree when
# unset).

docker=${DOCKER:-/usr/local/bin/docker}
dockerd=${DOCKERD:-/usr/sbin/dockerd}
bench_name=$(basename "$0")
pids=()
containerd_pid=

# bench_init NAME: the run's temp dir $tmp (wharf-NAME.XXXXXX) and traps.
bench_init() {
	tmp=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/wharf-$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# bench_need BIN...: exits unless every BIN is an executable.
bench_need() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || { echo "$bench_name: $b missing" >&2; exit 1; }
	done
}

bench_cleanup() {
	# Containers first, while their daemons still run.
	local h ids p
	for h in w d; do
		[ -S "$tmp/$h/sock" ] || continue
		ids=$(DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/$h/sock" timeout 30 "$docker" ps -aq 2>/dev/null || true)
		[ -n "$ids" ] && DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/$h/sock" timeout 60 "$docker" rm -f $ids >/dev/null 2>&1 || true
	done
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# dockerd stops its containerd; wait for every process and that child.
	for p in "${pids[@]}" $containerd_pid; do
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	# dockerd may leave its overlay mounts and the data-root's own mount.
	{ grep -o " $tmp[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	for _ in 1 2 3 4 5; do rm -rf "$tmp" 2>/dev/null && break; sleep 1; done
}

# bench_wharf: $tmp/wharf, a copy of $WHARF or built from this tree.
bench_wharf() {
	if [ -n "${WHARF:-}" ]; then
		cp "$WHARF" "$tmp/wharf"
	else
		bench_build_wharf "$tmp/wharf"
	fi
}

# bench_build_wharf OUT: the release build (static, musl: build/static.sh)
# when musl-gcc is there, else a plain go build, which pays glibc's start-up
# in every process (about 0.75 ms each here; see build/static.sh).
bench_build_wharf() {
	if command -v musl-gcc >/dev/null; then
		echo "building wharf (static, musl)" >&2
		build/static.sh "$1"
	else
		echo "building wharf (glibc: apt-get install musl-tools for the static build)" >&2
		go build -o "$1" ./cmd/wharf
	fi
}

# wait_for WHAT CMD...: run CMD until it succeeds, at most 60 s; else show
# WHAT's log (wharf, dockerd) and exit.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 600); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "$bench_name: $what did not come up" >&2
	case $what in
	wharf) cat "$tmp/w/log" >&2 ;;
	dockerd) cat "$tmp/d/log" >&2 ;;
	esac
	exit 1
}

bench_start_daemons() {
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

	export DOCKER_CONFIG=$tmp/cfg
	unset DOCKER_CONTEXT
	W=(env -u DOCKER_CONTEXT DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/w/sock" "$docker")
	D=(env -u DOCKER_CONTEXT DOCKER_CONFIG="$tmp/cfg" DOCKER_HOST="unix://$tmp/d/sock" "$docker")
	wait_for wharf "${W[@]}" version
	wait_for dockerd "${D[@]}" version
	containerd_pid=$(pgrep -P "$dockerd_pid" containerd || true)
}
