/**
 * The one logger of a running forwarder. Every line carries an ISO 8601 timestamp (UTC, ms), a
 * level and a component; `text` prints
 *
 *   2026-12-02T06:40:01.123Z info  forwarder: forwarding: 2 ports, 1 workers, 4 routes
 *
 * and `json` one object per line (`{"time","level","component","msg",...fields}`) for log
 * shippers. Lines go to stderr with one synchronous write each (journald, a pipe or a file see
 * whole lines, in order, even when the process ends right after); there are no colours, TTY or
 * not. Levels: error, warn, info, debug; lines below the current level cost one comparison.
 *
 * Per-event lines that a remote party can provoke (neighbour changes, control-socket changes)
 * go through a `RateLimit`: a token bucket per kind (`log.rateLimit` lines per second, the same
 * burst); what it holds back is counted and summed into one line per second, so a flood costs
 * at most rateLimit + 1 lines a second per kind.
 *
 * Layer 0 (next to errors.ts): imports nothing of dpfwd.
 */
import * as fs from 'fs';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type Level = (typeof LEVELS)[number];

export interface LogSettings {
  level: Level;
  format: LogFormat;
  /** lines per second per rate-limited kind (and the bucket's burst) */
  rateLimit: number;
}

export const LOG_DEFAULTS: LogSettings = { level: 'info', format: 'text', rateLimit: 10 };

/** Where lines go: one call per line, the line ends with '\n'. */
export type Sink = (line: string) => void;

const stderrSink: Sink = (line) => {
  try {
    fs.writeSync(2, line);
  } catch {
    /* stderr closed: nothing to tell */
  }
};

export type Fields = Record<string, unknown>;

/** The shared state of one process's loggers: settings and sink, changed in place (reload). */
class Root {
  settings: LogSettings = { ...LOG_DEFAULTS };
  sink: Sink = stderrSink;
  /** lines written per level, for tests and `show controlplane`-style summaries */
  readonly written: Record<Level, number> = { error: 0, warn: 0, info: 0, debug: 0 };
}

export class Logger {
  private constructor(
    private readonly root: Root,
    readonly component: string,
  ) {}

  /** A fresh root logger (tests); the process's own is `rootLogger`. */
  static create(settings: Partial<LogSettings> = {}, sink: Sink = stderrSink, component = 'dpfwd'): Logger {
    const r = new Root();
    r.settings = { ...LOG_DEFAULTS, ...settings };
    r.sink = sink;
    return new Logger(r, component);
  }

  /** The same settings and sink under another component name. */
  child(component: string): Logger {
    return new Logger(this.root, component);
  }

  get settings(): Readonly<LogSettings> {
    return this.root.settings;
  }

  /** Changes level, format or rate for every logger of this root (a reload, the command line). */
  configure(s: Partial<LogSettings>): void {
    this.root.settings = { ...this.root.settings, ...s };
  }

  get written(): Readonly<Record<Level, number>> {
    return this.root.written;
  }

  enabled(level: Level): boolean {
    return LEVELS.indexOf(level) <= LEVELS.indexOf(this.root.settings.level);
  }

  log(level: Level, msg: string, fields?: Fields, component = this.component): void {
    if (!this.enabled(level)) return;
    this.root.written[level]++;
    this.root.sink(formatLine(this.root.settings.format, new Date(), level, component, msg, fields));
  }

  error(msg: string, fields?: Fields): void {
    this.log('error', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.log('warn', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.log('info', msg, fields);
  }
  debug(msg: string, fields?: Fields): void {
    this.log('debug', msg, fields);
  }

  /** A `(msg) => void` at one level, for modules that take a plain logging function. */
  fn(level: Level = 'info'): (msg: string) => void {
    return (msg) => this.log(level, msg);
  }
}

/**
 * One event as one line (json) or one line plus indented continuation lines (text, for
 * multi-line messages such as a config's errors). Fields appear in json only.
 */
export function formatLine(format: LogFormat, time: Date, level: Level, component: string, msg: string, fields?: Fields): string {
  if (format === 'json') {
    // JSON.stringify escapes C0 but not DEL and C1 (0x9b is a CSI to some terminals): \u00XX, still the same string
    return `${JSON.stringify({ time: time.toISOString(), level, component, msg, ...fields }).replace(/[\x7f-\x9f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n`;
  }
  // text: the message carries the words; the fields are for machines (json)
  return `${time.toISOString()} ${level.padEnd(5)} ${component}: ${escapeControls(msg).replace(/\n/g, '\n    ')}\n`;
}

/**
 * Control characters other than tab and newline (which starts a continuation line) as \xHH: what a client
 * sends (a route's name, an argument) can never move the cursor, recolour or clear a terminal
 * that shows the log, nor fake a line of its own (a bare CR). JSON lines: \u escapes.
 */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The process's logger: `dpfwd run` configures it from --log-* and the config's `log:`. */
export const rootLogger = Logger.create();

/**
 * Per-kind token bucket in front of a logger (see the header). `kind` groups what is summed:
 * 'neighbor', 'control', …. The clock and timer are injectable for tests.
 */
export class RateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number; held: number }>();
  private timer: NodeJS.Timeout | null = null;
  /** lines held back since start, per kind */
  readonly suppressed: Record<string, number> = {};

  constructor(
    private readonly log: Logger,
    private readonly now = () => Date.now(),
  ) {}

  /**
   * Logs the line if the kind's bucket has a token, else counts it for the next summary. `msg`
   * and `fields` may be functions, called only when the line is written (a flood builds no text).
   */
  line(kind: string, level: Level, msg: string | (() => string), fields?: Fields | (() => Fields)): boolean {
    if (!this.log.enabled(level)) return false;
    const rate = this.log.settings.rateLimit;
    const t = this.now();
    let b = this.buckets.get(kind);
    if (!b) {
      b = { tokens: rate, at: t, held: 0 };
      this.buckets.set(kind, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((t - b.at) * rate) / 1000);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens--;
      this.log.log(level, typeof msg === 'function' ? msg() : msg, typeof fields === 'function' ? fields() : fields);
      return true;
    }
    b.held++;
    this.suppressed[kind] = (this.suppressed[kind] ?? 0) + 1;
    this.arm();
    return false;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, 1000);
    this.timer.unref();
  }

  /** Writes one summary line per kind that held lines back. */
  flush(): void {
    for (const [kind, b] of this.buckets) {
      if (!b.held) continue;
      this.log.log('warn', `${b.held} ${kind} log lines suppressed in the last second (log.rateLimit ${this.log.settings.rateLimit}/s)`, {
        suppressed: b.held,
        kind,
      });
      b.held = 0;
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush();
  }
}
