// Against a real Prometheus (Debian's /usr/bin/prometheus on loopback, 127.97.x.x): it scrapes a real
// `fleetpoll serve` (two hosts polled with the local transport, one unreachable) the three ways the
// docs show (own health, the whole fleet with honor_labels, blackbox-style /probe with relabelling),
// all with the bearer token; PromQL through its HTTP API returns what the service's history store
// holds for a known host. A second, in-process server over generated results is scraped over HTTPS:
// hostile mount points and user names come back from Prometheus exactly. promtool checks each exposition.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer, listenHttp } from '../../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS, type HttpSettings } from '../../../src/http/settings.js';
import { CLI } from '../../helpers/cli.js';
import { HOSTILE_FSTYPE, HOSTILE_MOUNT, HOSTILE_USER, FixedMetricsSource, metricsCycle, sampleFleet } from '../../helpers/metrics.js';
import { makeIpCert, missingPrometheus, problemsBesidesNodeExporterNames, promtoolCheckMetrics, startPrometheus, type RunningPrometheus } from '../../helpers/prometheus.js';
import { pickPort } from '../../helpers/sshd.js';
import { FakeHistoryReader, FakeServiceStatus, RecordingLog } from '../fakes.js';

const TOKEN = 'scrape-token-3f9a1c7e5b2d4a6f8e0c';
const SERVE_ADDRESS = '127.97.0.2';
const GENERATED_ADDRESS = '127.97.0.3';
const PROMETHEUS_ADDRESS = '127.97.0.4';
const DOWN_ADDRESS = '127.97.0.9';
const KB = 1024;

