/**
 * Test hosts in network namespaces, joined to dpfwd by veth pairs whose router ends dpfwd opens
 * as af_packet (or af_xdp) ports. Offloads are left at the kernel's defaults. Names carry the test
 * process's id so parallel runs do not collide, and everything is removed in `destroy()` (also of a previous, interrupted run with the same id).
 */
import { execFileSync, spawn, ChildProcess } from 'child_process';

export function sh(cmd: string, args: string[], opts: { ns?: string; allowFail?: boolean; timeout?: number } = {}): string {
  const argv = opts.ns ? ['netns', 'exec', opts.ns, cmd, ...args] : args;
  const bin = opts.ns ? 'ip' : cmd;
  try {
    return execFileSync(bin, argv, { encoding: 'utf8', timeout: opts.timeout ?? 30000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (opts.allowFail) return (e as { stdout?: string }).stdout ?? '';
    const err = e as { stderr?: string; message: string };
    throw new Error(`${bin} ${argv.join(' ')}: ${err.stderr || err.message}`);
  }
}

export interface Host {
  name: string; // short name, e.g. west
  ns: string; // namespace
  routerIf: string; // the veth end dpfwd opens
  hostIf: string; // the veth end inside the namespace
  ip: string; // host address
  gw: string; // dpfwd's address on that link
  len: number;
}

export class Topology {
  readonly id = (process.pid % 100000).toString(36);
  readonly hosts: Host[] = [];
  private readonly extraLinks: string[] = [];
  private readonly namespaces: string[] = [];

  /** Adds a host in its own namespace on 10.<n>.0.2/24, gateway 10.<n>.0.1 (dpfwd). */
  addHost(name: string, n: number): Host {
    const h: Host = {
      name,
      ns: `dpt${this.id}${name}`,
      routerIf: `r${this.id}${name}`.slice(0, 15),
      hostIf: `h${this.id}${name}`.slice(0, 15),
      ip: `10.${n}.0.2`,
      gw: `10.${n}.0.1`,
      len: 24,
    };
    sh('ip', ['netns', 'del', h.ns], { allowFail: true });
    sh('ip', ['link', 'del', h.routerIf], { allowFail: true });
    sh('ip', ['netns', 'add', h.ns]);
    this.namespaces.push(h.ns);
    sh('ip', ['link', 'add', h.routerIf, 'type', 'veth', 'peer', 'name', h.hostIf]);
    sh('ip', ['link', 'set', h.hostIf, 'netns', h.ns]);
    sh('ip', ['link', 'set', h.routerIf, 'up']);
    sh('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', h.ns, 'link', 'set', h.hostIf, 'up']);
    sh('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/${h.len}`, 'dev', h.hostIf]);
    sh('ip', ['-n', h.ns, 'route', 'add', 'default', 'via', h.gw]);
    // offloads stay at the kernel's defaults (checksum offload, TSO, GSO on), as on users' hosts:
    // dpfwd completes partial checksums and keeps super-frames away itself (docs/kernel-ports.md)
    // IPv6 chatter (router solicitations, MLD) would only add not_ipv4 drops to the counters
    sh('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { ns: h.ns, allowFail: true });
    this.hosts.push(h);
    return h;
  }

  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** An empty namespace (e.g. for a tap interface dpfwd creates). */
  addNamespace(name: string): string {
    const ns = `dpt${this.id}${name}`;
    sh('ip', ['netns', 'del', ns], { allowFail: true });
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    this.namespaces.push(ns);
    return ns;
  }

  port(h: Host, index: number) {
    return { name: h.name, device: `net_af_packet${index},iface=${h.routerIf}`, address: `${h.gw}/${h.len}` };
  }

  /** The same link opened with the af_xdp PMD instead of af_packet. */
  xdpPort(h: Host, index: number) {
    return { name: h.name, device: `net_af_xdp${index},iface=${h.routerIf}`, address: `${h.gw}/${h.len}` };
  }

  destroy(): void {
    for (const ns of this.namespaces) sh('ip', ['netns', 'del', ns], { allowFail: true });
    for (const h of this.hosts) sh('ip', ['link', 'del', h.routerIf], { allowFail: true });
    for (const l of this.extraLinks) sh('ip', ['link', 'del', l], { allowFail: true });
  }
}

/** ping from a namespace; returns packets received. */
export function ping(
  ns: string,
  dst: string,
  count = 3,
  opts: { interval?: number; ttl?: number; deadline?: number; source?: string; size?: number } = {},
): number {
  const args = ['-n', '-q', '-c', String(count), '-i', String(opts.interval ?? 0.2), '-W', '1'];
  if (opts.ttl) args.push('-t', String(opts.ttl));
  if (opts.size) args.push('-s', String(opts.size));
  if (opts.deadline) args.push('-w', String(opts.deadline));
  if (opts.source) args.push('-I', opts.source);
  const out = sh('ping', [...args, dst], { ns, allowFail: true, timeout: 60000 });
  const m = /(\d+) received/.exec(out);
  return m ? Number(m[1]) : 0;
}

/** ping without blocking this process's event loop. */
export function pingAsync(ns: string, dst: string, count = 3, interval = 0.2): Promise<number> {
  return new Promise((resolve) => {
    const p = spawnIn(ns, 'ping', ['-n', '-q', '-c', String(count), '-i', String(interval), '-W', '1', dst]);
    let out = '';
    p.stdout!.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => {
      const m = /(\d+) received/.exec(out);
      resolve(m ? Number(m[1]) : 0);
    });
  });
}

export function spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
