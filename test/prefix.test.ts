import { strict as assert } from 'assert';
import { DpfwdError } from '../src/errors';
import {
  findAddressConflict,
  formatIPv4,
  formatPrefix,
  maskOf,
  networkOf,
  parseIPv4,
  parseInterfaceAddress,
  parsePrefix,
  parseUnicastIPv4,
  prefixContains,
  prefixesOverlap,
} from '../src/net/ipv4';
import { formatMac, macBytes, parseMac, readMac } from '../src/net/mac';
import {
  parseRouteFile,
  parseRouteLine,
  parseRouteWords,
  routeFromFields,
  RouteError,
  RouteBatch,
  ROUTE_BLACKHOLE,
  ROUTE_PORT,
  ROUTE_PORT_ID,
  ROUTE_VIA,
} from '../src/routing';

function throwsMsg(fn: () => unknown, msg: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DpfwdError, `not a DpfwdError: ${String(e)}`);
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.message, msg);
    return true;
  });
}

describe('prefix: IPv4 addresses', () => {
  const good: [string, number][] = [
    ['0.0.0.0', 0],
    ['10.1.0.1', 0x0a010001],
    ['255.255.255.255', 0xffffffff],
    ['192.168.100.200', 0xc0a864c8],
    ['1.2.3.4', 0x01020304],
  ];
  for (const [s, n] of good) {
    it(`parses ${s}`, () => {
      assert.equal(parseIPv4(s), n);
      assert.equal(formatIPv4(n), s);
    });
  }
  const bad = [
    '',
    '10.1.0',
    '10.1.0.1.2',
    '256.1.1.1',
    '1.2.3.-4',
    '1..2.3',
    '1.2.3.4 ',
    ' 1.2.3.4',
    'a.b.c.d',
    '1.2.3.4/24',
    '0x10.1.1.1',
    '1234.1.1.1',
    '1.2.3.',
  ];
  for (const s of bad) {
    it(`rejects ${JSON.stringify(s)}`, () => {
      const shown = s === '' || s.trim() !== s ? JSON.stringify(s) : s;
      throwsMsg(() => parseIPv4(s), `${shown} is not an IPv4 address (expected four numbers 0-255 like 10.1.0.1)`);
    });
  }
  it('rejects leading zeros as ambiguous (octal to inet_aton)', () => {
    throwsMsg(
      () => parseIPv4('010.1.0.1'),
      '010.1.0.1 is not an IPv4 address: leading zeros are ambiguous (octal or decimal?); write each number 0-255 without them',
    );
    throwsMsg(
      () => parseIPv4('10.1.00.1'),
      '10.1.00.1 is not an IPv4 address: leading zeros are ambiguous (octal or decimal?); write each number 0-255 without them',
    );
  });
  it('parseUnicastIPv4 rejects non-host addresses', () => {
    assert.equal(parseUnicastIPv4('10.2.0.2'), 0x0a020002);
    throwsMsg(() => parseUnicastIPv4('224.0.0.1'), '224.0.0.1 is a multicast address, not a unicast host address');
    throwsMsg(() => parseUnicastIPv4('255.255.255.255'), '255.255.255.255 is the limited broadcast address, not a unicast host address');
    throwsMsg(() => parseUnicastIPv4('127.0.0.1'), '127.0.0.1 is a loopback address, not a unicast host address');
    throwsMsg(() => parseUnicastIPv4('0.1.2.3'), '0.1.2.3 is in 0.0.0.0/8 ("this network"), not a unicast host address');
    throwsMsg(() => parseUnicastIPv4('240.0.0.1'), '240.0.0.1 is in the reserved range 240.0.0.0/4, not a unicast host address');
  });
});

