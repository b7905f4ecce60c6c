/**
 * The Linux mirrors' policy without DPDK or a kernel TAP: a fake TAP, a fake `ip`, the control
 * plane's dispatch over a real RIB. What goes up to Linux, what Linux may send down, and that every
 * frame that does not cross is counted under one reason.
 */
import { strict as assert } from 'assert';
import { ArpConfig, IcmpConfig } from '../src/config/types';
import { ControlPlane, PuntIo } from '../src/controlplane';
import { Mirrors, TapIo } from '../src/controlplane/mirrors';
import { parseIPv4 } from '../src/net/ipv4';
import { formatMac, parseMac } from '../src/net/mac';
import { buildArpRequest, buildIcmpEchoRequest, buildUdp4, parseFrame } from '../src/packet';
import { Interfaces } from '../src/routing/interfaces';
import { Rib } from '../src/routing/rib';
import { NullFib } from './helpers/nullfib';

const PUNTS = ['arp', 'local', 'ttl_expired', 'no_route', 'unresolved', 'mtu_exceeded', 'link_multicast'];
const WEST_MAC = parseMac('02:00:00:00:00:01');
const HOST_MAC = '02:00:00:00:01:02';
const ARP: ArpConfig = { reachableMs: 60000, staleMs: 60000, retransmitMs: 60000, probes: 3, queueLen: 4, maxEntries: 100, maxIncomplete: 100, newPerSecond: 1000, lockMs: 1000 };
const ICMP: IcmpConfig = { unreachable: true, rateLimit: 1000, burst: 50 };

function setup(opts: { writeRc?: number; injectOk?: boolean } = {}) {
  const ifaces = new Interfaces([
    { index: 0, name: 'west', port: 0, vlan: 0, mac: WEST_MAC, mtu: 1500 },
    { index: 1, name: 'east', port: 1, vlan: 0, mac: parseMac('02:00:00:00:00:02'), mtu: 1500 },
    { index: 16, name: 'west.100', port: 0, vlan: 100, mac: WEST_MAC, mtu: 1400 },
  ]);
  const rib = new Rib(new NullFib(), ifaces, 1024);
  rib.addAddress('west', parseIPv4('10.1.0.1'), 24);
  rib.addAddress('east', parseIPv4('10.2.0.1'), 24);
  rib.addAddress('west.100', parseIPv4('10.100.0.1'), 24);
  const written: { fd: number; frame: Buffer }[] = [];
  const injected: { iface: number; frame: Buffer }[] = [];
  const commands: string[] = [];
  const listeners = new Map<number, (frames: Buffer[], error?: string) => void>();
  const taps: TapIo = {
    open: (name) => 100 + ['west', 'east'].indexOf(name),
    carrier: () => {},
    write: (fd, frame) => { written.push({ fd, frame }); return opts.writeRc ?? 0; },
    listen: (fd, cb) => { listeners.set(fd, cb); },
    close: () => {},
  };
  const mirrors = new Mirrors({
    taps, ifaces, addresses: () => rib.listAddresses(),
    inject: (iface, frame) => {
      if (frame.length > 1514) throw new Error('too long');
      injected.push({ iface, frame });
      return opts.injectOk ?? true;
    },
    linkUp: () => true, log: () => {}, exec: (argv) => { commands.push(argv.join(' ')); return ''; },
  }, { mirrors: { west: 'west' }, queueLen: 500 });
  mirrors.open();
  const sent: { iface: number; frame: Buffer }[] = [];
  const punt: PuntIo = { names: () => ({ punts: PUNTS }), puntListen: () => {}, inject: (iface, frame) => { sent.push({ iface, frame }); return true; } };
  const cp = new ControlPlane({ punt, rib, ifaces, config: { icmp: ICMP, arp: ARP }, mirrors });
  return { cp, mirrors, rib, written, injected, sent, commands, fromLinux: (frames: Buffer[]) => listeners.get(100)!(frames) };
}

const drops = (m: Mirrors, port: string) => m.dropsByInterface().find((d) => d.port === port)!.drops;
const udp = (dst: string, ttl = 64) => buildUdp4({ srcMac: HOST_MAC, dstMac: formatMac(WEST_MAC), src: '10.1.0.2', dst, sport: 1000, dport: 3784, ttl });
const tcpSyn = (dst: string) => {
  const f = udp(dst);
  f[23] = 6; // protocol TCP (the control plane reads the protocol; the payload is not parsed)
  f.writeUInt16BE(0, 24);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  f.writeUInt16BE(~sum & 0xffff, 24);
  return f;
};

