/**
 * `dpfwd monitor` (issue 24: events like `ip monitor`): the real CLI in a child process prints
 * the forwarder's route, address and neighbour changes as they happen, in order, as text and as
 * JSON lines; a slow reader misses nothing the ring still holds. net_null ports.
 */
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import { DPFWD, Running, startForwarder, waitFor } from './helpers/forwarder';

const nullPorts = [
  { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
  { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
];

describe('dpfwd monitor', function () {
  this.timeout(90000);
  let fwd: Running;
  before(async () => {
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: nullPorts });
  });
  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
  });

  /** Starts `dpfwd monitor ARGS`; `out()` is what it printed so far. */
  function monitor(args: string[]) {
    const p = spawn(process.execPath, [DPFWD, '--socket', fwd.socket, 'monitor', ...args, '--interval', '50', '--timeout', '60'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => p.once('exit', r));
    return { p, out: () => out, err: () => err, exited };
  }

  /** Waits until the monitor prints a change made now (it starts from where the log is when it first asks). */
  async function inStep(m: ReturnType<typeof monitor>) {
    let i = 0;
    await waitFor('the monitor to follow', async () => {
      await fwd.call('route.add', { prefix: `10.60.${i}.0/24`, via: '10.2.0.9' });
      await fwd.call('route.del', { prefix: `10.60.${i}.0/24` });
      i++;
      await new Promise((r) => setTimeout(r, 200));
      return /route del 10\.60\.\d+\.0\/24/.test(m.out());
    });
  }

  it('prints route, address and neighbour changes in order, with -j as one JSON object per line', async () => {
    const m = monitor(['-j']);
    try {
      await inStep(m);
      const at = m.out().length;
      await fwd.call('route.add', { prefix: '10.50.0.0/16', nexthops: [{ via: '10.2.0.2' }, { via: '10.2.0.3', weight: 3 }] });
      await fwd.call('address.add', { address: '10.70.0.1/24', port: 'west' });
      await fwd.call('neighbor.add', { address: '10.2.0.2', mac: '02:00:00:00:02:02', port: 'east' });
      await fwd.call('route.del', { prefix: '10.50.0.0/16' });
      await fwd.call('address.del', { address: '10.70.0.1/24', port: 'west' });
      const lines = () =>
        m
          .out()
          .slice(at)
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { seq: number; kind: string; text: string });
      await waitFor('the address removal', async () => lines().some((e) => e.text === 'address del 10.70.0.1/24 dev west'));
      const ev = lines();
      const idx = (re: RegExp) => ev.findIndex((e) => re.test(e.text));
      const order = [
        idx(/^route add 10\.50\.0\.0\/16 nexthop via 10\.2\.0\.2 weight 1 nexthop via 10\.2\.0\.3 weight 3 proto static$/),
        idx(/^address add 10\.70\.0\.1\/24 dev west$/),
        idx(/^neighbour 10\.2\.0\.2 on east: .*PERMANENT lladdr 02:00:00:00:02:02$/),
        idx(/^route del 10\.50\.0\.0\/16 proto static$/),
        idx(/^address del 10\.70\.0\.1\/24 dev west$/),
      ];
      assert.ok(
        order.every((x, k) => x >= 0 && (k === 0 || x > order[k - 1])),
        `${JSON.stringify(order)}\n${ev.map((e) => `${e.kind} ${e.text}`).join('\n')}`,
      );
      assert.deepEqual(
        order.map((x) => ev[x].kind),
        ['route', 'address', 'neigh', 'route', 'address'],
      );
      for (let k = 1; k < ev.length; k++) assert.equal(ev[k].seq, ev[k - 1].seq + 1, 'no change skipped');
    } finally {
      m.p.kill('SIGINT');
      assert.equal(await m.exited, 0, m.err());
    }
  });

  it('text lines; KIND picks the kinds; --count stops it; a load of 5,000 routes is one line', async () => {
    const m = monitor(['route', '--count', '2']);
    await inStep(m); // (2 lines: the step's route add and route del)
    assert.equal(await m.exited, 0, m.err());
    assert.match(
      m.out(),
      /^\S+Z \[route\] route add 10\.60\.\d+\.0\/24 via 10\.2\.0\.9 proto static\n\S+Z \[route\] route del 10\.60\.\d+\.0\/24 proto static\n$/,
    );
    const j = monitor(['-j', 'route']);
    try {
      await inStep(j);
      const at = j.out().length;
      await fwd.call('address.add', { address: '10.71.0.1/24', port: 'west' }); // not a route: not printed
      const lines: string[] = [];
      for (let i = 0; i < 5000; i++) lines.push(`10.${80 + (i >> 8)}.${i & 255}.0/24 via 10.2.0.9`);
      await fwd.call('route.load', { text: lines.join('\n') });
      await waitFor('the load line', async () => j.out().slice(at).includes('route load'));
      const ev = j
        .out()
        .slice(at)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        ev.map((e: { text: string }) => e.text),
        ['route load 5000 prefixes added or replaced proto static'],
      );
    } finally {
      j.p.kill('SIGINT');
      await j.exited;
      await fwd.call('address.del', { address: '10.71.0.1/24', port: 'west' });
    }
  });
});
