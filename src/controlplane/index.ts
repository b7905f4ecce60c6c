/**
 * The router's control plane on the main thread: takes what the workers punt (ARP, packets for
 * our addresses, TTL expiry, no route, unresolved next hops, too big) and answers through the
 * inject rings. Woken through the dataplane's eventfd only while it sleeps and a worker punts
 * (the flag protocol of punt_wake in native/dataplane/worker.c): not per packet, never on a timer.
 */
import type { ArpConfig, IcmpConfig } from '../config/types';
import type { Punted } from '../dataplane';
import { DpfwdError } from '../errors';
import { Level, rootLogger } from '../log';
import { formatMac, Mac, writeMac } from '../net/mac';
import type { Interfaces } from '../routing/interfaces';
import type { NextHop, Rib } from '../routing/rib';
import { Icmp } from '../icmp';
import { Neighbors, NeighEntry } from '../neighbors';
import { addressOn, ArpResolver } from '../neighbors/arp';
import { decrementTtlInPlace, fragmentIpv4Frame, parseFrame, IPPROTO_ICMP, IPPROTO_UDP, ICMP_ECHO_REQUEST, ICMP_TIME_EXCEEDED, ICMP_TIMXCEED } from '../packet';
import { formatIPv4, readIPv4 } from '../net/ipv4';
import { Ipv4Reassembly } from '../packet/ipv4-reassembly';
import { newReassemblyCounts, ReassemblyResult } from '../packet/reassembly';

const cpLog = rootLogger.child('controlplane');

export interface ControlPlaneCounters {
  icmpSent: Record<string, number>;
  icmpRateLimited: number;
  icmpSuppressed: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
  arpInvalid: number;
  injectFailed: number;
  /** held packets (ARP pending) longer than the egress MTU, fragmented when released (the fast path's own count `fragmented` per egress) */
  heldFragmented: number;
  /** datagrams to the router reassembled (ok) and fragments or datagrams dropped, by reason (src/packet/reassembly.ts) */
  reassembly: Record<ReassemblyResult, number>;
}

export function newControlPlaneCounters(): ControlPlaneCounters {
  return {
    icmpSent: {},
    icmpRateLimited: 0,
    icmpSuppressed: 0,
    arpRequestsSent: 0,
    arpRepliesSent: 0,
    arpInvalid: 0,
    injectFailed: 0,
    heldFragmented: 0,
    reassembly: newReassemblyCounts(),
  };
}

/** Punt kinds by name: indices come from the addon (DP_PUNT_KINDS in native/dataplane/drop_reasons.h). */
type Kind = 'arp' | 'local' | 'ttl_expired' | 'no_route' | 'unresolved' | 'mtu_exceeded' | 'link_multicast';

/** The punt path: what the control plane receives and how it answers (the Dataplane satisfies it). */
export interface PuntIo {
  names(): { punts: string[] };
  puntListen(cb: (frames: Punted[]) => void): void;
  /** Sends a frame out of an interface; false when the inject ring or pool is full. */
  inject(iface: number, frame: Buffer): boolean;
}

/** The few things the control plane uses, and nothing else of its owner. */
export interface ControlPlaneDeps {
  punt: PuntIo;
  rib: Rib;
  ifaces: Interfaces;
  config: { icmp: IcmpConfig; arp: ArpConfig };
  /** Linux mirror interfaces (./mirrors.ts), when linux.mirror is on: what dpfwd does not answer goes up */
  mirrors?: MirrorSink;
  /** neighbour state changes, for the log (the forwarder rate-limits them) */
  neighborEvent?: (level: Level, msg: string, fields: Record<string, unknown>) => void;
}

/** Where frames for Linux go (Mirrors satisfies it). */
export interface MirrorSink {
  has(iface: number): boolean;
  /** false when not delivered (counted there); `quiet`: no count when the interface has no mirror */
  deliver(iface: number, frame: Buffer, quiet?: boolean): boolean;
}

export class ControlPlane {
  readonly neighbors: Neighbors;
  readonly icmp: Icmp;
  /** the IPv4 neighbour resolver (ARP); IPv6's NDP will sit beside it */
  private readonly arp: ArpResolver;
  private readonly kinds: string[];
  private stopped = false;
  /** fragments addressed to the router (af_xdp, tap and VF ports deliver them as they come) */
  private readonly reassembly: Ipv4Reassembly;

