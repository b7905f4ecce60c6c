/**
 * `dpfwd capture` and `dpfwd trace` on the forwarder's side: one capture and one trace at a
 * time, each a session with an id that its client reads through the control socket. The
 * workers' capture rings are drained when the client reads (capture.read), so a client that
 * reads slowly makes the rings overflow (counted as capture_dropped), never the forwarder's
 * memory grow. A session ends on its count, its duration, capture.stop, the client's connection
 * closing, or when its client has not read for capture.leaseMs (a CLI killed or stopped).
 */
import { DpfwdError } from '../errors';
import type { CaptureConfig } from '../config/types';
import type { Dataplane, TraceRec } from '../dataplane';
import { formatIPv4 } from '../net/ipv4';
import { formatMac } from '../net/mac';
import { EPB_INBOUND, EPB_OUTBOUND, pcapngInterface, pcapngPacket, pcapngSectionHeader } from '../packet/pcapng';

export const CAPTURE_POINTS = ['rx', 'tx', 'drop'] as const;
export type CapturePoint = (typeof CAPTURE_POINTS)[number];

/** What a client asks for (validated here: the control socket's fields). */
export interface CaptureRequest {
  /** port names (default: every port) */
  ports?: string[];
  /** default: rx, tx and drop */
  points?: CapturePoint[];
  /** only drops of this reason (implies points [drop]) */
  reason?: string;
  /** tcpdump filter expression */
  filter?: string;
  snaplen?: number;
  /** stop after this many packets written */
  count?: number;
  /** stop after this long */
  durationMs?: number;
}

export interface CaptureWorkerStats {
  worker: number;
  captured: number;
  captureDropped: number;
}

export interface CaptureSummary {
  id: number;
  active: boolean;
  /** why it ended: count, duration, stopped, closed (client gone), lease (client stopped reading) */
  ended?: string;
  packets: number;
  bytes: number;
  /** per worker, since this capture started */
  workers: CaptureWorkerStats[];
  interfaces: string[];
  filter?: string;
}

export interface ObserverDeps {
  dp: Pick<
    Dataplane,
    | 'captureStart'
    | 'captureStop'
    | 'captureDrain'
    | 'captureActive'
    | 'traceStart'
    | 'traceStop'
    | 'traceLeft'
    | 'traceRead'
    | 'traceActive'
    | 'snapshot'
    | 'names'
    | 'constants'
  >;
  /** port names by index */
  ports: readonly { index: number; name: string }[];
  /** interface names by index (sub-interfaces too) */
  ifaceName(index: number): string;
  /** the route a lookup picks (the RIB's model): the trace's prefix */
  lookup(addr: number): { prefix: string } | undefined;
  config: CaptureConfig;
  log: (m: string) => void;
}

interface CaptureSession {
  id: number;
  /** IDB index per (port index, capture point bit) */
  idb: Map<number, number>;
  interfaces: string[];
  count: number;
  packets: number;
  bytes: number;
  pending: Buffer[];
  base: number[][];
  /** per worker, at the end */
  final?: CaptureWorkerStats[];
  ended?: string;
  timer?: NodeJS.Timeout;
  lease?: NodeJS.Timeout;
  filter?: string;
}

interface TraceSession {
  id: number;
  count: number;
  lease?: NodeJS.Timeout;
  records?: TraceRec[];
  ended?: string;
}

let nextId = 1;

export class Observer {
  private cap: CaptureSession | null = null;
  private tr: TraceSession | null = null;

  /** the C side's names and constants, read once (they never change) */
  private readonly names: ReturnType<ObserverDeps['dp']['names']>;
  private readonly k: ReturnType<ObserverDeps['dp']['constants']>;

  constructor(private readonly d: ObserverDeps) {
    this.names = d.dp.names();
    this.k = d.dp.constants();
  }

  private portMask(names: string[] | undefined): { mask: number; ports: { index: number; name: string }[] } {
    if (names !== undefined && (!Array.isArray(names) || names.some((n) => typeof n !== 'string')))
      throw new DpfwdError('EINVAL', 'ports must be a list of port names');
    const ports =
      names === undefined || names.length === 0
        ? [...this.d.ports]
        : names.map((n) => {
            const p = this.d.ports.find((x) => x.name === n);
            if (!p)
              throw new DpfwdError(
                'ENODEV',
                `unknown port ${n}; ports are: ${this.d.ports.map((x) => x.name).join(', ')} (capture takes ports, not VLAN sub-interfaces: their packets are on their port)`,
              );
            return p;
          });
    return { mask: ports.reduce((m, p) => m | (1 << p.index), 0), ports };
  }

