/**
 * `dpfwd capture` and `dpfwd trace` against real forwarders (net_pcap in, tx_pcap/net_null out).
 *
 * Golden capture: the ingress port reads a FIFO, so the capture is running before the first
 * packet arrives; every frame is then captured at RX, forwarded ones at TX, dropped ones at the
 * drop point with the reason show drops counted. The pcapng is read by tshark and tcpdump.
 */
import { strict as assert } from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildArpRequest, buildUdp4, encodePcap, readPcap, readPcapng, pcapngInterface, pcapngPacket, pcapngSectionHeader, EPB_INBOUND } from '../src/packet';
import { captureRequest } from '../src/cli/commands/capture';
import { DPFWD, dpfwdCli, Running, startForwarder, tmpDir, totals, waitFor } from './helpers/forwarder';

const HOST_MAC = '02:00:00:00:01:02';
const WEST_MAC = '02:70:63:61:70:00';
const GW_EAST = '02:00:00:00:02:02';

function udp(o: Partial<Parameters<typeof buildUdp4>[0]> & { dst: string }): Buffer {
  return buildUdp4({ srcMac: HOST_MAC, dstMac: WEST_MAC, src: '10.1.0.2', sport: 1000, dport: 2000, ttl: 64, ...o });
}

/** The frame with an 802.1Q tag after the MAC addresses. */
function vlan(frame: Buffer, vid: number): Buffer {
  return Buffer.concat([frame.subarray(0, 12), Buffer.from([0x81, 0x00, vid >> 8, vid & 0xff]), frame.subarray(12)]);
}

