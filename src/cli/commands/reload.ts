import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print } from '../format';
import type { ReloadReport } from '../../forwarder';

/** The reload's report as text: counts per kind, settings, and the run-time changes it removed. */
export function reloadText(r: ReloadReport): string {
  const kinds = (['routes', 'addresses', 'neighbors', 'interfaces'] as const).map(
    (k) => `${k} +${r.changed[k].added} -${r.changed[k].removed} ~${r.changed[k].changed}`,
  );
  let out = `reloaded ${r.file}: ${kinds.join(', ')}\n`;
  if (r.settings.length) out += `settings changed: ${r.settings.join(', ')}\n`;
  const n = r.cliChangesDroppedCount ?? r.cliChangesDropped.length;
  if (n) {
    out += `removed ${n} run-time change(s) the file does not have (the file is the truth on reload; dpfwd config save keeps them):\n`;
    out += r.cliChangesDropped.map((x) => `  ${x}\n`).join('');
    if (n > r.cliChangesDropped.length) out += `  … ${n - r.cliChangesDropped.length} more\n`;
  }
  return out;
}

/** `dpfwd reload`: what SIGHUP does, with the report on stdout and any refusal as the error. */
export const reloadCommand: CommandModule<object, ClientArgs> = {
  command: 'reload',
  describe: 'apply the config file to the running forwarder (as SIGHUP): live keys as a diff, restart keys refused; the file is the truth',
  builder: (y: Argv) => clientOptions(y) as unknown as Argv<ClientArgs>,
  handler: async (a) => {
    const r = (await request(a.socket, 'config.reload', {}, 60000)) as ReloadReport;
    print(a.json, r, () => reloadText(r));
  },
};