describe('prefix: masks and prefixes', () => {
  it('maskOf', () => {
    assert.equal(maskOf(0), 0);
    assert.equal(maskOf(1), 0x80000000);
    assert.equal(maskOf(24), 0xffffff00);
    assert.equal(maskOf(31), 0xfffffffe);
    assert.equal(maskOf(32), 0xffffffff);
    throwsMsg(() => maskOf(33), '33 is not an IPv4 prefix length (0-32)');
  });
  it('networkOf', () => {
    assert.equal(formatIPv4(networkOf(parseIPv4('10.1.2.3'), 16)), '10.1.0.0');
  });
  it('parses prefixes', () => {
    assert.deepEqual(parsePrefix('10.1.0.0/16'), { addr: 0x0a010000, len: 16 });
    assert.deepEqual(parsePrefix('0.0.0.0/0'), { addr: 0, len: 0 });
    assert.deepEqual(parsePrefix('10.1.0.1/32'), { addr: 0x0a010001, len: 32 });
    assert.equal(formatPrefix(parsePrefix('192.168.0.0/24')), '192.168.0.0/24');
  });
  const errs: [string, string][] = [
    ['10.1.0.1/16', '10.1.0.1/16 has host bits set; did you mean 10.1.0.0/16?'],
    ['10.1.0.1/33', '10.1.0.1/33 is not an IPv4 prefix'],
    ['10.1.0.0/', '10.1.0.0/ is not an IPv4 prefix'],
    ['10.1.0.0/016', '10.1.0.0/016 is not an IPv4 prefix'],
    ['10.1.0.0/x', '10.1.0.0/x is not an IPv4 prefix'],
    ['10.1.0.0', '10.1.0.0 is not an IPv4 prefix (missing /length, e.g. 10.1.0.0/32)'],
    ['10.1.0/16', '10.1.0/16 is not an IPv4 prefix (expected address/length like 10.1.0.0/16)'],
    ['010.1.0.0/16', '010.1.0.0/16 is not an IPv4 prefix: leading zeros are ambiguous (octal or decimal?); write each number 0-255 without them'],
    ['0.0.0.1/0', '0.0.0.1/0 has host bits set; did you mean 0.0.0.0/0?'],
  ];
  for (const [s, m] of errs) it(`parsePrefix(${s}) → ${m}`, () => throwsMsg(() => parsePrefix(s), m));

  it('prefixContains', () => {
    const p = parsePrefix('10.1.0.0/16');
    assert.ok(prefixContains(p, parseIPv4('10.1.255.255')));
    assert.ok(!prefixContains(p, parseIPv4('10.2.0.0')));
    assert.ok(prefixContains(parsePrefix('0.0.0.0/0'), parseIPv4('200.1.1.1')));
    assert.ok(prefixContains(parsePrefix('128.0.0.0/1'), parseIPv4('200.1.1.1')));
    assert.ok(!prefixContains(parsePrefix('10.1.0.1/32'), parseIPv4('10.1.0.2')));
  });
  it('prefixesOverlap', () => {
    assert.ok(prefixesOverlap(parsePrefix('10.0.0.0/8'), parsePrefix('10.1.0.0/16')));
    assert.ok(prefixesOverlap(parsePrefix('10.1.0.0/16'), parsePrefix('10.0.0.0/8')));
    assert.ok(!prefixesOverlap(parsePrefix('10.1.0.0/16'), parsePrefix('10.2.0.0/16')));
    assert.ok(prefixesOverlap(parsePrefix('0.0.0.0/0'), parsePrefix('255.0.0.0/8')));
    assert.ok(!prefixesOverlap(parseInterfaceAddress('10.1.0.1/31'), parseInterfaceAddress('10.1.0.2/31')));
  });
});

