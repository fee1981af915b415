# shellcheck shell=bash
# scripts/vm/lib.sh - boot a Debian kernel (from scripts/kernels/fetch) under QEMU
# with a busybox initramfs, run a payload inside and bring back its results on a
# raw "results" disk (a tar stream written to the disk, untarred on the host;
# never scraped from the serial console).
#
# Source it from a bash script running with `set -euo pipefail`:
#
#   . scripts/vm/lib.sh
#   vm_need_tools                                 # qemu, static busybox, cpio (apt-get as root)
#   VM_FILES=("/path/cowbench:/bin/cowbench")     # extra files for the initramfs (src:dst)
#   vm_build_initramfs KDIR initrd.gz payload.sh virtio_blk zram ...   # modules by name
#   vm_make_disk results.img 64                   # sparse raw disks, size in MiB
#   vm_make_disk swap.img 256
#   VM_DRIVES=("results.img:results" "swap.img:swap")  # path:serial; results disk FIRST
#   vm_run KDIR initrd.gz serial.log              # boots, waits for poweroff (VM_TIMEOUT)
#   vm_extract_results results.img OUTDIR         # untar; fails unless the guest finished
#
# Guest side: the generic /init mounts proc, sysfs, devtmpfs (and /tmp), insmods
# the requested modules (plus their dependencies and soft pre-dependencies from
# modules.dep / modules.softdep, decompressed on the host so busybox insmod can
# load them), finds the disks by their serial, then runs /payload with:
#   VM_OUT      directory whose content ends up in OUTDIR on the host (/out)
#   VM_RELEASE  the kernel release
#   vm_disk SERIAL  shell function printing the /dev node of the disk with that serial
# /init adds to VM_OUT: payload.log (the payload's stdout+stderr), payload.rc,
# uptime-start/uptime-end (guest /proc/uptime), vm-status ("done" written last).
# Then it writes VM_OUT as a tar stream to the "results" disk and runs poweroff -f.
# If /init itself dies the kernel panics, panic=-1 reboots and -no-reboot ends QEMU.
#
# Settings (environment, all optional):
#   VM_ACCEL    tcg (default) or kvm. This host's /dev/kvm cannot boot stock Debian
#               kernels, so TCG with -cpu max is the default.
#   VM_SMP=2  VM_MEM=1G  VM_TIMEOUT=120 (seconds)  VM_APPEND (extra kernel cmdline)
#   VM_QEMU_ARGS (array, extra qemu arguments)
#   VM_DRIVE_OPTS (array of "serial:opts", extra -drive options of that disk,
#               e.g. "data:throttling.iops-total=100")
#   VM_KEEP_TMP=1 keeps the initramfs staging dir.

VM_SMP=${VM_SMP:-2}
VM_MEM=${VM_MEM:-1G}
VM_TIMEOUT=${VM_TIMEOUT:-120}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_APPEND=${VM_APPEND:-}
VM_BUSYBOX=${VM_BUSYBOX:-/bin/busybox}
VM_QEMU=${VM_QEMU:-qemu-system-x86_64}
if ! declare -p VM_FILES >/dev/null 2>&1; then VM_FILES=(); fi
if ! declare -p VM_DRIVES >/dev/null 2>&1; then VM_DRIVES=(); fi
if ! declare -p VM_QEMU_ARGS >/dev/null 2>&1; then VM_QEMU_ARGS=(); fi
if ! declare -p VM_DRIVE_OPTS >/dev/null 2>&1; then VM_DRIVE_OPTS=(); fi
VM_LAST_SECONDS=  # wall seconds of the last vm_run (for callers)
export VM_LAST_SECONDS

vm_log() { echo "vm: $*" >&2; }
vm_die() { echo "vm: error: $*" >&2; exit 1; }

# True if $1 is a statically linked executable.
vm_is_static() {
	local o
	[ -x "$1" ] || return 1
	o=$(LC_ALL=C ldd "$1" 2>&1 || true)
	case $o in *"not a dynamic executable"*|*"statically linked"*) return 0 ;; esac
	return 1
}

