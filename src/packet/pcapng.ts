/**
 * pcapng (draft-ietf-opsawg-pcapng) blocks for `dpfwd capture`: one Section Header Block, one
 * Interface Description Block per (port, direction), Enhanced Packet Blocks with nanosecond
 * timestamps, the direction in epb_flags and, on a dropped packet, its drop reason as the
 * opt_comment. Little-endian; every block is built whole so a stream can be flushed per block
 * (tcpdump -r - and Wireshark read it live). A tolerant reader for tests and tools is here too.
 */
import { DpfwdError } from '../errors';
import { LINKTYPE_ETHERNET, PcapTime } from './pcap';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;

/** epb_flags bits 0-1 (the packet's direction). */
export const EPB_INBOUND = 1;
export const EPB_OUTBOUND = 2;

function option(code: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function options(list: [number, Buffer][]): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  return Buffer.concat([...list.map(([c, v]) => option(c, v)), Buffer.alloc(4)]); // opt_endofopt
}

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

/** The Section Header Block that starts a file or stream. */
export function pcapngSectionHeader(application = 'dpfwd'): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  fixed.writeBigInt64LE(-1n, 8); // section length not known (a stream)
  return block(SHB, Buffer.concat([fixed, options([[SHB_USERAPPL, Buffer.from(application)]])]));
}

/** An Ethernet interface with nanosecond timestamps (if_tsresol 9). libpcap (tcpdump) refuses a section whose interfaces have different snap lengths: give them all the same. */
export function pcapngInterface(name: string, snaplen: number, description?: string): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(LINKTYPE_ETHERNET, 0);
  fixed.writeUInt32LE(snaplen, 4);
  const opts: [number, Buffer][] = [[IF_NAME, Buffer.from(name)]];
  if (description) opts.push([IF_DESCRIPTION, Buffer.from(description)]);
  opts.push([IF_TSRESOL, Buffer.from([9])]);
  return block(IDB, Buffer.concat([fixed, options(opts)]));
}

export interface PcapngPacket {
  /** index of its Interface Description Block, in the order they were written */
  iface: number;
  ts: PcapTime;
  data: Buffer;
  origLen: number;
  /** EPB_INBOUND or EPB_OUTBOUND (0: not said) */
  direction?: number;
  comment?: string;
}

/** An Enhanced Packet Block. */
export function pcapngPacket(p: PcapngPacket): Buffer {
  const fixed = Buffer.alloc(20);
  const ns = BigInt(p.ts.sec) * 1000000000n + BigInt(p.ts.nsec);
  fixed.writeUInt32LE(p.iface, 0);
  fixed.writeUInt32LE(Number(ns >> 32n), 4);
  fixed.writeUInt32LE(Number(ns & 0xffffffffn), 8);
  fixed.writeUInt32LE(p.data.length, 12);
  fixed.writeUInt32LE(p.origLen, 16);
  const pad = Buffer.alloc((4 - (p.data.length % 4)) % 4);
  const opts: [number, Buffer][] = [];
  if (p.comment !== undefined) opts.push([OPT_COMMENT, Buffer.from(p.comment)]);
  if (p.direction) {
    const f = Buffer.alloc(4);
    f.writeUInt32LE(p.direction, 0);
    opts.push([EPB_FLAGS, f]);
  }
  return block(EPB, Buffer.concat([fixed, p.data, pad, options(opts)]));
}

export interface PcapngRead {
  interfaces: { name?: string; description?: string; snaplen: number; linktype: number }[];
  packets: PcapngPacket[];
}

function readOptions(b: Buffer, at: number, end: number): Map<number, Buffer[]> {
  const m = new Map<number, Buffer[]>();
  while (at + 4 <= end) {
    const code = b.readUInt16LE(at);
    const len = b.readUInt16LE(at + 2);
    if (code === OPT_END) break;
    const v = b.subarray(at + 4, at + 4 + len);
    m.set(code, [...(m.get(code) ?? []), v]);
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return m;
}

/** Reads a little-endian pcapng with nanosecond interfaces (what pcapngSectionHeader starts). */
export function readPcapng(b: Buffer): PcapngRead {
  const out: PcapngRead = { interfaces: [], packets: [] };
  let at = 0;
  while (at + 12 <= b.length) {
    const type = b.readUInt32LE(at);
    const len = b.readUInt32LE(at + 4);
    if (len < 12 || len % 4 !== 0 || at + len > b.length) throw new DpfwdError('EPCAP', `pcapng: block at offset ${at} has a bad length ${len}`);
    if (type === SHB && b.readUInt32LE(at + 8) !== BYTE_ORDER_MAGIC) throw new DpfwdError('EPCAP', 'pcapng: only little-endian sections are read');
    if (type === IDB) {
      const o = readOptions(b, at + 16, at + len - 4);
      out.interfaces.push({
        linktype: b.readUInt16LE(at + 8),
        snaplen: b.readUInt32LE(at + 12),
        name: o.get(IF_NAME)?.[0]?.toString(),
        description: o.get(IF_DESCRIPTION)?.[0]?.toString(),
      });
    } else if (type === EPB) {
      const capLen = b.readUInt32LE(at + 20);
      const ns = (BigInt(b.readUInt32LE(at + 12)) << 32n) | BigInt(b.readUInt32LE(at + 16));
      const dataAt = at + 28;
      const o = readOptions(b, dataAt + capLen + ((4 - (capLen % 4)) % 4), at + len - 4);
      out.packets.push({
        iface: b.readUInt32LE(at + 8),
        ts: { sec: Number(ns / 1000000000n), nsec: Number(ns % 1000000000n) },
        data: Buffer.from(b.subarray(dataAt, dataAt + capLen)),
        origLen: b.readUInt32LE(at + 24),
        direction: o.get(EPB_FLAGS)?.[0]?.readUInt32LE(0),
        comment: o.get(OPT_COMMENT)?.[0]?.toString(),
      });
    }
    at += len;
  }
  return out;
}
