// The pure alert state machine, poll by poll, with synthetic results.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../src/alerts/evaluate.js';
import { hostRules } from '../../src/alerts/settings.js';
import { AlertSim, alertSettings, POLL_MS, result, summary, T0 } from '../helpers/alerts.js';

const DOWN = { status: 'unreachable', phase: 'connect', error: 'connect ECONNREFUSED 10.0.0.5:22' } as const;

describe('evaluate: firing after N polls', () => {
  it('does not fire on the first poll over the threshold, fires on the second (default N = 2)', () => {
    const sim = new AlertSim();
    assert.deepEqual(sim.poll([result('web01', { cpu: 93 })]), []);
    assert.equal(sim.alerts[0]?.phase, 'pending');
    const fired = sim.poll([result('web01', { cpu: 94 })]);
    assert.deepEqual(summary(fired), ['firing warning web01 cpu']);
    const n = fired[0];
    assert.equal(n?.value, 94);
    assert.equal(n?.threshold, 90);
    assert.equal(n?.since, T0.toISOString(), 'since = the first poll over the threshold');
    assert.equal(n?.at, new Date(T0.getTime() + POLL_MS).toISOString());
    // Still firing: no more mail.
    assert.deepEqual(sim.poll([result('web01', { cpu: 95 })]), []);
  });

  it('honours firePolls per rule and globally', () => {
    const sim = new AlertSim(alertSettings({ firePolls: 3, mem: { firePolls: 1 } }));
    assert.deepEqual(summary(sim.poll([result('a', { cpu: 99, memPct: 99 })])), ['firing critical a mem']);
    assert.deepEqual(sim.poll([result('a', { cpu: 99, memPct: 99 })]), []);
    assert.deepEqual(summary(sim.poll([result('a', { cpu: 99, memPct: 99 })])), ['firing critical a cpu']);
  });

  it('restarts the count when one poll falls under the threshold', () => {
    const sim = new AlertSim();
    assert.deepEqual(sim.cpuSeries('web01', [95, 50, 95, 50, 95]), []);
    assert.deepEqual(sim.alerts.length, 1);
    assert.equal(sim.alerts[0]?.phase, 'pending');
  });

  it('fires critical directly when critical held N polls', () => {
    const sim = new AlertSim();
    assert.deepEqual(summary(sim.cpuSeries('web01', [99, 99])), ['firing critical web01 cpu']);
    assert.equal(sim.notifications[0]?.threshold, 98);
  });

  it('attaches the top processes by CPU to CPU alerts and by memory to memory alerts', () => {
    const procs = [
      { pid: 1, user: 'a', cpuPct: 5, rssKb: 9_000_000, name: 'bigmem' },
      { pid: 2, user: 'b', cpuPct: 300, rssKb: 1000, name: 'spinner' },
      { pid: 3, user: 'c', cpuPct: 50, rssKb: 5000, name: 'mid' },
    ];
    const sim = new AlertSim(alertSettings({ topProcesses: 2 }));
    sim.poll([result('h', { cpu: 99, memPct: 99, procs })]);
    const fired = sim.poll([result('h', { cpu: 99, memPct: 99, procs })]);
    const cpu = fired.find((n) => n.rule === 'cpu');
    const mem = fired.find((n) => n.rule === 'mem');
    assert.deepEqual(cpu?.topProcesses.map((p) => p.name), ['spinner', 'mid']);
    assert.deepEqual(mem?.topProcesses.map((p) => p.name), ['bigmem', 'mid']);
  });
});

describe('evaluate: resolving with hysteresis', () => {
  it('resolves only below threshold - hysteresis, for M polls', () => {
    const sim = new AlertSim();
    sim.cpuSeries('web01', [95, 95]);
    // 86..89 is under 90 but not under 85: still firing.
    assert.deepEqual(sim.cpuSeries('web01', [89, 86, 87, 88]), []);
    assert.equal(sim.firing().length, 1);
    // One poll under 85 is not enough (M = 2).
    assert.deepEqual(sim.cpuSeries('web01', [84]), []);
    assert.deepEqual(summary(sim.cpuSeries('web01', [80])), ['resolved warning web01 cpu']);
    const resolved = sim.notifications.at(-1);
    assert.equal(resolved?.value, 80);
    assert.equal(resolved?.threshold, 85);
    assert.equal(resolved?.firedAt, new Date(T0.getTime() + POLL_MS).toISOString());
    assert.deepEqual(sim.alerts, []);
  });

  it('gives at most one firing and one resolved notification for a value flapping around the threshold', () => {
    const sim = new AlertSim();
    const flapping = [91, 89, 91, 92, 89, 91, 88, 92, 89, 91, 90, 89, 93, 88, 91];
    sim.cpuSeries('web01', flapping);
    assert.deepEqual(summary(sim.notifications), ['firing warning web01 cpu']);
    sim.cpuSeries('web01', [40, 40, 40, 40]);
    assert.deepEqual(summary(sim.notifications), ['firing warning web01 cpu', 'resolved warning web01 cpu']);
  });

  it('uses the rule hysteresis for load per core', () => {
    const sim = new AlertSim(alertSettings({ load: { warn: 1, crit: 3, hysteresis: 0.2 } }));
    const loads = [1.2, 1.1, 0.9, 0.85, 0.75, 0.7];
    const got = loads.flatMap((load1) => sim.poll([result('h', { load1 })]));
    assert.deepEqual(summary(got), ['firing warning h load', 'resolved warning h load']);
    assert.equal(got[1]?.at, new Date(T0.getTime() + 5 * POLL_MS).toISOString(), 'resolved on the second poll under 0.8');
  });
});

