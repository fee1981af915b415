/* Placement of writer threads: one per core first, spreading over NUMA
 * nodes where there are several, so that a COW in one thread must shoot
 * down the TLB of the others. */
#include <hwloc.h>
#include <numa.h>
#include <stdlib.h>

#include <pthread.h>
#include <sched.h>

#include "harness.h"

static hwloc_topology_t topo;
static int ncpus, *cpus, *nodes;

int cb_place_init(void)
{
	if (cpus)
		return 0;
	if (hwloc_topology_init(&topo) || hwloc_topology_load(topo))
		return -1;
	int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	hwloc_obj_type_t t = ncores > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
	int n = hwloc_get_nbobjs_by_type(topo, t);
	cpus = calloc((size_t)(n > 0 ? n : 1), sizeof *cpus);
	nodes = calloc((size_t)(n > 0 ? n : 1), sizeof *nodes);
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(topo, t, (unsigned)i);
		hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(topo, o->cpuset,
								     HWLOC_OBJ_PU, 0);
		if (!pu)
			continue;
		cpus[ncpus] = (int)pu->os_index;
		nodes[ncpus] = numa_available() < 0 ? 0 : numa_node_of_cpu(cpus[ncpus]);
		ncpus++;
	}
	return ncpus > 0 ? 0 : -1;
}

/* Slot i goes to the i-th core, taking cores round-robin over nodes. */
int cb_place_cpu(int slot, int *node)
{
	if (cb_place_init())
		return -1;
	int maxnode = 0;
	for (int i = 0; i < ncpus; i++)
		if (nodes[i] > maxnode)
			maxnode = nodes[i];
	int want = slot % ncpus, seen = 0;
	for (int round = 0; round < ncpus; round++)
		for (int n = 0; n <= maxnode; n++) {
			int k = 0;
			for (int i = 0; i < ncpus; i++)
				if (nodes[i] == n && k++ == round) {
					if (seen++ == want) {
						*node = nodes[i];
						return cpus[i];
					}
				}
		}
	*node = nodes[0];
	return cpus[0];
}

json_t *cb_place_topology(void)
{
	if (cb_place_init())
		return json_pack("{s:s}", "error", "hwloc topology not available");
	return json_pack("{s:i, s:i, s:i, s:i}",
			 "packages", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE),
			 "cores", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE),
			 "pus", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU),
			 "numa_nodes", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE));
}

int cb_place_thread(struct cb_ctx *c, const char *who, int slot)
{
	int node = -1;
	int cpu = cb_place_cpu(slot, &node);
	if (cpu < 0)
		return -1;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set))
		return -1;
	/* Writer threads place themselves concurrently. */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	json_array_append_new(c->placement, json_pack("{s:s, s:i, s:i}", "who", who, "cpu", cpu,
						      "node", node));
	pthread_mutex_unlock(&lock);
	return cpu;
}
