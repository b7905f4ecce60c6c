/**
 * Does scraping /metrics disturb forwarding? One dpfwd forwarding a capture replay into a null
 * sink on one worker core; windows without scrapes and windows with a GET /metrics every 100 ms
 * alternate in the same process (so start-to-start variance does not enter), and the Mpps of
 * each pair is compared. The issue's bar: less than 1% change.
 *
 *   taskset -c 0 node dist/bench/scrape-impact.js [--reps 3] [--duration 10] [--warmup 2] [--interval 100] [--out file.json]
 *
 * taskset keeps this process (the scraper) and dpfwd's Node threads off the worker's core; on
 * a machine with few cores anything else running there (another forwarder, a build) costs the
 * worker far more than the scrapes do, so the script warns when it sees other DPDK processes.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { machine } from './lib/machine';
import { runDpfwd, rootDir } from './lib/dpfwd';
import { writeFlows } from './lib/forwarding';
import { sleep } from './lib/proc';
import { freePort } from '../test/helpers/forwarder';
import { round, summarize, meanCI, workerSwitches } from './lib/stats';

const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

function args() {
  const a = process.argv.slice(2);
  const get = (k: string) => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return {
    reps: Number(get('reps') ?? 3),
    durationMs: 1000 * Number(get('duration') ?? 10),
    warmupMs: 1000 * Number(get('warmup') ?? 2),
    intervalMs: Number(get('interval') ?? 100),
    out: get('out'),
  };
}

function scrape(url: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** Other processes that poll a core (other forwarders, testpmd, l3fwd) make the result noise. */
function otherPollers(): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (/dpfwd run|dpdk-testpmd|l3fwd/.test(cmd)) out.push(`${pid}: ${cmd.slice(0, 100)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

async function main() {
  const o = args();
  const others = otherPollers();
  if (others.length) log(`warning: other DPDK processes are running; results will be noise:\n  ${others.join('\n  ')}`);
  const tmp = path.join(rootDir, 'bench', 'tmp', `scrape-${process.pid}`);
  fs.mkdirSync(tmp, { recursive: true });
  const pcap = path.join(tmp, 'flows-1024.pcap');
  writeFlows(pcap, 1024);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/metrics`;
  const r = await runDpfwd({ rxPcap: pcap, dir: tmp, extra: { metrics: { listen: `127.0.0.1:${port}` } } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const windows: { scraping: boolean; mpps: number; scrapes: number; scrapeMs: number; bytes: number; workerInvoluntarySwitches: number }[] = [];
  const pid = r.fwd.proc.pid!;
  try {
    await sleep(o.warmupMs);
    for (let rep = 0; rep < o.reps; rep++) {
      // alternate which condition goes first, so a drift over time does not favour one
      const order = rep % 2 === 0 ? [false, true] : [true, false];
      for (const scraping of order) {
        let scrapes = 0;
        let bytes = 0;
        let busyMs = 0;
        let stop = false;
        const loop = scraping
          ? (async () => {
              while (!stop) {
                const t0 = process.hrtime.bigint();
                bytes = await scrape(url, agent);
                busyMs += Number(process.hrtime.bigint() - t0) / 1e6;
                scrapes++;
                await sleep(o.intervalMs);
              }
            })()
          : Promise.resolve();
        const sw0 = workerSwitches(pid);
        const a = await r.sample();
        await sleep(o.durationMs);
        const b = await r.sample();
        const sw1 = workerSwitches(pid);
        stop = true;
        await loop;
        const mpps = (b.tx - a.tx) / (b.t - a.t) / 1e6;
        const involuntary = sw1.involuntary - sw0.involuntary;
        windows.push({
          scraping,
          mpps: round(mpps, 3),
          scrapes,
          scrapeMs: round(scrapes ? busyMs / scrapes : 0, 2),
          bytes,
          workerInvoluntarySwitches: involuntary,
        });
        log(
          `round ${rep + 1}/${o.reps} ${scraping ? `scraping every ${o.intervalMs} ms` : 'no scrapes'}: ${mpps.toFixed(3)} Mpps${scraping ? ` (${scrapes} scrapes of ${bytes} bytes, ${(busyMs / scrapes).toFixed(2)} ms each)` : ''}`,
        );
      }
    }
  } finally {
    agent.destroy();
    await r.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const base = summarize(windows.filter((w) => !w.scraping).map((w) => w.mpps));
  const scraped = summarize(windows.filter((w) => w.scraping).map((w) => w.mpps));
  const pairs: number[] = [];
  for (let i = 0; i + 1 < windows.length; i += 2) {
    const [x, y] = windows[i].scraping ? [windows[i + 1], windows[i]] : [windows[i], windows[i + 1]];
    pairs.push(round((100 * (y.mpps - x.mpps)) / x.mpps, 3));
  }
  const changePercent = summarize(pairs).median;
  const ci = meanCI(pairs);
  const switches = {
    withScrapes: windows.filter((w) => w.scraping).reduce((t, w) => t + w.workerInvoluntarySwitches, 0),
    without: windows.filter((w) => !w.scraping).reduce((t, w) => t + w.workerInvoluntarySwitches, 0),
  };
  const within = Math.abs(ci.mean) + ci.halfWidth < 1;
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    setup: `dpfwd, one worker (lcore 1), net_pcap infinite replay of 1024 64-byte UDP flows → net_null; GET /metrics every ${o.intervalMs} ms on a keep-alive connection; ${o.reps} × (${o.durationMs / 1000} s without, ${o.durationMs / 1000} s with), alternating`,
    baselineMpps: base,
    scrapingMpps: scraped,
    pairChangePercent: pairs,
    changePercent,
    meanChangePercent: round(ci.mean, 3),
    ci95Percent: [round(ci.mean - ci.halfWidth, 3), round(ci.mean + ci.halfWidth, 3)],
    workerInvoluntarySwitches: switches,
    verdict: within
      ? 'ok: the 95% interval of the change lies within ±1%'
      : Math.abs(ci.mean) - ci.halfWidth >= 1
        ? 'over the 1% bar (the whole 95% interval is beyond 1%)'
        : 'not resolved: the 95% interval is wider than the 1% bar (noise)',
    windows,
    otherPollers: others,
  };
  process.stdout.write(
    `\nScrape impact: ${base.median.toFixed(3)} Mpps without, ${scraped.median.toFixed(3)} Mpps with a scrape every ${o.intervalMs} ms; median pair change ${changePercent}%, mean ${result.meanChangePercent}% (95% interval ${result.ci95Percent.join(' to ')}%, ${pairs.length} pairs); worker involuntary context switches: ${switches.withScrapes} with scrapes, ${switches.without} without — ${result.verdict}\n`,
  );
  if (o.out) fs.writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
