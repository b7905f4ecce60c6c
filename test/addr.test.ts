/**
 * The address-family seam's values (src/net/addr.ts) and the ARP frame read once into numbers
 * (readArp, arpReplyFrame in src/packet/arp.ts), against the text parsers they stand beside.
 */
import { strict as assert } from 'assert';
import { addrEqual, familyOf, formatAddr, formatPrefixAny, parseAddr, parsePrefixAny, requireAddr } from '../src/net/addr';
import { isDpfwdError } from '../src/errors';
import { parseIPv4 } from '../src/net/ipv4';
import { parseMac } from '../src/net/mac';
import * as P from '../src/packet';

describe('net/addr: family-tagged addresses and prefixes', () => {
  it('parses either family into its tag: IPv4 a uint32, IPv6 16 bytes', () => {
    assert.deepEqual(parseAddr('10.1.0.1'), { family: 4, v: parseIPv4('10.1.0.1') });
    const a6 = parseAddr('2001:db8::1')!;
    assert.equal(a6.family, 6);
    assert.ok(a6.family === 6 && a6.b.length === 16 && a6.b[0] === 0x20 && a6.b[15] === 1);
    assert.equal(formatAddr(a6), '2001:db8::1');
    assert.equal(formatAddr(parseAddr('192.0.2.255')!), '192.0.2.255');
    assert.equal(familyOf('::ffff:10.0.0.1'), 6);
  });

  it('refuses what is neither, naming the text', () => {
    for (const s of ['', '10.1.0', '010.1.0.1', '1:::2', 'x', '10.1.0.1/24']) assert.equal(parseAddr(s), undefined, s);
    assert.throws(
      () => requireAddr('10.1.0'),
      (e: unknown) => isDpfwdError(e) && /10\.1\.0 is not an IPv4 or IPv6 address/.test(e.message),
    );
  });

  it('prefixes of both families round-trip; host bits set are refused with the network suggested', () => {
    for (const s of ['0.0.0.0/0', '10.0.0.0/8', '192.0.2.1/32', '::/0', '2001:db8::/32', 'fe80::1/128']) assert.equal(formatPrefixAny(parsePrefixAny(s)), s);
    assert.throws(() => parsePrefixAny('10.1.0.1/16'), /did you mean 10\.1\.0\.0\/16/);
    assert.throws(() => parsePrefixAny('2001:db8::1/32'), /did you mean 2001:db8::\/32/);
  });

  it('equality is by family and value', () => {
    assert.ok(addrEqual(parseAddr('2001:db8::1')!, parseAddr('2001:0db8:0:0::1')!));
    assert.ok(!addrEqual(parseAddr('0.0.0.1')!, parseAddr('::1')!));
    assert.ok(addrEqual(parseAddr('10.0.0.1')!, { family: 4, v: 0x0a000001 }));
  });
});

describe('packet/arp: a punted ARP frame read once into numbers', () => {
  const A = '02:00:00:00:00:0a';
  const R = '02:00:00:00:00:01';

  it('readArp gives the numbers parseArp gives as text', () => {
    const req = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    assert.deepEqual(P.readArp(req, 14), {
      op: P.ARP_OP_REQUEST,
      senderMac: parseMac(A),
      senderIp: parseIPv4('10.1.0.2'),
      targetMac: 0,
      targetIp: parseIPv4('10.1.0.1'),
    });
  });

  it('readArp refuses what parseArp names a problem in, and short frames', () => {
    const req = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    for (const [off, v] of [
      [14, 2], // htype
      [16, 0x86], // ptype
      [18, 8], // hlen
      [19, 16], // plen
      [21, 3], // op
    ]) {
      const bad = Buffer.from(req);
      bad[off] = v;
      assert.ok(P.parseArp(bad, 14)!.problems.length > 0);
      assert.equal(P.readArp(bad, 14), undefined, `byte ${off}`);
    }
    assert.equal(P.readArp(req.subarray(0, 14 + 27), 14), undefined);
  });

  it('arpReplyFrame from the numbers is byte for byte the reply buildArpReplyTo builds from the frame', () => {
    const req = P.buildArpRequest({ senderMac: A, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    assert.deepEqual(P.arpReplyFrame(P.readArp(req, 14)!, parseMac(R)), P.buildArpReplyTo(req, R));
  });
});