describe('prefix: interface addresses', () => {
  it('allows host bits', () => {
    assert.deepEqual(parseInterfaceAddress('10.1.0.1/24'), { addr: 0x0a010001, len: 24 });
    assert.deepEqual(parseInterfaceAddress('10.1.0.0/31'), { addr: 0x0a010000, len: 31 });
    assert.deepEqual(parseInterfaceAddress('10.1.0.1/31'), { addr: 0x0a010001, len: 31 });
    assert.deepEqual(parseInterfaceAddress('10.1.0.0/32'), { addr: 0x0a010000, len: 32 });
  });
  const errs: [string, string][] = [
    ['10.1.0.1/33', '10.1.0.1/33 is not an IPv4 prefix'],
    ['10.1.0.0/24', '10.1.0.0/24 is the network address of its subnet, not a host address; did you mean 10.1.0.1/24?'],
    ['10.1.0.255/24', '10.1.0.255/24 is the broadcast address of 10.1.0.0/24, not a host address; did you mean 10.1.0.1/24?'],
    ['10.1.0.3/30', '10.1.0.3/30 is the broadcast address of 10.1.0.0/30, not a host address; did you mean 10.1.0.1/30?'],
    ['10.1.0.1/0', '10.1.0.1/0 is not an interface address: a /0 subnet would make every address connected'],
    ['224.0.0.1/24', '224.0.0.1/24 is not an interface address: 224.0.0.1 is a multicast address'],
    ['127.0.0.1/8', '127.0.0.1/8 is not an interface address: 127.0.0.1 is a loopback address'],
  ];
  for (const [s, m] of errs) it(`parseInterfaceAddress(${s}) → ${m}`, () => throwsMsg(() => parseInterfaceAddress(s), m));

  describe('findAddressConflict', () => {
    const existing = [
      { port: 'west', addr: '10.10.1.1/24' },
      { port: 'east', addr: '10.20.0.1/16' },
    ];
    const cases: [string, string, string | null][] = [
      ['east', '10.10.1.2/24', 'address 10.10.1.2/24 on port east conflicts with 10.10.1.1/24 on port west'],
      ['west', '10.10.1.2/24', 'address 10.10.1.2/24 on port west conflicts with 10.10.1.1/24 on port west'],
      ['west', '10.10.1.1/24', 'address 10.10.1.1/24 is already configured on port west'],
      ['east', '10.10.1.1/24', 'address 10.10.1.1/24 on port east conflicts with 10.10.1.1/24 on port west'],
      ['west', '10.20.5.1/24', 'address 10.20.5.1/24 on port west conflicts with 10.20.0.1/16 on port east'],
      ['west', '10.0.0.1/8', 'address 10.0.0.1/8 on port west conflicts with 10.10.1.1/24 on port west'],
      ['west', '10.20.0.9/32', 'address 10.20.0.9/32 on port west conflicts with 10.20.0.1/16 on port east'],
      ['east', '10.30.0.1/24', null],
      ['west', '10.10.2.1/24', null],
    ];
    for (const [port, addr, want] of cases) {
      it(`${addr} on ${port} → ${want}`, () => assert.equal(findAddressConflict(existing, port, addr), want));
    }
  });
});

describe('prefix: MAC addresses', () => {
  it('parses case-insensitively and formats lowercase', () => {
    const m = parseMac('02:AB:cd:00:01:ff');
    assert.deepEqual([...macBytes(m)], [2, 0xab, 0xcd, 0, 1, 0xff]);
    assert.equal(formatMac(m), '02:ab:cd:00:01:ff');
    assert.equal(formatMac(macBytes(m)), '02:ab:cd:00:01:ff');
    assert.equal(m, 0x02abcd0001ff);
    assert.equal(readMac(Buffer.from([0, 2, 0, 0, 0, 0, 1]), 1), parseMac('02:00:00:00:00:01'));
    assert.equal(formatMac(0xfeffffffffff), 'fe:ff:ff:ff:ff:ff');
  });
  for (const s of ['02:00:00:00:01', '02:00:00:00:01:022', '02-00-00-00-01-02', '0g:00:00:00:01:02', '020000000102', '', '2:0:0:0:1:2']) {
    it(`rejects ${JSON.stringify(s)}`, () => {
      const shown = s === '' ? '""' : s;
      throwsMsg(() => parseMac(s), `${shown} is not a MAC address (expected six hex pairs like 02:00:00:00:01:02)`);
    });
  }
  it('allows multicast without { unicast }, rejects it with', () => {
    assert.equal(formatMac(parseMac('01:00:5e:00:00:01')), '01:00:5e:00:00:01');
    throwsMsg(
      () => parseMac('01:00:5e:00:00:01', { unicast: true }),
      '01:00:5e:00:00:01 is a multicast MAC (lowest bit of the first byte set); a neighbour or port needs a unicast MAC',
    );
    throwsMsg(() => parseMac('00:00:00:00:00:00', { unicast: true }), '00:00:00:00:00:00 is the zero MAC; a neighbour or port needs a unicast MAC');
    throwsMsg(() => parseMac('FF:FF:FF:FF:FF:FF', { unicast: true }), 'ff:ff:ff:ff:ff:ff is the broadcast MAC; a neighbour or port needs a unicast MAC');
  });
});

