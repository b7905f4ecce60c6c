/**
 * Linux mirror interfaces (the linux-cp path, docs/linux.md): for each mirrored port a TAP
 * interface dpfwd opens itself, in `linux.netns`, with the port's name (or a configured one), MAC,
 * MTU and addresses, its carrier following the port's link. What the control plane sends up
 * (`deliver`: local TCP, UDP, OSPF, link-local multicast, copies of ARP) is written to it; what
 * Linux sends on it goes out of the port through the inject ring. dpfwd keeps owning ARP for
 * forwarding: Linux sees every ARP frame the port receives and resolves its own neighbours, but
 * its replies for dpfwd's addresses are held back, since dpfwd has already answered them with
 * the same MAC (no duplicate replies on the wire).
 */
import * as fs from 'fs';
import type { LinuxConfig } from '../config/types';
import { DpfwdError } from '../errors';
import { formatIPv4 } from '../net/ipv4';
import { formatMac } from '../net/mac';
import type { Interfaces } from '../routing/interfaces';

/** Why a frame did not cross between dpfwd and a mirror (what each means: docs/linux.md, docs/metrics.md). */
export const MIRROR_DROPS = [
  // up to Linux
  'no_mirror', 'queue_full', 'write_error',
  // from Linux to the port
  'arp_reply_suppressed', 'not_ipv4', 'malformed', 'too_big', 'inject_full',
] as const;
export type MirrorDrop = (typeof MIRROR_DROPS)[number];

/** A negative errno from a TAP write that means its queue is full. */
const EAGAIN = 11;
const ENOBUFS = 105;

/** The TAP calls (src/dataplane's MirrorTaps satisfies it). */
export interface TapIo {
  open(name: string, netnsPath: string | null): number;
  carrier(fd: number, up: boolean): void;
  write(fd: number, frame: Buffer): number;
  listen(fd: number, cb: (frames: Buffer[], error?: string) => void): void;
  close(fd: number): void;
}

export interface MirrorDeps {
  taps: TapIo;
  ifaces: Interfaces;
  /** the router's addresses (the RIB's) */
  addresses(): { port: string; addr: number; len: number }[];
  /** out of the port through an inject ring; false when the ring or pool is full, throws when too big */
  inject(iface: number, frame: Buffer): boolean;
  /** the port's link state (dataplane portInfo) */
  linkUp(port: number): boolean;
  log: (msg: string) => void;
  /** runs a command (argv[0] the program: ip, sysctl) and returns stdout; throws with its stderr */
  exec: (argv: string[]) => string;
}

/** linux.netns, linux.mirror (port name → mirror name), linux.queueLen (the TAP's txqueuelen) */
export type MirrorSettings = Pick<LinuxConfig, 'netns' | 'mirrors' | 'queueLen'>;

interface Mirror {
  iface: number;
  port: string;
  name: string;
  fd: number;
  toLinux: number;
  fromLinux: number;
  carrier: boolean | undefined;
  addrs: Set<string>;
  broken?: string;
}

export interface MirrorRow {
  port: string;
  mirror: string;
  netns: string | null;
  fd: number;
  carrier: boolean;
  to_linux: number;
  from_linux: number;
  dropped: number;
  drops: Record<MirrorDrop, number>;
  broken: string | null;
}

export class Mirrors {
  private readonly byIface = new Map<number, Mirror>();
  /** per dpfwd interface name: drops by reason (no_mirror on interfaces without one) */
  private readonly drops = new Map<string, Record<MirrorDrop, number>>();
  private own = new Set<number>();
  private readonly exec: (argv: string[]) => string;
  readonly netns: string | undefined;

  constructor(private readonly d: MirrorDeps, private readonly s: MirrorSettings) {
    this.exec = d.exec;
    this.netns = s.netns;
  }

  /** A namespace given as a path (linux.netns may be /proc/PID/ns/net or /run/netns/NAME). */
  private get nsIsPath(): boolean {
    return !!this.netns && this.netns.includes('/');
  }

  /** A command inside the mirrors' namespace (nsenter for a namespace given as a path). */
  private inNs(argv: string[]): string[] {
    if (!this.netns) return argv;
    return this.nsIsPath ? ['nsenter', `--net=${this.netns}`, ...argv] : ['ip', 'netns', 'exec', this.netns, ...argv];
  }

