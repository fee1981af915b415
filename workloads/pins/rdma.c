/* RDMA read-only memory region: the 2021 thread's case. The producer's
 * buffer is registered with no access rights beyond local read (ibv_reg_mr
 * access 0): the kernel pinned such MRs with FOLL_WRITE|FOLL_FORCE through
 * 6.1 (breaking COW at registration) and with a true read-only
 * FOLL_LONGTERM pin later (relying on GUP unshare). The "device" reads the
 * region with an RDMA WRITE from it into a second, writable region, over an
 * RC queue pair connected to itself (soft-RoCE rdma_rxe loops the packets
 * back). Without an RDMA device the backend says why and the case is
 * skipped; with COWBENCH_RXE_NETDEV=<netdev> set (the guests' payload sets
 * it) and the rdma_rxe module loaded, it first creates the soft-RoCE link
 * rxe0 over that netdev through the RDMA netlink interface (what
 * `rdma link add rxe0 type rxe netdev <netdev>` does). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pin.h"

#ifdef COWBENCH_HAVE_IBVERBS
#include <infiniband/verbs.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>
#include <sys/socket.h>

struct rdma_pin {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *src, *dst;
	char *dbuf; /* the second region: where the device's reads land */
	union ibv_gid gid;
	int gid_index;
};

