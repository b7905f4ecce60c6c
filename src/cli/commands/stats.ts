import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print } from '../format';

type A = ClientArgs & { action: string };

export const statsCommand: CommandModule<object, A> = {
  command: 'stats <action>',
  describe: 'stats clear: zero what show prints (Prometheus counters keep counting)',
  builder: (y: Argv) => clientOptions(y).positional('action', { choices: ['clear'] as const }) as unknown as Argv<A>,
  handler: async (a) => {
    print(a.json, await request(a.socket, 'stats.clear'), () => 'statistics cleared\n');
  },
};