/** tshark's view of a pcapng: interface name, comment, lengths and the bytes of each packet. */
function tshark(file: string): { iface: string; comment?: string; len: number; capLen: number; bytes: string; dir?: string }[] {
  const r = spawnSync('tshark', ['-r', file, '-T', 'json', '-x'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { _source: { layers: Record<string, unknown> } }[]).map((p) => {
    const l = p._source.layers;
    const frame = l.frame as Record<string, string>;
    const comment = (l.pkt_comment as Record<string, string> | undefined)?.['frame.comment'];
    return {
      iface: (frame['frame.interface_id_tree'] as unknown as Record<string, string>)['frame.interface_name'],
      comment,
      len: Number(frame['frame.len']),
      capLen: Number(frame['frame.cap_len']),
      bytes: (l.frame_raw as string[])[0],
    };
  });
}

function tcpdumpCount(file: string): number {
  const r = spawnSync('tcpdump', ['-n', '-r', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).length;
}

/** Starts `dpfwd capture …` and resolves once it says it is capturing. */
async function startCapture(fwd: Running, args: string[]): Promise<{ proc: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, [DPFWD, '--socket', fwd.socket, 'capture', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    err += d;
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  await waitFor('the capture to start', async () => err.includes('capturing on') || (proc.exitCode !== null && assert.fail(err)), 15000);
  return { proc, stderr: () => err, exited };
}

async function captureOff(fwd: Running): Promise<void> {
  await waitFor(
    "the forwarder's capture to be off",
    async () => {
      const s = await fwd.call('capture.show');
      return !s.dataplane && s.capture === null;
    },
    10000,
  );
}

describe("pcapng blocks and the capture command's options (no DPDK)", () => {
  it('writes blocks tshark reads back: interface names, ns timestamps, comment, direction, snap length', () => {
    const dir = tmpDir('pcapng');
    const frame = udp({ dst: '10.20.1.1' });
    const file = path.join(dir, 'x.pcapng');
    fs.writeFileSync(
      file,
      Buffer.concat([
        pcapngSectionHeader(),
        pcapngInterface('west-rx', 65535),
        pcapngInterface('west-drop', 65535), // libpcap wants one snap length per section
        pcapngPacket({ iface: 0, ts: { sec: 1700000000, nsec: 123456789 }, data: frame, origLen: frame.length, direction: EPB_INBOUND }),
        pcapngPacket({
          iface: 1,
          ts: { sec: 1700000001, nsec: 5 },
          data: frame.subarray(0, 30),
          origLen: frame.length,
          direction: EPB_INBOUND,
          comment: 'no_route',
        }),
      ]),
    );
    try {
      const t = tshark(file);
      assert.deepEqual(
        t.map((p) => [p.iface, p.comment, p.len, p.capLen]),
        [
          ['west-rx', undefined, 60, 60],
          ['west-drop', 'no_route', 60, 30],
        ],
      );
      assert.equal(t[0].bytes, frame.toString('hex'));
      const r = readPcapng(fs.readFileSync(file));
      assert.deepEqual(
        r.packets.map((p) => [p.iface, p.ts, p.comment, p.direction]),
        [
          [0, { sec: 1700000000, nsec: 123456789 }, undefined, 1],
          [1, { sec: 1700000001, nsec: 5 }, 'no_route', 1],
        ],
      );
      assert.equal(tcpdumpCount(file), 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns options into a capture request, refusing what cannot work', () => {
    assert.deepEqual(captureRequest({ filter: ['udp', 'port', '53'], interface: ['west,east'], count: 5, duration: 1.5, points: 'rx,drop' }), {
      ports: ['west', 'east'],
      points: ['rx', 'drop'],
      reason: undefined,
      filter: 'udp port 53',
      snaplen: undefined,
      count: 5,
      durationMs: 1500,
    });
    assert.throws(() => captureRequest({ points: 'rx,out' }), /--points: out is not one of rx, tx, drop/);
    assert.throws(() => captureRequest({ points: 'rx', reason: 'no_route' }), /--reason captures drops only/);
    assert.throws(() => captureRequest({ count: 0 }), /-c 0: give a number of packets/);
    assert.throws(() => captureRequest({ duration: -1 }), /--duration -1: give seconds/);
  });
});

describe('dpfwd capture: golden run at RX, TX and drop', function () {
  this.timeout(90000);
  let dir: string;
  let fwd: Running;
  let seen: Awaited<ReturnType<typeof totals>>;
  let pkts: ReturnType<typeof tshark>;
  let file: string;
  let summary: string;
  const table: { frame: Buffer; drop?: string; out?: boolean }[] = [
    { frame: udp({ dst: '10.20.1.1' }), out: true },
    { frame: udp({ dst: '10.20.1.2', sport: 1001 }), out: true },
    { frame: udp({ dst: '192.0.2.1' }), drop: 'no_route' },
    { frame: udp({ dst: '10.20.1.1', checksum: 0x1234 }), drop: 'bad_checksum' },
    { frame: udp({ dst: '10.20.1.1', ttl: 1 }), drop: 'ttl_expired' },
    { frame: udp({ dst: '10.99.1.1' }), drop: 'blackhole' },
    { frame: udp({ dst: '224.0.0.5' }), drop: 'martian_address' },
    { frame: udp({ dst: '10.20.1.1', ihl: 4 }), drop: 'bad_header_length' },
    // to west's MAC (they went to 02:00:00:00:00:01, which no port has, and would now be not_for_us)
    { frame: Buffer.concat([Buffer.from('027063617000020000000102' + '0800', 'hex'), Buffer.alloc(10, 0x45)]), drop: 'truncated' },
    { frame: Buffer.concat([Buffer.from('02706361700002000000010286dd', 'hex'), Buffer.alloc(46)]), drop: 'not_ipv4' },
    { frame: udp({ dst: '10.50.1.1' }), drop: 'tx_full' },
    // punts are not drops: they appear at RX only
    { frame: buildArpRequest({ senderMac: HOST_MAC, senderIp: '10.1.0.2', targetIp: '10.1.0.1' }) },
    { frame: udp({ dst: '10.1.0.1' }) },
  ];

  before(async () => {
    dir = tmpDir('capture');
    const fifo = path.join(dir, 'in.pcap');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const pcap = encodePcap(table.map((c) => c.frame));
    // the PMD reads the file header when it probes the port; the records once the capture runs
    const writer = fs.promises.open(fifo, 'w').then(async (h) => {
      await h.write(pcap.subarray(0, 24));
      return h;
    });
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1', inMemory: false, filePrefix: `dpfwd-capture-${process.pid}` },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${fifo}`, address: '10.1.0.1/24' },
          { name: 'east', device: `net_pcap1,tx_pcap=${dir}/east.pcap`, address: '10.2.0.1/24' },
          // a memif server nobody connects to: its TX takes nothing (tx_full)
          { name: 'dead', device: `net_memif0,role=server,socket=${dir}/memif.sock`, address: '10.5.0.1/24' },
        ],
        neighbors: [
          { address: '10.2.0.2', mac: GW_EAST, port: 'east' },
          { address: '10.5.0.2', mac: '02:00:00:00:05:02', port: 'dead' },
        ],
        routes: [
          { prefix: '10.20.0.0/16', via: '10.2.0.2' },
          { prefix: '10.50.0.0/16', via: '10.5.0.2' },
          { prefix: '10.99.0.0/16', blackhole: true },
        ],
      },
      { dir },
    );
    const h = await writer;
    file = path.join(dir, 'out.pcapng');
    const cap = await startCapture(fwd, ['-w', file]);
    await h.write(pcap.subarray(24));
    await h.close();
    await waitFor('the frames to be read', async () => (await totals(fwd)).rx >= table.length);
    seen = await totals(fwd);
    // let the CLI's reads catch up, then Ctrl-C it
    const idbOf = (name: string) => ['west-rx', 'west-tx', 'west-drop', 'east-rx', 'east-tx', 'east-drop', 'dead-rx', 'dead-tx', 'dead-drop'].indexOf(name);
    await waitFor(
      'every copy written',
      async () => {
        const p = readPcapng(fs.readFileSync(file)).packets;
        const n = (name: string) => p.filter((x) => x.iface === idbOf(name)).length;
        return n('west-rx') >= table.length && n('east-tx') >= 2 && n('west-drop') + n('dead-drop') >= table.filter((c) => c.drop).length;
      },
      10000,
    );
    cap.proc.kill('SIGINT');
    assert.equal(await cap.exited, 0, cap.stderr());
    summary = cap.stderr();
    pkts = tshark(file);
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops the capture in the forwarder when the CLI gets Ctrl-C, and prints the summary', async () => {
    await captureOff(fwd);
    assert.match(summary, /capture \d+ ended \(stopped\): \d+ packets written; worker 0: captured \d+, capture_dropped 0/);
  });

  it('writes pcapng that tcpdump reads, one interface block per port and direction', () => {
    assert.equal(tcpdumpCount(file), pkts.length);
    const ifaces = readPcapng(fs.readFileSync(file)).interfaces.map((i) => i.name);
    assert.deepEqual(ifaces, ['west-rx', 'west-tx', 'west-drop', 'east-rx', 'east-tx', 'east-drop', 'dead-rx', 'dead-tx', 'dead-drop']);
  });

  it('captures every received frame at west-rx, byte for byte and in order', () => {
    const rx = pkts.filter((p) => p.iface === 'west-rx');
    assert.deepEqual(
      rx.map((p) => p.bytes),
      table.map((c) => c.frame.toString('hex')),
    );
  });

  it('captures what east transmitted at east-tx, the bytes the TX pcap holds', () => {
    const sent = readPcap(path.join(dir, 'east.pcap')).map((r) => r.data.toString('hex'));
    const tx = pkts.filter((p) => p.iface === 'east-tx').map((p) => p.bytes);
    assert.equal(sent.length, table.filter((c) => c.out).length);
    assert.deepEqual(tx, sent);
  });

  it('gives every dropped packet the reason show drops counted, as its comment', () => {
    const drops = pkts.filter((p) => p.iface.endsWith('-drop'));
    const byReason: Record<string, number> = {};
    for (const p of drops) {
      assert.ok(p.comment, 'a drop carries its reason');
      byReason[p.comment!] = (byReason[p.comment!] ?? 0) + 1;
    }
    const counted: Record<string, number> = {};
    for (const [port, reasons] of Object.entries(seen.drops)) {
      for (const [r, n] of Object.entries(reasons)) if (n) counted[r] = (counted[r] ?? 0) + n;
      void port;
    }
    assert.deepEqual(byReason, counted);
    const want: Record<string, number> = {};
    for (const c of table) if (c.drop) want[c.drop] = (want[c.drop] ?? 0) + 1;
    assert.deepEqual(byReason, want);
    // each dropped frame is the frame that arrived (tx_full: the rewritten one, on the egress port)
    for (const c of table.filter((x) => x.drop && x.drop !== 'tx_full')) {
      assert.ok(
        drops.some((p) => p.iface === 'west-drop' && p.comment === c.drop && p.bytes === c.frame.toString('hex')),
        c.drop,
      );
    }
    assert.ok(drops.some((p) => p.iface === 'dead-drop' && p.comment === 'tx_full'));
  });

  it('does not put punts (ARP, local) in the drop blocks, and leaves forwarded traffic alone', () => {
    assert.equal(pkts.filter((p) => p.iface.endsWith('-drop')).length, table.filter((c) => c.drop).length);
    assert.equal(seen.forwarded.west, table.filter((c) => c.out).length + 1 /* tx_full: forwarded, then not taken */);
  });
});

describe('dpfwd capture and trace on a running forwarder', function () {
  this.timeout(120000);
  let dir: string;
  let fwd: Running;

  before(async () => {
    dir = tmpDir('capture2');
    // two flows forwarded (sport 1000, 1001), one without a route (1002), one bad checksum (1003)
    fs.writeFileSync(
      path.join(dir, 'in.pcap'),
      encodePcap([
        udp({ dst: '10.20.1.1', sport: 1000 }),
        udp({ dst: '10.20.1.1', sport: 1001 }),
        udp({ dst: '192.0.2.1', sport: 1002 }),
        udp({ dst: '10.20.1.1', sport: 1003, checksum: 0x1234 }),
        // 802.1Q: VLAN 100 is sub-interface west.100, VLAN 200 is nobody's
        vlan(udp({ dst: '10.20.1.1', src: '10.100.0.2', sport: 1004 }), 100),
        vlan(udp({ dst: '10.20.1.1', sport: 1005 }), 200),
      ]),
    );
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/in.pcap,infinite_rx=1`, address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null0,no-rx=1', address: '10.2.0.1/24' },
        ],
        interfaces: [{ port: 'west', vlan: 100, address: '10.100.0.1/24' }],
        neighbors: [{ address: '10.2.0.2', mac: GW_EAST, port: 'east' }],
        routes: [{ prefix: '10.20.0.0/16', via: '10.2.0.2' }],
        capture: { ringSize: 64, leaseMs: 3000 },
      },
      { dir },
    );
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('captures only the flow the filter matches, and stops at the count', () => {
    const file = path.join(dir, 'flow.pcapng');
    const r = dpfwdCli(fwd, ['capture', '-w', file, '-c', '25', 'udp src port 1001']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /ended \(count\): 25 packets/);
    const p = readPcapng(fs.readFileSync(file)).packets;
    assert.equal(p.length, 25);
    for (const x of p) assert.equal(x.data.readUInt16BE(34), 1001, 'only sport 1001');
    assert.equal(tcpdumpCount(file), 25);
  });

  it('refuses a filter libpcap cannot compile, naming the cause', () => {
    const r = dpfwdCli(fwd, ['capture', '-w', path.join(dir, 'x.pcapng'), 'udp port']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /filter "udp port": .*syntax error/);
  });

  it('keeps only the snap length of each packet, with the original length', () => {
    const file = path.join(dir, 'snap.pcapng');
    const r = dpfwdCli(fwd, ['capture', '-w', file, '-c', '5', '-s', '40', '--points', 'rx', 'not vlan']);
    assert.equal(r.status, 0, r.stderr);
    const p = tshark(file);
    assert.equal(p.length, 5);
    for (const x of p) {
      assert.equal(x.capLen, 40);
      assert.equal(x.len, 60);
    }
  });

  it('ends after the duration when nothing matches', async () => {
    const t0 = Date.now();
    const r = dpfwdCli(fwd, ['capture', '-w', path.join(dir, 'none.pcapng'), '--duration', '1', 'udp port 9']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /ended \(duration\): 0 packets/);
    assert.ok(Date.now() - t0 < 15000);
    await captureOff(fwd);
  });

  it('captures only the reason asked for', () => {
    const file = path.join(dir, 'reason.pcapng');
    const r = dpfwdCli(fwd, ['capture', '-w', file, '-c', '10', '--reason', 'bad_checksum']);
    assert.equal(r.status, 0, r.stderr);
    const p = tshark(file);
    assert.equal(p.length, 10);
    for (const x of p) {
      assert.equal(x.iface, 'west-drop');
      assert.equal(x.comment, 'bad_checksum');
    }
    // without -w: one line per packet, the point, tcpdump -n's decode, the reason at its end
    const text = dpfwdCli(fwd, ['capture', '-c', '2', '--reason', 'bad_checksum']);
    assert.equal(text.status, 0, text.stderr);
    const lines = text.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^\d\d:\d\d:\d\d\.\d{9} west-drop IP 10\.1\.0\.2\.\d+ > 10\.20\.1\.1\.\d+: UDP, length \d+ drop bad_checksum$/);
    // --points chooses: forwarded packets at tx only, each once
    const tx = dpfwdCli(fwd, ['capture', '-c', '3', '--points', 'tx']);
    assert.equal(tx.status, 0, tx.stderr);
    const txLines = tx.stdout.split('\n').filter(Boolean);
    assert.equal(txLines.length, 3, tx.stdout);
    for (const l of txLines) assert.match(l, /^\S+ east-tx IP /, l);
  });

  it('counts copies lost to a full ring as capture_dropped, in the summary and the metrics, and forwards on', async () => {
    const before = await totals(fwd);
    // reads every 2 s while the ring holds 64: it overflows
    const r = dpfwdCli(fwd, ['capture', '-w', path.join(dir, 'slow.pcapng'), '-c', '200', '--poll', '2000', '-j']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stderr.trim().split('\n').pop()!);
    assert.ok(s.workers[0].captureDropped > 0, r.stderr);
    const c = await fwd.call('show.counters');
    assert.ok(c.snapshot.workers[0].counters.capture_dropped >= s.workers[0].captureDropped);
    const after = await totals(fwd);
    assert.ok(after.forwarded.west > before.forwarded.west, 'forwarding went on');
  });

  it('works as a live pipe: dpfwd capture -w - | tcpdump -r -, and ends when the reader goes', async () => {
    const r = spawnSync('bash', ['-c', `${process.execPath} ${DPFWD} --socket ${fwd.socket} capture -w - 'udp src port 1000' | tcpdump -n -r - -c 7`], {
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 7);
    for (const l of lines) assert.match(l, /IP 10\.1\.0\.2\.1000 > 10\./);
    await captureOff(fwd);
  });

  it('stops the capture in the forwarder when the CLI is killed', async () => {
    const cap = await startCapture(fwd, ['-w', path.join(dir, 'killed.pcapng')]);
    assert.equal((await fwd.call('capture.show')).dataplane, true);
    cap.proc.kill('SIGKILL');
    await cap.exited;
    await captureOff(fwd);
  });

  it('runs one capture at a time', async () => {
    const cap = await startCapture(fwd, ['-w', path.join(dir, 'first.pcapng')]);
    try {
      const r = dpfwdCli(fwd, ['capture', '-w', path.join(dir, 'second.pcapng')]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /capture \d+ is running; stop it first/);
    } finally {
      cap.proc.kill('SIGINT');
      assert.equal(await cap.exited, 0);
    }
    await captureOff(fwd);
  });

  it('traces a forwarded packet: ingress, checks, the route it matched, next hop and egress', () => {
    const r = dpfwdCli(fwd, ['trace', '-n', '2', '-j', 'udp src port 1001']);
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.length, 2);
    for (const p of t) {
      assert.equal(p.port, 'west');
      assert.equal(p.queue, 0);
      assert.equal(p.frame.ip4.dst, '10.20.1.1');
      assert.equal(p.fastPath, 'pass');
      assert.equal(p.checks, 'pass');
      assert.equal(p.lookup.found, true);
      assert.equal(p.lookup.prefix, '10.20.0.0/16');
      assert.equal(p.lookup.action, 'forward');
      assert.equal(p.lookup.iface, 'east');
      assert.equal(p.lookup.mac, GW_EAST);
      assert.ok(Number.isInteger(p.lookup.nexthop));
      assert.equal(p.result, 'forwarded');
      assert.equal(p.egress, 'east');
    }
  });

  it('traces drops with their reason and punt kind, printed like vppctl show trace', () => {
    const j = dpfwdCli(fwd, ['trace', '-n', '1', '-j', 'udp src port 1002']);
    assert.equal(j.status, 0, j.stderr);
    const [nr] = JSON.parse(j.stdout);
    assert.equal(nr.lookup.found, false);
    assert.equal(nr.result, 'dropped');
    assert.equal(nr.drop, 'no_route');
    assert.equal(nr.punt, 'no_route');
    const b = dpfwdCli(fwd, ['trace', '-n', '1', '-j', 'udp src port 1003']);
    const [bad] = JSON.parse(b.stdout);
    assert.equal(bad.fastPath, 'fail');
    assert.equal(bad.checks, 'bad_checksum');
    assert.equal(bad.drop, 'bad_checksum');
    assert.equal(bad.lookup, undefined, 'no lookup after a failed check');
    const text = dpfwdCli(fwd, ['trace', '-n', '1', 'udp src port 1003']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Packet 1\n\n\d\d:\d\d:\d\d\.\d{9}: dpfwd-input\n {2}port west queue 0 worker 0 60 bytes\n/);
    assert.match(text.stdout, /ip4-checks\n {2}bad_checksum\n/);
    assert.match(text.stdout, /error-drop\n {2}bad_checksum\n/);
  });

  it('traces tagged packets on their sub-interface, and an unknown VLAN as its drop; captures that drop', () => {
    const j = dpfwdCli(fwd, ['trace', '-n', '1', '-j', 'vlan 100 and udp src port 1004']);
    assert.equal(j.status, 0, j.stderr);
    const [p] = JSON.parse(j.stdout);
    assert.deepEqual(
      [p.port, p.iface, p.frame.vlan, p.fastPath, p.checks, p.lookup.prefix, p.result, p.egress],
      ['west', 'west.100', 100, 'fail', 'pass', '10.20.0.0/16', 'forwarded', 'east'],
    );
    const u = dpfwdCli(fwd, ['trace', '-n', '1', '-j', 'vlan 200']);
    const [q] = JSON.parse(u.stdout);
    assert.deepEqual([q.iface, q.checks, q.result, q.drop], ['west', 'not reached', 'dropped', 'unknown_vlan']);
    const file = path.join(dir, 'vlan.pcapng');
    const r = dpfwdCli(fwd, ['capture', '-w', file, '-c', '3', '--reason', 'unknown_vlan']);
    assert.equal(r.status, 0, r.stderr);
    const t = tshark(file);
    assert.deepEqual(
      t.map((x) => [x.iface, x.comment]),
      [
        ['west-drop', 'unknown_vlan'],
        ['west-drop', 'unknown_vlan'],
        ['west-drop', 'unknown_vlan'],
      ],
    );
    assert.equal(t[0].bytes, vlan(udp({ dst: '10.20.1.1', sport: 1005 }), 200).toString('hex'), 'the frame as it arrived, tag and all');
  });

  it('leaves the trace off after it finished', async () => {
    const s = await fwd.call('capture.show');
    assert.equal(s.trace.active, false);
  });
});
