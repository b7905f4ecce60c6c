/**
 * Internet checksum (RFC 1071) and the RFC 1624 incremental update the fast path uses for TTL−1.
 * All values are plain numbers holding 16-bit quantities in host order (as read by readUInt16BE).
 */
import { DpfwdError } from '../errors';

/** Folds a 32-bit-or-wider running sum to 16 bits with end-around carry. */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * One's-complement sum of buf[off, off+len) taken as big-endian 16-bit words (an odd last byte is
 * padded with zero), added to `initial`. Returns the folded 16-bit sum, not complemented.
 */
export function onesComplementSum(buf: Buffer, off = 0, len = buf.length - off, initial = 0): number {
  if (off < 0 || len < 0 || off + len > buf.length) {
    throw new DpfwdError('EINVAL', `checksum range [${off}, ${off + len}) is outside a ${buf.length}-byte buffer`);
  }
  let sum = initial;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) {
    sum += (buf[i] << 8) | buf[i + 1];
    if (sum > 0x7fffffff) sum = fold(sum);
  }
  if (len & 1) sum += buf[off + len - 1] << 8;
  return fold(sum);
}

/** RFC 1071 checksum: the complement of the one's-complement sum. */
export function internetChecksum(buf: Buffer, off = 0, len = buf.length - off, initial = 0): number {
  return ~onesComplementSum(buf, off, len, initial) & 0xffff;
}

/** True when the range (with its checksum field in place) sums to 0xFFFF, i.e. verifies. */
export function verifyChecksum(buf: Buffer, off = 0, len = buf.length - off, initial = 0): boolean {
  return onesComplementSum(buf, off, len, initial) === 0xffff;
}

/** Header length in bytes from the IHL nibble of the IPv4 header at `off`. */
function ihlBytes(buf: Buffer, off: number): number {
  return (buf[off] & 0x0f) * 4;
}

/**
 * Checksum of the IPv4 header at `off` as if its checksum field were zero, over IHL·4 bytes
 * (20 if IHL < 5 or the header would run past the buffer; the result is then meaningless but defined).
 */
export function ipv4HeaderChecksum(buf: Buffer, off = 0): number {
  let hl = ihlBytes(buf, off);
  if (hl < 20 || off + hl > buf.length) hl = 20;
  // Sum everything but the checksum field (bytes 10-11).
  const sum = onesComplementSum(buf, off + 12, hl - 12, onesComplementSum(buf, off, 10));
  return ~sum & 0xffff;
}

/** Computes and stores the header checksum of the IPv4 header at `off`; returns it. */
export function setIpv4HeaderChecksum(buf: Buffer, off = 0): number {
  buf.writeUInt16BE(0, off + 10);
  const c = ipv4HeaderChecksum(buf, off);
  buf.writeUInt16BE(c, off + 10);
  return c;
}

/** True when the IPv4 header at `off` (IHL·4 bytes, which must be ≥ 20 and in the buffer) verifies. */
export function verifyIpv4HeaderChecksum(buf: Buffer, off = 0): boolean {
  const hl = ihlBytes(buf, off);
  if (hl < 20 || off + hl > buf.length) return false;
  return verifyChecksum(buf, off, hl);
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with end-around carry. Updates checksum `hc` for one
 * 16-bit header word changing from `oldWord` to `newWord`. Unlike RFC 1141's HC + m + ~m' (or the
 * `++hdr_checksum` shortcut) it never turns a correct 0x0000 into 0xFFFF.
 */
export function incrementalChecksumUpdate(hc: number, oldWord: number, newWord: number): number {
  return ~fold((~hc & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/**
 * Reference model of the fast path's TTL−1: the new header checksum after the TTL/protocol word
 * changes from (ttl, protocol) to (ttl−1, protocol). Throws EPACKET for ttl 0 (nothing to decrement).
 */
export function incrementalTtlDecrement(hc: number, ttl: number, protocol: number): number {
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) {
    throw new DpfwdError('EPACKET', `TTL ${ttl} cannot be decremented (must be 1..255)`);
  }
  const m = ((ttl << 8) | (protocol & 0xff)) & 0xffff;
  return incrementalChecksumUpdate(hc, m, m - 0x100);
}

/**
 * Applies TTL−1 to the IPv4 header at `off` in place, updating the checksum incrementally as the
 * fast path does. Returns the new checksum.
 */
export function decrementTtlInPlace(buf: Buffer, off = 0): number {
  const ttl = buf[off + 8];
  const hc = incrementalTtlDecrement(buf.readUInt16BE(off + 10), ttl, buf[off + 9]);
  buf[off + 8] = ttl - 1;
  buf.writeUInt16BE(hc, off + 10);
  return hc;
}
