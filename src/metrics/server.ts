/**
 * The metrics HTTP endpoint (node:http, no framework):
 *   GET /metrics  the registry's text exposition, prom-client's content type
 *   GET /healthz  200 "ok" when every worker lcore is running and no punted packet waits longer
 *                 than punt.maxWaitMs, else 503 naming what is wrong (src/metrics/health.ts)
 * Anything else is 404 (405 for other methods on those two paths).
 *
 * Connection limits (metrics.* in docs/config.md), so that a local user who opens thousands of
 * idle connections cannot use up the process's file descriptors (and lock root out of the control
 * socket): at most maxConnections at once — a new one closes the connection quiet longest,
 * preferring one with no request in progress, so a probe of /healthz always gets in; header,
 * request, keep-alive and idle timeouts. Every refusal is counted (dpfwd_metrics_refused_total)
 * and logged rate-limited.
 *
 * No scraper can hold the event loop (it also answers ARP and ICMP): a connection with more than
 * maxPipelined requests unanswered is closed (Prometheus sends one at a time; before, 60
 * connections pipelining GET /metrics queued thousands of scrapes each and left /healthz
 * unanswered for minutes), and requests that arrive while a scrape runs share its text. /healthz
 * is answered at once, from what the dataplane reports now.
 */
import { rootLogger } from '../log';
import * as http from 'http';
import { AddressInfo, Socket } from 'net';
import { DpfwdError } from '../errors';
import type { MetricsLimits } from '../config/types';
import { DEFAULTS } from '../config/keys';
import { Logger, METRICS_REFUSALS, MetricsRefusal, Refusals } from './refusals';
import { unhealthy } from './health';
import type { Metrics, MetricsSource } from './registry';

/** Why a connection was refused or closed; the label of dpfwd_metrics_refused_total. */

const METRICS_LIMITS: MetricsLimits = {
  maxConnections: DEFAULTS.metrics.maxConnections,
  headersTimeoutMs: DEFAULTS.metrics.headersTimeoutMs,
  requestTimeoutMs: DEFAULTS.metrics.requestTimeoutMs,
  keepAliveTimeoutMs: DEFAULTS.metrics.keepAliveTimeoutMs,
  idleTimeoutMs: DEFAULTS.metrics.idleTimeoutMs,
  maxPipelined: DEFAULTS.metrics.maxPipelined,
};

interface Conn {
  socket: Socket;
  lastActive: number;
  /** requests received and not yet answered */
  inFlight: number;
  /** requests answered */
  served: number;
  /** requests received (ends of headers seen in the bytes, before parsing), and the last 3 bytes for one split across reads */
  received: number;
  tail: Buffer;
}

const END_OF_HEADERS = Buffer.from('\r\n\r\n');

/** Ends of request headers in `d` (with the previous read's last 3 bytes in front). */
function countRequests(tail: Buffer, d: Buffer): number {
  const b = tail.length ? Buffer.concat([tail, d]) : d;
  let n = 0;
  for (let i = b.indexOf(END_OF_HEADERS); i >= 0; i = b.indexOf(END_OF_HEADERS, i + 4)) n++;
  return n;
}

