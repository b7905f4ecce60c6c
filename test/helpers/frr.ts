/**
 * FRR daemons (Debian's frr package: zebra, bgpd, ospfd) run by a test inside one network
 * namespace, each with its own config file, pid file, zserv socket and vty socket directory
 * under a temporary directory: nothing of /etc/frr or /run/frr is used or touched, so tests and
 * other users of the machine cannot collide. Every daemon is a child of the test, ended by PID.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const FRR_DIR = '/usr/lib/frr';
export type FrrDaemon = 'zebra' | 'bgpd' | 'ospfd';

/** Throws unless Debian's frr package is installed (scripts/setup.sh installs it). */
export function assertFrrInstalled(): void {
  const missing = ['zebra', 'bgpd', 'ospfd'].filter((d) => !fs.existsSync(path.join(FRR_DIR, d)));
  if (missing.length || spawnSync('vtysh', ['--help']).error) {
    throw new Error(`FRR is not installed (${missing.join(', ') || 'vtysh'} missing): apt-get install frr, or run scripts/setup.sh`);
  }
}

export class Frr {
  private readonly procs = new Map<FrrDaemon, ChildProcess>();
  private readonly logs = new Map<FrrDaemon, string>();
  readonly zserv: string;

  /** `dir`: a fresh directory of the test's; `ns`: the namespace the daemons run in. */
  constructor(
    readonly ns: string,
    readonly dir: string,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    // the daemons drop to the frr user (as root they refuse: root is not in the frrvty group),
    // so their directory is theirs and its parent must let them in
    fs.chmodSync(path.dirname(dir), 0o755);
    const uid = Number(spawnSync('id', ['-u', 'frr'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'frr'], { encoding: 'utf8' }).stdout.trim());
    if (Number.isInteger(uid) && Number.isInteger(gid)) fs.chownSync(dir, uid, gid);
    this.zserv = path.join(dir, 'zserv.api');
  }

  /** Starts a daemon with `config` (FRR's per-daemon config syntax) in the foreground, logging to stdout. */
  start(daemon: FrrDaemon, config: string): ChildProcess {
    this.stop(daemon);
    const conf = path.join(this.dir, `${daemon}.conf`);
    fs.writeFileSync(conf, config);
    const args = [
      'netns',
      'exec',
      this.ns,
      path.join(FRR_DIR, daemon),
      '-f',
      conf,
      '-i',
      path.join(this.dir, `${daemon}.pid`),
      '-z',
      this.zserv,
      '--vty_socket',
      this.dir,
      '-u',
      'frr',
      '-g',
      'frr',
      '-P',
      '0',
      '--log',
      'stdout',
      '--log-level',
      'info',
    ];
    const p = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.logs.set(daemon, '');
    const keep = (d: Buffer) => {
      const s = (this.logs.get(daemon) ?? '') + d.toString();
      this.logs.set(daemon, s.length > 200000 ? s.slice(-100000) : s);
    };
    p.stdout!.on('data', keep);
    p.stderr!.on('data', keep);
    this.procs.set(daemon, p);
    return p;
  }

  log(daemon: FrrDaemon): string {
    return this.logs.get(daemon) ?? '';
  }

  /** vtysh against this instance's daemons; returns stdout. */
  vtysh(commands: string[], timeoutMs = 10000): string {
    const r = spawnSync('vtysh', ['--vty_socket', this.dir, ...commands.flatMap((c) => ['-c', c])], { encoding: 'utf8', timeout: timeoutMs });
    if (r.status !== 0) throw new Error(`vtysh ${commands.join(' ; ')}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** `show … json` parsed. */
  json(command: string): any {
    return JSON.parse(this.vtysh([command]));
  }

  /** Ends one daemon (SIGTERM, then SIGKILL after 5 s) and waits for it. */
  async stopAsync(daemon: FrrDaemon): Promise<void> {
    const p = this.procs.get(daemon);
    if (!p) return;
    this.procs.delete(daemon);
    if (p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }

  stop(daemon: FrrDaemon): void {
    const p = this.procs.get(daemon);
    if (!p) return;
    this.procs.delete(daemon);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  async stopAll(): Promise<void> {
    for (const d of ['bgpd', 'ospfd', 'zebra'] as FrrDaemon[]) await this.stopAsync(d);
  }
}
