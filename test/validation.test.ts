/**
 * One validation for config and runtime (issue 11 item 5): each rule refuses the same thing with
 * the same message in a config file and over the control socket of a running forwarder
 * (route add, neighbor add, route load — where every error names its line).
 */
import { strict as assert } from 'assert';
import { parseConfig } from '../src/config';
import { startForwarder, Running, tmpDir } from './helpers/forwarder';

const PORTS = `ports:
  - {name: west, device: "net_null0,no-rx=1", address: 10.1.0.1/24}
  - {name: east, device: "net_null1,no-rx=1", address: 10.2.0.1/24}
`;

function configErrors(text: string): string[] {
  try {
    parseConfig(text, 't');
  } catch (e) {
    return (e as { errors?: string[] }).errors ?? [(e as Error).message];
  }
  return [];
}

interface Case {
  desc: string;
  yaml: string;
  path: string;
  op: string;
  args: Record<string, unknown>;
  message: string;
}

const CASES: Case[] = [
  {
    desc: "via the router's own address",
    yaml: 'routes: [{prefix: 10.20.0.0/16, via: 10.2.0.1}]',
    path: 'routes[0].via',
    op: 'route.add',
    args: { prefix: '10.20.0.0/16', via: '10.2.0.1' },
    message: "10.2.0.1 is this router's own address on port east",
  },
  {
    desc: 'via the broadcast address of a connected subnet',
    yaml: 'routes: [{prefix: 10.20.0.0/16, via: 10.2.0.255}]',
    path: 'routes[0].via',
    op: 'route.add',
    args: { prefix: '10.20.0.0/16', via: '10.2.0.255' },
    message: "10.2.0.255 is the broadcast address of port east's subnet 10.2.0.0/24, not a host",
  },
  {
    desc: 'via the network address of a connected subnet',
    yaml: 'routes: [{prefix: 10.20.0.0/16, via: 10.2.0.0, port: east}]',
    path: 'routes[0].via',
    op: 'route.add',
    args: { prefix: '10.20.0.0/16', via: '10.2.0.0', port: 'east' },
    message: "10.2.0.0 is the network address of port east's subnet 10.2.0.0/24, not a host",
  },
  {
    desc: 'via 0.0.0.0',
    yaml: 'routes: [{prefix: 10.20.0.0/16, via: 0.0.0.0, port: east}]',
    path: 'routes[0].via',
    op: 'route.add',
    args: { prefix: '10.20.0.0/16', via: '0.0.0.0', port: 'east' },
    message: '0.0.0.0 is in 0.0.0.0/8 ("this network"), not a unicast host address',
  },
  {
    desc: 'a route to multicast 224.0.0.0/4',
    yaml: 'routes: [{prefix: 224.0.0.0/4, port: east}]',
    path: 'routes[0].prefix',
    op: 'route.add',
    args: { prefix: '224.0.0.0/4', port: 'east' },
    message: '224.0.0.0/4 is multicast (224.0.0.0/4); dpfwd routes unicast destinations only',
  },
  {
    desc: 'a route into the reserved 240.0.0.0/4',
    yaml: 'routes: [{prefix: 240.1.0.0/16, via: 10.2.0.2}]',
    path: 'routes[0].prefix',
    op: 'route.add',
    args: { prefix: '240.1.0.0/16', via: '10.2.0.2' },
    message: '240.1.0.0/16 is in the reserved range 240.0.0.0/4; dpfwd routes unicast destinations only',
  },
  {
    desc: 'a route to loopback',
    yaml: 'routes: [{prefix: 127.0.0.0/8, blackhole: true}]',
    path: 'routes[0].prefix',
    op: 'route.add',
    args: { prefix: '127.0.0.0/8', blackhole: true },
    message: '127.0.0.0/8 is loopback (127.0.0.0/8), never routed',
  },
  {
    desc: 'via together with blackhole',
    yaml: 'routes: [{prefix: 10.20.0.0/16, via: 10.2.0.2, blackhole: true}]',
    path: 'routes[0].blackhole',
    op: 'route.add',
    args: { prefix: '10.20.0.0/16', via: '10.2.0.2', blackhole: true },
    message: 'a blackhole route takes no via or port',
  },
  {
    desc: 'a route equal to a connected subnet',
    yaml: 'routes: [{prefix: 10.1.0.0/24, port: east}]',
    path: 'routes[0].prefix',
    op: 'route.add',
    args: { prefix: '10.1.0.0/24', port: 'east' },
    message: '10.1.0.0/24 is the connected subnet of port west (10.1.0.1/24); it is routed there already',
  },
  {
    desc: "a neighbour at the router's own address",
    yaml: 'neighbors: [{address: 10.1.0.1, mac: "02:00:00:00:01:02", port: west}]',
    path: 'neighbors[0].address',
    op: 'neighbor.add',
    args: { address: '10.1.0.1', mac: '02:00:00:00:01:02', port: 'west' },
    message: "10.1.0.1 is this router's own address on port west",
  },
  {
    desc: "a neighbour at a subnet's broadcast address",
    yaml: 'neighbors: [{address: 10.1.0.255, mac: "02:00:00:00:01:02", port: west}]',
    path: 'neighbors[0].address',
    op: 'neighbor.add',
    args: { address: '10.1.0.255', mac: '02:00:00:00:01:02', port: 'west' },
    message: "10.1.0.255 is the broadcast address of port west's subnet 10.1.0.0/24, not a host",
  },
  {
    desc: 'a multicast neighbour',
    yaml: 'neighbors: [{address: 224.0.0.5, mac: "02:00:00:00:01:02", port: west}]',
    path: 'neighbors[0].address',
    op: 'neighbor.add',
    args: { address: '224.0.0.5', mac: '02:00:00:00:01:02', port: 'west' },
    message: '224.0.0.5 is a multicast address, not a unicast host address',
  },
];

