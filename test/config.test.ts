import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DpfwdError } from '../src/errors';
import {
  Config,
  ConfigError,
  KEY_CHANGE,
  keyChange,
  LIVE_KEYS,
  loadConfigFile,
  mempoolSize,
  parseConfig,
  parseDevice,
  parseLcoreList,
  RESTART_KEYS,
  suggestKey,
} from '../src/config';
import { parsedOf } from '../src/config/types';
import { parseIPv4 } from '../src/net/ipv4';

const PORTS = `ports:
  - {name: west, device: "net_af_packet0,iface=vwest", address: 10.1.0.1/24}
  - {name: east, device: "net_af_packet1,iface=veast", address: 10.2.0.1/24}
`;

function errorsOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
    assert.ok(e instanceof DpfwdError);
    assert.equal(e.code, 'ECONFIG');
    assert.equal(e.message, `test.yaml: ${e.errors.length} configuration error${e.errors.length === 1 ? '' : 's'}:\n${e.errors.join('\n')}`);
    return e.errors;
  }
  assert.fail('expected a ConfigError');
}

describe('config: defaults', () => {
  it('fills every default from a minimal file', () => {
    const c = parseConfig('ports: [{name: west, device: net_null0}]', 'min.yaml');
    const want: Config = {
      source: 'min.yaml',
      eal: { lcores: '0-1', lcoreList: [0, 1], mainLcore: 0, workerLcores: [1], inMemory: true, args: [], logLevel: 'notice', telemetry: false },
      ports: [{ name: 'west', device: 'net_null0', deviceKind: 'vdev', rxQueues: 1, rxDescriptors: 1024, txDescriptors: 1024, mtu: 1500, addresses: [] }],
      interfaces: [],
      workers: [{ lcore: 1, rx: [{ port: 'west', queue: 0 }], idleSleepUs: 250 }],
      idle: { mode: 'sleep', maxSleepUs: 250 },
      workersAuto: true,
      fib: { maxRoutes: 1048576, tbl8Groups: 65536, maxNexthops: 65536, maxGroups: 1024 },
      routes: [],
      neighbors: [],
      metrics: {
        listen: { host: '127.0.0.1', port: 9450 },
        maxConnections: 64,
        headersTimeoutMs: 10000,
        requestTimeoutMs: 30000,
        keepAliveTimeoutMs: 65000,
        idleTimeoutMs: 120000,
        maxPipelined: 16,
      },
      control: {
        socket: '/run/dpfwd/dpfwd.sock',
        mode: 0o660,
        maxClients: 64,
        maxRequestBytes: 67108864,
        maxBufferedBytes: 268435456,
        maxReplyBacklogBytes: 1048576,
        requestTimeoutMs: 30000,
        idleTimeoutMs: 300000,
      },
      punt: { rate: 10000, burst: 256, maxWaitMs: 1000 },
      icmp: { unreachable: true, rateLimit: 1000, burst: 50 },
      arp: {
        reachableMs: 30000,
        staleMs: 60000,
        retransmitMs: 1000,
        probes: 3,
        queueLen: 4,
        maxEntries: 4096,
        maxIncomplete: 256,
        newPerSecond: 100,
        lockMs: 1000,
      },
      mempool: { mbufs: 0, cacheSize: 256 },
      capture: { ringSize: 2048, mbufs: 8191, maxSnaplen: 65535, leaseMs: 5000, readBytes: 1048576 },
      linux: {
        mirror: false,
        mirrors: {},
        queueLen: 1000,
        rateLimit: 10000,
        burst: 1000,
        sync: { enabled: false, table: 254, protocols: 'all', socketBuffer: 4194304, maxRoutes: 2097152 },
      },
      log: { level: 'info', format: 'text', rateLimit: 10 },
      warnings: [],
    };
    assert.deepEqual(c, want);
    assert.doesNotThrow(() => JSON.stringify(c));
  });

  it("accepts issue 2's example as written", () => {
    const c = parseConfig(
      `eal:
  lcores: "0-1"            # first = main lcore
  inMemory: true           # default; or filePrefix: dpfwd
  args: []
ports:
  - name: west
    device: "net_af_packet0,iface=vwest"
    rxQueues: 1
    rxDescriptors: 1024
    txDescriptors: 1024
    mtu: 1500
  - name: east
    device: "0000:01:10.0"
workers: auto
fib: { maxRoutes: 1048576 }
routes:
  - { prefix: 10.2.0.0/16, via: 10.9.0.2, port: east }
neighbors:
  - { address: 10.9.0.2, mac: "02:00:00:00:09:02", port: east }
`,
      'issue2.yaml',
    );
    assert.deepEqual(c.routes, [{ prefix: '10.2.0.0/16', blackhole: false, port: 'east', via: '10.9.0.2' }]);
    assert.deepEqual(c.neighbors, [{ address: '10.9.0.2', mac: '02:00:00:00:09:02', port: 'east' }]);
    assert.equal(c.ports[1].deviceKind, 'pci');
  });

  it('carries the numbers it parsed beside the strings (non-enumerable), so the forwarder parses nothing again', () => {
    const c = parseConfig(
      `${PORTS}routes: [{prefix: 10.20.0.0/16, via: 10.2.0.2}]\nneighbors: [{address: 10.2.0.2, mac: "02:00:00:00:02:02", port: east}]\n`,
      't',
    );
    assert.deepEqual(parsedOf(c.routes[0]), { addr: 0x0a140000, len: 16, blackhole: false, via: 0x0a020002, port: 'east' });
    assert.deepEqual(parsedOf(c.neighbors[0]), { address: 0x0a020002, mac: 0x020000000202 });
    assert.deepEqual(
      c.ports.map((p) => parsedOf(p).addresses),
      c.ports.map((p) => p.addresses.map((t) => ({ addr: parseIPv4(t.split('/')[0]), len: Number(t.split('/')[1]) }))),
    );
    assert.ok(!Object.keys(c.routes[0]).includes('parsed') && !JSON.stringify(c).includes('parsed'), 'the JSON form is the strings alone');
    assert.throws(() => parsedOf({} as { parsed?: number }), /without parsed numbers/);
  });

  it('derives tbl8Groups from maxRoutes unless given', () => {
    const f = (fib: string) => parseConfig(`${PORTS}fib: ${fib}`, 't').fib;
    assert.deepEqual(f('{maxRoutes: 1024}'), { maxRoutes: 1024, tbl8Groups: 256, maxNexthops: 65536, maxGroups: 1024 });
    assert.deepEqual(f('{maxRoutes: 65536}'), { maxRoutes: 65536, tbl8Groups: 4096, maxNexthops: 65536, maxGroups: 1024 });
    assert.deepEqual(f('{maxRoutes: 16777216}'), { maxRoutes: 16777216, tbl8Groups: 65536, maxNexthops: 65536, maxGroups: 1024 });
    assert.deepEqual(f('{maxRoutes: 1024, tbl8Groups: 100, maxNexthops: 16}'), { maxRoutes: 1024, tbl8Groups: 100, maxNexthops: 16, maxGroups: 1024 });
  });

  it('normalises address: string and list to addresses', () => {
    const c = parseConfig(
      `ports:
  - {name: a, device: net_null0, address: 10.1.0.1/24}
  - {name: b, device: net_null1, address: [10.2.0.1/24, 10.3.0.1/31]}
`,
      't',
    );
    assert.deepEqual(
      c.ports.map((p) => p.addresses),
      [['10.1.0.1/24'], ['10.2.0.1/24', '10.3.0.1/31']],
    );
  });

  it('normalises PCI addresses and lowercases MACs', () => {
    const c = parseConfig(
      `ports:
  - {name: a, device: "01:10.0", mac: "02:AA:00:00:00:01"}
  - {name: b, device: "0000:0A:1F.7,txq_inline=128"}
  - {name: c, device: "env:PCIDEVICE_INTEL_COM_SRIOV[1]"}
  - {name: d, device: auto}
`,
      't',
    );
    assert.deepEqual(
      c.ports.map((p) => [p.device, p.deviceKind]),
      [
        ['0000:01:10.0', 'pci'],
        ['0000:0a:1f.7,txq_inline=128', 'pci'],
        ['env:PCIDEVICE_INTEL_COM_SRIOV[1]', 'env'],
        ['auto', 'auto'],
      ],
    );
    assert.equal(c.ports[0].mac, '02:aa:00:00:00:01');
  });

  it('reads control.mode as octal whether quoted or not', () => {
    const m = (v: string) => parseConfig(`${PORTS}control: {mode: ${v}}`, 't').control.mode;
    assert.equal(m('"0660"'), 0o660);
    assert.equal(m('0660'), 0o660);
    assert.equal(m('0o600'), 0o600);
    assert.equal(m('"640"'), 0o640);
  });

  it('filePrefix implies inMemory false; inMemory false defaults the prefix', () => {
    assert.deepEqual(
      [parseConfig(`${PORTS}eal: {filePrefix: fw1}`, 't').eal].map((e) => [e.inMemory, e.filePrefix]),
      [[false, 'fw1']],
    );
    const e = parseConfig(`${PORTS}eal: {inMemory: false}`, 't').eal;
    assert.deepEqual([e.inMemory, e.filePrefix], [false, 'dpfwd']);
  });

  it('lcore forms', () => {
    assert.deepEqual(parseLcoreList('0-3'), [0, 1, 2, 3]);
    assert.deepEqual(parseLcoreList('0,2,4'), [0, 2, 4]);
    assert.deepEqual(parseLcoreList('1'), [1]);
    assert.deepEqual(parseLcoreList('2,0,5-6'), [2, 0, 5, 6]);
    const e = parseConfig(`${PORTS}eal: {lcores: "2, 4,6"}`, 't').eal;
    assert.deepEqual([e.lcores, e.mainLcore, e.workerLcores], ['2,4,6', 2, [4, 6]]);
  });

  it('metrics: false disables; host:port parsed', () => {
    assert.equal(parseConfig(`${PORTS}metrics: {listen: false}`, 't').metrics.listen, false);
    // README's words: `false` turns metrics off, as the section itself too
    const off = parseConfig(`${PORTS}metrics: false`, 't').metrics;
    assert.deepEqual(off, { ...parseConfig(PORTS, 't').metrics, listen: false });
    assert.deepEqual(errorsOf(`${PORTS}metrics: true`), ['metrics: expected a mapping like {listen: "127.0.0.1:9450"}, or false to disable metrics, got true']);
    assert.deepEqual(parseConfig(`${PORTS}metrics: {listen: "0.0.0.0:9100"}`, 't').metrics.listen, { host: '0.0.0.0', port: 9100 });
    assert.deepEqual(parseConfig(`${PORTS}metrics: {listen: "[::1]:9100"}`, 't').metrics.listen, { host: '::1', port: 9100 });
  });

  it('logLevel by name or number', () => {
    assert.equal(parseConfig(`${PORTS}eal: {logLevel: debug}`, 't').eal.logLevel, 'debug');
    assert.equal(parseConfig(`${PORTS}eal: {logLevel: 4}`, 't').eal.logLevel, 'error');
  });

  it('route via in a connected subnet gets its port; blackhole routes', () => {
    const c = parseConfig(
      `${PORTS}routes:
  - {prefix: 10.20.0.0/16, via: 10.2.0.2}
  - {prefix: 10.30.0.0/16, port: west}
  - {prefix: 10.40.0.0/16, blackhole: true}
  - {prefix: 0.0.0.0/0, via: 10.1.0.254}
`,
      't',
    );
    assert.deepEqual(c.routes, [
      { prefix: '10.20.0.0/16', blackhole: false, via: '10.2.0.2', port: 'east' },
      { prefix: '10.30.0.0/16', blackhole: false, port: 'west' },
      { prefix: '10.40.0.0/16', blackhole: true },
      { prefix: '0.0.0.0/0', blackhole: false, via: '10.1.0.254', port: 'west' },
    ]);
  });

  it('empty lists written as bare keys are empty', () => {
    const c = parseConfig(`${PORTS}routes:\nneighbors:\neal:\n  args:\n`, 't');
    assert.deepEqual([c.routes, c.neighbors, c.eal.args], [[], [], []]);
  });
});

