/**
 * VLAN sub-interfaces end to end: hosts on VLANs 100 and 200 behind one dpfwd port, and a real
 * Linux host on the other port. This kernel has no 802.1Q devices, so the tagged hosts are a
 * script on a raw socket in a namespace (test/helpers/vlan-hosts.py: answers ARP and echo
 * requests tagged, sends ICMP and UDP tagged); dpfwd learns them by ARP on its sub-interfaces.
 * Asserted: tagged → untagged and back (ping and UDP from VLAN 100 to the Linux host), untagged →
 * tagged (the Linux host pings both VLANs), two VLANs on one port reaching each other, each
 * sub-interface's counters, and the neighbours learned on the sub-interfaces.
 */
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, startForwarder, Running, tmpDir } from './helpers/forwarder';
import { pingAsync, spawnIn, Topology, Host } from './helpers/netns';

const HOST_100 = { ip: '10.100.0.2', mac: '02:00:00:00:64:02' };
const HOST_200 = { ip: '10.200.0.2', mac: '02:00:00:00:c8:02' };
const SCRIPT = path.join(ROOT, 'test', 'helpers', 'vlan-hosts.py');

/** Runs the scripted VLAN hosts for `seconds`; resolves with their JSON report. */
/** The scripted hosts' results when they end; `ready` once their raw socket is open (before that nothing answers). */
function vlanHosts(
  h: Host,
  seconds: number,
  actions: string[],
): Promise<{ results: Record<string, number>; answered: { arp: number; echo: number }; tags: Record<string, number> }> & { ready: Promise<void> } {
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  const done = new Promise((resolve, reject) => {
    const p = spawn(
      'ip',
      [
        'netns',
        'exec',
        h.ns,
        'python3',
        SCRIPT,
        h.hostIf,
        String(seconds),
        `100/${HOST_100.ip}/${HOST_100.mac}/10.100.0.1`,
        `200/${HOST_200.ip}/${HOST_200.mac}/10.200.0.1`,
        '--',
        ...actions,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    p.stdout!.on('data', (d) => {
      out += d;
    });
    p.stderr!.on('data', (d) => {
      err += d;
      if (err.includes('ready\n')) ready();
    });
    const kill = setTimeout(() => p.kill('SIGKILL'), (seconds + 20) * 1000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`vlan-hosts.py exited ${code}: ${err || out}`));
      }
      ready(); // (a failed start rejects done)
    });
  }) as Promise<{ results: Record<string, number>; answered: { arp: number; echo: number }; tags: Record<string, number> }>;
  return Object.assign(done, { ready: isReady });
}

describe('VLAN sub-interfaces with hosts on both sides', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let dir: string;
  let west: Host;
  let east: Host;

  before(async () => {
    dir = tmpDir('vlanhosts');
    west = topo.addHost('vwest', 1); // the trunk: the script tags; the namespace's kernel ignores tagged frames
    east = topo.addHost('veast', 2); // a real Linux host, untagged
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [topo.port(west, 0), topo.port(east, 1)],
        interfaces: [
          { port: west.name, vlan: 100, address: '10.100.0.1/24' },
          { port: west.name, vlan: 200, address: '10.200.0.1/24' },
        ],
      },
      { dir },
    );
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0);
    topo.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('forwards between VLANs and an untagged Linux host both ways, and between two VLANs on one port', async () => {
    // a UDP echo server on the Linux host, bounded in time
    const echo = spawnIn(east.ns, 'python3', [
      '-c',
      [
        'import socket,time',
        's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)',
        "s.bind(('0.0.0.0',7))",
        's.settimeout(0.5)',
        'end=time.time()+30',
        'while time.time()<end:',
        '  try:',
        '    d,a=s.recvfrom(2048); s.sendto(d,a)',
        '  except socket.timeout: pass',
      ].join('\n'),
    ]);
    try {
      const hosts = vlanHosts(west, 14, [
        `ping/${HOST_100.ip}/${east.ip}/5`, // tagged 100 → untagged, and the reply back tagged
        `udp/${HOST_100.ip}/${east.ip}/7/5`,
        `ping/${HOST_100.ip}/${HOST_200.ip}/5`, // VLAN 100 → 200 on the same port, and back
        `ping/${HOST_200.ip}/${HOST_100.ip}/5`,
      ]);
      await hosts.ready;
      // untagged → tagged: the Linux host pings a host on each VLAN (dpfwd resolves it by tagged ARP)
      const to100 = await pingAsync(east.ns, HOST_100.ip, 5);
      const to200 = await pingAsync(east.ns, HOST_200.ip, 5);
      const r = await hosts;
      assert.ok(to100 >= 4, `Linux host → VLAN 100: ${to100} of 5 replies`);
      assert.ok(to200 >= 4, `Linux host → VLAN 200: ${to200} of 5 replies`);
      for (const [action, got] of Object.entries(r.results)) assert.ok(got >= 4, `${action}: ${got} of 5 replies (${JSON.stringify(r)})`);
      assert.equal(Object.keys(r.results).length, 4);
      assert.ok(r.tags['100'] > 0 && r.tags['200'] > 0, `tags seen: ${JSON.stringify(r.tags)}`);
      assert.ok(r.answered.arp >= 2, 'dpfwd resolved the VLAN hosts by ARP on its sub-interfaces');
    } finally {
      echo.kill();
    }

    // each sub-interface counted what it forwarded; the neighbours live on the sub-interfaces
    const ifaces = await fwd.call('interface.show');
    const byName = Object.fromEntries(ifaces.map((i: { ifname: string }) => [i.ifname, i]));
    assert.ok(byName[`${west.name}.100`].forwarded >= 15, JSON.stringify(byName[`${west.name}.100`]));
    assert.ok(byName[`${west.name}.200`].forwarded >= 8, JSON.stringify(byName[`${west.name}.200`]));
    const neigh = await fwd.call('neighbor.show');
    const n100 = neigh.find((n: { dst: string }) => n.dst === HOST_100.ip);
    const n200 = neigh.find((n: { dst: string }) => n.dst === HOST_200.ip);
    assert.deepEqual([n100?.dev, n100?.lladdr], [`${west.name}.100`, HOST_100.mac]);
    assert.deepEqual([n200?.dev, n200?.lladdr], [`${west.name}.200`, HOST_200.mac]);
  });
});
