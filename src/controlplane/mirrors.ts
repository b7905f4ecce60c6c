/**
 * Linux mirror interfaces (the linux-cp path, docs/linux.md): for each mirrored port a TAP
 * interface dpfwd opens itself, in `linux.netns`, with the port's name (or a configured one), MAC,
 * MTU and addresses, its carrier following the port's link. What the control plane sends up
 * (`deliver`: local TCP, UDP, OSPF, link-local multicast, copies of ARP) is written to it; what
 * Linux sends on it goes out of the port through the inject ring. dpfwd keeps owning ARP for
 * forwarding: Linux sees every ARP frame the port receives and resolves its own neighbours, but
 * its replies for dpfwd's addresses are held back, since dpfwd has already answered them with
 * the same MAC (no duplicate replies on the wire).
 *
 * Linux in the mirror namespace is not trusted more than a host on the wire: what it sends is
 * checked before it leaves the port (a frame too short for its headers, a source MAC that is not
 * the port's, an ARP whose sender MAC is not the port's (a gratuitous ARP claiming the router's
 * address for another MAC would rewrite the hosts' gateway entry), a broken IPv4 header or header
 * checksum) and rate-limited per mirror (linux.rateLimit frames/s, linux.burst), each refusal
 * counted by reason. Once a second (the forwarder's link watch) each mirror is compared with what
 * dpfwd made it: a changed MAC or MTU, or a mirror set down, is put back and logged as a warning;
 * a deleted mirror is logged as a warning and makes /healthz fail (src/metrics/health.ts).
 */
import * as fs from 'fs';
import type { LinuxConfig } from '../config/types';
import { DpfwdError } from '../errors';
import { formatIPv4 } from '../net/ipv4';
import { formatMac, readMac, type Mac } from '../net/mac';
import { verifyIpv4HeaderChecksum } from '../packet/checksum';
import type { Interfaces } from '../routing/interfaces';

/** Why a frame did not cross between dpfwd and a mirror (what each means: docs/linux.md, docs/metrics.md). */
export const MIRROR_DROPS = [
  // up to Linux
  'no_mirror',
  'queue_full',
  'write_error',
  // from Linux to the port
  'rate_limited',
  'malformed',
  'wrong_source_mac',
  'arp_spoofed',
  'bad_checksum',
  'arp_reply_suppressed',
  'not_ipv4',
  'too_big',
  'inject_full',
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
  /** a socket in the mirrors' namespace for state/restore */
  ctlOpen(netnsPath: string | null): number;
  /** the mirror's name, MAC, MTU and admin state; throws (EBADFD: deleted, ENODEV: moved away) */
  state(tapFd: number, ctlFd: number): { name: string; mac: Mac; mtu: number; up: boolean };
  /** MAC and MTU set back, admin up */
  restore(tapFd: number, ctlFd: number, mac: Mac, mtu: number): void;
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
  /** what needs an operator's eye: a mirror changed behind dpfwd's back, or gone */
  warn: (msg: string) => void;
  /** runs a command (argv[0] the program: ip, sysctl) and returns stdout; throws with its stderr */
  exec: (argv: string[]) => string;
}

/** linux.netns, linux.mirror (port name → mirror name), linux.queueLen (the TAP's txqueuelen) */
/** linux.rateLimit and linux.burst are read at each use (live: reload changes them in place). */
export type MirrorSettings = Pick<LinuxConfig, 'netns' | 'mirrors' | 'queueLen' | 'rateLimit' | 'burst'>;

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
  /** token bucket of frames from Linux: tokens and when it was last filled (ms) */
  tokens: number;
  filled: number;
  /** times the mirror was found changed and put back */
  restored: number;
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
  restored: number;
}

export class Mirrors {
  private readonly byIface = new Map<number, Mirror>();
  /** per dpfwd interface name: drops by reason (no_mirror on interfaces without one) */
  private readonly drops = new Map<string, Record<MirrorDrop, number>>();
  private own = new Set<number>();
  /** the socket in the mirrors' namespace through which their state is read and put back */
  private ctl = -1;
  private readonly exec: (argv: string[]) => string;
  readonly netns: string | undefined;