describe('config: linux mirrors', () => {
  it('mirror: true mirrors every port under its own name; a mapping picks ports and names', () => {
    const pick = (l: { netns?: string; mirrors: Record<string, string>; queueLen: number }) => ({ netns: l.netns, mirrors: l.mirrors, queueLen: l.queueLen });
    assert.deepEqual(pick(parseConfig(`${PORTS}linux: {netns: dpfwd, mirror: true}`, 't').linux), {
      netns: 'dpfwd',
      mirrors: { west: 'west', east: 'east' },
      queueLen: 1000,
    });
    assert.deepEqual(pick(parseConfig(`${PORTS}linux: {mirror: {west: wmirror, east: false}}`, 't').linux), {
      netns: undefined,
      mirrors: { west: 'wmirror' },
      queueLen: 1000,
    });
    assert.deepEqual(pick(parseConfig(`${PORTS}linux: {mirror: false, queueLen: 64}`, 't').linux), { netns: undefined, mirrors: {}, queueLen: 64 });
  });
});

describe('config: workers', () => {
  it('auto assigns (port, queue) pairs round-robin across worker lcores', () => {
    const c = parseConfig(
      `eal: {lcores: "0-3"}
ports:
  - {name: a, device: net_null0, rxQueues: 2}
  - {name: b, device: net_null1, rxQueues: 2}
`,
      't',
    );
    assert.deepEqual(c.workers, [
      {
        lcore: 1,
        rx: [
          { port: 'a', queue: 0 },
          { port: 'b', queue: 1 },
        ],
        idleSleepUs: 250,
      },
      { lcore: 2, rx: [{ port: 'a', queue: 1 }], idleSleepUs: 250 },
      { lcore: 3, rx: [{ port: 'b', queue: 0 }], idleSleepUs: 250 },
    ]);
    assert.deepEqual(c.warnings, []);
  });

  it('auto drops idle worker lcores with a warning', () => {
    const c = parseConfig(`eal: {lcores: "0-4"}\n${PORTS}`, 't');
    assert.deepEqual(c.workers, [
      { lcore: 1, rx: [{ port: 'west', queue: 0 }], idleSleepUs: 250 },
      { lcore: 2, rx: [{ port: 'east', queue: 0 }], idleSleepUs: 250 },
    ]);
    assert.deepEqual(c.warnings, ['workers: 4 worker lcores but only 2 rx queues; lcores 3, 4 will not poll (raise ports[].rxQueues or shorten eal.lcores)']);
  });

  it('takes an explicit table', () => {
    const c = parseConfig(
      `eal: {lcores: "0,2,4"}
${PORTS}workers:
  - {lcore: 4, rx: [{port: west, queue: 0}]}
  - {lcore: 2, rx: [{port: east, queue: 0}]}
`,
      't',
    );
    assert.equal(c.workersAuto, false);
    assert.deepEqual(c.workers, [
      { lcore: 4, rx: [{ port: 'west', queue: 0 }], idleSleepUs: 250 },
      { lcore: 2, rx: [{ port: 'east', queue: 0 }], idleSleepUs: 250 },
    ]);
  });
});

