/**
 * Against the kernel: west namespace — router — east namespace, hosts at the kernel's DEFAULT
 * offloads (test/helpers/netns.ts's Topology sets none; IPv6 off in the hosts). The router is
 * dpfwd with af_packet ports, dpfwd with af_xdp ports, dpfwd with net_tap ports (its tap
 * interfaces moved into the host namespaces), then a Linux namespace with ip_forward=1 holding the
 * same veth router ends and addresses. Through each: iperf3 TCP (3 s) and iperf3 UDP with 64-byte
 * payloads at -b 0 (3 s; receiver-side packets/s and loss). Plus the cost of dpfwd's checksum
 * completion in ns per packet (bench/csum/csum_cost.c on packet.h). Every namespace and veth is
 * deleted in a finally block, also when a step fails.
 */
import { Topology, sh, spawnIn, ping } from '../../test/helpers/netns';
import { startForwarder, totals, Running as Fwd } from '../../test/helpers/forwarder';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { round } from './stats';
import { sleep } from './proc';

export interface KernelTrial {
  tcpMbps?: number;
  tcpRetransmits?: number;
  udpSentPps?: number;
  udpReceivedPps?: number;
  udpLossPercent?: number;
  /** dpfwd only: its port counters and non-zero drop reasons after both runs (where the UDP loss went) */
  dpfwdPorts?: { name: string; driver: string; rx: number; tx: number; missed: number; txErrors: number }[];
  dpfwdDrops?: Record<string, number>;
  /** dpfwd only: packets in on west and out on east during the UDP run (tells loss before/after the router) */
  dpfwdUdpWindow?: { westRx: number; eastTx: number };
  error?: string;
}

export interface KernelResult {
  seconds: number;
  routers: Record<string, KernelTrial>;
  ratios: {
    dpfwdAfPacketOverKernelTcp?: number;
    dpfwdAfPacketOverKernelUdpPps?: number;
    dpfwdAfXdpOverKernelTcp?: number;
    dpfwdAfXdpOverKernelUdpPps?: number;
    dpfwdTapOverKernelTcp?: number;
    dpfwdTapOverKernelUdpPps?: number;
  };
  /** dp_l4_csum_complete on a CHECKSUM_PARTIAL TCP segment, ns per packet by frame size */
  csumCompletionNs?: Record<string, number>;
  notes: string[];
}

