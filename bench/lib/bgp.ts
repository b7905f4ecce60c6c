/**
 * A full table through BGP (issue 23 item 3): a BIRD speaker in its own namespace announces N
 * prefixes (makePrefixes' Internet-like mix) over eBGP to BIRD in dpfwd's Linux namespace
 * (linux.netns), which puts them into the kernel's main table; dpfwd's route sync follows the
 * kernel into its FIB. Measured from the session's Established: the time until the kernel holds
 * all of them (BIRD's kernel protocol: routes exported) and until dpfwd's FIB does (sync show),
 * then the same for a withdrawal of all of them (the speaker's session disabled). The goal: dpfwd
 * full within 1.1 x the kernel's time. Every wait is bounded; BIRD runs as a child, ended by PID.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { startForwarder, Running } from '../../test/helpers/forwarder';
import { makePrefixes } from './scale';
import { sleep } from './proc';

export interface BgpSize {
  routes: number;
  /** the speaker's BIRD start until its session is Established (config parse included) */
  establishSeconds: number | null;
  /** from Established until the kernel holds every route / dpfwd's FIB does */
  kernelFullSeconds: number | null;
  fibFullSeconds: number | null;
  /** fibFull / kernelFull (goal <= 1.1) */
  ratio: number | null;
  /** from the withdrawal until the kernel / dpfwd's FIB hold none */
  kernelEmptySeconds: number | null;
  fibEmptySeconds: number | null;
  /** CPU seconds of dpfwd's main thread while the table came in */
  fillMainCpuSeconds: number;
  error?: string;
}

const ntoa = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