describe('validation: the config refuses', () => {
  for (const c of CASES) {
    it(c.desc, () => {
      assert.deepEqual(configErrors(`${PORTS}${c.yaml}\n`), [`${c.path}: ${c.message}`]);
    });
  }
});

describe('validation: the control socket of a running forwarder refuses the same, with the same message', function () {
  this.timeout(60000);
  let fwd: Running;

  before(async () => {
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
        ],
      },
      { dir: tmpDir('validation') },
    );
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
  });

  for (const c of CASES) {
    it(c.desc, async () => {
      const before = await fwd.call('route.show');
      await assert.rejects(fwd.call(c.op, c.args), (e: Error & { code?: string }) => {
        assert.equal(e.message, c.message);
        assert.equal(e.code, 'EINVAL');
        return true;
      });
      assert.deepEqual(await fwd.call('route.show'), before, 'nothing changed');
    });
  }

  for (const [desc, address, message] of [
    [
      "an interface address that is a subnet's broadcast address",
      '10.3.0.255/24',
      '10.3.0.255/24 is the broadcast address of 10.3.0.0/24, not a host address; did you mean 10.3.0.1/24?',
    ],
    ['a multicast interface address', '224.0.0.1/24', '224.0.0.1/24 is not an interface address: 224.0.0.1 is a multicast address'],
    ["an interface address overlapping another port's subnet", '10.1.0.7/24', 'address 10.1.0.7/24 on port east conflicts with 10.1.0.1/24 on port west'],
  ]) {
    it(`address add: ${desc}`, async () => {
      const cfg = configErrors(`ports:
  - {name: west, device: "net_null0,no-rx=1", address: 10.1.0.1/24}
  - {name: east, device: "net_null1,no-rx=1", address: [10.2.0.1/24, ${address}]}
`);
      assert.deepEqual(cfg, [`ports[1].address[1]: ${message}`]);
      await assert.rejects(fwd.call('address.add', { address, port: 'east' }), (e: Error) => {
        assert.equal(e.message, message);
        return true;
      });
    });
  }

  it('a route that the config and the socket both accept still works (via a host, blackhole alone)', async () => {
    await fwd.call('route.add', { prefix: '10.30.0.0/16', via: '10.2.0.2' });
    await fwd.call('route.add', { prefix: '10.31.0.0/16', blackhole: true });
    const routes = await fwd.call('route.show');
    assert.ok(routes.some((r: { dst: string; gateway?: string }) => r.dst === '10.30.0.0/16' && r.gateway === '10.2.0.2'));
    assert.ok(routes.some((r: { dst: string; type: string }) => r.dst === '10.31.0.0/16' && r.type === 'blackhole'));
    assert.deepEqual(configErrors(`${PORTS}routes: [{prefix: 10.30.0.0/16, via: 10.2.0.2}, {prefix: 10.31.0.0/16, blackhole: true}]\n`), []);
  });

  it('route load names the line of every error, syntax and semantic, and loads nothing', async () => {
    const text = [
      '# a comment',
      '10.40.0.0/16 via 10.2.0.2',
      '',
      '10.41.0.0/16 via 10.2.0.1', // 4: own address
      '224.0.0.0/8 port east', // 5: multicast
      '10.42.0.0/16 via 10.9.0.9', // 6: gateway outside every subnet
      '10.43.0.0/16 port north', // 7: unknown port
      'R10.44.0.0/16 7', // 8: no port id 7
      '10.2.0.0/24 port west', // 9: a connected subnet
      '10.45.0.0/16 via 10.1.0.255 # broadcast', // 10
      '10.47.0.0/16 via 10.2.0.2 dev west', // 11: gateway on east, port west (the rule route add applies)
      '10.48.0.0/16 nexthop via 10.1.0.2 dev west nexthop via 10.2.0.2 dev west', // 12: path 2 on the wrong port
    ].join('\n');
    await assert.rejects(fwd.call('route.load', { text }), (e: Error) => {
      const lines = e.message
        .split('\n')
        .slice(1)
        .map((l) => l.trim());
      assert.deepEqual(lines, [
        "line 4: 10.2.0.1 is this router's own address on port east",
        'line 5: 224.0.0.0/8 is multicast (224.0.0.0/4); dpfwd routes unicast destinations only',
        "line 6: gateway 10.9.0.9 is not in any port's connected subnet; name the port (… via 10.9.0.9 port <name>) or add an address on that link",
        'line 7: unknown port north; ports are: west, east',
        'line 8: port id 7 does not exist (ports 0-1: west, east)',
        'line 9: 10.2.0.0/24 is the connected subnet of port east (10.2.0.1/24); it is routed there already',
        "line 10: 10.1.0.255 is the broadcast address of port west's subnet 10.1.0.0/24, not a host",
        "line 11: gateway 10.2.0.2 is in port east's subnet 10.2.0.0/24, not in port west's (10.1.0.1/24): use port east (dev east), or a gateway on west's link",
        "line 12: nexthop 2: gateway 10.2.0.2 is in port east's subnet 10.2.0.0/24, not in port west's (10.1.0.1/24): use port east (dev east), or a gateway on west's link",
      ]);
      assert.match(e.message, /^route file has 9 bad line\(s\), nothing loaded:/);
      return true;
    });
    assert.ok(!(await fwd.call('route.show')).some((r: { dst: string }) => r.dst === '10.40.0.0/16'), 'all or nothing');
    // a syntax error names its line as before
    await assert.rejects(fwd.call('route.load', { text: '10.40.0.0/16 via 10.2.0.2\n10.46.0.0/33 via 10.2.0.2\n' }), /line 2: /);
  });
});

