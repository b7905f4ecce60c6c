import { strict as assert } from 'assert';
import { isDpfwdError } from '../src/errors';
import * as P from '../src/packet';
import { formatIPv4, parseIPv4 } from '../src/net/ipv4';
import { parseMac } from '../src/net/mac';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const R = '02:00:00:00:00:01';

function throwsCode(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => isDpfwdError(e) && e.code === code && (!re || re.test(e.message)));
}

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** A random IPv4 header (IHL 5..15) with a correct checksum, from the seeded PRNG. */
function randomHeader(rand: () => number, ihl = 5 + (rand() % 11)): Buffer {
  const h = Buffer.alloc(ihl * 4);
  for (let i = 0; i < h.length; i++) h[i] = rand() & 0xff;
  h[0] = 0x40 | ihl;
  if (h[8] === 0) h[8] = 1;
  P.setIpv4HeaderChecksum(h);
  return h;
}

/** Full recomputation model of TTL−1. */
function recomputedTtlDecrement(h: Buffer): number {
  const c = Buffer.from(h);
  c[8]--;
  return P.ipv4HeaderChecksum(c);
}

describe('packet/checksum', () => {
  const vectors: Array<[string, Buffer, number]> = [
    ['RFC 1071 section 3 example (sum 0xddf2)', hex('0001 f203 f4f5 f6f7'), 0x220d],
    ['odd length pads with a zero byte', hex('0001 f203 f4f5 f6f7 01'), ~(0xddf2 + 0x0100) & 0xffff],
    ['all zero', Buffer.alloc(8), 0xffff],
    ['empty', Buffer.alloc(0), 0xffff],
    ['carry folds (ffff + 0001 = 0001)', hex('ffff 0001'), 0xfffe],
  ];
  for (const [name, buf, want] of vectors) {
    it(`internetChecksum: ${name}`, () => assert.equal(P.internetChecksum(buf), want));
  }

  const headers: Array<[string, string, number]> = [
    ['192.168.0.1 → 192.168.0.199 UDP (Wikipedia)', '4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7', 0xb861],
    ['172.16.10.99 → 172.16.10.12 TCP', '4500 003c 1c46 4000 4006 b1e6 ac10 0a63 ac10 0a0c', 0xb1e6],
  ];
  for (const [name, h, want] of headers) {
    it(`ipv4HeaderChecksum of a real header: ${name}`, () => {
      const buf = hex(h);
      assert.equal(P.ipv4HeaderChecksum(buf), want);
      assert.ok(P.verifyIpv4HeaderChecksum(buf));
      buf[8] ^= 1;
      assert.ok(!P.verifyIpv4HeaderChecksum(buf));
    });
  }

  it('checksums a range at an offset', () => {
    const buf = Buffer.concat([hex('dead beef'), hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7')]);
    assert.equal(P.ipv4HeaderChecksum(buf, 4), 0xb861);
    assert.ok(P.verifyChecksum(buf, 4, 20));
  });

  it('rejects a range outside the buffer', () => throwsCode(() => P.internetChecksum(Buffer.alloc(4), 2, 4), 'EINVAL'));

  it('incremental TTL−1 equals full recomputation over 20000 random headers', () => {
    const rand = P.makePrng(1624);
    for (let i = 0; i < 20000; i++) {
      const h = randomHeader(rand);
      const inc = P.incrementalTtlDecrement(h.readUInt16BE(10), h[8], h[9]);
      assert.equal(inc, recomputedTtlDecrement(h), `header ${h.toString('hex')}`);
    }
  });

  it('decrementTtlInPlace leaves a header that verifies', () => {
    const rand = P.makePrng(7);
    for (let i = 0; i < 2000; i++) {
      const h = randomHeader(rand, 5);
      const ttl = h[8];
      P.decrementTtlInPlace(h);
      assert.equal(h[8], ttl - 1);
      assert.ok(P.verifyIpv4HeaderChecksum(h));
    }
  });

  /** A header whose correct checksum is `want`, found by searching the id field. */
  function headerWithChecksum(want: number, ttl: number): Buffer {
    const h = hex('4500 0054 0000 4000 0001 0000 0a01 0002 0a02 0002');
    h[8] = ttl;
    for (let id = 0; id <= 0xffff; id++) {
      h.writeUInt16BE(id, 4);
      if (P.setIpv4HeaderChecksum(h) === want) return h;
    }
    throw new Error(`no id gives checksum ${want.toString(16)}`);
  }

  const edges: Array<[string, number, number, number]> = [
    // [case, checksum before, ttl, checksum after]
    ['result 0x0000 (before 0xFEFF): eqn. 3 keeps +0 where HC + 0x0100 gives 0xFFFF', 0xfeff, 64, 0x0000],
    ['before 0x0000', 0x0000, 64, 0x0100],
    ['before 0xFFFF (the −0 form of 0x0000, still verifies)', 0xffff, 64, 0x0100],
    ['TTL 1 → 0', 0x1234, 1, 0x1334],
    ['TTL 255', 0x00ff, 255, 0x01ff],
  ];
  for (const [name, before, ttl, after] of edges) {
    it(`incremental TTL−1 edge: ${name}`, () => {
      const h = headerWithChecksum(before === 0xffff ? 0x0000 : before, ttl);
      if (before === 0xffff) h.writeUInt16BE(0xffff, 10);
      assert.ok(P.verifyIpv4HeaderChecksum(h));
      const inc = P.incrementalTtlDecrement(before, ttl, h[9]);
      assert.equal(inc, after);
      assert.equal(inc, recomputedTtlDecrement(h));
      P.decrementTtlInPlace(h);
      assert.ok(P.verifyIpv4HeaderChecksum(h));
    });
  }

  it('the naive HC + 0x0100 shortcut differs from eqn. 3 exactly at the 0x0000 result', () => {
    const naive = (hc: number) => {
      const s = hc + 0x0100;
      return (s & 0xffff) + (s >>> 16);
    };
    assert.equal(naive(0xfeff), 0xffff);
    assert.equal(P.incrementalTtlDecrement(0xfeff, 64, 17), 0x0000);
    assert.equal(naive(0x1234), P.incrementalTtlDecrement(0x1234, 64, 17));
  });

  for (const ttl of [0, 256, 1.5]) {
    it(`incrementalTtlDecrement rejects TTL ${ttl}`, () => throwsCode(() => P.incrementalTtlDecrement(0, ttl, 17), 'EPACKET'));
  }
});

describe('packet/ethernet and addresses', () => {
  const macs: Array<[string, string | undefined]> = [
    ['AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:ff'],
    ['aa-bb-cc-dd-ee-0f', 'aa:bb:cc:dd:ee:0f'],
    ['aa:bb:cc:dd:ee', undefined],
    ['aa:bb:cc:dd:ee:fg', undefined],
    ['', undefined],
  ];
  for (const [input, want] of macs) {
    it(`MAC '${input}' → ${want ?? 'EINVAL'}`, () => {
      if (want) assert.equal(P.normalizeMac(input), want);
      else throwsCode(() => P.macToBuffer(input), 'EINVAL');
    });
  }
  const ips: Array<[string, number | undefined]> = [
    ['10.1.0.2', 0x0a010002],
    ['255.255.255.255', 0xffffffff],
    ['0.0.0.0', 0],
    ['256.1.1.1', undefined],
    ['1.2.3', undefined],
    ['01.2.3.4.5', undefined],
    ['010.1.1.1', undefined],
    [' 10.1.1.1', undefined],
  ];
  for (const [input, want] of ips) {
    it(`IP '${input}' → ${want ?? 'EINVAL'}`, () => {
      if (want !== undefined) {
        assert.equal(parseIPv4(input), want);
        assert.equal(formatIPv4(want), input);
      } else throwsCode(() => parseIPv4(input), 'EINVAL');
    });
  }
  it('classifies MACs', () => {
    assert.ok(P.isBroadcastMac('FF:FF:FF:FF:FF:FF'));
    assert.ok(P.isMulticastMac('01:00:5e:00:00:01'));
    assert.ok(!P.isMulticastMac(A));
  });
  it('builds and parses a double-tagged frame', () => {
    const f = P.buildEthernet({
      dstMac: A,
      srcMac: B,
      etherType: 0x0800,
      vlan: [
        { id: 100, tpid: P.ETHERTYPE_QINQ },
        { id: 7, pcp: 5, dei: true },
      ],
      payload: Buffer.from('hi'),
    });
    assert.equal(f.length, 60);
    const e = P.parseEthernet(f)!;
    assert.deepEqual(e, {
      dstMac: A,
      srcMac: B,
      vlans: [
        { tpid: 0x88a8, pcp: 0, dei: false, id: 100 },
        { tpid: 0x8100, pcp: 5, dei: true, id: 7 },
      ],
      etherType: 0x0800,
      payloadOffset: 22,
    });
  });
  it('rejects a VLAN id above 4095', () =>
    throwsCode(() => P.buildEthernet({ dstMac: A, srcMac: B, etherType: 0x800, vlan: 4096, payload: Buffer.alloc(0) }), 'EINVAL'));
});

describe('packet/udp builder round-trips through parseFrame', () => {
  const base = { srcMac: A, dstMac: B, src: '10.1.0.2', dst: '10.2.0.2', sport: 1234, dport: 5678 };
  const cases: Array<{ name: string; opts: P.Udp4Options; len: number; ipTotal: number; udpData: number; eth: number }> = [
    { name: 'default: empty payload padded to 60', opts: base, len: 60, ipTotal: 28, udpData: 0, eth: 14 },
    { name: 'size 60 (64 on the wire)', opts: { ...base, size: 60 }, len: 60, ipTotal: 46, udpData: 18, eth: 14 },
    { name: 'size 1514', opts: { ...base, size: 1514 }, len: 1514, ipTotal: 1500, udpData: 1472, eth: 14 },
    { name: 'payload of 100 bytes', opts: { ...base, payload: Buffer.alloc(100, 0x5a) }, len: 142, ipTotal: 128, udpData: 100, eth: 14 },
    { name: 'VLAN 42, size 64', opts: { ...base, vlan: 42, size: 64 }, len: 64, ipTotal: 46, udpData: 18, eth: 18 },
    { name: 'IP options (IHL 6), size 60', opts: { ...base, options: Buffer.from([1, 1, 1]), size: 60 }, len: 60, ipTotal: 46, udpData: 14, eth: 14 },
    { name: 'TTL 1, tos 0x10, DF, id 7', opts: { ...base, ttl: 1, tos: 0x10, df: true, id: 7 }, len: 60, ipTotal: 28, udpData: 0, eth: 14 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = P.buildUdp4(c.opts);
      assert.equal(f.length, c.len);
      const p = P.parseFrame(f, { strict: true });
      assert.deepEqual(p.problems, []);
      assert.equal(p.eth!.payloadOffset, c.eth);
      assert.equal(p.eth!.srcMac, A);
      assert.equal(p.eth!.dstMac, B);
      const ip = p.ip!;
      assert.equal(ip.version, 4);
      assert.equal(ip.totalLength, c.ipTotal);
      assert.equal(ip.src, '10.1.0.2');
      assert.equal(ip.dst, '10.2.0.2');
      assert.equal(ip.protocol, P.IPPROTO_UDP);
      assert.equal(ip.ttl, c.opts.ttl ?? 64);
      assert.equal(ip.tos, c.opts.tos ?? 0);
      assert.equal(ip.df, !!c.opts.df);
      assert.equal(ip.id, c.opts.id ?? 0);
      assert.ok(ip.checksumValid);
      const udp = p.l4 as P.UdpHeader;
      assert.equal(udp.kind, 'udp');
      assert.equal(udp.sport, 1234);
      assert.equal(udp.dport, 5678);
      assert.equal(udp.length, 8 + c.udpData);
      assert.equal(udp.payloadLength, c.udpData);
      assert.ok(P.verifyUdpChecksum(ip.src, ip.dst, f, udp.offset));
      if (c.opts.payload) assert.deepEqual(f.subarray(udp.payloadOffset, udp.payloadOffset + udp.payloadLength), c.opts.payload);
    });
  }

  it('is byte-exact against a hand-assembled frame', () => {
    const f = P.buildUdp4({ ...base, id: 1, payload: Buffer.from('abcd') });
    const want = hex('02000000000b 02000000000a 0800' + '4500 0020 0001 0000 4011 0000 0a01 0002 0a02 0002' + '04d2 162e 000c 0000 61626364');
    want.writeUInt16BE(P.ipv4HeaderChecksum(want, 14), 24);
    want.writeUInt16BE(P.udpChecksum('10.1.0.2', '10.2.0.2', want.subarray(34)), 40);
    assert.deepEqual(f, Buffer.concat([want, Buffer.alloc(60 - want.length)]));
  });

  it('rejects a size below 60', () => throwsCode(() => P.buildUdp4({ ...base, size: 59 }), 'EINVAL', /59/));

  const corrupt: Array<[string, Partial<P.Udp4Options>, RegExp]> = [
    ['version 6', { version: 6 }, /version 6/],
    ['IHL 4', { ihl: 4 }, /IHL 4/],
    ['IHL 15 past the frame end', { ihl: 15 }, /runs past|total length/],
    ['total length above the frame', { totalLength: 1000 }, /exceeds/],
    ['total length below the header', { totalLength: 19 }, /below the header/],
    ['bad checksum', { checksum: 0xdead }, /checksum/],
  ];
  for (const [name, over, re] of corrupt) {
    it(`corrupt ${name}: tolerant parse reports it, strict throws EPACKET`, () => {
      const f = P.buildUdp4({ ...base, ...over });
      const p = P.parseFrame(f);
      assert.ok(
        p.problems.some((x) => re.test(x)),
        JSON.stringify(p.problems),
      );
      throwsCode(() => P.parseFrame(f, { strict: true }), 'EPACKET');
      throwsCode(() => P.readIpv4Header(f, 14, true), 'EPACKET', re);
    });
  }

  it('corrupt fields other than the checksum leave the checksum valid', () => {
    for (const over of [{ version: 6 }, { totalLength: 1000 }, { ihl: 6 }]) {
      const f = P.buildUdp4({ ...base, ...over });
      assert.equal(P.onesComplementSum(f, 14, 20), 0xffff);
    }
  });
});

describe('packet/tolerant parsing never throws', () => {
  const frames: Array<[string, Buffer]> = [
    ['udp', P.buildUdp4({ srcMac: A, dstMac: B, src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, vlan: 5, options: Buffer.alloc(8, 1) })],
    ['icmp', P.buildIcmpEchoRequest({ srcMac: A, dstMac: B, src: '1.1.1.1', dst: '2.2.2.2', payload: Buffer.alloc(40, 3) })],
    ['arp', P.buildArpRequest({ senderMac: A, senderIp: '1.1.1.1', targetIp: '1.1.1.2' })],
  ];
  for (const [name, f] of frames) {
    it(`every truncation of a ${name} frame parses`, () => {
      for (let n = 0; n <= f.length; n++) {
        const p = P.parseFrame(f.subarray(0, n));
        assert.ok(Array.isArray(p.problems));
        P.mayGenerateIcmpError(f.subarray(0, n));
      }
    });
  }
  it('5000 random junk frames parse (some with an IPv4/ARP EtherType)', () => {
    const rand = P.makePrng(99);
    for (let i = 0; i < 5000; i++) {
      const f = Buffer.alloc(rand() % 80);
      for (let j = 0; j < f.length; j++) f[j] = rand() & 0xff;
      if (f.length >= 14 && i % 3 === 0) f.writeUInt16BE(i % 2 ? 0x0800 : 0x0806, 12);
      if (f.length >= 15 && i % 6 === 0) f[14] = 0x45;
      const p = P.parseFrame(f);
      assert.ok(Array.isArray(p.problems));
      assert.equal(typeof P.mayGenerateIcmpError(f).ok, 'boolean');
    }
  });
  it('empty buffer', () => assert.deepEqual(P.parseFrame(Buffer.alloc(0)).eth, undefined));
  it('non-first fragment: no L4 parse', () => {
    const f = P.buildUdp4({ srcMac: A, dstMac: B, src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, fragmentOffset: 10 });
    const p = P.parseFrame(f);
    assert.equal(p.l4, undefined);
    assert.equal(p.ip!.fragmentOffset, 10);
  });
});

describe('packet/icmp echo', () => {
  const req = P.buildIcmpEchoRequest({
    srcMac: A,
    dstMac: R,
    src: '10.1.0.2',
    dst: '10.1.0.1',
    identifier: 0x1234,
    sequence: 9,
    payload: Buffer.from('ping payload 0123456789'),
    ttl: 63,
    tos: 0x20,
    vlan: 10,
  });

  it('request parses with identifier and sequence', () => {
    const p = P.parseFrame(req, { strict: true });
    const icmp = p.l4 as P.IcmpHeader;
    assert.equal(icmp.type, P.ICMP_ECHO_REQUEST);
    assert.equal(icmp.identifier, 0x1234);
    assert.equal(icmp.sequence, 9);
  });

  it('reply swaps addresses, keeps id/seq/data/VLAN/TOS, verifies', () => {
    const rep = P.buildIcmpEchoReply(req, R, { ipId: 5 });
    const p = P.parseFrame(rep, { strict: true });
    assert.equal(p.eth!.srcMac, R);
    assert.equal(p.eth!.dstMac, A);
    assert.equal(p.eth!.vlans[0].id, 10);
    assert.equal(p.ip!.src, '10.1.0.1');
    assert.equal(p.ip!.dst, '10.1.0.2');
    assert.equal(p.ip!.ttl, 64);
    assert.equal(p.ip!.tos, 0x20);
    assert.equal(p.ip!.id, 5);
    const icmp = p.l4 as P.IcmpHeader;
    assert.equal(icmp.type, P.ICMP_ECHO_REPLY);
    assert.equal(icmp.identifier, 0x1234);
    assert.equal(icmp.sequence, 9);
    assert.ok(icmp.checksumValid);
    const q = P.parseFrame(req);
    assert.deepEqual(
      rep.subarray(icmp.payloadOffset, icmp.payloadOffset + icmp.payloadLength),
      req.subarray((q.l4 as P.IcmpHeader).payloadOffset, (q.l4 as P.IcmpHeader).payloadOffset + (q.l4 as P.IcmpHeader).payloadLength),
    );
  });

  it('short request (padded frame): the reply carries only the real ICMP bytes', () => {
    const small = P.buildIcmpEchoRequest({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.1.0.1', sequence: 1 });
    assert.equal(small.length, 60);
    const p = P.parseFrame(P.buildIcmpEchoReply(small, R), { strict: true });
    assert.equal(p.ip!.totalLength, 28);
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['a UDP frame', P.buildUdp4({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.1.0.1', sport: 1, dport: 2 }), /protocol 17/],
    ['an echo reply', P.buildIcmpEchoReply(req, R), /not an echo request/],
    ['an ARP frame', P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' }), /not an IPv4/],
    ['a broadcast request without srcIp', P.buildIcmpEchoRequest({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '255.255.255.255' }), /srcIp/],
    [
      'a corrupt ICMP checksum',
      (() => {
        const b = Buffer.from(req);
        b[b.length - 1] ^= 0xff;
        return b;
      })(),
      /checksum/,
    ],
  ];
  for (const [name, frame, re] of bad) {
    it(`echo reply to ${name} throws EPACKET`, () => throwsCode(() => P.buildIcmpEchoReply(frame, R), 'EPACKET', re));
  }
});

describe('packet/icmp errors', () => {
  const udp = (o: Partial<P.Udp4Options> = {}) =>
    P.buildUdp4({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.2.0.2', sport: 1000, dport: 2000, ttl: 1, size: 60, ...o });

  const quoting: Array<[string, Buffer, number]> = [
    ['UDP, IHL 5: 20 + 8', udp(), 28],
    ['UDP with 8 bytes of options: 28 + 8', udp({ options: Buffer.alloc(8, 1) }), 36],
    [
      'raw protocol with 3 bytes of payload: 20 + 3',
      P.buildIpv4Frame({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.2.0.2', protocol: 253, payload: Buffer.from([1, 2, 3]) }),
      23,
    ],
    ['1500-byte datagram: still 20 + 8', udp({ size: 1514 }), 28],
  ];
  for (const [name, original, quoteLen] of quoting) {
    it(`time exceeded quotes ${name}`, () => {
      const e = P.buildIcmpError({ type: P.ICMP_TIME_EXCEEDED, code: 0, original, srcIp: '10.1.0.1', srcMac: R });
      const p = P.parseFrame(e, { strict: true });
      const icmp = p.l4 as P.IcmpHeader;
      assert.equal(icmp.payloadLength, quoteLen);
      assert.equal(p.ip!.totalLength, 20 + 8 + quoteLen);
      assert.equal(p.ip!.src, '10.1.0.1');
      assert.equal(p.ip!.dst, '10.1.0.2');
      assert.equal(p.ip!.tos, 0xc0);
      assert.equal(p.eth!.dstMac, A);
      assert.equal(icmp.type, 11);
      assert.equal(icmp.rest, 0);
      assert.deepEqual(e.subarray(icmp.payloadOffset, icmp.payloadOffset + quoteLen), original.subarray(14, 14 + quoteLen));
    });
  }

  it('fragmentation needed carries the next-hop MTU', () => {
    const e = P.buildIcmpError({ type: 3, code: 4, original: udp({ df: true, size: 1514 }), srcIp: '10.1.0.1', srcMac: R, dstMac: B, mtu: 1400, ttl: 255 });
    const p = P.parseFrame(e, { strict: true });
    const icmp = p.l4 as P.IcmpHeader;
    assert.equal(icmp.mtu, 1400);
    assert.equal(icmp.rest, 1400);
    assert.equal(p.eth!.dstMac, B);
    assert.equal(p.ip!.ttl, 255);
  });

  it("builds the same bytes from numbers (the control plane's router address and MAC) as from text", () => {
    const rMac = parseMac(R);
    const text = P.buildIcmpError({ type: 5, code: 1, gateway: '10.1.0.9', original: udp(), srcIp: '10.1.0.1', srcMac: R, dstMac: A });
    const nums = P.buildIcmpError({
      type: 5,
      code: 1,
      gateway: parseIPv4('10.1.0.9'),
      original: udp(),
      srcIp: parseIPv4('10.1.0.1'),
      srcMac: rMac,
      dstMac: parseMac(A),
    });
    assert.deepEqual(nums, text);
    const req = P.buildIcmpEchoRequest({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.1.0.1', identifier: 7, sequence: 1 });
    assert.deepEqual(P.buildIcmpEchoReply(req, rMac), P.buildIcmpEchoReply(req, R));
    const arp = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    assert.deepEqual(P.buildArpReplyTo(arp, rMac), P.buildArpReplyTo(arp, R));
  });

  it('parameter problem carries the pointer; redirect the gateway', () => {
    const pp = P.parseFrame(P.buildIcmpError({ type: 12, code: 0, pointer: 20, original: udp(), srcIp: '10.1.0.1', srcMac: R }));
    assert.equal((pp.l4 as P.IcmpHeader).rest >>> 24, 20);
    const rd = P.parseFrame(P.buildIcmpError({ type: 5, code: 1, gateway: '10.1.0.9', original: udp(), srcIp: '10.1.0.1', srcMac: R }));
    assert.equal(formatIPv4((rd.l4 as P.IcmpHeader).rest), '10.1.0.9');
  });

  const invalid: Array<[string, Partial<P.IcmpErrorOptions>, RegExp]> = [
    ['type 8 is not an error', { type: 8 }, /not an error type/],
    ['frag needed without mtu', { type: 3, code: 4 }, /requires mtu/],
    ['mtu on another code', { type: 3, code: 1, mtu: 1500 }, /only meaningful/],
    ['mtu below 68', { type: 3, code: 4, mtu: 40 }, /68/],
    ['redirect without gateway', { type: 5, code: 1 }, /gateway/],
  ];
  for (const [name, o, re] of invalid) {
    it(`buildIcmpError rejects ${name} (EINVAL)`, () =>
      throwsCode(() => P.buildIcmpError({ type: 11, code: 0, original: udp(), srcIp: '10.1.0.1', srcMac: R, ...o }), 'EINVAL', re));
  }

  const icmpErr = P.buildIcmpError({ type: 3, code: 1, original: udp(), srcIp: '10.3.0.1', srcMac: R });
  const suppression: Array<[string, Buffer, boolean, RegExp?, P.MayGenerateOptions?]> = [
    ['plain UDP', udp(), true],
    ['echo request', P.buildIcmpEchoRequest({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.2.0.2' }), true],
    ['first fragment (MF, offset 0)', udp({ mf: true }), true],
    ['an ICMP error (dest unreachable)', icmpErr, false, /ICMP error \(type 3\)/],
    ['an ICMP time exceeded', P.buildIcmpError({ type: 11, code: 0, original: udp(), srcIp: '10.3.0.1', srcMac: R }), false, /type 11/],
    [
      'an ICMP of unknown type 200',
      P.buildIpv4Frame({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.2.0.2', protocol: 1, payload: Buffer.from([200, 0, 0, 0, 0, 0, 0, 0]) }),
      false,
      /unknown/,
    ],
    ['a non-first fragment', udp({ fragmentOffset: 185 }), false, /non-first fragment \(offset 1480\)/],
    ['link-layer broadcast', udp({ dstMac: P.BROADCAST_MAC }), false, /link-layer/],
    ['link-layer multicast', udp({ dstMac: '01:00:5e:01:02:03' }), false, /link-layer/],
    ['IP multicast destination', udp({ dst: '239.1.2.3' }), false, /multicast/],
    ['limited broadcast destination', udp({ dst: '255.255.255.255' }), false, /broadcast/],
    ['directed broadcast destination', udp({ dst: '10.2.255.255' }), false, /broadcast/, { directedBroadcasts: ['10.2.255.255'] }],
    ['source 0.0.0.0', udp({ src: '0.0.0.0' }), false, /not a unique host/],
    ['source 127.0.0.1', udp({ src: '127.0.0.1' }), false, /loopback/],
    ['source multicast', udp({ src: '224.0.0.5' }), false, /multicast/],
    ['source 255.255.255.255', udp({ src: '255.255.255.255' }), false, /broadcast/],
    ['source class E', udp({ src: '240.0.0.1' }), false, /class E/],
    ['source a directed broadcast', udp({ src: '10.1.255.255' }), false, /directed broadcast/, { directedBroadcasts: ['10.1.255.255'] }],
    ['bad IP checksum', udp({ checksum: 1 }), false, /malformed/],
    ['an ARP frame', P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' }), false, /not IPv4/],
    ['a 10-byte runt', Buffer.alloc(10), false, /shorter/],
  ];
  for (const [name, frame, ok, re, mo] of suppression) {
    it(`mayGenerateIcmpError: ${name} → ${ok ? 'ok' : 'no'}`, () => {
      const v = P.mayGenerateIcmpError(frame, mo);
      assert.equal(v.ok, ok, v.why);
      if (re) assert.match(v.why!, re);
      if (!ok) {
        throwsCode(
          () => P.buildIcmpError({ type: 11, code: 0, original: frame, srcIp: '10.1.0.1', srcMac: R, directedBroadcasts: mo?.directedBroadcasts }),
          'EPACKET',
          /no ICMP error/,
        );
      }
    });
  }
  it('force builds an error about an ICMP error (for suppression-path tests)', () => {
    const e = P.buildIcmpError({ type: 11, code: 0, original: icmpErr, srcIp: '10.1.0.1', srcMac: R, force: true });
    assert.deepEqual(P.parseFrame(e).problems, []);
  });
});

describe('packet/ipv4 fragmentation (RFC 791 3.2)', () => {
  // Record Route (7: copy flag clear) then Loose Source Route (0x83: copied), 20 option bytes
  const rr = hex('07 0b 04 00000000 00000000 01'); // 11 bytes + a NOP
  const lsrr = hex('83 07 04 0a020002');
  const options = Buffer.concat([rr, lsrr, hex('00')]);
  const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff));
  const datagram = (o: Partial<P.Ipv4FrameOptions> = {}) =>
    P.buildIpv4Frame({ srcMac: A, dstMac: R, src: '10.1.0.2', dst: '10.2.0.2', protocol: 17, id: 0x1234, options, payload, ...o });

  /** Each fragment's parsed header, checked well formed and at most `mtu` long. */
  function parse(frames: Buffer[], mtu: number): P.Ipv4Header[] {
    return frames.map((f) => {
      const h = P.readIpv4Header(f, 14, true)!;
      assert.ok(h.totalLength <= mtu, `${h.totalLength} > ${mtu}`);
      return h;
    });
  }

  it('splits at multiples of 8, keeps the id, every option in the first and only copied ones after', () => {
    const frames = P.fragmentIpv4Frame(datagram(), 14, 120);
    const hs = parse(frames, 120);
    assert.equal(hs.length, 4); // (120 - 40) & ~7 = 80 bytes each: 80, 80, 80, 60
    assert.deepEqual(
      hs.map((h) => [h.fragmentOffset * 8, h.mf, h.payloadLength, h.id]),
      [
        [0, true, 80, 0x1234],
        [80, true, 80, 0x1234],
        [160, true, 80, 0x1234],
        [240, false, 60, 0x1234],
      ],
    );
    assert.deepEqual(hs[0].options, options);
    const nops = Buffer.concat([Buffer.alloc(11, 1), hex('01'), lsrr, hex('00')]);
    for (const h of hs.slice(1)) assert.deepEqual(h.options, nops, 'Record Route (no copy flag) becomes NOPs, LSRR stays');
    assert.deepEqual(Buffer.concat(hs.map((h, i) => frames[i].subarray(h.payloadOffset, h.payloadOffset + h.payloadLength))), payload);
    for (const f of frames) assert.deepEqual(f.subarray(0, 14), datagram().subarray(0, 14), 'the link header of the datagram');
  });

  it('fragments a fragment again: its offset carried on, its MF on the last piece', () => {
    for (const mf of [true, false]) {
      const hs = parse(P.fragmentIpv4Frame(datagram({ fragmentOffset: 100, mf }), 14, 200), 200);
      assert.deepEqual(
        hs.map((h) => [h.fragmentOffset, h.mf]),
        [
          [100, true],
          [120, mf],
        ],
      );
    }
  });

  it("the router's own datagram takes the id it is given; one that fits is returned as is; DF set or no room throws", () => {
    assert.equal(P.readIpv4Header(P.fragmentIpv4Frame(datagram(), 14, 120, 7)[1], 14)!.id, 7);
    const d = datagram();
    assert.deepEqual(P.fragmentIpv4Frame(d, 14, 1500), [d]);
    throwsCode(() => P.fragmentIpv4Frame(datagram({ df: true }), 14, 120), 'EPACKET', /DF/);
    throwsCode(() => P.fragmentIpv4Frame(datagram(), 14, 47), 'EPACKET', /no room/);
    throwsCode(() => P.fragmentIpv4Frame(datagram({ fragmentOffset: 8190 }), 14, 120), 'EPACKET', /65535/);
  });
});

describe('packet/arp', () => {
  it('request: broadcast, target MAC zero, round-trips', () => {
    const f = P.buildArpRequest({ senderMac: R, senderIp: '10.1.0.1', targetIp: '10.1.0.2' });
    assert.equal(f.length, 60);
    const p = P.parseFrame(f, { strict: true });
    assert.equal(p.eth!.dstMac, P.BROADCAST_MAC);
    assert.equal(p.eth!.srcMac, R);
    assert.equal(p.eth!.etherType, P.ETHERTYPE_ARP);
    assert.deepEqual(
      { op: p.arp!.op, senderMac: p.arp!.senderMac, senderIp: p.arp!.senderIp, targetMac: p.arp!.targetMac, targetIp: p.arp!.targetIp },
      { op: 1, senderMac: R, senderIp: '10.1.0.1', targetMac: P.ZERO_MAC, targetIp: '10.1.0.2' },
    );
    assert.deepEqual(f.subarray(14, 22), hex('0001 0800 06 04 0001'));
  });
  it('reply: unicast to the target, round-trips with VLAN', () => {
    const f = P.buildArpReply({ senderMac: R, senderIp: '10.1.0.1', targetMac: A, targetIp: '10.1.0.2', vlan: 3 });
    const p = P.parseFrame(f, { strict: true });
    assert.equal(p.eth!.dstMac, A);
    assert.equal(p.eth!.vlans[0].id, 3);
    assert.equal(p.arp!.op, P.ARP_OP_REPLY);
    assert.equal(p.arp!.targetMac, A);
  });
  it('buildArpReplyTo answers a request for our address', () => {
    const req = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1', vlan: 8 });
    const p = P.parseFrame(P.buildArpReplyTo(req, R), { strict: true });
    assert.equal(p.eth!.dstMac, A);
    assert.equal(p.eth!.srcMac, R);
    assert.equal(p.eth!.vlans[0].id, 8);
    assert.deepEqual([p.arp!.op, p.arp!.senderMac, p.arp!.senderIp, p.arp!.targetMac, p.arp!.targetIp], [2, R, '10.1.0.1', A, '10.1.0.2']);
    throwsCode(() => P.buildArpReplyTo(P.buildArpReplyTo(req, R), R), 'EPACKET', /not a request/);
  });
  for (const op of ['request', 'reply'] as const) {
    it(`gratuitous ARP (${op})`, () => {
      const p = P.parseFrame(P.buildGratuitousArp({ senderMac: R, ip: '10.1.0.1', op }), { strict: true });
      assert.equal(p.eth!.dstMac, P.BROADCAST_MAC);
      assert.ok(P.isGratuitousArp(p.arp!));
      assert.equal(p.arp!.op, op === 'request' ? 1 : 2);
      assert.equal(p.arp!.targetMac, op === 'request' ? P.ZERO_MAC : R);
    });
  }
  const bad: Array<[string, number, number, RegExp]> = [
    ['htype 6', 14, 6, /hardware type 6/],
    ['ptype 0x86dd', 16, 0x86dd, /protocol type 0x86dd/],
    ['op 3', 20, 3, /operation 3/],
  ];
  for (const [name, off, value, re] of bad) {
    it(`validation: ${name}`, () => {
      const f = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
      f.writeUInt16BE(value, off);
      const p = P.parseArp(f, 14)!;
      assert.ok(
        p.problems.some((x) => re.test(x)),
        JSON.stringify(p.problems),
      );
      throwsCode(() => P.parseArp(f, 14, true), 'EPACKET', re);
    });
  }
  it('validation: hlen 8, plen 16', () => {
    const f = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    f[18] = 8;
    f[19] = 16;
    assert.equal(P.parseArp(f, 14)!.problems.length, 2);
  });
  it('truncated ARP: undefined tolerant, EPACKET strict', () => {
    const f = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' }).subarray(0, 41);
    assert.equal(P.parseArp(f, 14), undefined);
    throwsCode(() => P.parseArp(f, 14, true), 'EPACKET', /27 of 28/);
  });
});

describe('packet/flows', () => {
  const base = { count: 1024, srcMac: A, dstMac: B, srcBase: '10.1.0.0', dstBase: '10.2.0.0', seed: 42 };
  it('1024 sequential 64-byte flows', () => {
    const fs = P.makeUdpFlows(base);
    assert.equal(fs.length, 1024);
    const srcs = new Set<string>();
    fs.forEach((f, i) => {
      assert.equal(f.length, 60);
      const p = P.parseFrame(f, { strict: true });
      assert.equal(p.ip!.dst, formatIPv4(parseIPv4('10.2.0.0') + i));
      assert.equal(p.ip!.totalLength, 46);
      srcs.add(p.ip!.src);
    });
    assert.equal(srcs.size, 1024);
    assert.equal(P.parseFrame(fs[1023]).ip!.dst, '10.2.3.255');
  });
  it('random spread: deterministic for a seed, within the span, different for another seed', () => {
    const a = P.makeUdpFlows({ ...base, dstSpread: 'random', dstSpan: 4096 });
    const b = P.makeUdpFlows({ ...base, dstSpread: 'random', dstSpan: 4096 });
    const c = P.makeUdpFlows({ ...base, dstSpread: 'random', dstSpan: 4096, seed: 43 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    for (const f of a) {
      const off = parseIPv4(P.parseFrame(f).ip!.dst) - parseIPv4('10.2.0.0');
      assert.ok(off >= 0 && off < 4096);
    }
  });
  it('frame sizes include FCS', () => {
    assert.equal(P.makeUdpFlows({ ...base, count: 2, frameSize: 1518 })[1].length, 1514);
    throwsCode(() => P.makeUdpFlows({ ...base, frameSize: 60 }), 'EINVAL');
  });
  it('PRNG is a fixed sequence', () => {
    const r = P.makePrng(1);
    const first = [r(), r(), r()];
    const r2 = P.makePrng(1);
    assert.deepEqual([r2(), r2(), r2()], first);
    assert.ok(first.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff));
  });
});