describe('prefix: route lines', () => {
  const ip = parseIPv4;
  const good: [string, ReturnType<typeof parseRouteLine>][] = [
    ['10.20.0.0/16 via 10.2.0.2 port east', { addr: ip('10.20.0.0'), len: 16, via: ip('10.2.0.2'), port: 'east', blackhole: false }],
    ['10.20.0.0/16 port east via 10.2.0.2', { addr: ip('10.20.0.0'), len: 16, via: ip('10.2.0.2'), port: 'east', blackhole: false }],
    ['10.20.0.0/16 via 10.2.0.2', { addr: ip('10.20.0.0'), len: 16, via: ip('10.2.0.2'), blackhole: false }],
    ['10.20.0.0/16 port east', { addr: ip('10.20.0.0'), len: 16, port: 'east', blackhole: false }],
    ['10.20.0.0/16 dev east', { addr: ip('10.20.0.0'), len: 16, port: 'east', blackhole: false }],
    ['10.20.0.0/16 blackhole', { addr: ip('10.20.0.0'), len: 16, blackhole: true }],
    ['0.0.0.0/0 via 10.2.0.1', { addr: 0, len: 0, via: ip('10.2.0.1'), blackhole: false }],
    ['  10.20.0.0/16\tport   east   # comment', { addr: ip('10.20.0.0'), len: 16, port: 'east', blackhole: false }],
    ['10.20.0.0/16 port east\r', { addr: ip('10.20.0.0'), len: 16, port: 'east', blackhole: false }],
    ['R10.20.0.0/16 1', { addr: ip('10.20.0.0'), len: 16, portId: 1, blackhole: false }],
    ['R198.18.0.0/24 0', { addr: ip('198.18.0.0'), len: 24, portId: 0, blackhole: false }],
    ['', null],
    ['   ', null],
    ['# a comment', null],
    ['   # indented comment', null],
  ];
  for (const [line, want] of good) it(`parses ${JSON.stringify(line)}`, () => assert.deepEqual(parseRouteLine(line, 1), want));

  const bad: [string, string][] = [
    ['10.20.0.1/16 port east', 'line 7: 10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?'],
    ['10.20.0.0/33 port east', 'line 7: 10.20.0.0/33 is not an IPv4 prefix'],
    ['10.20.0.0 port east', 'line 7: 10.20.0.0 is not an IPv4 prefix (missing /length, e.g. 10.20.0.0/32)'],
    ['10.20.0.0/16', 'line 7: 10.20.0.0/16 needs "via <address>", "port <name>" or "blackhole"'],
    ['10.20.0.0/16 via', 'line 7: via needs a value'],
    ['10.20.0.0/16 via 10.2.0', 'line 7: 10.2.0 is not an IPv4 address (expected four numbers 0-255 like 10.1.0.1)'],
    ['10.20.0.0/16 via 224.0.0.1', 'line 7: via 224.0.0.1: 224.0.0.1 is a multicast address, not a next-hop address'],
    ['10.20.0.0/16 port East', 'line 7: East is not a port name'],
    ['10.20.0.0/16 gateway 10.2.0.2', 'line 7: expected "via <address>", "port <name>", "blackhole" or "nexthop" after 10.20.0.0/16, got "gateway"'],
    ['10.20.0.0/16 blackhole via 10.2.0.2', 'line 7: a blackhole route takes no via or port'],
    ['10.20.0.0/16 via 10.2.0.2 via 10.2.0.3', 'line 7: via given twice'],
    ['10.20.0.0/16 port a port b', 'line 7: port given twice'],
    ['R10.20.0.0/16', 'line 7: l3fwd route lines are R<prefix> <port id>, e.g. R10.20.0.0/16 1'],
    ['R10.20.0.0/16 x', 'line 7: x is not a port id (0-65535)'],
    ['R10.20.0.0/16 70000', 'line 7: 70000 is not a port id (0-65535)'],
    ['R10.20.0.1/16 1', 'line 7: 10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?'],
  ];
  for (const [line, msg] of bad) it(`rejects ${JSON.stringify(line)}`, () => throwsMsg(() => parseRouteLine(line, 7), msg));

  it('parses CLI words and socket fields with the same parser as files, each worded for its caller', () => {
    const want = { addr: 0x0a140000, len: 16, via: 0x0a020002, port: 'east', blackhole: false };
    assert.deepEqual(parseRouteWords(['10.20.0.0/16', 'via', '10.2.0.2', 'dev', 'east']), want);
    assert.deepEqual(routeFromFields({ prefix: '10.20.0.0/16', via: '10.2.0.2', port: 'east' }), want);
    assert.deepEqual(parseRouteLine('10.20.0.0/16 via 10.2.0.2 port east', 1), want);
    throwsMsg(() => parseRouteWords(['10.20.0.0/16', 'via']), "'via' needs a value");
    throwsMsg(() => parseRouteWords(['10.20.0.1/16', 'blackhole']), '10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?');
    throwsMsg(() => parseRouteWords(['R10.20.0.0/16', '1']), 'R10.20.0.0/16 is not an IPv4 prefix (expected address/length like 10.1.0.0/16)');
    throwsMsg(() => parseRouteWords(['10.20.0.0/16', 'via', '224.0.0.1']), 'via 224.0.0.1: 224.0.0.1 is a multicast address, not a next-hop address');
    throwsMsg(() => routeFromFields({ prefix: '10.20.0.0/16', via: '0.0.0.0' }), '0.0.0.0 is in 0.0.0.0/8 ("this network"), not a unicast host address');
    throwsMsg(() => routeFromFields({ prefix: '10.20.0.0/16', via: '10.2.0.2', blackhole: true }), 'a blackhole route takes no via or port');
    throwsMsg(() => routeFromFields({ prefix: '10.20.0.0/16', via: '10.2.0.2 # x' }), "'10.2.0.2 # x' is not one word of a route");
  });

  it('routeFromFields names the field at fault (the config gives its path)', () => {
    const fieldOf = (f: Parameters<typeof routeFromFields>[0]) => {
      try {
        routeFromFields(f);
      } catch (e) {
        return [(e as RouteError).field, (e as Error).message];
      }
      return 'accepted';
    };
    assert.deepEqual(fieldOf({ prefix: '10.20.0.0/33', via: '10.2.0.2' }), ['prefix', '10.20.0.0/33 is not an IPv4 prefix']);
    assert.deepEqual(fieldOf({ prefix: '10.20.0.0/16', via: '10.0.0.256' })[0], 'via');
    assert.deepEqual(fieldOf({ prefix: '10.20.0.0/16', via: '10.2.0.2', port: 'West' }), ['port', 'West is not a port name']);
    assert.deepEqual(fieldOf({ prefix: '10.20.0.0/16', port: 'east', blackhole: true }), ['blackhole', 'a blackhole route takes no via or port']);
    assert.deepEqual(fieldOf({ prefix: '10.20.0.0/16', via: '10.2.0.2 x' })[0], 'via');
    assert.deepEqual(fieldOf({ prefix: '10.20.0.0/16' }), [undefined, 'needs via, port or blackhole: true']);
  });

  it('parseRouteFile collects every error with its line number', () => {
    const text = '# routes\n10.20.0.0/16 via 10.2.0.2\n\n10.21.0.1/16 port east\nR10.22.0.0/16 1\n10.23.0.0/16 bogus\n';
    const r = parseRouteFile(text);
    assert.equal(r.routes.length, 2);
    assert.deepEqual(r.errors, [
      'line 4: 10.21.0.1/16 has host bits set; did you mean 10.21.0.0/16?',
      'line 6: expected "via <address>", "port <name>", "blackhole" or "nexthop" after 10.23.0.0/16, got "bogus"',
    ]);
  });

  it('parses 1M route lines within a sanity bound', function () {
    this.timeout(30000);
    const lines: string[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const a = (0x0b000000 + i * 256) >>> 0;
      lines.push(i % 2 ? `${formatIPv4(a)}/24 via 10.2.0.2 port east` : `R${formatIPv4(a)}/24 1`);
    }
    const text = lines.join('\n');
    const t0 = process.hrtime.bigint();
    const r = parseRouteFile(text);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(r.errors.length, 0);
    assert.equal(r.routes.length, 1_000_000);
    assert.ok(ms < 10000, `1M lines took ${ms.toFixed(0)} ms`);
  });
});

