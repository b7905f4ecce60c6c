import * as fs from 'fs';
import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { JsonArrayWriter, print, write } from '../format';
import { DpfwdError } from '../../errors';
import { routeFields } from '../../routing/route';
import { parseRouteWords } from '../../routing/routes';

type A = ClientArgs & { action?: string; prefix?: string; words?: string[]; limit?: number };

/** The actions and iproute2's other names for them. */
const ACTIONS: Record<string, string> = {
  add: 'add',
  replace: 'replace',
  del: 'del',
  delete: 'del',
  show: 'show',
  list: 'show',
  ls: 'show',
  lst: 'show',
  get: 'get',
  flush: 'flush',
  load: 'load',
};

/** Rows a page of `route show` asks for. */
const PAGE = 10000;
/** Rows `route show` prints as text unless --limit says otherwise. */
export const SHOW_LIMIT = 10000;

type Row = Record<string, any>;

/** One route as a line, iproute2's order (`port` is dpfwd's word for dev). */
export function routeLine(r: Row): string {
  return `${r.type === 'unicast' ? '' : `${r.type} `}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` port ${r.dev}` : ''} proto ${r.protocol}${'lladdr' in r ? (r.lladdr ? ` lladdr ${r.lladdr}` : ' (unresolved)') : ''}`;
}

/**
 * `route show|flush` selectors as socket args: [PREFIX | default] [match ADDR] [root PREFIX]
 * [exact PREFIX] [dev|port NAME] [via ADDR] [proto ORIGIN]; flush also takes `all`.
 */
export function routeSelector(words: readonly string[], action: string): Record<string, unknown> {
  const sel: Record<string, unknown> = {};
  const keys: Record<string, string> = {
    match: 'match',
    root: 'root',
    exact: 'prefix',
    to: 'prefix',
    dev: 'dev',
    port: 'dev',
    via: 'via',
    proto: 'proto',
    protocol: 'proto',
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const key = keys[w];
    if (key) {
      if (i + 1 >= words.length) throw new DpfwdError('EINVAL', `route ${action}: '${w}' needs a value`);
      if (sel[key] !== undefined) throw new DpfwdError('EINVAL', `route ${action}: ${w} given twice`);
      sel[key] = words[++i];
    } else if (w === 'all' && action === 'flush') sel.all = true;
    else if (sel.prefix === undefined && (w === 'default' || /^[0-9.]+(\/[0-9]+)?$/.test(w))) sel.prefix = w;
    else {
      throw new DpfwdError(
        'EINVAL',
        `route ${action}: unexpected '${w}'; selectors are PREFIX, match ADDR, root PREFIX, dev PORT, via ADDR, proto ORIGIN${action === 'flush' ? ', all' : ''}`,
      );
    }
  }
  return sel;
}

/**
 * Every route the selectors pick, page by page (`after`: the last row read), to `out` as it
 * arrives; at most `limit` rows. Returns how many were written.
 */
async function showPages(socket: string, sel: Record<string, unknown>, limit: number, out: (rows: Row[]) => Promise<void>): Promise<number> {
  let n = 0;
  let after: string | undefined;
  while (n < limit) {
    const want = Math.min(PAGE, limit - n);
    const rows = (await request(socket, 'route.show', { ...sel, limit: want, ...(after ? { after } : {}) }, 60000)) as Row[];
    if (rows.length) await out(rows);
    n += rows.length;
    if (rows.length < want) break;
    after = rows[rows.length - 1].dst;
  }
  return n;
}

