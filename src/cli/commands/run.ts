import type { Argv, CommandModule } from 'yargs';
import { loadConfigFile } from '../../config';
import { Forwarder } from '../../forwarder';
import { CounterBaseline } from '../../api/actions';
import { startControlServer } from '../../api/server';
import { createMetrics, startMetricsServer, MetricsServer } from '../../metrics';

interface Args { config: string; socket?: string }

/**
 * `dpfwd run`: one forwarder in the foreground. SIGINT/SIGTERM stop workers, close ports and
 * release hugepage memory, then exit 0.
 */
export const runCommand: CommandModule<object, Args> = {
  command: 'run',
  describe: 'start the forwarder in the foreground',
  builder: (y: Argv) => y
    .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'YAML configuration file' })
    .option('socket', { type: 'string', describe: 'control socket path (default: control.socket from the config)' }) as Argv<Args>,
  handler: async (args) => {
    const config = loadConfigFile(args.config);
    const socketPath = args.socket ?? config.control.socket;
    const fwd = new Forwarder(config);
    const log = (m: string) => process.stderr.write(`dpfwd: ${m}\n`);
    fwd.start();
    const ctx = { fwd, baseline: new CounterBaseline() };
    let server;
    try {
      server = await startControlServer(ctx, socketPath, config.control.mode);
    } catch (e) {
      fwd.stop();
      throw e;
    }
    let metrics: MetricsServer | undefined;
    if (config.metrics.listen !== false) {
      try {
        metrics = await startMetricsServer(fwd, createMetrics(fwd), config.metrics.listen);
      } catch (e) {
        server.close();
        fwd.stop();
        throw e;
      }
      log(`metrics ${metrics.url}`);
    }
    log(`control socket ${socketPath}`);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        log(`${sig}: stopping`);
        server.close();
        void metrics?.close();
        fwd.stop();
        log('stopped; ports closed and hugepage memory released');
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  },
};
