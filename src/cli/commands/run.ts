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
    .option('socket', { type: 'string', describe: 'control socket path (default: $DPFWD_SOCKET, else control.socket from the config)' }) as Argv<Args>,
  handler: async (args) => {
    const config = loadConfigFile(args.config);
    // the same order the CLI's clients use to find it: --socket, then DPFWD_SOCKET, then the config
    const socketPath = args.socket ?? (process.env.DPFWD_SOCKET || undefined) ?? config.control.socket;
    const fwd = new Forwarder(config);
    const log = (m: string) => process.stderr.write(`dpfwd: ${m}\n`);
    const ctx = { fwd, baseline: new CounterBaseline() };
    // Everything that can refuse is checked before DPDK touches a port: the control socket path and
    // the metrics port are bound first (a second instance stops here, before it sends a frame),
    // then Forwarder.start checks devices and hugepages before EAL init. No request is served
    // before start() returns: it runs to the end without yielding to the event loop.
    const { control: { socket: _s, mode, ...limits } } = config;
    const server = await startControlServer(ctx, socketPath, { mode, limits, log, ready: () => fwd.startedAt > 0 });
    let metrics: MetricsServer | undefined;
    if (config.metrics.listen !== false) {
      try {
        const { listen, ...metricsLimits } = config.metrics;
        metrics = await startMetricsServer(fwd, createMetrics(fwd, { control: server }), listen, metricsLimits, log);
      } catch (e) {
        server.close();
        throw e;
      }
    }
    try {
      fwd.start();
    } catch (e) {
      server.close();
      await metrics?.close();
      throw e;
    }
    if (metrics) log(`metrics ${metrics.url}`);
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
      // Node's default for SIGHUP is to exit (129), leaving the socket behind; systemd's reload and
      // a closed terminal send it. There is no config reload yet, so say so and carry on.
      process.on('SIGHUP', () => log('SIGHUP: reloading the config file is not supported yet; nothing changed (live changes go through the CLI; restart to apply the file)'));
    });
  },
};
