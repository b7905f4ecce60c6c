/**
 * deploy/Containerfile builds an image that starts: built with podman from a local Debian 12 +
 * Node 20 base (scripts/container-base.sh: no image registry is reachable here), then `dpfwd run`
 * in it with net_null ports, /healthz and CLI calls checked, and a clean stop.
 *
 * Podman here: a storage root of its own under /var/cache/dpfwd-image (kept between runs: the base
 * and the build's layers are cached; overlay where the kernel allows it, else vfs); runc, because
 * crun 1.8 refuses hosts with cgroup v1 and a v2 hierarchy holding controllers ("hybrid mode");
 * cgroup manager cgroupfs (no systemd); host networking; and nofile/nproc limits below the host's,
 * because podman's defaults (1048576 / 4194304) need CAP_SYS_RESOURCE, which a CI sandbox may lack.
 * DPDK gets the host's /dev/hugepages. DPFWD_PODMAN_OPTS replaces the global podman options.
 */
import { strict as assert } from 'assert';
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { stringify } from 'yaml';
import { debianPackageOf } from '../src/dataplane/native';
import { freePort, ROOT, tmpDir, waitFor } from './helpers/forwarder';
import { Topology, sh, spawnIn } from './helpers/netns';

const CACHE = process.env.DPFWD_IMAGE_CACHE ?? '/var/cache/dpfwd-image';
const IMAGE = 'localhost/dpfwd:test';
const LIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=8192:8192'];
const PMDS = '/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0';
/** docs/deploy.md's flags for kernel-facing ports: the capabilities, and the seccomp profile that allows bpf() */
const KERNEL_PORT_FLAGS = ['--cap-add', 'NET_RAW,NET_ADMIN,BPF,IPC_LOCK', '--security-opt', `seccomp=${path.join(ROOT, 'deploy', 'seccomp-dpfwd.json')}`];

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

