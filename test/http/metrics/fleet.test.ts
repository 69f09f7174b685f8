// The fleet exposition from generated results: node_exporter's names and units, a status series per
// status, per-user series for users with processes only, hostile label values escaped (promtool and a
// strict reader agree), no timestamps, every HELP saying a scrape does not poll.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fleetExposition, FLEET_FAMILIES, LAST_CYCLE_NOTE, POLL_STATUSES, probeExposition } from '../../../src/http/metrics/fleet.js';
import { parseExposition, samplesOf } from '../../helpers/exposition.js';
import { HOSTILE_FSTYPE, HOSTILE_MOUNT, HOSTILE_USER, metricsCycle, sampleFleet } from '../../helpers/metrics.js';
import { missingPrometheus, problemsBesidesNodeExporterNames, promtoolCheckMetrics } from '../../helpers/prometheus.js';
import { GIB_KB } from '../../helpers/store-fixtures.js';

const cycle = metricsCycle(sampleFleet());

describe('fleet exposition', () => {
  it('gives web1 its values in base units under node_exporter names, with an instance label', () => {
    const parsed = parseExposition(fleetExposition(cycle));
    const one = (name: string, labels: Record<string, string> = {}): number => {
      const found = samplesOf(parsed, name, { instance: 'web1', ...labels });
      assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}`);
      return found[0]!.value;
    };
    assert.equal(one('node_memory_MemTotal_bytes'), 8 * GIB_KB * 1024);
    assert.equal(one('node_memory_MemAvailable_bytes'), 6 * GIB_KB * 1024);
    assert.equal(one('node_memory_MemFree_bytes'), 5 * GIB_KB * 1024);
    assert.equal(one('node_memory_SwapTotal_bytes'), 2 * GIB_KB * 1024);
    assert.equal(one('node_memory_SwapFree_bytes'), 1.5 * GIB_KB * 1024);
    assert.equal(one('node_load1'), 2);
    assert.equal(one('node_load5'), 1.5);
    assert.equal(one('node_load15'), 1);
    // 2024-03-05T10:00:00.250Z minus 3.5 days, to the second.
    assert.equal(one('node_boot_time_seconds'), Math.round(Date.parse('2024-03-05T10:00:00.250Z') / 1000 - 3.5 * 86400));
    assert.equal(one('node_filesystem_size_bytes', { mountpoint: '/', fstype: 'ext4' }), 100 * GIB_KB * 1024);
    assert.equal(one('node_filesystem_avail_bytes', { mountpoint: '/var', fstype: 'xfs' }), 2 * GIB_KB * 1024);
    assert.equal(one('node_filesystem_free_bytes', { mountpoint: '/var', fstype: 'xfs' }), 2 * GIB_KB * 1024);
    assert.equal(one('fleetpoll_cpu_busy_ratio'), 0.3726);
    assert.equal(one('fleetpoll_cpu_cores'), 4);
    assert.equal(one('fleetpoll_user_cpu_ratio', { user: 'www-data' }), 0.97);
    assert.equal(one('fleetpoll_user_resident_bytes', { user: 'postgres' }), 2 * GIB_KB * 1024);
    assert.equal(one('fleetpoll_user_processes', { user: 'www-data' }), 12);
    assert.equal(one('fleetpoll_up'), 1);
    assert.equal(one('fleetpoll_probe_duration_seconds'), 1.234);
    assert.equal(one('fleetpoll_last_success_timestamp_seconds'), Date.parse('2024-03-05T10:00:01.484Z') / 1000);
    assert.equal(one('fleetpoll_last_poll_timestamp_seconds'), Date.parse('2024-03-05T10:00:01.484Z') / 1000);
    assert.equal(one('fleetpoll_host_info', { hostname: 'web1', os: 'Debian GNU/Linux 12 (bookworm)' }), 1);
  });

  it('gives every host one series per poll status, 1 for its own; a failed host has no measured series', () => {
    const parsed = parseExposition(fleetExposition(cycle));
    for (const host of ['web1', 'evil', 'down']) {
      const statuses = samplesOf(parsed, 'fleetpoll_poll_status', { instance: host });
      assert.deepEqual(statuses.map((s) => s.labels.status), [...POLL_STATUSES]);
      assert.deepEqual(statuses.filter((s) => s.value === 1).map((s) => s.labels.status), [host === 'down' ? 'unreachable' : 'ok']);
    }
    const down = parsed.samples.filter((s) => s.labels.instance === 'down').map((s) => s.name);
    assert.deepEqual([...new Set(down)].sort(), ['fleetpoll_last_poll_timestamp_seconds', 'fleetpoll_poll_status', 'fleetpoll_probe_duration_seconds', 'fleetpoll_up']);
    assert.equal(samplesOf(parsed, 'fleetpoll_up', { instance: 'down' })[0]?.value, 0);
  });

  it('escapes hostile mount points, file system types and user names; a mount listed twice is one series; users without processes have none', () => {
    const text = fleetExposition(cycle);
    const parsed = parseExposition(text);
    const sizes = samplesOf(parsed, 'node_filesystem_size_bytes', { instance: 'evil' });
    assert.deepEqual(sizes.map((s) => s.labels), [{ instance: 'evil', mountpoint: HOSTILE_MOUNT, fstype: HOSTILE_FSTYPE }]);
    assert.deepEqual(samplesOf(parsed, 'fleetpoll_user_cpu_ratio', { instance: 'evil' }).map((s) => [s.labels.user, s.value]), [[HOSTILE_USER, 1.5]]);
    // The line feed inside the user name did not start a sample of its own.
    assert.equal(samplesOf(parsed, 'node_load1').length, 1);
    assert.ok(!text.includes('\n# TYPE evil'));
  });

  it('writes no timestamps, and every HELP says the value is the last cycle\'s', () => {
    const parsed = parseExposition(fleetExposition(cycle));
    const names = new Set(parsed.samples.map((s) => s.name));
    assert.deepEqual([...names].sort(), FLEET_FAMILIES.map((f) => f.name).sort());
    for (const name of names) {
      assert.ok(parsed.help.get(name)?.endsWith(LAST_CYCLE_NOTE), name);
      assert.equal(parsed.types.get(name), 'gauge');
    }
  });

  it('probe: one host without an instance label', () => {
    const parsed = parseExposition(probeExposition(cycle, cycle.results[0]!));
    assert.ok(parsed.samples.length > 20);
    assert.ok(parsed.samples.every((s) => !('instance' in s.labels)));
    assert.equal(samplesOf(parsed, 'node_memory_MemTotal_bytes')[0]?.value, 8 * GIB_KB * 1024);
  });

  it('an empty cycle is an empty exposition', () => {
    assert.equal(fleetExposition(metricsCycle([])), '');
  });

  it('promtool check metrics finds no problem beyond node_exporter\'s own camelCase memory names', { skip: missingPrometheus() ?? false }, () => {
    for (const text of [fleetExposition(cycle), probeExposition(cycle, cycle.results[1]!)]) {
      const check = promtoolCheckMetrics(text);
      assert.ok(check.code === 0 || check.code === 3, `promtool could not read it (exit ${check.code}): ${check.problems.join('\n')}`);
      assert.deepEqual(problemsBesidesNodeExporterNames(check), []);
    }
  });
});
