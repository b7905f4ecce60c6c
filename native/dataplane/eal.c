/*
 * EAL initialisation and cleanup, and keeping Node's threads off the workers' cores.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

/* ---- EAL ---- */

/*
 * Threads that existed before rte_eal_init (Node's V8 platform workers, libuv's pool, the
 * inspector) may run on any CPU, including the workers' cores. Confine every thread of the
 * process that is not an EAL lcore thread to the main lcore's CPU set; threads created later
 * inherit the main thread's affinity, which the EAL has already set.
 */
static void
pin_other_threads(void)
{
	rte_cpuset_t main_set = rte_lcore_cpuset(rte_get_main_lcore());
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], comm[32] = {0};
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, "rte-worker", 10) == 0 || strncmp(comm, "lcore-worker", 12) == 0)
			continue;
		pid_t tid = (pid_t)atoi(e->d_name);
		(void)sched_setaffinity(tid, sizeof(main_set), &main_set);
	}
	closedir(d);
}

int
dp_eal_init(int argc, char **argv, char *err, size_t errlen)
{
	if (dp.eal_ready)
		return dp_fail(err, errlen, EALREADY, "the EAL is already initialised in this process");
	dp_log_capture_start();
	/* On bad arguments the EAL prints its whole usage text with printf: keep it off stdout
	 * (the caller explains the error from the log tail instead). */
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && devnull >= 0)
		dup2(devnull, STDOUT_FILENO);
	int rc = rte_eal_init(argc, argv);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	if (rc < 0) {
		int e = rte_errno ? rte_errno : EINVAL;
		return dp_fail(err, errlen, e, "rte_eal_init failed: %s", rte_strerror(e));
	}
	dp.eal_ready = 1;
	pin_other_threads();
	return 0;
}

void
dp_eal_cleanup(void)
{
	if (dp.running)
		dp_stop();
	if (dp.eal_ready) {
		rte_eal_cleanup();
		dp.eal_ready = 0;
	}
}

uint64_t
dp_tsc_hz(void)
{
	return rte_get_tsc_hz();
}