/** Builds and runs bench/csum/csum_cost.c with the addon's flags (-O3, DPDK headers). */
function csumCost(tmp: string, log: (m: string) => void): Record<string, number> | undefined {
  const root = path.resolve(__dirname, '..', '..', '..');
  const bin = path.join(tmp, 'csum_cost');
  try {
    const cflags = execFileSync('pkg-config', ['--cflags', 'libdpdk'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
    execFileSync(
      'gcc',
      ['-O3', '-Wall', '-Wextra', '-I', path.join(root, 'native', 'dataplane'), ...cflags, path.join(root, 'bench', 'csum', 'csum_cost.c'), '-o', bin],
      { encoding: 'utf8' },
    );
    const out: Record<string, number> = {};
    for (const line of execFileSync(bin, [], { encoding: 'utf8', timeout: 60000 }).trim().split('\n')) {
      const j = JSON.parse(line);
      out[`${j.frame}B`] = round(j.ns, 1);
    }
    log(`kernel bench: checksum completion ${JSON.stringify(out)} ns/packet`);
    return out;
  } catch (e) {
    log(`kernel bench: checksum completion cost FAILED: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** Runs an iperf3 server (one test, -1) in `ns` and the client in `clientNs`; returns the client's JSON. */
async function iperf(serverNs: string, clientNs: string, dst: string, clientArgs: string[], seconds: number): Promise<any> {
  const server = spawnIn(serverNs, 'iperf3', ['-s', '-1', '-B', dst]);
  let serverOut = '';
  server.stdout!.on('data', (d) => {
    serverOut += d;
  });
  server.stderr!.on('data', (d) => {
    serverOut += d;
  });
  const serverExit = new Promise<void>((r) => server.on('exit', () => r()));
  try {
    await sleep(500);
    const out = sh('iperf3', ['-c', dst, '-t', String(seconds), '-J', ...clientArgs], { ns: clientNs, allowFail: true, timeout: (seconds + 20) * 1000 });
    let j: any;
    try {
      j = JSON.parse(out);
    } catch {
      throw new Error(`iperf3 client gave no JSON: ${out.slice(0, 500)} ${serverOut.slice(-500)}`);
    }
    if (j.error) throw new Error(`iperf3: ${j.error}`);
    return j;
  } finally {
    const t = setTimeout(() => server.kill('SIGKILL'), 5000);
    if (server.exitCode === null) server.kill('SIGTERM');
    await serverExit;
    clearTimeout(t);
  }
}

async function measure(
  west: string,
  east: string,
  dst: string,
  seconds: number,
  log: (m: string) => void,
  what: string,
  portCounts?: () => Promise<{ westRx: number; eastTx: number }>,
): Promise<KernelTrial> {
  const out: KernelTrial = {};
  const got = ping(west, dst, 3, { interval: 0.2 });
  if (got === 0) throw new Error(`${what}: ping west → east ${dst} got no reply`);
  const tcp = await iperf(east, west, dst, [], seconds);
  out.tcpMbps = round(tcp.end.sum_received.bits_per_second / 1e6, 1);
  out.tcpRetransmits = tcp.end.sum_sent.retransmits;
  const before = portCounts ? await portCounts() : undefined;
  const udp = await iperf(east, west, dst, ['-u', '-l', '64', '-b', '0'], seconds);
  if (portCounts && before) {
    const after = await portCounts();
    out.dpfwdUdpWindow = { westRx: after.westRx - before.westRx, eastTx: after.eastTx - before.eastTx };
  }
  const s = udp.end.sum;
  const secs = s.seconds || seconds;
  out.udpSentPps = round(s.packets / secs, 0);
  out.udpReceivedPps = round((s.packets - s.lost_packets) / secs, 0);
  out.udpLossPercent = round(s.lost_percent, 2);
  if (out.dpfwdUdpWindow)
    log(
      `kernel bench ${what}: during UDP dpfwd took ${out.dpfwdUdpWindow.westRx} packets in on west, sent ${out.dpfwdUdpWindow.eastTx} out on east; iperf3 server got ${s.packets - s.lost_packets} of ${s.packets}`,
    );
  log(
    `kernel bench ${what}: TCP ${out.tcpMbps} Mbit/s (${out.tcpRetransmits} retransmits); UDP 64 B sent ${out.udpSentPps} pps, received ${out.udpReceivedPps} pps, loss ${out.udpLossPercent}%`,
  );
  return out;
}

async function viaDpfwd(kind: 'af_packet' | 'af_xdp', tmp: string, seconds: number, log: (m: string) => void): Promise<KernelTrial> {
  const topo = new Topology();
  let fwd: Fwd | undefined;
  try {
    const w = topo.addHost('west', 1);
    const e = topo.addHost('east', 2);
    const port = (h: typeof w, i: number) =>
      kind === 'af_packet' ? topo.port(h, i) : { name: h.name, device: `net_af_xdp${i},iface=${h.routerIf}`, address: `${h.gw}/${h.len}` };
    const dir = path.join(tmp, `dpfwd-kernel-${kind}`);
    fs.mkdirSync(dir, { recursive: true });
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [port(w, 0), port(e, 1)],
        workers: [
          {
            lcore: 1,
            rx: [
              { port: 'west', queue: 0 },
              { port: 'east', queue: 0 },
            ],
          },
        ],
      },
      { dir, timeoutMs: 60000 },
    );
    const f = fwd;
    const r = await measure(w.ns, e.ns, e.ip, seconds, log, `dpfwd ${kind}`, async () => {
      const ps = await f.call('show.ports');
      return { westRx: ps[0].stats64.rx.packets, eastTx: ps[1].stats64.tx.packets };
    });
    const ports = await fwd.call('show.ports');
    r.dpfwdPorts = ports.map((p: any) => ({
      name: p.ifname,
      driver: p.driver,
      rx: p.stats64.rx.packets,
      tx: p.stats64.tx.packets,
      missed: p.stats64.rx.missed,
      txErrors: p.stats64.tx.errors,
    }));
    const t = await totals(fwd);
    r.dpfwdDrops = {};
    for (const [port, reasons] of Object.entries(t.drops)) for (const [reason, n] of Object.entries(reasons)) if (n) r.dpfwdDrops[`${port}.${reason}`] = n;
    log(`kernel bench dpfwd ${kind}: ports ${JSON.stringify(r.dpfwdPorts)} drops ${JSON.stringify(r.dpfwdDrops)}`);
    return r;
  } catch (err) {
    const msg = `${(err as Error).message}${fwd ? `\n${fwd.stderr().slice(-1500)}` : ''}`;
    log(`kernel bench dpfwd ${kind} FAILED: ${msg.split('\n').slice(0, 6).join(' | ')}`);
    return { error: msg.slice(0, 3000) };
  } finally {
    if (fwd) await fwd.stop('SIGTERM');
    topo.destroy();
  }
}

/** dpfwd with net_tap ports: the tap PMD creates the interfaces, which become the hosts' links. */
async function viaTap(tmp: string, seconds: number, log: (m: string) => void): Promise<KernelTrial> {
  const topo = new Topology();
  let fwd: Fwd | undefined;
  try {
    const hosts = [
      { name: 'west', n: 1 },
      { name: 'east', n: 2 },
    ].map((h) => ({ ...h, ns: topo.addNamespace(`t${h.name}`), tap: `kt${topo.id}${h.name[0]}`.slice(0, 15) }));
    const dir = path.join(tmp, 'dpfwd-kernel-tap');
    fs.mkdirSync(dir, { recursive: true });
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: hosts.map((h, i) => ({ name: h.name, device: `net_tap${i},iface=${h.tap}`, address: `10.${h.n}.0.1/24` })),
        workers: [
          {
            lcore: 1,
            rx: [
              { port: 'west', queue: 0 },
              { port: 'east', queue: 0 },
            ],
          },
        ],
      },
      { dir, timeoutMs: 60000 },
    );
    for (const h of hosts) {
      sh('ip', ['link', 'set', h.tap, 'netns', h.ns]);
      sh('ip', ['-n', h.ns, 'addr', 'add', `10.${h.n}.0.2/24`, 'dev', h.tap]);
      sh('ip', ['-n', h.ns, 'link', 'set', h.tap, 'up']);
      sh('ip', ['-n', h.ns, 'route', 'add', 'default', 'via', `10.${h.n}.0.1`]);
      sh('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { ns: h.ns, allowFail: true });
    }
    const f = fwd;
    return await measure(hosts[0].ns, hosts[1].ns, '10.2.0.2', seconds, log, 'dpfwd tap', async () => {
      const ps = await f.call('show.ports');
      return { westRx: ps[0].stats64.rx.packets, eastTx: ps[1].stats64.tx.packets };
    });
  } catch (err) {
    const msg = `${(err as Error).message}${fwd ? `\n${fwd.stderr().slice(-1500)}` : ''}`;
    log(`kernel bench dpfwd tap FAILED: ${msg.split('\n').slice(0, 6).join(' | ')}`);
    return { error: msg.slice(0, 3000) };
  } finally {
    if (fwd) await fwd.stop('SIGTERM');
    topo.destroy();
  }
}

async function viaLinux(seconds: number, log: (m: string) => void): Promise<KernelTrial> {
  const topo = new Topology();
  try {
    const w = topo.addHost('west', 1);
    const e = topo.addHost('east', 2);
    const rtr = topo.addNamespace('rtr');
    for (const h of [w, e]) {
      sh('ip', ['link', 'set', h.routerIf, 'netns', rtr]);
      sh('ip', ['-n', rtr, 'addr', 'add', `${h.gw}/${h.len}`, 'dev', h.routerIf]);
      sh('ip', ['-n', rtr, 'link', 'set', h.routerIf, 'up']);
    }
    sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { ns: rtr });
    sh('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { ns: rtr, allowFail: true });
    return await measure(w.ns, e.ns, e.ip, seconds, log, 'linux ip_forward');
  } catch (err) {
    const msg = (err as Error).message;
    log(`kernel bench linux FAILED: ${msg.split('\n')[0]}`);
    return { error: msg.slice(0, 3000) };
  } finally {
    topo.destroy();
  }
}

export async function kernelBench(tmp: string, seconds: number, log: (m: string) => void): Promise<KernelResult> {
  const routers: Record<string, KernelTrial> = {};
  routers['dpfwd af_packet'] = await viaDpfwd('af_packet', tmp, seconds, log);
  routers['dpfwd af_xdp'] = await viaDpfwd('af_xdp', tmp, seconds, log);
  routers['dpfwd tap'] = await viaTap(tmp, seconds, log);
  routers['linux'] = await viaLinux(seconds, log);
  const csumCompletionNs = csumCost(tmp, log);
  const k = routers.linux;
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? round(a / b, 3) : undefined);
  return {
    seconds,
    routers,
    ratios: {
      dpfwdAfPacketOverKernelTcp: ratio(routers['dpfwd af_packet'].tcpMbps, k.tcpMbps),
      dpfwdAfPacketOverKernelUdpPps: ratio(routers['dpfwd af_packet'].udpReceivedPps, k.udpReceivedPps),
      dpfwdAfXdpOverKernelTcp: ratio(routers['dpfwd af_xdp'].tcpMbps, k.tcpMbps),
      dpfwdAfXdpOverKernelUdpPps: ratio(routers['dpfwd af_xdp'].udpReceivedPps, k.udpReceivedPps),
      dpfwdTapOverKernelTcp: ratio(routers['dpfwd tap'].tcpMbps, k.tcpMbps),
      dpfwdTapOverKernelUdpPps: ratio(routers['dpfwd tap'].udpReceivedPps, k.udpReceivedPps),
    },
    csumCompletionNs,
    notes: [
      'topology: namespace west 10.1.0.2/24 — veth — router — veth — namespace east 10.2.0.2/24, every offload at the kernel default (checksum offload, TSO, GSO on the hosts): dpfwd completes partial checksums on af_packet/af_xdp; on af_packet it attaches a pass-through XDP program to its veth ends (the hosts lose TSO) and turns GRO off there; Linux forwarding keeps GRO/TSO super-frames end to end',
      'tap: dpfwd creates the two tap interfaces and they are moved into the host namespaces (no veth); the tap PMD negotiates no offloads, so the hosts checksum and segment in software',
      'csumCompletionNs: bench/csum/csum_cost.c, dp_l4_csum_complete on one CHECKSUM_PARTIAL TCP segment per frame size, field reset before each call, 2M calls, -O3 like the addon',
      'dpfwd: lcore 0 = Node, lcore 1 = worker polling both ports (busy-polls CPU 1 the whole time); ARP resolved by dpfwd itself after a ping',
      'linux: the same router veth ends moved into a router namespace with the same addresses and net.ipv4.ip_forward=1',
      `iperf3 ${seconds} s west → east, client and server not pinned (they share the 2 CPUs with the router); TCP Mbit/s is the receiver side`,
      "dpfwdUdpWindow: dpfwd's port counters over the UDP run (west RX includes ARP/ICMP noise, a handful), to place the loss before, in or after the router",
      "measured 2026-11-24 on the 2-CPU dev VM: dpfwd forwarded every UDP packet it received (west RX = east TX) and the UDP loss was after it, in the east namespace: dpfwd's worker busy-polls CPU 1, so the iperf3 sender and receiver share CPU 0, while with Linux forwarding both CPUs are free for them",
      "UDP: iperf3 -u -l 64 -b 0 (64-byte payload = 106-byte frames); received pps = (packets − lost) / seconds from the server's report; the iperf3 sender is itself the limit at these rates",
    ],
  };
}