# Check for qemu-system-x86_64, a static busybox, cpio, gzip, xz, zstd and
# mkfs.ext4; as root,
# install the missing Debian packages with apt-get, otherwise say what to install.
vm_need_tools() {
	local pkgs=()
	command -v "$VM_QEMU" >/dev/null || pkgs+=(qemu-system-x86)
	vm_is_static "$VM_BUSYBOX" || pkgs+=(busybox-static)
	command -v cpio >/dev/null || pkgs+=(cpio)
	command -v gzip >/dev/null || pkgs+=(gzip)
	command -v xz >/dev/null || pkgs+=(xz-utils)
	command -v zstd >/dev/null || pkgs+=(zstd)
	command -v mkfs.ext4 >/dev/null || pkgs+=(e2fsprogs)
	command -v timeout >/dev/null || pkgs+=(coreutils)
	[ ${#pkgs[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		vm_die "missing tools: run as root: apt-get install ${pkgs[*]}"
	fi
	vm_log "installing ${pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; } ||
		vm_die "apt-get install ${pkgs[*]} failed"
	vm_is_static "$VM_BUSYBOX" || vm_die "$VM_BUSYBOX is not static (install busybox-static)"
}

# vm_kernel_release KDIR: the `uname -r` of a fetched kernel directory.
vm_kernel_release() {
	[ -s "$1/release" ] && [ -s "$1/vmlinuz" ] ||
		vm_die "$1 is not a kernel directory from scripts/kernels/fetch (no release/vmlinuz)"
	cat "$1/release"
}

# vm_module_closure MODDIR NAME...: the module files (paths relative to MODDIR,
# the lib/modules/<release> directory) needed to load NAME..., in load order
# (dependencies first). Names built into the kernel, or unknown, yield nothing;
# unknown names are reported on stderr.
vm_module_closure() {
	local moddir=$1; shift
	[ -s "$moddir/modules.dep" ] || vm_die "$moddir/modules.dep missing (run depmod)"
	local softdep=/dev/null builtin=/dev/null
	[ -f "$moddir/modules.softdep" ] && softdep=$moddir/modules.softdep
	[ -f "$moddir/modules.builtin" ] && builtin=$moddir/modules.builtin
	awk -v want="$*" -v softdep="$softdep" -v builtin="$builtin" '
	function norm(s) { gsub(/-/, "_", s); return s }
	function modname(p,   n) {
		n = p; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); return norm(n)
	}
	function visit(p,   i, n, d, k, pre, nm) {
		if (p in seen) return
		seen[p] = 1
		nm = modname(p)
		# soft pre-dependencies (e.g. crc32c before ext4) when they are modules
		if (nm in soft) {
			n = split(soft[nm], pre, " ")
			for (i = 1; i <= n; i++) if (pre[i] in path) visit(path[pre[i]])
		}
		n = split(deps[p], d, " ")
		for (k = n; k >= 1; k--) visit(d[k])
		print p
	}
	FILENAME == builtin { isbuiltin[modname($0)] = 1; next }
	FILENAME == softdep {
		if ($1 != "softdep") next
		m = norm($2); on = 0
		for (i = 3; i <= NF; i++) {
			if ($i == "pre:") { on = 1; continue }
			if ($i == "post:") { on = 0; continue }
			if (on) soft[m] = soft[m] " " norm($i)
		}
		next
	}
	{
		p = $1; sub(/:$/, "", p)
		deps[p] = ""
		for (i = 2; i <= NF; i++) deps[p] = deps[p] " " $i
		path[modname(p)] = p
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = norm(w[i])
			if (m in path) visit(path[m])
			else if (!(m in isbuiltin)) printf "vm: module %s not found\n", w[i] > "/dev/stderr"
		}
	}' "$builtin" "$softdep" "$moddir/modules.dep"
}

