/**
 * Metrics: the Prometheus registry read from one snapshot per scrape (registry.ts), the HTTP
 * listener with /metrics and /healthz (server.ts), the health rule (health.ts) and the refusal
 * counters the listeners share (refusals.ts). Entry file of src/metrics.
 */
export * from './registry';
export { startMetricsServer, MetricsServer } from './server';
export { METRICS_REFUSALS } from './refusals';