describe('config: warnings', () => {
  it('neighbour outside its port’s connected subnets', () => {
    const c = parseConfig(`${PORTS}neighbors: [{address: 10.5.0.2, mac: "02:00:00:00:05:02", port: west}]`, 't');
    assert.deepEqual(c.warnings, ['neighbors[0].address: 10.5.0.2 is not in a connected subnet of port west (10.1.0.1/24)']);
  });
  it('mempool.mbufs below the computed need', () => {
    const c = parseConfig(`${PORTS}mempool: {mbufs: 4095}`, 't');
    assert.deepEqual(c.warnings, ['mempool.mbufs: 4095 is fewer than the 16383 that the ports, queues and workers need; receive queues may run dry']);
  });
});

/** [description, yaml, every expected error line]. */
const ERRORS: [string, string, string[]][] = [
  ['empty file', '', ['the configuration is empty; at least eal and ports are needed (see examples/demo.yaml)']],
  ['top level not a mapping', '- a\n- b', ['expected a mapping of sections (eal, ports, …) at the top level, got a list']],
  [
    'unknown top-level key with suggestion',
    `${PORTS}neighbours: []`,
    [
      'neighbours: unknown key; did you mean neighbors? (valid keys: eal, ports, interfaces, workers, idle, fib, routes, neighbors, metrics, control, punt, icmp, arp, mempool, capture, linux, log)',
    ],
  ],
  [
    'unknown top-level key without suggestion',
    `${PORTS}zebra: 1`,
    [
      'zebra: unknown key (valid keys: eal, ports, interfaces, workers, idle, fib, routes, neighbors, metrics, control, punt, icmp, arp, mempool, capture, linux, log)',
    ],
  ],
  [
    'unknown eal key',
    `${PORTS}eal: {lcore: "0-1"}`,
    ['eal.lcore: unknown key; did you mean lcores? (valid keys: lcores, inMemory, filePrefix, args, logLevel, hugepagesMiB, telemetry)'],
  ],
  [
    'unknown port key',
    `ports: [{name: a, device: net_null0, addresses: 10.1.0.1/24}]`,
    ['ports[0].addresses: unknown key; did you mean address? (valid keys: name, device, rxQueues, rxDescriptors, txDescriptors, mtu, mac, address)'],
  ],
  ['section not a mapping', `${PORTS}eal: "0-1"`, ['eal: expected a mapping, got "0-1"']],
  // eal
  [
    'one lcore',
    `${PORTS}eal: {lcores: "1"}`,
    [`eal.lcores: "1" is 1 lcore; dpfwd needs at least 2: the first is the main lcore (Node's thread, never polls), the rest forward packets (e.g. "1-2")`],
  ],
  [
    'one lcore as a number',
    `${PORTS}eal: {lcores: 3}`,
    [`eal.lcores: "3" is 1 lcore; dpfwd needs at least 2: the first is the main lcore (Node's thread, never polls), the rest forward packets (e.g. "3-4")`],
  ],
  ['bad lcore list', `${PORTS}eal: {lcores: "0-"}`, ['eal.lcores: "0-" is not an lcore list (use forms like "0-3", "0,2,4" or "1")']],
  ['backwards range', `${PORTS}eal: {lcores: "3-1"}`, ['eal.lcores: range 3-1 runs backwards; write 1-3']],
  ['lcore twice', `${PORTS}eal: {lcores: "0-2,1"}`, ['eal.lcores: lcore 1 is listed twice']],
  ['lcore too high', `${PORTS}eal: {lcores: "0,128"}`, ['eal.lcores: lcore 128 is above 127, the highest lcore this DPDK build supports (RTE_MAX_LCORE=128)']],
  ['lcores wrong type', `${PORTS}eal: {lcores: [0, 1]}`, ['eal.lcores: expected an lcore list like "0-3", "0,2,4" or "1", got a list']],
  ['inMemory not a boolean', `${PORTS}eal: {inMemory: "yes"}`, ['eal.inMemory: expected true or false, got "yes"']],
  [
    'filePrefix with inMemory: true',
    `${PORTS}eal: {inMemory: true, filePrefix: fw}`,
    ['eal.filePrefix: filePrefix and inMemory: true are mutually exclusive (--in-memory keeps no hugepage files to prefix); remove one of them'],
  ],
  ['bad filePrefix', `${PORTS}eal: {filePrefix: "a/b"}`, ['eal.filePrefix: "a/b" is not a usable file prefix: use 1-32 letters, digits, _ or -']],
  ['args not strings', `${PORTS}eal: {args: [{a: 1}]}`, ['eal.args[0]: expected an EAL argument string, got a mapping']],
  ['args not a list', `${PORTS}eal: {args: "--foo"}`, ['eal.args: expected a list of strings, got "--foo"']],
  [
    'managed EAL args',
    `${PORTS}eal: {hugepagesMiB: 512, args: ["-l", "0-3", "--vdev=net_null9", "--in-memory", "-a0000:01:00.0", "-m", "--socket-mem=512"]}`,
    [
      'eal.args[0]: -l is set by dpfwd from eal.lcores; remove it from eal.args',
      'eal.args[2]: --vdev is set by dpfwd from ports[].device; remove it from eal.args',
      'eal.args[3]: --in-memory is set by dpfwd from eal.inMemory; remove it from eal.args',
      'eal.args[4]: -a is set by dpfwd from ports[].device; remove it from eal.args',
      'eal.args[5]: -m is set by dpfwd from eal.hugepagesMiB; remove it from eal.args',
    ],
  ],
  [
    'bad logLevel',
    `${PORTS}eal: {logLevel: verbose}`,
    ['eal.logLevel: expected one of emergency, alert, critical, error, warning, notice, info, debug (or 1-8), got "verbose"'],
  ],
  ['bad hugepagesMiB', `${PORTS}eal: {hugepagesMiB: 0}`, ['eal.hugepagesMiB: expected an integer from 1 to 1048576 MiB, got 0']],
  // ports
  ['no ports key', `eal: {}`, ['ports: at least one port is required, e.g. [{name: west, device: "net_af_packet0,iface=veth0"}]']],
  ['empty ports', `ports: []`, ['ports: at least one port is required, e.g. [{name: west, device: "net_af_packet0,iface=veth0"}]']],
  ['ports not a list', `ports: {name: a}`, ['ports: expected a list of ports, got a mapping']],
  ['port not a mapping', `ports: [west]`, ['ports[0]: expected a port mapping like {name: west, device: ...}, got "west"']],
  ['port name missing', `ports: [{device: net_null0}]`, ['ports[0].name: required (a port name like west)']],
  [
    'bad port name',
    `ports: [{name: West, device: net_null0}]`,
    ['ports[0].name: "West" is not a valid port name: use 1-15 lowercase letters, digits, _ or -, starting with a letter'],
  ],
  [
    'port name too long',
    `ports: [{name: abcdefghijklmnop, device: net_null0}]`,
    ['ports[0].name: "abcdefghijklmnop" is not a valid port name: use 1-15 lowercase letters, digits, _ or -, starting with a letter'],
  ],
  ['duplicate port name', `ports: [{name: a, device: net_null0}, {name: a, device: net_null1}]`, ['ports[1].name: port name a is already used by ports[0]']],
  [
    'device missing',
    `ports: [{name: a}]`,
    ['ports[0].device: required (a PCI address like 0000:01:10.0, a virtual device like net_af_packet0,iface=veth0, env:NAME[i] or auto)'],
  ],
  [
    'kernel interface as device',
    `ports: [{name: a, device: eth0}]`,
    [
      'ports[0].device: "eth0" is not a device: use a PCI address like 0000:01:10.0, a virtual device like net_af_packet0,iface=veth0, env:NAME[i] or auto (for a kernel interface, net_af_packet0,iface=eth0)',
    ],
  ],
  [
    'garbage device',
    `ports: [{name: a, device: "/dev/x"}]`,
    ['ports[0].device: "/dev/x" is not a device: use a PCI address like 0000:01:10.0, a virtual device like net_af_packet0,iface=veth0, env:NAME[i] or auto'],
  ],
  ['PCI device number too high', `ports: [{name: a, device: "0000:01:20.0"}]`, ['ports[0].device: "0000:01:20.0" is not a PCI address: device 20 is above 1f']],
  [
    'vdev without number',
    `ports: [{name: a, device: "net_pcap,rx_pcap=x"}]`,
    ['ports[0].device: "net_pcap" is not a virtual device name: use net_<driver><n>, e.g. net_pcap0 or net_af_packet1'],
  ],
  [
    'vdev bad devarg',
    `ports: [{name: a, device: "net_pcap0,rx_pcap"}]`,
    ['ports[0].device: "rx_pcap" in "net_pcap0,rx_pcap" is not a key=value device argument'],
  ],
  [
    'bad env device',
    `ports: [{name: a, device: "env:X[a]"}]`,
    ['ports[0].device: "env:X[a]" is not an env: device; write env:NAME or env:NAME[i] (i counts from 0 in the comma-separated list)'],
  ],
  [
    'duplicate vdev name',
    `ports: [{name: a, device: "net_pcap0,rx_pcap=a"}, {name: b, device: "net_pcap0,rx_pcap=b"}]`,
    ['ports[1].device: vdev name net_pcap0 is already used by ports[0]; give each virtual device its own number, e.g. net_pcap1'],
  ],
  [
    'duplicate PCI device (short and long form)',
    `ports: [{name: a, device: "01:10.0"}, {name: b, device: "0000:01:10.0"}]`,
    ['ports[1].device: PCI device 0000:01:10.0 is already used by ports[0]'],
  ],
  ['rxQueues out of range', `ports: [{name: a, device: net_null0, rxQueues: 17}]`, ['ports[0].rxQueues: expected an integer from 1 to 16, got 17']],
  [
    'rxDescriptors not a power of 2',
    `ports: [{name: a, device: net_null0, rxDescriptors: 1000}]`,
    ['ports[0].rxDescriptors: expected a power of 2 from 64 to 4096, got 1000'],
  ],
  [
    'txDescriptors too big',
    `ports: [{name: a, device: net_null0, txDescriptors: 8192}]`,
    ['ports[0].txDescriptors: expected a power of 2 from 64 to 4096, got 8192'],
  ],
  ['mtu too small', `ports: [{name: a, device: net_null0, mtu: 67}]`, ['ports[0].mtu: expected an integer from 68 to 9600, got 67']],
  ['mtu a string', `ports: [{name: a, device: net_null0, mtu: "1500"}]`, ['ports[0].mtu: expected an integer from 68 to 9600, got "1500"']],
  [
    'multicast port mac',
    `ports: [{name: a, device: net_null0, mac: "01:00:00:00:00:01"}]`,
    ['ports[0].mac: 01:00:00:00:00:01 is a multicast MAC (lowest bit of the first byte set); a neighbour or port needs a unicast MAC'],
  ],
  [
    'address not a prefix',
    `ports: [{name: west, device: net_null0}, {name: east, device: net_null1, address: 10.1.0.1/33}]`,
    ['ports[1].address: 10.1.0.1/33 is not an IPv4 prefix'],
  ],
  [
    'address is the network address',
    `ports: [{name: a, device: net_null0, address: 10.1.0.0/24}]`,
    ['ports[0].address: 10.1.0.0/24 is the network address of its subnet, not a host address; did you mean 10.1.0.1/24?'],
  ],
  [
    'address list item',
    `ports: [{name: a, device: net_null0, address: [10.1.0.1/24, 10.3.0.255/24]}]`,
    ['ports[0].address[1]: 10.3.0.255/24 is the broadcast address of 10.3.0.0/24, not a host address; did you mean 10.3.0.1/24?'],
  ],
  ['address not a string', `ports: [{name: a, device: net_null0, address: 10}]`, ['ports[0].address: expected an interface address like 10.1.0.1/24, got 10']],
  [
    'address conflict across ports',
    `ports:
  - {name: west, device: net_null0, address: 10.10.1.1/24}
  - {name: east, device: net_null1, address: 10.10.1.2/24}`,
    ['ports[1].address: address 10.10.1.2/24 on port east conflicts with 10.10.1.1/24 on port west'],
  ],
  [
    'address conflict within a port',
    `ports: [{name: west, device: net_null0, address: [10.10.0.1/16, 10.10.1.1/24]}]`,
    ['ports[0].address[1]: address 10.10.1.1/24 on port west conflicts with 10.10.0.1/16 on port west'],
  ],
  // workers
  ['workers wrong type', `${PORTS}workers: many`, ['workers: expected "auto" or a list like [{lcore: 1, rx: [{port: west, queue: 0}]}], got "many"']],
  [
    'worker on the main lcore',
    `eal: {lcores: "0-2"}\n${PORTS}workers:
  - {lcore: 0, rx: [{port: west, queue: 0}]}
  - {lcore: 1, rx: [{port: east, queue: 0}]}
  - {lcore: 2, rx: [{port: east, queue: 0}]}`,
    [
      "workers[0].lcore: lcore 0 is the main lcore (Node's thread, never polls); worker lcores are 1, 2",
      'workers[2].rx[0]: port east queue 0 is already polled by workers[1].rx[0]; each rx queue has exactly one worker',
    ],
  ],
  [
    'worker lcore not in eal.lcores',
    `${PORTS}workers: [{lcore: 5, rx: [{port: west, queue: 0}, {port: east, queue: 0}]}]`,
    [
      'workers[0].lcore: lcore 5 is not in eal.lcores ("0-1"); worker lcores are 1',
      'workers: worker lcore 1 (from eal.lcores) polls no rx queue; add it to workers or remove it from eal.lcores',
    ],
  ],
  [
    'worker lcore twice and without queues',
    `eal: {lcores: "0-2"}\n${PORTS}workers:
  - {lcore: 1, rx: [{port: west, queue: 0}, {port: east, queue: 0}]}
  - {lcore: 1, rx: []}
  - {lcore: 2}`,
    [
      'workers[1].lcore: lcore 1 is already listed in workers[0]',
      'workers[1].rx: worker lcore 1 has no rx queues; give it at least one {port, queue} or remove it',
      'workers[2].rx: worker lcore 2 has no rx queues; give it at least one {port, queue} or remove it',
    ],
  ],
  [
    'worker rx: unknown port, missing queue, queue out of range',
    `${PORTS}workers: [{lcore: 1, rx: [{port: west, queue: 0}, {port: sout, queue: 0}, {port: east}, {port: east, queue: 1}]}]`,
    [
      'workers[0].rx[1].port: no port named sout; ports are west, east',
      'workers[0].rx[2].queue: required (an rx queue number from 0)',
      'workers[0].rx[3].queue: port east has 1 rx queue (0-0); queue 1 does not exist',
      'workers: port east queue 0 is polled by no worker; every rx queue needs exactly one',
    ],
  ],
  [
    'worker unknown key',
    `${PORTS}workers: [{lcore: 1, rx: [{port: west, queue: 0}, {port: east, queue: 0}], cpu: 3}]`,
    ['workers[0].cpu: unknown key (valid keys: lcore, rx, idle)'],
  ],
  // fib
  [
    'fib out of range',
    `${PORTS}fib: {maxRoutes: 8, tbl8Groups: 0, maxNexthops: 2000000}`,
    [
      'fib.maxRoutes: expected an integer from 16 to 16777216, got 8',
      'fib.tbl8Groups: expected an integer from 1 to 16777216, got 0',
      'fib.maxNexthops: expected an integer from 16 to 1048576, got 2000000',
    ],
  ],
  // routes
  [
    'route prefix host bits',
    `${PORTS}routes: [{prefix: 10.20.0.1/16, port: east}]`,
    ['routes[0].prefix: 10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?'],
  ],
  ['route prefix missing', `${PORTS}routes: [{port: east}]`, ['routes[0].prefix: required (a prefix like 10.20.0.0/16)']],
  ['route without next hop', `${PORTS}routes: [{prefix: 10.20.0.0/16}]`, ['routes[0]: needs via, port or blackhole: true']],
  [
    'blackhole with port',
    `${PORTS}routes: [{prefix: 10.20.0.0/16, blackhole: true, port: east}]`,
    ['routes[0].blackhole: a blackhole route takes no via or port'],
  ],
  [
    'route via not an address, at its index, through the one route parser',
    `${PORTS}routes: [{prefix: 10.20.0.0/16, port: east}, {prefix: 10.21.0.0/16, port: east}, {prefix: 10.22.0.0/16, port: east}, {prefix: 10.23.0.0/16, via: 10.0.0.256}]`,
    ['routes[3].via: 10.0.0.256 is not an IPv4 address (expected four numbers 0-255 like 10.1.0.1)'],
  ],
  ['route prefix not a prefix', `${PORTS}routes: [{prefix: 10.20.0.0/33, via: 10.2.0.2}]`, ['routes[0].prefix: 10.20.0.0/33 is not an IPv4 prefix']],
  ['route port not a port name', `${PORTS}routes: [{prefix: 10.20.0.0/16, port: East}]`, ['routes[0].port: East is not a port name']],
  ['route unknown port', `${PORTS}routes: [{prefix: 10.20.0.0/16, port: south}]`, ['routes[0].port: no port named south; ports are west, east']],
  [
    "route via in another port's subnet than its port",
    `${PORTS}routes: [{prefix: 10.20.0.0/16, via: 10.2.0.2, port: west}]`,
    [
      "routes[0].via: gateway 10.2.0.2 is in port east's subnet 10.2.0.0/24, not in port west's (10.1.0.1/24): use port east (dev east), or a gateway on west's link",
    ],
  ],
  [
    "ECMP path via in another port's subnet than its port",
    `${PORTS}routes: [{prefix: 10.20.0.0/16, nexthops: [{via: 10.1.0.2}, {via: 10.1.0.3, port: east}]}]`,
    [
      "routes[0].nexthops[1].via: gateway 10.1.0.3 is in port west's subnet 10.1.0.0/24, not in port east's (10.2.0.1/24): use port west (dev west), or a gateway on east's link",
    ],
  ],
  [
    'route via outside connected subnets',
    `${PORTS}routes: [{prefix: 10.20.0.0/16, via: 10.9.0.2}]`,
    ["routes[0].via: 10.9.0.2 is not in any port's connected subnet; add port: <name>"],
  ],
  [
    'route via not an address',
    `${PORTS}routes: [{prefix: 10.20.0.0/16, via: 10.9.0}]`,
    ['routes[0].via: 10.9.0 is not an IPv4 address (expected four numbers 0-255 like 10.1.0.1)'],
  ],
  [
    'route via multicast',
    `${PORTS}routes: [{prefix: 10.20.0.0/16, via: 224.0.0.5, port: east}]`,
    ['routes[0].via: 224.0.0.5 is a multicast address, not a unicast host address'],
  ],
  ['route via own address', `${PORTS}routes: [{prefix: 10.20.0.0/16, via: 10.2.0.1}]`, ["routes[0].via: 10.2.0.1 is this router's own address on port east"]],
  [
    'duplicate route',
    `${PORTS}routes: [{prefix: 10.20.0.0/16, port: east}, {prefix: 10.20.0.0/16, port: west}]`,
    ['routes[1].prefix: 10.20.0.0/16 is already routed by routes[0]'],
  ],
  [
    'route equal to a connected subnet',
    `${PORTS}routes: [{prefix: 10.1.0.0/24, port: east}]`,
    ['routes[0].prefix: 10.1.0.0/24 is the connected subnet of port west (10.1.0.1/24); it is routed there already'],
  ],
  ['route to own address', `${PORTS}routes: [{prefix: 10.1.0.1/32, port: east}]`, ["routes[0].prefix: 10.1.0.1/32 is this router's own address on port west"]],
  [
    'routes not a list',
    `${PORTS}routes: {prefix: 10.20.0.0/16}`,
    ['routes: expected a list of routes like {prefix: 10.20.0.0/16, via: 10.2.0.2}, got a mapping'],
  ],
  [
    'route unknown key',
    `${PORTS}routes: [{prefix: 10.20.0.0/16, gw: 10.2.0.2}]`,
    ['routes[0].gw: unknown key (valid keys: prefix, via, port, blackhole, nexthops)', 'routes[0]: needs via, port or blackhole: true'],
  ],
  // neighbors
  [
    'neighbour with every field wrong',
    `${PORTS}neighbors: [{address: 10.1.0.300, mac: "02:00:00:00:01", port: north}]`,
    [
      'neighbors[0].address: 10.1.0.300 is not an IPv4 address (expected four numbers 0-255 like 10.1.0.1)',
      'neighbors[0].mac: 02:00:00:00:01 is not a MAC address (expected six hex pairs like 02:00:00:00:01:02)',
      'neighbors[0].port: no port named north; ports are west, east',
    ],
  ],
  [
    'neighbour multicast and zero MACs',
    `${PORTS}neighbors:
  - {address: 10.1.0.2, mac: "01:00:5e:00:00:01", port: west}
  - {address: 10.1.0.3, mac: "00:00:00:00:00:00", port: west}`,
    [
      'neighbors[0].mac: 01:00:5e:00:00:01 is a multicast MAC (lowest bit of the first byte set); a neighbour or port needs a unicast MAC',
      'neighbors[1].mac: 00:00:00:00:00:00 is the zero MAC; a neighbour or port needs a unicast MAC',
    ],
  ],
  [
    'neighbour duplicate',
    `${PORTS}neighbors:
  - {address: 10.1.0.2, mac: "02:00:00:00:01:02", port: west}
  - {address: 10.1.0.2, mac: "02:00:00:00:01:03", port: west}`,
    ['neighbors[1].address: 10.1.0.2 is already a neighbour (neighbors[0])'],
  ],
  [
    'neighbour is our own address',
    `${PORTS}neighbors: [{address: 10.1.0.1, mac: "02:00:00:00:01:02", port: west}]`,
    ["neighbors[0].address: 10.1.0.1 is this router's own address on port west"],
  ],
  [
    'neighbour missing fields',
    `${PORTS}neighbors: [{address: 10.1.0.2}]`,
    ['neighbors[0].mac: required (a MAC like 02:00:00:00:01:02)', 'neighbors[0].port: required (a port name)'],
  ],
  // small sections
  [
    'metrics listen bad',
    `${PORTS}metrics: {listen: "localhost"}`,
    ['metrics.listen: expected host:port like 127.0.0.1:9450, or false to disable metrics (port 1-65535), got "localhost"'],
  ],
  ['metrics listen true', `${PORTS}metrics: {listen: true}`, ['metrics.listen: expected host:port like 127.0.0.1:9450, or false to disable metrics, got true']],
  [
    'metrics port 0',
    `${PORTS}metrics: {listen: "127.0.0.1:0"}`,
    ['metrics.listen: expected host:port like 127.0.0.1:9450, or false to disable metrics (port 1-65535), got "127.0.0.1:0"'],
  ],
  ['control socket too long', `${PORTS}control: {socket: "/${'x'.repeat(107)}"}`, ['control.socket: path is 108 bytes; a UNIX socket path holds at most 107']],
  ['control mode bad', `${PORTS}control: {mode: "rw-rw----"}`, ['control.mode: expected an octal file mode like "0660", got "rw-rw----"']],
  ['control mode not octal', `${PORTS}control: {mode: 0680}`, ['control.mode: expected an octal file mode like "0660", got 680']],
  [
    'punt/icmp/arp ranges',
    `${PORTS}punt: {rate: 0}\nicmp: {unreachable: 1, burst: 0}\narp: {probes: 0, queueLen: -1, reachableMs: 1.5}`,
    [
      'punt.rate: expected an integer from 1 to 100000000 packets/s per worker, got 0',
      'icmp.unreachable: expected true or false, got 1',
      'icmp.burst: expected an integer from 1 to 100000, got 0',
      'arp.reachableMs: expected an integer from 100 to 86400000 ms, got 1.5',
      'arp.probes: expected an integer from 1 to 100, got 0',
      'arp.queueLen: expected an integer from 0 to 1024 packets, got -1',
    ],
  ],
  [
    'unknown arp key',
    `${PORTS}arp: {staleTimeMs: 1}`,
    [
      'arp.staleTimeMs: unknown key; did you mean staleMs? (valid keys: reachableMs, staleMs, retransmitMs, probes, queueLen, maxEntries, maxIncomplete, newPerSecond, lockMs)',
    ],
  ],
  [
    'mempool ranges',
    `${PORTS}mempool: {mbufs: 100, cacheSize: 1024}`,
    ['mempool.mbufs: expected an integer from 1023 to 2147483647, got 100', 'mempool.cacheSize: expected an integer from 0 to 512, got 1024'],
  ],
  // linux (route sync)
  [
    'linux.sync ranges',
    `${PORTS}linux: {netns: "a b", sync: {table: local, socketBuffer: 10, protocols: [bgp, bogus], enabled: 1}}`,
    [
      'linux.netns: expected a namespace name like dpfwd (ip netns list) or a path like /run/netns/dpfwd, got "a b"',
      'linux.sync.enabled: expected true or false, got 1',
      'linux.sync.table: expected main, default or a table number from 1 to 4294967295 (not 255: local), got "local"',
      `linux.sync.protocols[1]: unknown route protocol "bogus"; iproute2's names are unspec, redirect, kernel, boot, static, gated, ra, mrt, zebra, bird, dnrouted, xorp, ntk, dhcp, mrouted, keepalived, babel, openr, bgp, isis, ospf, rip, eigrp (or a number 0-255)`,
      'linux.sync.socketBuffer: expected an integer from 4096 to 1073741824 bytes, got 10',
    ],
  ],
  // linux (mirrors)
  [
    'linux.mirror errors',
    `${PORTS}linux: {mirror: {west: 3, north: true, east: "x y"}}`,
    [
      'linux.mirror.north: unknown key (valid keys: west, east)',
      'linux.mirror.west: expected true, false or an interface name, got 3',
      'linux.mirror.east: expected true, false or an interface name, got "x y"',
    ],
  ],
  ['linux.mirror not a mapping', `${PORTS}linux: {mirror: [west]}`, ['linux.mirror: expected true, false or a mapping of port names, got a list']],
  [
    'two mirrors of one name',
    `${PORTS}linux: {mirror: {west: m0, east: m0}}`,
    ["linux.mirror.east: mirror name m0 is also port west's: each mirror needs its own name"],
  ],
  [
    'unknown linux key',
    `${PORTS}linux: {mirrors: true}`,
    ['linux.mirrors: unknown key; did you mean mirror? (valid keys: netns, mirror, queueLen, rateLimit, burst, sync)'],
  ],
  // YAML syntax
  [
    'YAML syntax error names line:col',
    'ports:\n  - {name: a,\n',
    ['test.yaml:3:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }'],
  ],
  ['duplicate YAML key', `${PORTS}eal: {}\neal: {}`, ['test.yaml:5:1: YAML syntax error: Map keys must be unique']],
  [
    'several errors at once, in file order',
    `eal: {lcores: "1"}
ports:
  - {name: west, device: net_null0}
  - {name: east, device: net_null1, address: 10.1.0.1/33}
routes: [{prefix: 10.2.0.1/16, port: east}]`,
    [
      `eal.lcores: "1" is 1 lcore; dpfwd needs at least 2: the first is the main lcore (Node's thread, never polls), the rest forward packets (e.g. "1-2")`,
      'ports[1].address: 10.1.0.1/33 is not an IPv4 prefix',
      'routes[0].prefix: 10.2.0.1/16 has host bits set; did you mean 10.2.0.0/16?',
    ],
  ],
];

