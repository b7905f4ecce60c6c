/**
 * The control plane through its narrow seam, without a forwarder or DPDK: a fake punt path
 * (names, punt listener, inject), a real RIB over a fake FIB, the interfaces and two config
 * sections. What it answers, on which interface, and that a refused inject is counted, never
 * thrown out of the punt handler (which would log once per packet).
 */
import { strict as assert } from 'assert';
import { ArpConfig, IcmpConfig } from '../src/config/types';
import { ControlPlane, PuntIo } from '../src/controlplane';
import { DpfwdError } from '../src/errors';
import { parseIPv4 } from '../src/net/ipv4';
import { formatMac, parseMac, readMac } from '../src/net/mac';
import { buildArpReply, buildArpRequest, buildIcmpEchoRequest, buildUdp4, parseFrame, readIpv4Header } from '../src/packet';
import { Interfaces } from '../src/routing/interfaces';
import { Rib } from '../src/routing/rib';
import { NullFib } from './helpers/nullfib';

const PUNTS = ['arp', 'local', 'ttl_expired', 'no_route', 'unresolved', 'mtu_exceeded'];
const WEST_MAC = parseMac('02:00:00:00:00:01');
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

function setup(inject: (iface: number, frame: Buffer) => boolean) {
  const ifaces = new Interfaces([
    { index: 0, name: 'west', port: 0, vlan: 0, mac: WEST_MAC, mtu: 1500 },
    { index: 16, name: 'west.100', port: 0, vlan: 100, mac: WEST_MAC, mtu: 1400 },
  ]);
  const rib = new Rib(new NullFib(), ifaces, 1024);
  rib.addAddress('west', parseIPv4('10.1.0.1'), 24);
  rib.addAddress('west.100', parseIPv4('10.100.0.1'), 24);
  const punt: PuntIo = { names: () => ({ punts: PUNTS }), puntListen: () => {}, inject };
  const cp = new ControlPlane({ punt, rib, ifaces, config: { icmp: ICMP, arp: ARP } });
  return { cp, rib };
}

const echo = (dst: string) =>
  buildIcmpEchoRequest({ srcMac: '02:00:00:00:64:02', dstMac: formatMac(WEST_MAC), src: '10.100.0.2', dst, identifier: 1, sequence: 1 });

describe('control plane (fake punt path)', () => {
  it('answers an echo request and an ARP request on the sub-interface they came in on, with its address', () => {
    const sent: { iface: number; frame: Buffer }[] = [];
    const { cp } = setup((iface, frame) => {
      sent.push({ iface, frame });
      return true;
    });
    cp.onPunt(16, PUNTS.indexOf('local'), echo('10.100.0.1'));
    cp.onPunt(16, PUNTS.indexOf('arp'), buildArpRequest({ senderMac: '02:00:00:00:64:02', senderIp: '10.100.0.2', targetIp: '10.100.0.1' }));
    // the echo reply; then, for the ARP request, the unicast probe that will confirm the sender
    // (learned STALE) and the ARP reply
    assert.deepEqual(
      sent.map((s) => s.iface),
      [16, 16, 16],
    );
    const reply = parseFrame(sent[0].frame);
    assert.deepEqual([reply.ip?.src, reply.ip?.dst], ['10.100.0.1', '10.100.0.2']);
    assert.deepEqual(
      [sent[1].frame.readUInt16BE(20), readMac(sent[1].frame, 0), sent[1].frame.readUInt32BE(28)],
      [1, parseMac('02:00:00:00:64:02'), parseIPv4('10.100.0.1')],
    );
    assert.deepEqual([sent[2].frame.readUInt16BE(20), readMac(sent[2].frame, 6), readMac(sent[2].frame, 0)], [2, WEST_MAC, parseMac('02:00:00:00:64:02')]);
    assert.equal(cp.counters.arpRepliesSent, 1);
    // the request taught us the sender, on the sub-interface
    const n = cp.neighbors.get(parseIPv4('10.100.0.2'));
    assert.deepEqual([n?.iface, n && formatMac(n.mac!), n?.state], [16, '02:00:00:00:64:02', 'STALE']);
  });

  it('an inject the dataplane refuses (EINJECT) is counted as injectFailed, not thrown', () => {
    const { cp } = setup(() => {
      throw new DpfwdError('EINJECT', 'cannot send a 98-byte frame on interface 16: too long');
    });
    assert.doesNotThrow(() => cp.onPunt(16, PUNTS.indexOf('local'), echo('10.100.0.1')));
    assert.equal(cp.counters.injectFailed, 1);
  });

  it('a full inject ring (false) is counted too', () => {
    const { cp } = setup(() => false);
    cp.onPunt(16, PUNTS.indexOf('local'), echo('10.100.0.1'));
    assert.equal(cp.counters.injectFailed, 1);
  });

  it('held packets for a sub-interface leave when ARP answers: fragmented to its MTU without DF, fragmentation needed with DF', () => {
    const sent: { iface: number; frame: Buffer }[] = [];
    const { cp } = setup((iface, frame) => {
      sent.push({ iface, frame });
      return true;
    });
    const HOST = '02:00:00:00:64:09';
    // as the worker punts them: the ingress tag (if any) already popped, inject pushes west.100's
    const udp = (df: boolean, id: number) =>
      buildUdp4({ srcMac: '02:00:00:00:01:02', dstMac: formatMac(WEST_MAC), src: '10.1.0.2', dst: '10.100.0.9', sport: 1, dport: 2, df, id, size: 1514 });
    cp.onPunt(0, PUNTS.indexOf('unresolved'), udp(false, 7));
    cp.onPunt(0, PUNTS.indexOf('unresolved'), udp(true, 8));
    assert.deepEqual(
      sent.map((x) => [x.iface, x.frame.readUInt16BE(12)]),
      [[16, 0x0806]],
      'one ARP request on west.100, the packets held',
    );
    sent.length = 0;
    cp.onPunt(16, PUNTS.indexOf('arp'), buildArpReply({ senderMac: HOST, senderIp: '10.100.0.9', targetMac: formatMac(WEST_MAC), targetIp: '10.100.0.1' }));
    const frags = sent.filter((x) => x.iface === 16);
    const hs = frags.map((x) => readIpv4Header(x.frame, 14, true)!);
    assert.deepEqual(
      hs.map((h) => [h.id, h.fragmentOffset * 8, h.mf, h.totalLength <= 1400, h.ttl]),
      [
        [7, 0, true, true, 63],
        [7, 1376, false, true, 63],
      ],
    );
    for (const x of frags) assert.deepEqual([formatMac(readMac(x.frame, 0)), readMac(x.frame, 6)], [HOST, WEST_MAC]);
    const back = sent.filter((x) => x.iface === 0).map((x) => parseFrame(x.frame));
    assert.equal(back.length, 1, 'the DF one: an ICMP error back out of its ingress');
    assert.deepEqual([back[0].ip?.dst, back[0].l4?.kind === 'icmp' && [back[0].l4.type, back[0].l4.code, back[0].l4.mtu]], ['10.1.0.2', [3, 4, 1400]]);
  });
});
