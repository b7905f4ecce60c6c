/**
 * `dpfwd top` and `show workers --watch` as an operator sees them: driven in a real terminal (tmux),
 * the screen read back with `tmux capture-pane -p`, against a forwarder replaying a capture into a
 * null sink (bounded: the forwarder runs only while the test reads a few frames).
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeUdpFlows, writePcap } from '../src/packet';
import { rates, render, Sample, si } from '../src/cli/commands/top';
import { DPFWD, Running, startForwarder, tmpDir, waitFor } from './helpers/forwarder';

const HOST_MAC = '02:00:00:00:06:02';

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** "1.23M" → 1230000 (what top prints). */
function num(s: string): number {
  const m = /^([\d.]+)([kMGT]?)$/.exec(s);
  assert.ok(m, `a rate: ${JSON.stringify(s)}`);
  return Number(m[1]) * { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'k']!;
}

/** The rows of the table whose header line starts with `first`, as objects by column. */
function rowsOf(screen: string, first: string): Record<string, string>[] {
  const lines = screen.split('\n');
  const h = lines.findIndex((l) => l.startsWith(first + ' '));
  if (h < 0) return [];
  const cols = lines[h].trim().split(/\s{2,}/);
  const out: Record<string, string>[] = [];
  for (const l of lines.slice(h + 1)) {
    if (!l.trim()) break;
    const cells = l.trim().split(/\s{2,}/);
    out.push(Object.fromEntries(cols.map((c, i) => [c, cells[i]])));
  }
  return out;
}

