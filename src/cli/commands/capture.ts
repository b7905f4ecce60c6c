import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { Session } from '../../api/client';
import { DpfwdError } from '../../errors';
import { CAPTURE_POINTS, CapturePoint, CaptureSummary, describeFrame } from '../../forwarder/capture';
import { readPcapng } from '../../packet/pcapng';
import { clientOptions, ClientArgs } from '../client-options';

type A = ClientArgs & {
  filter?: string[];
  write?: string;
  interface?: string[];
  count?: number;
  snaplen?: number;
  duration?: number;
  points?: string;
  reason?: string;
  poll: number;
};

/** Cross-option rules (pure, tested): the capture request the options make. */
export function captureRequest(a: Pick<A, 'filter' | 'interface' | 'count' | 'snaplen' | 'duration' | 'points' | 'reason'>) {
  const points = a.points ? a.points.split(',').map((p) => p.trim()) : undefined;
  for (const p of points ?? []) {
    if (!CAPTURE_POINTS.includes(p as CapturePoint)) throw new DpfwdError('EINVAL', `--points: ${p} is not one of ${CAPTURE_POINTS.join(', ')}`);
  }
  if (a.reason && points && !(points.length === 1 && points[0] === 'drop')) {
    throw new DpfwdError('EINVAL', '--reason captures drops only; leave out --points or give --points drop');
  }
  if (a.count !== undefined && (!Number.isInteger(a.count) || a.count < 1))
    throw new DpfwdError('EINVAL', `-c ${a.count}: give a number of packets (1 or more)`);
  if (a.duration !== undefined && !(a.duration > 0)) throw new DpfwdError('EINVAL', `--duration ${a.duration}: give seconds (more than 0)`);
  const filter = (a.filter ?? []).map(String).join(' ').trim();
  return {
    ports: a.interface?.length ? a.interface.flatMap((i) => String(i).split(',')) : undefined,
    points: points as CapturePoint[] | undefined,
    reason: a.reason,
    filter: filter || undefined,
    snaplen: a.snaplen,
    count: a.count,
    durationMs: a.duration !== undefined ? Math.round(a.duration * 1000) : undefined,
  };
}

function summaryText(s: CaptureSummary): string {
  const w = s.workers.map((x) => `worker ${x.worker}: captured ${x.captured}, capture_dropped ${x.captureDropped}`).join('; ');
  return `capture ${s.id} ended (${s.ended}): ${s.packets} packets written; ${w}\n`;
}

/** -w FILE's failure, naming the cause and what to do instead (no stack trace). */
function outputError(file: string, e: unknown): DpfwdError {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? 'EIO';
  const why: Record<string, string> = {
    EISDIR: 'it is a directory: give a file name inside it',
    ENOENT: `directory ${path.dirname(file)} does not exist`,
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'file too large',
    EIO: 'the file refuses writes (EIO: a kernel file such as /proc/…?)',
  };
  return new DpfwdError(
    code,
    `capture: cannot write ${file}: ${why[code] ?? err.message}; choose a file you may write on a file system with room, or -w - to pipe into tcpdump -r -`,
  );
}

/** Opens -w FILE for the capture (created 0644 or truncated); a directory or an unwritable path is refused at once. */
function openOutput(file: string): number {
  try {
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    return fs.openSync(file, 'w', 0o644);
  } catch (e) {
    throw outputError(file, e);
  }
}

/** tcpdump -n's one-line decode of each packet of a pcapng stream (its timestamps cut), or undefined when tcpdump is missing or does not answer one line per packet. */
function tcpdumpDecode(header: Buffer, data: Buffer, n: number): string[] | undefined {
  if (tcpdumpMissing) return undefined;
  const r = spawnSync('tcpdump', ['-n', '-r', '-'], { input: Buffer.concat([header, data]), encoding: 'utf8', timeout: 10000, maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    tcpdumpMissing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    return undefined;
  }
  const out = r.stdout.split('\n').filter(Boolean);
  return out.length === n ? out.map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d+ /, '')) : undefined;
}
let tcpdumpMissing = false;

/**
 * One line per packet when no -w is given: time (ns), the capture point (`west-rx`), the packet as
 * `tcpdump -n` decodes it (when tcpdump is installed; else addresses, protocol and TTL), and a
 * dropped packet's reason.
 */
