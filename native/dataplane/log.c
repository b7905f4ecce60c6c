/*
 * DPDK log capture (the tail goes into error messages) and the error helper.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

#include <stdarg.h>
/* ---- DPDK log capture: keep the tail for error messages, pass everything on to stderr ---- */

static char log_tail[4096];
static size_t log_tail_len;

static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
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
