/**
 * The ARP state machine against a real RIB over a fake FIB (no DPDK): what it learns from which
 * ARP evidence (as Linux's arp_process), the lock time, the caps and budgets, and that every
 * dynamic entry is in one state with its timer armed — also when the RIB refuses a write.
 */
import { strict as assert } from 'assert';
import { ArpConfig } from '../src/config/types';
import { DpfwdError } from '../src/errors';
import { Neighbors, NeighEntry } from '../src/neighbors';
import { Rib } from '../src/routing/rib';
import { parseIPv4 } from '../src/net/ipv4';
import { Mac, parseMac } from '../src/net/mac';
import { NullFib } from './helpers/nullfib';

const ip = parseIPv4;
const MAC_A = parseMac('02:00:00:00:00:0a');
const MAC_B = parseMac('02:00:00:00:00:0b');

function setup(arp: Partial<ArpConfig> = {}, opts: { maxNexthops?: number; learnedMax?: number; summaryMs?: number } = {}) {
  const cfg: ArpConfig = {
    reachableMs: 60000,
    staleMs: 60000,
    retransmitMs: 60000,
    probes: 3,
    queueLen: 4,
    maxEntries: 100,
    maxIncomplete: 100,
    newPerSecond: 1000,
    lockMs: 1000,
    ...arp,
  };
  const rib = new Rib(
    new NullFib(),
    [
      { name: 'west', index: 0 },
      { name: 'east', index: 1 },
    ],
    opts.maxNexthops ?? 1024,
    opts.learnedMax,
  );
  rib.addAddress('west', ip('10.1.0.1'), 16);
  rib.addAddress('east', ip('10.2.0.1'), 16);
  const clock = { t: 1_000_000 };
  const sent: { port: number; addr: string; mac: Mac | null }[] = [];
  const logs: string[] = [];
  const n = new Neighbors(
    rib,
    cfg,
    {
      sendRequest: (port, addr, mac) => sent.push({ port, addr: `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`, mac }),
      flush: () => {},
      failed: () => {},
    },
    () => clock.t,
    (m) => logs.push(m),
    opts.summaryMs,
  );
  return { n, rib, clock, sent, logs, cfg };
}

/** Every entry in a dynamic state has its timer; permanent ones have none; the budgets' counts are right. */
function assertTimed(n: Neighbors): void {
  for (const e of n.list()) {
    if (e.state === 'PERMANENT') assert.equal(n.timerMs(e), null, `${e.addr} permanent with a timer`);
    else assert.equal(typeof n.timerMs(e), 'number', `${e.addr} ${e.state} without a timer`);
  }
  const inner = n as unknown as { incomplete: number; dynamic: number };
  assert.equal(inner.incomplete, n.list().filter((e) => e.state === 'INCOMPLETE').length, 'INCOMPLETE count');
  assert.equal(inner.dynamic, n.list().filter((e) => e.state !== 'PERMANENT' && !e.gateway).length, 'dynamic count');
}