  constructor(
    private readonly d: ControlPlaneDeps,
    readonly counters: ControlPlaneCounters = newControlPlaneCounters(),
  ) {
    const c = d.config;
    this.kinds = d.punt.names().punts;
    this.reassembly = new Ipv4Reassembly(
      (first) =>
        this.icmpFrom(first.port, first.frame, (ip, mac) => this.icmp.error(first.port, first.frame, ip, mac, ICMP_TIME_EXCEEDED, ICMP_TIMXCEED.REASSEMBLY)),
      {},
      counters.reassembly,
    );
    this.icmp = new Icmp(c.icmp.rateLimit, c.icmp.burst, counters, (port, frame) => this.send(port, frame));
    this.neighbors = new Neighbors(d.rib, c.arp, {
      sendRequest: (port, addr, mac) => this.arp.solicit(port, addr, mac),
      flush: (e, packets) => this.flush(e, packets),
      failed: (e, packets) => {
        for (const p of packets) this.icmpHostUnreachable(p);
        this.retryMember(e);
      },
      state: (e, from, to) => {
        if (!d.neighborEvent) return;
        // static entries (config, CLI, reload) coming and going are info; what ARP does on a link
        // (learning, ageing, failing) is debug, as routine as Linux finds it (it logs none of it)
        const routine = from !== 'PERMANENT' && to !== 'PERMANENT';
        const mac = e.mac === null ? undefined : formatMac(e.mac);
        d.neighborEvent(
          routine ? 'debug' : 'info',
          `neighbour ${formatIPv4(e.addr)} on ${d.ifaces.name(e.iface)}: ${from} -> ${to}${mac && to !== 'NONE' ? ` lladdr ${mac}` : ''}`,
          { neighbor: formatIPv4(e.addr), iface: d.ifaces.name(e.iface), from, to, ...(mac ? { lladdr: mac } : {}) },
        );
      },
    });
    this.arp = new ArpResolver({
      rib: d.rib,
      neighbors: () => this.neighbors,
      send: (port, frame) => this.send(port, frame),
      portMac: (port) => this.portMac(port),
      counters,
      mirror: d.mirrors ? (port, frame) => d.mirrors!.deliver(port, frame, true) : undefined,
    });
    // a multipath route's new gateway: no packet asks for it while the other paths take its buckets
    d.rib.gatewayWanted = (addr, port) => {
      setImmediate(() => {
        if (!this.stopped) this.neighbors.resolve(addr, port, undefined, true);
      });
    };
  }

  start(): void {
    this.d.punt.puntListen((frames) => {
      for (const f of frames) {
        try {
          this.onPunt(f.iface, f.kind, f.data);
        } catch (e) {
          cpLog.error(`control plane: ${this.kinds[f.kind]} packet on ${this.d.ifaces.name(f.iface)}: ${(e as Error).message}`);
        }
      }
    });
    // resolve the gateways that static routes point at, so the first packets need not wait
    for (const g of this.d.rib.unresolvedGateways()) this.neighbors.resolve(g.addr, g.port, undefined, true);
  }

  stop(): void {
    this.stopped = true;
    this.neighbors.stop();
    this.reassembly.r.clear();
  }

  /**
   * Sends a frame out of an interface. A refusal is counted (injectFailed), never thrown: a
   * thrown error would be logged by the punt handler once per packet.
   */
  private send(iface: number, frame: Buffer): boolean {
    let ok = false;
    try {
      ok = this.d.punt.inject(iface, frame);
    } catch (e) {
      if (!(e instanceof DpfwdError)) throw e;
    }
    if (!ok) this.counters.injectFailed++;
    return ok;
  }

  private portMac(port: number): Mac {
    return this.d.ifaces.get(port)!.mac;
  }

  /** Sends an ICMP message from the router's address on `port`, if it has one there. */
  private icmpFrom(port: number, frame: Buffer, fn: (ip: number, mac: Mac) => boolean): void {
    const ip = addressOn(this.d.rib, port, frame.length >= 30 ? frame.readUInt32BE(26) : undefined);
    if (ip === undefined) {
      this.counters.icmpSuppressed++;
      return;
    }
    fn(ip, this.portMac(port));
  }