describe('Linux mirrors (fake TAP)', () => {
  it('configures the mirror with ip: MAC, MTU, queue length, up, the port\'s addresses', () => {
    const { commands } = setup();
    assert.ok(commands.includes('ip link set dev west address 02:00:00:00:00:01 mtu 1500 txqueuelen 500'), commands.join('\n'));
    assert.ok(commands.includes('ip link set dev west up'));
    assert.ok(commands.includes('ip addr add 10.1.0.1/24 dev west'));
    assert.ok(!commands.some((c) => c.includes('10.2.0.1')), 'east has no mirror: its address stays off Linux');
  });

  it('follows address changes of the RIB through syncAddresses', () => {
    const { mirrors, rib, commands } = setup();
    rib.addAddress('west', parseIPv4('10.7.0.1'), 24);
    mirrors.syncAddresses();
    rib.delAddress('west', parseIPv4('10.7.0.1'), 24);
    mirrors.syncAddresses();
    assert.deepEqual(commands.filter((c) => c.includes('10.7.0.1')), ['ip addr add 10.7.0.1/24 dev west', 'ip addr del 10.7.0.1/24 dev west']);
  });

  it('up to Linux: TCP and UDP for our address, TTL 1 too; dpfwd still answers echo requests itself', () => {
    const { cp, written, sent } = setup();
    cp.onPunt(0, PUNTS.indexOf('local'), tcpSyn('10.1.0.1'));
    cp.onPunt(0, PUNTS.indexOf('local'), udp('10.1.0.1', 1));
    assert.equal(written.length, 2);
    assert.equal(sent.length, 0, 'no ICMP port unreachable from dpfwd for UDP when Linux has it');
    cp.onPunt(0, PUNTS.indexOf('local'), buildIcmpEchoRequest({ srcMac: HOST_MAC, dstMac: formatMac(WEST_MAC), src: '10.1.0.2', dst: '10.1.0.1', identifier: 1, sequence: 1 }));
    assert.equal(written.length, 2, 'the echo request does not go up');
    assert.equal(parseFrame(sent[0].frame).l4?.kind, 'icmp');
  });

  it('link-local multicast goes up; on an interface without a mirror it is counted as no_mirror, and UDP there still gets port unreachable', () => {
    const { cp, mirrors, written, sent } = setup();
    cp.onPunt(0, PUNTS.indexOf('link_multicast'), udp('224.0.0.5', 1));
    assert.equal(written.length, 1);
    cp.onPunt(16, PUNTS.indexOf('link_multicast'), udp('224.0.0.5', 1));
    cp.onPunt(16, PUNTS.indexOf('local'), tcpSyn('10.100.0.1'));
    assert.equal(drops(mirrors, 'west.100').no_mirror, 2);
    cp.onPunt(16, PUNTS.indexOf('local'), udp('10.100.0.1'));
    assert.equal(sent.length, 1, 'port unreachable from dpfwd');
    assert.equal(mirrors.rows()[0].to_linux, 1);
  });

  it('ARP is answered by dpfwd and copied up; Linux\'s replies for our addresses are held back, its requests go out', () => {
    const { cp, mirrors, written, sent, injected, fromLinux } = setup();
    const req = buildArpRequest({ senderMac: HOST_MAC, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    cp.onPunt(0, PUNTS.indexOf('arp'), req);
    assert.ok(sent.some((s) => s.frame.readUInt16BE(20) === 2), 'dpfwd replied');
    assert.deepEqual(written.map((w) => w.frame.toString('hex')), [req.toString('hex')], 'the request copied up');
    // what Linux answers (for 10.1.0.1: held back; for an address dpfwd does not have: sent)
    const reply = (senderIp: string) => {
      const f = buildArpRequest({ senderMac: formatMac(WEST_MAC), senderIp, targetIp: '10.1.0.2' });
      f.writeUInt16BE(2, 20);
      return f;
    };
    fromLinux([reply('10.1.0.1'), reply('10.1.0.77'), buildArpRequest({ senderMac: formatMac(WEST_MAC), senderIp: '10.1.0.1', targetIp: '10.1.0.2' })]);
    assert.equal(drops(mirrors, 'west').arp_reply_suppressed, 1);
    assert.equal(injected.length, 2);
    assert.deepEqual(injected.map((i) => i.iface), [0, 0]);
  });

  it('from Linux: IPv4 out of the port; other EtherTypes, runts, oversize and a full ring are counted', () => {
    const { mirrors, injected, fromLinux } = setup();
    const ipv6 = Buffer.alloc(60);
    ipv6.writeUInt16BE(0x86dd, 12);
    const big = Buffer.alloc(3000);
    big.writeUInt16BE(0x0800, 12);
    fromLinux([udp('10.1.0.2'), ipv6, Buffer.alloc(10), big]);
    assert.equal(injected.length, 1);
    assert.deepEqual([drops(mirrors, 'west').not_ipv4, drops(mirrors, 'west').malformed, drops(mirrors, 'west').too_big], [1, 1, 1]);
    assert.equal(mirrors.rows()[0].from_linux, 1);
    const full = setup({ injectOk: false });
    full.fromLinux([udp('10.1.0.2')]);
    assert.equal(drops(full.mirrors, 'west').inject_full, 1);
  });

  it('a TAP that refuses the write is counted as queue_full (EAGAIN) or write_error', () => {
    const a = setup({ writeRc: -11 });
    a.cp.onPunt(0, PUNTS.indexOf('local'), tcpSyn('10.1.0.1'));
    assert.equal(drops(a.mirrors, 'west').queue_full, 1);
    const b = setup({ writeRc: -5 });
    b.cp.onPunt(0, PUNTS.indexOf('local'), tcpSyn('10.1.0.1'));
    assert.equal(drops(b.mirrors, 'west').write_error, 1);
    assert.equal(b.mirrors.rows()[0].to_linux, 0);
  });
});
