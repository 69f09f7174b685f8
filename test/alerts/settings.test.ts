// The `alerts` section of the settings file and the per-host override columns of servers.csv.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkAlertColumns, diskLevelsFor, hostRules } from '../../src/alerts/settings.js';
import { parseInventory } from '../../src/inventory.js';
import { alertSettings } from '../helpers/alerts.js';
import { configProblems } from '../helpers/config.js';

function inventory(csv: string) {
  return parseInventory(csv, 'servers.csv', { user: 'u', port: 22 }, {});
}

describe('alerts settings', () => {
  it('has documented defaults', () => {
    const s = alertSettings();
    assert.equal(s.enabled, true);
    assert.equal(s.to, null);
    assert.equal(s.repeatMs, 0);
    assert.equal(s.subjectPrefix, '[fleetpoll]');
    assert.deepEqual(s.rules.cpu, { warn: 90, crit: 98, hysteresis: 5, firePolls: 2, resolvePolls: 2 });
    assert.deepEqual(s.rules.mem, { warn: 90, crit: 97, hysteresis: 5, firePolls: 2, resolvePolls: 2 });
    assert.deepEqual(s.rules.swap, { warn: 50, crit: 80, hysteresis: 5, firePolls: 2, resolvePolls: 2 });
    assert.deepEqual(s.rules.load, { warn: 2, crit: 4, hysteresis: 0.25, firePolls: 2, resolvePolls: 2 });
    assert.equal(s.rules.disk?.warn, 85);
    assert.equal(s.rules.disk?.crit, 95);
    assert.deepEqual(s.rules.down, { firePolls: 2, resolvePolls: 2 });
  });

  it('reads a full example', () => {
    const s = alertSettings({
      to: ['ops@example.com'],
      repeatHours: 4,
      firePolls: 3,
      cpu: { warn: 80, crit: 95 },
      swap: false,
      disk: { crit: 90, warn: null, mounts: { '/backup': { crit: 99 }, '/mnt/iso': false }, exclude: ['/snap/*'] },
      down: { firePolls: 1 },
    });
    assert.deepEqual(s.to, ['ops@example.com']);
    assert.equal(s.repeatMs, 4 * 3600 * 1000);
    assert.equal(s.rules.cpu?.firePolls, 3);
    assert.equal(s.rules.swap, null);
    assert.deepEqual(diskLevelsFor(s.rules.disk!, '/'), { warn: null, crit: 90 });
    assert.deepEqual(diskLevelsFor(s.rules.disk!, '/backup'), { warn: null, crit: 99 });
    assert.equal(diskLevelsFor(s.rules.disk!, '/mnt/iso'), null);
    assert.equal(diskLevelsFor(s.rules.disk!, '/snap/core/123'), null);
    assert.deepEqual(s.rules.down, { firePolls: 1, resolvePolls: 2 });
  });

  it('reports bad values with the file, the line and the field', () => {
    const json = [
      '{',
      '  "alerts": {',
      '    "repeatHours": -1,',
      '    "cpu": { "warn": 95, "crit": 90 },',
      '    "mem": { "crit": "lots" },',
      '    "disk": {',
      '      "mounts": { "var": { "crit": 99 } }',
      '    },',
      '    "load": 3,',
      '    "swapp": { "warn": 1 },',
      '    "to": ["ops@example.com", "ops"]',
      '  }',
      '}',
    ].join('\n');
    assert.deepEqual(configProblems(json), [
      'fleetpoll.config.json:10: unknown setting "alerts.swapp" (known: alerts.enabled, alerts.to, alerts.subjectPrefix, alerts.repeatHours, alerts.topProcesses, alerts.firePolls, alerts.resolvePolls, alerts.cpu, alerts.mem, alerts.swap, alerts.load, alerts.disk, alerts.down)',
      'fleetpoll.config.json:4: alerts.cpu.warn (95) must be below alerts.cpu.crit (90)',
      'fleetpoll.config.json:5: alerts.mem.crit must be a number from 0 to 100, or null to turn it off (got "lots")',
      'fleetpoll.config.json:9: alerts.load must be an object such as {"warn": 80, "crit": 95}, or false to turn it off (got 3)',
      'fleetpoll.config.json:7: alerts.disk.mounts key "var" must be a mount point such as "/var"',
      'fleetpoll.config.json:11: alerts.to must be a list of e-mail addresses (got "ops")',
      'fleetpoll.config.json:3: alerts.repeatHours must be a number from 0 to 8760 (got -1)',
    ]);
  });
});