describe('prefix: route files into a RouteBatch', () => {
  const ip = parseIPv4;
  /** Rows of a batch as [prefix, kind, via, port] with the port as a name or an id. */
  const rows = (b: RouteBatch) =>
    Array.from({ length: b.length }, (_, i) => [
      formatPrefix({ addr: b.addrs[i], len: b.lens[i] }),
      b.kinds[i],
      b.kinds[i] === ROUTE_VIA ? formatIPv4(b.vias[i]) : b.vias[i],
      b.kinds[i] === ROUTE_PORT_ID ? b.ports[i] : b.ports[i] ? b.portNames[b.ports[i] - 1] : null,
    ]);

  it('fills one row per route, in file order, with each kind of next hop', () => {
    const r = parseRouteFile(
      '# c\n10.50.0.0/16 via 10.2.0.2\nR10.60.0.0/16 1\n\n10.70.0.0/16 port east\n10.80.0.0/16 blackhole # x\n10.90.0.0/16 dev south via 10.3.0.2\nR10.91.0.0/24 7',
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(rows(r.routes), [
      ['10.50.0.0/16', ROUTE_VIA, '10.2.0.2', null],
      ['10.60.0.0/16', ROUTE_PORT_ID, 0, 1],
      ['10.70.0.0/16', ROUTE_PORT, 0, 'east'],
      ['10.80.0.0/16', ROUTE_BLACKHOLE, 0, null],
      ['10.90.0.0/16', ROUTE_VIA, '10.3.0.2', 'south'],
      ['10.91.0.0/24', ROUTE_PORT_ID, 0, 7],
    ]);
  });

  it('keeps one entry per distinct port name, in order of first use', () => {
    const r = parseRouteFile('10.1.0.0/16 port east\n10.2.0.0/16 port west\n10.3.0.0/16 port east\n10.4.0.0/16 via 10.2.0.2 port west\n10.5.0.0/16 port east');
    assert.deepEqual(r.routes.portNames, ['east', 'west']);
    assert.deepEqual(Array.from(r.routes.ports.subarray(0, r.routes.length)), [1, 2, 1, 2, 1]);
  });

  it('adds no row for a bad line and names every bad line by its number (comments and blanks count)', () => {
    const r = parseRouteFile(
      '# head\n\n10.20.0.0/16 via 10.2.0.2\n10.21.0.0/16 port east port west\nR10.22.0.0/16 x\n   \n10.23.0.0/16 port east\nR10.24.0.1/24 1\n',
    );
    assert.deepEqual(rows(r.routes), [
      ['10.20.0.0/16', ROUTE_VIA, '10.2.0.2', null],
      ['10.23.0.0/16', ROUTE_PORT, 0, 'east'],
    ]);
    assert.deepEqual(r.errors, [
      'line 4: port given twice',
      'line 5: x is not a port id (0-65535)',
      'line 8: 10.24.0.1/24 has host bits set; did you mean 10.24.0.0/24?',
    ]);
  });

  it('grows past its initial capacity without losing or moving rows', () => {
    const n = 5000; // the batch starts with room for 1024
    const lines: string[] = [];
    for (let i = 0; i < n; i++)
      lines.push(
        i % 3 === 0 ? `R${formatIPv4((0x0b000000 + i * 256) >>> 0)}/24 ${i % 4}` : `${formatIPv4((0x0b000000 + i * 256) >>> 0)}/24 via 10.2.0.${(i % 200) + 1}`,
      );
    const r = parseRouteFile(lines.join('\n'));
    assert.deepEqual(r.errors, []);
    assert.equal(r.routes.length, n);
    assert.ok(r.routes.addrs.length >= n);
    for (const i of [0, 1, 1023, 1024, 1025, 2048, 4999]) {
      const want =
        i % 3 === 0
          ? { addr: (0x0b000000 + i * 256) >>> 0, len: 24, portId: i % 4, blackhole: false }
          : { addr: (0x0b000000 + i * 256) >>> 0, len: 24, via: ip(`10.2.0.${(i % 200) + 1}`), blackhole: false };
      assert.deepEqual(r.routes.entry(i), want, `row ${i}`);
    }
  });

  it('push grows a batch made with room for one', () => {
    const b = new RouteBatch(1);
    for (let i = 0; i < 40; i++) b.push(i * 256, 24, ROUTE_PORT, 0, b.portRef(i % 2 ? 'east' : 'west'));
    assert.equal(b.length, 40);
    assert.deepEqual(b.entry(39), { addr: 39 * 256, len: 24, port: 'east', blackhole: false });
    assert.deepEqual(b.entry(0), { addr: 0, len: 24, port: 'west', blackhole: false });
  });

  it('RouteBatch.from turns route objects into rows that read back the same', () => {
    const routes = [
      { addr: ip('10.20.0.0'), len: 16, via: ip('10.2.0.2'), port: 'east', blackhole: false },
      { addr: ip('10.21.0.0'), len: 16, via: ip('10.2.0.3'), blackhole: false },
      { addr: ip('10.22.0.0'), len: 16, port: 'west', blackhole: false },
      { addr: ip('10.23.0.0'), len: 16, blackhole: true },
      { addr: ip('10.24.0.0'), len: 16, portId: 3, blackhole: false },
    ];
    const b = RouteBatch.from(routes);
    assert.equal(b.length, routes.length);
    assert.deepEqual(
      Array.from({ length: b.length }, (_, i) => b.entry(i)),
      routes,
    );
  });

  it('overridden marks every row whose prefix comes again later, and is null when none does', () => {
    const r = parseRouteFile(
      '10.50.0.0/16 via 10.2.0.2\n10.50.0.0/24 blackhole\n10.50.0.0/16 port east\n0.0.0.0/0 blackhole\nR10.50.0.0/16 1\n0.0.0.0/0 via 10.2.0.1\n10.51.0.0/16 blackhole',
    );
    assert.deepEqual(Array.from(r.routes.overridden() ?? []), [1, 0, 1, 1, 0, 0, 0], 'same address, other length: not the same prefix');
    assert.equal(parseRouteFile('10.50.0.0/16 blackhole\n10.50.0.0/17 blackhole\n10.51.0.0/16 blackhole').routes.overridden(), null);
    assert.equal(new RouteBatch().overridden(), null);
    // in ascending order: none, without the hash; one step back or a repeat and the hash decides
    const sorted = parseRouteFile('0.0.0.0/0 blackhole\n10.50.0.0/16 blackhole\n10.50.0.0/24 blackhole\n10.51.0.0/16 blackhole\n10.51.0.0/16 blackhole');
    assert.deepEqual(Array.from(sorted.routes.overridden() ?? []), [0, 0, 0, 1, 0]);
    sorted.routes.length = 4;
    assert.equal(sorted.routes.overridden(), null);
    // one address at two lengths, the longer first (not in order), in batches of two rows (a
    // small table, so they often share a slot)
    for (let a = 0; a < 1000; a++) {
      const pair = new RouteBatch(2);
      pair.push((0x0b000000 + a * 256) >>> 0, 24 + (a % 9), ROUTE_BLACKHOLE, 0, 0);
      pair.push((0x0b000000 + a * 256) >>> 0, 24, ROUTE_BLACKHOLE, 0, 0);
      assert.equal(pair.overridden()?.join(), a % 9 === 0 ? '1,0' : undefined, `${formatIPv4(pair.addrs[0])}/${pair.lens[0]} and /24`);
    }
    // pseudo-random prefixes, so that slots collide and the hash has to probe; the first half
    // given again, in reverse, after the second
    const b = new RouteBatch();
    const keys = new Set<string>();
    let x = 12345;
    while (b.length < 20000) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const len = 8 + (x % 25);
      const addr = networkOf(Math.imul(x, 2654435761) >>> 0, len);
      if (keys.has(`${addr}/${len}`)) continue;
      keys.add(`${addr}/${len}`);
      b.push(addr, len, ROUTE_BLACKHOLE, 0, 0);
    }
    for (let i = 9999; i >= 0; i--) b.push(b.addrs[i], b.lens[i], ROUTE_BLACKHOLE, 0, 0);
    const o = b.overridden()!;
    for (let i = 0; i < b.length; i++) assert.equal(o[i], i < 10000 ? 1 : 0, `row ${i}`);
  });
});
