/**
 * Long request lines are parsed off the main thread: the event loop that answers ARP, ICMP and
 * /healthz never spends a 60 MiB line's decoding and JSON.parse (about a second per 64 MiB here,
 * 49 s for one made of 20 million empty objects). One worker thread, started at the first long
 * line and kept (unref'd); lines are parsed in the order given. The worker runs parseRequest
 * (request.ts), so the main thread receives only requests within the depth and value bounds; a
 * worker that dies (its heap is bounded) fails what it held with E2BIG and is started again.
 */
import { isMainThread, parentPort, Worker } from 'worker_threads';
import { parseRequest, ParseResult } from './request';

/** Heap of the parse worker: a 64 MiB line's string and its parse fit; a hostile one ends the worker, not the process. */
const WORKER_HEAP_MB = 1024;

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (m: { seq: number; parts: { ab: ArrayBuffer; length: number }[] }) => {
    let total = 0;
    for (const p of m.parts) total += p.length;
    const line = Buffer.allocUnsafe(total);
    let at = 0;
    for (const p of m.parts) at += Buffer.from(p.ab, 0, p.length).copy(line, at);
    m.parts = [];
    port.postMessage({ seq: m.seq, result: parseRequest(line) });
  });
}

export class ParseWorker {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<number, (r: ParseResult) => void>();

  /**
   * Parses the line made of `parts` (each part's first `length` bytes) in the worker. A part that
   * owns its whole ArrayBuffer (a socket read does) is moved there without a copy: the caller must
   * not use the parts again. Others are copied (they are small).
   */
  parse(parts: { buf: Buffer; length: number }[]): Promise<ParseResult> {
    const w = this.start();
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(seq, resolve);
      if (this.pending.size === 1) w.ref();
      const msg: { ab: ArrayBuffer; length: number }[] = [];
      for (const p of parts) {
        const owned = p.buf.byteOffset === 0 && p.buf.byteLength === p.buf.buffer.byteLength && p.buf.buffer instanceof ArrayBuffer;
        const ab = owned ? (p.buf.buffer as ArrayBuffer) : new Uint8Array(p.buf.subarray(0, p.length)).buffer;
        msg.push({ ab, length: p.length });
      }
      try {
        w.postMessage(
          { seq, parts: msg },
          msg.map((p) => p.ab),
        );
      } catch {
        // a buffer that cannot move (shared by two parts): copy them all instead
        w.postMessage({ seq, parts: parts.map((p) => ({ ab: new Uint8Array(p.buf.subarray(0, p.length)).buffer, length: p.length })) });
      }
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(__filename, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    w.on('message', (m: { seq: number; result: ParseResult }) => {
      const done = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      if (!this.pending.size) w.unref();
      done?.(m.result);
    });
    const failAll = (why: string) => {
      if (this.worker !== w) return;
      this.worker = null;
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const f of all) f({ ok: false, id: null, code: 'E2BIG', message: `request too large to parse (${why})` });
    };
    w.on('error', (e) => failAll(e.message));
    w.on('exit', (code) => failAll(`parser exited with code ${code}`));
    w.unref();
    this.worker = w;
    return w;
  }

  close(): void {
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
  }
}
