/**
 * The dataplane's flow hash and ECMP bucket (native/dataplane/ecmp.h: dp_flow_hash_parts,
 * dp_ecmp_bucket), ported exactly so `route get ADDR from S sport N dport N ipproto P` names the
 * path a multipath route gives that flow: the same 64-bit arithmetic (BigInt), the addresses as
 * the little-endian loads of their network-order bytes, the L4 ports as the 4 bytes after the
 * IPv4 header loaded the same way. test/ecmp-dataplane.test.ts checks it against the egress
 * the workers chose.
 */
const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
/** DP_GROUP_BUCKETS */
export const GROUP_BUCKETS = 128;

/** IP protocols whose first 4 L4 bytes are the ports the hash takes (TCP, UDP, SCTP, UDP-Lite). */
export const PORTED_PROTOCOLS: readonly number[] = [6, 17, 132, 136];

/** A host-order IPv4 address as the little-endian u32 load of its network-order bytes. */
const le32 = (a: number): bigint => BigInt((((a & 0xff) << 24) | (((a >>> 8) & 0xff) << 16) | (((a >>> 16) & 0xff) << 8) | (a >>> 24)) >>> 0);

/** dp_flow_hash of an unfragmented packet: addresses host-order numbers, ports ignored for protocols without them. */
export function flowHash(src: number, dst: number, proto: number, sport = 0, dport = 0): number {
  let ports = 0n;
  if (PORTED_PROTOCOLS.includes(proto)) {
    // bytes sport_hi sport_lo dport_hi dport_lo, loaded little-endian
    ports = BigInt((((sport >>> 8) & 0xff) | ((sport & 0xff) << 8) | (((dport >>> 8) & 0xff) << 16) | ((dport & 0xff) << 24)) >>> 0);
  }
  // dp_flow_hash_parts: (addresses ^ (ports << 8 | proto) * golden) * fmix64's first multiplier, top 32 bits
  const sd = (le32(dst) << 32n) | le32(src); // the 8 bytes src, dst loaded little-endian
  const h = ((sd ^ ((((ports << 8n) | BigInt(proto)) * GOLDEN) & M64)) * 0xff51afd7ed558ccdn) & M64;
  return Number(h >> 32n);
}

/** dp_ecmp_bucket */
export function ecmpBucket(hash: number): number {
  return Math.floor((hash * GROUP_BUCKETS) / 2 ** 32);
}