describe('validation: arp limits in the config', () => {
  it('arp.maxEntries defaults to min(4096, fib.maxNexthops / 4)', () => {
    assert.equal(parseConfig(`${PORTS}fib: {maxNexthops: 1024}\n`, 't').arp.maxEntries, 256);
    assert.equal(parseConfig(PORTS, 't').arp.maxEntries, 4096);
  });

  it('arp.maxEntries may not take more than half the next hops', () => {
    assert.deepEqual(configErrors(`${PORTS}fib: {maxNexthops: 1024}\narp: {maxEntries: 600}\n`), [
      'arp.maxEntries: 600 is more than half of fib.maxNexthops (1024); learned neighbours may hold at most 512 next hops so that routes keep the rest',
    ]);
    assert.equal(parseConfig(`${PORTS}fib: {maxNexthops: 1024}\narp: {maxEntries: 512}\n`, 't').arp.maxEntries, 512);
  });

  it('every new arp limit has a range', () => {
    assert.deepEqual(configErrors(`${PORTS}arp: {maxIncomplete: 0, newPerSecond: 0, lockMs: -1, maxEntries: 0}\n`), [
      'arp.maxEntries: expected an integer from 1 to 524288 entries, got 0',
      'arp.maxIncomplete: expected an integer from 1 to 65536 entries, got 0',
      'arp.newPerSecond: expected an integer from 1 to 1000000 entries/s per port, got 0',
      'arp.lockMs: expected an integer from 0 to 60000 ms, got -1',
    ]);
  });
});
