import yargs from 'yargs';
import { commands } from './commands';
import { DpfwdError } from '../errors';

/**
 * Entry point of the `dpfwd` command. Only this function sets the exit code: command handlers
 * throw DpfwdError (one clear line or paragraph) and we print it without a stack trace.
 */
export async function main(argv: string[]): Promise<void> {
  let failed = false;
  let cli = yargs(argv)
    .scriptName('dpfwd')
    .strict()
    .demandCommand(1, 'name a command; see dpfwd --help')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .fail((msg, err, y) => {
      // errors thrown by handlers go to the catch below; yargs' own validation (and .check())
      // failures are usage errors: one line, exit 2
      if (err instanceof DpfwdError) throw err;
      if (err && !msg) msg = err.message;
      if (failed) return; // yargs may report several problems of one command line: the first says enough
      failed = true;
      // yargs usage errors: one line, exit 2 (like iproute2 for bad arguments)
      process.stderr.write(`dpfwd: ${msg}\n`);
      if (!msg.startsWith('name a command')) process.stderr.write(`Run 'dpfwd --help' for usage.\n`);
      else process.stderr.write(y.help().toString?.() ?? '');
      process.exitCode = 2;
    });
  for (const c of commands) cli = cli.command(c);
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof DpfwdError) {
      process.stderr.write(`dpfwd: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`dpfwd: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  }
}
