#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* "name value" per line */
json_t *cb_parse_vmstat(const char *text)
{
	json_t *o = json_object();
	const char *p = text;
	while (p && *p) {
		char name[128];
		long long v;
		int used = 0;
		if (sscanf(p, "%127s %lld%n", name, &v, &used) == 2)
			json_object_set_new(o, name, json_integer(v));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return o;
}

/* "Name:   123 kB" per line; kB values become bytes. */
json_t *cb_parse_meminfo(const char *text)
{
	json_t *o = json_object();
	const char *p = text;
	while (p && *p) {
		char name[128], unit[8] = "";
		long long v;
		int n = sscanf(p, "%127[^:]: %lld %7s", name, &v, unit);
		if (n >= 2) {
			if (n == 3 && !strcmp(unit, "kB"))
				v *= 1024;
			json_object_set_new(o, name, json_integer(v));
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return o;
}

/* x86: " TLB:  12  34   TLB shootdowns": sum of the per-CPU columns. */
int cb_parse_tlb_interrupts(const char *text, uint64_t *sum)
{
	const char *line = text;
	while (line && *line) {
		const char *p = line;
		while (*p == ' ')
			p++;
		if (!strncmp(p, "TLB:", 4)) {
			p += 4;
			uint64_t s = 0;
			for (;;) {
				while (*p == ' ' || *p == '\t')
					p++;
				if (!isdigit((unsigned char)*p))
					break;
				char *end;
				s += strtoull(p, &end, 10);
				p = end;
			}
			*sum = s;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

/* /proc/swaps: Filename Type Size Used Priority (sizes in KiB) */
json_t *cb_parse_swaps(const char *text)
{
	json_t *a = json_array();
	const char *p = text ? strchr(text, '\n') : NULL;
	while (p && *++p) {
		char name[512], type[32];
		long long size, used;
		int prio;
		if (sscanf(p, "%511s %31s %lld %lld %d", name, type, &size, &used, &prio) == 5)
			json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:i}", "name", name,
							   "type", type, "size_bytes", size * 1024,
							   "used_bytes", used * 1024, "priority", prio));
		p = strchr(p, '\n');
	}
	return a;
}

uint64_t cb_pagemap_pfn(uint64_t entry)
{
	return (entry & PM_PRESENT) ? entry & PM_PFN_MASK : 0;
}
