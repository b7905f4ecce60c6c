import type { Argv, CommandModule } from 'yargs';
import { Session } from '../../api/client';
import { DpfwdError } from '../../errors';
import type { TracedPacket } from '../../forwarder/capture';
import { clientOptions, ClientArgs } from '../client-options';

type A = ClientArgs & { filter?: string[]; count: number; timeout: number };

/** A traced packet as `vppctl show trace` prints one: the steps it went through, in order. */
export function traceText(packets: TracedPacket[]): string {
  if (packets.length === 0) return 'no packets traced\n';
  return packets
    .map((p, i) => {
      const sec = Number(p.time.split('.')[0]);
      const t = `${new Date(sec * 1000).toISOString().slice(11, 19)}.${p.time.split('.')[1]}`;
      const f = p.frame;
      const out = [
        `Packet ${i + 1}`,
        '',
        `${t}: dpfwd-input`,
        `  port ${p.port} queue ${p.queue} worker ${p.worker}${p.iface !== p.port ? ` interface ${p.iface}` : ''} ${p.len} bytes`,
        `  ethernet ${f.src} -> ${f.dst}${f.vlan !== undefined ? ` vlan ${f.vlan}` : ''} type ${f.type}`,
      ];
      if (f.ip4)
        out.push(
          `  ipv4 ${f.ip4.src} -> ${f.ip4.dst} proto ${f.ip4.proto} ttl ${f.ip4.ttl} length ${f.ip4.length} ihl ${f.ip4.ihl} checksum ${f.ip4.checksum}`,
        );
      out.push(
        `${t}: ip4-fast-test`,
        `  ${p.fastPath === 'pass' ? 'pass (every RFC 1812 check in one test; the lookup decides)' : 'fail (the exact checks below decide)'}`,
      );
      out.push(`${t}: ip4-checks`, `  ${p.checks}`);
      if (p.lookup) {
        const l = p.lookup;
        out.push(
          `${t}: ip4-lookup`,
          l.found ? `  fib match ${l.prefix ?? '?'} next-hop ${l.nexthop} ${l.action}${l.iface ? ` interface ${l.iface} lladdr ${l.mac}` : ''}` : '  no route',
        );
      }
      if (p.punt) out.push(`${t}: dpfwd-punt`, `  ${p.punt} ${p.puntTaken ? '(to the control plane)' : '(refused: rate limit or ring full)'}`);
      if (p.result === 'forwarded') out.push(`${t}: ip4-rewrite`, `  ttl - 1, ethernet rewritten, tx port ${p.egress ?? '?'}`);
      else if (p.result === 'dropped') out.push(`${t}: error-drop`, `  ${p.drop}`);
      else if (p.result === 'punted') out.push(`${t}: punted`);
      return out.join('\n') + '\n';
    })
    .join('\n');
}

export const traceCommand: CommandModule<object, A> = {
  command: 'trace [filter..]',
  describe: 'trace the next packets (optionally matching a tcpdump filter): checks, lookup, action, drop reason, as vppctl show trace',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('filter', { type: 'string', array: true, describe: 'tcpdump filter expression, e.g. icmp or host 10.2.0.2' })
      .option('count', { alias: 'n', type: 'number', default: 10, describe: 'packets to trace' })
      .option('timeout', { type: 'number', default: 10, describe: 'seconds to wait for them' }) as unknown as Argv<A>,
  handler: async (a) => {
    if (!Number.isInteger(a.count) || a.count < 1) throw new DpfwdError('EINVAL', `-n ${a.count}: give a number of packets (1 or more)`);
    if (!(a.timeout > 0)) throw new DpfwdError('EINVAL', `--timeout ${a.timeout}: give seconds (more than 0)`);
    const filter = (a.filter ?? []).map(String).join(' ').trim() || undefined;
    const s = await Session.open(a.socket);
    let interrupted = false;
    const onSig = () => {
      interrupted = true;
    };
    process.on('SIGINT', onSig);
    let packets: TracedPacket[] = [];
    try {
      const { id } = (await s.request('trace.start', { count: a.count, filter })) as { id: number };
      const until = Date.now() + a.timeout * 1000;
      while (!interrupted && Date.now() < until) {
        const r = (await s.request('trace.show', { id })) as { done: boolean };
        if (r.done) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      packets = ((await s.request('trace.stop', { id })) as { packets: TracedPacket[] }).packets;
    } finally {
      process.removeListener('SIGINT', onSig);
      s.close();
    }
    process.stdout.write(a.json ? JSON.stringify(packets) + '\n' : traceText(packets));
  },
};
