/**
 * What kernel-facing ports need of the process, checked before EAL init. Without them DPDK fails
 * far from the cause (no CAP_NET_RAW: "DPDK has no device named net_af_packet0") or, worse, runs
 * slowly: podman's default seccomp profile refuses bpf() without CAP_SYS_ADMIN, the XDP step on an
 * af_packet veth fails, and TCP through the router fell to 0.47 Mbit/s. Each missing piece is
 * named with the flag that gives it (docs/deploy.md).
 */
import * as fs from 'fs';
import { deviceName, devargs } from '../net/device';

/** Capability numbers (linux/capability.h). */
export const CAPS = { NET_ADMIN: 12, NET_RAW: 13, IPC_LOCK: 14, SYS_ADMIN: 21, BPF: 39 } as const;
type Cap = keyof typeof CAPS;

export interface Privileges {
  /** effective capability set (CapEff) */
  caps: bigint;
  /** /proc/self/status Seccomp: 0 none, 1 strict, 2 filter */
  seccomp: number;
  /** RLIMIT_MEMLOCK soft limit in bytes (Infinity: unlimited) */
  memlock: number;
}

/** The process's privileges from /proc (`proc` replaceable for tests). */
export function readPrivileges(proc = '/proc/self'): Privileges {
  const status = fs.readFileSync(`${proc}/status`, 'utf8');
  const caps = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  const seccomp = Number(/^Seccomp:\s*(\d)/m.exec(status)?.[1] ?? 0);
  const lim = /^Max locked memory\s+(\S+)/m.exec(fs.readFileSync(`${proc}/limits`, 'utf8'))?.[1] ?? 'unlimited';
  return { caps, seccomp, memlock: lim === 'unlimited' ? Infinity : Number(lim) };
}

export interface Probes {
  /** 0 when bpf() reaches the kernel, else the errno answered in front of it */
  bpf: () => number;
  /** an interface's kernel driver ("veth"), "" when unknown */
  ifaceDriver: (name: string) => string;
}

const has = (p: Privileges, c: Cap) => ((p.caps >> BigInt(CAPS[c])) & 1n) === 1n;
const ERRNO: Record<number, string> = { 1: 'EPERM', 13: 'EACCES', 38: 'ENOSYS' };
const FLAGS = (caps: string[]) =>
  `podman/docker: ${caps.map((c) => `--cap-add ${c}`).join(' ')}; Kubernetes: securityContext.capabilities.add: [${caps.join(', ')}]`;

/**
 * Every problem with the af_packet, af_xdp and tap ports of `ports` (resolved device strings)
 * given the process's privileges: one line each, naming the port, what is missing and the fix.
 * `umemBytes`: what an af_xdp UMEM pins (the mbuf pool), counted against RLIMIT_MEMLOCK without
 * CAP_IPC_LOCK.
 */
export function kernelPortProblems(ports: { name: string; device: string }[], priv: Privileges, probes: Probes, umemBytes: number): string[] {
  const problems: string[] = [];
  let bpfErrno: number | undefined;
  const bpf = () => (bpfErrno ??= probes.bpf());
  const lacking = (need: Cap[][]) => need.filter((alts) => !alts.some((c) => has(priv, c))).map((alts) => alts[0]);
  const bpfBlocked = (who: string, why: string) => {
    const e = bpf();
    if (!e) return;
    const by = priv.seccomp === 2 ? 'a seccomp filter' : 'the kernel (an LSM or kernel.unprivileged_bpf_disabled)';
    problems.push(
      `${who}: ${why} needs the bpf() system call, which ${by} refuses (${ERRNO[e] ?? `errno ${e}`}); ` +
        (priv.seccomp === 2
          ? "podman's and Docker's default profiles allow bpf() only with CAP_SYS_ADMIN: run with --security-opt seccomp=deploy/seccomp-dpfwd.json (the default plus bpf; Kubernetes: securityContext.seccompProfile Localhost), see docs/deploy.md"
          : 'allow it for dpfwd'),
    );
  };
  ports.forEach((p, i) => {
    const drv = deviceName(p.device).replace(/\d+$/, '');
    const iface = devargs(p.device).get('iface') ?? '';
    const who = `ports[${i}] ${p.name} (${drv} on ${iface || '?'})`;
    if (drv === 'net_af_packet' || drv === 'net_af_xdp') {
      const miss = lacking([['NET_RAW']]);
      if (miss.length)
        problems.push(
          `${who}: its ${drv === 'net_af_xdp' ? 'AF_XDP' : 'AF_PACKET'} socket needs CAP_NET_RAW, which this process lacks (${FLAGS(['NET_RAW'])})`,
        );
    }
    if (drv === 'net_af_xdp') {
      // libxdp looks attached programs up by id (BPF_PROG_GET_FD_BY_ID: CAP_SYS_ADMIN only) and its
      // dispatcher needs the verifier's privileged mode: CAP_BPF alone fails (measured in podman)
      const miss = lacking([['NET_ADMIN'], ['SYS_ADMIN']]);
      if (miss.length)
        problems.push(
          `${who}: libxdp, which loads and attaches its XDP program, needs ${miss.map((c) => `CAP_${c}`).join(' and ')}, which this process lacks (${FLAGS(miss)}; or use net_af_packet, which needs CAP_BPF instead of CAP_SYS_ADMIN)`,
        );
      else bpfBlocked(who, 'its XDP program');
      if (!has(priv, 'IPC_LOCK') && priv.memlock < umemBytes) {
        problems.push(
          `${who}: its UMEM pins ${Math.ceil(umemBytes / 1048576)} MiB, above the locked-memory limit (ulimit -l: ${Math.floor(priv.memlock / 1024)} KiB) of a process without CAP_IPC_LOCK ` +
            `(${FLAGS(['IPC_LOCK'])}, or --ulimit memlock=-1:-1 / LimitMEMLOCK=infinity)`,
        );
      }
    }
    if (drv === 'net_af_packet' && iface && probes.ifaceDriver(iface) === 'veth') {
      // without the XDP step the veth peer sends TSO super-frames that af_packet cuts: TCP crawls
      const miss = lacking([['NET_ADMIN'], ['BPF', 'SYS_ADMIN']]);
      const why =
        'the XDP step on its veth (without it the peer sends 64 KB TSO frames that af_packet cuts, and TCP through dpfwd crawls; docs/kernel-ports.md)';
      if (miss.length)
        problems.push(`${who}: ${why} needs ${miss.map((c) => `CAP_${c}`).join(' and ')}, which this process lacks (${FLAGS(miss)}; or use net_af_xdp)`);
      else bpfBlocked(who, why);
    }
    if (drv === 'net_tap' && !has(priv, 'NET_ADMIN')) {
      problems.push(`${who}: creating its tap interface needs CAP_NET_ADMIN, which this process lacks (${FLAGS(['NET_ADMIN'])}, and the device /dev/net/tun)`);
    }
  });
  return problems;
}
