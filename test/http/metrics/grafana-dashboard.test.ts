// The Grafana dashboard shipped in docs/grafana/fleetpoll.json: it parses, every panel query has an
// expression, and every metric its queries (and variables) name is one fleetpoll exposes, in the
// fleet exposition or in /metrics, as written for a generated cycle.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { fleetExposition } from '../../../src/http/metrics/fleet.js';
import { buildHttpServer } from '../../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../../../src/http/settings.js';
import { parseExposition } from '../../helpers/exposition.js';
import { FixedMetricsSource, metricsCycle, sampleFleet } from '../../helpers/metrics.js';
import { FakeHistoryReader, FakeServiceStatus, RecordingLog } from '../fakes.js';

const DASHBOARD = fileURLToPath(new URL('../../../../docs/grafana/fleetpoll.json', import.meta.url));

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: { readonly expr: string }[];
  readonly panels?: Panel[];
}

// The metric names an expression uses: identifiers followed by a selector, or fleetpoll's and node's prefixes.
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...withoutStrings.matchAll(/\b((?:fleetpoll|node|process|nodejs)_[A-Za-z0-9_]+)\b/g)].map((m) => m[1]!);
}

describe('the Grafana dashboard', () => {
  it('parses and reads only metrics fleetpoll exposes', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; panels: Panel[]; templating: { list: { query?: { query: string } | string }[] } };
    assert.equal(dashboard.title, 'fleetpoll');

    const source = new FixedMetricsSource(null);
    const app = buildHttpServer({ settings: DEFAULT_HTTP_SETTINGS, env: {}, reader: new FakeHistoryReader(), status: new FakeServiceStatus(), log: new RecordingLog(), metrics: source });
    let own: string;
    try {
      source.emit(metricsCycle(sampleFleet()));
      own = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    } finally {
      await app.close();
    }
    const exposed = new Set([...parseExposition(fleetExposition(metricsCycle(sampleFleet()))).samples, ...parseExposition(own).samples].map((s) => s.name));

    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 20, `${panels.length} panels`);
    const expressions = panels.flatMap((p) => {
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has no query`);
      return (p.targets ?? []).map((t) => t.expr);
    });
    for (const variable of dashboard.templating.list) {
      if (typeof variable.query === 'object') expressions.push(variable.query.query);
    }
    const named = new Set(expressions.flatMap(metricNames));
    assert.ok(named.has('node_memory_MemTotal_bytes') && named.has('fleetpoll_host_poll_duration_seconds_bucket'), [...named].join(' '));
    const unknown = [...named].filter((n) => !exposed.has(n));
    assert.deepEqual(unknown, [], 'metrics the dashboard reads that fleetpoll does not expose');
  });
});