describe('evaluate: levels', () => {
  it('announces warning -> critical, and steps critical -> warning down quietly', () => {
    const sim = new AlertSim();
    assert.deepEqual(summary(sim.cpuSeries('h', [91, 92])), ['firing warning h cpu']);
    assert.deepEqual(sim.cpuSeries('h', [99]), []);
    assert.deepEqual(summary(sim.cpuSeries('h', [99])), ['escalated critical h cpu']);
    // Under 98 - 5 for 2 polls: back to warning in the state, no mail.
    assert.deepEqual(sim.cpuSeries('h', [91, 91]), []);
    assert.equal(sim.firing()[0]?.level, 'warning');
    assert.equal(sim.firing()[0]?.threshold, 90);
    assert.deepEqual(summary(sim.cpuSeries('h', [10, 10])), ['resolved warning h cpu']);
  });

  it('fires a critical-only rule (warn null) and resolves under crit - hysteresis', () => {
    const sim = new AlertSim(alertSettings({ cpu: { warn: null, crit: 95 } }));
    assert.deepEqual(sim.cpuSeries('h', [92, 93, 94]), []);
    assert.deepEqual(summary(sim.cpuSeries('h', [96, 96])), ['firing critical h cpu']);
    assert.deepEqual(summary(sim.cpuSeries('h', [89, 89])), ['resolved critical h cpu']);
  });
});

describe('evaluate: metrics', () => {
  it('watches each disk mount separately, with per-mount levels and excludes', () => {
    const sim = new AlertSim(alertSettings({ disk: { mounts: { '/backup': { warn: 97, crit: 99 } }, exclude: ['/snap/*'] } }));
    const disks = { '/': 50, '/var': 96, '/backup': 96, '/snap/core/1': 100 };
    sim.poll([result('h', { disks })]);
    assert.deepEqual(summary(sim.poll([result('h', { disks })])), ['firing critical h disk /var']);
  });

  it('watches swap only on hosts that have swap', () => {
    const sim = new AlertSim();
    sim.poll([result('a', { swapPct: 85 }), result('b', { swapPct: null })]);
    assert.deepEqual(summary(sim.poll([result('a', { swapPct: 85 }), result('b', { swapPct: null })])), ['firing critical a swap']);
  });

  it('resolves a firing disk alert whose mount disappeared', () => {
    const sim = new AlertSim();
    sim.poll([result('h', { disks: { '/': 10, '/data': 99 } })]);
    sim.poll([result('h', { disks: { '/': 10, '/data': 99 } })]);
    sim.poll([result('h', { disks: { '/': 10 } })]);
    assert.deepEqual(summary(sim.poll([result('h', { disks: { '/': 10 } })]).filter((n) => n.rule === 'disk')), ['resolved critical h disk /data']);
  });
});

describe('evaluate: host down', () => {
  it('fires after 2 failed polls with the reason, freezes metric alerts meanwhile, and resolves after 2 ok polls', () => {
    const sim = new AlertSim();
    sim.cpuSeries('h', [99, 99]);
    assert.deepEqual(sim.poll([result('h', { down: DOWN })]), []);
    const fired = sim.poll([result('h', { down: DOWN })]);
    assert.deepEqual(summary(fired), ['firing critical h down']);
    assert.equal(fired[0]?.reason, 'unreachable (connect): connect ECONNREFUSED 10.0.0.5:22');
    assert.ok(sim.firing().some((a) => a.rule === 'cpu'), 'the CPU alert is frozen, not resolved, while the host is down');
    assert.deepEqual(sim.poll([result('h', { cpu: 10 })]), []);
    const back = sim.poll([result('h', { cpu: 10 })]);
    assert.deepEqual(summary(back), ['resolved critical h down', 'resolved critical h cpu']);
    assert.equal(back[0]?.reason, 'unreachable (connect): connect ECONNREFUSED 10.0.0.5:22');
  });

  it('honours down.firePolls', () => {
    const sim = new AlertSim(alertSettings({ down: { firePolls: 1 } }));
    assert.deepEqual(summary(sim.poll([result('h', { down: DOWN })])), ['firing critical h down']);
  });
});