  private workerCounters(): number[][] {
    return this.d.dp.snapshot().workers.map((w) => [w.counters.captured ?? 0, w.counters.capture_dropped ?? 0]);
  }

  private renewLease(s: { lease?: NodeJS.Timeout }, end: () => void): void {
    if (s.lease) clearTimeout(s.lease);
    s.lease = setTimeout(end, this.d.config.leaseMs);
    s.lease.unref();
  }

  /** Starts the capture; the reply's `header` (base64) starts the pcapng stream. */
  captureStart(req: CaptureRequest, onClose?: (fn: () => void) => void): { id: number; interfaces: string[]; header: string } {
    if (this.cap && !this.cap.ended) throw new DpfwdError('EBUSY', `capture ${this.cap.id} is running; stop it first (dpfwd runs one capture at a time)`);
    const k = this.d.dp.constants().capture;
    const { mask, ports } = this.portMask(req.ports);
    let points = req.points ?? [...CAPTURE_POINTS];
    if (!Array.isArray(points) || points.length === 0 || points.some((p) => !CAPTURE_POINTS.includes(p))) {
      throw new DpfwdError('EINVAL', `capture points must be some of ${CAPTURE_POINTS.join(', ')}`);
    }
    let reason = k.anyReason;
    if (req.reason !== undefined) {
      const names = this.d.dp.names().drops;
      reason = names.indexOf(String(req.reason));
      if (reason < 0) throw new DpfwdError('EINVAL', `unknown drop reason ${req.reason}; reasons are: ${names.join(', ')}`);
      points = ['drop'];
    }
    const snaplen = req.snaplen ?? this.d.config.maxSnaplen;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > this.d.config.maxSnaplen) {
      throw new DpfwdError('EINVAL', `snap length ${snaplen} is not in 1..${this.d.config.maxSnaplen} (capture.maxSnaplen)`);
    }
    const count = req.count ?? 0;
    if (!Number.isInteger(count) || count < 0) throw new DpfwdError('EINVAL', `count ${count} is not a whole number of packets`);
    const durationMs = req.durationMs ?? 0;
    if (typeof durationMs !== 'number' || !(durationMs >= 0)) throw new DpfwdError('EINVAL', `duration ${durationMs} ms is not a positive number`);
    if (req.filter !== undefined && typeof req.filter !== 'string') throw new DpfwdError('EINVAL', 'filter must be a string (tcpdump syntax)');
    const bits: Record<CapturePoint, number> = { rx: k.rx, tx: k.tx, drop: k.drop };
    const where = points.reduce((m, p) => m | bits[p], 0);
    this.d.dp.captureStart({
      ports: mask,
      where,
      reason,
      snaplen,
      ringSize: this.d.config.ringSize,
      mbufs: this.d.config.mbufs,
      filter: req.filter || undefined,
    });
    // one interface block per (port, point), in the order ports then rx, tx, drop
    const idb = new Map<number, number>();
    const interfaces: string[] = [];
    const blocks = [pcapngSectionHeader()];
    for (const p of ports) {
      for (const pt of CAPTURE_POINTS) {
        if (!points.includes(pt)) continue;
        idb.set(p.index * 8 + bits[pt], interfaces.length);
        interfaces.push(`${p.name}-${pt}`);
        const what = pt === 'rx' ? 'received' : pt === 'tx' ? 'handed to the TX queue' : "dropped (the reason is each packet's comment)";
        blocks.push(pcapngInterface(`${p.name}-${pt}`, snaplen, `dpfwd port ${p.name}: packets ${what}`));
      }
    }
    const s: CaptureSession = {
      id: nextId++,
      idb,
      interfaces,
      count,
      packets: 0,
      bytes: 0,
      pending: [],
      base: this.workerCounters(),
      filter: req.filter || undefined,
    };
    this.cap = s;
    if (durationMs > 0) {
      s.timer = setTimeout(() => this.endCapture(s, 'duration'), durationMs);
      s.timer.unref();
    }
    this.renewLease(s, () => this.forgetCapture(s, 'lease'));
    onClose?.(() => this.forgetCapture(s, 'closed'));
    this.d.log(
      `capture ${s.id} started: ${interfaces.join(' ')}${s.filter ? ` filter "${s.filter}"` : ''}${count ? ` count ${count}` : ''}${durationMs ? ` for ${durationMs} ms` : ''} snaplen ${snaplen}`,
    );
    return { id: s.id, interfaces, header: Buffer.concat(blocks).toString('base64') };
  }

  /** Drains the rings into pcapng blocks (at most capture.readBytes of packets per call). */
  private drain(s: CaptureSession): void {
    const names = this.names.drops;
    const k = this.k.capture;
    let budget = this.d.config.readBytes;
    while (!s.ended && budget > 0) {
      const got = this.d.dp.captureDrain(budget);
      if (got.length === 0) break;
      // the rings are per worker: in time order within one drain (readers cope with the rest)
      if (got.length > 1) got.sort((x, y) => x.sec - y.sec || x.nsec - y.nsec);
      for (const c of got) {
        budget -= c.data.length + 64;
        if (s.count && s.packets >= s.count) break;
        const idb = s.idb.get(c.port * 8 + c.where);
        if (idb === undefined) continue;
        const drop = c.where === k.drop;
        const reason = drop ? names[c.reason] : undefined;
        const direction = c.where === k.tx || (drop && reason === 'tx_full') ? EPB_OUTBOUND : EPB_INBOUND;
        const b = pcapngPacket({ iface: idb, ts: { sec: c.sec, nsec: c.nsec }, data: c.data, origLen: c.origLen, direction, comment: reason });
        s.pending.push(b);
        s.packets++;
        s.bytes += b.length;
      }
      if (s.count && s.packets >= s.count) {
        s.ended = 'count';
        s.final = this.stats(s);
        this.d.dp.captureStop();
        if (s.timer) clearTimeout(s.timer);
        this.d.log(`capture ${s.id} ended (count): ${s.packets} packets`);
      }
    }
  }

  private stats(s: CaptureSession): CaptureWorkerStats[] {
    const now = this.workerCounters();
    return now.map((c, i) => ({ worker: i, captured: c[0] - (s.base[i]?.[0] ?? 0), captureDropped: c[1] - (s.base[i]?.[1] ?? 0) }));
  }

  /** Ends the capture in the dataplane; the session stays until its client reads the rest. */
  private endCapture(s: CaptureSession, why: string): void {
    if (s.ended) return;
    if (this.cap === s) this.drain(s); // what the rings hold now still goes to the client
    if (s.ended) return; // the drain reached the count
    s.ended = why;
    s.final = this.stats(s);
    this.d.dp.captureStop();
    if (s.timer) clearTimeout(s.timer);
    this.d.log(
      `capture ${s.id} ended (${why}): ${s.packets} packets, ${s.final.map((w) => `worker ${w.worker} captured ${w.captured} capture_dropped ${w.captureDropped}`).join(', ')}`,
    );
  }

  private forgetCapture(s: CaptureSession, why: string): void {
    this.endCapture(s, why);
    if (s.lease) clearTimeout(s.lease);
    if (this.cap === s) this.cap = null;
  }

  private session(id: unknown): CaptureSession {
    const s = this.cap;
    if (!s || s.id !== id) throw new DpfwdError('ENOENT', `no capture ${String(id)} (it ended: stopped, its lease ran out, or the forwarder restarted)`);
    return s;
  }

  /** The packets since the last read (base64 pcapng blocks); `done` once the capture ended. */
  captureRead(id: unknown): { data: string; packets: number; done: boolean; summary?: CaptureSummary } {
    const s = this.session(id);
    this.renewLease(s, () => this.forgetCapture(s, 'lease'));
    if (!s.ended) this.drain(s);
    const data = Buffer.concat(s.pending).toString('base64');
    const packets = s.pending.length;
    s.pending = [];
    if (!s.ended) return { data, packets, done: false };
    const summary = this.summary(s);
    this.forgetCapture(s, s.ended);
    return { data, packets, done: true, summary };
  }

  /** Stops the capture; returns what is left (base64) and the summary. */
  captureStop(id: unknown): { data: string; packets: number; done: true; summary: CaptureSummary } {
    const s = this.session(id);
    this.endCapture(s, 'stopped');
    const r = this.captureRead(id);
    return { ...r, done: true, summary: r.summary! };
  }

  private summary(s: CaptureSession): CaptureSummary {
    return {
      id: s.id,
      active: !s.ended,
      ended: s.ended,
      packets: s.packets,
      bytes: s.bytes,
      workers: s.final ?? this.stats(s),
      interfaces: s.interfaces,
      filter: s.filter,
    };
  }

  /** `show capture`: the running capture (if any) and whether the dataplane has one. */
  captureShow(): { dataplane: boolean; capture: CaptureSummary | null; trace: { active: boolean; left: number } } {
    return {
      dataplane: this.d.dp.captureActive(),
      capture: this.cap ? this.summary(this.cap) : null,
      trace: { active: this.d.dp.traceActive(), left: this.d.dp.traceLeft() },
    };
  }

  // ---- trace ----

  traceStart(req: { count?: number; filter?: string }, onClose?: (fn: () => void) => void): { id: number } {
    if (this.tr) throw new DpfwdError('EBUSY', `trace ${this.tr.id} is running; stop it first (dpfwd runs one trace at a time)`);
    const max = this.d.dp.constants().capture.traceMax;
    const count = req.count ?? 10;
    if (!Number.isInteger(count) || count < 1 || count > max) throw new DpfwdError('EINVAL', `trace count ${count} is not in 1..${max}`);
    if (req.filter !== undefined && typeof req.filter !== 'string') throw new DpfwdError('EINVAL', 'filter must be a string (tcpdump syntax)');
    this.d.dp.traceStart(count, req.filter || undefined);
    const t: TraceSession = { id: nextId++, count };
    this.tr = t;
    this.renewLease(t, () => this.traceEnd(t, 'lease'));
    onClose?.(() => this.traceEnd(t, 'closed'));
    return { id: t.id };
  }

  private traceEnd(t: TraceSession, why: string): void {
    if (this.tr !== t) return;
    if (t.lease) clearTimeout(t.lease);
    this.d.dp.traceStop();
    this.tr = null;
    t.ended = why;
  }

  /** The packets traced so far, described; `done` when the count is reached. */
  traceShow(id: unknown): { done: boolean; left: number; packets: TracedPacket[] } {
    const t = this.tr;
    if (!t || t.id !== id) throw new DpfwdError('ENOENT', `no trace ${String(id)} (it ended: stopped, its lease ran out, or the forwarder restarted)`);
    this.renewLease(t, () => this.traceEnd(t, 'lease'));
    const recs = this.d.dp.traceRead();
    const left = this.d.dp.traceLeft();
    return { done: left === 0 && recs.length >= t.count, left, packets: recs.map((r) => this.describe(r)) };
  }

  traceStop(id: unknown): { done: true; packets: TracedPacket[] } {
    const t = this.tr;
    if (!t || t.id !== id) throw new DpfwdError('ENOENT', `no trace ${String(id)} (it ended: stopped, its lease ran out, or the forwarder restarted)`);
    const packets = this.d.dp.traceRead().map((r) => this.describe(r));
    this.traceEnd(t, 'stopped');
    return { done: true, packets };
  }

  private describe(r: TraceRec): TracedPacket {
    const c = this.d.dp.constants();
    const names = this.d.dp.names();
    const port = this.d.ports.find((p) => p.index === r.port)?.name ?? String(r.port);
    const out: TracedPacket = {
      time: `${r.sec}.${String(r.nsec).padStart(9, '0')}`,
      worker: r.worker,
      port,
      queue: r.queue,
      iface: this.d.ifaceName(r.iface),
      len: r.len,
      frame: describeFrame(r.data),
      fastPath: r.fastOk ? 'pass' : 'fail',
      checks: r.check === 255 ? 'not reached' : r.check === names.drops.length ? 'pass' : (names.drops[r.check] ?? String(r.check)),
      result:
        r.result === c.capture.traceForwarded
          ? 'forwarded'
          : r.result === c.capture.traceDropped
            ? 'dropped'
            : r.result === c.capture.tracePunted
              ? 'punted'
              : 'unknown',
    };
    if (r.lpm === 2) out.lookup = { found: false };
    if (r.lpm === 1) {
      const l3 = r.data.length >= 18 && r.data.readUInt16BE(12) === 0x8100 ? 18 : 14; // the frame as it arrived (tag included)
      const dst = r.data.length >= l3 + 20 && r.data.readUInt16BE(l3 - 2) === 0x0800 ? r.data.readUInt32BE(l3 + 16) : undefined;
      const nhIface = r.nhIface;
      const action =
        nhIface === c.nh.local
          ? 'local'
          : nhIface === c.nh.glean
            ? 'glean'
            : nhIface === c.nh.unresolved
              ? 'unresolved'
              : nhIface === c.nh.drop
                ? 'drop'
                : nhIface >= c.nh.actionMin
                  ? `action ${nhIface}`
                  : 'forward';
      out.lookup = {
        found: true,
        nexthop: r.nexthop,
        action,
        prefix: dst !== undefined ? this.d.lookup(dst)?.prefix : undefined,
      };
      if (action === 'forward') {
        out.lookup.iface = this.d.ifaceName(nhIface);
        out.lookup.mac = formatMac(wordMac(r.nhMac));
      }
    }
    if (r.out >= 0) out.egress = this.d.ports.find((p) => p.index === r.out)?.name ?? String(r.out);
    if (r.reason !== 255) out.drop = names.drops[r.reason];
    if (r.punt !== 255) {
      out.punt = names.punts[r.punt];
      out.puntTaken = r.puntTaken;
    }
    return out;
  }

  /** The forwarder stops: sessions end, timers go. */
  close(): void {
    if (this.cap) this.forgetCapture(this.cap, 'stopped');
    if (this.tr) this.traceEnd(this.tr, 'stopped');
  }
}

