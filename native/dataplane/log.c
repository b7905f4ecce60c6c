/*
 * DPDK log capture (the tail goes into error messages) and the error helper.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
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

void dp_log_forward(int on) { atomic_store(&log_forwarding, on); }

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
	if (dropped) *dropped = log_dropped;
	log_dropped = 0;
	pthread_mutex_unlock(&log_lock);
	return n;
}

/* one write into the pending buffer, whole or not at all (a line is never cut) */
static void
log_keep(const char *buf, size_t size)
{
	int level = rte_log_cur_msg_loglevel();
	if (level < 1 || level > 8) level = 8;
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

static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	if (atomic_load(&log_forwarding))
		log_keep(buf, size);
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

const char *dp_log_tail(void) { return log_tail; }

void
dp_log_capture_start(void)
{
	static FILE *logf;
	if (!logf) {
		cookie_io_functions_t io = { .write = log_write };
		logf = fopencookie(NULL, "w", io);
		if (logf) {
			setvbuf(logf, NULL, _IOLBF, 0);
			rte_openlog_stream(logf);
		}
	}
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