# The guest-side helpers, written to /vm/guest.sh in the initramfs.
vm_guest_lib() {
	cat <<'EOF'
# guest helpers (busybox sh), sourced by /init and available to /payload
VM_OUT=/out
vm_disk() {  # vm_disk SERIAL: /dev node of the virtio disk with that serial
	for b in /sys/block/vd*; do
		[ -e "$b/serial" ] || continue
		if [ "$(cat "$b/serial")" = "$1" ]; then echo "/dev/${b##*/}"; return 0; fi
	done
	return 1
}
vm_wait_disk() {  # vm_wait_disk SERIAL [SECONDS]
	i=0
	while ! vm_disk "$1" >/dev/null; do
		i=$((i + 1))
		[ "$i" -gt $((${2:-10} * 10)) ] && return 1
		usleep 100000
	done
}
vm_load_modules() {
	[ -f /lib/modules/load.list ] || return 0
	while read -r m; do
		[ -n "$m" ] || continue
		insmod "/lib/modules/$m" || echo "vm-guest: insmod $m failed" >&2
	done </lib/modules/load.list
}
EOF
}

# The generic /init.
vm_guest_init() {
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run /out
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
. /vm/guest.sh
VM_RELEASE=$(uname -r)
export VM_OUT VM_RELEASE
cut -d' ' -f1 /proc/uptime >"$VM_OUT/uptime-start"
vm_load_modules
echo "vm-guest: $VM_RELEASE up $(cat "$VM_OUT/uptime-start") s, running /payload"
if ! vm_wait_disk results 10; then
	echo "vm-guest: no disk with serial 'results'; disks: $(ls /sys/block)"
	poweroff -f
fi
( set +e; . /payload ) >"$VM_OUT/payload.log" 2>&1
echo $? >"$VM_OUT/payload.rc"
cut -d' ' -f1 /proc/uptime >"$VM_OUT/uptime-end"
echo done >"$VM_OUT/vm-status"
sync
disk=$(vm_disk results)
if tar -c -C "$VM_OUT" . | dd of="$disk" bs=65536 conv=fsync 2>/dev/null; then
	echo "vm-guest: results written to $disk (payload rc $(cat "$VM_OUT/payload.rc"))"
else
	echo "vm-guest: writing results to $disk FAILED (disk too small?)"
fi
sync
poweroff -f
EOF
}

# vm_build_initramfs KDIR OUT PAYLOAD [MODULE...]
# Builds a gzip'd newc cpio at OUT with the static busybox, the generic /init,
# PAYLOAD as /payload, the files of VM_FILES ("src:dst") and the named modules
# with their dependencies (decompressed, loaded in order at boot).
vm_build_initramfs() {
	local kdir=$1 out=$2 payload=$3; shift 3
	local rel moddir stage f src dst m
	rel=$(vm_kernel_release "$kdir")
	moddir=$kdir/modules/lib/modules/$rel
	[ -r "$payload" ] || vm_die "payload $payload not readable"
	vm_is_static "$VM_BUSYBOX" || vm_die "$VM_BUSYBOX is not a static busybox (apt-get install busybox-static)"
	stage=$(mktemp -d "${TMPDIR:-/tmp}/vm-initramfs.XXXXXX")
	mkdir -p "$stage/bin" "$stage/vm" "$stage/lib/modules" "$stage/dev" "$stage/out"
	cp "$VM_BUSYBOX" "$stage/bin/busybox"
	vm_guest_init >"$stage/init"
	vm_guest_lib >"$stage/vm/guest.sh"
	cp "$payload" "$stage/payload"
	chmod 755 "$stage/init" "$stage/payload"
	if [ "$(id -u)" = 0 ]; then
		mknod -m 600 "$stage/dev/console" c 5 1
		mknod -m 666 "$stage/dev/null" c 1 3
	fi
	: >"$stage/lib/modules/load.list"
	if [ $# -gt 0 ]; then
		local mods
		mods=$(vm_module_closure "$moddir" "$@") || vm_die "module resolution failed"
		for m in $mods; do
			f=$(basename "$m"); f=${f%.xz}; f=${f%.zst}; f=${f%.gz}
			case $m in
			*.xz) xz -dc "$moddir/$m" >"$stage/lib/modules/$f" ;;
			*.zst) zstd -qdc "$moddir/$m" >"$stage/lib/modules/$f" ;;
			*.gz) gzip -dc "$moddir/$m" >"$stage/lib/modules/$f" ;;
			*) cp "$moddir/$m" "$stage/lib/modules/$f" ;;
			esac
			echo "$f" >>"$stage/lib/modules/load.list"
		done
	fi
	for f in ${VM_FILES[@]+"${VM_FILES[@]}"}; do
		src=${f%%:*}; dst=${f#*:}
		[ -e "$src" ] || vm_die "VM_FILES: $src not found"
		mkdir -p "$stage/$(dirname "$dst")"
		cp -a "$src" "$stage/$dst"
	done
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc --owner=0:0 --quiet) | gzip -6 >"$out"
	if [ "${VM_KEEP_TMP:-0}" = 1 ]; then vm_log "initramfs staging kept in $stage"; else rm -rf "$stage"; fi
}

