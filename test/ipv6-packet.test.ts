/**
 * src/packet/ipv6.ts, icmpv6.ts and ndp.ts against scapy (python3-scapy): every builder's bytes are
 * dissected by scapy (fields, checksum recomputed from the pseudo-header) and compared byte for
 * byte with the frame scapy builds from the same fields; the parsers read frames scapy built.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import { DpfwdError } from '../src/errors';
import { formatIpv6, parseIpv6 } from '../src/net/ipv6';
import { parseMac } from '../src/net/mac';
import {
  ICMPV6_DEST_UNREACH,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAM_PROBLEM,
  ICMPV6_PARAMPROB,
  ICMPV6_TIME_EXCEEDED,
  ICMPV6_UNREACH,
  buildIcmpv6EchoReply,
  buildIcmpv6Error,
  mayGenerateIcmpv6Error,
} from '../src/packet/icmpv6';
import { IPPROTO_UDP } from '../src/packet/ipv4';
import { IPPROTO_ICMPV6, IPPROTO_NONE, readIpv6Header, walkIpv6Chain } from '../src/packet/ipv6';
import {
  buildNeighborAdvertisement,
  buildNeighborSolicitation,
  buildRouterAdvertisement,
  checkRaTiming,
  nextRaDelay,
  parseNdp,
  rsReplyTime,
} from '../src/packet/ndp';

const PRELUDE = `
import json, sys
from scapy.all import *
from scapy.layers.inet6 import *
from scapy.layers.ipsec import AH
`;

/** Evaluates each scapy expression and returns the frames' bytes. */
function scapyBuild(exprs: string[]): Buffer[] {
  const py = `${PRELUDE}
print(json.dumps([bytes(eval(e)).hex() for e in json.load(sys.stdin)]))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(exprs), encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as string[]).map((h) => Buffer.from(h, 'hex'));
}

type Layers = Record<string, Record<string, unknown>[]> & { _cksumOk: boolean[]; _ipLen: number[] };

/**
 * Dissects each frame with scapy: every layer's fields (bytes as hex), and whether the ICMPv6
 * checksum equals the one scapy computes over the pseudo-header (in6_chksum).
 */
function scapyDissect(frames: Buffer[]): Layers[] {
  const py = `${PRELUDE}
def val(v):
    if isinstance(v, bytes): return v.hex()
    if isinstance(v, (int, str, float)) or v is None: return v
    if isinstance(v, list): return [val(x) for x in v]
    return str(v)
out = []
for h in json.load(sys.stdin):
    raw = bytes.fromhex(h)
    p = Ether(raw)
    d = {'_cksumOk': [], '_ipLen': []}
    l = p
    while l and not isinstance(l, (Raw, Padding)):
        d.setdefault(type(l).__name__, []).append({f.name: val(l.getfieldval(f.name)) for f in l.fields_desc})
        l = l.payload
    ip = p[IPv6]
    d['_ipLen'].append(40 + ip.plen)
    icmp = ip.payload
    if isinstance(icmp, Packet) and hasattr(icmp, 'cksum'):
        off = len(raw) - len(bytes(ip)) + 40
        msg = bytearray(raw[off:off + ip.plen])
        msg[2:4] = b'\\0\\0'
        d['_cksumOk'].append(in6_chksum(58, ip, bytes(msg)) == icmp.cksum)
    out.append(d)
print(json.dumps(out))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(frames.map((f) => f.toString('hex'))), encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Layers[];
}

const R_MAC = '02:00:00:00:00:01';
const H_MAC = '02:00:00:00:00:02';
const R_LL = 'fe80::ff:fe00:1';
const H_LL = 'fe80::ff:fe00:2';

function einval(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof DpfwdError && e.code === 'EINVAL' && re.test(e.message));
}