let globalOpts: string[] = [];
function podman(args: string[], opts: { timeout?: number; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync('podman', [...globalOpts, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 60000, input: opts.input, maxBuffer: 64 << 20 });
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout?.slice(-3000)}\n${r.stderr?.slice(-3000)}`);
  return r.stdout;
}

function storageOpts(): string[] {
  const root = ['--root', path.join(CACHE, 'storage'), '--runroot', '/run/dpfwd-image', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
  // the first run decides the driver; later runs must keep it (podman refuses to switch)
  const marker = path.join(CACHE, 'storage-driver');
  let driver = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '';
  if (!driver) {
    fs.mkdirSync(CACHE, { recursive: true });
    const probe = spawnSync('podman', [...root, '--storage-driver', 'overlay', 'info', '--format', '{{.Store.GraphDriverName}}'], {
      encoding: 'utf8',
      timeout: 60000,
    });
    driver = probe.status === 0 && probe.stdout.trim() === 'overlay' ? 'overlay' : 'vfs';
    fs.writeFileSync(marker, driver + '\n');
  }
  return [...root, '--storage-driver', driver];
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('deploy/Containerfile: the image builds and runs (podman)', function () {
  this.timeout(600000);
  const name = `dpfwd-image-test-${process.pid}`;
  let dir: string;
  let metricsPort: number;

  before(function () {
    this.timeout(540000);
    for (const cmd of ['podman', 'debootstrap', 'runc']) {
      if (!have(cmd)) throw new Error(`${cmd} missing: apt-get install -y podman debootstrap runc (scripts/setup.sh does)`);
    }
    globalOpts = process.env.DPFWD_PODMAN_OPTS ? process.env.DPFWD_PODMAN_OPTS.split(/\s+/).filter(Boolean) : storageOpts();
    const base = spawnSync('bash', [path.join(ROOT, 'scripts', 'container-base.sh')], {
      encoding: 'utf8',
      timeout: 300000,
      env: { ...process.env, DPFWD_PODMAN_OPTS: globalOpts.join(' '), DPFWD_IMAGE_CACHE: CACHE },
    });
    const tag = ok(base, 'scripts/container-base.sh').trim().split('\n').pop()!;
    ok(
      podman(['build', '--network', 'host', ...LIMITS, '--build-arg', `BASE=${tag}`, '-t', IMAGE, '-f', 'deploy/Containerfile', ROOT], { timeout: 480000 }),
      'podman build',
    );
    // earlier builds' layers that no tag uses any more (only in this test's own storage)
    podman(['image', 'prune', '-f']);
  });

  after(() => {
    if (globalOpts.length) podman(['rm', '-f', '-t', '5', name]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds every DPDK library the addon links and the drivers users need, each from its Debian package', () => {
    const out = ok(
      podman([
        'run',
        '--rm',
        '--network',
        'none',
        ...LIMITS,
        '--entrypoint',
        'sh',
        IMAGE,
        '-c',
        `ldd /app/build/Release/dpfwd.node; echo ---; ls ${PMDS}; echo ---; dpkg-query -W -f '\${Package}\\n' 'librte-*' dpdk 2>/dev/null; true`,
      ]),
      'podman run ldd',
    );
    const [ldd, pmds, pkgs] = out.split('---\n');
    assert.doesNotMatch(ldd, /not found/, ldd);
    const installed = new Set(pkgs.trim().split('\n'));
    assert.ok(!installed.has('dpdk'), 'not the dpdk package (scripts only)');
    const libs = [...ldd.matchAll(/^\s*(librte_\w+)\.so/gm)].map((m) => m[1]);
    assert.ok(libs.includes('librte_lpm'), ldd);
    for (const lib of libs) assert.ok(installed.has(debianPackageOf(lib)), `${lib} comes from ${debianPackageOf(lib)}, installed`);
    for (const pmd of [
      'mempool_ring',
      'bus_pci',
      'bus_vdev',
      'net_iavf',
      'net_ice',
      'net_i40e',
      'net_ixgbe',
      'net_mlx5',
      'net_af_packet',
      'net_af_xdp',
      'net_memif',
      'net_null',
      'net_pcap',
      'net_tap',
    ]) {
      assert.match(pmds, new RegExp(`^librte_${pmd}\\.so\\.23$`, 'm'), `${pmd} driver in ${PMDS}`);
    }
  });

  it('`dpfwd run` with net_null ports: /healthz answers ok, the CLI works through the socket, SIGTERM stops it cleanly', async function () {
    this.timeout(120000);
    dir = tmpDir('image');
    metricsPort = await freePort();
    fs.writeFileSync(
      path.join(dir, 'dpfwd.yaml'),
      stringify({
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: 'net_null0', address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
        ],
        metrics: { listen: `127.0.0.1:${metricsPort}` },
      }),
    );
    ok(
      podman(['run', '-d', '--name', name, '--network', 'host', ...LIMITS, '-v', '/dev/hugepages:/dev/hugepages', '-v', `${dir}:/etc/dpfwd:ro`, IMAGE]),
      'podman run -d',
    );
    const logs = () => {
      const r = podman(['logs', name]);
      return `${r.stdout}${r.stderr}`;
    };
    const health = await waitFor(
      '/healthz',
      async () => {
        const st = podman(['inspect', name, '--format', '{{.State.Status}}']).stdout.trim();
        if (st === 'exited') throw new Error(`the container exited:\n${logs()}`);
        const r = await get(`http://127.0.0.1:${metricsPort}/healthz`);
        return r.status === 200 ? r : undefined;
      },
      60000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\n${logs()}`);
    });
    assert.equal(health.body, 'ok\n');
    const ports = JSON.parse(ok(podman(['exec', name, 'dpfwd', 'show', 'ports', '-j']), 'dpfwd show ports'));
    assert.deepEqual(
      ports.map((p: any) => [p.ifname, p.driver, p.operstate]),
      [
        ['west', 'net_null', 'UP'],
        ['east', 'net_null', 'UP'],
      ],
    );
    ok(podman(['exec', name, 'dpfwd', 'neighbor', 'add', '10.2.0.2', '02:00:00:00:02:02', 'port', 'east']), 'dpfwd neighbor add');
    ok(podman(['exec', name, 'dpfwd', 'route', 'add', '10.20.0.0/16', 'via', '10.2.0.2']), 'dpfwd route add');
    const routes = JSON.parse(ok(podman(['exec', name, 'dpfwd', 'route', 'show', '-j']), 'dpfwd route show'));
    assert.ok(
      routes.some((r: any) => r.dst === '10.20.0.0/16' && r.gateway === '10.2.0.2' && r.dev === 'east'),
      JSON.stringify(routes),
    );
    // net_null0 receives endlessly: the worker forwards west → east
    const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
    const busy = /^dpfwd_worker_busy_seconds_total\{worker="0"\} (\S+)$/m.exec(metrics.body);
    assert.ok(busy && Number(busy[1]) > 0, `the worker polls: ${busy?.[0]}`);
    ok(podman(['stop', '-t', '20', name], { timeout: 40000 }), 'podman stop');
    assert.equal(podman(['inspect', name, '--format', '{{.State.ExitCode}}']).stdout.trim(), '0', logs());
    assert.match(logs(), /stopped; ports closed and hugepage memory released/);
  });

  it("af_packet ports on veths under podman's default seccomp profile: refused naming what is missing, then docs/deploy.md's flags forward TCP with the XDP step applied", async function () {
    this.timeout(240000);
    const topo = new Topology();
    const vname = `${name}-veth`;
    const vdir = tmpDir('image-veth');
    try {
      const west = topo.addHost('west', 1);
      const east = topo.addHost('east', 2);
      fs.writeFileSync(
        path.join(vdir, 'dpfwd.yaml'),
        stringify({ eal: { lcores: '0-1' }, ports: [topo.port(west, 0), topo.port(east, 1)], metrics: { listen: false } }),
      );
      // no --security-opt: podman's default seccomp profile, which allows bpf() only with CAP_SYS_ADMIN
      const run = ['run', '--network', 'host', ...LIMITS, '-v', '/dev/hugepages:/dev/hugepages', '-v', `${vdir}:/etc/dpfwd:ro`];
      const plain = podman([...run, '--rm', IMAGE], { timeout: 120000 });
      assert.notEqual(plain.status, 0, plain.stderr);
      assert.match(
        plain.stderr,
        /ports\[0\] west \(net_af_packet on \S+\): its AF_PACKET socket needs CAP_NET_RAW, which this process lacks \(podman\/docker: --cap-add NET_RAW/,
        plain.stderr,
      );
      assert.doesNotMatch(plain.stderr, /EAL arguments/, 'refused before EAL init');
      const caps = podman([...run, '--rm', ...KERNEL_PORT_FLAGS.slice(0, 2), IMAGE], { timeout: 120000 });
      assert.notEqual(caps.status, 0, caps.stderr);
      assert.match(
        caps.stderr,
        /ports\[0\] west .*needs the bpf\(\) system call, which a seccomp filter refuses \(EPERM\);.*--security-opt seccomp=deploy\/seccomp-dpfwd\.json/,
        caps.stderr,
      );
      // the documented command
      ok(podman([...run, '-d', '--name', vname, ...KERNEL_PORT_FLAGS, IMAGE]), 'podman run -d (kernel ports)');
      const logs = () => {
        const r = podman(['logs', vname]);
        return `${r.stdout}${r.stderr}`;
      };
      await waitFor(
        'the forwarder',
        async () => {
          if (podman(['inspect', vname, '--format', '{{.State.Status}}']).stdout.trim() === 'exited') throw new Error(`the container exited:\n${logs()}`);
          return /control socket /.test(logs()) || undefined;
        },
        90000,
      );
      for (const h of [west, east]) {
        assert.match(logs(), new RegExp(`port ${h.name} \\(af_packet on ${h.routerIf}: attached pass-through XDP program`), logs());
        assert.equal(JSON.parse(sh('ip', ['-j', 'link', 'show', h.routerIf]))[0].xdp?.prog?.name, 'dpfwd_xdp_pass');
      }
      // real TCP through the containerised router, bounded: iperf3 -t 2 (at the 0.47 Mbit/s of a failed XDP step, 2 s carry ~120 kB)
      const srv = spawnIn(east.ns, 'iperf3', ['-s', '-1', '-B', east.ip]);
      const srvExit = new Promise((r) => srv.on('exit', r));
      try {
        await new Promise((r) => setTimeout(r, 400));
        const out = sh('iperf3', ['-c', east.ip, '-t', '2', '-J'], { ns: west.ns, allowFail: true, timeout: 30000 });
        const end = JSON.parse(out).end;
        console.log(`      TCP west → east through the container: ${(end.sum_received.bits_per_second / 1e6).toFixed(0)} Mbit/s`);
        assert.ok(end.sum_received.bytes > 4e6, `received ${end.sum_received.bytes} bytes:\n${logs()}`);
      } finally {
        if (srv.exitCode === null) srv.kill('SIGKILL');
        await srvExit;
      }
      ok(podman(['stop', '-t', '20', vname], { timeout: 40000 }), 'podman stop');
      assert.equal(podman(['inspect', vname, '--format', '{{.State.ExitCode}}']).stdout.trim(), '0', logs());
      for (const h of [west, east]) assert.equal(JSON.parse(sh('ip', ['-j', 'link', 'show', h.routerIf]))[0].xdp, undefined, 'the XDP step undone at stop');
    } finally {
      podman(['rm', '-f', '-t', '5', vname]);
      topo.destroy();
      fs.rmSync(vdir, { recursive: true, force: true });
    }
  });

  it('without a DPDK library the load error names its Debian package', () => {
    const r = podman([
      'run',
      '--rm',
      '--network',
      'none',
      ...LIMITS,
      '-v',
      `${dir}:/etc/dpfwd:ro`,
      '--entrypoint',
      'sh',
      IMAGE,
      '-c',
      'rm -f /usr/lib/x86_64-linux-gnu/librte_lpm.so.23*; dpfwd run --config /etc/dpfwd/dpfwd.yaml',
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /librte_lpm\.so\.23: cannot open shared object file/, r.stderr);
    assert.match(r.stderr, /install the package librte-lpm23 \(deploy\/Containerfile lists/, r.stderr);
  });
});
