import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print } from '../format';
import type { SyncStatus } from '../../routing/sync';

type A = ClientArgs & { action: string };

/** `dpfwd sync show`: the route sync's state, the kernel table's routes vs dpfwd's FIB, overflows, errors. */
export const syncCommand: CommandModule<object, A> = {
  command: 'sync <action>',
  describe: "sync show: the kernel routing table followed (linux.sync) vs the routes in dpfwd's FIB",
  builder: (y: Argv) => clientOptions(y).positional('action', { choices: ['show'] as const }) as unknown as Argv<A>,
  handler: async (a) => {
    const s = (await request(a.socket, 'sync.show')) as SyncStatus | { state: 'off'; hint: string };
    if (s.state === 'off') {
      print(a.json, s, () => `route sync is off: ${s.hint}\n`);
      return;
    }
    print(a.json, s, () =>
      [
        `table ${s.table} namespace ${s.netns || "(dpfwd's own)"} protocols ${s.protocols} state ${s.state}`,
        `kernel routes ${s.kernelRoutes}  installed ${s.installed}  shadowed ${s.shadowed}  unusable ${s.unusable}  refused ${s.refused}${
          s.refused
            ? ` (${Object.entries(s.refusedBy)
                .map(([r, n]) => `${r} ${n}`)
                .join(', ')})`
            : ''
        }  failed ${s.failed}${s.overLimit ? `  over limit ${s.overLimit} (linux.sync.maxRoutes)` : ''}${s.missing ? `  missing ${s.missing}` : ''}`,
        ...(s.lastRefusal ? [`last refused: ${s.lastRefusal}`] : []),
        `by protocol ${
          Object.entries(s.byProtocol)
            .map(([p, n]) => `${p} ${n}`)
            .join('  ') || '-'
        }`,
        `dumps ${s.dumps}  last dump ${s.lastDump ?? '-'}${s.lastDumpMs !== null ? ` (${s.lastDumpMs} ms)` : ''}  overflows ${s.overflows}  errors ${s.errors}${s.lastError ? `  last error: ${s.lastError}` : ''}`,
        '',
      ].join('\n'),
    );
  },
};