describe('IPv6 packets: headers, ICMPv6 and NDP against scapy (src/packet/ipv6.ts, icmpv6.ts, ndp.ts)', function () {
  this.timeout(60000);

  it('walks extension-header chains as scapy lays them out, and stops at bad lengths, too many headers, a late hop-by-hop', () => {
    const E = `Ether(dst='${R_MAC}', src='${H_MAC}')/IPv6(src='2001:db8::2', dst='2001:db8::1')`;
    const icmp = "ICMPv6EchoRequest(id=1, seq=2, data=b'abcd')";
    const table: [string, string, Record<string, unknown>][] = [
      ['no extension headers', `${E}/${icmp}`, { ok: true, protocol: IPPROTO_ICMPV6, headers: 0 }],
      [
        'hop-by-hop, routing, destination options',
        `${E}/IPv6ExtHdrHopByHop()/IPv6ExtHdrRouting(addresses=['2001:db8::9'])/IPv6ExtHdrDestOpt()/${icmp}`,
        { ok: true, protocol: IPPROTO_ICMPV6, headers: 3 },
      ],
      ['first fragment', `${E}/IPv6ExtHdrFragment(id=0x12345678, m=1, offset=0)/${icmp}`, { ok: true, protocol: IPPROTO_ICMPV6, headers: 1 }],
      ['non-first fragment ends the walk', `${E}/IPv6ExtHdrFragment(nh=17, id=7, offset=100)/Raw(b'x'*16)`, { ok: true, protocol: IPPROTO_UDP, headers: 1 }],
      ['AH in 4-byte units', `${E}/AH(nh=58, payloadlen=4, spi=1, seq=1, icv=b'\\x01'*12)/${icmp}`, { ok: true, protocol: IPPROTO_ICMPV6, headers: 1 }],
      ['no next header', `${E}/IPv6ExtHdrDestOpt(nh=59)`, { ok: true, protocol: IPPROTO_NONE, headers: 1 }],
      ['destination options longer than the packet', `${E}/IPv6ExtHdrDestOpt(nh=58, len=10)`, { ok: false, why: 'truncated', pointer: 41 }],
      ['hop-by-hop after another header', `${E}/IPv6ExtHdrDestOpt()/IPv6ExtHdrHopByHop()/${icmp}`, { ok: false, why: 'hop-by-hop-not-first', pointer: 40 }],
      ['nine destination options headers', `${E}/${'IPv6ExtHdrDestOpt()/'.repeat(9)}${icmp}`, { ok: false, why: 'too-many-headers' }],
    ];
    const frames = scapyBuild(table.map((t) => t[1]));
    for (let i = 0; i < table.length; i++) {
      const [what, , want] = table[i];
      const ip = readIpv6Header(frames[i], 14)!;
      assert.equal(ip.problem, undefined, what);
      const c = walkIpv6Chain(frames[i], ip);
      for (const [k, v] of Object.entries(want)) assert.equal((c as Record<string, unknown>)[k], v, `${what}: ${k}`);
      if (c.ok && want.protocol === IPPROTO_ICMPV6) {
        assert.equal(frames[i][c.offset], 128, `${what}: offset points at the echo request`);
        assert.equal(c.length, 12, `${what}: the echo request's length`);
      }
    }
    // A frame cut short of its Payload Length is reported before any walk.
    assert.equal(readIpv6Header(frames[1].subarray(0, frames[1].length - 1), 14)!.problem, 'truncated-payload');
    assert.equal(readIpv6Header(frames[1], frames[1].length - 39), undefined);
    const v4 = Buffer.from(frames[0]);
    v4[14] = 0x45;
    assert.equal(readIpv6Header(v4, 14)!.problem, 'version');
  });

  it('echo reply: the bytes scapy builds for the same reply, checksum verified by scapy', () => {
    const [req] = scapyBuild([
      `Ether(dst='${R_MAC}', src='${H_MAC}')/IPv6(src='2001:db8::2', dst='2001:db8::1', tc=0x20, hlim=63)/ICMPv6EchoRequest(id=0x1234, seq=7, data=b'hello, router')`,
    ]);
    const reply = buildIcmpv6EchoReply(req, R_MAC);
    const [ref] = scapyBuild([
      `Ether(dst='${H_MAC}', src='${R_MAC}')/IPv6(src='2001:db8::1', dst='2001:db8::2', tc=0x20, hlim=64)/ICMPv6EchoReply(id=0x1234, seq=7, data=b'hello, router')`,
    ]);
    assert.equal(reply.toString('hex'), ref.toString('hex'));
    const [d] = scapyDissect([reply]);
    assert.deepEqual(d._cksumOk, [true]);
    assert.equal(d.ICMPv6EchoReply[0].seq, 7);
    const bad = Buffer.from(req);
    bad[bad.length - 1] ^= 1;
    assert.throws(() => buildIcmpv6EchoReply(bad, R_MAC), /checksum/);
  });

  it('errors: time exceeded, unreachable (address), packet too big (MTU), parameter problem (pointer) match scapy; the whole error fits in 1280 bytes', () => {
    const [small, big] = scapyBuild([
      `Ether(dst='${R_MAC}', src='${H_MAC}')/IPv6(src='2001:db8::2', dst='2001:db8:9::1', hlim=1)/UDP(sport=1000, dport=2000)/Raw(b'x'*20)`,
      `Ether(dst='${R_MAC}', src='${H_MAC}')/IPv6(src='2001:db8::2', dst='2001:db8:9::1')/UDP(sport=1000, dport=2000)/Raw(b'y'*1452)`,
    ]);
    const base = { srcIp: '2001:db8::1', srcMac: R_MAC };
    const cases: [string, Buffer, Buffer, string][] = [];
    const q = (f: Buffer, n: number) => `bytes.fromhex('${f.subarray(14, 14 + n).toString('hex')}')`;
    const hdr = `Ether(dst='${H_MAC}', src='${R_MAC}')/IPv6(src='2001:db8::1', dst='2001:db8::2', hlim=64)`;
    cases.push([
      'time exceeded',
      small,
      buildIcmpv6Error({ ...base, type: ICMPV6_TIME_EXCEEDED, code: 0, original: small }),
      `${hdr}/ICMPv6TimeExceeded(code=0)/Raw(${q(small, small.length - 14)})`,
    ]);
    cases.push([
      'address unreachable',
      small,
      buildIcmpv6Error({ ...base, type: ICMPV6_DEST_UNREACH, code: ICMPV6_UNREACH.ADDRESS, original: small }),
      `${hdr}/ICMPv6DestUnreach(code=3)/Raw(${q(small, small.length - 14)})`,
    ]);
    cases.push([
      'packet too big',
      big,
      buildIcmpv6Error({ ...base, type: ICMPV6_PACKET_TOO_BIG, code: 0, mtu: 1280, original: big }),
      `${hdr}/ICMPv6PacketTooBig(mtu=1280)/Raw(${q(big, 1232)})`,
    ]);
    cases.push([
      'parameter problem',
      big,
      buildIcmpv6Error({ ...base, type: ICMPV6_PARAM_PROBLEM, code: ICMPV6_PARAMPROB.NEXT_HEADER, pointer: 6, original: big }),
      `${hdr}/ICMPv6ParamProblem(code=1, ptr=6)/Raw(${q(big, 1232)})`,
    ]);
    const refs = scapyBuild(cases.map((c) => c[3]));
    const dissected = scapyDissect(cases.map((c) => c[2]));
    for (let i = 0; i < cases.length; i++) {
      const [what, , frame] = cases[i];
      assert.equal(frame.toString('hex'), refs[i].toString('hex'), what);
      assert.deepEqual(dissected[i]._cksumOk, [true], `${what}: checksum`);
      assert.ok(dissected[i]._ipLen[0] <= 1280, `${what}: ${dissected[i]._ipLen[0]} bytes`);
    }
    assert.equal(dissected[2]._ipLen[0], 1280, 'a big invoking packet fills the error to exactly 1280');
    assert.equal(dissected[2].ICMPv6PacketTooBig[0].mtu, 1280);
    assert.equal(dissected[3].ICMPv6ParamProblem[0].ptr, 6);
    einval(() => buildIcmpv6Error({ ...base, type: ICMPV6_PACKET_TOO_BIG, code: 0, original: big }), /mtu is required/);
    einval(() => buildIcmpv6Error({ ...base, type: ICMPV6_PACKET_TOO_BIG, code: 0, mtu: 1000, original: big }), /1280/);
  });

  it('never an error about an ICMPv6 error, a redirect, or to multicast (except packet too big and parameter problem code 2)', () => {
    const E = (dmac: string, dst: string, src = '2001:db8::2') => `Ether(dst='${dmac}', src='${H_MAC}')/IPv6(src='${src}', dst='${dst}')`;
    const table: [string, string, number, number, boolean][] = [
      ['unicast UDP', `${E(R_MAC, '2001:db8:9::1')}/UDP()`, 3, 0, true],
      ['an echo request', `${E(R_MAC, '2001:db8:9::1')}/ICMPv6EchoRequest()`, 3, 0, true],
      ['an ICMPv6 error', `${E(R_MAC, '2001:db8:9::1')}/ICMPv6DestUnreach()/IPv6()`, 3, 0, false],
      ['an ICMPv6 error behind a destination options header', `${E(R_MAC, '2001:db8:9::1')}/IPv6ExtHdrDestOpt()/ICMPv6TimeExceeded()`, 1, 0, false],
      ['a redirect', `${E(R_MAC, '2001:db8:9::1', 'fe80::2')}/ICMPv6ND_Redirect(tgt='fe80::3', dst='2001:db8::5')`, 3, 0, false],
      ['multicast destination', `${E('33:33:00:00:00:05', 'ff05::5')}/UDP()`, 3, 0, false],
      ['multicast destination, packet too big', `${E('33:33:00:00:00:05', 'ff05::5')}/UDP()`, 2, 0, true],
      ['multicast destination, parameter problem code 2', `${E('33:33:00:00:00:05', 'ff05::5')}/UDP()`, 4, 2, true],
      ['multicast destination, parameter problem code 0', `${E('33:33:00:00:00:05', 'ff05::5')}/UDP()`, 4, 0, false],
      ['link-layer broadcast', `${E('ff:ff:ff:ff:ff:ff', '2001:db8:9::1')}/UDP()`, 3, 0, false],
      ['source ::', `${E(R_MAC, '2001:db8:9::1', '::')}/UDP()`, 3, 0, false],
      ['multicast source', `${E(R_MAC, '2001:db8:9::1', 'ff02::1')}/UDP()`, 2, 0, false],
    ];
    const frames = scapyBuild(table.map((t) => t[1]));
    for (let i = 0; i < table.length; i++) {
      const [what, , type, code, ok] = table[i];
      assert.equal(mayGenerateIcmpv6Error(frames[i], type, code).ok, ok, what);
      if (!ok)
        assert.throws(
          () => buildIcmpv6Error({ type, code, original: frames[i], srcIp: '2001:db8::1', srcMac: R_MAC, mtu: type === 2 ? 1280 : undefined }),
          /no ICMPv6 error/,
        );
    }
  });

  it('NA: R, S, O at the bit positions scapy (and Linux) read, with the target link-layer option', () => {
    const combos: [boolean, boolean, boolean][] = [
      [true, true, false],
      [false, true, true],
      [true, false, true],
      [false, false, false],
    ];
    const mine = combos.map(([r, s, o]) =>
      buildNeighborAdvertisement({
        srcMac: parseMac(R_MAC),
        srcIp: R_LL,
        dstIp: s ? H_LL : 'ff02::1',
        dstMac: s ? parseMac(H_MAC) : undefined,
        target: '2001:db8::1',
        router: r,
        solicited: s,
        override: o,
      }),
    );
    const refs = scapyBuild(
      combos.map(
        ([r, s, o]) =>
          `Ether(dst='${s ? H_MAC : '33:33:00:00:00:01'}', src='${R_MAC}')/IPv6(src='${R_LL}', dst='${s ? H_LL : 'ff02::1'}', hlim=255)/ICMPv6ND_NA(R=${+r}, S=${+s}, O=${+o}, tgt='2001:db8::1')/ICMPv6NDOptDstLLAddr(lladdr='${R_MAC}')`,
      ),
    );
    const d = scapyDissect(mine);
    for (let i = 0; i < combos.length; i++) {
      assert.equal(mine[i].toString('hex'), refs[i].toString('hex'), `R S O = ${combos[i]}`);
      const na = d[i].ICMPv6ND_NA[0];
      assert.deepEqual([na.R, na.S, na.O], combos[i].map(Number), `scapy reads R S O = ${combos[i]}`);
      assert.deepEqual(d[i]._cksumOk, [true]);
      assert.equal(d[i].ICMPv6NDOptDstLLAddr[0].lladdr, R_MAC);
      const p = parseNdp(mine[i])!;
      assert.ok(p.ok);
      assert.deepEqual([p.msg.router, p.msg.solicited, p.msg.override], combos[i]);
    }
    einval(
      () => buildNeighborAdvertisement({ srcMac: 1, srcIp: R_LL, dstIp: 'ff02::1', target: '2001:db8::1', router: true, solicited: true, override: true }),
      /solicited/,
    );
  });

  it('NS: multicast to the solicited-node group with the source link-layer option; unicast; DAD from :: without it', () => {
    const mine = [
      buildNeighborSolicitation({ srcMac: parseMac(R_MAC), srcIp: '2001:db8::1', target: '2001:db8::abcd:2' }),
      buildNeighborSolicitation({ srcMac: parseMac(R_MAC), srcIp: R_LL, target: H_LL, dstIp: H_LL, dstMac: parseMac(H_MAC) }),
      buildNeighborSolicitation({ srcMac: parseMac(R_MAC), srcIp: '::', target: '2001:db8::1' }),
    ];
    const refs = scapyBuild([
      `Ether(dst='33:33:ff:cd:00:02', src='${R_MAC}')/IPv6(src='2001:db8::1', dst='ff02::1:ffcd:2', hlim=255)/ICMPv6ND_NS(tgt='2001:db8::abcd:2')/ICMPv6NDOptSrcLLAddr(lladdr='${R_MAC}')`,
      `Ether(dst='${H_MAC}', src='${R_MAC}')/IPv6(src='${R_LL}', dst='${H_LL}', hlim=255)/ICMPv6ND_NS(tgt='${H_LL}')/ICMPv6NDOptSrcLLAddr(lladdr='${R_MAC}')`,
      `Ether(dst='33:33:ff:00:00:01', src='${R_MAC}')/IPv6(src='::', dst='ff02::1:ff00:1', hlim=255)/ICMPv6ND_NS(tgt='2001:db8::1')`,
    ]);
    const d = scapyDissect(mine);
    for (let i = 0; i < mine.length; i++) {
      assert.equal(mine[i].toString('hex'), refs[i].toString('hex'), `NS ${i}`);
      assert.deepEqual(d[i]._cksumOk, [true]);
      assert.ok(parseNdp(mine[i])!.ok, `NS ${i} parses`);
    }
    einval(() => buildNeighborSolicitation({ srcMac: 1, srcIp: R_LL, target: 'ff02::1' }), /multicast/);
  });

  it('RA: interval-free fields, MTU and prefix information options as scapy builds them; lifetime 0 when off', () => {
    const mine = [
      buildRouterAdvertisement({
        srcMac: parseMac(R_MAC),
        srcIp: R_LL,
        routerLifetime: 1800,
        reachableTime: 30000,
        retransTimer: 1000,
        other: true,
        mtu: 1500,
        prefixes: [
          { prefix: '2001:db8:1::', len: 64 },
          { prefix: '2001:db8:2::5', len: 48, autonomous: false, validLifetime: 3600, preferredLifetime: 1800 },
        ],
      }),
      buildRouterAdvertisement({ srcMac: parseMac(R_MAC), srcIp: R_LL, routerLifetime: 0, dstIp: H_LL, dstMac: parseMac(H_MAC) }),
    ];
    const refs = scapyBuild([
      `Ether(dst='33:33:00:00:00:01', src='${R_MAC}')/IPv6(src='${R_LL}', dst='ff02::1', hlim=255)/ICMPv6ND_RA(chlim=64, M=0, O=1, prf=0, routerlifetime=1800, reachabletime=30000, retranstimer=1000)` +
        `/ICMPv6NDOptSrcLLAddr(lladdr='${R_MAC}')/ICMPv6NDOptMTU(mtu=1500)` +
        `/ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=2592000, preferredlifetime=604800, prefix='2001:db8:1::')` +
        `/ICMPv6NDOptPrefixInfo(prefixlen=48, L=1, A=0, validlifetime=3600, preferredlifetime=1800, prefix='2001:db8:2::')`,
      `Ether(dst='${H_MAC}', src='${R_MAC}')/IPv6(src='${R_LL}', dst='${H_LL}', hlim=255)/ICMPv6ND_RA(chlim=64, M=0, O=0, prf=0, routerlifetime=0)/ICMPv6NDOptSrcLLAddr(lladdr='${R_MAC}')`,
    ]);
    const d = scapyDissect(mine);
    for (let i = 0; i < mine.length; i++) {
      assert.equal(mine[i].toString('hex'), refs[i].toString('hex'), `RA ${i}`);
      assert.deepEqual(d[i]._cksumOk, [true]);
    }
    assert.equal(d[0].ICMPv6NDOptPrefixInfo.length, 2);
    const p = parseNdp(mine[0])!;
    assert.ok(p.ok);
    assert.equal(p.msg.mtu, 1500);
    assert.equal(p.msg.routerLifetime, 1800);
    assert.deepEqual(
      p.msg.prefixes.map((x) => [formatIpv6(x.prefix), x.len, x.onLink, x.autonomous, x.validLifetime, x.preferredLifetime]),
      [
        ['2001:db8:1::', 64, true, true, 2592000, 604800],
        ['2001:db8:2::', 48, true, false, 3600, 1800],
      ],
    );
    einval(() => buildRouterAdvertisement({ srcMac: 1, srcIp: '2001:db8::1', routerLifetime: 0 }), /link-local/);
    einval(() => buildRouterAdvertisement({ srcMac: 1, srcIp: R_LL, routerLifetime: 9001 }), /9000/);
    einval(() => buildRouterAdvertisement({ srcMac: 1, srcIp: R_LL, routerLifetime: 0, mtu: 1000 }), /1280/);
    einval(
      () =>
        buildRouterAdvertisement({
          srcMac: 1,
          srcIp: R_LL,
          routerLifetime: 0,
          prefixes: [{ prefix: '2001:db8::', len: 64, validLifetime: 1, preferredLifetime: 2 }],
        }),
      /preferred/,
    );
  });

  it('parses NS/NA/RS/RA/redirect frames scapy builds and discards what RFC 4861 says to discard', () => {
    const E = (src: string, dst: string, hlim = 255, dmac = R_MAC) => `Ether(dst='${dmac}', src='${H_MAC}')/IPv6(src='${src}', dst='${dst}', hlim=${hlim})`;
    const SLLA = `ICMPv6NDOptSrcLLAddr(lladdr='${H_MAC}')`;
    const table: [string, string, RegExp | null][] = [
      ['NS with source link-layer', `${E(H_LL, 'ff02::1:ff00:1')}/ICMPv6ND_NS(tgt='2001:db8::1')/${SLLA}`, null],
      ['NS with hop limit 254', `${E(H_LL, 'ff02::1:ff00:1', 254)}/ICMPv6ND_NS(tgt='2001:db8::1')`, /hop limit 254/],
      ['NS with code 1', `${E(H_LL, 'ff02::1:ff00:1')}/ICMPv6ND_NS(code=1, tgt='2001:db8::1')`, /code 1/],
      ['NS to a multicast target', `${E(H_LL, 'ff02::1:ff00:1')}/ICMPv6ND_NS(tgt='ff02::1')`, /target is multicast/],
      ['NS from :: with source link-layer', `${E('::', 'ff02::1:ff00:1')}/ICMPv6ND_NS(tgt='2001:db8::1')/${SLLA}`, /link-layer/],
      ['NS from :: not to the solicited-node group', `${E('::', 'ff02::1')}/ICMPv6ND_NS(tgt='2001:db8::1')`, /solicited-node/],
      [
        'NS with an option of length 0',
        `${E(H_LL, 'ff02::1:ff00:1')}/ICMPv6ND_NS(tgt='2001:db8::1')/ICMPv6NDOptSrcLLAddr(len=0, lladdr='${H_MAC}')`,
        /length 0/,
      ],
      [
        'NS with an option past the end',
        `${E(H_LL, 'ff02::1:ff00:1')}/ICMPv6ND_NS(tgt='2001:db8::1')/ICMPv6NDOptSrcLLAddr(len=2, lladdr='${H_MAC}')`,
        /runs past/,
      ],
      ['NS shorter than 24 bytes', `${E(H_LL, 'ff02::1:ff00:1')}/ICMPv6ND_RS(type=135)`, /below 24/],
      ['NA solicited to all-nodes', `${E(H_LL, 'ff02::1')}/ICMPv6ND_NA(S=1, tgt='2001:db8::2')`, /solicited flag/],
      ['NA unsolicited to all-nodes', `${E(H_LL, 'ff02::1')}/ICMPv6ND_NA(S=0, O=1, tgt='2001:db8::2')/ICMPv6NDOptDstLLAddr(lladdr='${H_MAC}')`, null],
      ['RS with source link-layer', `${E(H_LL, 'ff02::2')}/ICMPv6ND_RS()/${SLLA}`, null],
      ['RS from :: with source link-layer', `${E('::', 'ff02::2')}/ICMPv6ND_RS()/${SLLA}`, /RS from ::/],
      ['RA from a global address', `${E('2001:db8::2', 'ff02::1')}/ICMPv6ND_RA()`, /not link-local/],
      ['RA from link-local', `${E(H_LL, 'ff02::1')}/ICMPv6ND_RA(routerlifetime=600)/ICMPv6NDOptMTU(mtu=1400)`, null],
      ['redirect', `${E(H_LL, R_LL)}/ICMPv6ND_Redirect(tgt='fe80::3', dst='2001:db8::5')`, null],
      ['redirect to a multicast destination', `${E(H_LL, R_LL)}/ICMPv6ND_Redirect(tgt='fe80::3', dst='ff05::5')`, /destination is multicast/],
      ['redirect with a global target', `${E(H_LL, R_LL)}/ICMPv6ND_Redirect(tgt='2001:db8::3', dst='2001:db8::5')`, /neither link-local/],
    ];
    const frames = scapyBuild(table.map((t) => t[1]));
    for (let i = 0; i < table.length; i++) {
      const [what, , why] = table[i];
      const r = parseNdp(frames[i]);
      assert.ok(r, `${what}: recognised as NDP`);
      if (why === null) assert.ok(r.ok, `${what}: ${r.ok ? '' : r.why}`);
      else assert.ok(!r.ok && why.test(r.why), `${what}: ${r.ok ? 'accepted' : r.why}`);
    }
    const ns = parseNdp(frames[0])!;
    assert.ok(ns.ok && ns.msg.sourceMac === parseMac(H_MAC) && formatIpv6(ns.msg.target!) === '2001:db8::1');
    const ra = parseNdp(frames[14])!;
    assert.ok(ra.ok && ra.msg.mtu === 1400 && ra.msg.routerLifetime === 600);
    const corrupt = Buffer.from(frames[0]);
    corrupt[corrupt.length - 1] ^= 0xff;
    assert.deepEqual(parseNdp(corrupt), { ok: false, why: 'ICMPv6 checksum does not verify' });
    assert.equal(parseNdp(scapyBuild([`${E(H_LL, R_LL)}/ICMPv6EchoRequest()`])[0]), undefined, 'an echo request is not NDP');
    assert.equal(formatIpv6(parseIpv6('ff02::1:ff00:1')!), 'ff02::1:ff00:1');
  });

  it('RA timing follows RFC 4861 6.2.1, 6.2.4 and 6.2.6', () => {
    assert.deepEqual(checkRaTiming({}), { ok: true, timing: { maxInterval: 600, minInterval: 198, lifetime: 1800 } });
    assert.deepEqual(checkRaTiming({ maxInterval: 4 }), { ok: true, timing: { maxInterval: 4, minInterval: 4, lifetime: 12 } });
    const bad = checkRaTiming({ maxInterval: 2000, minInterval: 2, lifetime: 10 });
    assert.ok(!bad.ok && bad.errors.length === 3, JSON.stringify(bad));
    const t = { maxInterval: 600, minInterval: 200, lifetime: 1800 };
    assert.equal(nextRaDelay(t, 0, 0.5), 16, 'the first three are at most 16 s apart');
    assert.equal(nextRaDelay(t, 3, 0.5), 400);
    assert.equal(rsReplyTime(100, undefined, 1), 100.5);
    assert.equal(rsReplyTime(100, 99, 0), 102, 'never within 3 s of the last multicast RA');
  });
});
