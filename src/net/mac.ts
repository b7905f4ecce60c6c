/**
 * Ethernet MAC addresses: the one parser and formatter (config, CLI, API, ARP, packet builders,
 * the dataplane wrapper). A leaf module: it imports nothing of dpfwd but its error class.
 *
 * A MAC is a plain number holding 48 bits, first byte most significant
 * (02:00:00:00:00:01 === 0x020000000001): exact in a double, compared with ===, kept in a
 * next-hop record without an allocation. Text and bytes exist only at the edges.
 */
import { DpfwdError } from '../errors';

/** 48 bits, first byte most significant. */
export type Mac = number;

export const BROADCAST_MAC: Mac = 0xffffffffffff;
export const ZERO_MAC: Mac = 0;

const TWO32 = 0x100000000;

function fail(message: string): never {
  throw new DpfwdError('EINVAL', message);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export interface MacParseOptions {
  /** reject the zero, broadcast and multicast MACs (neighbours, port MAC overrides) */
  unicast?: boolean;
  /** also accept '-' between the pairs (aa-bb-cc-dd-ee-ff, one separator throughout): packet tools */
  dashes?: boolean;
}

/** Parses "aa:bb:cc:dd:ee:ff" (hex case-insensitive) into a Mac. */
export function parseMac(s: string, opts: MacParseOptions = {}): Mac {
  const bad = (): never => {
    const shown = typeof s !== 'string' ? String(s) : s === '' || s.trim() !== s ? JSON.stringify(s) : s;
    return fail(`${shown} is not a MAC address (expected six hex pairs like 02:00:00:00:01:02)`);
  };
  if (typeof s !== 'string' || s.length !== 17) bad();
  const sep = s.charCodeAt(2);
  if (sep !== 58 /* : */ && !(opts.dashes && sep === 45 /* - */)) bad();
  let v = 0;
  for (let i = 0; i < 6; i++) {
    const hi = hexVal(s.charCodeAt(i * 3));
    const lo = hexVal(s.charCodeAt(i * 3 + 1));
    if (hi < 0 || lo < 0 || (i < 5 && s.charCodeAt(i * 3 + 2) !== sep)) bad();
    v = v * 256 + hi * 16 + lo;
  }
  if (opts.unicast) {
    const m = formatMac(v);
    if (v === ZERO_MAC) fail(`${m} is the zero MAC; a neighbour or port needs a unicast MAC`);
    if (v === BROADCAST_MAC) fail(`${m} is the broadcast MAC; a neighbour or port needs a unicast MAC`);
    if (isMulticastMac(v)) fail(`${m} is a multicast MAC (lowest bit of the first byte set); a neighbour or port needs a unicast MAC`);
  }
  return v;
}

/** Formats a Mac (or 6 bytes) as lowercase aa:bb:cc:dd:ee:ff. */
export function formatMac(m: Mac | Buffer): string {
  const b = typeof m === 'number' ? macBytes(m) : m;
  if (b.length !== 6) fail(`a MAC address has 6 bytes, not ${b.length}`);
  let out = '';
  for (let i = 0; i < 6; i++) out += (i ? ':' : '') + (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return out;
}

/** The Mac in buf[off, off + 6). */
export function readMac(buf: Buffer, off = 0): Mac {
  return buf.readUInt16BE(off) * TWO32 + buf.readUInt32BE(off + 2);
}

/** Writes a Mac at buf[off, off + 6). */
export function writeMac(buf: Buffer, off: number, m: Mac): void {
  buf.writeUInt16BE(Math.floor(m / TWO32), off);
  buf.writeUInt32BE(m % TWO32, off + 2);
}

/** A Mac as 6 new bytes. */
export function macBytes(m: Mac): Buffer {
  const b = Buffer.alloc(6);
  writeMac(b, 0, m);
  return b;
}

/** Group bit set: multicast or broadcast. */
export function isMulticastMac(m: Mac): boolean {
  return Math.floor(m / 2 ** 40) % 2 === 1;
}
