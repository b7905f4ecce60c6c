/**
 * The IPv4 side of reassembly (reassembly.ts): a punted fragment addressed to the router is held
 * by (ingress port, source, destination, protocol, identification), as Linux keys its queues, and
 * the whole datagram comes back as one frame: the first fragment's link and IPv4 headers (options
 * included), MF and the offset cleared, the total length and header checksum rewritten.
 */
import { setIpv4HeaderChecksum } from './checksum';
import { Ipv4Header } from './ipv4';
import { Reassembler, ReassemblyLimits, ReassemblyResult, REASSEMBLY_DEFAULTS } from './reassembly';

/** What is kept of a datagram's first fragment: the frame as it came, and where it came in. */
export interface FirstFragment {
  port: number;
  frame: Buffer;
  ipOffset: number;
  payloadOffset: number;
}

export class Ipv4Reassembly {
  readonly r: Reassembler<FirstFragment>;

  /** `expired`: a datagram timed out after its first fragment came (ICMP time exceeded, code 1, as Linux sends). */
  constructor(expired: (first: FirstFragment) => void, limits: Partial<ReassemblyLimits> = {}, counts?: Record<ReassemblyResult, number>) {
    this.r = new Reassembler<FirstFragment>(
      { ...REASSEMBLY_DEFAULTS, ...limits },
      (first) => {
        if (first) expired(first);
      },
      counts,
    );
  }

  /** One fragment (`ip` is its parsed header, MF or an offset set): the whole frame once complete. */
  add(port: number, frame: Buffer, ip: Ipv4Header): Buffer | undefined {
    const key = `${port} ${ip.src} ${ip.dst} ${ip.protocol} ${ip.id}`;
    const data = frame.subarray(ip.payloadOffset, ip.payloadOffset + ip.payloadLength);
    const first = ip.fragmentOffset === 0 ? { port, frame: Buffer.from(frame), ipOffset: ip.offset, payloadOffset: ip.payloadOffset } : undefined;
    const done = this.r.add(key, ip.fragmentOffset * 8, ip.mf, data, first);
    if (!done) return undefined;
    const { frame: f, ipOffset, payloadOffset } = done.first;
    const out = Buffer.concat([f.subarray(0, payloadOffset), done.payload]);
    out.writeUInt16BE(payloadOffset - ipOffset + done.payload.length, ipOffset + 2);
    out.writeUInt16BE(out.readUInt16BE(ipOffset + 6) & 0x4000, ipOffset + 6); // DF kept; MF and offset cleared
    setIpv4HeaderChecksum(out, ipOffset);
    return out;
  }
}
