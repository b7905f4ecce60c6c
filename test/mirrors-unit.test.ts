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
import { setIpv4HeaderChecksum } from '../src/packet/checksum';
import { unhealthy } from '../src/metrics/health';
import { writeMac } from '../src/net/mac';
import { Interfaces } from '../src/routing/interfaces';
import { Rib } from '../src/routing/rib';
import { NullFib } from './helpers/nullfib';

const PUNTS = ['arp', 'local', 'ttl_expired', 'no_route', 'unresolved', 'mtu_exceeded', 'link_multicast'];
const WEST_MAC = parseMac('02:00:00:00:00:01');
const HOST_MAC = '02:00:00:00:01:02';
const ARP: ArpConfig = {
  reachableMs: 60000,
  staleMs: 60000,
  retransmitMs: 60000,
  probes: 3,
  queueLen: 4,
  maxEntries: 100,
  maxIncomplete: 100,
  newPerSecond: 1000,
  lockMs: 1000,
};
const ICMP: IcmpConfig = { unreachable: true, rateLimit: 1000, burst: 50 };

function setup(opts: { writeRc?: number; injectOk?: boolean; rateLimit?: number; burst?: number } = {}) {
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
  // the west mirror as Linux has it now (state), and what restore was asked to do
  const linux = { name: 'west', mac: WEST_MAC, mtu: 1500, up: true, gone: '' };
  const restores: string[] = [];
  const warnings: string[] = [];
  const taps: TapIo = {
    open: (name) => 100 + ['west', 'east'].indexOf(name),
    carrier: () => {},
    write: (fd, frame) => {
      written.push({ fd, frame });
      return opts.writeRc ?? 0;
    },
    listen: (fd, cb) => {
      listeners.set(fd, cb);
    },
    close: () => {},
    ctlOpen: () => 7,
    state: () => {
      if (linux.gone) throw Object.assign(new Error('gone'), { code: linux.gone });
      return { name: linux.name, mac: linux.mac, mtu: linux.mtu, up: linux.up };
    },
    restore: (_fd, ctl, mac, mtu) => {
      restores.push(`${ctl} ${formatMac(mac)} ${mtu}`);
      Object.assign(linux, { mac, mtu, up: true });
    },
  };
  const settings = { mirrors: { west: 'west' }, queueLen: 500, rateLimit: opts.rateLimit ?? 10000, burst: opts.burst ?? 1000 };
  const mirrors = new Mirrors(
    {
      taps,
      ifaces,
      addresses: () => rib.listAddresses(),
      inject: (iface, frame) => {
        if (frame.length > 1514) throw new Error('too long');
        injected.push({ iface, frame });
        return opts.injectOk ?? true;
      },
      linkUp: () => true,
      log: () => {},
      warn: (m) => warnings.push(m),
      exec: (argv) => {
        commands.push(argv.join(' '));
        return '';
      },
    },
    settings,
  );
  mirrors.open();
  const sent: { iface: number; frame: Buffer }[] = [];
  const punt: PuntIo = {
    names: () => ({ punts: PUNTS }),
    puntListen: () => {},
    inject: (iface, frame) => {
      sent.push({ iface, frame });
      return true;
    },
  };
  const cp = new ControlPlane({ punt, rib, ifaces, config: { icmp: ICMP, arp: ARP }, mirrors });
  return {
    cp,
    mirrors,
    settings,
    rib,
    written,
    injected,
    sent,
    commands,
    linux,
    restores,
    warnings,
    fromLinux: (frames: Buffer[], error?: string) => listeners.get(100)!(frames, error),
  };
}