static void put_attr(struct nlmsghdr *h, unsigned short type, const char *s)
{
	struct nlattr *a = (struct nlattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	size_t n = strlen(s) + 1;
	a->nla_type = type;
	a->nla_len = (unsigned short)(NLA_HDRLEN + n);
	memcpy((char *)a + NLA_HDRLEN, s, n);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* RDMA_NLDEV_CMD_NEWLINK: rxe0 of type rxe over netdev. */
static int rxe_newlink(const char *netdev, char *why, size_t whylen)
{
	union {
		struct nlmsghdr h;
		char buf[512];
	} m;
	memset(&m, 0, sizeof m);
	m.h.nlmsg_len = NLMSG_LENGTH(0);
	m.h.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_NEWLINK);
	m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m.h.nlmsg_seq = 1;
	put_attr(&m.h, RDMA_NLDEV_ATTR_DEV_NAME, "rxe0");
	put_attr(&m.h, RDMA_NLDEV_ATTR_LINK_TYPE, "rxe");
	put_attr(&m.h, RDMA_NLDEV_ATTR_NDEV_NAME, netdev);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (fd < 0)
		return snprintf(why, whylen, "NETLINK_RDMA socket: %s", strerror(errno)), -1;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	int err = EIO;
	if (sendto(fd, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
		err = errno;
	} else {
		ssize_t n = recv(fd, &m, sizeof m, 0);
		if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && m.h.nlmsg_type == NLMSG_ERROR)
			err = -((struct nlmsgerr *)NLMSG_DATA(&m.h))->error;
	}
	close(fd);
	if (err && err != EEXIST)
		return snprintf(why, whylen, "rdma link add rxe0 type rxe netdev %s: %s", netdev,
				strerror(err)), -1;
	return 0;
}

static struct ibv_context *open_first(char *why, size_t whylen)
{
	int n = 0;
	struct ibv_device **l = ibv_get_device_list(&n);
	struct ibv_context *ctx = NULL;
	if (l && n > 0 && !(ctx = ibv_open_device(l[0])))
		snprintf(why, whylen, "ibv_open_device %s: %s", ibv_get_device_name(l[0]),
			 strerror(errno));
	if (l)
		ibv_free_device_list(l);
	return ctx;
}

static struct ibv_context *open_device(char *why, size_t whylen)
{
	struct ibv_context *ctx = open_first(why, whylen);
	if (ctx || why[0])
		return ctx;
	const char *netdev = getenv("COWBENCH_RXE_NETDEV");
	bool rxe = access("/sys/module/rdma_rxe", F_OK) == 0;
	if (netdev && *netdev && rxe) {
		if (rxe_newlink(netdev, why, whylen))
			return NULL;
		if ((ctx = open_first(why, whylen)) || why[0])
			return ctx;
	}
	snprintf(why, whylen, "no RDMA device (%s)",
		 !rxe ? "the kernel has no rdma_rxe (soft-RoCE) module loaded"
		 : netdev ? "rxe0 created but libibverbs lists no device: ib_uverbs missing?"
			  : "no soft-RoCE link; set COWBENCH_RXE_NETDEV=<netdev> to create rxe0");
	return NULL;
}

/* The port's GID table fills asynchronously after the link comes up. */
static int find_gid(struct rdma_pin *s, char *why, size_t whylen)
{
	static const union ibv_gid zero;
	for (int tries = 0; tries < 50; tries++) {
		for (int i = 0; i < 16; i++) {
			if (ibv_query_gid(s->ctx, 1, i, &s->gid))
				break;
			if (memcmp(&s->gid, &zero, sizeof zero)) {
				s->gid_index = i;
				return 0;
			}
		}
		usleep(100000);
	}
	return snprintf(why, whylen, "port 1 has no GID (is the netdev up?)"), -1;
}

static int connect_self(struct rdma_pin *s, char *why, size_t whylen)
{
	struct ibv_port_attr port;
	if (ibv_query_port(s->ctx, 1, &port))
		return snprintf(why, whylen, "ibv_query_port: %s", strerror(errno)), -1;
	if (find_gid(s, why, whylen))
		return -1;
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_INIT, .port_num = 1, .pkey_index = 0,
				 .qp_access_flags = IBV_ACCESS_REMOTE_WRITE };
	const char *step = "INIT";
	int rc = ibv_modify_qp(s->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
				 IBV_QP_ACCESS_FLAGS);
	if (!rc) {
		step = "RTR";
		a = (struct ibv_qp_attr){ .qp_state = IBV_QPS_RTR, .path_mtu = port.active_mtu,
					  .dest_qp_num = s->qp->qp_num, .rq_psn = 0,
					  .max_dest_rd_atomic = 1, .min_rnr_timer = 12 };
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = s->gid;
		a.ah_attr.grh.sgid_index = (uint8_t)s->gid_index;
		a.ah_attr.grh.hop_limit = 1;
		a.ah_attr.port_num = 1;
		rc = ibv_modify_qp(s->qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
				   IBV_QP_DEST_QPN | IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				   IBV_QP_MIN_RNR_TIMER);
	}
	if (!rc) {
		step = "RTS";
		a = (struct ibv_qp_attr){ .qp_state = IBV_QPS_RTS, .timeout = 14, .retry_cnt = 7,
					  .rnr_retry = 7, .sq_psn = 0, .max_rd_atomic = 1 };
		rc = ibv_modify_qp(s->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				   IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	}
	if (rc)
		snprintf(why, whylen, "ibv_modify_qp %s: %s", step, strerror(rc > 0 ? rc : errno));
	return rc ? -1 : 0;
}

static int setup(struct cb_pin *p, char *why, size_t whylen)
{
	struct rdma_pin *s = calloc(1, sizeof *s);
	if (!s)
		return snprintf(why, whylen, "out of memory"), -1;
	p->state = s;
	if (!(s->ctx = open_device(why, whylen)))
		return -1;
	s->dbuf = mmap(NULL, CB_PIN_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (s->dbuf == MAP_FAILED) {
		s->dbuf = NULL;
		return snprintf(why, whylen, "mmap: %s", strerror(errno)), -1;
	}
	memset(s->dbuf, 0, CB_PIN_CHUNK);
	madvise(s->dbuf, CB_PIN_CHUNK, MADV_DONTFORK);
	const char *step = "ibv_alloc_pd";
	if ((s->pd = ibv_alloc_pd(s->ctx)) &&
	    (step = "ibv_reg_mr (read-only)", s->src = ibv_reg_mr(s->pd, p->buf, p->len, 0)) &&
	    (step = "ibv_reg_mr (destination)",
	     s->dst = ibv_reg_mr(s->pd, s->dbuf, CB_PIN_CHUNK,
				 IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE)) &&
	    (step = "ibv_create_cq", s->cq = ibv_create_cq(s->ctx, 4, NULL, NULL, 0))) {
		struct ibv_qp_init_attr qa = { .send_cq = s->cq, .recv_cq = s->cq,
					       .qp_type = IBV_QPT_RC,
					       .cap = { .max_send_wr = 2, .max_recv_wr = 1,
							.max_send_sge = 1, .max_recv_sge = 1 } };
		step = "ibv_create_qp";
		if ((s->qp = ibv_create_qp(s->pd, &qa)))
			return connect_self(s, why, whylen);
	}
	return snprintf(why, whylen, "%s: %s", step, strerror(errno)), -1;
}

static int wait_completion(struct rdma_pin *s, char *why, size_t whylen)
{
	struct ibv_wc wc;
	uint64_t t0 = cb_now_ns();
	int n;
	while ((n = ibv_poll_cq(s->cq, 1, &wc)) == 0) {
		if (cb_now_ns() - t0 > 30ull * 1000000000ull)
			return snprintf(why, whylen, "RDMA WRITE did not complete in 30 s"), -1;
		sched_yield();
	}
	if (n < 0)
		return snprintf(why, whylen, "ibv_poll_cq failed"), -1;
	if (wc.status != IBV_WC_SUCCESS)
		return snprintf(why, whylen, "RDMA WRITE: %s", ibv_wc_status_str(wc.status)), -1;
	return 0;
}

static int device_read(struct cb_pin *p, size_t off, void *out, size_t len, char *why,
		       size_t whylen)
{
	struct rdma_pin *s = p->state;
	struct ibv_sge sge = { .addr = (uintptr_t)(p->buf + off), .length = (uint32_t)len,
			       .lkey = s->src->lkey };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	wr.wr.rdma.remote_addr = (uintptr_t)s->dbuf;
	wr.wr.rdma.rkey = s->dst->rkey;
	int rc = ibv_post_send(s->qp, &wr, &bad);
	if (rc)
		return snprintf(why, whylen, "ibv_post_send: %s", strerror(rc)), -1;
	if (wait_completion(s, why, whylen))
		return -1;
	memcpy(out, s->dbuf, len);
	return 0;
}

static void teardown(struct cb_pin *p)
{
	struct rdma_pin *s = p->state;
	if (!s)
		return;
	if (s->qp)
		ibv_destroy_qp(s->qp);
	if (s->cq)
		ibv_destroy_cq(s->cq);
	if (s->src)
		ibv_dereg_mr(s->src); /* unpins */
	if (s->dst)
		ibv_dereg_mr(s->dst);
	if (s->pd)
		ibv_dealloc_pd(s->pd);
	if (s->ctx)
		ibv_close_device(s->ctx);
	if (s->dbuf)
		munmap(s->dbuf, CB_PIN_CHUNK);
	free(s);
	p->state = NULL;
}

#else /* !COWBENCH_HAVE_IBVERBS */

static int setup(struct cb_pin *p, char *why, size_t whylen)
{
	(void)p;
	snprintf(why, whylen, "cowbench was built without libibverbs (apt-get install "
		 "libibverbs-dev ibverbs-providers, then rebuild)");
	return -1;
}

static int device_read(struct cb_pin *p, size_t off, void *out, size_t len, char *why,
		       size_t whylen)
{
	(void)p, (void)off, (void)out, (void)len;
	snprintf(why, whylen, "no libibverbs");
	return -1;
}

static void teardown(struct cb_pin *p) { (void)p; }

#endif

const struct cb_pin_ops cb_pin_rdma = {
	.name = "rdma",
	.kind = "RDMA read-only memory region (ibv_reg_mr access 0): FOLL_WRITE|FOLL_FORCE "
		"pin through 6.1, read-only FOLL_LONGTERM pin later",
	.setup = setup,
	.device_read = device_read,
	.teardown = teardown,
};