describe('dpfwd top (live rates)', function () {
  this.timeout(90000);
  let dir: string;
  let fwd: Running;
  const session = `dpfwd-top-${process.pid}`;

  before(async function () {
    if (spawnSync('tmux', ['-V']).status !== 0) throw new Error('tmux missing: apt-get install -y tmux (scripts/setup.sh does)');
    dir = tmpDir('top');
    // 256 flows to 10.20.0.0-255: the lower half is forwarded to east, the upper half hits a blackhole
    writePcap(
      path.join(dir, 'flows.pcap'),
      makeUdpFlows({ count: 256, srcMac: HOST_MAC, dstMac: '02:70:63:61:70:00', srcBase: '10.6.0.2', dstBase: '10.20.0.0' }),
    );
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/flows.pcap,infinite_rx=1`, address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null0,no-rx=1', address: '10.2.0.1/24' },
        ],
        neighbors: [{ address: '10.2.0.2', mac: '02:00:00:00:02:02', port: 'east' }],
        routes: [
          { prefix: '10.20.0.0/16', via: '10.2.0.2' },
          { prefix: '10.20.0.128/25', blackhole: true },
        ],
      },
      { dir },
    );
  });

  after(async () => {
    spawnSync('tmux', ['kill-session', '-t', session]);
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('in a terminal: rx rate on west, tx on east, blackhole drops/s, busy % within 0-100', async () => {
    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', `${process.execPath} ${DPFWD} top -d 1 --socket ${fwd.socket}; sleep 30`);
    // a frame is complete once its worker table is drawn
    const screen = await waitFor(
      'a frame of dpfwd top',
      async () => {
        const s = tmux('capture-pane', '-p', '-t', session);
        return rowsOf(s, 'worker').length > 0 ? s : undefined;
      },
      20000,
    );
    assert.match(screen, /^dpfwd top — .* every 1 s/m, screen);
    const ports = rowsOf(screen, 'port');
    const west = ports.find((r) => r.port === 'west');
    const east = ports.find((r) => r.port === 'east');
    assert.ok(west && east, screen);
    assert.ok(num(west['rx pps']) > 0, `west receives: ${screen}`);
    assert.equal(num(east['rx pps']), 0, `east is a sink: ${screen}`);
    assert.ok(num(east['tx pps']) > 0, `east transmits what west received: ${screen}`);
    assert.ok(num(west['rx bit/s']) >= 8 * 60 * num(west['rx pps']) * 0.5, `bit/s counts bytes: ${screen}`);
    const drops = screen.split('\n').filter((l) => /^west\s+blackhole\s+\S+/.test(l));
    assert.equal(drops.length, 1, `blackhole drops/s on west: ${screen}`);
    assert.ok(num(drops[0].trim().split(/\s+/)[2]) > 0, screen);
    const w = rowsOf(screen, 'worker');
    assert.equal(w.length, 1);
    assert.equal(w[0].lcore, '1');
    const busy = Number(w[0]['busy %']);
    assert.ok(busy > 0 && busy <= 100, `busy % ${busy}: ${screen}`);
    assert.ok(Number(w[0]['pkts/burst']) > 0 && Number(w[0]['pkts/burst']) <= 32, screen);
    assert.ok(Number(w[0]['cycles/pkt']) > 0, screen);
    // the view refreshes in place (ANSI clear): one header on the screen, and a later frame replaces it
    await new Promise((r) => setTimeout(r, 2200));
    const later = tmux('capture-pane', '-p', '-t', session);
    assert.equal(later.match(/^dpfwd top —/gm)?.length, 1, later);
    assert.notEqual(later.match(/\d\d:\d\d:\d\d UTC/)?.[0], screen.match(/\d\d:\d\d:\d\d UTC/)?.[0], 'the clock moved: a new frame');
    // Ctrl-C ends it cleanly (the shell then runs `sleep`, so the pane stays to be read)
    tmux('send-keys', '-t', session, 'C-c');
    await new Promise((r) => setTimeout(r, 1500));
    const after = tmux('capture-pane', '-p', '-t', session);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(tmux('capture-pane', '-p', '-t', session), after, 'no more frames after Ctrl-C');
  });

  it('show workers --watch 1: the worker table only, per interval', async () => {
    const s2 = `${session}-w`;
    try {
      tmux('new-session', '-d', '-s', s2, '-x', '160', '-y', '20', `${process.execPath} ${DPFWD} show workers --watch 1 --socket ${fwd.socket}; sleep 30`);
      const screen = await waitFor(
        'a frame of show workers --watch',
        async () => {
          const s = tmux('capture-pane', '-p', '-t', s2);
          return rowsOf(s, 'worker').length > 0 ? s : undefined;
        },
        20000,
      );
      assert.match(screen, /^dpfwd show workers --watch 1 — /m);
      assert.equal(rowsOf(screen, 'port').length, 0, 'no port table');
      const busy = Number(rowsOf(screen, 'worker')[0]['busy %']);
      assert.ok(busy > 0 && busy <= 100, screen);
    } finally {
      spawnSync('tmux', ['kill-session', '-t', s2]);
    }
  });

  it('q quits, as in top(1): exit 0 and the terminal back in cooked mode', async () => {
    const s3 = `${session}-q`;
    try {
      tmux(
        'new-session',
        '-d',
        '-s',
        s3,
        '-x',
        '160',
        '-y',
        '40',
        `${process.execPath} ${DPFWD} top -d 1 --socket ${fwd.socket}; echo "top exited $? mode $(stty -a | grep -o -- '-\\?icanon')"; sleep 30`,
      );
      await waitFor('a frame of dpfwd top', async () => (rowsOf(tmux('capture-pane', '-p', '-t', s3), 'worker').length > 0 ? true : undefined), 20000);
      tmux('send-keys', '-t', s3, 'q');
      const screen = await waitFor(
        'top to exit on q',
        async () => {
          const s = tmux('capture-pane', '-p', '-t', s3);
          return /top exited \d+ mode/.test(s) ? s : undefined;
        },
        5000,
      );
      assert.match(screen, /top exited 0 mode icanon$/m, `exit 0 and canonical mode restored: ${screen}`);
    } finally {
      spawnSync('tmux', ['kill-session', '-t', s3]);
    }
  });

  it('--once -j and -n 2 for scripts: JSON rates, frames appended without clearing', () => {
    const once = spawnSync(process.execPath, [DPFWD, 'top', '--once', '-j', '-d', '0.5', '--socket', fwd.socket], { encoding: 'utf8', timeout: 20000 });
    assert.equal(once.status, 0, once.stderr);
    const lines = once.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const r = JSON.parse(lines[0]);
    assert.ok(r.seconds > 0.3 && r.seconds < 5, `interval ${r.seconds}`);
    assert.ok(r.ports.find((p: any) => p.port === 'west').rx_pps > 0);
    assert.ok(r.drops.some((d: any) => d.port === 'west' && d.reason === 'blackhole' && d.per_second > 0));
    assert.ok(r.workers[0].busy_percent > 0 && r.workers[0].busy_percent <= 100);
    const two = spawnSync(process.execPath, [DPFWD, 'top', '-n', '2', '-d', '0.5', '--socket', fwd.socket], { encoding: 'utf8', timeout: 20000 });
    assert.equal(two.status, 0, two.stderr);
    assert.equal(two.stdout.match(/^dpfwd top —/gm)?.length, 2, two.stdout);
    assert.ok(!two.stdout.includes('\x1b['), 'no escape codes in frames for scripts');
    const bad = spawnSync(process.execPath, [DPFWD, 'top', '-d', '0', '--socket', fwd.socket], { encoding: 'utf8', timeout: 20000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /interval 0 s: give a number of seconds above 0/);
  });
});

describe('dpfwd top: rates()', () => {
  const s = (atMs: number, k: number): Sample => ({
    atMs,
    tscHz: 1e9,
    drops: ['no_route', 'blackhole'],
    lcores: [3],
    ports: [{ name: 'a', rxPackets: 1000 * k, rxBytes: 64000 * k, txPackets: 500 * k, txBytes: 32000 * k, missed: 0 }],
    workers: [
      {
        index: 0,
        counters: { rx_packets: 1000 * k, rx_bursts: 100 * k, busy_cycles: 3e8 * k, idle_cycles: 1e8 * k, sleep_cycles: 5e7 * k },
        drops: [[0, 10 * k]],
      },
    ],
  });
  it('per second over the interval, busy % and sleep % of cycles in it, per packet and per burst', () => {
    const r = rates(s(0, 1), s(2000, 3));
    assert.deepEqual(r.ports, [{ port: 'a', rx_pps: 1000, rx_bps: 512000, tx_pps: 500, tx_bps: 256000, missed_ps: 0 }]);
    assert.deepEqual(r.drops, [{ port: 'a', reason: 'blackhole', per_second: 10 }]);
    assert.deepEqual(r.workers, [
      { worker: 0, lcore: 3, rx_pps: 1000, busy_percent: 75, sleep_percent: 12.5, cycles_per_packet: 300000, packets_per_burst: 10 },
    ]);
    assert.match(render(r), /blackhole\s+10\n/);
  });
  it('a counter that went back (a restarted forwarder) is a zero rate, not a negative one', () => {
    const r = rates(s(0, 5), s(1000, 1));
    assert.equal(r.ports[0].rx_pps, 0);
    assert.equal(r.workers[0].busy_percent, 0);
    assert.deepEqual(r.drops, []);
  });
  it('si()', () => {
    assert.deepEqual([0, 999, 1000, 12345, 1234567, 98.7e9].map(si), ['0', '999', '1.00k', '12.3k', '1.23M', '98.7G']);
  });
});