describe('config: every error path, exact messages', () => {
  for (const [desc, yaml, want] of ERRORS) {
    it(desc, () => assert.deepEqual(errorsOf(yaml), want));
  }
});

describe('config: control and metrics limits', () => {
  it('takes every limit and checks ranges and the relations between them', () => {
    const c = parseConfig(
      `${PORTS}control: {maxClients: 8, maxRequestBytes: 1048576, maxBufferedBytes: 4194304, maxReplyBacklogBytes: 65536, requestTimeoutMs: 500, idleTimeoutMs: 1000}
metrics: {maxConnections: 4, headersTimeoutMs: 200, requestTimeoutMs: 300, keepAliveTimeoutMs: 0, idleTimeoutMs: 400, maxPipelined: 4}
eal: {telemetry: true}
`,
      't',
    );
    assert.deepEqual(c.control, {
      socket: '/run/dpfwd/dpfwd.sock',
      mode: 0o660,
      maxClients: 8,
      maxRequestBytes: 1048576,
      maxBufferedBytes: 4194304,
      maxReplyBacklogBytes: 65536,
      requestTimeoutMs: 500,
      idleTimeoutMs: 1000,
    });
    assert.deepEqual(c.metrics, {
      listen: { host: '127.0.0.1', port: 9450 },
      maxConnections: 4,
      headersTimeoutMs: 200,
      requestTimeoutMs: 300,
      keepAliveTimeoutMs: 0,
      idleTimeoutMs: 400,
      maxPipelined: 4,
    });
    assert.equal(c.eal.telemetry, true);
    assert.deepEqual(
      errorsOf(
        `${PORTS}control: {maxClients: 1, maxRequestBytes: 8388608, maxBufferedBytes: 4194304}\nmetrics: {headersTimeoutMs: 5000, requestTimeoutMs: 1000}\neal: {telemetry: "no"}\n`,
      ),
      [
        'eal.telemetry: expected true or false, got "no"',
        'metrics.headersTimeoutMs: 5000 ms is longer than metrics.requestTimeoutMs (1000 ms); the headers are part of the request',
        'control.maxClients: expected an integer from 2 to 10000, got 1',
        'control.maxBufferedBytes: 4194304 bytes is less than control.maxRequestBytes (8388608); one request of the largest size must fit',
      ],
    );
  });
});

