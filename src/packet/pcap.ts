/**
 * Classic libpcap files (not pcapng): write little-endian with magic 0xa1b2c3d4 (microseconds) or
 * 0xa1b23c4d (nanoseconds), read either byte order and either resolution.
 */
import * as fs from 'fs';
import { DpfwdError } from '../errors';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_DEFAULT_SNAPLEN = 65535;
const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** Largest record a reader accepts, whatever the snaplen says (libpcap's own maximum). */
const MAX_RECORD = 262144;

/** A timestamp: whole seconds since the epoch plus nanoseconds (0..999999999). */
export interface PcapTime {
  sec: number;
  nsec: number;
}

export interface PcapRecord {
  ts: PcapTime;
  /** The captured bytes (incl_len of them). */
  data: Buffer;
  /** Length on the wire (orig_len); ≥ data.length. */
  origLen: number;
}

export interface PcapHeader {
  byteOrder: 'LE' | 'BE';
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linktype: number;
}

export interface PcapWriteOptions {
  /** Write the nanosecond magic and nanosecond timestamps (default microsecond). */
  nanosecond?: boolean;
  /** Default 65535; longer frames are cut to it (orig_len keeps the real length). */
  snaplen?: number;
  /** Default 1 (Ethernet). */
  linktype?: number;
}

/** A frame to write: bare bytes (timestamp = its index in microseconds) or with a timestamp. */
export type PcapInput = Buffer | { data: Buffer; ts?: PcapTime; origLen?: number };

function fileHeader(opts: PcapWriteOptions): Buffer {
  const h = Buffer.alloc(FILE_HEADER_LEN);
  h.writeUInt32LE(opts.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  // thiszone 0, sigfigs 0
  h.writeUInt32LE(opts.snaplen ?? PCAP_DEFAULT_SNAPLEN, 16);
  h.writeUInt32LE(opts.linktype ?? LINKTYPE_ETHERNET, 20);
  return h;
}

function checkTime(ts: PcapTime): void {
  if (!Number.isInteger(ts.sec) || ts.sec < 0 || ts.sec > 0xffffffff || !Number.isInteger(ts.nsec) || ts.nsec < 0 || ts.nsec > 999999999) {
    throw new DpfwdError('EINVAL', `pcap timestamp {sec: ${ts.sec}, nsec: ${ts.nsec}} is out of range`);
  }
}

/** Default timestamp of the i-th frame: i microseconds after the epoch. */
function defaultTime(i: number): PcapTime {
  return { sec: Math.floor(i / 1e6), nsec: (i % 1e6) * 1000 };
}

function recordHeader(data: Buffer, ts: PcapTime, origLen: number, opts: PcapWriteOptions): Buffer {
  checkTime(ts);
  const snap = opts.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  const h = Buffer.alloc(RECORD_HEADER_LEN);
  h.writeUInt32LE(ts.sec, 0);
  h.writeUInt32LE(opts.nanosecond ? ts.nsec : Math.floor(ts.nsec / 1000), 4);
  h.writeUInt32LE(Math.min(data.length, snap), 8);
  h.writeUInt32LE(Math.max(origLen, data.length), 12);
  return h;
}

function normalize(f: PcapInput, i: number): { data: Buffer; ts: PcapTime; origLen: number } {
  if (Buffer.isBuffer(f)) return { data: f, ts: defaultTime(i), origLen: f.length };
  return { data: f.data, ts: f.ts ?? defaultTime(i), origLen: f.origLen ?? f.data.length };
}

/** Encodes frames as an in-memory pcap file. */
export function encodePcap(frames: PcapInput[], opts: PcapWriteOptions = {}): Buffer {
  const parts: Buffer[] = [fileHeader(opts)];
  const snap = opts.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  frames.forEach((f, i) => {
    const r = normalize(f, i);
    parts.push(recordHeader(r.data, r.ts, r.origLen, opts), r.data.subarray(0, snap));
  });
  return Buffer.concat(parts);
}

/** Writes frames to `file` as a pcap (synchronously, replacing the file). */
export function writePcap(file: string, frames: PcapInput[], opts: PcapWriteOptions = {}): void {
  const w = new PcapWriter(file, opts);
  try {
    for (const f of frames) w.write(f);
  } finally {
    w.close();
  }
}

/**
 * Streaming pcap writer for large captures: buffers records and writes them in large chunks
 * (synchronous I/O, constant memory). Call close() to flush.
 */
export class PcapWriter {
  private fd: number | undefined;
  private chunk: Buffer;
  private used = 0;
  private n = 0;

  constructor(
    readonly file: string,
    private readonly opts: PcapWriteOptions = {},
    chunkSize = 1 << 20,
  ) {
    this.chunk = Buffer.alloc(Math.max(chunkSize, FILE_HEADER_LEN + RECORD_HEADER_LEN + 65536));
    this.fd = fs.openSync(file, 'w');
    this.append(fileHeader(opts));
  }

  /** Frames written so far. */
  get count(): number {
    return this.n;
  }

  /** Appends one frame; a bare Buffer is stamped with its index in microseconds. */
  write(frame: PcapInput): void {
    if (this.fd === undefined) throw new DpfwdError('EINVAL', `pcap writer for ${this.file} is already closed`);
    const r = normalize(frame, this.n);
    const data = r.data.subarray(0, this.opts.snaplen ?? PCAP_DEFAULT_SNAPLEN);
    this.append(recordHeader(r.data, r.ts, r.origLen, this.opts));
    this.append(data);
    this.n++;
  }

  /** Flushes and closes the file. Safe to call twice. */
  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private append(b: Buffer): void {
    if (this.used + b.length > this.chunk.length) this.flush();
    if (b.length > this.chunk.length) {
      fs.writeSync(this.fd!, b);
      return;
    }
    b.copy(this.chunk, this.used);
    this.used += b.length;
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += fs.writeSync(this.fd!, this.chunk, off, this.used - off);
    this.used = 0;
  }
}

export interface PcapCapture {
  header: PcapHeader;
  records: PcapRecord[];
}

/**
 * Decodes an in-memory pcap. `name` (a file name) is used in errors. Throws EPACKET for an
 * unknown magic, a truncated header or record, or a record longer than 262144 bytes.
 */
export function decodePcap(buf: Buffer, name = '<buffer>'): PcapCapture {
  const fail = (off: number, what: string): never => {
    throw new DpfwdError('EPACKET', `${name}: at offset ${off}: ${what} (file is ${buf.length} bytes); the capture is truncated or not a classic pcap`);
  };
  if (buf.length < FILE_HEADER_LEN) fail(0, `file header needs 24 bytes, only ${buf.length} present`);
  let le: boolean;
  let nanosecond: boolean;
  const mLE = buf.readUInt32LE(0);
  const mBE = buf.readUInt32BE(0);
  if (mLE === PCAP_MAGIC_USEC || mLE === PCAP_MAGIC_NSEC) [le, nanosecond] = [true, mLE === PCAP_MAGIC_NSEC];
  else if (mBE === PCAP_MAGIC_USEC || mBE === PCAP_MAGIC_NSEC) [le, nanosecond] = [false, mBE === PCAP_MAGIC_NSEC];
  else if (mBE === 0x0a0d0d0a) return fail(0, 'pcapng section header found (only classic pcap is read)');
  else return fail(0, `unknown magic 0x${mBE.toString(16).padStart(8, '0')}`);
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const header: PcapHeader = {
    byteOrder: le ? 'LE' : 'BE',
    nanosecond,
    versionMajor: u16(4),
    versionMinor: u16(6),
    snaplen: u32(16),
    linktype: u32(20) & 0x0fffffff, // upper bits carry FCS-length flags
  };
  const records: PcapRecord[] = [];
  let off = FILE_HEADER_LEN;
  while (off < buf.length) {
    if (buf.length - off < RECORD_HEADER_LEN) fail(off, `record ${records.length} header needs 16 bytes, only ${buf.length - off} present`);
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const orig = u32(off + 12);
    if (incl > MAX_RECORD) fail(off, `record ${records.length} claims ${incl} bytes (more than ${MAX_RECORD})`);
    if (buf.length - off - RECORD_HEADER_LEN < incl) {
      fail(off, `record ${records.length} needs ${incl} bytes of data, only ${buf.length - off - RECORD_HEADER_LEN} present`);
    }
    const data = Buffer.from(buf.subarray(off + RECORD_HEADER_LEN, off + RECORD_HEADER_LEN + incl));
    records.push({ ts: { sec, nsec: nanosecond ? frac : frac * 1000 }, data, origLen: orig });
    off += RECORD_HEADER_LEN + incl;
  }
  return { header, records };
}

/** Reads a pcap file: header and records. */
export function readPcapCapture(file: string): PcapCapture {
  return decodePcap(fs.readFileSync(file), file);
}

/** Reads a pcap file into its records ({ts, data, origLen}). */
export function readPcap(file: string): PcapRecord[] {
  return readPcapCapture(file).records;
}
