/**
 * The event loop of the forwarder answers ARP, ICMP and /healthz: no client of the control
 * socket or the metrics port may hold it. Each case runs an abuse from a child process (so this
 * process stays free to measure) while a host pings the router (answered by the control plane,
 * the path ARP takes too) and through it every 50 ms and /healthz is probed every 100 ms; the
 * longest gap between ping replies and the slowest /healthz must stay under a bound with room for
 * a noisy shared machine (the failures were 25 s to minutes). Every abuse is bounded in time.
 */
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { DPFWD, freePort, startForwarder, Running, tmpDir, waitFor, dpfwdCli } from './helpers/forwarder';
import { ping, spawnIn, Topology } from './helpers/netns';
import { reloadText } from '../src/cli/commands/reload';

/**
 * The longest a ping reply or a /healthz answer may be late during an abuse: 2 s, where the
 * failures were 19 s to minutes. This shared 2-vCPU machine runs at a load average above 20 while
 * eight engineers test; an idle Node process here sees 125 ms timer gaps, and even transit pings
 * (the C fast path, no event loop involved) miss a second now and then. The forwarder's
 * punt.maxWaitMs is set to the same bound, so /healthz says ok unless the loop stalled past it.
 */
const STALL_BOUND_MS = 2000;

interface Watch {
  /** longest gap between ping replies from the router's address, from the abuse's start to its end */
  routerGapMs: number;
  /** the same for a host behind the router */
  transitGapMs: number;
  /** slowest /healthz answer (a probe still waiting at the end counts for as long as it waited) */
  healthzMaxMs: number;
  healthzAnswered: number;
  healthzNot200: number;
}

/** Pings `dst` every 50 ms from `ns` until stopped; the reply times (ms since the epoch). */
function pinger(ns: string, dst: string): { stop: () => Promise<number[]> } {
  const p = spawnIn(ns, 'ping', ['-n', '-D', '-i', '0.05', '-W', '1', dst]);
  let out = '';
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (d: string) => {
    out += d;
  });
  const ended = new Promise((r) => p.once('exit', r));
  return {
    stop: async () => {
      p.kill('SIGINT');
      await ended;
      return [...out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=\d+/gm)].map((m) => Number(m[1]) * 1000);
    },
  };
}

function longestGap(times: number[], from: number, to: number): number {
  const t = [from, ...times.filter((x) => x > from && x < to), to];
  let gap = 0;
  for (let i = 1; i < t.length; i++) gap = Math.max(gap, t[i] - t[i - 1]);
  return Math.round(gap);
}

/** GET `path` on the metrics port; resolves with the status (0 on an error). */
function get(port: number, p: string, timeoutMs = 30000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** A node script run as a child (as `uid` when given); resolves with its stdout when it exits. */
function runScript(script: string, args: string[], opts: { uid?: number; timeoutMs: number }): { proc: ChildProcess; done: Promise<string> } {
  const proc = spawn(process.execPath, ['-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    out += d;
  });
  const t = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs);
  const done = new Promise<string>((resolve) =>
    proc.once('exit', () => {
      clearTimeout(t);
      resolve(out);
    }),
  );
  return { proc, done };
}

