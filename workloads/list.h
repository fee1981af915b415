/* The one table of workloads: X(c_identifier). Each entry is defined as
 * `const struct cb_workload cb_wl_<identifier>` in one file of workloads/
 * (the file's name is the workload's, e.g. fork_basic.c; the repro:* races
 * live in repro_<mechanism>.c, several per file; the probe:* scenarios in
 * probes/<mechanism>.c). Order is the order of `cowbench list`, of a
 * default `cowbench run` and of the fingerprint's scenarios. */
#define CB_WORKLOADS(X) \
	X(fork_basic) \
	X(fork_server) \
	X(ksm_vms) \
	X(swap_thrash) \
	X(reclaim_pressure) \
	X(longterm_pin) \
	X(repro_fork_odirect) \
	X(repro_clear_refs_odirect) \
	X(repro_swapout_odirect) \
	X(repro_vmsplice_child) \
	X(repro_uffd_wp_pin) \
	X(probe_s2) \
	X(probe_s3a) \
	X(probe_s3b) \
	X(probe_s4) \
	X(probe_s5a) \
	X(probe_s6b) \
	X(probe_s6c) \
	X(probe_s7a) \
	X(probe_s7b) \
	X(probe_s7c) \
	X(probe_s7d) \
	X(probe_s9c) \
	X(app_redis_bgsave) \
	X(app_qemu_ksm)
