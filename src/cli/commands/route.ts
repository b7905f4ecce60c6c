import * as fs from 'fs';
import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print, table } from '../format';
import { DpfwdError } from '../../errors';
import { formatIPv4, formatPrefix } from '../../net/ipv4';
import { parseRouteWords } from '../../routing/routes';

type A = ClientArgs & { action: string; prefix?: string; words?: string[] };

export const routeCommand: CommandModule<object, A> = {
  command: 'route <action> [prefix] [words..]',
  describe: 'routes: add PREFIX via ADDR [port NAME] | add PREFIX port NAME | add PREFIX blackhole | add PREFIX nexthop via ADDR [dev NAME] [weight W] nexthop via ADDR … | del PREFIX | show | load FILE',
  builder: (y: Argv) => clientOptions(y)
    .positional('action', { choices: ['add', 'del', 'show', 'load'] as const, describe: 'what to do' })
    .positional('prefix', { type: 'string', describe: 'IPv4 prefix (or the file for load)' })
    .positional('words', { type: 'string', array: true }) as unknown as Argv<A>,
  handler: async (a) => {
    const words = (a.words ?? []).map(String);
    switch (a.action) {
      case 'add': {
        if (!a.prefix) throw new DpfwdError('EINVAL', 'route add needs a prefix, e.g. dpfwd route add 10.20.0.0/16 via 10.2.0.2');
        // `route add PREFIX [via ADDR] [port NAME] [blackhole]`: the one route parser, CLI-worded
        const e = parseRouteWords([a.prefix, ...words]);
        const fields = {
          prefix: formatPrefix(e), via: e.via !== undefined ? formatIPv4(e.via) : undefined, port: e.port, blackhole: e.blackhole || undefined,
          nexthops: e.paths?.map((p) => ({ via: p.via !== undefined ? formatIPv4(p.via) : undefined, port: p.port, weight: p.weight })),
        };
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
        const rows = (await request(a.socket, 'route.show', {})) as Record<string, unknown>[];
        print(a.json, rows, () => rows.map((r) => `${r.type === 'unicast' ? '' : `${r.type} `}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` port ${r.dev}` : ''} proto ${r.protocol}${'lladdr' in r ? (r.lladdr ? ` lladdr ${r.lladdr}` : ' (unresolved)') : ''}\n${nexthopLines(r)}`).join(''));
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
        const r = (await request(a.socket, 'route.load', { text }, 120000)) as { loaded: number; milliseconds: number };
        print(a.json, r, () => `loaded ${r.loaded} routes in ${r.milliseconds} ms\n`);
        break;
      }
    }
  },
};

/** A multipath route's paths as `ip route` prints them: one `nexthop via … dev … weight …` line each. */
function nexthopLines(r: Record<string, unknown>): string {
  const paths = r.nexthops as { gateway?: string; dev?: string; weight: number; lladdr?: string | null; flags?: string[] }[] | undefined;
  if (!paths) return '';
  return paths.map((p) => `\tnexthop${p.gateway ? ` via ${p.gateway}` : ''}${p.dev ? ` dev ${p.dev}` : ''} weight ${p.weight}${p.flags?.length ? ` ${p.flags.join(' ')}` : ''}${'lladdr' in p ? (p.lladdr ? ` lladdr ${p.lladdr}` : ' (unresolved)') : ''}\n`).join('');
}
