/**
 * The reference forwarders: DPDK's l3fwd (LPM mode, built from Debian's dpdk-doc examples) and
 * dpdk-testpmd in io mode. Each runs as a child with the same EAL options and vdevs as dpfwd and is
 * sampled for the sink port's TX count over time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Child, onLines, start, waitOutput, nowSec } from './proc';

export const EXAMPLES = '/usr/share/dpdk/examples';

/** A running contender: sample() gives the sink's TX packets at a time in seconds. */
export interface Running {
  sample(): Promise<{ t: number; tx: number; rx?: number; busyCycles?: number; drops?: number }>;
  stop(): Promise<void>;
  tscHz?: number;
  child?: Child;
}

export interface Vdevs {
  /** capture replayed endlessly (port 0) */
  rxPcap: string;
}

export function ealArgs(prefix: string, v: Vdevs, lcores = '0-1'): string[] {
  return [
    '--in-memory',
    '--no-pci',
    '-l',
    lcores,
    '--file-prefix',
    prefix,
    '--log-level',
    'lib.eal:warning',
    '--vdev',
    `net_pcap0,rx_pcap=${v.rxPcap},infinite_rx=1`,
    '--vdev',
    'net_null0,no-rx=1',
  ];
}

/* What the l3fwd build copy changes, as (find, replace) pairs; each find must match exactly once. */
const STATS_FN = `
/* dpfwd bench: a control thread (off the forwarding core) prints port counters every 100 ms */
static void *
bench_stats_loop(void *arg)
{
	(void)arg;
	uint64_t hz = rte_get_tsc_hz();
	while (!force_quit) {
		rte_delay_us_sleep(100000);
		uint64_t now = rte_rdtsc();
		uint16_t p;
		printf("BENCHSTATS tsc=%" PRIu64 " hz=%" PRIu64, now, hz);
		RTE_ETH_FOREACH_DEV(p) {
			struct rte_eth_stats st;
			if (rte_eth_stats_get(p, &st) == 0)
				printf(" p%u=%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, p, st.ipackets,
				       st.opackets, st.imissed, st.oerrors);
		}
		printf("\\n");
		fflush(stdout);
	}
	return NULL;
}

int
main(int argc, char **argv)`;

export const L3FWD_PATCHES: { why: string; find: string; replace: string }[] = [
  {
    why: 'RX checksum offload cleared: DPDK 22.11 l3fwd requests RTE_ETH_RX_OFFLOAD_CHECKSUM, which net_pcap lacks (the port would not configure)',
    find: '.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,',
    replace: '.offloads = 0, /* dpfwd bench: RX checksum offload cleared, virtual devices lack it */',
  },
  {
    why: 'port counters printed every 100 ms by the (otherwise idle) main lcore, so the sink TX rate is read over the same window as for dpfwd',
    find: 'int\nmain(int argc, char **argv)',
    replace: STATS_FN,
  },
  {
    why: 'the counter printer runs as an EAL control thread (pinned off the EAL lcores, i.e. on CPU 0), started just before the forwarding loop',
    find: 'rte_eal_mp_remote_launch(l3fwd_lkp.main_loop, NULL, CALL_MAIN);',
    replace:
      '{\n\t\tpthread_t bench_tid;\n\t\tif (rte_ctrl_thread_create(&bench_tid, "bench-stats", NULL, bench_stats_loop, NULL) != 0)\n\t\t\trte_exit(EXIT_FAILURE, "bench stats thread\\n");\n\t}\n\trte_eal_mp_remote_launch(l3fwd_lkp.main_loop, NULL, CALL_MAIN);',
  },
];

