/*
 * DPDK log capture (the tail goes into error messages) and the error helper.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include <bpf/libbpf.h>
/*
 * ---- DPDK log capture: keep the tail for error messages; pass everything on to stderr, or
 * (dp_log_forward) to a bounded buffer the control plane's logger takes lines from ----
 */

static char log_tail[4096];
static size_t log_tail_len;

static atomic_int log_forwarding;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_pending[DP_LOG_PENDING];
static size_t log_pending_len;
static uint64_t log_dropped;

void
dp_log_forward(int on)
{
	atomic_store(&log_forwarding, on);
}

size_t
dp_log_take(char *buf, size_t len, uint64_t *dropped)
{
	size_t n = 0;
	pthread_mutex_lock(&log_lock);
	if (len > 0) {
		n = log_pending_len < len - 1 ? log_pending_len : len - 1;
		memcpy(buf, log_pending, n);
		buf[n] = 0;
		memmove(log_pending, log_pending + n, log_pending_len - n);
		log_pending_len -= n;
	}
	if (dropped)
		*dropped = log_dropped;
	log_dropped = 0;
	pthread_mutex_unlock(&log_lock);
	return n;
}

/* one write into the pending buffer, whole or not at all (a line is never cut) */
static void
log_keep(int level, const char *buf, size_t size)
{
	if (level < 1 || level > 8)
		level = 8;
	pthread_mutex_lock(&log_lock);
	if (log_pending_len + size + 2 > sizeof(log_pending)) {
		log_dropped += size;
	} else {
		log_pending[log_pending_len++] = '\x01';
		log_pending[log_pending_len++] = (char)('0' + level);
		memcpy(log_pending + log_pending_len, buf, size);
		log_pending_len += size;
	}
	pthread_mutex_unlock(&log_lock);
}

/* One message at `level` (DPDK's 1..8): to the pending buffer while forwarding, else stderr; and the tail. */
static ssize_t
log_emit(int level, const char *buf, size_t size)
{
	if (atomic_load(&log_forwarding))
		log_keep(level, buf, size);
	else
		fwrite(buf, 1, size, stderr);
	if (size >= sizeof(log_tail)) {
		buf += size - (sizeof(log_tail) - 1);
		size = sizeof(log_tail) - 1;
	}
	if (log_tail_len + size >= sizeof(log_tail)) {
		size_t drop = log_tail_len + size - (sizeof(log_tail) - 1);
		memmove(log_tail, log_tail + drop, log_tail_len - drop);
		log_tail_len -= drop;
	}
	memcpy(log_tail + log_tail_len, buf, size);
	log_tail_len += size;
	log_tail[log_tail_len] = 0;
	return (ssize_t)size;
}

static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	return log_emit(rte_log_cur_msg_loglevel(), buf, size);
}

/*
 * libbpf and libxdp print with a callback of their own (to stderr by default, outside the
 * logger's format): af_xdp's PMD and dpfwd's XDP step call them. Their lines go the way DPDK's
 * do, prefixed "libbpf: " / "libxdp: " by the libraries themselves; the logger takes the prefix
 * as the component. WARN is DPDK's WARNING (5), INFO its INFO (7); DEBUG is dropped, as the
 * libraries' default printer drops it.
 */
static int
lib_print(int warn, int debug, const char *fmt, va_list ap)
{
	if (debug)
		return 0;
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	if (n < 0)
		return 0;
	size_t len = (size_t)n < sizeof(buf) - 1 ? (size_t)n : sizeof(buf) - 2;
	if (len == 0 || buf[len - 1] != '\n')
		buf[len++] = '\n';
	buf[len] = 0;
	log_emit(warn ? 5 : 7, buf, len);
	return n;
}

static int
libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level == LIBBPF_WARN, level == LIBBPF_DEBUG, fmt, ap);
}

/* libxdp's enum libxdp_print_level has the same values (xdp/libxdp.h): WARN 0, INFO 1, DEBUG 2 */
static int
libxdp_print(int level, const char *fmt, va_list ap)
{
	return lib_print(level == 0, level == 2, fmt, ap);
}

/*
 * libbpf is linked (kernel_port.c). libxdp is loaded by af_xdp's PMD at EAL init, if installed:
 * loading it here first, with the same soname, makes the PMD get this very instance, whose
 * printer is then ours. Without libxdp (no af_xdp PMD) there is nothing to route.
 */
static void
lib_prints_route(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	libbpf_set_print(libbpf_print);
	void *h = dlopen("libxdp.so.1", RTLD_NOW | RTLD_GLOBAL);
	if (!h)
		return;
	typedef int (*xdp_print_fn)(int, const char *, va_list);
	void *(*set)(xdp_print_fn) = (void *(*)(xdp_print_fn))dlsym(h, "libxdp_set_print");
	if (set)
		set(libxdp_print);
}

const char *
dp_log_tail(void)
{
	return log_tail;
}

void
dp_log_capture_start(void)
{
	static FILE *logf;
	if (!logf) {
		cookie_io_functions_t io = {.write = log_write};
		logf = fopencookie(NULL, "w", io);
		if (logf) {
			setvbuf(logf, NULL, _IOLBF, 0);
			rte_openlog_stream(logf);
		}
	}
	lib_prints_route();
	log_tail_len = 0;
	log_tail[0] = 0;
}

int
dp_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc < 0 ? rc : -rc;
}