describe('the router answers ARP, ICMP and /healthz whatever clients of the control socket and metrics port do', function () {
  this.timeout(180000);
  let fwd: Running;
  let dir: string;
  let port: number;
  const topo = new Topology();

  /** Runs `abuse` while pinging and probing; `settleMs` more are watched after it ends (closing costs count too). */
  async function watch(abuse: () => Promise<unknown>, settleMs = 2000): Promise<Watch> {
    const west = topo.host('west');
    const east = topo.host('east');
    const toRouter = pinger(west.ns, west.gw);
    const through = pinger(west.ns, east.ip);
    await new Promise((r) => setTimeout(r, 500));
    const w: Watch = { routerGapMs: 0, transitGapMs: 0, healthzMaxMs: 0, healthzAnswered: 0, healthzNot200: 0 };
    let probing = true;
    let pendingSince = 0;
    const probes = (async () => {
      while (probing) {
        const t0 = Date.now();
        pendingSince = t0;
        const status = await get(port, '/healthz');
        pendingSince = 0;
        w.healthzMaxMs = Math.max(w.healthzMaxMs, Date.now() - t0);
        w.healthzAnswered++;
        if (status !== 200) w.healthzNot200++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const from = Date.now();
    try {
      await abuse();
      await new Promise((r) => setTimeout(r, settleMs));
    } finally {
      const to = Date.now();
      probing = false;
      if (pendingSince) w.healthzMaxMs = Math.max(w.healthzMaxMs, to - pendingSince);
      const [r, t] = await Promise.all([toRouter.stop(), through.stop()]);
      w.routerGapMs = longestGap(r, from, to);
      w.transitGapMs = longestGap(t, from, to);
      await Promise.race([probes, new Promise((res) => setTimeout(res, 35000))]);
    }
    return w;
  }

  const assertNoStall = (w: Watch, what: string) => {
    const s = JSON.stringify(w);
    if (process.env.DPFWD_TEST_VERBOSE) console.log(`      ${what}: ${s}`);
    assert.ok(w.routerGapMs < STALL_BOUND_MS, `${what}: ping to the router stalled ${w.routerGapMs} ms (${s})`);
    assert.ok(w.transitGapMs < STALL_BOUND_MS, `${what}: ping through the router stalled ${w.transitGapMs} ms (${s})`);
    assert.ok(w.healthzMaxMs < STALL_BOUND_MS, `${what}: /healthz took ${w.healthzMaxMs} ms (${s})`);
    assert.equal(w.healthzNot200, 0, `${what}: /healthz not ok (${s})`);
  };

  const stillWorks = async () => {
    const r = dpfwdCli(fwd, ['show', 'ports']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(ping(topo.host('west').ns, topo.host('east').ip, 2, { interval: 0.2 }), 2, 'a ping crosses the forwarder');
  };

  before(async () => {
    dir = tmpDir('stalls');
    fs.chmodSync(dir, 0o755); // clients of another user (nobody) reach the socket
    port = await freePort();
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [topo.port(west, 0), topo.port(east, 1)],
        metrics: { listen: `127.0.0.1:${port}` },
        punt: { maxWaitMs: STALL_BOUND_MS },
      },
      { dir },
    );
    fs.chmodSync(fwd.socket, 0o666);
    await waitFor('first ping', async () => ping(west.ns, east.ip, 1) === 1, 20000);
  });
  after(async () => {
    try {
      const r = await fwd.stop();
      assert.deepEqual(r, { code: 0, signal: null }, fwd.stderr());
    } finally {
      topo.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a request nested 5,000 deep does not kill it (before: RangeError, the process exited)', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const script = `const s = require('net').connect(process.argv[1]); let b = '';
      s.on('connect', () => s.write(process.argv[2] + '\\n' + process.argv[3] + '\\n'));
      s.on('data', (d) => { b += d; if (b.split('\\n').length > 2) { process.stdout.write(b); process.exit(0); } });
      s.on('close', () => { process.stdout.write(b); process.exit(0); });`;
    const out = await runScript(script, [fwd.socket, `{"id":1,"op":${deep}}`, `{"id":2,"op":"route.add","args":{"prefix":"10.9.0.0/16","via":${deep}}}`], {
      timeoutMs: 20000,
    }).done;
    const answers = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      answers.map((a) => a.error?.code),
      ['EPROTO', 'EPROTO'],
      out.slice(0, 300),
    );
    await stillWorks();
  });

  it('one valid 60 MiB request of 20 million values (before: the loop blocked ~49 s, 83 % transit ping loss)', async () => {
    let reply = '';
    const script = `const n = 20 * 1048576; const b = Buffer.alloc(40 + n * 3);
      let o = b.write('{"id":1,"op":"health","args":{"x":[{}');
      b.fill(',{}', o, o + (n - 1) * 3); o += (n - 1) * 3;
      o += b.write(']}}\\n', o);
      const s = require('net').connect(process.argv[1]); let r = '';
      s.on('connect', () => s.write(b.subarray(0, o)));
      s.on('data', (d) => { r += d; if (r.includes('\\n')) { process.stdout.write(r); process.exit(0); } });
      s.on('error', () => process.exit(1));`;
    const w = await watch(async () => {
      reply = await runScript(script, [fwd.socket], { timeoutMs: 40000 }).done;
    });
    assertNoStall(w, '60 MiB request');
    const a = JSON.parse(reply.split('\n')[0] || 'null');
    assert.equal(a?.error?.code, 'E2BIG', reply.slice(0, 300));
    await stillWorks();
  });

  it('60 clients pipelining requests they never read, disconnecting together (before: a 25 s stall)', async () => {
    const script = `const net = require('net'); const socks = [];
      const line = JSON.stringify({ id: 1, op: 'show.ports' }) + '\\n'; const data = line.repeat(Math.ceil(4e6 / line.length));
      let open = 0;
      for (let i = 0; i < 60; i++) { const s = net.connect(process.argv[1]); socks.push(s); s.pause(); s.on('error', () => {});
        s.on('connect', () => { open++; s.write(data); }); }
      setTimeout(() => { console.log('open', open); for (const s of socks) s.destroy(); setTimeout(() => process.exit(0), 200); }, 8000);`;
    let out = '';
    const w = await watch(async () => {
      out = await runScript(script, [fwd.socket], { timeoutMs: 30000 }).done;
    }, 3000);
    assert.match(out, /open (\d+)/);
    assertNoStall(w, '60 pipelining clients');
    await stillWorks();
  });

  it('60 connections of uid nobody pipelining GET /metrics for 15 s (before: /healthz unanswered for minutes)', async () => {
    // each of 60 connections writes pipelined requests as fast as it can, and reconnects when closed
    const script = `const net = require('net'); const socks = new Set(); const t0 = Date.now(); let conns = 0;
      const req = 'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'.repeat(200);
      const open = () => { if (Date.now() - t0 >= 15000) return; conns++;
        const s = net.connect(+process.argv[1], '127.0.0.1'); socks.add(s); s.on('error', () => {});
        const more = () => { while (Date.now() - t0 < 15000 && !s.destroyed) { if (!s.write(req)) { s.once('drain', more); return; } } };
        s.on('connect', more); s.on('data', () => {}); s.on('close', () => { socks.delete(s); setTimeout(open, 10); }); };
      for (let i = 0; i < 60; i++) open();
      setTimeout(() => { console.log('connections', conns); for (const s of socks) s.destroy(); setTimeout(() => process.exit(0), 200); }, 15000);`;
    const w = await watch(() => runScript(script, [String(port)], { uid: 65534, timeoutMs: 40000 }).done, 5000);
    assertNoStall(w, 'pipelined scrapes');
    assert.equal(await get(port, '/metrics', 10000), 200);
    await stillWorks();
  });

  it('four clients of uid nobody sitting on 64 MiB lines (reconnecting) cannot lock root out (before: every CLI call got ENOBUFS)', async () => {
    // each sends maxRequestBytes - 1 bytes without a newline and holds them; reconnects when dropped
    const script = `const net = require('net'); const t0 = Date.now(); const line = Buffer.alloc(64 * 1048576 - 1, 0x61); let sent = 0;
      const open = () => { if (Date.now() - t0 > 20000) return; const s = net.connect(process.argv[1]); s.on('error', () => {});
        s.on('connect', () => { sent++; s.write(line); }); s.on('data', () => {}); s.on('close', () => setTimeout(open, 50)); };
      for (let i = 0; i < 4; i++) open();
      setTimeout(() => { console.log('sent', sent); process.exit(0); }, 21000);`;
    const abuse = runScript(script, [fwd.socket], { uid: 65534, timeoutMs: 40000 });
    let calls = 0;
    const w = await watch(async () => {
      await waitFor('the lines held', async () => (await fwd.call('show.control')).bufferedBytes > 200 * 1048576, 20000);
      for (let i = 0; i < 5; i++) {
        // the real CLI, run without blocking this process (it measures meanwhile)
        const cli = spawn(process.execPath, [DPFWD, '--socket', fwd.socket, 'show', 'ports'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        cli.stderr!.on('data', (d) => {
          err += d;
        });
        const code = await new Promise((res) => cli.once('exit', res));
        assert.equal(code, 0, `call ${i}: ${err}`);
        calls++;
        await new Promise((res) => setTimeout(res, 500));
      }
      await abuse.done;
    });
    assert.equal(calls, 5);
    const st = await fwd.call('show.control');
    assert.ok(st.refused.buffers_full >= 1, JSON.stringify(st));
    assertNoStall(w, 'four 64 MiB partial lines');
    await stillWorks();
  });

  it('a reload that removes 200,000 loaded routes answers with counts and a short list (before: the whole list, 44 MB for 1M)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 200000; i++) lines.push(`${11 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24 via 10.2.0.2`);
    const file = path.join(dir, 'routes.txt');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const load = dpfwdCli(fwd, ['route', 'load', file], 120000);
    assert.equal(load.status, 0, load.stderr);
    const r = dpfwdCli(fwd, ['reload', '-j'], 120000);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length < 20000, `a reply of ${r.stdout.length} bytes`);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.changed.routes.removed, 200000);
    assert.equal(rep.cliChangesDroppedCount, 200000);
    assert.equal(rep.cliChangesDropped.length, 100);
    assert.match(rep.cliChangesDropped[0], /^route 11\.0\.0\.0\/24 via 10\.2\.0\.2/);
    // the text says how many more there were
    const t = reloadText(rep);
    assert.match(t, /removed 200000 run-time change\(s\)/);
    assert.match(t, /^  … 199900 more$/m);
    await stillWorks();
  });
});