export const routeCommand: CommandModule<object, A> = {
  command: 'route [action] [prefix] [words..]',
  describe:
    "routes, in iproute2's words: add|replace PREFIX|default via ADDR [dev NAME] | … dev NAME | … blackhole | … nexthop via ADDR [dev NAME] [weight W] nexthop …; del PREFIX; show|list [selectors] [--limit N]; get ADDR [from ADDR ipproto P sport N dport N: the path a multipath route picks]; flush selectors|all; load FILE",
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('action', { choices: Object.keys(ACTIONS), default: 'show', describe: 'what to do (show when omitted)' })
      .positional('prefix', { type: 'string', describe: 'IPv4 prefix, default or an address (the file for load)' })
      .positional('words', { type: 'string', array: true })
      .option('limit', {
        type: 'number',
        describe: `show: print at most N routes (text: ${SHOW_LIMIT} unless given, then "N more routes not shown"; -j: all unless given; 0: all)`,
      }) as unknown as Argv<A>,
  handler: async (a) => {
    const words = (a.words ?? []).map(String);
    const action = ACTIONS[a.action ?? 'show'];
    switch (action) {
      case 'add':
      case 'replace': {
        if (!a.prefix) throw new DpfwdError('EINVAL', `route ${a.action} needs a prefix, e.g. dpfwd route ${a.action} 10.20.0.0/16 via 10.2.0.2`);
        // `route add PREFIX [via ADDR] [port NAME] [blackhole]`: the one route parser, CLI-worded
        // into the one Route, sent in the socket's words (routeFields: the one writer of them)
        const fields = routeFields(parseRouteWords([a.prefix, ...words]));
        // add and replace both add or change (scripts and tests rely on add replacing a static route)
        const r = await request(a.socket, 'route.add', fields);
        print(a.json, r, () => '');
        break;
      }
      case 'del': {
        if (!a.prefix) throw new DpfwdError('EINVAL', 'route del needs a prefix, e.g. dpfwd route del 10.20.0.0/16');
        if (words.length) throw new DpfwdError('EINVAL', `route del takes only a prefix; unexpected '${words[0]}'`);
        const r = await request(a.socket, 'route.del', { prefix: a.prefix });
        print(a.json, r, () => '');
        break;
      }
      case 'show': {
        const sel = routeSelector(a.prefix !== undefined ? [a.prefix, ...words] : words, 'show');
        if (a.limit !== undefined && !(Number.isInteger(a.limit) && a.limit >= 0))
          throw new DpfwdError('EINVAL', `--limit takes a number of routes (0: all), got ${a.limit}`);
        const limit = a.limit === 0 ? Infinity : (a.limit ?? (a.json ? Infinity : SHOW_LIMIT));
        if (a.json) {
          const w = new JsonArrayWriter();
          await showPages(a.socket, sel, limit, (rows) => w.rows(rows));
          await w.end();
          break;
        }
        const shown = await showPages(a.socket, sel, limit, (rows) => write(rows.map((r) => `${routeLine(r)}\n${nexthopLines(r)}`).join('')));
        if (shown === limit) {
          const total = (await request(a.socket, 'route.count', sel)).routes;
          if (total > shown)
            await write(`… ${total - shown} more routes not shown (--limit N, --limit 0 for all, or a selector: dpfwd route show root 10.0.0.0/8)\n`);
        }
        break;
      }
      case 'get': {
        if (!a.prefix) throw new DpfwdError('EINVAL', 'route get needs an address, e.g. dpfwd route get 10.20.1.1');
        // iproute2's flow keys: the packet a multipath route hashes (from S, ipproto P, sport N, dport N)
        const flow: Record<string, string | number> = {};
        for (let i = 0; i < words.length; i += 2) {
          const k = words[i];
          const v = words[i + 1];
          if (!['from', 'ipproto', 'sport', 'dport'].includes(k))
            throw new DpfwdError(
              'EINVAL',
              `route get: unexpected '${k}'; usage: dpfwd route get ADDR [from ADDR] [ipproto tcp|udp|icmp|N] [sport N] [dport N]`,
            );
          if (v === undefined) throw new DpfwdError('EINVAL', `route get: ${k} needs a value`);
          flow[k] = k === 'sport' || k === 'dport' || (k === 'ipproto' && /^\d+$/.test(v)) ? Number(v) : v;
        }
        const r = (await request(a.socket, 'route.get', { address: a.prefix, ...flow })) as Row & {
          path?: { gateway?: string; dev?: string; nexthop: number; lladdr: string | null; state: string[] };
          bucket?: number;
        };
        const p = r.path;
        // ip -j route get answers an array of one
        print(a.json, [r], () =>
          p
            ? `${r.dst} from ${r.from} ipproto ${r.ipproto} sport ${r.sport} dport ${r.dport}${p.gateway ? ` via ${p.gateway}` : ''}${p.dev ? ` port ${p.dev}` : ''} proto ${r.protocol} lladdr ${p.lladdr ?? '-'} ${p.state.join(',')}` +
              `\n    route ${r.prefix} nexthop ${r.nexthop} path nexthop ${p.nexthop} (bucket ${r.bucket} of the flow hash)\n`
            : `${r.type === 'unicast' ? '' : `${r.type} `}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` port ${r.dev}` : ''} proto ${r.protocol}` +
              `${'lladdr' in r ? ` lladdr ${r.lladdr ?? '-'} ${r.state.join(',')}` : ''}\n    route ${r.prefix} nexthop ${r.nexthop}\n`,
        );
        break;
      }
      case 'flush': {
        const sel = routeSelector(a.prefix !== undefined ? [a.prefix, ...words] : words, 'flush');
        const r = await request(a.socket, 'route.flush', sel, 60000);
        print(a.json, r, () => `flushed ${r.flushed} static route${r.flushed === 1 ? '' : 's'}\n`);
        break;
      }
      case 'load': {
        if (!a.prefix) throw new DpfwdError('EINVAL', 'route load needs a file');
        let text: string;
        try {
          text = fs.readFileSync(a.prefix, 'utf8');
        } catch (e) {
          throw new DpfwdError('ENOENT', `cannot read ${a.prefix}: ${(e as Error).message}`);
        }
        const r = await request(a.socket, 'route.load', { text }, 120000);
        print(a.json, r, () => `loaded ${r.loaded} routes in ${r.milliseconds} ms\n`);
        break;
      }
    }
  },
};

/** A multipath route's paths as `ip route` prints them, one `nexthop via … port … weight …` line each (`port`, dpfwd's word, as on the route line). */
function nexthopLines(r: Record<string, unknown>): string {
  const paths = r.nexthops as { gateway?: string; dev?: string; weight: number; lladdr?: string | null; flags?: string[] }[] | undefined;
  if (!paths) return '';
  return paths
    .map(
      (p) =>
        `\tnexthop${p.gateway ? ` via ${p.gateway}` : ''}${p.dev ? ` port ${p.dev}` : ''} weight ${p.weight}${p.flags?.length ? ` ${p.flags.join(' ')}` : ''}${'lladdr' in p ? (p.lladdr ? ` lladdr ${p.lladdr}` : ' (unresolved)') : ''}\n`,
    )
    .join('');
}
