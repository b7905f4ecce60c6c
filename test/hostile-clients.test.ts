/**
 * Clients that try to break the control socket or the metrics server: prototype names as
 * operations, replies that do not serialise, oversized and never-finished requests, pipelined
 * requests whose replies are never read, floods of idle connections. First against the server
 * alone (small limits, a fake forwarder), then against a real forwarder, each case followed by a
 * check that it still answers. Every flood is bounded in count and time.
 */
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import type { Ctx } from '../src/api/actions';
import { argsForLog, ControlServer, prepareSocketPath, replyLine, startControlServer } from '../src/api/server';
import { request } from '../src/api/client';
import { CONTROL_REFUSALS, Refusals } from '../src/metrics/refusals';
import { createMetrics, MetricsServer, MetricsSource, startMetricsServer } from '../src/metrics';
import { freePort, startForwarder, Running, tmpDir, waitFor, dpfwdCli } from './helpers/forwarder';
import { ping, Topology } from './helpers/netns';

type Answer = { id: unknown; ok: boolean; result?: any; error?: { code: string; message: string } };

/** Connects, writes `data`, collects answer lines until `count` arrived or the peer closed. */
function talk(sock: string, data: string | Buffer, count = 1, timeoutMs = 10000): Promise<{ answers: Answer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    let buf = '';
    let closed = false;
    const done = () => {
      clearTimeout(t);
      const answers = buf
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l));
      s.destroy();
      resolve({ answers, closed });
    };
    const t = setTimeout(() => reject(new Error(`no ${count} answers within ${timeoutMs} ms; got ${JSON.stringify(buf.slice(0, 200))}`)), timeoutMs);
    s.setEncoding('utf8');
    s.on('error', () => {
      /* reset by the server: see closed */
    });
    s.on('connect', () => s.write(data));
    s.on('data', (d: string) => {
      buf += d;
      if (buf.split('\n').length > count) done();
    });
    s.on('close', () => {
      closed = true;
      done();
    });
  });
}

/**
 * Opens `n` idle connections (bounded: the caller closes them); resolves when each connected or
 * failed. `connected` counts those that got through (a full listen backlog refuses some under load).
 */
async function holdIdle(connect: () => net.Socket, n: number): Promise<net.Socket[] & { connected: number }> {
  const socks = [] as unknown as net.Socket[] & { connected: number };
  socks.connected = 0;
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, n - i) },
        () =>
          new Promise<void>((resolve) => {
            const s = connect();
            socks.push(s);
            s.on('error', () => resolve());
            s.on('connect', () => {
              socks.connected++;
              resolve();
            });
            s.on('close', () => resolve());
          }),
      ),
    );
  }
  return socks;
}

function fakeCtx(over: { alive?: () => unknown } = {}): Ctx {
  return {
    fwd: { dp: { workersAlive: over.alive ?? (() => 1) }, config: { workers: [{}] }, startedAt: Date.now() },
    baseline: {},
  } as unknown as Ctx;
}

