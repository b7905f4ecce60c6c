/**
 * Health of a running forwarder, computed on request from what the dataplane reports now (no
 * timer): every worker lcore running, and no punted packet waiting longer than punt.maxWaitMs
 * for the control plane. Used by GET /healthz and `dpfwd show workers`.
 */
import type { NativePuntStatus } from '../dataplane/native';

export interface PuntHealth {
  /** packets in the worker's punt ring */
  waiting: number;
  /** how long they have waited for a drain, at least: 0 when none wait */
  waitMs: number;
  ok: boolean;
}

/**
 * Per worker: punts that wait while the control plane has not drained for longer than maxWaitMs
 * mean the control plane is not taking them (wedged, or its event loop is blocked). A busy but
 * live control plane drains every event-loop turn, so a non-empty ring alone is not unhealthy.
 */
export function puntHealth(status: NativePuntStatus[], maxWaitMs: number): PuntHealth[] {
  return status.map((s) => {
    const waitMs = s.waiting > 0 ? Math.round(s.sinceDrainMs) : 0;
    return { waiting: s.waiting, waitMs, ok: waitMs <= maxWaitMs };
  });
}

export interface HealthSource {
  dp: { workersAlive(): number; puntStatus(): NativePuntStatus[] };
  config: { workers: unknown[]; punt: { maxWaitMs: number } };
  /** the route sync: a failed netlink socket is unhealthy (routes no longer follow the kernel) */
  sync?: { status(): { state: string; lastError: string | null } } | null;
  /** the Linux mirrors: a broken one (deleted, moved away) is unhealthy (the routing daemons behind it are cut off) */
  mirrors?: { rows(): { port: string; mirror: string; broken?: string | null }[] };
}

/** null when healthy, else one line naming what is wrong and the setting involved. */
export function unhealthy(src: HealthSource): string | null {
  let alive = 0;
  let punts: PuntHealth[] = [];
  try {
    alive = src.dp.workersAlive();
    punts = puntHealth(src.dp.puntStatus(), src.config.punt.maxWaitMs);
  } catch {
    /* stopping */
  }
  const want = src.config.workers.length;
  if (alive !== want) return `workers alive: ${alive} of ${want}`;
  const stuck = punts.findIndex((p) => !p.ok);
  if (stuck >= 0) {
    const p = punts[stuck];
    return `control plane stuck: ${p.waiting} punted packets on worker ${stuck} waited ${p.waitMs} ms (punt.maxWaitMs ${src.config.punt.maxWaitMs})`;
  }
  const sync = src.sync?.status();
  if (sync?.state === 'failed') return `route sync failed: ${sync.lastError}`;
  const mirror = src.mirrors?.rows().find((m) => m.broken);
  if (mirror) return `linux mirror ${mirror.mirror} of port ${mirror.port} broken: ${mirror.broken}`;
  return null;
}
