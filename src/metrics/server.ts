/**
 * The metrics HTTP endpoint (node:http, no framework):
 *   GET /metrics  the registry's text exposition, prom-client's content type
 *   GET /healthz  200 "ok" when every worker lcore is running and no punted packet waits longer
 *                 than punt.maxWaitMs, else 503 naming what is wrong (src/metrics/health.ts)
 * Anything else is 404 (405 for other methods on those two paths).
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { DpfwdError } from '../errors';
import { unhealthy } from './health';
import type { Metrics, MetricsSource } from './index';

export interface MetricsServer {
  /** host:port actually bound (port 0 resolved) */
  address: { host: string; port: number };
  url: string;
  close(): Promise<void>;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startMetricsServer(src: MetricsSource, metrics: Metrics, listen: { host: string; port: number }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) => {
      res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url !== '/metrics' && url !== '/healthz') return send(404, 'not found: try /metrics or /healthz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
    if (url === '/healthz') {
      const why = unhealthy(src);
      return why === null ? send(200, 'ok\n') : send(503, `${why}\n`);
    }
    metrics.scrape().then(
      (text) => send(200, text, metrics.contentType),
      (e) => send(503, `cannot read the counters: ${(e as Error).message}\n`),
    );
  });
  server.keepAliveTimeout = 65000; // longer than Prometheus' idle connection reuse
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = hostPort(listen.host, listen.port);
      if (e.code === 'EADDRINUSE') {
        reject(new DpfwdError('EADDRINUSE', `metrics.listen ${where}: the address is already in use (another dpfwd or exporter?); choose another port in metrics.listen, or set metrics.listen: false`));
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
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