/** Copies l3fwd into `dir`, applies L3FWD_PATCHES and builds it with its Makefile (pkg-config). Returns the binary. */
export function buildL3fwd(dir: string, log: (m: string) => void): string {
  const src = path.join(EXAMPLES, 'l3fwd');
  if (!fs.existsSync(src)) throw new Error(`${src} is missing: apt-get install -y dpdk-doc`);
  const dst = path.join(dir, 'l3fwd');
  const bin = path.join(dst, 'build', 'l3fwd');
  const stamp = path.join(dst, '.patched');
  if (fs.existsSync(bin) && fs.existsSync(stamp)) return bin;
  fs.rmSync(dst, { recursive: true, force: true });
  fs.cpSync(src, dst, { recursive: true });
  // its Makefile includes ../common (sse/port_group.h and friends)
  fs.rmSync(path.join(dir, 'common'), { recursive: true, force: true });
  fs.cpSync(path.join(EXAMPLES, 'common'), path.join(dir, 'common'), { recursive: true });
  const mainC = path.join(dst, 'main.c');
  let text = fs.readFileSync(mainC, 'utf8');
  for (const p of L3FWD_PATCHES) {
    const n = text.split(p.find).length - 1;
    if (n !== 1) throw new Error(`l3fwd patch "${p.why}": expected one match of ${JSON.stringify(p.find)} in ${mainC}, found ${n}`);
    text = text.replace(p.find, p.replace);
  }
  fs.writeFileSync(mainC, text);
  log(`building l3fwd in ${dst} (make, pkg-config libdpdk)`);
  const r = spawnSync('make', ['-C', dst, '-j2'], { encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) throw new Error(`l3fwd build failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  fs.writeFileSync(stamp, L3FWD_PATCHES.map((p) => p.why).join('\n') + '\n');
  return bin;
}

/**
 * l3fwd LPM: port 0 (capture) queue 0 on lcore 1, run with `-l 1` (lcore 1 is its main lcore and
 * forwards): l3fwd sets up one TX queue per EAL lcore and net_pcap takes only one, so `-l 0-1`
 * cannot configure the capture port. Its counter printer is a control thread on CPU 0; its built-in table sends 198.18.1.0/24 to port 1
 * (the null sink). --parse-ptype because net_pcap reports no packet types.
 */
export async function runL3fwd(bin: string, v: Vdevs, prefix: string, extra: string[] = []): Promise<Running> {
  const args = [...ealArgs(prefix, v, '1'), '--', '-p', '0x3', '--config=(0,0,1)', '--parse-ptype', '--lookup=lpm', '--eth-dest=1,02:00:00:00:09:02', ...extra];
  const c = start(bin, args);
  let last: { t: number; tx: number; rx: number; hz: number } | undefined;
  onLines(c, (line) => {
    const m = /^BENCHSTATS tsc=(\d+) hz=(\d+) p0=(\d+),\d+,\d+,\d+ p1=\d+,(\d+),\d+,\d+/.exec(line);
    if (m) last = { t: Number(m[1]) / Number(m[2]), hz: Number(m[2]), rx: Number(m[3]), tx: Number(m[4]) };
  });
  await waitOutput(c, 'l3fwd', () => last !== undefined && last.tx > 0, 60000);
  return {
    child: c,
    tscHz: last!.hz,
    sample: async () => ({ ...last! }),
    stop: async () => {
      await c.stop('SIGINT');
    },
  };
}

/** testpmd io forwarding (no L3 work): the ceiling. Stats every second; sampled at arrival time. */
export async function runTestpmd(v: Vdevs, prefix: string): Promise<Running> {
  const args = ['-o0', 'dpdk-testpmd', ...ealArgs(prefix, v), '--', '--forward-mode=io', '--nb-cores=1', '--stats-period', '1'];
  const c = start('stdbuf', args);
  let last: { t: number; tx: number } | undefined;
  let text = '';
  const re = /NIC statistics for port 1 [\s\S]*?TX-packets:\s+(\d+)/g;
  c.onData((d) => {
    text += d;
    re.lastIndex = 0;
    let m;
    let end = -1;
    while ((m = re.exec(text))) {
      last = { t: nowSec(), tx: Number(m[1]) };
      end = re.lastIndex;
    }
    if (end > 0) text = text.slice(end);
    else if (text.length > 65536) text = text.slice(-8192);
  });
  await waitOutput(c, 'testpmd', () => last !== undefined && last.tx > 0, 60000);
  return {
    child: c,
    sample: async () => {
      // the next print, so the timestamp is fresh (prints come once a second)
      const prev = last!;
      const deadline = Date.now() + 3000;
      while (last === prev && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return { ...last! };
    },
    stop: async () => {
      await c.stop('SIGINT');
    },
  };
}