describe('per-host alert columns', () => {
  const csv = [
    'name,address,cpu_warn,cpu_crit,mem_crit,disk_crit,disk_exclude,alert_to,alerts',
    'web01,,50,70,,,,,',
    'web02,,,,off,"90 /backup=99 /scratch=off",/snap/*,team-web@example.com;lead@example.com,',
    'db01,,,,,,,,off',
  ].join('\n');

  it('overrides the defaults per host', () => {
    const settings = alertSettings();
    const [web01, web02, db01] = inventory(csv).hosts.map((h) => hostRules(h, settings));
    assert.deepEqual(web01?.errors, []);
    assert.equal(web01?.rules.cpu?.warn, 50);
    assert.equal(web01?.rules.cpu?.crit, 70);
    assert.equal(web01?.rules.cpu?.hysteresis, 5);
    assert.equal(web02?.rules.mem?.crit, null);
    assert.equal(web02?.rules.mem?.warn, 90);
    assert.deepEqual(diskLevelsFor(web02!.rules.disk!, '/'), { warn: 85, crit: 90 });
    assert.deepEqual(diskLevelsFor(web02!.rules.disk!, '/backup'), { warn: 85, crit: 99 });
    assert.deepEqual(diskLevelsFor(web02!.rules.disk!, '/scratch'), { warn: 85, crit: null });
    assert.equal(diskLevelsFor(web02!.rules.disk!, '/snap/lxd/1'), null);
    assert.deepEqual(web02?.extraTo, ['team-web@example.com', 'lead@example.com']);
    assert.equal(db01?.enabled, false);
    assert.equal(web01?.enabled, true);
  });

  it('a host without override values has the fleet\'s rules, shared rather than copied; the full path gives the same rules', () => {
    const settings = alertSettings();
    const plain = inventory('name,address,cpu_warn,alert_to\nweb03,,,\nweb04,, ,\n').hosts.map((h) => hostRules(h, settings));
    for (const r of plain) {
      assert.equal(r.rules, settings.rules, `${r.host}: the same object`);
      assert.deepEqual({ enabled: r.enabled, extraTo: r.extraTo, errors: r.errors }, { enabled: true, extraTo: [], errors: [] });
    }
    // An override of one rule to its default value goes the full way and ends with equal rules.
    const full = hostRules(inventory(`name,address,cpu_warn\nweb05,,${settings.rules.cpu?.warn}\n`).hosts[0]!, settings);
    assert.notEqual(full.rules, settings.rules);
    assert.deepEqual(full.rules, settings.rules);
  });

  it('reports bad values as inventory errors on the host line, keeping the defaults for them', () => {
    const bad = [
      'name,cpu_crit,cpu_warn,mem_warn,load_crit,disk_crit,alert_to,alerts,cpu_critical',
      '# a comment line moves the line numbers',
      'ok1,,,,,,,,',
      'web07,abc,,,,,,,',
      'web08,80,85,,,,,,',
      'web09,,,150,x,/data=abc,bob,maybe,99',
    ].join('\n');
    const inv = inventory(bad);
    assert.deepEqual(inv.issues, []);
    const settings = alertSettings();
    const checked = checkAlertColumns(inv.hosts, settings, 'servers.csv');
    // The run's alerts use the rules parsed here: the same as parsing each host again.
    assert.deepEqual([...checked.rules.keys()], inv.hosts.map((h) => h.name));
    for (const host of inv.hosts) assert.deepEqual(checked.rules.get(host.name), hostRules(host, settings));
    const issues = checked.issues.map((i) => `${i.file}:${i.line}: ${i.severity}: ${i.message}`);
    assert.deepEqual(issues, [
      'servers.csv:4: error: cpu_crit "abc" is not a percentage (0 to 100, or off)',
      'servers.csv:5: error: cpu_warn 85 must be below cpu_crit 80',
      'servers.csv:6: error: alerts "maybe" is not on or off',
      'servers.csv:6: error: alert_to "bob" is not an e-mail address',
      'servers.csv:6: error: disk_crit for /data "abc" is not a percentage (0 to 100, or off)',
      'servers.csv:6: error: mem_warn "150" is not a percentage (0 to 100, or off)',
      'servers.csv:6: error: load_crit "x" is not a load per core (a number, or off)',
      'servers.csv:6: warning: column "cpu_critical" is not an alert column and is ignored (known: alerts, alert_to, cpu_warn, cpu_crit, mem_warn, mem_crit, swap_warn, swap_crit, load_warn, load_crit, disk_warn, disk_crit, disk_exclude)',
    ]);
    const web07 = hostRules(inv.hosts[1]!, settings);
    assert.equal(web07.rules.cpu?.crit, 98, 'a bad value falls back to the default');
  });
});
