/**
 * One forwarder per Linux interface. Two dpfwd processes on one af_packet/af_xdp/tap interface
 * split its frames between them, and the second one's stop took the first one's XDP program
 * away (its TCP fell to 0.43 Mbit/s). Each forwarder claims the interfaces its ports open before
 * EAL init: one listening UNIX socket per interface in Linux's abstract namespace
 * (`@dpfwd/iface/<name>`). Abstract names belong to the network namespace, as interface names
 * do, so forwarders in other namespaces (or containers with their own network) never collide,
 * containers sharing the host's network do, and no file is left behind: the kernel frees the name
 * when the process ends, even after kill -9. A forwarder that finds the name taken asks the
 * holder who it is (one JSON line: pid, control socket, port) and refuses to start, naming it.
 */
import * as net from 'net';
import { DpfwdError } from '../errors';
import { devargs, deviceName } from '../net/device';
import { peerCred } from '../dataplane';

/** The interfaces a port's device opens in this namespace: af_packet, af_xdp and tap by iface=. */
export function claimedInterface(device: string): string | undefined {
  if (!/^net_(af_packet|af_xdp|tap)/.test(deviceName(device))) return undefined;
  return devargs(device).get('iface') || undefined;
}

/** The abstract socket address of an interface's claim. */
export function claimAddress(iface: string): string {
  return `\0dpfwd/iface/${iface}`;
}

export interface Holder {
  pid: number;
  socket?: string;
  port?: string;
}

/** What the holder of `iface`'s claim says about itself (pid from SO_PEERCRED when it does not answer). */
function askHolder(iface: string, timeoutMs: number): Promise<Holder | 'gone'> {
  return new Promise((resolve) => {
    const s = net.connect(claimAddress(iface));
    let text = '';
    let pid = 0;
    const done = (h: Holder | 'gone') => {
      clearTimeout(t);
      s.destroy();
      resolve(h);
    };
    const t = setTimeout(() => done({ pid }), timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => {
      const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
      pid = (typeof fd === 'number' && fd >= 0 ? peerCred(fd)?.pid : 0) ?? 0;
    });
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('end', () => {
      try {
        const j = JSON.parse(text) as Holder;
        done({ pid: Number(j.pid) || pid, socket: j.socket, port: j.port });
      } catch {
        done({ pid });
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? 'gone' : { pid }));
  });
}

function listen(iface: string, me: Holder): Promise<net.Server | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const srv = net.createServer((c) => {
      c.on('error', () => {
        /* a client that went away */
      });
      c.end(`${JSON.stringify(me)}\n`);
    });
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    srv.listen(claimAddress(iface), () => {
      srv.removeAllListeners('error');
      srv.on('error', () => {
        /* accept errors: the claim stays */
      });
      srv.unref(); // the claim never keeps the process alive; it ends with it
      resolve(srv);
    });
  });
}

/** The claims a forwarder holds; released after its ports are closed (Forwarder.stop). */
export class InterfaceClaims {
  private constructor(
    private readonly servers: net.Server[],
    readonly interfaces: string[],
  ) {}

  /**
   * Claims every interface of `ports` (name and resolved device) for this process, or throws
   * EBUSY naming the forwarder that holds one (and releases what it took).
   */
  static async take(ports: { name: string; device: string }[], socket: string, opts: { pid?: number; timeoutMs?: number } = {}): Promise<InterfaceClaims> {
    const servers: net.Server[] = [];
    const taken: string[] = [];
    const release = () => {
      for (const s of servers) s.close();
    };
    for (const [i, p] of ports.entries()) {
      const iface = claimedInterface(p.device);
      if (!iface || taken.includes(iface)) continue;
      const me: Holder = { pid: opts.pid ?? process.pid, socket, port: p.name };
      let got: net.Server | NodeJS.ErrnoException | undefined;
      // the holder may end between our listen and our question: then the name is free, try once more
      for (let attempt = 0; attempt < 2; attempt++) {
        got = await listen(iface, me);
        if (got instanceof net.Server || got.code !== 'EADDRINUSE') break;
        const h = await askHolder(iface, opts.timeoutMs ?? 2000);
        if (h === 'gone') continue;
        release();
        const who = [h.pid ? `pid ${h.pid}` : 'pid unknown', h.socket ? `control socket ${h.socket}` : '', h.port ? `its port ${h.port}` : '']
          .filter(Boolean)
          .join(', ');
        throw new DpfwdError(
          'EBUSY',
          `ports[${i}].device: interface ${iface} is in use by another dpfwd (${who}); ` +
            "two forwarders on one interface split its frames and undo each other's set-up: stop that one, or give this port another interface",
        );
      }
      if (!(got instanceof net.Server)) {
        release();
        throw new DpfwdError('EBUSY', `ports[${i}].device: cannot claim interface ${iface} for this forwarder: ${got?.message ?? 'the name stays taken'}`);
      }
      servers.push(got);
      taken.push(iface);
    }
    return new InterfaceClaims(servers, taken);
  }

  release(): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
  }
}