describe('evaluate: reminders', () => {
  it('repeats a still-firing alert every repeatHours, and not before', () => {
    const sim = new AlertSim(alertSettings({ repeatHours: 1 }));
    sim.cpuSeries('h', [95, 95]);
    // 11 polls = 55 minutes after firing: nothing.
    assert.deepEqual(sim.cpuSeries('h', Array(11).fill(95)), []);
    assert.deepEqual(summary(sim.cpuSeries('h', [95])), ['reminder warning h cpu']);
    assert.deepEqual(sim.cpuSeries('h', Array(11).fill(95)), []);
    assert.deepEqual(summary(sim.cpuSeries('h', [95])), ['reminder warning h cpu']);
  });

  it('sends no reminders by default', () => {
    const sim = new AlertSim();
    sim.cpuSeries('h', Array(200).fill(95));
    assert.deepEqual(summary(sim.notifications), ['firing warning h cpu']);
  });
});

describe('evaluate: scope', () => {
  it('leaves hosts that were not polled in this run (--only) untouched', () => {
    const sim = new AlertSim();
    sim.poll([result('a', { cpu: 99 }), result('b', { cpu: 99 })]);
    sim.poll([result('a', { cpu: 99 }), result('b', { cpu: 99 })]);
    const bBefore = sim.alerts.find((x) => x.host === 'b');
    for (let i = 0; i < 3; i += 1) sim.poll([result('a', { cpu: 1 })]);
    assert.deepEqual(sim.alerts.find((x) => x.host === 'b'), bBefore);
    assert.deepEqual(summary(sim.notifications), ['firing critical a cpu', 'firing critical b cpu', 'resolved critical a cpu']);
  });

  it('respects alerts=off and per-host thresholds from servers.csv', () => {
    const sim = new AlertSim();
    for (let i = 0; i < 3; i += 1) {
      sim.poll([
        result('quiet', { cpu: 99, down: undefined, extra: { alerts: 'off' } }),
        result('strict', { cpu: 60, extra: { cpu_warn: '50', cpu_crit: '70' } }),
        result('lenient', { cpu: 95, extra: { cpu_warn: 'off', cpu_crit: '99' } }),
      ]);
    }
    assert.deepEqual(summary(sim.notifications), ['firing warning strict cpu']);
    assert.equal(sim.notifications[0]?.threshold, 50);
    assert.ok(!sim.alerts.some((a) => a.host === 'quiet'));
  });

  it('forgets the alerts of a host turned off without a notification', () => {
    const sim = new AlertSim();
    sim.cpuSeries('h', [99, 99]);
    assert.deepEqual(sim.poll([result('h', { cpu: 99, extra: { alerts: 'off' } })]), []);
    assert.deepEqual(sim.alerts, []);
  });
});

describe('evaluate: adopting after the state was lost', () => {
  it('takes what holds now as firing without a notification, then resolves normally', () => {
    const sim = new AlertSim(alertSettings(), { adoptFirst: true });
    const fleet = (cpu: number) => Array.from({ length: 50 }, (_, i) => result(`h${i}`, i < 10 ? { down: DOWN } : { cpu }));
    assert.deepEqual(sim.poll(fleet(99)), []);
    assert.equal(sim.firing().length, 50);
    assert.ok(sim.firing().every((a) => a.adopted));
    assert.deepEqual(sim.poll(fleet(99)), []);
    sim.poll(fleet(1));
    assert.equal(sim.poll(fleet(1)).filter((n) => n.kind === 'resolved').length, 40);
  });

  it('is pure: the same input gives the same output and the input is not changed', () => {
    const settings = alertSettings();
    const results = [result('h', { cpu: 99 })];
    const rules = new Map([['h', hostRules(results[0]!.host, settings)]]);
    const options = { repeatMs: 0, topProcesses: 5, adopt: false };
    const first = evaluate([], results, T0, rules, options);
    const frozen = JSON.stringify(first.alerts);
    const a = evaluate(first.alerts, results, new Date(T0.getTime() + POLL_MS), rules, options);
    const b = evaluate(first.alerts, results, new Date(T0.getTime() + POLL_MS), rules, options);
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(first.alerts), frozen);
    assert.equal(a.notifications.length, 1);
  });
});
