import type { Argv, CommandModule } from 'yargs';
import * as path from 'path';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { ExitStatus, print } from '../format';
import { DpfwdError } from '../../errors';
import { readConfigText } from '../../config';
import { configSchemaText } from '../../config/schema';
import { checkConfig, checkError, formatCheck } from '../../forwarder/check';

type A = ClientArgs & { action: string; file?: string };

/**
 * `config check FILE` (and `run --dry-run`): the file checked as `run` would, without touching
 * hardware; the report on stdout, the problems as the error (exit 1), as `run` prints them.
 */
export function runCheck(file: string, json: boolean): void {
  const report = checkConfig(readConfigText(file), file);
  if (json) {
    print(true, report, () => '');
    if (report.errors.length) throw new ExitStatus(1);
    return;
  }
  process.stdout.write(formatCheck(report));
  const err = checkError(report);
  if (err) throw err;
}

/** `config diff`'s text: restart-only keys, then live settings, then `-`/`+` lines (running → file). */
export function diffText(r: { file: string; restart: string[]; settings: string[]; lines: string[] }): string {
  const out: string[] = [];
  for (const k of r.restart) out.push(`! ${k}`);
  for (const k of r.settings) out.push(`~ ${k}`);
  out.push(...r.lines);
  return out.length ? `${out.join('\n')}\n` : `running configuration and ${r.file} are the same\n`;
}

/**
 * `dpfwd config show | save [FILE] | diff`: the running configuration (the file plus what the CLI
 * changed) as YAML; written atomically (default: the file dpfwd was started with); compared
 * with the file (what `dpfwd reload` would change).
 */
export const configCommand: CommandModule<object, A> = {
  command: 'config <action> [file]',
  describe:
    'configuration: show (running, YAML, -j) | save [FILE] (default: the file dpfwd runs) | diff (running vs file; exits 1 when they differ, as diff(1)) | check FILE (every error run would find, hugepages included, without starting; exit 1 on errors) | schema (the JSON Schema for editors, docs/dpfwd.schema.json)',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('action', { choices: ['show', 'save', 'diff', 'check', 'schema'] as const })
      .positional('file', {
        type: 'string',
        describe: 'config save: where to write (default: the file dpfwd was started with); config check: the file to check',
      }) as unknown as Argv<A>,
  handler: async (a) => {
    if (a.action === 'schema') {
      process.stdout.write(configSchemaText());
      return;
    }
    if (a.action === 'check') {
      if (a.file === undefined) throw new DpfwdError('EINVAL', 'config check needs the file to check; usage: dpfwd config check FILE');
      return runCheck(a.file, a.json);
    }
    if (a.action !== 'save' && a.file !== undefined) throw new DpfwdError('EINVAL', `config ${a.action} takes no file; usage: dpfwd config save [FILE]`);
    if (a.action === 'show') {
      const r = (await request(a.socket, 'config.show')) as { yaml: string; config: unknown };
      print(a.json, r.config, () => r.yaml);
    } else if (a.action === 'save') {
      const r = (await request(a.socket, 'config.save', a.file === undefined ? {} : { file: path.resolve(a.file) })) as { file: string; bytes: number };
      print(a.json, r, () => `saved the running configuration to ${r.file} (${r.bytes} bytes)\n`);
    } else {
      const r = (await request(a.socket, 'config.diff')) as { file: string; restart: string[]; settings: string[]; lines: string[] };
      print(a.json, r, () => diffText(r));
      // as diff(1): 0 when the same, 1 when a reload would change something
      if (r.restart.length || r.settings.length || r.lines.length) throw new ExitStatus(1);
    }
  },
};
