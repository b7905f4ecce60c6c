import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isDpfwdError } from '../src/errors';
import * as P from '../src/packet';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

describe('packet/pcap', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-pcap-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const flows = P.makeUdpFlows({ count: 1024, srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:0b', srcBase: '10.1.0.0', dstBase: '10.2.0.0', seed: 1 });

  it('file header is classic libpcap: a1b2c3d4 little-endian, v2.4, snaplen 65535, linktype 1', () => {
    assert.deepEqual(P.encodePcap([]), hex('d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000'));
    assert.deepEqual(P.encodePcap([], { nanosecond: true }).subarray(0, 4), hex('4d3cb2a1'));
  });

  it('write → read round trip is byte-exact (1024 flows)', () => {
    const f = path.join(dir, 'flows.pcap');
    P.writePcap(f, flows);
    assert.equal(fs.statSync(f).size, 24 + 1024 * (16 + 60));
    const recs = P.readPcap(f);
    assert.equal(recs.length, 1024);
    recs.forEach((r, i) => {
      assert.deepEqual(r.data, flows[i]);
      assert.equal(r.origLen, 60);
      assert.deepEqual(r.ts, { sec: 0, nsec: i * 1000 });
    });
    assert.deepEqual(fs.readFileSync(f), P.encodePcap(flows));
  });

  const tsCases: Array<[string, boolean, P.PcapTime, P.PcapTime]> = [
    ['microsecond file keeps microseconds', false, { sec: 1700000000, nsec: 123456000 }, { sec: 1700000000, nsec: 123456000 }],
    ['microsecond file drops sub-microsecond digits', false, { sec: 5, nsec: 999999999 }, { sec: 5, nsec: 999999000 }],
    ['nanosecond file keeps nanoseconds', true, { sec: 4294967295, nsec: 999999999 }, { sec: 4294967295, nsec: 999999999 }],
  ];
  for (const [name, nanosecond, ts, want] of tsCases) {
    it(`timestamps: ${name}`, () => {
      const cap = P.decodePcap(P.encodePcap([{ data: flows[0], ts }], { nanosecond }));
      assert.equal(cap.header.nanosecond, nanosecond);
      assert.deepEqual(cap.records[0].ts, want);
    });
  }

  it('rejects an out-of-range timestamp', () => {
    assert.throws(
      () => P.encodePcap([{ data: flows[0], ts: { sec: 1, nsec: 1e9 } }]),
      (e: unknown) => isDpfwdError(e) && e.code === 'EINVAL',
    );
  });

  it('snaplen cuts long frames and keeps orig_len', () => {
    const big = P.buildUdp4({ srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:0b', src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, size: 1514 });
    const cap = P.decodePcap(P.encodePcap([big], { snaplen: 128 }));
    assert.equal(cap.header.snaplen, 128);
    assert.deepEqual(cap.records[0].data, big.subarray(0, 128));
    assert.equal(cap.records[0].origLen, 1514);
  });

  it('reads a hand-made big-endian microsecond pcap', () => {
    const be = hex(
      'a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000001' + // file header, big-endian
        '00000001 0007a120 00000004 0000003c deadbeef' + // 1.5 s, 4 of 60 bytes
        '00000002 00000000 00000002 00000002 cafe', // 2 s, 2 bytes
    );
    const cap = P.decodePcap(be);
    assert.deepEqual(cap.header, { byteOrder: 'BE', nanosecond: false, versionMajor: 2, versionMinor: 4, snaplen: 65535, linktype: 1 });
    assert.deepEqual(cap.records, [
      { ts: { sec: 1, nsec: 500000000 }, data: hex('deadbeef'), origLen: 60 },
      { ts: { sec: 2, nsec: 0 }, data: hex('cafe'), origLen: 2 },
    ]);
  });

  it('reads a hand-made big-endian nanosecond pcap', () => {
    const be = hex('a1b23c4d 0002 0004 00000000 00000000 00040000 00000001' + '00000003 00000007 00000001 00000001 ff');
    const cap = P.decodePcap(be);
    assert.equal(cap.header.nanosecond, true);
    assert.equal(cap.header.snaplen, 262144);
    assert.deepEqual(cap.records[0].ts, { sec: 3, nsec: 7 });
  });

  const good = P.encodePcap(flows.slice(0, 2));
  const bad: Array<[string, Buffer, RegExp]> = [
    ['empty file', Buffer.alloc(0), /offset 0: file header needs 24 bytes, only 0/],
    ['cut inside the file header', good.subarray(0, 20), /offset 0: file header needs 24 bytes, only 20/],
    ['cut inside the first record header', good.subarray(0, 30), /offset 24: record 0 header needs 16 bytes, only 6/],
    ['cut inside the second record data', good.subarray(0, good.length - 1), /offset 100: record 1 needs 60 bytes of data, only 59/],
    ['unknown magic', Buffer.concat([hex('00112233'), good.subarray(4)]), /unknown magic 0x00112233/],
    ['pcapng', Buffer.concat([hex('0a0d0d0a'), good.subarray(4)]), /pcapng/],
    ['absurd record length', Buffer.concat([good.subarray(0, 32), hex('ffffff7f 3c000000')]), /claims/],
  ];
  for (const [name, buf, re] of bad) {
    it(`rejects a bad file (${name}) with EPACKET naming file and offset`, () => {
      const f = path.join(dir, 'bad.pcap');
      fs.writeFileSync(f, buf);
      assert.throws(
        () => P.readPcap(f),
        (e: unknown) => isDpfwdError(e) && e.code === 'EPACKET' && e.message.startsWith(`${f}: `) && re.test(e.message),
      );
    });
  }

  it('streaming writer equals encodePcap, across chunk flushes, for 20000 frames', () => {
    const f = path.join(dir, 'stream.pcap');
    const w = new P.PcapWriter(f, { nanosecond: true }, 4096);
    const frames: P.PcapInput[] = [];
    for (let i = 0; i < 20000; i++) {
      const fr = { data: flows[i % flows.length], ts: { sec: 1000 + Math.floor(i / 1000), nsec: (i % 1000) * 1000000 + 1 } };
      frames.push(fr);
      w.write(fr);
    }
    // One frame larger than the chunk goes straight through.
    const jumbo = Buffer.alloc(9000, 7);
    w.write(jumbo);
    frames.push({ data: jumbo, ts: { sec: 0, nsec: 20000 * 1000 } });
    assert.equal(w.count, 20001);
    w.close();
    w.close();
    assert.deepEqual(fs.readFileSync(f), P.encodePcap(frames, { nanosecond: true }));
    assert.throws(
      () => w.write(flows[0]),
      (e: unknown) => isDpfwdError(e) && e.code === 'EINVAL',
    );
    const cap = P.readPcapCapture(f);
    assert.equal(cap.records.length, 20001);
    assert.deepEqual(cap.records[20000].data, jumbo);
  });
});