  onPunt(port: number, kind: number, frame: Buffer): void {
    switch (this.kinds[kind] as Kind) {
      case 'arp':
        return this.arp.input(port, frame);
      case 'local':
        return this.onLocal(port, frame);
      case 'ttl_expired':
        return this.icmpFrom(port, frame, (ip, mac) => this.icmp.timeExceeded(port, frame, ip, mac));
      case 'no_route':
        if (this.d.config.icmp.unreachable) this.icmpFrom(port, frame, (ip, mac) => this.icmp.netUnreachable(port, frame, ip, mac));
        return;
      case 'unresolved':
        return this.onUnresolved(port, frame);
      case 'mtu_exceeded':
        return this.onTooBig(port, frame);
      case 'link_multicast':
        this.d.mirrors?.deliver(port, frame);
        return;
      default:
        throw new Error(`punt kind ${this.kinds[kind] ?? kind} from the dataplane has no handler in src/controlplane`);
    }
  }

  /**
   * For one of our addresses: dpfwd answers echo requests itself; everything else (TCP, UDP,
   * OSPF, other ICMP) goes up to the interface's Linux mirror when mirrors run. Without a
   * mirror UDP gets port unreachable (traceroute's last hop expects it) and the rest is dropped.
   */
  private onLocal(port: number, frame: Buffer): void {
    const f = parseFrame(frame);
    if (!f.ip || f.ip.problems.length) return;
    if (f.ip.mf || f.ip.fragmentOffset) {
      // Linux in a mirror reassembles what it is given; what dpfwd answers itself (ICMP, and UDP
      // where no mirror is) it reassembles first, as the kernel would
      if (f.ip.protocol !== IPPROTO_ICMP && this.d.mirrors?.has(port)) {
        this.d.mirrors.deliver(port, frame);
        return;
      }
      const whole = this.reassembly.add(port, frame, f.ip);
      if (whole) this.onLocal(port, whole);
      return;
    }
    if (f.ip.protocol === IPPROTO_ICMP && f.l4 && f.l4.kind === 'icmp' && f.l4.type === ICMP_ECHO_REQUEST) {
      this.icmp.echoReply(port, frame, this.portMac(port), this.d.ifaces.get(port)?.mtu);
    } else if (this.d.mirrors && (this.d.mirrors.has(port) || f.ip.protocol !== IPPROTO_UDP)) {
      this.d.mirrors.deliver(port, frame);
    } else if (f.ip.protocol === IPPROTO_UDP) {
      this.icmp.portUnreachable(port, frame, readIPv4(frame, f.ip.offset + 16), this.portMac(port));
    }
  }

  private onUnresolved(port: number, frame: Buffer): void {
    if (frame.length < 34) return;
    const dst = frame.readUInt32BE(30);
    const r = this.d.rib.lookupNexthop(dst);
    if (!r) return;
    const nh = r.nh;
    if (nh.group) {
      this.resolvePaths(nh.group.members, port, frame);
      return;
    }
    if (nh.iface < 0) return;
    // a route's gateway (not a neighbour's own host route) is resolved outside the glean budgets
    const gateway = nh.kind === 'gateway' && r.origin !== 'neighbor';
    const target = nh.kind === 'gateway' ? nh.addr : dst;
    this.neighbors.resolve(target, nh.iface, Buffer.concat([Buffer.from([port & 0xff, port >> 8]), frame]) /* ingress port, LE, then the frame */, gateway);
  }

  /**
   * A multipath route's packet found an unresolved member (all members are unresolved: a live
   * one would have taken it): every unresolved gateway of the route is resolved, the packet
   * held by the first.
   */
  private resolvePaths(members: readonly Readonly<NextHop>[], port: number, frame: Buffer): void {
    // the targets first: resolving one changes the records and the group under the loop
    const want = members.filter((m) => m.kind === 'gateway' && m.mac === null && m.iface >= 0).map((m) => [m.addr, m.iface]);
    let held = false;
    for (const [addr, iface] of want) {
      this.neighbors.resolve(addr, iface, held ? undefined : Buffer.concat([Buffer.from([port & 0xff, port >> 8]), frame]), true);
      held = true;
    }
  }