describe('control socket: hostile clients against the server', function () {
  this.timeout(30000);
  let dir: string;
  let sock: string;
  let server: ControlServer;
  let logs: string[];
  let alive: () => unknown;

  const start = async (limits: Record<string, number> = {}) => {
    server?.close();
    logs = [];
    server = await startControlServer(fakeCtx({ alive: () => alive() }), sock, { limits, log: (m) => logs.push(m) });
  };
  const healthy = async () => {
    const h = (await request(sock, 'health', {}, 5000)) as { alive: number };
    assert.equal(h.alive, 1, 'the server still answers');
  };

  beforeEach(async () => {
    dir = tmpDir('hostile');
    sock = path.join(dir, 'dpfwd.sock');
    alive = () => 1;
  });
  afterEach(() => {
    server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('before the forwarder is ready, requests get EAGAIN (the client tries 3 times, then says so)', async () => {
    let ready = false;
    server = await startControlServer(fakeCtx(), sock, { ready: () => ready, log: () => undefined });
    const { answers } = await talk(sock, JSON.stringify({ id: 1, op: 'health' }) + '\n');
    assert.equal(answers[0].error?.code, 'EAGAIN');
    await assert.rejects(request(sock, 'health'), (e: Error & { code?: string }) => e.code === 'EAGAIN' && /dpfwd is starting/.test(e.message));
    setTimeout(() => {
      ready = true;
    }, 60);
    await healthy(); // a retry gets through once it is ready
  });

  it('prototype names are unknown operations, not Object.prototype members', async () => {
    await start();
    for (const op of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__']) {
      const { answers } = await talk(sock, JSON.stringify({ id: op, op }) + '\n');
      assert.equal(answers[0].error?.code, 'ENOSYS', `${op}: ${JSON.stringify(answers[0])}`);
      assert.match(answers[0].error!.message, new RegExp(`^unknown operation "${op}"`));
    }
    // a request whose JSON defines __proto__ or is an array: still a clean error
    const { answers } = await talk(sock, '{"id":1,"op":"health","__proto__":{"op":"constructor"}}\n[1,2]\nnull\n', 3);
    assert.equal(answers[0].ok, true);
    assert.deepEqual(
      answers.slice(1).map((a) => a.error?.code),
      ['ENOSYS', 'ENOSYS'],
    );
    await healthy();
  });

  it('BigInts are sent as numbers (strings past 2^53); a reply that cannot be serialised is an error reply', async () => {
    assert.equal(replyLine({ id: 1, ok: true, result: { a: 5n, b: 2n ** 70n } }), '{"id":1,"ok":true,"result":{"a":5,"b":"1180591620717411303424"}}\n');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad = JSON.parse(replyLine({ id: 7, ok: true, result: cyclic }));
    assert.deepEqual([bad.id, bad.ok, bad.error.code], [7, false, 'EINTERNAL']);
    assert.match(bad.error.message, /^the reply cannot be serialised: /);
    await start();
    alive = () => 3n;
    const { answers } = await talk(sock, JSON.stringify({ id: 1, op: 'health' }) + '\n');
    assert.equal(answers[0].result.alive, 3);
    alive = () => cyclic;
    const r2 = await talk(sock, JSON.stringify({ id: 2, op: 'health' }) + '\n');
    assert.equal(r2.answers[0].error?.code, 'EINTERNAL');
    alive = () => 1;
    await healthy();
  });

  it('a request line over maxRequestBytes is refused (E2BIG), counted, and the client disconnected', async () => {
    await start({ maxRequestBytes: 65536 });
    const { answers, closed } = await talk(sock, 'x'.repeat(200000), 2);
    assert.equal(answers[0].error?.code, 'E2BIG');
    assert.ok(closed);
    // one complete but too long line in one write is refused the same way
    const r2 = await talk(sock, JSON.stringify({ id: 1, op: 'health', pad: 'y'.repeat(70000) }) + '\n');
    assert.equal(r2.answers[0].error?.code, 'E2BIG');
    assert.equal(server.stats().refused.request_too_large, 2);
    assert.equal(server.stats().bufferedBytes, 0, 'nothing kept');
    await healthy();
  });

  it('request bytes buffered across clients are bounded by maxBufferedBytes (ENOBUFS for the client that would hold the most)', async () => {
    await start({ maxRequestBytes: 150000, maxBufferedBytes: 250000 });
    const held = await holdIdle(() => net.connect(sock), 2);
    for (const s of held) {
      s.on('error', () => undefined);
      s.write('z'.repeat(120000));
    }
    await waitFor('240000 bytes buffered', async () => server.stats().bufferedBytes === 240000);
    // a longer line than theirs: it may take the place of one (while it holds less), never pass the limit
    const { answers } = await talk(sock, 'w'.repeat(140000));
    assert.equal(answers[0].error?.code, 'ENOBUFS');
    assert.ok(server.stats().refused.buffers_full >= 1);
    assert.ok(server.stats().bufferedBytes <= 250000);
    for (const s of held) s.destroy();
    await waitFor('buffers released', async () => server.stats().bufferedBytes === 0);
    await healthy();
  });

  it('backpressure: a client that does not read its replies is not read either; it gets every reply once it reads', async () => {
    await start({ maxReplyBacklogBytes: 4096 });
    const n = 20000;
    const line = JSON.stringify({ id: 1, op: 'show.control' }) + '\n';
    const s = net.connect(sock);
    await new Promise((r) => s.once('connect', r));
    s.pause();
    s.write(line.repeat(n));
    await waitFor('the server pauses the client', async () => server.stats().paused === 1);
    const st = server.stats();
    assert.ok(st.bufferedBytes < line.length * n, `not everything read (${st.bufferedBytes} of ${line.length * n})`);
    await healthy(); // others are served meanwhile
    let got = 0;
    let rest = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${got} of ${n} replies`)), 20000);
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        const parts = (rest + d).split('\n');
        rest = parts.pop()!;
        got += parts.length;
        if (got === n) {
          clearTimeout(t);
          resolve();
        }
      });
      s.resume();
    });
    s.destroy();
    assert.equal(got, n);
  });

  it('a flood of idle clients past maxClients cannot lock a new client out: the one quiet longest is dropped', async () => {
    await start({ maxClients: 8 });
    const held = await holdIdle(() => net.connect(sock), 300);
    try {
      await healthy(); // while they are held
      const st = server.stats();
      assert.ok(st.clients <= 8, `${st.clients} clients`);
      assert.ok(st.refused.too_many_clients >= held.connected - 8, `${st.refused.too_many_clients} evicted of ${held.connected}`);
      // one log line, not one per event (the next summary comes after the interval)
      assert.equal(logs.filter((l) => /too_many_clients|maxClients/.test(l)).length, 1, logs.join('\n'));
    } finally {
      for (const s of held) s.destroy();
    }
    await healthy();
  });

  it('requests keep being answered while another process keeps opening idle connections (bounded: 4000 connections, 10 s)', async () => {
    await start({ maxClients: 8 });
    // the flood: 40 connections every millisecond-ish, each left open until evicted
    const script = `const net = require('net'); let n = 0; const t0 = Date.now();
      const tick = () => { for (let j = 0; j < 40 && n < 4000; j++, n++) net.connect(process.argv[1]).on('error', () => {});
        if (n < 4000 && Date.now() - t0 < 10000) setImmediate(tick); else setTimeout(() => process.exit(0), 200); };
      tick();`;
    const flood = spawn(process.execPath, ['-e', script, sock], { stdio: 'ignore' });
    const ended = new Promise((r) => flood.once('exit', r));
    try {
      await waitFor('the flood reaches the server', async () => server.stats().refused.too_many_clients > 100, 10000);
      for (let i = 0; i < 30; i++) await healthy();
    } finally {
      flood.kill('SIGKILL');
      await ended;
    }
    assert.ok(server.stats().refused.too_many_clients > 100);
  });

  it('a request nested 5,000 deep (as op, as an argument of a change) is refused without being echoed; the server lives', async () => {
    await start();
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    // before: RangeError (Maximum call stack size exceeded) in the unknown-op reply and in the change log: the process died
    const { answers } = await talk(sock, `{"id":1,"op":${deep(5000)}}\n{"id":2,"op":"route.add","args":{"prefix":${deep(5000)}}}\n`, 2);
    assert.deepEqual(
      answers.map((a) => [a.id, a.error?.code]),
      [
        [null, 'EPROTO'],
        [null, 'EPROTO'],
      ],
      JSON.stringify(answers),
    ); // not parsed: its id is not known
    assert.match(answers[0].error!.message, /nested deeper than 64 levels/);
    assert.ok(JSON.stringify(answers).length < 2000, 'nothing of the request echoed');
    // an op that is not a string is named by its type, a long one cut short
    const r = await talk(sock, `{"id":3,"op":${deep(10)}}\n{"id":4,"op":"${'x'.repeat(100000)}"}\n`, 2);
    assert.match(r.answers[0].error!.message, /^unknown operation \(an array\)/);
    assert.ok(r.answers[1].error!.message.length < 2000, `${r.answers[1].error!.message.length} chars`);
    // the change log's argument formatting is bounded in depth and length whatever it is given
    let v: unknown = 1;
    for (let i = 0; i < 100000; i++) v = [v];
    const logged = argsForLog({ a: v, b: 'y'.repeat(1e6) });
    assert.ok(JSON.stringify(logged).length < 400, JSON.stringify(logged));
    await healthy();
  });

  it('an id that is not null, a number, a boolean or a string of at most 128 characters is refused, not echoed', async () => {
    await start();
    const big = 'i'.repeat(1e6);
    const { answers } = await talk(
      sock,
      `{"id":"${big}","op":"health"}\n{"id":{"a":1},"op":"health"}\n{"id":"ok-7","op":"health"}\n{"id":7.5,"op":"health"}\n`,
      4,
    );
    // before: the reply echoed the 1 MB id (51 clients sending 60 MiB ids pushed RSS to 3.8 GB)
    assert.deepEqual(
      answers.map((a) => [a.id, a.ok, a.error?.code ?? null]),
      [
        [null, false, 'EPROTO'],
        [null, false, 'EPROTO'],
        ['ok-7', true, null],
        [7.5, true, null],
      ],
    );
    assert.match(answers[0].error!.message, /id must be null, a number, a boolean or a string of at most 128 characters/);
    assert.ok(JSON.stringify(answers).length < 4000);
  });

  it('a client sitting on a partial line is evicted to make room: four held lines cannot lock the CLI out (ENOBUFS before)', async () => {
    await start({ maxRequestBytes: 100000, maxBufferedBytes: 250000 });
    const held = await holdIdle(() => net.connect(sock), 4);
    const closed = held.map((s) => new Promise<void>((r) => s.once('close', () => r())));
    for (const s of held) {
      s.on('error', () => undefined);
      s.resume();
      s.write('z'.repeat(62500));
    }
    await waitFor('250000 bytes buffered', async () => server.stats().bufferedBytes === 250000);
    await healthy(); // before: ENOBUFS while they held their lines
    await Promise.race([Promise.any(closed), new Promise((_r, j) => setTimeout(() => j(new Error('no holder evicted')), 5000))]);
    assert.equal(server.stats().refused.buffers_full, 1, JSON.stringify(server.stats()));
    assert.ok(server.stats().bufferedBytes <= 187500);
    for (const s of held) s.destroy();
  });

  it('root always gets in: clients of other users never evict a root client, a root client evicts theirs', async function () {
    server?.close();
    logs = [];
    fs.chmodSync(dir, 0o755);
    server = await startControlServer(fakeCtx(), sock, { mode: 0o666, limits: { maxClients: 8 }, log: (m) => logs.push(m) });
    // root's connection: one request, then quiet (as a capture's session is)
    const root = net.connect(sock);
    let rootBuf = '';
    root.setEncoding('utf8');
    root.on('data', (d: string) => {
      rootBuf += d;
    });
    await new Promise((r) => root.once('connect', r));
    root.write('{"id":1,"op":"health"}\n');
    await waitFor('root answered', async () => rootBuf.includes('\n'));
    // uid nobody opens 200 idle connections and holds them
    const script = `const net = require('net'); let n = 0; const s = [];
      const one = () => { if (n++ >= 200) { console.log('held'); return; } const c = net.connect(process.argv[1]); s.push(c); c.on('error', () => {}); c.on('connect', one); };
      one(); setTimeout(() => process.exit(0), 20000);`;
    const flood = spawn(process.execPath, ['-e', script, sock], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => flood.once('exit', r));
    try {
      await waitFor('the flood is held', async () => server.stats().refused.too_many_clients > 150, 20000);
      // before: root's quiet connection was the one quiet longest, evicted (EBUSY) by the first newcomer
      root.write('{"id":2,"op":"health"}\n');
      await waitFor('root answered again', async () => rootBuf.split('\n').length > 2, 5000);
      assert.deepEqual(
        rootBuf
          .trim()
          .split('\n')
          .map((l) => [JSON.parse(l).id, JSON.parse(l).ok]),
        [
          [1, true],
          [2, true],
        ],
      );
      await healthy(); // a new root client gets in (it evicts one of nobody's)
      assert.ok(server.stats().clients <= 8, JSON.stringify(server.stats()));
    } finally {
      flood.kill('SIGKILL');
      await exited;
      root.destroy();
    }
  });

  it('a half-written request is dropped after requestTimeoutMs; an idle connection after idleTimeoutMs', async () => {
    await start({ requestTimeoutMs: 300, idleTimeoutMs: 600 });
    const t0 = Date.now();
    const half = await talk(sock, '{"id":1,"op":"hea', 2);
    assert.equal(half.answers[0].error?.code, 'ETIMEDOUT');
    assert.ok(half.closed);
    assert.ok(Date.now() - t0 < 5000);
    const idle = await talk(sock, '');
    assert.ok(idle.closed);
    assert.deepEqual(idle.answers, []);
    const st = server.stats();
    assert.equal(st.refused.request_timeout, 1);
    assert.equal(st.refused.idle_timeout, 1);
    await healthy();
  });
});

describe('refusal log: one line per interval, not one per event', () => {
  it('logs the first at once and sums the rest by reason after the interval', async () => {
    const lines: string[] = [];
    const r = new Refusals('test server', CONTROL_REFUSALS, (l) => lines.push(l), 200);
    for (let i = 0; i < 1000; i++) r.note(i % 2 ? 'idle_timeout' : 'too_many_clients', `event ${i}`);
    assert.deepEqual(lines, ['test server: event 0 (further refusals are summed every 0.2 s)']);
    await waitFor('the summary', async () => lines.length === 2, 5000);
    assert.equal(lines[1], 'test server: refused in the last 0.2 s: idle_timeout 500, too_many_clients 499');
    assert.equal(r.counts.too_many_clients, 500);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(lines.length, 2, 'quiet: nothing more');
    r.note('request_timeout', 'after a quiet period');
    assert.equal(lines[2], 'test server: after a quiet period (further refusals are summed every 0.2 s)');
    r.close();
  });
});

describe('control socket path: checked before anything starts, never deletes what is not a stale socket', function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(() => {
    dir = tmpDir('sockpath');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a regular file is refused and kept', async () => {
    const f = path.join(dir, 'important.txt');
    fs.writeFileSync(f, 'keep me');
    await assert.rejects(
      prepareSocketPath(f),
      (e: Error & { code?: string }) => e.code === 'EEXIST' && /exists and is a regular file, not a socket; dpfwd deletes only stale sockets/.test(e.message),
    );
    assert.equal(fs.readFileSync(f, 'utf8'), 'keep me');
  });

  it('a directory is refused with a clear error', async () => {
    await assert.rejects(
      prepareSocketPath(dir),
      (e: Error & { code?: string }) => e.code === 'EISDIR' && /is a directory; give the path of a socket file/.test(e.message),
    );
    assert.ok(fs.statSync(dir).isDirectory());
  });

  it('a path under /proc is refused quickly', async () => {
    const t0 = Date.now();
    await assert.rejects(startControlServer(fakeCtx(), '/proc/self/dpfwd.sock'), /control socket \/proc\/self\/dpfwd\.sock: .*; choose another path/);
    await assert.rejects(startControlServer(fakeCtx(), '/proc/self/status'), /exists and is a regular file/);
    assert.ok(Date.now() - t0 < 10000);
  });

  it('a live socket is refused; a stale one is replaced', async () => {
    const sock = path.join(dir, 's.sock');
    const live = net.createServer().listen(sock);
    await new Promise((r) => live.once('listening', r));
    await assert.rejects(prepareSocketPath(sock), /another dpfwd answers on/);
    // a stale socket: bound, never closed (as after kill -9)
    const stale = path.join(dir, 'stale.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.ok(fs.lstatSync(stale).isSocket());
    const s = await startControlServer(fakeCtx(), stale);
    assert.equal(((await request(stale, 'health')) as { alive: number }).alive, 1);
    s.close();
    live.close();
  });
});

describe('metrics server: connection limits (fake forwarder)', function () {
  this.timeout(30000);
  const src = {
    dp: {
      workersAlive: () => 1,
      puntStatus: () => [{ waiting: 0, capacity: 1023, sinceDrainMs: 0 }],
      names: () => ({ drops: [], dropHelp: [], punts: [], worker: [], port: [], portHelp: [] }),
    },
    config: { workers: [{}], punt: { maxWaitMs: 1000 } },
    ports: [],
  } as unknown as MetricsSource;
  let srv: MetricsServer | undefined;
  let logs: string[];
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  const healthz = (port: number, agent?: http.Agent) =>
    new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/healthz', agent: agent ?? false, timeout: 5000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });

  it('past maxConnections the idle connection quiet longest is closed; a client that sends nothing is closed after idleTimeoutMs; a served keep-alive connection is not counted', async () => {
    logs = [];
    const m = createMetrics(src, { defaults: false });
    srv = await startMetricsServer(src, m, { host: '127.0.0.1', port: 0 }, { maxConnections: 4, idleTimeoutMs: 400, keepAliveTimeoutMs: 200 }, (l) =>
      logs.push(l),
    );
    const port = srv.address.port;
    const held = await holdIdle(() => net.connect(port, '127.0.0.1'), 50);
    assert.equal(await healthz(port), 200, 'answers while 50 idle connections try to hold it');
    await waitFor('idle ones closed', async () => held.every((x) => x.destroyed || x.readableEnded), 5000);
    for (const x of held) x.destroy();
    const r = m.httpRefused!();
    assert.ok(r.too_many_connections >= held.connected - 4, JSON.stringify(r));
    assert.ok(r.idle_timeout >= 1 && r.idle_timeout <= 4, JSON.stringify(r));
    // a keep-alive connection that was served and then expires is normal, not a refusal
    const before = m.httpRefused!().idle_timeout;
    const agent = new http.Agent({ keepAlive: true });
    assert.equal(await healthz(port, agent), 200);
    await new Promise((res) => setTimeout(res, 1000));
    agent.destroy();
    assert.equal(m.httpRefused!().idle_timeout, before);
    assert.equal(logs.length, 1, `one log line for the flood:\n${logs.join('\n')}`);
  });
});

// ---- a real forwarder ----

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

function scrape(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
  });
}

describe('hostile clients against a running forwarder between two namespaces', function () {
  this.timeout(120000);
  let fwd: Running;
  let dir: string;
  let port: number;
  const topo = new Topology();
  const cli = (...args: string[]) => dpfwdCli(fwd, args);
  /** The CLI and `show` answer, the workers run, and a ping crosses the forwarder. */
  const stillWorks = async () => {
    const r = cli('show', 'ports');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /west/);
    const h = await fwd.call('health');
    assert.equal(h.alive, 1);
    assert.deepEqual([h.ok, h.problem], [true, null], 'the health op is the /healthz check');
    assert.equal(ping(topo.host('west').ns, topo.host('east').ip, 2, { interval: 0.2 }), 2, 'a ping crosses the forwarder');
  };

  before(async () => {
    dir = tmpDir('hostile-fwd');
    port = await freePort();
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    fwd = await startForwarder(
      { eal: { lcores: '0-1' }, ports: [topo.port(west, 0), topo.port(east, 1)], metrics: { listen: `127.0.0.1:${port}`, maxConnections: 16 } },
      { dir },
    );
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

  it('`constructor` and friends do not kill it', async () => {
    for (const op of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const { answers } = await talk(fwd.socket, JSON.stringify({ id: 1, op }) + '\n');
      assert.equal(answers[0].error?.code, 'ENOSYS');
    }
    await stillWorks();
  });

  it('11 MB of pipelined requests whose replies are never read: RSS stays bounded', async () => {
    const r0 = rssMiB(fwd.proc.pid!);
    const s = net.connect(fwd.socket);
    s.on('error', () => {
      /* closed at the end */
    });
    await new Promise((r) => s.once('connect', r));
    s.pause();
    const line = JSON.stringify({ id: 1, op: 'show.ports' }) + '\n';
    s.write(line.repeat(Math.ceil(11e6 / line.length)));
    await waitFor('the forwarder pauses the client', async () => (await fwd.call('show.control')).paused === 1, 20000);
    await new Promise((r) => setTimeout(r, 1000));
    const r1 = rssMiB(fwd.proc.pid!);
    s.destroy();
    // before: +444 MiB (replies queued without bound); now the backlog stops at control.maxReplyBacklogBytes
    assert.ok(r1 - r0 < 100, `RSS grew ${(r1 - r0).toFixed(0)} MiB`);
    await stillWorks();
  });

  it('20 clients sending 60 MiB lines: bounded by control.maxBufferedBytes (ENOBUFS), not the heap', async () => {
    const r0 = rssMiB(fwd.proc.pid!);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    const socks: net.Socket[] = [];
    let refused = 0;
    await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(fwd.socket);
            socks.push(s);
            let sent = 0;
            let done = false;
            const finish = () => {
              if (!done) {
                done = true;
                resolve();
              }
            };
            s.on('data', (d) => {
              if (/"ENOBUFS"/.test(String(d))) refused++;
            });
            s.on('error', finish);
            s.on('close', finish);
            const pump = () => {
              while (sent < 60 && !s.destroyed) {
                sent++;
                if (!s.write(chunk)) {
                  s.once('drain', pump);
                  return;
                }
              }
              finish(); // all written (still held open) or cut off
            };
            s.on('connect', pump);
            setTimeout(finish, 30000).unref();
          }),
      ),
    );
    await waitFor('refusals counted', async () => (await fwd.call('show.control')).refused.buffers_full >= 15, 20000);
    const r1 = rssMiB(fwd.proc.pid!);
    const st = await fwd.call('show.control');
    for (const s of socks) s.destroy();
    // before: V8 ran out of heap (exit 134) with 52 such clients; now at most maxBufferedBytes is held
    assert.ok(st.bufferedBytes <= st.limits.maxBufferedBytes, JSON.stringify(st));
    assert.ok(r1 - r0 < st.limits.maxBufferedBytes / 1048576 + 150, `RSS grew ${(r1 - r0).toFixed(0)} MiB`);
    assert.ok(refused >= 1, 'the refused clients were told why');
    await waitFor('buffers released', async () => (await fwd.call('show.control')).bufferedBytes === 0);
    await stillWorks();
  });

  it('2000 idle connections to the control socket: the CLI answers while they are held and after', async () => {
    const held = await holdIdle(() => net.connect(fwd.socket), 2000);
    try {
      await stillWorks();
      const st = await fwd.call('show.control');
      assert.ok(st.clients <= st.limits.maxClients, JSON.stringify(st));
      assert.ok(held.connected > 1000, `${held.connected} of 2000 connected`);
      assert.ok(st.refused.too_many_clients >= held.connected - st.limits.maxClients, `${JSON.stringify(st)}; ${held.connected} connected`);
    } finally {
      for (const s of held) s.destroy();
    }
    await stillWorks();
    const r = cli('show', 'control', '-j');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).refused.too_many_clients >= held.connected - 64);
  });

  it('2000 idle connections to the metrics port: a scrape and the CLI answer while they are held and after', async () => {
    const held = await holdIdle(() => net.connect(port, '127.0.0.1'), 2000);
    try {
      const r = await scrape(port);
      assert.equal(r.status, 200);
      await stillWorks();
    } finally {
      for (const s of held) s.destroy();
    }
    const r = await scrape(port);
    assert.equal(r.status, 200);
    const m = /^dpfwd_metrics_refused_total\{reason="too_many_connections"\} (\d+)$/m.exec(r.body);
    assert.ok(held.connected > 1000, `${held.connected} of 2000 connected`);
    assert.ok(m && Number(m[1]) >= held.connected - 16, `counted: ${m?.[0]} of ${held.connected}`);
    assert.match(r.body, /^dpfwd_control_refused_total\{reason="too_many_clients"\} \d+$/m);
    assert.match(fwd.stderr(), /metrics 127\.0\.0\.1:\d+: .*maxConnections/);
    await stillWorks();
  });

  it('a metrics client that sends headers too slowly is cut off (408)', async () => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('error', () => {
      /* closed */
    });
    await new Promise((r) => s.once('connect', r));
    s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    await waitFor('closed', async () => s.destroyed || s.readableEnded, 30000);
    assert.match(got, /^HTTP\/1\.1 408 /);
    s.destroy();
    const r = await scrape(port);
    assert.match(r.body, /^dpfwd_metrics_refused_total\{reason="request_timeout"\} [1-9]/m);
    await stillWorks();
  });
});