describe('neighbours: what ARP teaches (as Linux)', () => {
  let s: ReturnType<typeof setup>;
  afterEach(() => s.n.stop());

  it('an unsolicited reply or a request for another host about an unknown address creates nothing', () => {
    s = setup();
    assert.equal(s.n.learn(ip('10.1.0.9'), 0, MAC_A, 'unsolicited'), false);
    assert.equal(s.n.learn(ip('10.1.0.9'), 0, MAC_A, 'solicited'), false, 'a reply we did not ask for');
    assert.equal(s.n.get(ip('10.1.0.9')), undefined);
    assert.equal(s.rib.getNeighbor(ip('10.1.0.9')), undefined);
    assert.equal(s.n.ignored.unsolicited, 2);
  });

  it('a request for our address creates a STALE entry and probes it by unicast; the reply confirms it', () => {
    s = setup();
    assert.equal(s.n.learn(ip('10.1.0.9'), 0, MAC_A, 'request'), true);
    assert.equal(s.n.get(ip('10.1.0.9'))!.state, 'STALE');
    assert.equal(s.rib.getNeighbor(ip('10.1.0.9'))!.mac, MAC_A, 'forwarded to while STALE');
    assert.deepEqual(s.sent, [{ port: 0, addr: '10.1.0.9', mac: MAC_A }]);
    s.n.learn(ip('10.1.0.9'), 0, MAC_A, 'solicited');
    assert.equal(s.n.get(ip('10.1.0.9'))!.state, 'REACHABLE');
    assertTimed(s.n);
  });

  it('a reply to our broadcast request resolves an INCOMPLETE entry', () => {
    s = setup();
    s.n.resolve(ip('10.2.0.7'), 1);
    assert.deepEqual(s.sent, [{ port: 1, addr: '10.2.0.7', mac: null }]);
    s.n.learn(ip('10.2.0.7'), 1, MAC_B, 'solicited');
    assert.equal(s.n.get(ip('10.2.0.7'))!.state, 'REACHABLE');
    assert.equal(s.rib.getNeighbor(ip('10.2.0.7'))!.mac, MAC_B);
  });

  it('an unsolicited MAC change of a REACHABLE entry waits arp.lockMs, then is probed (STALE)', () => {
    s = setup({ lockMs: 1000 });
    s.n.resolve(ip('10.1.0.5'), 0);
    s.n.learn(ip('10.1.0.5'), 0, MAC_A, 'solicited');
    s.clock.t += 500;
    assert.equal(s.n.learn(ip('10.1.0.5'), 0, MAC_B, 'unsolicited'), false);
    assert.equal(s.n.learn(ip('10.1.0.5'), 0, MAC_B, 'request'), false, 'a request to us with a new MAC is unsolicited too');
    assert.equal(s.n.ignored.locktime, 2);
    assert.equal(s.rib.getNeighbor(ip('10.1.0.5'))!.mac, MAC_A, 'not poisoned');
    s.clock.t += 600;
    assert.equal(s.n.learn(ip('10.1.0.5'), 0, MAC_B, 'unsolicited'), true);
    const e = s.n.get(ip('10.1.0.5'))!;
    assert.deepEqual([e.state, e.mac], ['STALE', MAC_B]);
    assert.deepEqual(s.sent.at(-1), { port: 0, addr: '10.1.0.5', mac: MAC_B }, 'the new MAC is probed');
    assertTimed(s.n);
  });

  it('the same MAC, unsolicited, refreshes a known entry', () => {
    s = setup();
    s.n.resolve(ip('10.1.0.5'), 0);
    s.n.learn(ip('10.1.0.5'), 0, MAC_A, 'solicited');
    s.clock.t += 10;
    assert.equal(s.n.learn(ip('10.1.0.5'), 0, MAC_A, 'unsolicited'), true);
    assert.equal(s.n.get(ip('10.1.0.5'))!.state, 'REACHABLE');
  });
});

