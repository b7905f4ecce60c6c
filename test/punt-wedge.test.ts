/**
 * The punt path under a sustained flood with the worker's CPU contended (issue 11, item 1): a
 * TTL=1 flood from a host while a busy loop shares CPU 1 with the worker. Before the fix a lost
 * wake-up left the punt ring full and the control plane asleep for good (no ARP, no ping to the
 * router) while /healthz said ok. Afterwards ARP, ping to the router and forwarding must work, and
 * /healthz must never have said ok at a moment the router could not be reached.
 */
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as http from 'http';
import * as path from 'path';
import { ROOT, startForwarder, Running, totals, freePort } from './helpers/forwarder';
import { Topology, ping, sh, spawnIn } from './helpers/netns';

const ARP = { reachableMs: 1500, staleMs: 5000, retransmitMs: 200, probes: 2 };
const FLOOD_MS = 15000;
const MAX_WAIT_MS = 1000;

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
  });
}

describe('punt path: a sustained TTL=1 flood with the worker CPU contended cannot wedge the control plane', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let health: string;
  let hog: ChildProcess | undefined;
  const stopHog = () => {
    if (hog?.pid && hog.exitCode === null && hog.signalCode === null) {
      try {
        process.kill(hog.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };

  before(async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    const port = await freePort();
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [topo.port(west, 0), topo.port(east, 1)],
      arp: ARP,
      punt: { maxWaitMs: MAX_WAIT_MS },
      metrics: { listen: `127.0.0.1:${port}` },
    });
    health = `http://127.0.0.1:${port}/healthz`;
  });

  after(async () => {
    stopHog();
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('keeps ARP, ping to the router and forwarding working, and /healthz honest', async () => {
    const west = topo.host('west');
    const east = topo.host('east');
    assert.equal(ping(west.ns, east.ip, 2), 2, 'forwarding works before the flood');
    assert.equal((await get(health)).status, 200, 'healthy before the flood');
    const t0 = await totals(fwd);

    // a busy loop on the worker's CPU, bounded in time, ended by its PID
    hog = spawn('taskset', ['-c', '1', process.execPath, '-e', `const e = Date.now() + ${FLOOD_MS + 2000}; while (Date.now() < e);`], { stdio: 'ignore' });
    const flood = spawnIn(west.ns, process.execPath, [path.join(ROOT, 'test', 'helpers', 'ttl1-flood.js'), east.ip, String(FLOOD_MS), '50000000']);
    let sent = '';
    flood.stdout!.on('data', (d) => {
      sent += d;
    });
    const floodDone = new Promise((r) => flood.on('exit', r));
    let flooding = true;
    floodDone.then(() => {
      flooding = false;
    });
    const samples: { status: number; body: string }[] = [];
    while (flooding) {
      samples.push(await get(health));
      await new Promise((r) => setTimeout(r, 250));
    }
    stopHog();
    const t1 = await totals(fwd);
    const ttl = t1.drops.west.ttl_expired - t0.drops.west.ttl_expired;
    const punted = t1.punted.ttl_expired - t0.punted.ttl_expired;
    console.log(
      `      flood: ${sent} sent, ${ttl} TTL-expired, ${punted} punted, /healthz during it: ${samples.filter((s) => s.status === 200).length} ok of ${samples.length}`,
    );
    assert.ok(ttl > 20000, `the dataplane saw ${ttl} TTL-expired packets`);

    // After the flood: the router must answer within a few seconds; whenever it does not,
    // /healthz (asked just before) must not have said ok.
    let reached = false;
    const deadline = Date.now() + 8000;
    const lies: string[] = [];
    while (!reached && Date.now() < deadline) {
      const h = await get(health);
      const show = await fwd.call('show.workers');
      reached = ping(west.ns, west.gw, 1, { deadline: 1 }) === 1;
      if (!reached) {
        console.log(
          `      router unreachable; /healthz ${h.status} ${h.body.trim()}; workers ${JSON.stringify(show.map((w: Record<string, unknown>) => [w.punt_waiting, w.punt_wait_ms, w.control_plane]))}`,
        );
        if (h.status === 200) lies.push(h.body);
      }
    }
    assert.deepEqual(lies, [], '/healthz said ok while the router did not answer');
    assert.ok(reached, 'ping to the router works after the flood');

    // ARP: the host forgets the router's MAC and must resolve it again through the punt path
    sh('ip', ['-n', west.ns, 'neigh', 'flush', 'dev', west.hostIf]);
    assert.equal(ping(west.ns, west.gw, 2), 2, 'ARP for the router, then ping');
    // dpfwd forgets the far host and must resolve it again (glean through the punt path)
    await fwd.call('neighbor.del', { address: east.ip }).catch(() => undefined);
    assert.equal(ping(west.ns, east.ip, 3), 3, 'forwarding after the flood');
    const t2 = await totals(fwd);
    assert.ok(t2.punted.arp > t1.punted.arp, 'ARP frames reach the control plane again');
    assert.equal((await get(health)).status, 200, 'healthy after the flood');
    const workers = await fwd.call('show.workers');
    for (const w of workers) assert.equal(w.control_plane, 'ok', JSON.stringify(w));
  });
});