# vm_make_disk PATH SIZE_MIB: a fresh sparse raw disk image full of zeros.
vm_make_disk() {
	rm -f "$1"
	truncate -s "${2}M" "$1"
}

# vm_qemu_cmd KDIR INITRD: prints nothing, sets the array VM_CMD.
vm_qemu_cmd() {
	local kdir=$1 initrd=$2 d path serial e extra
	VM_CMD=("$VM_QEMU")
	case $VM_ACCEL in
	kvm) VM_CMD+=(-accel kvm -cpu host) ;;
	# One TCG thread for all vCPUs: with a thread per vCPU, a guest that
	# patches its own kernel text (enabling the kmem:mm_page_alloc
	# tracepoint of the fault log) while another vCPU runs it hung in
	# __alloc_pages (5.10 guest, soft lockups at the patched NOP).
	tcg) VM_CMD+=(-accel tcg,thread=single -cpu max) ;;
	*) vm_die "VM_ACCEL must be tcg or kvm" ;;
	esac
	VM_CMD+=(-smp "$VM_SMP" -m "$VM_MEM" -nographic -no-reboot
		-kernel "$kdir/vmlinuz" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 ${VM_APPEND}")
	# a raw virtio disk per entry, in order (vda, vdb, ...); the serial (which
	# QEMU only takes on -device, not on -drive if=virtio) names it in the guest
	for d in ${VM_DRIVES[@]+"${VM_DRIVES[@]}"}; do
		path=${d%:*}; serial=${d##*:}; extra=
		for e in ${VM_DRIVE_OPTS[@]+"${VM_DRIVE_OPTS[@]}"}; do
			[ "${e%%:*}" = "$serial" ] && extra=,${e#*:}
		done
		VM_CMD+=(-drive "file=$path,if=none,format=raw,id=d-$serial$extra"
			-device "virtio-blk-pci,drive=d-$serial,serial=$serial")
	done
	VM_CMD+=(${VM_QEMU_ARGS[@]+"${VM_QEMU_ARGS[@]}"})
}

# vm_run KDIR INITRD LOG: boots with the drives of VM_DRIVES, serial console to
# LOG, until the guest powers off or VM_TIMEOUT seconds pass. Sets
# VM_LAST_SECONDS to the wall time. Returns QEMU's status (124: timed out).
vm_run() {
	local kdir=$1 initrd=$2 logf=$3 t0 rc=0
	[ ${#VM_DRIVES[@]} -gt 0 ] || vm_die "VM_DRIVES is empty (a results disk is needed)"
	vm_qemu_cmd "$kdir" "$initrd"
	t0=$(date +%s.%N)
	timeout --kill-after=10 "$VM_TIMEOUT" "${VM_CMD[@]}" </dev/null >"$logf" 2>&1 || rc=$?
	VM_LAST_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	[ "$rc" = 124 ] && vm_log "QEMU timed out after ${VM_TIMEOUT}s (serial log: $logf)"
	return "$rc"
}

# vm_extract_results DISK OUTDIR: untar what the guest wrote; fails (with the
# reason) unless the guest's /init got to the end (vm-status = done).
vm_extract_results() {
	local disk=$1 out=$2
	mkdir -p "$out"
	tar -x -f "$disk" -C "$out" 2>/dev/null || true
	if [ "$(cat "$out/vm-status" 2>/dev/null)" != "done" ]; then
		vm_log "no results on $disk (the guest did not finish)"
		return 1
	fi
}