describe('neighbours: bounded', () => {
  let s: ReturnType<typeof setup>;
  afterEach(() => s.n.stop());

  it('refuses new entries beyond arp.newPerSecond per port, counting them; gateways are exempt', () => {
    s = setup({ newPerSecond: 5 });
    for (let i = 0; i < 8; i++) s.n.resolve(ip('10.2.1.0') + i, 1);
    assert.equal(s.n.list().length, 5);
    assert.equal(s.n.limits.rate, 3);
    assert.equal(s.n.limitsByPort[1].rate, 3);
    s.n.resolve(ip('10.2.0.254'), 1, undefined, true);
    assert.equal(s.n.get(ip('10.2.0.254'))!.state, 'INCOMPLETE', "a route's gateway is resolved anyway");
    assert.equal(s.n.learn(ip('10.1.0.3'), 0, MAC_A, 'request'), true, 'the other port has its own budget');
    s.clock.t += 1000;
    s.n.resolve(ip('10.2.2.0'), 1);
    assert.equal(s.n.get(ip('10.2.2.0'))!.state, 'INCOMPLETE', 'the bucket refills');
    assertTimed(s.n);
  });

  it('keeps at most arp.maxIncomplete INCOMPLETE entries, giving up the oldest', () => {
    s = setup({ maxIncomplete: 3 });
    for (let i = 1; i <= 5; i++) s.n.resolve(ip('10.2.1.0') + i, 1);
    assert.equal(s.n.countByState().INCOMPLETE, 3);
    assert.deepEqual(
      s.n.list().map((e) => e.addr - ip('10.2.1.0')),
      [3, 4, 5],
    );
    assert.equal(s.n.limits.incomplete, 2);
    assertTimed(s.n);
  });

  it('keeps at most arp.maxEntries dynamic entries: gives up FAILED/STALE ones, never REACHABLE ones', () => {
    s = setup({ maxEntries: 3 });
    for (let i = 1; i <= 3; i++) {
      s.n.resolve(ip('10.1.1.0') + i, 0);
      s.n.learn(ip('10.1.1.0') + i, 0, MAC_A, 'solicited');
    }
    s.n.resolve(ip('10.1.2.1'), 0);
    assert.equal(s.n.get(ip('10.1.2.1')), undefined, 'full of REACHABLE entries: refused');
    assert.equal(s.n.limits.table_full, 1);
    s.n.learn(ip('10.1.1.2'), 0, MAC_B, 'unsolicited'); // past lockMs? no: clock did not move
    s.clock.t += 2000;
    s.n.learn(ip('10.1.1.2'), 0, MAC_B, 'unsolicited'); // now STALE
    s.n.learn(ip('10.1.3.1'), 0, MAC_A, 'request');
    assert.equal(s.n.get(ip('10.1.1.2')), undefined, 'the STALE entry made room');
    assert.equal(s.rib.getNeighbor(ip('10.1.1.2')), undefined, 'and its host route went with it');
    assert.equal(s.n.get(ip('10.1.3.1'))!.state, 'STALE');
    assertTimed(s.n);
  });

  it('a FAILED entry resolving again in a full table keeps its place (and the counts stay right)', async () => {
    s = setup({ maxEntries: 2, maxIncomplete: 2, probes: 1, retransmitMs: 5 });
    s.n.resolve(ip('10.2.1.1'), 1);
    s.n.resolve(ip('10.2.1.2'), 1);
    await new Promise((r) => setTimeout(r, 50)); // both FAILED
    assert.deepEqual(s.n.countByState(), { INCOMPLETE: 0, REACHABLE: 0, STALE: 0, FAILED: 2, PERMANENT: 0 });
    s.n.resolve(ip('10.2.1.1'), 1);
    assert.equal(s.n.get(ip('10.2.1.1'))!.state, 'INCOMPLETE');
    assert.equal(s.n.get(ip('10.2.1.2'))!.state, 'FAILED', 'nothing given up for it');
    s.n.resolve(ip('10.2.1.3'), 1); // full: the FAILED one makes room
    assert.deepEqual(
      s.n.list().map((e) => [e.addr - ip('10.2.1.0'), e.state]),
      [
        [1, 'INCOMPLETE'],
        [3, 'INCOMPLETE'],
      ],
    );
    s.n.resolve(ip('10.2.1.4'), 1); // two INCOMPLETE at the cap of 2: the oldest is given up
    assert.deepEqual(
      s.n.list().map((e) => [e.addr - ip('10.2.1.0'), e.state]),
      [
        [3, 'INCOMPLETE'],
        [4, 'INCOMPLETE'],
      ],
    );
    assertTimed(s.n);
  });

  it('never gives up an entry that a route uses as its gateway, even when STALE', () => {
    s = setup({ maxEntries: 2 });
    s.n.learn(ip('10.1.1.1'), 0, MAC_A, 'request'); // STALE
    s.rib.addRoute({ addr: ip('10.9.0.0'), len: 16, via: ip('10.1.1.1') });
    s.n.learn(ip('10.1.1.2'), 0, MAC_A, 'request'); // STALE
    s.n.learn(ip('10.1.1.3'), 0, MAC_A, 'request');
    assert.ok(s.n.get(ip('10.1.1.1')), 'the gateway stays');
    assert.equal(s.n.get(ip('10.1.1.2')), undefined, 'the other STALE entry made room');
    assert.equal(s.n.get(ip('10.1.1.3'))!.state, 'STALE');
    assertTimed(s.n);
  });

  it('a RIB with no learned next hop left refuses the entry and changes nothing (no REACHABLE entry without a timer)', () => {
    s = setup({}, { learnedMax: 2 });
    s.n.learn(ip('10.1.0.11'), 0, MAC_A, 'request');
    s.n.learn(ip('10.1.0.12'), 0, MAC_A, 'request');
    assert.equal(s.n.learn(ip('10.1.0.13'), 0, MAC_A, 'request'), false);
    assert.equal(s.n.get(ip('10.1.0.13')), undefined);
    assert.equal(s.rib.getNeighbor(ip('10.1.0.13')), undefined);
    assert.equal(s.n.limits.nexthops, 1);
    // an INCOMPLETE entry whose answer finds no next hop stays INCOMPLETE, with its timer
    s.n.resolve(ip('10.1.0.14'), 0);
    assert.equal(s.n.learn(ip('10.1.0.14'), 0, MAC_B, 'solicited'), false);
    assert.equal(s.n.get(ip('10.1.0.14'))!.state, 'INCOMPLETE');
    assertTimed(s.n);
    // routes keep theirs
    s.rib.addRoute({ addr: ip('10.9.0.0'), len: 16, via: ip('10.1.0.200') });
    assert.deepEqual(s.rib.nexthopUsage().learned, 2);
  });

  it('learned neighbours get at most the learned budget of next hops; routes the rest', () => {
    s = setup({ maxEntries: 1000, newPerSecond: 100000 }, { maxNexthops: 64, learnedMax: 16 });
    for (let i = 1; i <= 40; i++) s.n.learn(ip('10.1.5.0') + i, 0, MAC_A, 'request');
    assert.equal(s.rib.nexthopUsage().learned, 16);
    for (let i = 1; i <= 40; i++) s.rib.addRoute({ addr: ip('10.100.0.0') + i * 256, len: 24, via: ip('10.2.0.0') + 100 + i });
    assert.ok(s.rib.nexthopUsage().used <= 64);
  });

  it('logs one summary line per interval, not one per refusal', async () => {
    s = setup({ newPerSecond: 1 }, { summaryMs: 20 });
    for (let i = 0; i < 1000; i++) s.n.resolve(ip('10.2.1.0') + i, 1);
    s.n.learn(ip('10.1.0.77'), 0, MAC_A, 'unsolicited');
    assert.equal(s.n.limits.rate, 999);
    assert.equal(s.logs.length, 0, 'nothing yet: the summary comes at the end of the interval');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(s.logs, ['neighbours: in the last 0.02 s, limits hit: rate 999; ARP ignored: unsolicited 1 (see arp: in docs/config.md)']);
  });
});