describe('config: parser abuse is a config error', () => {
  it('billion laughs (aliases of aliases) stops at the alias limit', () => {
    let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (const [x, y] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
      ['h', 'g'],
      ['i', 'h'],
    ])
      text += `${x}: &${x} [${Array(9).fill(`*${y}`).join(',')}]\n`;
    assert.deepEqual(errorsOf(text), ['test.yaml: YAML: too many alias expansions (more than 100); write the values out or use fewer aliases (*name)']);
  });

  it('a few aliases are fine', () => {
    const c = parseConfig(`${PORTS}routes: [{prefix: 10.20.0.0/16, via: &gw 10.1.0.2}, {prefix: 10.30.0.0/16, via: *gw}]\n`, 't');
    assert.deepEqual(
      c.routes.map((r) => r.via),
      ['10.1.0.2', '10.1.0.2'],
    );
  });

  it('nesting 100000 deep is a config error, not a stack overflow', () => {
    const errs = errorsOf(`a: ${'['.repeat(100000)}${']'.repeat(100000)}\n`);
    assert.equal(errs.length, 1);
    assert.match(errs[0], /^test\.yaml(:\d+:\d+)?: YAML/);
  });
});

describe('config: files', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-config-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('missing file names the path and how to create one', () => {
    const p = path.join(dir, 'nope.yaml');
    assert.throws(
      () => loadConfigFile(p),
      (e: unknown) => {
        assert.ok(e instanceof DpfwdError);
        assert.equal(e.code, 'ECONFIG');
        assert.equal(
          e.message,
          `config file ${p} does not exist; copy examples/demo.yaml (two af_packet ports) or examples/pcap.yaml to ${p} and edit it, or pass --config PATH`,
        );
        return true;
      },
    );
  });

  it('a directory is not a config file', () => {
    assert.throws(() => loadConfigFile(dir), { code: 'ECONFIG', message: `config file ${dir} is a directory; pass the path of a YAML file` });
  });

  it('errors name the file', () => {
    const p = path.join(dir, 'bad.yaml');
    fs.writeFileSync(p, 'ports: []\n');
    assert.throws(() => loadConfigFile(p), {
      code: 'ECONFIG',
      message: `${p}: 1 configuration error:\nports: at least one port is required, e.g. [{name: west, device: "net_af_packet0,iface=veth0"}]`,
    });
  });

  for (const ex of ['demo.yaml', 'pcap.yaml']) {
    it(`examples/${ex} is valid`, () => {
      const p = path.join(__dirname, '..', '..', 'examples', ex);
      const c = loadConfigFile(p);
      assert.deepEqual(c.warnings, []);
      assert.ok(c.ports.length >= 2);
    });
  }

  it('examples/demo.yaml is the demo topology', () => {
    const c = loadConfigFile(path.join(__dirname, '..', '..', 'examples', 'demo.yaml'));
    assert.deepEqual(
      c.ports.map((p) => [p.name, p.device, p.addresses]),
      [
        ['vwest', 'net_af_packet0,iface=vwest', ['10.1.0.1/24']],
        ['veast', 'net_af_packet1,iface=veast', ['10.2.0.1/24']],
      ],
    );
    assert.deepEqual(c.neighbors, [], 'the demo resolves its hosts by ARP: no static entries');
    assert.equal(c.eal.lcores, '0-1');
  });
});

