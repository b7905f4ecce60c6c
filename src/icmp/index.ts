/**
 * The router's ICMP: echo replies for its addresses and errors (RFC 792/1812) for packets it
 * could not forward. Errors go through one token bucket (icmp.rateLimit per second, icmp.burst),
 * like Linux's icmp_ratelimit; echo replies are not limited (they are answers, and punts are
 * already limited in C). The router's address and MAC come as numbers (src/net), never as text.
 */
import type { Mac } from '../net/mac';
import {
  buildIcmpError,
  buildIcmpEchoReply,
  fragmentIpv4Frame,
  parseEthernet,
  ICMP_DEST_UNREACH,
  ICMP_TIME_EXCEEDED,
  ICMP_UNREACH,
  ICMP_TIMXCEED,
} from '../packet';

export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private rate: number,
    private burst: number,
    private readonly now = () => Date.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }
  /** New rate and burst (a reload); tokens above the new burst are dropped. */
  set(rate: number, burst: number): void {
    this.take0();
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }
  private take0(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export const ICMP_TYPE_NAMES: Record<number, string> = {
  0: 'echo_reply',
  3: 'destination_unreachable',
  11: 'time_exceeded',
};

export interface IcmpCounters {
  icmpSent: Record<string, number>;
  icmpRateLimited: number;
  icmpSuppressed: number;
}

export class Icmp {
  private readonly bucket: TokenBucket;
  constructor(
    rate: number,
    burst: number,
    private readonly counters: IcmpCounters,
    private readonly send: (port: number, frame: Buffer) => boolean,
  ) {
    this.bucket = new TokenBucket(rate, burst);
  }

  /** icmp.rateLimit and icmp.burst changed by a reload. */
  /** identification of the datagrams it fragments */
  private ipId = 0;

  setLimits(rate: number, burst: number): void {
    this.bucket.set(rate, burst);
  }

  private sent(type: number): void {
    const name = ICMP_TYPE_NAMES[type] ?? String(type);
    this.counters.icmpSent[name] = (this.counters.icmpSent[name] ?? 0) + 1;
  }

  /**
   * The echo reply to `request`, out of `port`. A reply larger than the interface's `mtu` (a
   * ping above the MTU that arrived reassembled) leaves in fragments, as Linux sends it.
   */
  echoReply(port: number, request: Buffer, routerMac: Mac, mtu = Infinity): boolean {
    let frames: Buffer[];
    try {
      const reply = buildIcmpEchoReply(request, routerMac);
      const ipOff = parseEthernet(reply)!.payloadOffset;
      this.ipId = (this.ipId + 1) & 0xffff;
      frames = fragmentIpv4Frame(reply, ipOff, mtu, this.ipId);
    } catch {
      this.counters.icmpSuppressed++;
      return false;
    }
    for (const f of frames) if (!this.send(port, f)) return false;
    this.sent(0);
    return true;
  }

  /** An ICMP error about `original` (as received on `port`), sent back out of that port. */
  error(port: number, original: Buffer, routerIp: number, routerMac: Mac, type: number, code: number, mtu?: number): boolean {
    // the bucket first: under a flood, most packets stop here before any parsing
    if (!this.bucket.take()) {
      this.counters.icmpRateLimited++;
      return false;
    }
    let frame: Buffer;
    try {
      frame = buildIcmpError({ type, code, original, srcIp: routerIp, srcMac: routerMac, mtu });
    } catch {
      // RFC 1812 4.3.2.7: never about ICMP errors, fragments, broadcasts, bad headers
      this.counters.icmpSuppressed++;
      return false;
    }
    if (!this.send(port, frame)) return false;
    this.sent(type);
    return true;
  }

  timeExceeded(port: number, original: Buffer, ip: number, mac: Mac): boolean {
    return this.error(port, original, ip, mac, ICMP_TIME_EXCEEDED, ICMP_TIMXCEED.TTL);
  }

  netUnreachable(port: number, original: Buffer, ip: number, mac: Mac): boolean {
    return this.error(port, original, ip, mac, ICMP_DEST_UNREACH, ICMP_UNREACH.NET);
  }

  hostUnreachable(port: number, original: Buffer, ip: number, mac: Mac): boolean {
    return this.error(port, original, ip, mac, ICMP_DEST_UNREACH, ICMP_UNREACH.HOST);
  }

  portUnreachable(port: number, original: Buffer, ip: number, mac: Mac): boolean {
    return this.error(port, original, ip, mac, ICMP_DEST_UNREACH, ICMP_UNREACH.PORT);
  }

  fragNeeded(port: number, original: Buffer, ip: number, mac: Mac, mtu: number): boolean {
    return this.error(port, original, ip, mac, ICMP_DEST_UNREACH, ICMP_UNREACH.FRAG_NEEDED, mtu);
  }
}
