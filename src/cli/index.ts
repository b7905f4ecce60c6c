import * as fs from 'fs';
import yargs from 'yargs';
import { allCommands, commandNamed } from './commands';
import { ExitStatus, output } from './format';
import { withSession } from '../api/client';
import { DEFAULTS } from '../config/keys';
import { DpfwdError } from '../errors';
import type { ORIGINS as Origins } from '../routing/rib';

class UsageError extends Error {}

/** iproute2 spells long options with one dash (`-json`, `-batch`); yargs would read them as letters. */
const ONE_DASH: Record<string, string> = { '-json': '--json', '-pretty': '--pretty', '-batch': '--batch', '-force': '--force' };

/**
 * Entry point of the `dpfwd` command. Only this function sets the exit code: command handlers
 * throw DpfwdError (one clear line or paragraph) and we print it without a stack trace.
 */
export async function main(argv: string[]): Promise<void> {
  // `dpfwd route show | head -2`: the reader went away; that ends the output, not an error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`dpfwd: cannot write the output: ${e.message}\n`);
    process.exit(74);
  });
  const words = argv.map((w) => ONE_DASH[w] ?? w);
  const batch = batchArgs(words);
  if (typeof batch === 'string') {
    process.stderr.write(`dpfwd: ${batch}\n`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = batch ? await runBatch(batch) : await runOne(words);
}

/**
 * `dpfwd [options] -b FILE [-force]`: the file (`-` = stdin) and the options every line gets,
 * null when this is no batch, or the usage problem.
 */
function batchArgs(words: string[]): { file: string; force: boolean; common: string[]; socket: string } | string | null {
  const i = words.findIndex((w) => w === '-b' || w === '--batch' || w.startsWith('--batch='));
  if (i < 0) return null;
  const rest = [...words];
  let file: string | undefined;
  if (rest[i].startsWith('--batch=')) {
    file = rest[i].slice('--batch='.length);
    rest.splice(i, 1);
  } else {
    file = rest[i + 1];
    rest.splice(i, 2);
  }
  if (file === undefined || file === '') return '-b needs a file of commands (- for stdin), e.g. dpfwd -b routes.batch';
  const force = rest.includes('--force');
  const common = rest.filter((w) => w !== '--force');
  const s = common.indexOf('--socket');
  const socket =
    s >= 0 ? common[s + 1] : (common.find((w) => w.startsWith('--socket='))?.slice('--socket='.length) ?? process.env.DPFWD_SOCKET ?? DEFAULTS.control.socket);
  return { file, force, common, socket };
}

/** Splits one batch line into words: blanks separate, "double" or 'single' quotes keep blanks in a word. */
export function splitLine(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * `ip -batch`: one command per line (blank lines and `#` comments skipped) over one connection;
 * stops at the first that fails, naming its line, unless `-force`: then every line runs and the
 * exit code is that of the last failure.
 */
async function runBatch(b: { file: string; force: boolean; common: string[]; socket: string }): Promise<number> {
  let text: string;
  try {
    text = fs.readFileSync(b.file === '-' ? 0 : b.file, 'utf8');
  } catch (e) {
    process.stderr.write(`dpfwd: cannot read the batch file ${b.file}: ${(e as Error).message}\n`);
    return 1;
  }
  let failed = 0;
  return withSession(b.socket, async () => {
    const lines = text.split('\n');
    for (let n = 1; n <= lines.length; n++) {
      const line = lines[n - 1].trim();
      if (line === '' || line.startsWith('#')) continue;
      let words = splitLine(line);
      if (words[0] === 'dpfwd') words = words.slice(1);
      const code = await runOne([...b.common, ...words.map((w) => ONE_DASH[w] ?? w)], `line ${n}: `);
      if (code !== 0) {
        failed = code;
        if (!b.force) return code;
      }
    }
    return failed;
  });
}

/** The keywords that may follow a command's words, `dpfwd` not included (completion; yargs knows commands, actions and options). */
export function keywordsAfter(words: string[], current: string): string[] {
  const w = words[words.length - 1] === current ? words.slice(0, -1) : words;
  const [cmd, action] = w;
  const last = w[w.length - 1];
  if (cmd === 'route') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the RIB's module only when completing a protocol
    if (last === 'proto' || last === 'protocol') return [...(require('../routing/rib').ORIGINS as typeof Origins)];
    if (['show', 'list', 'ls', 'lst', 'flush'].includes(action))
      return ['match', 'root', 'exact', 'dev', 'via', 'proto', ...(action === 'flush' ? ['all'] : [])];
    if (action === 'add' || action === 'replace') return w.length >= 3 ? ['via', 'dev', 'port', 'blackhole', 'nexthop', 'weight'] : ['default'];
  }
  if ((cmd === 'neighbor' || cmd === 'neigh' || cmd === 'neighbour' || cmd === 'n') && (action === 'add' || action === 'replace') && w.length >= 3)
    return ['lladdr', 'dev', 'nud'];
  if ((cmd === 'nexthop' || cmd === 'nh') && w.length >= 2) return ['id'];
  return [];
}

/** One command line; errors are printed (after `where`) and become the exit code. */
async function runOne(argv: string[], where = ''): Promise<number> {
  let code = 0;
  let cli = yargs(argv)
    .scriptName('dpfwd')
    .strict()
    .demandCommand(1, 'name a command; see dpfwd --help')
    .recommendCommands()
    .option('json', { alias: 'j', type: 'boolean', global: true, describe: 'JSON output (iproute2 keys), anywhere on the line' })
    .option('pretty', { alias: 'p', type: 'boolean', global: true, describe: 'JSON output, indented' })
    .option('batch', { alias: 'b', type: 'string', describe: 'run the commands of FILE (- for stdin), one per line, over one connection (as ip -batch)' })
    .option('force', { type: 'boolean', describe: 'with -b: run every line even after one fails (exit non-zero if any did)' })
    .middleware((a) => {
      output.pretty = a.pretty === true;
      if (a.pretty === true) a.json = true;
    })
    .help()
    .alias('h', 'help')
    .completion('completion', 'print a bash/zsh completion script: dpfwd completion >> ~/.bashrc', ((
      current: string,
      a: { _: (string | number)[] },
      defaults: (cb: (err: Error | null, words: string[]) => void) => void,
      done: (words: string[]) => void,
    ) => {
      defaults((_err, words) => done([...(words ?? []), ...keywordsAfter(a._.map(String).slice(1), current)]));
    }) as never)
    .version()
    .exitProcess(false)
    .fail((msg, err) => {
      // handlers' errors go to the catch below; yargs' own validation failures are usage
      // errors: abort parsing (so no handler runs) and report the first problem only
      if (err instanceof DpfwdError) throw err;
      throw new UsageError(msg || err?.message || 'bad command line');
    });
  // the command the line names, alone (the others' modules stay unloaded); all of them for help,
  // completion and a mistyped name (yargs suggests the nearest)
  const one = commandNamed(argv.find((w, i) => !w.startsWith('-') && argv[i - 1] !== '--socket'));
  const help = argv.some((w) => w === '--help' || w === '-h' || w === '--get-yargs-completions');
  for (const c of one && !help ? [one] : allCommands()) cli = cli.command(c);
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`dpfwd: ${where}${e.message}\n`);
      if (!where) process.stderr.write(e.message.startsWith('name a command') ? (await cli.getHelp()) + '\n' : `Run 'dpfwd --help' for usage.\n`);
      code = 2;
    } else if (e instanceof ExitStatus) {
      code = e.status;
    } else if (e instanceof DpfwdError) {
      process.stderr.write(`dpfwd: ${where}${e.message}\n`);
      code = 1;
    } else {
      process.stderr.write(`dpfwd: ${where}internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      code = 70;
    }
  }
  return code;
}