/** Ethernet source = the west port's MAC */
const WEST_MAC_AT = (f: Buffer) => writeMac(f, 6, WEST_MAC);
const drops = (m: Mirrors, port: string) => m.dropsByInterface().find((d) => d.port === port)!.drops;
const udp = (dst: string, ttl = 64) => buildUdp4({ srcMac: HOST_MAC, dstMac: formatMac(WEST_MAC), src: '10.1.0.2', dst, sport: 1000, dport: 3784, ttl });
/** UDP as Linux sends it on the west mirror: from the port's MAC and address */
const fromMirror = (dst = '10.1.0.2') => buildUdp4({ srcMac: formatMac(WEST_MAC), dstMac: HOST_MAC, src: '10.1.0.1', dst, sport: 1000, dport: 3784 });
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
  it("configures the mirror with ip: MAC, MTU, queue length, up, the port's addresses", () => {
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
    assert.deepEqual(
      commands.filter((c) => c.includes('10.7.0.1')),
      ['ip addr add 10.7.0.1/24 dev west', 'ip addr del 10.7.0.1/24 dev west'],
    );
  });

  it('up to Linux: TCP and UDP for our address, TTL 1 too; dpfwd still answers echo requests itself', () => {
    const { cp, written, sent } = setup();
    cp.onPunt(0, PUNTS.indexOf('local'), tcpSyn('10.1.0.1'));
    cp.onPunt(0, PUNTS.indexOf('local'), udp('10.1.0.1', 1));
    assert.equal(written.length, 2);
    assert.equal(sent.length, 0, 'no ICMP port unreachable from dpfwd for UDP when Linux has it');
    cp.onPunt(
      0,
      PUNTS.indexOf('local'),
      buildIcmpEchoRequest({ srcMac: HOST_MAC, dstMac: formatMac(WEST_MAC), src: '10.1.0.2', dst: '10.1.0.1', identifier: 1, sequence: 1 }),
    );
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

  it("ARP is answered by dpfwd and copied up; Linux's replies for our addresses are held back, its requests go out", () => {
    const { cp, mirrors, written, sent, injected, fromLinux } = setup();
    const req = buildArpRequest({ senderMac: HOST_MAC, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    cp.onPunt(0, PUNTS.indexOf('arp'), req);
    assert.ok(
      sent.some((s) => s.frame.readUInt16BE(20) === 2),
      'dpfwd replied',
    );
    assert.deepEqual(
      written.map((w) => w.frame.toString('hex')),
      [req.toString('hex')],
      'the request copied up',
    );
    // what Linux answers (for 10.1.0.1: held back; for an address dpfwd does not have: sent)
    const reply = (senderIp: string) => {
      const f = buildArpRequest({ senderMac: formatMac(WEST_MAC), senderIp, targetIp: '10.1.0.2' });
      f.writeUInt16BE(2, 20);
      return f;
    };
    fromLinux([reply('10.1.0.1'), reply('10.1.0.77'), buildArpRequest({ senderMac: formatMac(WEST_MAC), senderIp: '10.1.0.1', targetIp: '10.1.0.2' })]);
    assert.equal(drops(mirrors, 'west').arp_reply_suppressed, 1);
    assert.equal(injected.length, 2);
    assert.deepEqual(
      injected.map((i) => i.iface),
      [0, 0],
    );
  });

  it('from Linux: IPv4 out of the port; other EtherTypes, runts, oversize and a full ring are counted', () => {
    const { mirrors, injected, fromLinux } = setup();
    const ipv6 = Buffer.alloc(60);
    WEST_MAC_AT(ipv6);
    ipv6.writeUInt16BE(0x86dd, 12);
    const big = Buffer.concat([fromMirror(), Buffer.alloc(3000 - fromMirror().length)]);
    big.writeUInt16BE(3000 - 14, 16);
    big.writeUInt16BE(0, 24);
    setIpv4HeaderChecksum(big, 14);
    fromLinux([fromMirror(), ipv6, Buffer.alloc(10), big]);
    assert.equal(injected.length, 1);
    assert.deepEqual([drops(mirrors, 'west').not_ipv4, drops(mirrors, 'west').malformed, drops(mirrors, 'west').too_big], [1, 1, 1]);
    assert.equal(mirrors.rows()[0].from_linux, 1);
    const full = setup({ injectOk: false });
    full.fromLinux([fromMirror()]);
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

  it('from Linux, checked as frames from the wire: runts, cut IPv4, IHL 15, bad total length and checksum, a foreign source MAC, ARP claiming a router address for another MAC', () => {
    const { mirrors, injected, fromLinux } = setup();
    const good = fromMirror();
    const bad = (edit: (f: Buffer) => void, fix = true) => {
      const f = Buffer.from(good);
      edit(f);
      if (fix) {
        f.writeUInt16BE(0, 24);
        setIpv4HeaderChecksum(f, 14);
      }
      return f;
    };
    const runt = good.subarray(0, 14);
    const cut = good.subarray(0, 30);
    const ihl15 = bad((f) => {
      f[14] = 0x4f;
    });
    const v6hdr = bad((f) => {
      f[14] = 0x65;
    });
    const longTotal = bad((f) => f.writeUInt16BE(good.length, 16));
    const shortTotal = bad((f) => f.writeUInt16BE(12, 16));
    const checksum = bad((f) => {
      f[24] ^= 0xff;
    }, false);
    const otherMac = bad((f) => writeMac(f, 6, parseMac('02:00:00:00:99:99')), false);
    // gratuitous ARP for the router's own address with another sender MAC (the Ethernet source is the port's)
    const garp = buildArpRequest({ senderMac: '02:00:00:00:99:99', senderIp: '10.1.0.1', targetIp: '10.1.0.1' });
    WEST_MAC_AT(garp);
    const garpOther = buildArpRequest({ senderMac: '02:00:00:00:99:99', senderIp: '10.1.0.1', targetIp: '10.1.0.1' });
    const arpRunt = buildArpRequest({ senderMac: formatMac(WEST_MAC), senderIp: '10.1.0.1', targetIp: '10.1.0.2' }).subarray(0, 30);
    const ownGarp = buildArpRequest({ senderMac: formatMac(WEST_MAC), senderIp: '10.1.0.1', targetIp: '10.1.0.1' });
    fromLinux([runt, cut, ihl15, v6hdr, longTotal, shortTotal, checksum, otherMac, garp, garpOther, arpRunt, good, ownGarp]);
    const d = drops(mirrors, 'west');
    assert.deepEqual([d.malformed, d.bad_checksum, d.wrong_source_mac, d.arp_spoofed], [7, 1, 2, 1]);
    assert.deepEqual(
      injected.map((i) => i.frame),
      [good, ownGarp],
      "only the good frame and the gratuitous ARP with the port's own MAC go out",
    );
    assert.equal(mirrors.rows()[0].from_linux, 2);
  });

  it('rate-limits what Linux sends per mirror (linux.rateLimit, linux.burst), counting the excess; live settings are read at each use', async () => {
    const t = setup({ rateLimit: 100, burst: 10 });
    t.fromLinux(Array.from({ length: 50 }, () => fromMirror()));
    assert.equal(t.injected.length, 10, 'the burst');
    assert.equal(drops(t.mirrors, 'west').rate_limited, 40);
    await new Promise((r) => setTimeout(r, 120)); // 100/s: about 12 tokens back, at most the burst
    t.fromLinux(Array.from({ length: 50 }, () => fromMirror()));
    assert.ok(t.injected.length >= 20 && t.injected.length <= 20 + 1, `${t.injected.length}`);
    assert.equal(t.injected.length + drops(t.mirrors, 'west').rate_limited, 100, 'every frame sent on or counted');
    // a reload changes the settings object in place (applyLiveSettings): the next frames see it
    Object.assign(t.settings, { rateLimit: 1000000, burst: 1000 });
    await new Promise((r) => setTimeout(r, 20));
    const before = t.injected.length;
    t.fromLinux(Array.from({ length: 50 }, () => fromMirror()));
    assert.equal(t.injected.length - before, 50, 'not limited under the new rate');
  });

  it('puts back a mirror whose MAC, MTU or state Linux changed, with a warning; a deleted one is broken and /healthz says so', () => {
    const t = setup();
    t.mirrors.followLinks();
    assert.deepEqual([t.restores, t.warnings], [[], []], 'nothing to do while it is as made');
    t.linux.mac = parseMac('02:00:00:00:99:99');
    t.linux.up = false;
    t.mirrors.followLinks();
    assert.deepEqual(t.restores, ['7 02:00:00:00:00:01 1500']);
    assert.match(t.warnings[0], /mirror west of port west was changed in Linux \(MAC 02:00:00:00:99:99, the port's is 02:00:00:00:00:01; set down\); put back/);
    t.linux.mtu = 9000;
    t.mirrors.followLinks();
    assert.match(t.warnings[1], /MTU 9000, the port's is 1500/);
    assert.equal(t.mirrors.rows()[0].restored, 2);
    const health = () =>
      unhealthy({ dp: { workersAlive: () => 1, puntStatus: () => [] }, config: { workers: [{}], punt: { maxWaitMs: 1000 } }, mirrors: t.mirrors });
    assert.equal(health(), null);
    t.linux.gone = 'EBADFD';
    t.mirrors.followLinks();
    t.mirrors.followLinks();
    assert.equal(t.warnings.length, 3, 'said once');
    assert.match(t.warnings[2], /mirror west of port west is broken \(its interface was deleted\); nothing crosses it any more: restart dpfwd/);
    assert.equal(health(), 'linux mirror west of port west broken: its interface was deleted');
    // a read error (the poll's) breaks it the same way
    const u = setup();
    u.fromLinux([], 'File descriptor in bad state');
    assert.match(u.warnings[0], /is broken \(reading it failed: File descriptor in bad state/);
    assert.equal(u.mirrors.rows()[0].broken !== null, true);
  });
});
