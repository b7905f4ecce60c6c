import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print } from '../format';
import { DpfwdError } from '../../errors';

type A = ClientArgs & { action?: string; address?: string; words?: string[]; details?: boolean };

/** The actions and iproute2's other names for them. */
const ACTIONS: Record<string, string> = {
  add: 'add',
  replace: 'add',
  del: 'del',
  delete: 'del',
  show: 'show',
  list: 'show',
  ls: 'show',
  lst: 'show',
  flush: 'flush',
};

const USAGE = 'usage: dpfwd neighbor add 10.2.0.9 02:00:00:00:00:09 port east';

/**
 * `neigh add ADDR lladdr MAC dev PORT` (iproute2), or dpfwd's `ADDR MAC port PORT`; `nud
 * permanent` is accepted (every neighbour added by hand is). Returns the socket's fields.
 */
export function neighborWords(address: string, words: readonly string[]): { address: string; mac: string; port: string } {
  let mac: string | undefined;
  let port: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === 'lladdr' || w === 'dev' || w === 'port' || w === 'nud') {
      const v = words[++i];
      if (v === undefined) throw new DpfwdError('EINVAL', `neighbor add: '${w}' needs a value`);
      if (w === 'nud') {
        if (v !== 'permanent') throw new DpfwdError('EINVAL', `neighbor add: nud ${v}: a neighbour added by hand is permanent (learned ones come from ARP)`);
      } else if (w === 'lladdr') mac = v;
      else port = v;
    } else if (mac === undefined && w.includes(':')) mac = w;
    else throw new DpfwdError('EINVAL', `neighbor add: unexpected '${w}'; ${USAGE} (or ... lladdr MAC dev PORT)`);
  }
  if (mac === undefined || port === undefined) throw new DpfwdError('EINVAL', USAGE);
  return { address, mac, port };
}

export const neighborCommand: CommandModule<object, A> = {
  command: 'neighbor [action] [address] [words..]',
  aliases: ['neigh', 'neighbour', 'n'],
  describe:
    'neighbours: add ADDR lladdr MAC dev PORT (or ADDR MAC port PORT) | del ADDR | show [-d] | flush dev PORT|all [nud permanent|all] (learned entries only unless nud says)',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('action', { choices: Object.keys(ACTIONS), default: 'show' })
      .positional('address', { type: 'string' })
      .positional('words', { type: 'string', array: true })
      .option('details', {
        alias: 'd',
        type: 'boolean',
        default: false,
        describe: "show: probes sent and ms until the entry's timer fires",
      }) as unknown as Argv<A>,
  handler: async (a) => {
    const words = (a.words ?? []).map(String);
    const action = ACTIONS[a.action ?? 'show'];
    if (action === 'show') {
      if (a.address !== undefined) throw new DpfwdError('EINVAL', `neighbor show takes no arguments; unexpected '${a.address}'`);
      const rows = (await request(a.socket, 'neighbor.show', a.details ? { details: true } : {})) as Record<string, unknown>[];
      const extra = (r: Record<string, unknown>) =>
        a.details ? ` probes ${r.probes} timer ${r.timer_ms === null ? '-' : `${r.timer_ms}ms`}${r.gateway ? ' gateway' : ''}` : '';
      print(a.json, rows, () => rows.map((r) => `${r.dst} port ${r.dev} lladdr ${r.lladdr ?? '-'} ${(r.state as string[]).join(',')}${extra(r)}\n`).join(''));
      return;
    }
    if (action === 'flush') {
      // ip neigh flush dev PORT | all [nud permanent|all]
      const sel = [...(a.address !== undefined ? [a.address] : []), ...words];
      const args: Record<string, unknown> = {};
      for (let i = 0; i < sel.length; i++) {
        const w = sel[i];
        if (w === 'all') args.all = true;
        else if ((w === 'dev' || w === 'port' || w === 'nud') && sel[i + 1] !== undefined) args[w === 'port' ? 'dev' : w] = sel[++i];
        else throw new DpfwdError('EINVAL', `neighbor flush: unexpected '${w}'; usage: dpfwd neighbor flush dev PORT|all [nud permanent|all]`);
      }
      const r = (await request(a.socket, 'neighbor.flush', args)) as { flushed: number };
      print(a.json, r, () => `flushed ${r.flushed} neighbour${r.flushed === 1 ? '' : 's'}\n`);
      return;
    }
    if (!a.address) throw new DpfwdError('EINVAL', `neighbor ${a.action} needs an address`);
    if (action === 'del') {
      // `neigh del ADDR dev PORT`: the port is accepted (iproute2 wants it); the address names the entry
      if (words.length && !(words.length === 2 && (words[0] === 'dev' || words[0] === 'port'))) {
        throw new DpfwdError('EINVAL', `neighbor del takes an address (and dev PORT); unexpected '${words[0]}'`);
      }
      print(a.json, await request(a.socket, 'neighbor.del', { address: a.address }), () => '');
      return;
    }
    print(a.json, await request(a.socket, 'neighbor.add', neighborWords(a.address, words)), () => '');
  },
};