async function waitFor<T>(what: string, check: () => Promise<T | null>, timeoutMs: number, context: () => Promise<string> | string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Prometheus scrapes fleetpoll serve', { skip: missingPrometheus() ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-prom-'));
  const servePort = pickPort(97);
  const generatedPort = pickPort(98);
  const serveUrl = `http://${SERVE_ADDRESS}:${servePort}`;
  let serve: ChildProcess | null = null;
  let serveOutput = '';
  let generated: FastifyInstance | null = null;
  let prometheus: RunningPrometheus | null = null;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(
      join(dir, 'inventory', 'servers.csv'),
      ['name,address,transport,port,user,auth,os,tags,enabled', 'local1,,local,,,,linux,prom,yes', 'local2,,local,,,,linux,prom,yes', `down,${DOWN_ADDRESS},ssh,${pickPort(99)},nobody,agent,linux,prom,yes`, ''].join('\n'),
    );
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    const settings = {
      http: { bind: SERVE_ADDRESS, port: servePort, tokenFile: 'token' },
      serve: { intervalSeconds: 3600, spreadFraction: 0 },
      poll: { cpuWindowSeconds: 0.2, timeoutSeconds: 10, retries: 0 },
      alerts: { enabled: false },
      ssh: { knownHosts: 'known_hosts' },
    };
    writeFileSync(join(dir, 'fleetpoll.config.json'), `${JSON.stringify(settings, null, 2)}\n`);
    serve = spawn(process.execPath, [CLI, 'serve'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout?.on('data', (c: Buffer) => (serveOutput += c.toString()));
    serve.stderr?.on('data', (c: Buffer) => (serveOutput += c.toString()));
    await waitFor('the first cycle of fleetpoll serve', async () => (serveOutput.includes('fleetpoll serve: cycle ') ? true : null), 60_000, () => serveOutput);

    // The generated fleet, over HTTPS with a certificate Prometheus trusts through ca_file.
    const cert = makeIpCert(dir, GENERATED_ADDRESS);
    const httpSettings: HttpSettings = { ...DEFAULT_HTTP_SETTINGS, bind: GENERATED_ADDRESS, port: generatedPort, tls: { certFile: cert.certFile, keyFile: cert.keyFile }, tokenEnv: 'GENERATED_TOKEN' };
    generated = buildHttpServer({ settings: httpSettings, env: { GENERATED_TOKEN: TOKEN }, reader: new FakeHistoryReader(), status: new FakeServiceStatus(), log: new RecordingLog(), metrics: new FixedMetricsSource(metricsCycle(sampleFleet())) });
    await listenHttp(generated, httpSettings);

    // The configuration docs/prometheus.md gives, with these addresses.
    const config = `
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fleetpoll
    authorization: { credentials_file: token }
    static_configs: [{ targets: ['${SERVE_ADDRESS}:${servePort}'] }]
  - job_name: fleet
    metrics_path: /metrics/fleet
    honor_labels: true
    authorization: { credentials_file: token }
    static_configs: [{ targets: ['${SERVE_ADDRESS}:${servePort}'] }]
  - job_name: fleet-probe
    metrics_path: /probe
    authorization: { credentials_file: token }
    static_configs: [{ targets: [local1, local2, down] }]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: '${SERVE_ADDRESS}:${servePort}'
  - job_name: generated
    scheme: https
    metrics_path: /metrics/fleet
    honor_labels: true
    authorization: { credentials_file: token }
    tls_config: { ca_file: ca.pem }
    static_configs: [{ targets: ['${GENERATED_ADDRESS}:${generatedPort}'] }]
`;
    prometheus = await startPrometheus(config, { address: PROMETHEUS_ADDRESS, port: pickPort(100) }, { token: `${TOKEN}\n`, 'ca.pem': cert.cert });
  });

  after(async () => {
    await prometheus?.stop();
    await generated?.close();
    if (serve !== null && serve.exitCode === null && serve.pid !== undefined) {
      const exited = new Promise((r) => serve!.once('exit', r));
      process.kill(serve.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const everyTargetUp = async (): Promise<true | null> => {
    const up = await prometheus!.query('up');
    // fleetpoll, fleet, 3 probes, generated.
    return up.length === 6 && up.every((s) => s.value === 1) ? true : null;
  };

  it('scrapes every target with the bearer token (HTTPS for the generated one) and reads what the history holds for local1', async () => {
    const p = prometheus!;
    await waitFor('every target up', everyTargetUp, 60_000, () => p.targets());
    await waitFor('the fleet series', async () => ((await p.query('fleetpoll_up{job="fleet"}')).length === 3 ? true : null), 30_000, () => p.targets());

    // What the service's history holds: the latest rows through the API, the disks and users from the store itself.
    const hosts = (await (await fetch(`${serveUrl}/api/v1/hosts`, { headers: auth })).json()) as { hosts: { host: string; status: string; at: number; memTotalKb: number; memAvailableKb: number; load1m: number; cpuPct: number; cpuCores: number; uptimeSec: number }[] };
    const local1 = hosts.hosts.find((h) => h.host === 'local1');
    assert.ok(local1 !== undefined && local1.status === 'ok', JSON.stringify(hosts));
    // down fails before it is polled (no agent) or at connect (nothing listens): its status, whichever, is the history's.
    const downStatus = hosts.hosts.find((h) => h.host === 'down')?.status;
    assert.ok(downStatus !== undefined && downStatus !== 'ok', JSON.stringify(hosts));

    const one = async (promql: string): Promise<number> => {
      const result = await p.query(promql);
      assert.equal(result.length, 1, `${promql}: ${JSON.stringify(result)}`);
      return result[0]!.value;
    };
    for (const job of ['fleet', 'fleet-probe']) {
      const sel = `job="${job}",instance="local1"`;
      assert.equal(await one(`node_memory_MemTotal_bytes{${sel}}`), local1.memTotalKb * KB, job);
      assert.equal(await one(`node_memory_MemAvailable_bytes{${sel}}`), local1.memAvailableKb * KB, job);
      assert.equal(await one(`node_load1{${sel}}`), local1.load1m, job);
      assert.equal(await one(`fleetpoll_cpu_busy_ratio{${sel}}`), local1.cpuPct / 100, job);
      assert.equal(await one(`fleetpoll_cpu_cores{${sel}}`), local1.cpuCores, job);
      // Boot time: the poll's start (within the cycle's first seconds) minus the uptime the history holds.
      assert.ok(Math.abs((await one(`node_boot_time_seconds{${sel}}`)) - (local1.at - local1.uptimeSec)) <= 5, job);
      assert.equal(await one(`fleetpoll_poll_status{${sel},status="ok"}`), 1, job);
      assert.ok((await one(`fleetpoll_last_success_timestamp_seconds{${sel}}`)) >= local1.at, job);
    }
    assert.equal(await one(`fleetpoll_poll_status{job="fleet",instance="down",status="${downStatus}"}`), 1);
    assert.equal(await one('sum(fleetpoll_poll_status{job="fleet",instance="down"})'), 1);
    assert.equal(await one('fleetpoll_up{job="fleet-probe",instance="down"}'), 0);
    assert.deepEqual(await p.query('node_memory_MemTotal_bytes{instance="down"}'), []);

    const store = new Database(join(dir, 'data', 'history.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const latest = `(SELECT h.id FROM hosts h WHERE h.name = 'local1') AND at = (SELECT max(at) FROM samples s JOIN hosts h ON h.id = s.host_id WHERE h.name = 'local1')`;
      // Schema v3 keeps a poll's filesystems and users as JSON lists in its details row (src/history/details.ts).
      const disks = store.prepare(`SELECT j.value ->> 0 AS mount, j.value ->> 1 AS fsType, j.value ->> 2 AS totalKb, j.value ->> 4 AS availableKb FROM details, json_each(details.disks) j WHERE host_id = ${latest}`).all() as { mount: string; fsType: string; totalKb: number; availableKb: number }[];
      assert.ok(disks.length > 0, 'the local host has at least one filesystem');
      for (const d of disks) {
        const sel = `job="fleet",instance="local1",mountpoint="${d.mount}",fstype="${d.fsType}"`;
        assert.equal(await one(`node_filesystem_size_bytes{${sel}}`), d.totalKb * KB, d.mount);
        assert.equal(await one(`node_filesystem_avail_bytes{${sel}}`), d.availableKb * KB, d.mount);
      }
      const users = store.prepare(`SELECT j.value ->> 0 AS user, j.value ->> 1 AS cpuPct, j.value ->> 2 AS rssKb FROM details, json_each(details.users) j WHERE j.value ->> 3 > 0 AND host_id = ${latest}`).all() as { user: string; cpuPct: number; rssKb: number }[];
      const series = await p.query('fleetpoll_user_resident_bytes{job="fleet",instance="local1"}');
      assert.deepEqual(series.map((s) => [s.metric.user, s.value]).sort(), users.map((u) => [u.user, u.rssKb * KB]).sort());
    } finally {
      store.close();
    }

    // fleetpoll's own health.
    assert.equal(await one('fleetpoll_hosts{job="fleetpoll",status="ok"}'), 2);
    assert.equal(await one(`fleetpoll_hosts{job="fleetpoll",status="${downStatus}"}`), 1);
    assert.equal(await one('fleetpoll_cycles_total{job="fleetpoll"}'), 1);
    assert.equal(await one('fleetpoll_host_poll_duration_seconds_count{job="fleetpoll",status="ok"}'), 2);
    assert.ok((await one('fleetpoll_history_store_bytes{job="fleetpoll"}')) > 0);
  });

  it('hostile mount points and user names come back from Prometheus exactly (scraped over HTTPS)', async () => {
    const p = prometheus!;
    await waitFor('every target up', everyTargetUp, 60_000, () => p.targets());
    const sizes = await p.query('node_filesystem_size_bytes{job="generated",instance="evil"}');
    assert.deepEqual(sizes.map((s) => [s.metric.mountpoint, s.metric.fstype]), [[HOSTILE_MOUNT, HOSTILE_FSTYPE]]);
    const users = await p.query('fleetpoll_user_cpu_ratio{job="generated",instance="evil"}');
    assert.deepEqual(users.map((s) => [s.metric.user, s.value]), [[HOSTILE_USER, 1.5]]);
    // No sample was smuggled in by a line feed in a label value, and nothing was dropped.
    assert.deepEqual((await p.query('node_load1{job="generated"}')).map((s) => s.metric.instance), ['web1']);
    const scraped = await p.query('scrape_samples_scraped{job="generated"}');
    const postRelabel = await p.query('scrape_samples_post_metric_relabeling{job="generated"}');
    assert.equal(scraped[0]?.value, postRelabel[0]?.value);
  });

  it('promtool check metrics: no problem in /metrics; in the fleet expositions, none beyond node_exporter\'s camelCase memory names', async () => {
    for (const path of ['/metrics', '/metrics/fleet', '/probe?target=local1', '/probe?target=down']) {
      const response = await fetch(`${serveUrl}${path}`, { headers: auth });
      assert.equal(response.status, 200, path);
      const check = promtoolCheckMetrics(await response.text());
      if (path === '/metrics') assert.deepEqual(check, { code: 0, problems: [] });
      else {
        assert.ok(check.code === 0 || check.code === 3, `${path}: promtool exit ${check.code}: ${check.problems.join('\n')}`);
        assert.deepEqual(problemsBesidesNodeExporterNames(check), [], path);
      }
    }
  });
});
