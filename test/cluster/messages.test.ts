// What travels over NATS: jobs, results and heartbeats survive encode -> decode unchanged, and every
// malformed message (not JSON, wrong version, a missing or mistyped field, a bad sample, too large)
// decodes to null, so that it costs that message and never the cycle. Pure functions: no NATS here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHeartbeat, decodeJob, decodeResult, encode, MAX_MESSAGE_BYTES, resultMessage, toPollResult, type Heartbeat, type Job } from '../../src/cluster/messages.js';
import type { PollResult } from '../../src/model.js';
import { failedResult, host, okResult } from '../helpers/store-fixtures.js';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
// A copy of a plain object with one property replaced (or removed with undefined) at a dotted path.
function changed(value: object, path: string, to: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (to === undefined) delete at[last];
  else at[last] = to;
  return copy;
}

const job: Job = { v: 1, cycleId: 'c1796426400000', deadlineMs: 1796426640000, host: host('web1', { zone: 'dmz', auth: { kind: 'password-env', envVar: 'WEB1_PASSWORD' }, tags: ['web'] }) };
const beat: Heartbeat = { v: 1, id: 'poll1:4121:9f03aa', zone: 'dmz', version: '0.1.0', hostname: 'poll1', pid: 4121, startedAtSec: 1796420000, sentAtSec: 1796426381, inFlight: 3, done: 5120, stopping: false };

describe('messages: jobs', () => {
  it('a job survives encode -> decode, auth as a reference only', () => {
    const decoded = decodeJob(encode(job));
    assert.deepEqual(decoded, job);
    assert.deepEqual(decoded?.host.auth, { kind: 'password-env', envVar: 'WEB1_PASSWORD' });
  });

  for (const [what, path, to] of [
    ['another version', 'v', 2],
    ['a cycle id that is no subject token', 'cycleId', 'c1.>'],
    ['no deadline', 'deadlineMs', undefined],
    ['a deadline that is not a number', 'deadlineMs', '1796426640000'],
    ['no host', 'host', undefined],
    ['a host without a name', 'host.name', undefined],
    ['an unknown transport', 'host.transport', 'telnet'],
    ['a port that is a string', 'host.port', '22'],
    ['an unknown auth kind', 'host.auth', { kind: 'password', value: 'secret' }],
    ['a key auth without a path', 'host.auth', { kind: 'key' }],
    ['an unknown os', 'host.os', 'plan9'],
    ['tags that are no list', 'host.tags', 'web'],
    ['enabled as a string', 'host.enabled', 'yes'],
    ['a zone that is a number', 'host.zone', 7],
  ] as const) {
    it(`${what}: null`, () => assert.equal(decodeJob(bytes(changed(job, path, to))), null));
  }

  it('not JSON, JSON that is no object, an array: null', () => {
    assert.equal(decodeJob(bytes('{"v":1,')), null);
    assert.equal(decodeJob(bytes('null')), null);
    assert.equal(decodeJob(bytes('"job"')), null);
    assert.equal(decodeJob(bytes([job])), null);
    assert.equal(decodeJob(new Uint8Array([0xff, 0xfe, 0x00])), null);
  });
});

describe('messages: results', () => {
  const ok = okResult('web1');
  const failed = failedResult('web2', 'auth_failed', 'auth', 'permission denied (publickey)');

  it('an ok result travels as its sample and comes back as the same PollResult for the coordinator\'s own row', () => {
    const message = resultMessage('c1', 'dmz', 'poll1:1:aa', ok);
    assert.deepEqual({ cycleId: message.cycleId, host: message.host, zone: message.zone, worker: message.worker }, { cycleId: 'c1', host: 'web1', zone: 'dmz', worker: 'poll1:1:aa' });
    const decoded = decodeResult(encode(message));
    assert.ok(decoded !== null);
    assert.deepEqual(toPollResult(ok.host, decoded.result), ok);
  });

  it('a failure keeps its status, phase, error and attempts', () => {
    const decoded = decodeResult(encode(resultMessage('c1', 'default', 'w', failed)));
    assert.ok(decoded !== null);
    const back: PollResult = toPollResult(failed.host, decoded.result);
    assert.deepEqual(back, failed);
  });

  const okMessage = resultMessage('c1', 'dmz', 'w', ok);
  const failedMessage = resultMessage('c1', 'dmz', 'w', failed);
  for (const [what, message, path, to] of [
    ['another version', okMessage, 'v', 2],
    ['a cycle id that is no subject token', okMessage, 'cycleId', 'c 1'],
    ['no host name', okMessage, 'host', undefined],
    ['no zone', okMessage, 'zone', undefined],
    ['no worker', okMessage, 'worker', 42],
    ['no result', okMessage, 'result', undefined],
    ['a start time that is not a number', okMessage, 'result.startedAtMs', 'now'],
    ['attempts missing', okMessage, 'result.attempts', undefined],
    ['an ok result without a sample', okMessage, 'result.sample', undefined],
    ['a sample without memory figures', okMessage, 'result.sample.mem', undefined],
    ['a sample with a memory figure as text', okMessage, 'result.sample.mem.totalKb', '8388608'],
    ['a sample with a load that is no object', okMessage, 'result.sample.load', 2],
    ['a sample with a malformed disk', okMessage, 'result.sample.disks', [{ mount: '/', fsType: 'ext4', totalKb: 1 }]],
    ['a sample with a process whose pid is text', okMessage, 'result.sample.procs', [{ pid: '1', user: 'root', cpuPct: 0, rssKb: 1, name: 'init' }]],
    ['a sample with a user that is null', okMessage, 'result.sample.users', [null]],
    ['a sample with warnings that are not text', okMessage, 'result.sample.warnings', [1]],
    ['an unknown failure status', failedMessage, 'result.status', 'exploded'],
    ['an unknown phase', failedMessage, 'result.phase', 'lunch'],
    ['a failure without its error text', failedMessage, 'result.error', undefined],
  ] as const) {
    it(`${what}: null`, () => assert.equal(decodeResult(bytes(changed(message, path, to))), null));
  }

  it('a sample with no load (an OS without it) is still a sample', () => {
    const decoded = decodeResult(bytes(changed(okMessage, 'result.sample.load', null)));
    assert.ok(decoded !== null && decoded.result.status === 'ok');
    assert.equal(decoded.result.status === 'ok' ? decoded.result.sample.load : 'x', null);
  });

  it(`a message above ${MAX_MESSAGE_BYTES} bytes is refused before it is parsed`, () => {
    const big = resultMessage('c1', 'dmz', 'w', okResult('web1', { warnings: ['x'.repeat(MAX_MESSAGE_BYTES)] }));
    assert.equal(decodeResult(encode(big)), null);
  });
});

describe('messages: heartbeats', () => {
  it('a heartbeat survives encode -> decode', () => assert.deepEqual(decodeHeartbeat(encode(beat)), beat));

  for (const [what, path, to] of [
    ['a zone that is no subject token', 'zone', 'dmz.a'],
    ['no version', 'version', undefined],
    ['a pid that is text', 'pid', '4121'],
    ['a done count that is not finite', 'done', null],
    ['stopping as text', 'stopping', 'no'],
    ['another version', 'v', 0],
  ] as const) {
    it(`${what}: null`, () => assert.equal(decodeHeartbeat(bytes(changed(beat, path, to))), null));
  }
});
