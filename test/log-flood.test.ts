/**
 * A neighbour flood against the log: a hostile host sends 20,000 ARP frames with random senders
 * (test/helpers/l2-flood.py, bounded in count and time) at a forwarder logging every neighbour
 * change (`log.level: debug`, JSON, `log.rateLimit: 5`). The neighbour lines stay within the
 * rate limit (5 a second plus one summary a second) however many changes the flood causes, and
 * the summaries count what was held back.
 */
import { strict as assert } from 'assert';
import * as path from 'path';
import { ROOT, Running, startForwarder, waitFor } from './helpers/forwarder';
import { Topology, spawnIn } from './helpers/netns';

const FLOOD = path.join(ROOT, 'test', 'helpers', 'l2-flood.py');

describe('log under a neighbour flood', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;

  before(async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [
        { ...topo.port(west, 0), address: '10.1.0.1/16' },
        { ...topo.port(east, 1), address: '10.2.0.1/16' },
      ],
      fib: { maxNexthops: 1024 },
      arp: { newPerSecond: 1000 },
      log: { level: 'debug', format: 'json', rateLimit: 5 },
    });
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('neighbour lines stay within log.rateLimit per second plus one summary per second', async () => {
    const west = topo.host('west');
    const at = fwd.stderr().length;
    const t0 = Date.now();
    const sent = await new Promise<number>((resolve, reject) => {
      const p = spawnIn(west.ns, 'python3', [FLOOD, 'arp', west.hostIf, '20000', '10', '10.1.0.1', '10.1.0.0/16']);
      let out = '';
      p.stdout!.on('data', (d) => {
        out += d;
      });
      const t = setTimeout(() => p.kill('SIGKILL'), 30000);
      p.on('exit', (code) => {
        clearTimeout(t);
        if (code) reject(new Error(`l2-flood.py exit ${code}`));
        else resolve(Number(out.trim()));
      });
    });
    // the punts drain and the last summary (1 s timer) is written
    let last = -1;
    await waitFor(
      'the control plane to go quiet',
      async () => {
        const n = (await fwd.call('show.controlplane')).neighbors;
        const key = JSON.stringify(n);
        const quiet = key === String(last);
        last = key as unknown as number;
        if (!quiet) await new Promise((r) => setTimeout(r, 300));
        return quiet;
      },
      30000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const seconds = (Date.now() - t0) / 1000;
    const objs = fwd
      .stderr()
      .slice(at)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const neighbor = objs.filter((o) => o.component === 'neighbor');
    const single = neighbor.filter((o) => o.suppressed === undefined && o.from !== undefined);
    const summaries = neighbor.filter((o) => o.suppressed !== undefined);
    const held = summaries.reduce((n, o) => n + o.suppressed, 0);
    process.stderr.write(
      `      log flood: ${sent} ARP frames in ${seconds.toFixed(1)} s → ${single.length} neighbour lines, ${summaries.length} summaries holding back ${held}\n`,
    );
    assert.equal(sent, 20000);
    assert.ok(held > 0, 'the flood caused more changes than the rate allows');
    assert.ok(single.length <= 5 * (Math.ceil(seconds) + 1), `${single.length} neighbour lines in ${seconds.toFixed(1)} s`);
    assert.ok(summaries.length <= Math.ceil(seconds) + 1, `${summaries.length} summaries in ${seconds.toFixed(1)} s`);
  });
});