describe('neighbours: random events keep every invariant', () => {
  it('5000 random resolves, ARP evidence, static entries and timer runs: counts right, every entry timed, budgets kept', async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const s = setup(
      { maxEntries: 20, maxIncomplete: 8, newPerSecond: 50, lockMs: 3, retransmitMs: 2, reachableMs: 4, staleMs: 6, probes: 2 },
      { maxNexthops: 128, learnedMax: 20 },
    );
    s.rib.addRoute({ addr: ip('10.9.0.0'), len: 16, via: ip('10.1.0.40') });
    const how = ['solicited', 'request', 'unsolicited'] as const;
    for (let i = 0; i < 5000; i++) {
      s.clock.t = Date.now();
      const port = rnd(2);
      const addr = (port === 0 ? ip('10.1.0.0') : ip('10.2.0.0')) + 2 + rnd(60);
      const op = rnd(10);
      if (op < 4) s.n.resolve(addr, port, Buffer.alloc(40), addr === ip('10.1.0.40'));
      else if (op < 9) s.n.learn(addr, port, rnd(2) ? MAC_A : MAC_B, how[rnd(3)]);
      else if (rnd(20) === 0) {
        s.rib.setNeighbor(addr, port, MAC_A, true);
        s.n.setPermanent(addr, port, MAC_A);
      }
      assertTimed(s.n);
      assert.ok(s.rib.nexthopUsage().learned <= 20);
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    s.n.stop();
    const seen = s.n.countByState();
    assert.ok(s.n.limits.rate > 0 && s.n.limits.table_full + s.n.limits.incomplete > 0, JSON.stringify(s.n.limits));
    assert.ok(seen.REACHABLE + seen.STALE + seen.INCOMPLETE + seen.FAILED > 0, JSON.stringify(seen));
  });
});

describe('neighbours: every state has its timer', () => {
  it('timers move INCOMPLETE → FAILED → gone, REACHABLE → STALE → FAILED, each with a timer armed', async () => {
    const s = setup({ retransmitMs: 5, reachableMs: 5, staleMs: 5, probes: 2 });
    const seen = new Set<string>();
    const watch = (e: NeighEntry | undefined) => {
      if (e) {
        seen.add(e.state);
        assertTimed(s.n);
      }
    };
    s.n.resolve(ip('10.2.0.9'), 1);
    s.n.resolve(ip('10.2.0.8'), 1);
    s.n.learn(ip('10.2.0.8'), 1, MAC_A, 'solicited');
    const deadline = Date.now() + 5000;
    while ((s.n.get(ip('10.2.0.9')) || s.n.get(ip('10.2.0.8'))) && Date.now() < deadline) {
      s.clock.t = Date.now();
      watch(s.n.get(ip('10.2.0.8')));
      watch(s.n.get(ip('10.2.0.9')));
      await new Promise((r) => setTimeout(r, 1));
    }
    s.n.stop();
    assert.equal(s.n.list().length, 0, 'both aged out');
    for (const st of ['INCOMPLETE', 'REACHABLE', 'STALE', 'FAILED']) assert.ok(seen.has(st), `saw ${st}: ${[...seen]}`);
  });

  it('a setNeighbor that throws something other than ENOSPC is not swallowed', () => {
    const s = setup();
    (s.rib as unknown as { setNeighbor: () => void }).setNeighbor = () => {
      throw new DpfwdError('EIO', 'boom');
    };
    assert.throws(() => s.n.learn(ip('10.1.0.11'), 0, MAC_A, 'request'), /boom/);
    assert.equal(s.n.get(ip('10.1.0.11')), undefined);
    s.n.stop();
  });
});