  /**
   * A group member's gateway failed: its buckets went to the other members, so no packet asks
   * for it any more; it is asked again after as long as one resolution takes (arp.retransmitMs ×
   * arp.probes), until it answers or no multipath route uses it.
   */
  private retryMember(e: NeighEntry): void {
    if (!this.d.rib.isGroupMember(e.addr, e.iface)) return;
    const t = setTimeout(() => {
      if (this.stopped || !this.d.rib.isGroupMember(e.addr, e.iface)) return;
      const cur = this.neighbors.get(e.addr);
      if (!cur || cur.state === 'FAILED') this.neighbors.resolve(e.addr, e.iface, undefined, true);
    }, this.d.config.arp.retransmitMs * this.d.config.arp.probes);
    t.unref();
  }

  /** A held packet whose neighbour never answered: host unreachable, back out of its ingress port. */
  private icmpHostUnreachable(held: Buffer): void {
    const ingress = held.readUInt16LE(0);
    const frame = held.subarray(2);
    this.icmpFrom(ingress, frame, (ip, mac) => this.icmp.hostUnreachable(ingress, frame, ip, mac));
  }

  /**
   * Held packets: forward them now as the worker would have (TTL−1, RFC 1624, MACs). One longer
   * than the egress MTU leaves in fragments without DF (RFC 791) and is answered with ICMP
   * fragmentation needed with DF (RFC 1191), as Linux does before its neighbour queue. Held
   * frames carry no 802.1Q tag (the worker pops it on ingress; inject pushes the egress's).
   */
  private flush(e: NeighEntry, packets: Buffer[]): void {
    const mtu = this.d.ifaces.get(e.iface)?.mtu ?? 1500;
    for (const held of packets) {
      const frame = Buffer.from(held.subarray(2));
      if (frame.length < 34 || frame[22] <= 1) continue;
      if (frame.readUInt16BE(16) > mtu && frame.readUInt16BE(20) & 0x4000) {
        const ingress = held.readUInt16LE(0);
        this.icmpFrom(ingress, frame, (ip, mac) => this.icmp.fragNeeded(ingress, frame, ip, mac, mtu));
        continue;
      }
      decrementTtlInPlace(frame, 14);
      writeMac(frame, 0, e.mac!);
      writeMac(frame, 6, this.d.ifaces.get(e.iface)!.mac);
      let frames: Buffer[];
      try {
        frames = fragmentIpv4Frame(frame, 14, mtu);
      } catch {
        this.neighbors.stats.queueDropped++; // no room for 8 bytes after its header, or past offset 65535
        continue;
      }
      if (frames.length > 1) this.counters.heldFragmented++;
      for (const f of frames) this.send(e.iface, f);
    }
  }

  private onTooBig(port: number, frame: Buffer): void {
    if (frame.length < 34) return;
    const df = (frame.readUInt16BE(20) & 0x4000) !== 0;
    if (!df) return; // without DF the dataplane fragments; only a frag_failed case could come here: no ICMP error
    const nh = this.d.rib.lookupNexthop(frame.readUInt32BE(30))?.nh;
    // a multipath route: the smallest MTU of its paths (the packet's own member is the C side's choice)
    const ifaces = nh?.group ? nh.group.members.map((m) => m.iface) : [nh?.iface ?? -1];
    const mtu = Math.min(...ifaces.map((i) => (i >= 0 ? (this.d.ifaces.get(i)?.mtu ?? 1500) : 1500)));
    this.icmpFrom(port, frame, (ip, mac) => this.icmp.fragNeeded(port, frame, ip, mac, mtu));
  }

  /** `neighbor show` rows (ip -j neigh); `details` adds the probes sent and ms until the entry's timer fires. */
  neighborRows(details = false) {
    return this.neighbors.list().map((e) => {
      const row: Record<string, unknown> = {
        dst: formatIPv4(e.addr),
        dev: this.d.rib.portName(e.iface),
        lladdr: e.mac === null ? null : formatMac(e.mac),
        state: [e.state],
      };
      if (details) {
        row.probes = e.probes;
        row.timer_ms = this.neighbors.timerMs(e);
        row.gateway = e.gateway;
      }
      return row;
    });
  }
}