  constructor(
    private readonly d: MirrorDeps,
    private readonly s: MirrorSettings,
  ) {
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
        if (!i)
          throw new DpfwdError(
            'ENODEV',
            `linux.mirror: no port ${port}; ports are: ${this.d.ifaces
              .ports()
              .map((x) => x.name)
              .join(', ')} (fix linux.mirror in the config)`,
          );
        const fd = this.d.taps.open(name, nsPath);
        const m: Mirror = {
          iface: i.index,
          port,
          name,
          fd,
          toLinux: 0,
          fromLinux: 0,
          carrier: undefined,
          addrs: new Set(),
          tokens: this.s.burst,
          filled: Date.now(),
          restored: 0,
        };
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
      if (this.byIface.size) this.ctl = this.d.taps.ctlOpen(nsPath);
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

  /**
   * Each mirror's carrier to its port's link, and the mirror kept as dpfwd made it: called by the
   * forwarder's one link watch (src/forwarder, every LINK_POLL_MS).
   */
  followLinks(): void {
    for (const m of this.byIface.values()) {
      if (m.broken) continue;
      try {
        this.keep(m);
        this.followLink(m);
      } catch (e) {
        this.broke(m, `carrier: ${(e as Error).message}`);
      }
    }
  }

  /** A mirror whose MAC, MTU or admin state Linux changed is put back (warned); a deleted one is broken. */
  private keep(m: Mirror): void {
    if (this.ctl < 0) return;
    const i = this.d.ifaces.get(m.iface)!;
    let st: ReturnType<TapIo['state']>;
    try {
      st = this.d.taps.state(m.fd, this.ctl);
    } catch (e) {
      const code = (e as DpfwdError).code;
      this.broke(
        m,
        code === 'EBADFD'
          ? 'its interface was deleted'
          : code === 'ENODEV'
            ? `its interface is no longer in ${this.netns ? `namespace ${this.netns}` : "dpfwd's namespace"}`
            : (e as Error).message,
      );
      return;
    }
    const changed: string[] = [];
    if (st.mac !== i.mac) changed.push(`MAC ${formatMac(st.mac)}, the port's is ${formatMac(i.mac)}`);
    if (st.mtu !== i.mtu) changed.push(`MTU ${st.mtu}, the port's is ${i.mtu}`);
    if (!st.up) changed.push('set down');
    if (!changed.length) return;
    this.d.taps.restore(m.fd, this.ctl, i.mac, i.mtu);
    m.restored++;
    this.d.warn(
      `linux: mirror ${st.name} of port ${m.port} was changed in Linux (${changed.join('; ')}); put back as dpfwd made it (the mirror must match its port)`,
    );
  }

  /** A mirror that no longer works: said once, as a warning; /healthz reports it from rows(). */
  private broke(m: Mirror, why: string): void {
    if (m.broken) return;
    m.broken = why;
    this.d.warn(`linux: mirror ${m.name} of port ${m.port} is broken (${why}); nothing crosses it any more: restart dpfwd to make it again`);
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

  /**
   * Why a frame from Linux must not leave the port (null: it may), checked as the wire's are:
   * lengths, the source MAC, ARP's sender MAC, the IPv4 header and its checksum.
   */
  private refusal(f: Buffer, mac: Mac): MirrorDrop | null {
    if (f.length < 14) return 'malformed';
    if (readMac(f, 6) !== mac) return 'wrong_source_mac';
    const type = f.readUInt16BE(12);
    if (type === 0x0806) {
      // Ethernet/IPv4 ARP, 28 bytes
      if (f.length < 42 || f.readUInt16BE(14) !== 1 || f.readUInt16BE(16) !== 0x0800 || f[18] !== 6 || f[19] !== 4) return 'malformed';
      if (readMac(f, 22) !== mac) return 'arp_spoofed';
      // a reply for one of dpfwd's addresses: dpfwd answered the request already, same MAC
      if (f.readUInt16BE(20) === 2 && this.own.has(f.readUInt32BE(28))) return 'arp_reply_suppressed';
      return null;
    }
    if (type !== 0x0800) return 'not_ipv4';
    if (f.length < 34) return 'malformed';
    const ihl = (f[14] & 15) * 4;
    const total = f.readUInt16BE(16);
    if (f[14] >> 4 !== 4 || ihl < 20 || f.length < 14 + ihl || total < ihl || total > f.length - 14) return 'malformed';
    if (!verifyIpv4HeaderChecksum(f, 14)) return 'bad_checksum';
    return null;
  }

  /** Frames Linux sent on a mirror: out of its port, except what is refused (counted) or cannot be sent. */
  private fromLinux(m: Mirror, frames: Buffer[], error?: string): void {
    const mac = this.d.ifaces.get(m.iface)!.mac;
    const now = Date.now();
    m.tokens = Math.min(this.s.burst, m.tokens + ((now - m.filled) * this.s.rateLimit) / 1000);
    m.filled = now;
    for (const f of frames) {
      if (m.tokens < 1) {
        this.drop(m.iface, 'rate_limited');
        continue;
      }
      m.tokens--;
      const why = this.refusal(f, mac);
      if (why) {
        this.drop(m.iface, why);
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
    if (error) this.broke(m, `reading it failed: ${error}; was the interface deleted?`);
  }

  /** `dpfwd show mirrors` rows, and the metrics' numbers. */
  rows(): MirrorRow[] {
    return [...this.byIface.values()].map((m) => {
      const drops = this.dropsOf(m.port);
      return {
        port: m.port,
        mirror: m.name,
        netns: this.netns ?? null,
        fd: m.fd,
        carrier: m.carrier ?? false,
        to_linux: m.toLinux,
        from_linux: m.fromLinux,
        dropped: Object.values(drops).reduce((a, b) => a + b, 0),
        drops: { ...drops },
        broken: m.broken ?? null,
        restored: m.restored,
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
    if (this.ctl >= 0) this.d.taps.close(this.ctl);
    this.ctl = -1;
  }
}