  /** `ip` in the mirrors' namespace. */
  private ip(args: string[]): string {
    if (this.netns && !this.nsIsPath) return this.exec(['ip', '-n', this.netns, ...args]);
    return this.exec(this.inNs(['ip', ...args]));
  }

  private dropsOf(iface: string): Record<MirrorDrop, number> {
    let r = this.drops.get(iface);
    if (!r) {
      r = Object.fromEntries(MIRROR_DROPS.map((k) => [k, 0])) as Record<MirrorDrop, number>;
      this.drops.set(iface, r);
    }
    return r;
  }

  private drop(iface: number, why: MirrorDrop): void {
    this.dropsOf(this.d.ifaces.name(iface) ?? String(iface))[why]++;
  }

  /** Creates the namespace if needed, then every mirror; on failure closes what it opened. */
  open(): void {
    let nsPath: string | null = null;
    if (this.netns) {
      nsPath = this.nsIsPath ? this.netns : `/run/netns/${this.netns}`;
      if (!fs.existsSync(nsPath)) {
        if (this.nsIsPath) throw new DpfwdError('ENOENT', `linux.netns: ${nsPath} does not exist (give a namespace name to have dpfwd create it)`);
        this.exec(['ip', 'netns', 'add', this.netns]);
        this.d.log(`linux: created network namespace ${this.netns}`);
      }
      this.ip(['link', 'set', 'lo', 'up']);
    }
    try {
      for (const [port, name] of Object.entries(this.s.mirrors)) {
        const i = this.d.ifaces.find(port);
        if (!i) throw new DpfwdError('ENODEV', `linux.mirror: no port ${port}; ports are: ${this.d.ifaces.ports().map((x) => x.name).join(', ')} (fix linux.mirror in the config)`);
        const fd = this.d.taps.open(name, nsPath);
        const m: Mirror = { iface: i.index, port, name, fd, toLinux: 0, fromLinux: 0, carrier: undefined, addrs: new Set() };
        this.byIface.set(i.index, m);
        this.dropsOf(port);
        // dpfwd forwards IPv4 only: no IPv6 on the mirror (its router solicitations and MLD
        // reports would only leave the port for nothing)
        try {
          this.sysctl(`net/ipv6/conf/${name}/disable_ipv6`, '1');
        } catch (e) {
          this.d.log(`linux: warning: cannot turn IPv6 off on mirror ${name} (${(e as Error).message}); its IPv6 frames are dropped as not_ipv4`);
        }
        this.ip(['link', 'set', 'dev', name, 'address', formatMac(i.mac), 'mtu', String(i.mtu), 'txqueuelen', String(this.s.queueLen)]);
        this.followLink(m);
        this.ip(['link', 'set', 'dev', name, 'up']);
        this.d.taps.listen(fd, (frames, error) => this.fromLinux(m, frames, error));
        this.d.log(`linux: port ${port} mirrored by ${name}${this.netns ? ` in namespace ${this.netns}` : ''} (mac ${formatMac(i.mac)}, mtu ${i.mtu})`);
      }
      this.syncAddresses();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Writes a sysctl of the mirrors' namespace (/proc/sys of the namespace dpfwd's thread is in, else through ip netns exec). */
  private sysctl(key: string, value: string): void {
    if (!this.netns) {
      fs.writeFileSync(`/proc/sys/${key}`, value);
      return;
    }
    this.exec(this.inNs(['sysctl', '-qw', `${key}=${value}`]));
  }

  private followLink(m: Mirror): void {
    const up = this.d.linkUp(this.d.ifaces.get(m.iface)!.port);
    if (up === m.carrier) return;
    this.d.taps.carrier(m.fd, up);
    if (m.carrier !== undefined) this.d.log(`linux: mirror ${m.name} carrier ${up ? 'up' : 'down'} (port ${m.port} link)`);
    m.carrier = up;
  }

  /** Each mirror's carrier to its port's link: called by the forwarder's one link watch (src/forwarder, every LINK_POLL_MS). */
  followLinks(): void {
    for (const m of this.byIface.values()) {
      try {
        this.followLink(m);
      } catch (e) {
        m.broken = `carrier: ${(e as Error).message}`;
      }
    }
  }

  /**
   * The mirrors' addresses follow the router's (start, `dpfwd address add/del`): what dpfwd
   * has on a mirrored interface, Linux has on its mirror; nothing else is touched.
   */
  syncAddresses(): void {
    const all = this.d.addresses();
    this.own = new Set(all.map((a) => a.addr));
    for (const m of this.byIface.values()) {
      const want = new Set(all.filter((a) => a.port === m.port).map((a) => `${formatIPv4(a.addr)}/${a.len}`));
      for (const a of want) {
        if (m.addrs.has(a)) continue;
        this.ip(['addr', 'add', a, 'dev', m.name]);
        m.addrs.add(a);
      }
      for (const a of [...m.addrs]) {
        if (want.has(a)) continue;
        this.ip(['addr', 'del', a, 'dev', m.name]);
        m.addrs.delete(a);
      }
    }
  }

  has(iface: number): boolean {
    return this.byIface.has(iface);
  }

  /**
   * A frame for Linux, written to the mirror of the interface it arrived on. `quiet`: no
   * no_mirror count when that interface has none (ARP copies). False when not delivered.
   */
  deliver(iface: number, frame: Buffer, quiet = false): boolean {
    const m = this.byIface.get(iface);
    if (!m) {
      if (!quiet) this.drop(iface, 'no_mirror');
      return false;
    }
    const rc = this.d.taps.write(m.fd, frame);
    if (rc === 0) {
      m.toLinux++;
      return true;
    }
    this.drop(iface, rc === -EAGAIN || rc === -ENOBUFS ? 'queue_full' : 'write_error');
    return false;
  }

  /** Frames Linux sent on a mirror: out of its port, except what dpfwd already did or cannot send. */
  private fromLinux(m: Mirror, frames: Buffer[], error?: string): void {
    for (const f of frames) {
      if (f.length < 14) {
        this.drop(m.iface, 'malformed');
        continue;
      }
      const type = f.readUInt16BE(12);
      if (type === 0x0806) {
        // a reply for one of dpfwd's addresses: dpfwd answered the request already, same MAC
        if (f.length >= 42 && f.readUInt16BE(20) === 2 && this.own.has(f.readUInt32BE(28))) {
          this.drop(m.iface, 'arp_reply_suppressed');
          continue;
        }
      } else if (type !== 0x0800) {
        this.drop(m.iface, 'not_ipv4');
        continue;
      }
      let ok: boolean;
      try {
        ok = this.d.inject(m.iface, f);
      } catch {
        this.drop(m.iface, 'too_big');
        continue;
      }
      if (ok) m.fromLinux++;
      else this.drop(m.iface, 'inject_full');
    }
    if (error && !m.broken) {
      m.broken = error;
      this.d.log(`linux: mirror ${m.name} of port ${m.port} failed (${error}); nothing crosses it any more: restart dpfwd (was the interface deleted?)`);
    }
  }

  /** `dpfwd show mirrors` rows, and the metrics' numbers. */
  rows(): MirrorRow[] {
    return [...this.byIface.values()].map((m) => {
      const drops = this.dropsOf(m.port);
      return {
        port: m.port, mirror: m.name, netns: this.netns ?? null, fd: m.fd, carrier: m.carrier ?? false,
        to_linux: m.toLinux, from_linux: m.fromLinux, dropped: Object.values(drops).reduce((a, b) => a + b, 0), drops: { ...drops }, broken: m.broken ?? null,
      };
    });
  }

  /** Drops by dpfwd interface (mirrored or not: no_mirror counts on interfaces without one). */
  dropsByInterface(): { port: string; drops: Record<MirrorDrop, number> }[] {
    return [...this.drops.entries()].map(([port, drops]) => ({ port, drops: { ...drops } }));
  }

  /** Closes every mirror: the TAP interfaces go with their fds. The namespace stays. */
  close(): void {
    for (const m of this.byIface.values()) this.d.taps.close(m.fd);
    this.byIface.clear();
  }
}
