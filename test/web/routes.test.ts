// The dashboard's routes without a browser: pages and files carry the Content-Security-Policy and no
// inline script, only built files are served, the pages sit behind the API's authentication, and the
// dashboard's JSON declares and checks its input. The history is the fake HistoryReader of the HTTP
// tests, the filesystems a FakeDiskReader (a fake at the DiskReader seam).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildHttpServer } from '../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../../src/http/settings.js';
import { chartStep } from '../../src/web/api.js';
import type { DiskReader, FleetReader } from '../../src/web/reader.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/routes.js';
import type { HostData, OverviewData } from '../../src/web/shapes.js';
import { assertApiError, FakeHistoryReader, FakeServiceStatus, NOW_SEC, RecordingLog } from '../http/fakes.js';

const TOKEN = 'tok-0123456789abcdef-0123456789abcdef';

// Fixed filesystem answers: a fake at the DiskReader seam.
const fakeDisks: DiskReader = {
  fullestByHost: () => new Map([['web01', 91.5]]),
  series: (host, first, to, step) => (host === 'web01' ? [{ mount: '/<b>data</b>', usedPct: Array.from({ length: Math.ceil((to - first) / step) }, () => 50) }] : null),
  trends: (host) =>
    host === 'web01'
      ? [{ mount: '/<b>data</b>', sums: { n: 3, t: 3, tt: 5, y: 30, ty: 32 }, lastT: 2, capacityGb: 100, usedPct: 12 }]
      : null,
};

// Two steps of averages per host: a fake at the FleetReader seam.
const fakeFleet: FleetReader = {
  averages: () => ['web01', 'db01'].map((host) => ({ host, cpuPct: [1.5, null], memPct: [2.4, null] })),
};

function server(env: NodeJS.ProcessEnv = {}) {
  return buildHttpServer({
    settings: DEFAULT_HTTP_SETTINGS,
    env,
    reader: new FakeHistoryReader(),
    status: new FakeServiceStatus(),
    log: new RecordingLog(),
    nowSec: () => NOW_SEC,
    dashboard: { disks: fakeDisks, fleet: fakeFleet, alertStateFile: null, alertLogFile: null, forecastDays: 7, horizonDays: 30 },
  });
}

describe('dashboard pages and files', () => {
  const app = server();
  after(() => app.close());

  it('each page is HTML under the policy, with scripts from fleetpoll only and none inline', async () => {
    for (const url of ['/', '/host?name=web01&range=7d', '/alerts?from=1&to=2']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
      assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'/);
      assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|https?:/);
      for (const tag of res.body.match(/<script[^>]*>/g) ?? []) assert.match(tag, / src="\/assets\//, `${url}: ${tag}`);
      assert.doesNotMatch(res.body, /<script[^>]*>[^<]+<\/script>|style="|https?:\/\//);
    }
  });

  it('serves the built files it knows, and nothing else', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/web/client/overview-page.js' });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal(js.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal((await app.inject({ method: 'GET', url: '/assets/uplot/uPlot.iife.min.js' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/assets/store/csv.js' })).statusCode, 200);
    for (const url of ['/assets/../../package.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/web/client/overview-page.js.map', '/assets/nothing.js']) {
      assertApiError(await app.inject({ method: 'GET', url }), 404, 'not_found', /no such dashboard file|no such endpoint/);
    }
    assertApiError(await app.inject({ method: 'POST', url: '/' }), 405, 'method_not_allowed', /read-only/);
  });

  it('the pages, files and data sit behind the same authentication as the API', async () => {
    const guarded = server({ FLEETPOLL_HTTP_TOKEN: TOKEN });
    try {
      for (const url of ['/', '/host?name=web01', '/assets/dashboard.css', '/api/v1/dashboard/overview']) {
        assertApiError(await guarded.inject({ method: 'GET', url }), 401, 'unauthorized', /credentials are required/);
        assert.equal((await guarded.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200, url);
      }
    } finally {
      await guarded.close();
    }
  });
});

describe('dashboard JSON', () => {
  const app = server();
  after(() => app.close());

  it('overview: each host with its latest values, fullest filesystem, load per core and 24 hourly sparkline points', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/dashboard/overview' });
    assert.equal(res.statusCode, 200);
    const data = JSON.parse(res.body) as OverviewData;
    assert.deepEqual(data.hosts.map((h) => h.host), ['web01', 'db01']);
    const web = data.hosts[0]!;
    assert.equal(web.diskPct, 91.5);
    assert.equal(web.loadPerCore, 0.13);
    assert.equal(web.cpuPct, 12.5);
    assert.deepEqual(web.cpu24, [1.5, null]);
    assert.equal(data.sparkStepSec, 3600);
    assert.equal(data.hosts[1]?.error, 'connect ECONNREFUSED 10.0.0.2:22');
  });

  it('host: series, polls with their status, filesystems with the report forecast', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/dashboard/hosts/web01?from=${NOW_SEC - 3600}&to=${NOW_SEC}&width=600` });
    assert.equal(res.statusCode, 200);
    const data = JSON.parse(res.body) as HostData;
    assert.deepEqual(data.polls, ['ok', 'timeout']);
    assert.deepEqual(data.cpuPct, [1.5, null]);
    assert.equal(data.disks[0]?.mount, '/<b>data</b>');
    // The sums fit y = 9 + t GB (1 GB a day, 11 GB at t = 2): 89 days to 100 GB, past the 30-day horizon.
    assert.deepEqual(data.disks[0]?.forecast, { kind: 'full-in', days: 89, flagged: false });
    assertApiError(await app.inject({ method: 'GET', url: '/api/v1/dashboard/hosts/nobody' }), 404, 'not_found', /no host named "nobody"/);
    assertApiError(await app.inject({ method: 'GET', url: '/api/v1/dashboard/hosts/web01?width=20000' }), 400, 'bad_request', /width/);
    assertApiError(await app.inject({ method: 'GET', url: '/api/v1/dashboard/hosts/web01?colour=red' }), 400, 'bad_request', /unknown query parameter "colour"/);
  });

  it('heatmap: one row per host; only cpu_pct or mem_pct', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/dashboard/heatmap?metric=mem_pct' });
    assert.equal(res.statusCode, 200);
    const data = JSON.parse(res.body) as { hosts: string[]; values: (number | null)[][] };
    assert.deepEqual(data.hosts, ['web01', 'db01']);
    assert.deepEqual(data.values[0], [2, null]);
    assertApiError(await app.inject({ method: 'GET', url: '/api/v1/dashboard/heatmap?metric=swap' }), 400, 'bad_request', /cpu_pct or mem_pct/);
  });

  it('alerts: off when there is no state file to read', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/dashboard/alerts' });
    assert.deepEqual(JSON.parse(res.body), { enabled: false, problem: null, now: [], transitions: [], queued: 0 });
  });
});

describe('chartStep', () => {
  it('fits the width, never finer than the poll interval, in round steps', () => {
    assert.equal(chartStep(0, 3600, 1000, 300), 300);
    assert.equal(chartStep(0, 86_400, 1000, 300), 300);
    assert.equal(chartStep(0, 7 * 86_400, 1000, 300), 900);
    assert.equal(chartStep(0, 30 * 86_400, 1000, 300), 3600);
    assert.equal(chartStep(0, 3600, 1000, 60), 60);
  });
});