describe('config: helpers', () => {
  it('suggestKey', () => {
    assert.equal(suggestKey('lcore', ['lcores', 'inMemory']), 'lcores');
    assert.equal(suggestKey('inmemory', ['lcores', 'inMemory']), 'inMemory');
    assert.equal(suggestKey('rxqueues', ['rxQueues', 'rxDescriptors']), 'rxQueues');
    assert.equal(suggestKey('zebra', ['lcores', 'inMemory']), undefined);
  });

  it('parseDevice', () => {
    assert.deepEqual(parseDevice('01:00.1'), { kind: 'pci', device: '0000:01:00.1', name: '0000:01:00.1' });
    assert.deepEqual(parseDevice('net_tap0,iface=dtap0'), { kind: 'vdev', device: 'net_tap0,iface=dtap0', name: 'net_tap0' });
    assert.deepEqual(parseDevice('net_bonding0,mode=1,slave=0000:01:00.0'), {
      kind: 'vdev',
      device: 'net_bonding0,mode=1,slave=0000:01:00.0',
      name: 'net_bonding0',
    });
    assert.deepEqual(parseDevice('env:X'), { kind: 'env', device: 'env:X', name: 'X', index: 0 });
    assert.equal(typeof parseDevice('net_NULL0'), 'string');
  });

  it('mempoolSize follows l3fwd with a floor, rounded to 2^n-1', () => {
    const base = parseConfig(`${PORTS}`, 't');
    // 2·1·1024 + 2·1·1024 + 1·32 + 1·256 = 4384 → floor 8192 → 16383
    assert.equal(mempoolSize(base), 16383);
    const big = parseConfig(
      `eal: {lcores: "0-4"}
ports:
  - {name: a, device: net_null0, rxQueues: 4, rxDescriptors: 4096, txDescriptors: 4096}
  - {name: b, device: net_null1, rxQueues: 4, rxDescriptors: 4096, txDescriptors: 4096}
`,
      't',
    );
    // 2·4·4096 + 2·4·4096 + 4·32 + 4·256 = 66688 → 131071
    assert.equal(mempoolSize(big), 131071);
    assert.equal(mempoolSize({ ...base, mempool: { mbufs: 5000, cacheSize: 256 } }), 5000);
    assert.equal(mempoolSize({ ports: [], workers: [], mempool: { mbufs: 0, cacheSize: 0 } }), 16383);
    // exactly 2^n-1 stays
    assert.equal(
      mempoolSize({ ports: [{ ...base.ports[0], rxQueues: 1, rxDescriptors: 32767, txDescriptors: 0 }], workers: [], mempool: { mbufs: 0, cacheSize: 0 } }),
      32767,
    );
  });
});

