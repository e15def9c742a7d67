#!/usr/bin/env bash
# A static wharf: musl instead of glibc, no dynamic loader.
#
#   build/static.sh [output]       # default ./wharf
#
# Every `wharf runtime` command, every container init and every exec is a
# new process of this binary, so what a process costs to start is paid over
# and over. glibc's start-up alone is about 0.75 ms on a VM where CPUID
# traps to the hypervisor (~7 us each; glibc asks it dozens of times to size
# its caches), and static glibc does the same work; with musl an empty C
# program starts in ~0.1 ms. Go's own DNS resolver and user lookup
# (netgo, osusergo) replace the libc ones, as in docker's and runc's static
# builds. Needs musl-gcc (Debian: apt-get install musl-tools); the kernel
# headers come from the system's include directories.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-wharf}
command -v musl-gcc >/dev/null || { echo "build/static.sh: musl-gcc missing (apt-get install musl-tools)" >&2; exit 1; }
CC=musl-gcc CGO_ENABLED=1 \
	CGO_CFLAGS="-O2 -idirafter /usr/include -idirafter /usr/include/$(gcc -dumpmachine)" \
	go build -tags netgo,osusergo -ldflags '-linkmode external -extldflags -static' -o "$out" ./cmd/wharf
