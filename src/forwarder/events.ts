/**
 * What changed, as it happened (`dpfwd monitor`, like `ip monitor`): routes, addresses,
 * neighbours, links and the route sync's state, one line each, in a ring of the last EVENT_RING.
 * A client asks for what came after the last sequence number it saw (the `events` op) and is told
 * how many it missed when the ring moved past them: nothing is pushed to a client, so a slow or
 * absent one costs the router nothing but the ring.
 */

export const EVENT_KINDS = ['route', 'address', 'neigh', 'link', 'sync'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface DpfwdEvent {
  seq: number;
  /** ISO 8601, milliseconds */
  time: string;
  kind: EventKind;
  text: string;
}

export const EVENT_RING = 4096;

interface Held {
  seq: number;
  /** ms since the epoch: formatted when read (a reload of 200k routes makes 200k of these) */
  at: number;
  kind: EventKind;
  text: string;
}

export class EventLog {
  private readonly ring: (Held | undefined)[] = new Array(EVENT_RING);
  /** the sequence number the next event gets */
  private next = 1;

  emit(kind: EventKind, text: string): void {
    const seq = this.next++;
    this.ring[seq % EVENT_RING] = { seq, at: Date.now(), kind, text };
  }

  /**
   * Events after sequence number `after` (at most `max`); `after` < 0 asks for none, only where
   * the log is now. `last` is what to ask after next time; `missed` counts events the ring no
   * longer held.
   */
  since(after: number, max = 1000): { events: DpfwdEvent[]; last: number; missed: number } {
    const newest = this.next - 1;
    if (after < 0 || after > newest) return { events: [], last: newest, missed: 0 };
    const oldest = Math.max(1, this.next - EVENT_RING);
    const from = Math.max(after + 1, oldest);
    const events: DpfwdEvent[] = [];
    for (let s = from; s <= newest && events.length < max; s++) {
      const h = this.ring[s % EVENT_RING]!;
      events.push({ seq: h.seq, time: new Date(h.at).toISOString(), kind: h.kind, text: h.text });
    }
    return { events, last: from + events.length - 1, missed: from - (after + 1) };
  }
}
