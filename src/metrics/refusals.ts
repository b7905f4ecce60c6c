/**
 * Counts of clients a server refused or disconnected, by reason, with a rate-limited log: the
 * first refusal after a quiet period is logged at once, later ones are summed into one line per
 * interval. A flood of bad clients therefore costs one log line per interval, never one per event.
 */
export type Logger = (msg: string) => void;

/** Why the control socket refused or disconnected a client; the label of dpfwd_control_refused_total. */
export const CONTROL_REFUSALS = ['request_too_large', 'buffers_full', 'too_many_clients', 'request_timeout', 'idle_timeout'] as const;
export type ControlRefusal = (typeof CONTROL_REFUSALS)[number];

/** Why the metrics listener refused or closed a connection; the label of dpfwd_metrics_refused_total. */
export const METRICS_REFUSALS = ['too_many_connections', 'request_timeout', 'idle_timeout', 'bad_request', 'too_many_pipelined'] as const;
export type MetricsRefusal = (typeof METRICS_REFUSALS)[number];

/** How often, at most, a server logs a summary of what it refused. */
export const REFUSAL_LOG_INTERVAL_MS = 10000;

export class Refusals<R extends string> {
  /** Totals since start, every reason present from the start (zeros included). */
  readonly counts: Record<R, number>;
  private pending: Partial<Record<R, number>> = {};
  private pendingAny = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly what: string,
    reasons: readonly R[],
    private readonly log: Logger,
    private readonly intervalMs = REFUSAL_LOG_INTERVAL_MS,
  ) {
    this.counts = Object.fromEntries(reasons.map((r) => [r, 0])) as Record<R, number>;
  }

  /** One refusal; `detail` goes into the log line when this one is logged on its own. */
  note(reason: R, detail: string): void {
    this.counts[reason]++;
    if (!this.timer) {
      this.log(`${this.what}: ${detail} (further refusals are summed every ${this.intervalMs / 1000} s)`);
      this.arm();
      return;
    }
    this.pending[reason] = (this.pending[reason] ?? 0) + 1;
    this.pendingAny = true;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.pendingAny) return;
      const parts = Object.entries(this.pending).map(([r, n]) => `${r} ${n}`);
      this.pending = {};
      this.pendingAny = false;
      this.log(`${this.what}: refused in the last ${this.intervalMs / 1000} s: ${parts.join(', ')}`);
      this.arm();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Logs what is pending and stops the timer (server close). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pendingAny) {
      this.log(
        `${this.what}: refused before closing: ${Object.entries(this.pending)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ')}`,
      );
    }
    this.pending = {};
    this.pendingAny = false;
  }
}