function lines(header: Buffer, data: Buffer, interfaces: string[]): string {
  const r = readPcapng(Buffer.concat([header, data]));
  const decoded = r.packets.length ? tcpdumpDecode(header, data, r.packets.length) : undefined;
  return r.packets
    .map((p, i) => {
      const f = describeFrame(p.data);
      const t = new Date(p.ts.sec * 1000).toISOString().slice(11, 19) + '.' + String(p.ts.nsec).padStart(9, '0');
      const what = decoded
        ? decoded[i]
        : f.ip4
          ? `${f.ip4.src} > ${f.ip4.dst} proto ${f.ip4.proto} ttl ${f.ip4.ttl} length ${p.origLen}`
          : `${f.src} > ${f.dst} ${f.type} length ${p.origLen}`;
      return `${t} ${interfaces[p.iface] ?? p.iface} ${what}${p.comment ? ` drop ${p.comment}` : ''}\n`;
    })
    .join('');
}

export const captureCommand: CommandModule<object, A> = {
  command: 'capture [filter..]',
  describe: "capture packets at RX, TX and drop points to pcapng (drop reason in each dropped packet's comment): -w FILE, -w - for a pipe",
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('filter', { type: 'string', array: true, describe: 'tcpdump filter expression (pcap-filter(7)), e.g. udp and host 10.2.0.2' })
      .option('write', { alias: 'w', type: 'string', describe: 'pcapng file to write, - for stdout (tcpdump -r -, Wireshark -k -i -)' })
      .option('interface', { alias: 'i', type: 'string', array: true, describe: 'port(s) to capture on (default: all)' })
      .option('count', { alias: 'c', type: 'number', describe: 'stop after this many packets' })
      .option('snaplen', { alias: 's', type: 'number', describe: 'bytes kept of each packet (default capture.maxSnaplen)' })
      .option('duration', { type: 'number', describe: 'stop after this many seconds' })
      .option('points', { type: 'string', describe: 'where to capture: rx, tx, drop or a list (default all three: a forwarded packet shows at rx and at tx)' })
      .option('reason', { type: 'string', describe: 'only drops of this reason (see dpfwd show drops --all)' })
      .option('poll', { type: 'number', default: 50, describe: 'ms between reads while no packets come' }) as unknown as Argv<A>,
  handler: async (a) => {
    const req = captureRequest(a);
    const toStdout = a.write === '-';
    const fd = a.write === undefined ? -1 : toStdout ? 1 : openOutput(a.write);
    const s = await Session.open(a.socket);
    let interfaces: string[] = [];
    let header = Buffer.alloc(0);
    let interrupted = false;
    let summary: CaptureSummary | undefined;
    const write = async (b: Buffer) => {
      if (b.length === 0) return;
      if (toStdout) {
        // one write per read: a live reader (tcpdump -r -) gets every drain at once
        if (!process.stdout.write(b)) await new Promise((res) => process.stdout.once('drain', res));
      } else if (fd >= 0) {
        try {
          fs.writeSync(fd, b);
        } catch (e) {
          throw outputError(a.write!, e);
        }
      } else {
        process.stdout.write(lines(header, b, interfaces));
      }
    };
    // Ctrl-C (and SIGTERM): the loop stops the capture at its next turn, writes the rest, prints the summary
    const onSig = () => {
      interrupted = true;
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    try {
      const st = (await s.request('capture.start', req)) as { id: number; interfaces: string[]; header: string };
      const id = st.id;
      interfaces = st.interfaces;
      header = Buffer.from(st.header, 'base64');
      if (fd >= 0) await write(Buffer.from(st.header, 'base64'));
      process.stderr.write(
        `dpfwd: capturing on ${interfaces.join(' ')}${req.filter ? ` filter "${req.filter}"` : ''}${a.write && !toStdout ? ` to ${a.write}` : ''} (Ctrl-C stops)\n`,
      );
      for (;;) {
        const op = interrupted ? 'capture.stop' : 'capture.read';
        const r = (await s.request(op, { id })) as { data: string; packets: number; done: boolean; summary?: CaptureSummary };
        await write(Buffer.from(r.data, 'base64'));
        if (r.done) {
          summary = r.summary;
          break;
        }
        if (r.packets === 0) {
          for (let t = 0; t < a.poll && !interrupted; t += 10) await new Promise((res) => setTimeout(res, 10));
        }
      }
    } finally {
      process.removeListener('SIGINT', onSig);
      process.removeListener('SIGTERM', onSig);
      s.close();
      if (fd > 2) fs.closeSync(fd);
    }
    if (summary) process.stderr.write(a.json ? JSON.stringify(summary) + '\n' : `dpfwd: ${summaryText(summary)}`);
  },
};
