import yargs from 'yargs';
import { commands } from './commands';
import { DpfwdError } from '../errors';

class UsageError extends Error {}

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
  let cli = yargs(argv)
    .scriptName('dpfwd')
    .strict()
    .demandCommand(1, 'name a command; see dpfwd --help')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .completion('completion', 'print a bash/zsh completion script: dpfwd completion >> ~/.bashrc')
    .version()
    .fail((msg, err) => {
      // handlers' errors go to the catch below; yargs' own validation failures are usage
      // errors: abort parsing (so no handler runs) and report the first problem only
      if (err instanceof DpfwdError) throw err;
      throw new UsageError(msg || err?.message || 'bad command line');
    });
  for (const c of commands) cli = cli.command(c);
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`dpfwd: ${e.message}\n`);
      process.stderr.write(e.message.startsWith('name a command') ? await cli.getHelp() + '\n' : `Run 'dpfwd --help' for usage.\n`);
      process.exitCode = 2;
    } else if (e instanceof DpfwdError) {
      process.stderr.write(`dpfwd: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`dpfwd: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  }
}
