import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import { isIPv6 } from 'net';
import { DpfwdError } from '../src/errors';
import {
  eui64LinkLocal,
  formatIpv6,
  formatIpv6Prefix,
  ipv6MulticastMac,
  ipv6MulticastScope,
  ipv6NetworkOf,
  ipv6PrefixMatch,
  isIpv6LinkLocal,
  isIpv6Loopback,
  isIpv6Multicast,
  isIpv6Unspecified,
  parseIpv6,
  parseIpv6InterfaceAddress,
  parseIpv6Prefix,
  requireIpv6,
  solicitedNodeMulticast,
} from '../src/net/ipv6';
import { formatMac, parseMac } from '../src/net/mac';

const hex = (b: Uint8Array | undefined): string | null => (b ? Buffer.from(b).toString('hex') : null);

function throwsEinval(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof DpfwdError && e.code === 'EINVAL' && re.test(e.message));
}

/** A small deterministic PRNG (mulberry32) so a failure is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random addresses with many zero groups (so `::` choices and ties happen) and their text forms, some broken. */
function generate(n: number): string[] {
  const r = rng(20);
  const out: string[] = [];
  const int = (k: number): number => Math.floor(r() * k);
  for (let k = 0; k < n; k++) {
    const groups: number[] = [];
    for (let g = 0; g < 8; g++) groups.push(r() < 0.45 ? 0 : r() < 0.3 ? int(16) : int(0x10000));
    if (r() < 0.05) groups.splice(0, 6, 0, 0, 0, 0, 0, 0xffff); // IPv4-mapped
    const form = int(6);
    let parts = groups.map((g) => g.toString(16));
    if (form === 1) parts = parts.map((p) => p.toUpperCase());
    if (form === 2) parts = parts.map((p) => p.padStart(1 + int(4), '0').slice(-4));
    let text: string;
    if (form === 3) {
      // dotted tail
      const v4 = `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
      text = parts.slice(0, 6).join(':') + ':' + v4;
    } else if (form >= 4) {
      // compress a random zero run (not necessarily the longest)
      const runs: [number, number][] = [];
      for (let g = 0; g < 8; g++) {
        if (groups[g] !== 0) continue;
        let e = g;
        while (e < 8 && groups[e] === 0) e++;
        runs.push([g, e]);
        g = e;
      }
      if (runs.length === 0) text = parts.join(':');
      else {
        const [s, e] = runs[int(runs.length)];
        const cut = s + int(e - s) + 1; // compress [s, cut)
        text = parts.slice(0, s).join(':') + '::' + parts.slice(cut).join(':');
      }
    } else {
      text = parts.join(':');
    }
    // Break some.
    const m = r();
    if (m < 0.04) text = text + ':';
    else if (m < 0.08) text = ':' + text;
    else if (m < 0.11) text = text.replace(':', ':::');
    else if (m < 0.14) text = text + '::1';
    else if (m < 0.17) text = text.replace(/[0-9a-f]/i, 'g');
    else if (m < 0.2) text = text + ':1';
    else if (m < 0.22) text = '12345:' + text;
    else if (m < 0.24) text = text + '.1';
    else if (m < 0.26) text = text.replace(/:[^:]*$/, ':01.2.3.4');
    else if (m < 0.28) text = text.replace(/:[^:]*$/, ':1.2.3.256');
    else if (m < 0.3) text = text + ' ';
    out.push(text);
  }
  return out;
}

const PY = `
import ipaddress, json, sys
out = []
for s in json.load(sys.stdin):
    try:
        a = ipaddress.IPv6Address(s)
        out.append([a.packed.hex(), str(a), a.is_link_local, a.is_multicast, a.is_loopback, a.is_unspecified])
    except ValueError:
        out.append(None)
print(json.dumps(out))
`;

describe('IPv6 addresses (src/net/ipv6.ts)', () => {
  it('parses every RFC 4291 2.2 text form', () => {
    const cases: [string, string][] = [
      ['2001:db8:0:0:8:800:200c:417a', '20010db8000000000008080020 0c417a'],
      ['2001:DB8::8:800:200C:417A', '20010db8000000000008080020 0c417a'],
      ['ff01::101', 'ff010000000000000000000000000101'],
      ['::1', '00000000000000000000000000000001'],
      ['::', '00000000000000000000000000000000'],
      ['1::', '00010000000000000000000000000000'],
      ['0:0:0:0:0:0:13.1.68.3', '0000000000000000000000000d014403'],
      ['::13.1.68.3', '0000000000000000000000000d014403'],
      ['::ffff:129.144.52.38', '00000000000000000000ffff81903426'],
      ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
      ['1:2:3:4:5::1.2.3.4', '00010002000300040005000001020304'],
      ['0001:0002:0003:0004:0005:0006:0007:0008', '00010002000300040005000600070008'],
      ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
      ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ];
    for (const [s, h] of cases) assert.equal(hex(parseIpv6(s)), h.replace(/ /g, ''), s);
  });

  it('rejects zone ids, garbage, overlong groups and misplaced colons or dotted quads', () => {
    for (const s of [
      '',
      ':',
      ':::',
      'fe80::1%eth0',
      'fe80::1%1',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7::8', // `::` must stand for at least one group
      '::1:2:3:4:5:6:7:8',
      '12345::',
      '1::2::3',
      ':1::',
      '1::2:',
      '1:2:3:4:5:6:7:8:',
      'g::',
      ' ::1',
      '::1 ',
      '1.2.3.4',
      '::1.2.3',
      '::1.2.3.4.5',
      '::01.2.3.4',
      '::256.1.1.1',
      '1.2.3.4::',
      '::1.2.3.4:1',
      '1:2:3:4:5:6:7:1.2.3.4',
      '[::1]',
      '::1/128',
      '0x1::',
    ]) {
      assert.equal(parseIpv6(s), undefined, JSON.stringify(s));
    }
    throwsEinval(() => requireIpv6('fe80::1%eth0'), /zone ids .* dev/);
    throwsEinval(() => requireIpv6('1::2::3'), /^1::2::3 is not an IPv6 address \(expected hex groups like 2001:db8::1\)$/);
  });

  it('formats as RFC 5952: lower case, no leading zeros, longest zero run compressed, first on a tie, never a single group', () => {
    const cases: [string, string][] = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['fe80:0:0:0:200:5eff:fe00:5301', 'fe80::200:5eff:fe00:5301'],
      ['::ffff:c000:0201', '::ffff:192.0.2.1'], // RFC 5952 §5
      ['::c000:0201', '::c000:201'],
    ];
    for (const [s, f] of cases) assert.equal(formatIpv6(parseIpv6(s)!), f, s);
  });

  it('agrees with Node net.isIPv6 and Python ipaddress on 4000 generated addresses', function () {
    this.timeout(60000);
    const texts = generate(4000);
    const py = spawnSync('python3', ['-c', PY], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(py.status, 0, py.stderr);
    const ref = JSON.parse(py.stdout) as ([string, string, boolean, boolean, boolean, boolean] | null)[];
    let valid = 0;
    for (let i = 0; i < texts.length; i++) {
      const s = texts[i];
      const mine = parseIpv6(s);
      assert.equal(mine !== undefined, isIPv6(s), `Node disagrees on ${JSON.stringify(s)}`);
      const r = ref[i];
      assert.equal(hex(mine), r ? r[0] : null, `Python disagrees on ${JSON.stringify(s)}`);
      if (!mine || !r) continue;
      valid++;
      const f = formatIpv6(mine);
      // Python 3.11 prints IPv4-mapped addresses in hex; RFC 5952 §5 (and Linux) use the dotted tail.
      const pyText = r[1].startsWith('::ffff:') && f.includes('.') ? f : r[1];
      assert.equal(f, pyText, `format of ${s}`);
      assert.equal(hex(parseIpv6(f)), r[0], `round trip of ${s}`);
      assert.deepEqual([isIpv6LinkLocal(mine), isIpv6Multicast(mine), isIpv6Loopback(mine), isIpv6Unspecified(mine)], r.slice(2), s);
    }
    assert.ok(valid > 2500 && valid < 3900, `${valid} valid of ${texts.length}: the generator should make both kinds`);
  });

  it('classifies addresses and multicast scopes', () => {
    const a = (s: string): Uint8Array => parseIpv6(s)!;
    assert.ok(isIpv6LinkLocal(a('fe80::1')) && isIpv6LinkLocal(a('febf::1')) && !isIpv6LinkLocal(a('fec0::1')));
    assert.ok(isIpv6Multicast(a('ff02::1')) && !isIpv6Multicast(a('fe02::1')));
    assert.ok(isIpv6Loopback(a('::1')) && !isIpv6Loopback(a('::')) && isIpv6Unspecified(a('::')));
    assert.equal(ipv6MulticastScope(a('ff02::1')), 2);
    assert.equal(ipv6MulticastScope(a('ff0e::1')), 0xe);
    assert.equal(ipv6MulticastScope(a('ff30::1')), 0);
  });

  it('derives solicited-node groups, multicast MACs and EUI-64 link-local addresses', () => {
    assert.equal(formatIpv6(solicitedNodeMulticast(parseIpv6('2001:db8::1:2345:6789')!)), 'ff02::1:ff45:6789');
    assert.equal(formatIpv6(solicitedNodeMulticast(parseIpv6('fe80::ab:cdef')!)), 'ff02::1:ffab:cdef');
    assert.equal(formatMac(ipv6MulticastMac(parseIpv6('ff02::1:ff45:6789')!)), '33:33:ff:45:67:89');
    assert.equal(formatMac(ipv6MulticastMac(parseIpv6('ff02::1')!)), '33:33:00:00:00:01');
    // RFC 4291 appendix A / what Linux derives for the MAC
    assert.equal(formatIpv6(eui64LinkLocal(parseMac('00:00:5e:00:53:01'))), 'fe80::200:5eff:fe00:5301');
    assert.equal(formatIpv6(eui64LinkLocal(parseMac('02:00:00:00:01:02'))), 'fe80::ff:fe00:102');
    assert.equal(formatIpv6(eui64LinkLocal(parseMac('fe:ff:ff:ff:ff:ff'))), 'fe80::fcff:ffff:feff:ffff');
  });

  it('parses prefixes like parsePrefix: host bits rejected with a suggestion, length 0-128', () => {
    const p = parseIpv6Prefix('2001:db8::/32');
    assert.equal(formatIpv6Prefix(p), '2001:db8::/32');
    assert.equal(formatIpv6Prefix(parseIpv6Prefix('::/0')), '::/0');
    assert.equal(formatIpv6Prefix(parseIpv6Prefix('2001:db8::1/128')), '2001:db8::1/128');
    assert.equal(formatIpv6Prefix(parseIpv6Prefix('2001:db8:8000::/33')), '2001:db8:8000::/33');
    throwsEinval(() => parseIpv6Prefix('2001:db8::1/64'), /^2001:db8::1\/64 has host bits set; did you mean 2001:db8::\/64\?$/);
    throwsEinval(() => parseIpv6Prefix('2001:db8:c000::/33'), /did you mean 2001:db8:8000::\/33\?/);
    throwsEinval(() => parseIpv6Prefix('2001:db8::'), /missing \/length/);
    throwsEinval(() => parseIpv6Prefix('2001:db8::/129'), /is not an IPv6 prefix/);
    throwsEinval(() => parseIpv6Prefix('2001:db8::/032'), /is not an IPv6 prefix/);
    throwsEinval(() => parseIpv6Prefix('2001:db8::/'), /is not an IPv6 prefix/);
    throwsEinval(() => parseIpv6Prefix('2001:db8::g/32'), /is not an IPv6 prefix/);
    throwsEinval(() => parseIpv6Prefix('fe80::%eth0/64'), /zone ids/);
    assert.equal(formatIpv6(ipv6NetworkOf(parseIpv6('2001:db8:ffff::1')!, 36)), '2001:db8:f000::');
    assert.ok(ipv6PrefixMatch(parseIpv6('2001:db8::')!, parseIpv6('2001:db8:ffff::1')!, 32));
    assert.ok(!ipv6PrefixMatch(parseIpv6('2001:db8::')!, parseIpv6('2001:db9::1')!, 32));
    assert.ok(ipv6PrefixMatch(parseIpv6('2001:db8::')!, parseIpv6('2001:db9::1')!, 31));
  });

  it('parses interface addresses: host bits expected, unicast only', () => {
    assert.equal(formatIpv6Prefix(parseIpv6InterfaceAddress('2001:db8:1::1/64')), '2001:db8:1::1/64');
    throwsEinval(() => parseIpv6InterfaceAddress('::/64'), /unspecified/);
    throwsEinval(() => parseIpv6InterfaceAddress('::1/128'), /loopback/);
    throwsEinval(() => parseIpv6InterfaceAddress('ff02::1/64'), /multicast/);
    throwsEinval(() => parseIpv6InterfaceAddress('2001:db8::1/0'), /\/0/);
  });
});
