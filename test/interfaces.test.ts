/**
 * VLAN sub-interfaces in the control plane, against a real forwarder on net_null ports: from the
 * config and at runtime (`dpfwd interface add/del`, `show interfaces`, -j), with their own
 * addresses, routes and neighbours, and the errors that name cause and fix.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { startForwarder, Running, tmpDir, dpfwdCli, dpfwdJson } from './helpers/forwarder';
import { Interfaces } from '../src/routing/interfaces';

describe('interfaces: VLAN sub-interfaces (control plane)', function () {
  this.timeout(60000);
  let fwd: Running;
  let dir: string;

  const cli = (...args: string[]) => dpfwdCli(fwd, args);
  const json = (...args: string[]) => dpfwdJson(fwd, args);

  before(async () => {
    dir = tmpDir('ifaces');
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24', mtu: 1500 },
        ],
        interfaces: [{ port: 'west', vlan: 100, address: '10.100.0.1/24' }],
        routes: [{ prefix: '10.20.0.0/16', via: '10.100.0.2' }],
      },
      { dir },
    );
  });

  after(async () => {
    assert.equal((await fwd.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the configured sub-interface is an interface with its address, and its gateway route goes out of it', () => {
    const rows = json('show', 'interfaces');
    assert.deepEqual(
      rows.map((r: any) => [r.ifname, r.link, r.vlan, r.mtu, r.addr_info.map((a: any) => `${a.local}/${a.prefixlen}`)]),
      [
        ['west', 'west', null, 1500, ['10.1.0.1/24']],
        ['east', 'east', null, 1500, ['10.2.0.1/24']],
        ['west.100', 'west', 100, 1500, ['10.100.0.1/24']],
      ],
    );
    assert.equal(rows[2].address, rows[0].address, "a sub-interface has its port's MAC");
    const routes = json('route', 'show');
    assert.deepEqual(
      routes.find((r: any) => r.dst === '10.20.0.0/16'),
      { dst: '10.20.0.0/16', gateway: '10.100.0.2', dev: 'west.100', protocol: 'static', type: 'unicast', lladdr: null },
    );
    assert.deepEqual(
      routes.find((r: any) => r.dst === '10.100.0.0/24'),
      { dst: '10.100.0.0/24', dev: 'west.100', protocol: 'connected', type: 'unicast' },
    );
  });

  it('interface add at runtime; addresses, neighbours and routes on it; the table lists it', () => {
    let r = cli('interface', 'add', 'east.7', 'vlan', '7', 'mtu', '1400');
    assert.equal(r.status, 0, r.stderr);
    r = cli('address', 'add', '10.7.0.1/24', 'port', 'east.7');
    assert.equal(r.status, 0, r.stderr);
    r = cli('neighbor', 'add', '10.7.0.2', '02:00:00:00:07:02', 'port', 'east.7');
    assert.equal(r.status, 0, r.stderr);
    r = cli('route', 'add', '10.77.0.0/16', 'via', '10.7.0.2');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      json('route', 'show').find((x: any) => x.dst === '10.77.0.0/16'),
      { dst: '10.77.0.0/16', gateway: '10.7.0.2', dev: 'east.7', protocol: 'static', type: 'unicast', lladdr: '02:00:00:00:07:02' },
    );
    assert.deepEqual(
      json('neighbor', 'show').find((x: any) => x.dst === '10.7.0.2'),
      { dst: '10.7.0.2', dev: 'east.7', lladdr: '02:00:00:00:07:02', state: ['PERMANENT'] },
    );
    const table = cli('show', 'interfaces');
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^east\.7 +east +7 +1400 /m);
    assert.ok(
      json('show', 'drops').some((d: any) => d.port === 'east.7'),
      'show drops lists the sub-interface',
    );
  });

  it('refuses what it cannot do, naming cause and fix', () => {
    const fails: [string[], RegExp][] = [
      [['interface', 'add', 'west.200', 'vlan', '0'], /VLAN 0 is not a VLAN id \(1-4094; 0 is a priority tag, 4095 reserved\)/],
      [['interface', 'add', 'west.101', 'vlan', '100'], /port west already has VLAN 100 \(interface west\.100\)/],
      [['interface', 'add', 'north.5', 'vlan', '5'], /unknown port north; ports are: west, east/],
      [['interface', 'add', 'west.300', 'vlan', '300', 'mtu', '9000'], /MTU 9000 of west\.300: a sub-interface's MTU is 68 to its port's \(1500\)/],
      [['interface', 'add', 'west.300'], /interface add needs vlan <1-4094>, e.g\. dpfwd interface add west\.300 vlan 300/],
      [['interface', 'del', 'east.7'], /interface east\.7 still has addresses \(10\.7\.0\.1\/24\); delete them first/],
      [['interface', 'del', 'east'], /east is a port's untagged interface, not a sub-interface/],
      [['route', 'add', '10.88.0.0/16', 'port', 'east.8'], /unknown port east\.8; ports are: west, east, west\.100, east\.7/],
    ];
    for (const [args, re] of fails) {
      const r = cli(...args);
      assert.notEqual(r.status, 0, `${args.join(' ')} succeeded`);
      assert.match(r.stderr, re, args.join(' '));
    }
  });

  it('interface del: refused while routes go out of it; with them gone, its neighbours go with it', () => {
    assert.equal(cli('address', 'del', '10.7.0.1/24', 'port', 'east.7').status, 0);
    let r = cli('interface', 'del', 'east.7');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /interface east\.7 is the way out of 1 route\(s\); delete them first/);
    assert.equal(cli('route', 'del', '10.77.0.0/16').status, 0);
    r = cli('interface', 'del', 'east.7');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      json('show', 'interfaces').map((x: any) => x.ifname),
      ['west', 'east', 'west.100'],
    );
    assert.equal(
      json('neighbor', 'show').find((x: any) => x.dst === '10.7.0.2'),
      undefined,
    );
    // the freed index is taken again
    r = cli('interface', 'add', 'east.9', 'vlan', '9');
    assert.equal(r.status, 0, r.stderr);
    const rows = json('show', 'interfaces');
    assert.equal(rows.find((x: any) => x.ifname === 'east.9').ifindex, rows.find((x: any) => x.ifname === 'west.100').ifindex + 1);
  });
});

describe('interfaces: the table (pure)', () => {
  const fake = () => {
    const calls: string[] = [];
    return {
      calls,
      dp: {
        ifaceSet: (i: number, c: { port: number; vlan: number; mtu: number }) => calls.push(`set ${i} ${c.port} ${c.vlan} ${c.mtu}`),
        ifaceDel: (i: number) => calls.push(`del ${i}`),
      },
    };
  };
  it('gives sub-interfaces the lowest free index from maxPorts up, and none past maxPorts + maxSubifs', () => {
    const t = new Interfaces([{ index: 0, name: 'west', port: 0, vlan: 0, mac: 2, mtu: 1500 }]);
    const f = fake();
    const space = { maxPorts: 32, maxSubifs: 2 };
    assert.equal(t.addSubif(f.dp, space, { port: 'west', vlan: 10 }).index, 32);
    assert.equal(t.addSubif(f.dp, space, { port: 'west', vlan: 11, mtu: 1400 }).index, 33);
    assert.throws(() => t.addSubif(f.dp, space, { port: 'west', vlan: 12 }), /all 2 sub-interfaces are in use \(DP_MAX_SUBIFS\); delete one first/);
    t.delSubif(f.dp, 'west.10');
    assert.equal(t.addSubif(f.dp, space, { port: 'west', vlan: 12 }).index, 32);
    assert.deepEqual(f.calls, ['set 32 0 10 1500', 'set 33 0 11 1400', 'del 32', 'set 32 0 12 1500']);
    assert.deepEqual(t.names(), ['west', 'west.12', 'west.11']);
  });
});