function mainCpu(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** birdc against one daemon's control socket; '' when it does not answer. */
function birdc(sock: string, cmd: string): string {
  const r = spawnSync('birdc', ['-s', sock, ...cmd.split(' ')], { encoding: 'utf8', timeout: 10000 });
  return r.stdout ?? '';
}

/** Routes BIRD's kernel protocol has given the kernel (its "exported" count). */
function kernelExported(sock: string): number {
  const m = /Routes:\s+\d+ imported, (?:\d+ filtered, )?(\d+) exported/.exec(birdc(sock, 'show protocols all k4'));
  return m ? Number(m[1]) : -1;
}

async function until(what: () => Promise<boolean> | boolean, t0: number, timeoutMs: number, everyMs = 200): Promise<number | null> {
  while (Date.now() - t0 < timeoutMs) {
    if (await what()) return (Date.now() - t0) / 1000;
    await sleep(everyMs);
  }
  return null;
}

export async function bgpFullTable(tmp: string, sizes: number[], log: (m: string) => void, timeoutMs = 900000): Promise<BgpSize[]> {
  if (!fs.existsSync('/usr/sbin/bird')) throw new Error('BIRD is not installed (scripts/setup.sh installs bird2)');
  const ns = `dpbbgp${process.pid}`;
  const spk = `dpbspk${process.pid}`;
  const dir = path.join(tmp, 'bgp');
  fs.mkdirSync(dir, { recursive: true });
  const out: BgpSize[] = [];
  const daemons: ChildProcess[] = [];
  const bird = (netns: string, name: string, conf: string) => {
    fs.writeFileSync(path.join(dir, `${name}.conf`), conf);
    const sock = path.join(dir, `${name}.ctl`);
    const p = spawn('ip', ['netns', 'exec', netns, 'bird', '-f', '-c', path.join(dir, `${name}.conf`), '-s', sock, '-P', path.join(dir, `${name}.pid`)], {
      stdio: 'ignore',
    });
    daemons.push(p);
    return { p, sock };
  };
  let fwd: Running | undefined;
  for (const n of ['ns', 'spk']) spawnSync('ip', ['netns', 'del', n === 'ns' ? ns : spk]);
  try {
    ip(['netns', 'add', ns]);
    ip(['netns', 'add', spk]);
    // dpfwd's port east and its mirror-side name in the namespace; the speaker on the far end
    ip(['-n', ns, 'link', 'add', 'east', 'type', 'veth', 'peer', 'name', 'spk0', 'netns', spk]);
    ip(['-n', ns, 'addr', 'add', '10.9.0.1/24', 'dev', 'east']);
    ip(['-n', spk, 'addr', 'add', '10.9.0.2/24', 'dev', 'spk0']);
    ip(['-n', ns, 'link', 'set', 'east', 'up']);
    ip(['-n', spk, 'link', 'set', 'spk0', 'up']);
    ip(['-n', spk, 'link', 'set', 'lo', 'up']);
    const max = Math.max(...sizes);
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null1,no-rx=1', address: '10.9.0.1/24' },
        ],
        fib: { maxRoutes: Math.max(1048576, 2 ** Math.ceil(Math.log2(max + 16))), tbl8Groups: 65536 },
        neighbors: [{ address: '10.9.0.2', mac: '02:00:00:00:09:02', port: 'east' }],
        linux: { netns: ns, sync: { enabled: true, socketBuffer: 64 * 1048576, maxRoutes: 2 * max + 1024 } },
      },
      { dir, timeoutMs: 60000 },
    );
    const mine = bird(
      ns,
      'mine',
      `router id 10.9.0.1;
protocol device {}
protocol kernel k4 { ipv4 { export all; import none; }; }
protocol bgp up { local 10.9.0.1 as 65001; neighbor 10.9.0.2 as 65002; hold time 240; ipv4 { import all; export none; }; }
`,
    );
    for (const n of sizes) {
      const r: BgpSize = {
        routes: n,
        establishSeconds: null,
        kernelFullSeconds: null,
        fibFullSeconds: null,
        ratio: null,
        kernelEmptySeconds: null,
        fibEmptySeconds: null,
        fillMainCpuSeconds: 0,
      };
      let speaker: ReturnType<typeof bird> | undefined;
      try {
        const p = makePrefixes(n);
        const lines: string[] = [];
        for (let i = 0; i < n; i++) lines.push(`  route ${ntoa(p.addrs[i])}/${p.lens[i]} blackhole;`);
        const ts = Date.now();
        speaker = bird(
          spk,
          `speaker${n}`,
          `router id 10.9.0.2;
protocol device {}
protocol static stat { ipv4; \n${lines.join('\n')}\n}
protocol bgp feed { local 10.9.0.2 as 65002; neighbor 10.9.0.1 as 65001; hold time 240; ipv4 { import none; export all; next hop self; }; }
`,
        );
        const sp = speaker;
        const est = await until(() => /up\s+BGP\s+\S+\s+up\s+\S+\s+Established/.test(birdc(mine.sock, 'show protocols up')), ts, timeoutMs, 100);
        if (est === null) throw new Error(`the session did not come up: ${birdc(mine.sock, 'show protocols all up').slice(0, 800)}`);
        r.establishSeconds = +est.toFixed(2);
        const t0 = Date.now();
        const c0 = mainCpu(fwd.proc.pid!);
        const installed = async () => (await fwd!.call('sync.show')).installed as number;
        const [k, f] = await Promise.all([
          until(() => kernelExported(mine.sock) >= n, t0, timeoutMs, 250),
          until(async () => (await installed()) >= n + 0, t0, timeoutMs, 100),
        ]);
        r.fillMainCpuSeconds = +(mainCpu(fwd.proc.pid!) - c0).toFixed(2);
        r.kernelFullSeconds = k === null ? null : +k.toFixed(2);
        r.fibFullSeconds = f === null ? null : +f.toFixed(2);
        if (k !== null && f !== null) r.ratio = +(f / k).toFixed(2);
        // the withdrawal of all of them: the speaker's session goes down
        const t1 = Date.now();
        birdc(sp.sock, 'disable feed');
        const [ke, fe] = await Promise.all([
          until(() => kernelExported(mine.sock) === 0, t1, timeoutMs, 250),
          until(async () => (await installed()) === 0, t1, timeoutMs, 100),
        ]);
        r.kernelEmptySeconds = ke === null ? null : +ke.toFixed(2);
        r.fibEmptySeconds = fe === null ? null : +fe.toFixed(2);
        if (k === null || f === null || ke === null || fe === null)
          r.error = `timed out after ${timeoutMs / 1000} s: ${JSON.stringify(await fwd.call('sync.show'))}`;
      } catch (e) {
        r.error = (e as Error).message;
      } finally {
        if (speaker) {
          speaker.p.kill('SIGTERM');
          await new Promise((res) => (speaker!.p.exitCode !== null ? res(null) : speaker!.p.once('exit', res)));
        }
      }
      log(
        `bgp ${n} routes: established after ${r.establishSeconds} s; kernel full ${r.kernelFullSeconds} s, dpfwd's FIB full ${r.fibFullSeconds} s (x${r.ratio}); withdrawn: kernel ${r.kernelEmptySeconds} s, FIB ${r.fibEmptySeconds} s; dpfwd main thread ${r.fillMainCpuSeconds} CPU s${r.error ? `; ${r.error}` : ''}`,
      );
      out.push(r);
    }
  } finally {
    for (const p of daemons) if (p.exitCode === null) p.kill('SIGTERM');
    if (fwd) await fwd.stop();
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['netns', 'del', spk]);
  }
  return out;
}
