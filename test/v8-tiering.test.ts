// The V8 tier-up budget the CLI runs with: when it applies, and that setting it at run time
// (rather than on node's command line) really changes when V8 optimises a function.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { INTERRUPT_BUDGET_FLAG, tieringFlags } from '../src/v8-tiering.js';

const TIERING = new URL('../src/v8-tiering.js', import.meta.url).href;
const NODE_20_V8 = '11.3.244.8-node.33';

// Calls a small function until V8 reports it optimised (synchronously: no concurrent compile)
// and prints how many calls that took, with or without fleetpoll's budget.
function callsUntilOptimised(tuned: boolean, nodeArgs: readonly string[] = []): number {
  const script = `
    if (${tuned}) (await import(${JSON.stringify(TIERING)})).tuneTiering();
    function add(n) { let s = 0; for (let i = 0; i < n; i += 1) s += i; return s; }
    const OPTIMIZED = 16; // V8's OptimizationStatus::kOptimized
    let calls = 0;
    while ((%GetOptimizationStatus(add) & OPTIMIZED) === 0 && calls < 10000000) { add(4); calls += 1; }
    console.log(calls);
  `;
  const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', ...nodeArgs, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr);
  return Number(run.stdout.trim());
}

describe('tieringFlags', () => {
  it('raises the interrupt budget on Node 20', () => {
    assert.deepEqual(tieringFlags([], NODE_20_V8), [INTERRUPT_BUDGET_FLAG]);
    assert.deepEqual(tieringFlags(['--max-old-space-size=512', '--enable-source-maps'], NODE_20_V8), [INTERRUPT_BUDGET_FLAG]);
  });

  it('leaves a budget the user gave node alone', () => {
    assert.deepEqual(tieringFlags(['--interrupt-budget=1000'], NODE_20_V8), []);
    assert.deepEqual(tieringFlags(['--interrupt_budget=1000'], NODE_20_V8), []);
    assert.deepEqual(tieringFlags(['--interrupt-budget', '1000'], NODE_20_V8), []);
  });

  it('leaves another V8 with its own defaults', () => {
    assert.deepEqual(tieringFlags([], '12.4.254.21-node.33'), []);
    assert.deepEqual(tieringFlags([], '10.2.154.26-node.26'), []);
  });
});

describe('tuneTiering', { skip: process.versions.v8.split('.')[0] !== '11' ? `V8 ${process.versions.v8} is not tuned` : false }, () => {
  it('set at run time, makes V8 wait about four times longer before optimising', () => {
    const plain = callsUntilOptimised(false);
    const tuned = callsUntilOptimised(true);
    assert.ok(plain > 0 && plain < 10_000_000, `optimised after ${plain} calls with V8's default`);
    const ratio = tuned / plain;
    assert.ok(ratio > 3 && ratio < 5, `${tuned} calls with fleetpoll's budget against ${plain} with V8's default (${ratio.toFixed(2)}x)`);
  });

  it('does not override a budget given on the node command line', () => {
    const given = callsUntilOptimised(false, ['--interrupt-budget=33792']);
    const givenThenTuned = callsUntilOptimised(true, ['--interrupt-budget=33792']);
    assert.equal(givenThenTuned, given);
  });
});
