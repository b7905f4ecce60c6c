/**
 * Datagrams to the router that arrive in fragments. af_xdp (and tap, and a VF) deliver fragments
 * as they come, where an af_packet socket lets the kernel reassemble them first: the control
 * plane reassembles what it answers itself, as Linux does (a 3000-byte ping to the router gets
 * its reply; a 3000-byte UDP datagram to a closed port gets port unreachable), within bounds a
 * fragment flood cannot pass (src/packet/reassembly.ts). Hosts in namespaces at default settings.
 */
import { strict as assert } from 'assert';
import { Running, startForwarder, totals } from './helpers/forwarder';
import { Host, ping, sh, Topology } from './helpers/netns';

describe('reassembly of datagrams to the router (af_xdp port, real host)', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let west: Host;
  const reasm = async () => (await fwd.call('show.controlplane')).counters.reassembly as Record<string, number>;

  before(async () => {
    west = topo.addHost('west', 1);
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [topo.xdpPort(west, 0)] });
    assert.equal(ping(west.ns, west.gw, 2), 2);
  });
  after(async () => {
    try {
      if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    } finally {
      topo.destroy();
    }
  });

  it('a 3000-byte ping to the router is answered (before: never, the request came in fragments)', async () => {
    const before = await reasm();
    assert.equal(ping(west.ns, west.gw, 3, { size: 3000 }), 3, fwd.stderr().slice(-2000));
    const after = await reasm();
    assert.equal(after.ok - before.ok, 3, JSON.stringify(after));
  });

  it('a 3000-byte UDP datagram to a closed port gets port unreachable, as from Linux', () => {
    const py = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.connect(("${west.gw}", 9))
s.send(b"x" * 3000)
try:
    s.recv(100); print("answered")
except ConnectionRefusedError: print("refused")
except socket.timeout: print("silence")`;
    assert.equal(sh('python3', ['-c', py], { ns: west.ns }).trim(), 'refused');
  });

  it('1,500 first fragments that never complete: held datagrams stay bounded, the rest counted, the router still answers', async () => {
    const before = await reasm();
    const localBefore = (await totals(fwd)).punted.local;
    // raw IPv4 first fragments (MF, offset 0, 8 bytes of data), each its own identification, at
    // 2,000/s: under punt.rate (10,000/s), so each reaches the control plane
    const py = `import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src = socket.inet_aton("${west.ip}"); dst = socket.inet_aton("${west.gw}")
for i in range(1500):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, i + 1, 0x2000, 64, 17, 0, src, dst)
    s.sendto(h + b"\\x00\\x09\\x00\\x09\\x00\\x10\\x00\\x00", ("${west.gw}", 0))
    time.sleep(0.0005)
print("sent")`;
    assert.equal(sh('python3', ['-c', py], { ns: west.ns }).trim(), 'sent');
    // what reached the control plane (punted as local) was held, up to 1,024 datagrams; the rest counted
    const arrived = async () => (await totals(fwd)).punted.local - localBefore;
    let after = await reasm();
    for (let i = 0; i < 50 && after.no_room - before.no_room < (await arrived()) - 1024; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await reasm();
    }
    const n = await arrived();
    assert.ok(n > 1024, `${n} fragments reached the control plane`);
    assert.equal(after.no_room - before.no_room, n - 1024, JSON.stringify(after));
    assert.equal(ping(west.ns, west.gw, 2), 2, 'small pings to the router are still answered');
    assert.equal((await fwd.call('health')).alive, 1);
  });
});
