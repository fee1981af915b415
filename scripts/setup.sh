#!/bin/bash
# Installs what cowbench needs (Debian bookworm packages) and builds it.
#   scripts/setup.sh              -> build/ (release build)
#   scripts/setup.sh --sanitize   -> build-asan/ (ASan + UBSan, for CI)
#   scripts/setup.sh --fuzz       -> build-fuzz/ (clang + libFuzzer: tests/fuzz/run.sh)
#   scripts/setup.sh --vm         -> also what scripts/kernels/fetch and
#                                    scripts/vm/* need (QEMU, static busybox,
#                                    mkfs.ext4, cpio, xz, zstd), then build/
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config git
	libjansson-dev libhwloc-dev libnuma-dev liburing-dev libpfm4-dev libcmocka-dev
	libibverbs-dev ibverbs-providers libnl-3-dev libnl-route-3-dev
	gnuplot-nox python3 python3-jsonschema util-linux procps kmod valgrind
	time bc)
# app:redis-bgsave runs its own redis-server on a private port (Debian's
# package also installs and starts the system service on 6379: cowbench
# never talks to that one).
PACKAGES+=(redis-server redis-tools)
# The fuzz build only: clang with its libFuzzer/sanitizer runtimes.
[[ ${1:-} == --fuzz ]] && PACKAGES+=(clang-14 libclang-rt-14-dev)
# Booting other kernels: fetch (apt-get, dpkg-deb, depmod, Debian's keys) and
# vm/run (QEMU/TCG, a static busybox initramfs, ext4 data disk).
VM_PACKAGES=(qemu-system-x86 busybox-static e2fsprogs cpio gzip xz-utils zstd
	debian-archive-keyring ca-certificates)
[[ ${1:-} == --vm ]] && PACKAGES+=("${VM_PACKAGES[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "setup: missing packages; run as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dir=build
args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [[ ${1:-} == --sanitize ]]; then
	dir=build-asan
	args=(-DCMAKE_BUILD_TYPE=Debug -DCOWBENCH_SANITIZE=ON)
elif [[ ${1:-} == --fuzz ]]; then
	dir=build-fuzz
	args=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOWBENCH_FUZZ=ON
	      -DBUILD_TESTING=OFF)
fi
cmake -S . -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
echo "setup: built $dir/cowbench"
