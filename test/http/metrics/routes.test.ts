// The Prometheus routes on a server built over fakes (FakeHistoryReader, FakeServiceStatus, a
// FixedMetricsSource in place of the serve loop): content types, 503 before a cycle, the probe's
// 400 and 404, the same authentication as the API, and a registry per server fed by finished cycles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHttpServer } from '../../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../../../src/http/settings.js';
import { assertApiError, FakeHistoryReader, FakeServiceStatus, RecordingLog } from '../fakes.js';
import { parseExposition, samplesOf } from '../../helpers/exposition.js';
import { FixedMetricsSource, metricsCycle, sampleFleet } from '../../helpers/metrics.js';
import { missingPrometheus, promtoolCheckMetrics } from '../../helpers/prometheus.js';

const TOKEN = 'prometheus-scrape-token-0123456789';

function server(source: FixedMetricsSource, withToken = false) {
  const settings = { ...DEFAULT_HTTP_SETTINGS, tokenEnv: 'TEST_TOKEN' };
  const env = withToken ? { TEST_TOKEN: TOKEN } : {};
  return buildHttpServer({ settings, env, reader: new FakeHistoryReader(), status: new FakeServiceStatus(), log: new RecordingLog(), metrics: source });
}

describe('metrics routes', () => {
  it('/metrics: own health in the text format, fed by finished cycles; one registry per server', async () => {
    const source = new FixedMetricsSource(null);
    const a = server(source);
    const b = server(source);
    try {
      const before = await a.inject({ method: 'GET', url: '/metrics' });
      assert.equal(before.statusCode, 200);
      assert.match(String(before.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      // No cycle yet: the cycle figures are 0 (prom-client writes an unlabelled gauge always), the process and the service are there.
      const first = parseExposition(before.body);
      assert.equal(samplesOf(first, 'fleetpoll_cycle_duration_seconds')[0]?.value, 0);
      assert.equal(samplesOf(first, 'fleetpoll_last_cycle_timestamp_seconds')[0]?.value, 0);
      assert.equal(samplesOf(first, 'fleetpoll_hosts').length, 0);
      assert.equal(samplesOf(first, 'fleetpoll_inventory_hosts')[0]?.value, 3);
      assert.equal(samplesOf(first, 'fleetpoll_cycles_skipped_total')[0]?.value, 4);
      assert.ok(samplesOf(first, 'process_cpu_user_seconds_total').length === 1, 'default process metrics');

      source.emit(metricsCycle(sampleFleet()));
      source.emit(metricsCycle(sampleFleet(), { durationMs: 7_500, reconnects: 2 }));
      const parsed = parseExposition((await a.inject({ method: 'GET', url: '/metrics' })).body);
      const value = (name: string, labels: Record<string, string> = {}): number | undefined => samplesOf(parsed, name, labels)[0]?.value;
      assert.equal(value('fleetpoll_cycles_total'), 2);
      assert.equal(value('fleetpoll_reconnects_total'), 3);
      assert.equal(value('fleetpoll_cycle_duration_seconds'), 7.5);
      assert.equal(value('fleetpoll_hosts', { status: 'ok' }), 2);
      assert.equal(value('fleetpoll_hosts', { status: 'unreachable' }), 1);
      assert.equal(value('fleetpoll_hosts', { status: 'timeout' }), 0);
      assert.equal(value('fleetpoll_host_poll_duration_seconds_count', { status: 'ok' }), 4);
      assert.equal(value('fleetpoll_host_poll_duration_seconds_bucket', { status: 'ok', le: '1' }), 0);
      assert.equal(value('fleetpoll_host_poll_duration_seconds_bucket', { status: 'ok', le: '2' }), 4);
      assert.equal(value('fleetpoll_alert_mails_queued'), 2);
      assert.equal(value('fleetpoll_alerts_firing'), 3);
      assert.equal(value('fleetpoll_history_store_bytes'), 123_456);
      assert.equal(value('fleetpoll_connections_open'), 2);
      assert.equal(value('fleetpoll_build_info', {}) , 1);

      // The other server has a registry of its own: the same cycles, counted by each.
      const other = parseExposition((await b.inject({ method: 'GET', url: '/metrics' })).body);
      assert.equal(samplesOf(other, 'fleetpoll_cycles_total')[0]?.value, 2);
    } finally {
      await a.close();
      await b.close();
    }
    assert.equal(source.listening, 0, 'a closed server stops listening for cycles');
  });

  it('/metrics passes promtool check metrics without a problem', { skip: missingPrometheus() ?? false }, async () => {
    const source = new FixedMetricsSource(null);
    const app = server(source);
    try {
      source.emit(metricsCycle(sampleFleet()));
      const check = promtoolCheckMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body);
      assert.deepEqual(check, { code: 0, problems: [] });
    } finally {
      await app.close();
    }
  });

  it('/metrics/fleet and /probe answer 503 before the first cycle, then the last cycle', async () => {
    const source = new FixedMetricsSource(null);
    const app = server(source);
    try {
      assertApiError(await app.inject({ method: 'GET', url: '/metrics/fleet' }), 503, 'unavailable', /no cycle has finished yet/);
      assertApiError(await app.inject({ method: 'GET', url: '/probe?target=web1' }), 503, 'unavailable', /no cycle has finished yet/);
      source.emit(metricsCycle(sampleFleet()));
      const fleet = await app.inject({ method: 'GET', url: '/metrics/fleet' });
      assert.equal(fleet.statusCode, 200);
      assert.equal(fleet.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      assert.deepEqual([...new Set(parseExposition(fleet.body).samples.map((s) => s.labels.instance))], ['web1', 'evil', 'down']);
      // The next cycle replaces what the fleet scrape sends.
      source.emit(metricsCycle(sampleFleet().slice(0, 1)));
      const next = await app.inject({ method: 'GET', url: '/metrics/fleet' });
      assert.deepEqual([...new Set(parseExposition(next.body).samples.map((s) => s.labels.instance))], ['web1']);
      source.emit(metricsCycle(sampleFleet()));
      const probe = await app.inject({ method: 'GET', url: '/probe?target=down' });
      assert.equal(probe.statusCode, 200);
      assert.equal(samplesOf(parseExposition(probe.body), 'fleetpoll_poll_status', { status: 'unreachable' })[0]?.value, 1);
    } finally {
      await app.close();
    }
  });

  it('/probe: a missing target is a 400, an unknown one a 404 with the reason, a malformed one a 400; other methods 405', async () => {
    const app = server(new FixedMetricsSource(metricsCycle(sampleFleet())));
    try {
      assertApiError(await app.inject({ method: 'GET', url: '/probe' }), 400, 'bad_request', 'query parameter "target" is required');
      assertApiError(await app.inject({ method: 'GET', url: '/probe?target=nope' }), 404, 'not_found', /^no host named "nope" in the last cycle/);
      assertApiError(await app.inject({ method: 'GET', url: '/probe?target=%22x%22' }), 400, 'bad_request', /query parameter "target" must be a server name/);
      assertApiError(await app.inject({ method: 'GET', url: '/probe?target=web1&module=x' }), 400, 'bad_request', 'unknown query parameter "module"');
      assertApiError(await app.inject({ method: 'POST', url: '/metrics' }), 405, 'method_not_allowed', /read-only/);
    } finally {
      await app.close();
    }
  });

  it('needs the same credentials as the API: 401 without, 200 with the bearer token', async () => {
    const app = server(new FixedMetricsSource(metricsCycle(sampleFleet())), true);
    try {
      for (const url of ['/metrics', '/metrics/fleet', '/probe?target=web1']) {
        assertApiError(await app.inject({ method: 'GET', url }), 401, 'unauthorized', /credentials are required/);
        const ok = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(ok.statusCode, 200, url);
      }
    } finally {
      await app.close();
    }
  });
});
