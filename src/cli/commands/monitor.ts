import type { Argv, CommandModule } from 'yargs';
import { Session } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import type { DpfwdEvent, EventKind } from '../../forwarder/events';

const KINDS = ['route', 'address', 'neigh', 'link', 'sync'] as const satisfies readonly EventKind[];

type A = ClientArgs & { kinds?: EventKind[]; count?: number; timeout?: number; interval: number };

/**
 * `dpfwd monitor [KIND...]`: what changes in the router as it happens, one line per change (with
 * -j one JSON object per line), like `ip monitor`: routes, addresses, neighbours, links and the
 * route sync's state. It asks the forwarder for the changes after the last one it printed
 * (the `events` op) every --interval ms over one connection; a line says when the forwarder's
 * ring of recent changes moved past some before they were read.
 */
export const monitorCommand: CommandModule<object, A> = {
  command: 'monitor [kinds..]',
  describe: 'print route, address, neighbour, link and sync changes as they happen (like ip monitor); -j: JSON lines',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('kinds', { choices: KINDS, array: true, describe: 'only these kinds of change' })
      .option('count', { type: 'number', describe: 'stop after this many changes' })
      .option('timeout', { type: 'number', describe: 'stop after this many seconds' })
      .option('interval', { type: 'number', default: 200, describe: 'ms between asks' }) as unknown as Argv<A>,
  handler: async (a) => {
    const only = a.kinds?.length ? new Set<EventKind>(a.kinds) : null;
    const s = new Session(a.socket);
    const end = a.timeout === undefined ? Infinity : Date.now() + a.timeout * 1000;
    let stop = false;
    const onInt = () => {
      stop = true;
    };
    process.once('SIGINT', onInt);
    let printed = 0;
    try {
      let { last } = await s.request('events', { after: -1 });
      while (!stop && Date.now() < end && (a.count === undefined || printed < a.count)) {
        await new Promise((r) => setTimeout(r, Math.max(10, a.interval)));
        const r = await s.request('events', { after: last });
        last = r.last;
        if (r.missed)
          process.stdout.write(a.json ? `${JSON.stringify({ missed: r.missed })}\n` : `(${r.missed} changes missed: the forwarder keeps the last 4096)\n`);
        for (const e of r.events as DpfwdEvent[]) {
          if (only && !only.has(e.kind)) continue;
          process.stdout.write(a.json ? `${JSON.stringify(e)}\n` : `${e.time} [${e.kind}] ${e.text}\n`);
          if (a.count !== undefined && ++printed >= a.count) break;
        }
      }
    } finally {
      process.removeListener('SIGINT', onInt);
      s.close();
    }
  },
};
