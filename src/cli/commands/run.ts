import type { Argv, CommandModule } from 'yargs';
import { parseConfig, readConfigText } from '../../config';
import { runCheck } from './config';
import { DpfwdError } from '../../errors';
import { Forwarder } from '../../forwarder';
import { CounterBaseline } from '../../api/actions';
import { startControlServer } from '../../api/server';
import { createMetrics, startMetricsServer, MetricsServer } from '../../metrics';
import { Level, LEVELS, LOG_FORMATS, LogFormat, LogSettings, rootLogger } from '../../log';

interface Args {
  config: string;
  socket?: string;
  logFormat?: LogFormat;
  logLevel?: Level;
  dryRun?: boolean;
}

/**
 * A refusal that running as root would have avoided (a socket directory it may not create, a
 * kernel-facing port the PMD could not open), said as what it is when dpfwd is not root: the
 * error alone ("no device named net_af_packet0") does not name the cause.
 */
function asNonRoot(e: unknown): unknown {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0 || !(e instanceof DpfwdError) || !['EACCES', 'EPERM', 'ENODEV'].includes(e.code)) return e;
  return new DpfwdError(
    e.code,
    `${e.message}\n  dpfwd runs as uid ${uid}, not root: /run/dpfwd, hugepages and kernel-facing ports need root or capabilities ` +
      '(af_packet: CAP_NET_RAW; tap and af_xdp: CAP_NET_ADMIN, af_xdp also CAP_BPF; vfio: CAP_IPC_LOCK). ' +
      'Run it with sudo, as the systemd service (deploy/systemd/dpfwd.service), or grant those capabilities (docs/deploy.md)',
  );
}

/**
 * `dpfwd run`: one forwarder in the foreground, logging to stderr (src/log.ts). SIGINT/SIGTERM
 * stop workers, close ports and release hugepage memory, then exit 0. SIGHUP reloads the config
 * file (as `dpfwd reload`); a reload that is refused changes nothing and is logged.
 */
export const runCommand: CommandModule<object, Args> = {
  command: 'run',
  describe: 'start the forwarder in the foreground',
  builder: (y: Argv) =>
    y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'YAML configuration file' })
      .option('socket', { type: 'string', describe: 'control socket path (default: $DPFWD_SOCKET, else control.socket from the config)' })
      .option('log-format', { type: 'string', choices: LOG_FORMATS, describe: 'text (default) or json: one object per line (overrides log.format)' })
      .option('log-level', { type: 'string', choices: LEVELS, describe: 'error, warn, info (default) or debug (overrides log.level)' })
      .option('dry-run', {
        type: 'boolean',
        describe: 'check the config as run would, hugepages and devices included, and exit without starting (= dpfwd config check FILE)',
      }) as Argv<Args>,
  handler: async (args) => {
    if (args.dryRun) return runCheck(args.config, false);
    // the command line wins over the file, at start and on every reload
    const flags: Partial<LogSettings> = { ...(args.logFormat ? { format: args.logFormat } : {}), ...(args.logLevel ? { level: args.logLevel } : {}) };
    rootLogger.configure(flags);
    const file = args.config;
    const text = readConfigText(file);
    const config = parseConfig(text, file);
    rootLogger.configure({ ...config.log, ...flags });
    const runLog = rootLogger.child('run');
    // the same order the CLI's clients use to find it: --socket, then DPFWD_SOCKET, then the config
    const socketPath = args.socket ?? (process.env.DPFWD_SOCKET || undefined) ?? config.control.socket;
    const fwd = new Forwarder(config);
    fwd.fileText = text;
    const log = runLog.fn('info');
    const ctx = { fwd, baseline: new CounterBaseline() };
    // Everything that can refuse is checked before DPDK touches a port: the control socket path and
    // the metrics port are bound first (a second instance stops here, before it sends a frame),
    // then Forwarder.start checks devices and hugepages before EAL init. No request is served
    // before start() returns: it runs to the end without yielding to the event loop.
    const {
      control: { socket: _s, mode, ...limits },
    } = config;
    const server = await startControlServer(ctx, socketPath, {
      mode,
      limits,
      log: rootLogger.child('control').fn('warn'),
      ready: () => fwd.startedAt > 0,
    }).catch((e) => {
      throw asNonRoot(e);
    });
    let metrics: MetricsServer | undefined;
    if (config.metrics.listen !== false) {
      try {
        const { listen, ...metricsLimits } = config.metrics;
        metrics = await startMetricsServer(fwd, createMetrics(fwd, { control: server }), listen, metricsLimits, rootLogger.child('metrics').fn('warn'));
      } catch (e) {
        server.close();
        throw e;
      }
    }
    try {
      await fwd.claimInterfaces(socketPath); // one forwarder per interface (src/forwarder/owner.ts)
      fwd.start();
    } catch (e) {
      server.close();
      await metrics?.close();
      throw asNonRoot(e);
    }
    // live settings of a reload: the servers' limits and the log's own settings
    fwd.onSettings.push((c) => {
      const { socket: _x, mode: _y, ...l } = c.control;
      server.setLimits(l);
      const { listen: _z, ...m } = c.metrics;
      metrics?.setLimits(m);
      rootLogger.configure({ ...c.log, ...flags });
    });
    // The handlers go in before the readiness lines: whoever waits for those lines may signal at
    // once, and until process.on() runs Node's default action for SIGTERM and SIGHUP is to die.
    let resolve = (): void => undefined;
    const stopped = new Promise<void>((r) => {
      resolve = r;
    });
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping`);
      const uptime = Math.round((Date.now() - fwd.startedAt) / 1000);
      const routes = fwd.rib.routeCount;
      server.close();
      void metrics?.close();
      fwd.stop();
      runLog.info(`stopped; ports closed and hugepage memory released (up ${uptime} s, ${routes} routes at the end)`, {
        event: 'stop',
        signal: sig,
        uptimeSeconds: uptime,
        routes,
      });
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // Node's default for SIGHUP is to exit (129); systemd's ExecReload sends it: reload the file,
    // as `dpfwd reload` does (logged either way; a refused reload leaves everything as it was)
    process.on('SIGHUP', () => {
      if (stopping) return;
      runLog.info(`SIGHUP: reloading ${file}`);
      try {
        fwd.reload();
      } catch {
        /* logged by reload, with its reason */
      }
    });
    if (metrics) log(`metrics ${metrics.url}`);
    log(`control socket ${socketPath}`);
    runLog.info(
      `started: config ${file}, ${config.ports.length} ports, ${config.workers.length} workers, ${fwd.rib.routeCount} routes, log ${rootLogger.settings.format} at ${rootLogger.settings.level}`,
      { event: 'start', config: file, ports: config.ports.length, workers: config.workers.length, routes: fwd.rib.routeCount, pid: process.pid },
    );
    await stopped;
  },
};