describe('config: live and restart keys', () => {
  it('every top-level key is classified', () => {
    assert.deepEqual(Object.keys(KEY_CHANGE).sort(), [
      'arp',
      'capture',
      'control',
      'eal',
      'fib',
      'icmp',
      'idle',
      'interfaces',
      'linux',
      'log',
      'mempool',
      'metrics',
      'neighbors',
      'ports',
      'punt',
      'routes',
      'workers',
    ]);
    // per key since reload: the limits of metrics, control, punt's wait and ARP's timers change live too
    assert.deepEqual([...LIVE_KEYS].sort(), [
      'arp.lockMs',
      'arp.maxIncomplete',
      'arp.newPerSecond',
      'arp.probes',
      'arp.queueLen',
      'arp.reachableMs',
      'arp.retransmitMs',
      'arp.staleMs',
      'control.idleTimeoutMs',
      'control.maxBufferedBytes',
      'control.maxClients',
      'control.maxReplyBacklogBytes',
      'control.maxRequestBytes',
      'control.requestTimeoutMs',
      'icmp',
      'interfaces',
      'linux.burst',
      'linux.rateLimit',
      'log',
      'metrics.headersTimeoutMs',
      'metrics.idleTimeoutMs',
      'metrics.keepAliveTimeoutMs',
      'metrics.maxConnections',
      'metrics.maxPipelined',
      'metrics.requestTimeoutMs',
      'neighbors',
      'ports[].address',
      'punt.maxWaitMs',
      'routes',
    ]);
    assert.deepEqual([...RESTART_KEYS], ['eal', 'ports', 'workers', 'idle', 'fib', 'metrics', 'control', 'punt', 'arp', 'mempool', 'capture', 'linux']);
    assert.equal(keyChange('arp', 'maxEntries'), 'restart');
    assert.equal(keyChange('ports', 'address'), 'live');
    assert.equal(keyChange('ports', 'device'), 'restart');
  });
});

