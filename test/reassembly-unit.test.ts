/**
 * Reassembly's rules without a forwarder (src/packet/reassembly.ts, ipv4-reassembly.ts): order,
 * duplicates, overlaps, the last fragment's length, the 8-byte rule, the bounds, the timeout, and
 * the IPv4 datagram rebuilt from the first fragment's headers.
 */
import { strict as assert } from 'assert';
import { buildIpv4Frame, readIpv4Header } from '../src/packet/ipv4';
import { Ipv4Reassembly } from '../src/packet/ipv4-reassembly';
import { Reassembler, REASSEMBLY_DEFAULTS } from '../src/packet/reassembly';

const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));

describe('reassembly (unit)', () => {
  const limits = { ...REASSEMBLY_DEFAULTS, timeoutMs: 60000 };

  it("joins fragments in any order; the first fragment's headers come back with the payload", () => {
    const r = new Reassembler<string>(limits);
    const p = bytes(40);
    assert.equal(r.add('k', 24, false, p.subarray(24)), undefined);
    assert.equal(r.add('k', 8, true, p.subarray(8, 24)), undefined);
    const done = r.add('k', 0, true, p.subarray(0, 8), 'head');
    assert.deepEqual(done, { payload: p, first: 'head' });
    assert.deepEqual(r.size, { datagrams: 0, bytes: 0 });
    assert.equal(r.counts.ok, 1);
    r.clear();
  });

  it('drops an exact duplicate alone, and the whole datagram on an overlap', () => {
    const r = new Reassembler<string>(limits);
    const p = bytes(32);
    r.add('k', 0, true, p.subarray(0, 16), 'h');
    assert.equal(r.add('k', 0, true, p.subarray(0, 16), 'h'), undefined);
    assert.equal(r.counts.duplicate, 1);
    assert.equal(r.size.datagrams, 1);
    assert.equal(r.add('k', 8, true, p.subarray(8, 24)), undefined);
    assert.equal(r.counts.overlap, 1);
    assert.deepEqual(r.size, { datagrams: 0, bytes: 0 }, 'the datagram is gone');
    // a second last fragment with another length, or data past the end, is an overlap too
    r.add('j', 16, false, p.subarray(16));
    assert.equal(r.add('j', 8, false, p.subarray(8, 24)), undefined);
    assert.equal(r.counts.overlap, 2);
    r.add('i', 0, false, p.subarray(0, 8), 'h'); // complete at once: 8 bytes, a datagram of its own
    assert.equal(r.counts.ok, 1);
    r.clear();
  });

  it('trims a non-last fragment to a multiple of 8 (as Linux does); refuses past the largest payload; an empty one is invalid', () => {
    const r = new Reassembler<string>({ ...limits, maxPayload: 64 });
    const p = bytes(24);
    assert.equal(r.add('k', 0, true, p.subarray(0, 12), 'h'), undefined); // keeps 8
    const done = r.add('k', 8, false, p.subarray(8));
    assert.deepEqual(done?.payload, p);
    assert.equal(r.add('big', 56, false, bytes(16)), undefined);
    assert.equal(r.counts.too_big, 1);
    assert.equal(r.add('e', 8, true, Buffer.alloc(0)), undefined);
    assert.equal(r.counts.invalid, 1);
    r.clear();
  });

  it('holds at most maxDatagrams and maxBytes; what does not fit is counted no_room', () => {
    const r = new Reassembler<string>({ ...limits, maxDatagrams: 3, maxBytes: 40 });
    for (let i = 0; i < 5; i++) r.add(`d${i}`, 0, true, bytes(8), 'h');
    assert.deepEqual(r.size, { datagrams: 3, bytes: 24 });
    assert.equal(r.counts.no_room, 2);
    r.add('d0', 8, true, bytes(24)); // 24 + 24 > 40
    assert.equal(r.counts.no_room, 3);
    assert.deepEqual(r.size, { datagrams: 3, bytes: 24 });
    r.clear();
    assert.deepEqual(r.size, { datagrams: 0, bytes: 0 });
  });

  it('a datagram not complete within timeoutMs is dropped; the owner hears of it when the first fragment had come', async () => {
    const told: (string | undefined)[] = [];
    const r = new Reassembler<string>({ ...limits, timeoutMs: 30 }, (f) => told.push(f));
    r.add('with-first', 0, true, bytes(8), 'first');
    r.add('without', 8, true, bytes(8));
    await new Promise((res) => setTimeout(res, 120));
    assert.deepEqual(told.sort(), ['first', undefined].sort());
    assert.equal(r.counts.timeout, 2);
    assert.deepEqual(r.size, { datagrams: 0, bytes: 0 });
  });

  it('IPv4: fragments of a datagram with options and DF clear come back as the datagram, header checksum valid', () => {
    const data = bytes(3000, 7);
    // by hand: the first fragment carries a router alert option (copied to every fragment, RFC 791)
    const mac = { dstMac: '02:00:00:00:00:01', srcMac: '02:00:00:00:00:02' };
    const options = Buffer.from([0x94, 0x04, 0x00, 0x00]);
    const frag = (off: number, len: number, mf: boolean) =>
      buildIpv4Frame({
        ...mac,
        src: '10.1.0.2',
        dst: '10.1.0.1',
        protocol: 17,
        ttl: 61,
        id: 4242,
        options,
        mf,
        fragmentOffset: off / 8,
        payload: data.subarray(off, off + len),
      });
    const frags = [frag(0, 1472, true), frag(1472, 1472, true), frag(2944, 56, false)];
    const expired: unknown[] = [];
    const re = new Ipv4Reassembly((f) => expired.push(f));
    let whole: Buffer | undefined;
    for (const f of [...frags].reverse()) whole = re.add(3, f, readIpv4Header(f, 14)!) ?? whole;
    assert.ok(whole);
    const h = readIpv4Header(whole, 14)!;
    assert.deepEqual(h.problems, []);
    assert.equal(h.mf || h.fragmentOffset !== 0, false);
    assert.equal(h.totalLength, 24 + 3000);
    assert.deepEqual(whole.subarray(h.payloadOffset), data);
    assert.deepEqual(whole.subarray(0, 14), frags[0].subarray(0, 14), 'the link header of the first fragment');
    assert.deepEqual([h.src, h.dst, h.ttl, h.id, h.protocol], ['10.1.0.2', '10.1.0.1', 61, 4242, 17]);
    assert.deepEqual(whole.subarray(34, 38), options, 'the options of the first fragment');
    re.r.clear();
  });
});