/** The next-hop word's 48 MAC bits (byte 0 in the low bits) as the number src/net/mac uses. */
function wordMac(bits: number): number {
  let v = 0;
  let x = bits;
  for (let i = 0; i < 6; i++) {
    v = v * 256 + (x % 256);
    x = Math.floor(x / 256);
  }
  return v;
}

export interface TracedPacket {
  time: string;
  worker: number;
  port: string;
  queue: number;
  /** the interface counted on (a VLAN sub-interface when tagged) */
  iface: string;
  len: number;
  frame: FrameSummary;
  /** the fast path's one test on this packet (fail: it would have taken the exact path anyway) */
  fastPath: 'pass' | 'fail';
  /** the RFC 1812 checks: pass, the drop reason, or not reached */
  checks: string;
  lookup?: { found: boolean; nexthop?: number; action?: string; prefix?: string; iface?: string; mac?: string };
  result: string;
  egress?: string;
  drop?: string;
  punt?: string;
  puntTaken?: boolean;
}

export interface FrameSummary {
  src: string;
  dst: string;
  type: string;
  vlan?: number;
  ip4?: { src: string; dst: string; proto: number; ttl: number; length: number; checksum: string; ihl: number };
}

/** The Ethernet and IPv4 headers of a traced frame, as printed. */
export function describeFrame(d: Buffer): FrameSummary {
  if (d.length < 14) return { src: '?', dst: '?', type: `truncated (${d.length} bytes)` };
  const mac = (o: number) => [...d.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  let type = d.readUInt16BE(12);
  let at = 14;
  const f: FrameSummary = { dst: mac(0), src: mac(6), type: `0x${type.toString(16).padStart(4, '0')}` };
  if (type === 0x8100 && d.length >= 18) {
    f.vlan = d.readUInt16BE(14) & 0xfff;
    type = d.readUInt16BE(16);
    at = 18;
    f.type = `0x${type.toString(16).padStart(4, '0')}`;
  }
  if (type === 0x0800) f.type = 'ipv4';
  else if (type === 0x0806) f.type = 'arp';
  if (type === 0x0800 && d.length >= at + 20) {
    f.ip4 = {
      src: formatIPv4(d.readUInt32BE(at + 12)),
      dst: formatIPv4(d.readUInt32BE(at + 16)),
      proto: d[at + 9],
      ttl: d[at + 8],
      length: d.readUInt16BE(at + 2),
      checksum: `0x${d
        .readUInt16BE(at + 10)
        .toString(16)
        .padStart(4, '0')}`,
      ihl: d[at] & 0xf,
    };
  }
  return f;
}
