/**
 * src/log.ts: the line formats, levels, and the rate limit that keeps a flood of events to a
 * bounded number of lines. Unit tests (no forwarder); reload.test.ts reads a forwarder's real
 * JSON log.
 */
import { strict as assert } from 'assert';
import { formatLine, LEVELS, Logger, RateLimit } from '../src/log';

function capture(settings: Parameters<typeof Logger.create>[0] = {}) {
  const lines: string[] = [];
  return { lines, log: Logger.create(settings, (l) => lines.push(l), 'test') };
}

describe('logger', () => {
  it('json: one object per line with an ISO time, level, component, message and the fields', () => {
    const { lines, log } = capture({ format: 'json' });
    log.child('control').info('route.add by uid 0 pid 7: ok\nsecond line', { op: 'route.add', uid: 0, pid: 7, ok: true });
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n') && lines[0].indexOf('\n') === lines[0].length - 1, 'exactly one line');
    const o = JSON.parse(lines[0]);
    assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(new Date(o.time).toISOString(), o.time);
    assert.deepEqual(
      { ...o, time: undefined },
      { time: undefined, level: 'info', component: 'control', msg: 'route.add by uid 0 pid 7: ok\nsecond line', op: 'route.add', uid: 0, pid: 7, ok: true },
    );
  });

  it('text: timestamp, level, component and the words; continuation lines indented; no colour codes', () => {
    const t = new Date('2026-12-02T06:40:01.123Z');
    assert.equal(
      formatLine('text', t, 'warn', 'reload', 'refused:\nports[0].mtu', { a: 1 }),
      '2026-12-02T06:40:01.123Z warn  reload: refused:\n    ports[0].mtu\n',
    );
    const { lines, log } = capture();
    log.error('x');
    assert.doesNotMatch(lines[0], /\x1b\[/);
  });

  it('text: control characters a client sent (ESC sequences, CR, BEL, C1) are written escaped; JSON escapes them itself', () => {
    const t = new Date('2026-12-02T06:40:01.123Z');
    const hostile = 'route.add by uid 1000: no route \x1b[2J\x1b]0;owned\x07 10.9.0.0/16\rFAKE\x9b\tend';
    const line = formatLine('text', t, 'warn', 'control', hostile);
    assert.equal(line, '2026-12-02T06:40:01.123Z warn  control: route.add by uid 1000: no route \\x1b[2J\\x1b]0;owned\\x07 10.9.0.0/16\\x0dFAKE\\x9b\tend\n');
    assert.doesNotMatch(line, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    const json = formatLine('json', t, 'warn', 'control', hostile, { args: { prefix: '\x1b[31m' } });
    assert.doesNotMatch(json.slice(0, -1), /[\x00-\x1f\x7f-\x9f]/u, 'no raw control character in the JSON line');
    assert.equal(JSON.parse(json).msg, hostile);
  });

  it('levels: lines below the level are not written; configure changes every child at once', () => {
    const { lines, log } = capture({ level: 'warn' });
    const c = log.child('neighbor');
    c.info('no');
    c.debug('no');
    c.warn('yes');
    log.configure({ level: 'debug' });
    c.debug('now yes');
    assert.deepEqual(
      lines.map((l) => l.replace(/^\S+ /, '')),
      ['warn  neighbor: yes\n', 'debug neighbor: now yes\n'],
    );
    assert.deepEqual([...LEVELS], ['error', 'warn', 'info', 'debug']);
  });
});

describe('log rate limit', () => {
  it('a flood of events costs at most rateLimit lines a second plus one summary a second, with the count held back', () => {
    const { lines, log } = capture({ format: 'json', rateLimit: 5 });
    let now = 0;
    const rl = new RateLimit(log.child('neighbor'), () => now);
    let events = 0;
    // 10 s of 1000 events a second
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 1000; i++) {
        now = s * 1000 + i;
        rl.line('neighbor', 'info', `neighbour ${i}`);
        events++;
      }
      rl.flush(); // what the 1 s timer does
    }
    const parsed = lines.map((l) => JSON.parse(l));
    const single = parsed.filter((o) => o.msg.startsWith('neighbour '));
    const summaries = parsed.filter((o) => o.suppressed !== undefined);
    assert.ok(single.length <= 5 + 5 * 10, `${single.length} lines for ${events} events`);
    assert.ok(summaries.length <= 10, `${summaries.length} summaries`);
    assert.equal(single.length + summaries.reduce((n, o) => n + o.suppressed, 0), events, 'every event is a line or counted in a summary');
    assert.equal(rl.suppressed.neighbor, events - single.length);
    rl.close();
  });

  it('kinds have their own buckets, and lines below the level take no token', () => {
    const { lines, log } = capture({ rateLimit: 1, level: 'info' });
    const rl = new RateLimit(log, () => 0);
    assert.equal(rl.line('a', 'debug', 'invisible'), false);
    assert.equal(rl.line('a', 'info', 'a1'), true);
    assert.equal(rl.line('a', 'info', 'a2'), false);
    assert.equal(rl.line('b', 'info', 'b1'), true);
    rl.close();
    assert.equal(lines.length, 3);
    assert.match(lines[2], /1 a log lines suppressed/);
  });
});