export interface MetricsServer {
  /** host:port actually bound (port 0 resolved) */
  address: { host: string; port: number };
  url: string;
  close(): Promise<void>;
  /** New limits (a reload): the timeouts apply to requests from now on, maxConnections at once. */
  setLimits(l: Partial<MetricsLimits>): void;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startMetricsServer(
  src: MetricsSource,
  metrics: Metrics,
  listen: { host: string; port: number },
  limits: Partial<MetricsLimits> = {},
  log: Logger = rootLogger.child('metrics').fn('warn'),
): Promise<MetricsServer> {
  const lim: MetricsLimits = { ...METRICS_LIMITS, ...limits };
  const refusals = new Refusals<MetricsRefusal>(`metrics ${hostPort(listen.host, listen.port)}`, METRICS_REFUSALS, log);
  metrics.httpRefused = () => ({ ...refusals.counts });
  const conns = new Map<Socket, Conn>();
  /** The scrape in progress: requests that arrive meanwhile get its text (one scrape, not one each). */
  let scraping: Promise<string> | null = null;
  const scrapeShared = (): Promise<string> => {
    if (!scraping) {
      scraping = metrics.scrape();
      const clear = () => {
        scraping = null;
      };
      scraping.then(clear, clear);
    }
    return scraping;
  };
  const server = http.createServer(
    {
      headersTimeout: lim.headersTimeoutMs,
      requestTimeout: lim.requestTimeoutMs,
      keepAliveTimeout: lim.keepAliveTimeoutMs,
      // how often Node looks for requests past their header/request timeout
      connectionsCheckingInterval: Math.min(1000, lim.headersTimeoutMs),
    },
    (req, res) => {
      const conn = conns.get(req.socket);
      if (!conn || req.socket.destroyed) {
        // closed (evicted, or past maxPipelined) while the rest of its pipelined requests were parsed
        req.socket.destroy();
        return;
      }
      conn.inFlight++;
      conn.lastActive = Date.now();
      res.once('close', () => {
        conn.inFlight--;
        conn.served++;
        conn.lastActive = Date.now();
      });
      const url = (req.url ?? '/').split('?')[0];
      const send = (code: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) => {
        if (res.destroyed || req.socket.destroyed) return;
        res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (url !== '/metrics' && url !== '/healthz') return send(404, 'not found: try /metrics or /healthz\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
      if (url === '/healthz') {
        const why = unhealthy(src);
        return why === null ? send(200, 'ok\n') : send(503, `${why}\n`);
      }
      scrapeShared().then(
        (text) => send(200, text, metrics.contentType),
        (e) => send(503, `cannot read the counters: ${(e as Error).message}\n`),
      );
    },
  );
  server.timeout = lim.idleTimeoutMs; // a connection with no traffic at all
  server.on('timeout', (socket: Socket) => {
    // the end of an idle keep-alive connection after its requests is normal; one that never sent a request is counted
    if (!conns.get(socket)?.served) refusals.note('idle_timeout', `closed a connection that sent nothing for metrics.idleTimeoutMs (${lim.idleTimeoutMs} ms)`);
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    refusals.note(
      timeout ? 'request_timeout' : 'bad_request',
      timeout
        ? `closed a connection whose request was not complete within metrics.headersTimeoutMs/requestTimeoutMs (${lim.headersTimeoutMs}/${lim.requestTimeoutMs} ms)`
        : `closed a connection that sent a malformed request (${err.code ?? err.message})`,
    );
    socket.end(timeout ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroySoon();
  });
  server.on('connection', (socket: Socket) => {
    if (conns.size >= lim.maxConnections) {
      // make room: the connection quiet longest goes, one without a request in progress first
      // (so a flood of busy connections cannot keep a /healthz probe out)
      let victim: Conn | undefined;
      for (const c of conns.values()) {
        if (!victim || (victim.inFlight > 0 && c.inFlight === 0) || (victim.inFlight > 0 === c.inFlight > 0 && c.lastActive < victim.lastActive)) victim = c;
      }
      if (!victim) {
        socket.destroy();
        return;
      }
      refusals.note('too_many_connections', `${conns.size} connections is metrics.maxConnections; closed the one quiet longest`);
      conns.delete(victim.socket);
      victim.socket.destroy();
    }
    const conn: Conn = { socket, lastActive: Date.now(), inFlight: 0, served: 0, received: 0, tail: Buffer.alloc(0) };
    conns.set(socket, conn);
    socket.once('close', () => conns.delete(socket));
    // The HTTP parser is fed through this guard: requests are counted in the bytes before they are
    // parsed, and a connection with more than maxPipelined unanswered is closed before the parser
    // sees them (Node would make a request, a response and, at close, an error with a stack trace
    // for each of the ~1,700 requests in one 64 KiB read: seconds of the loop for 60 such clients).
    const feeds = socket.listeners('data') as ((d: Buffer) => void)[];
    for (const f of feeds) socket.removeListener('data', f);
    socket.on('data', (d: Buffer) => {
      conn.received += countRequests(conn.tail, d);
      conn.tail = Buffer.from(d.subarray(Math.max(0, d.length - 3)));
      if (conn.received - conn.served > lim.maxPipelined) {
        refusals.note('too_many_pipelined', `closed a connection with more than metrics.maxPipelined (${lim.maxPipelined}) requests unanswered`);
        conns.delete(socket);
        socket.destroy();
        return;
      }
      for (const f of feeds) f(d);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = hostPort(listen.host, listen.port);
      if (e.code === 'EADDRINUSE') {
        reject(
          new DpfwdError(
            'EADDRINUSE',
            `metrics.listen ${where}: the address is already in use (another dpfwd or exporter?); choose another port in metrics.listen, or set metrics.listen: false`,
          ),
        );
      } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
        reject(new DpfwdError(e.code, `metrics.listen ${where}: no such local address on this host; use 127.0.0.1, 0.0.0.0 or an address of this machine`));
      } else if (e.code === 'EACCES') {
        reject(new DpfwdError('EACCES', `metrics.listen ${where}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)`));
      } else {
        reject(new DpfwdError(e.code ?? 'EMETRICS', `metrics.listen ${where}: cannot listen: ${e.message}`));
      }
    });
    server.listen(listen.port, listen.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const address = { host: listen.host, port: a.port };
  return {
    address,
    url: `http://${hostPort(address.host, address.port)}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        refusals.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    setLimits: (l) => {
      Object.assign(lim, l);
      server.headersTimeout = lim.headersTimeoutMs;
      server.requestTimeout = lim.requestTimeoutMs;
      server.keepAliveTimeout = lim.keepAliveTimeoutMs;
      server.timeout = lim.idleTimeoutMs;
    },
  };
}