describe('config: capture', () => {
  it('takes the capture limits and refuses a ring that is not a power of two', () => {
    const c = parseConfig(
      'ports: [{name: west, device: net_null0}]\ncapture: {ringSize: 512, mbufs: 4095, maxSnaplen: 128, leaseMs: 2000, readBytes: 65536}',
      't',
    );
    assert.deepEqual(c.capture, { ringSize: 512, mbufs: 4095, maxSnaplen: 128, leaseMs: 2000, readBytes: 65536 });
    assert.deepEqual(errorsOf('ports: [{name: west, device: net_null0}]\ncapture: {ringSize: 1000, mbufs: 10, rings: 2}'), [
      'capture.rings: unknown key; did you mean ringSize? (valid keys: ringSize, mbufs, maxSnaplen, leaseMs, readBytes)',
      'capture.ringSize: 1000 is not a power of two (e.g. 1024, 2048, 4096)',
      'capture.mbufs: expected an integer from 64 to 1048575 mbufs, got 10',
    ]);
  });
});

describe('config: linux.sync', () => {
  it('takes table names and numbers, protocol names and numbers; on by default when a mirror is on', () => {
    const c = parseConfig(`${PORTS}linux: {netns: dpfwd, sync: {table: 100, protocols: [bgp, ospf, 42]}}`, 't');
    assert.deepEqual(c.linux, {
      netns: 'dpfwd',
      mirror: false,
      mirrors: {},
      queueLen: 1000,
      rateLimit: 10000,
      burst: 1000,
      sync: { enabled: false, table: 100, protocols: [186, 188, 42], socketBuffer: 4194304, maxRoutes: 2097152 },
    });
    assert.equal(parseConfig(`${PORTS}linux: {mirror: true}`, 't').linux.sync.enabled, true);
    assert.equal(parseConfig(`${PORTS}linux: {mirror: true, sync: {enabled: false}}`, 't').linux.sync.enabled, false);
    assert.equal(parseConfig(`${PORTS}linux: {sync: {enabled: true, table: default}}`, 't').linux.sync.table, 253);
  });
});

describe('config: VLAN sub-interfaces', () => {
  it('a sub-interface with its defaults: named <port>.<vlan>, the port MTU; routes and neighbours may use it', () => {
    const c = parseConfig(
      `${PORTS}interfaces:
  - {port: west, vlan: 100, address: 10.100.0.1/24}
  - {name: voice, port: west, vlan: 200, mtu: 1400}
routes: [{prefix: 10.20.0.0/16, via: 10.100.0.2}, {prefix: 10.30.0.0/16, port: voice}]
neighbors: [{address: 10.100.0.3, mac: "02:00:00:00:64:03", port: west.100}]
`,
      't',
    );
    assert.deepEqual(c.interfaces, [
      { name: 'west.100', port: 'west', vlan: 100, mtu: 1500, addresses: ['10.100.0.1/24'] },
      { name: 'voice', port: 'west', vlan: 200, mtu: 1400, addresses: [] },
    ]);
    assert.deepEqual(
      c.routes.map((r) => [r.via, r.port]),
      [
        ['10.100.0.2', 'west.100'],
        [undefined, 'voice'],
      ],
      'the gateway resolves to the sub-interface whose subnet holds it',
    );
    assert.equal(c.neighbors[0].port, 'west.100');
  });
  const bad: [string, string, string[]][] = [
    ['unknown port', 'interfaces: [{port: north, vlan: 100}]', ['interfaces[0].port: no port named north; ports are west, east']],
    ['no vlan', 'interfaces: [{port: west}]', ['interfaces[0].vlan: required (a VLAN id 1-4094)']],
    ['vlan 0 (a priority tag)', 'interfaces: [{port: west, vlan: 0}]', ['interfaces[0].vlan: expected an integer from 1 to 4094, got 0']],
    ['vlan 4095', 'interfaces: [{port: west, vlan: 4095}]', ['interfaces[0].vlan: expected an integer from 1 to 4094, got 4095']],
    [
      'a VLAN twice on one port',
      'interfaces: [{port: west, vlan: 7}, {name: w7, port: west, vlan: 7}]',
      ['interfaces[1].vlan: port west already has VLAN 7 (interfaces[0])'],
    ],
    ['a name taken by a port', 'interfaces: [{name: east, port: west, vlan: 7}]', ['interfaces[0].name: east is already the name of ports[1]']],
    [
      'a bad name',
      'interfaces: [{name: "West.7", port: west, vlan: 7}]',
      ['interfaces[0].name: "West.7" is not a valid interface name: use a port name, optionally followed by .<number> (like west.100)'],
    ],
    ["MTU above the port's", 'interfaces: [{port: west, vlan: 7, mtu: 9000}]', ['interfaces[0].mtu: expected an integer from 68 to 1500, got 9000']],
    [
      "an address that overlaps a port's",
      'interfaces: [{port: west, vlan: 7, address: 10.2.0.9/24}]',
      ['interfaces[0].address: address 10.2.0.9/24 on port west.7 conflicts with 10.2.0.1/24 on port east'],
    ],
    [
      'a route out of an unknown sub-interface',
      'routes: [{prefix: 10.9.0.0/16, port: west.9}]',
      ['routes[0].port: no port named west.9; ports are west, east'],
    ],
  ];
  for (const [desc, yaml, want] of bad) it(desc, () => assert.deepEqual(errorsOf(`${PORTS}${yaml}`), want));
});
