// What travels over NATS: jobs, results and heartbeats survive encode -> decode unchanged, and every
// malformed message (not JSON, wrong version, a missing or mistyped field, a bad sample, too large)
// decodes to null (a job: to the reason it is refused, for the worker's log line; a job of another
// format, such as v1's one host per job, is refused as such), so that it costs that message and
// never the cycle. Pure functions: no NATS here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHeartbeat, decodeJob, decodeResult, encode, isRefused, JOB_FORMAT, MAX_MESSAGE_BYTES, resultMessage, toPollResult, type Heartbeat, type Job } from '../../src/cluster/messages.js';
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

const job: Job = {
  v: JOB_FORMAT,
  cycleId: 'c1796426400000',
  deadlineMs: 1796426640000,
  hosts: [host('web1', { zone: 'dmz', auth: { kind: 'password-env', envVar: 'WEB1_PASSWORD' }, tags: ['web'] }), host('web2', { zone: 'dmz', auth: { kind: 'key', path: '/etc/fleetpoll/id_ed25519' } })],
};
// Why a job's bytes are refused ('' when they are a job).
const refusal = (data: Uint8Array): string => {
  const decoded = decodeJob(data);
  return isRefused(decoded) ? decoded.refused : '';
};
const beat: Heartbeat = { v: 1, id: 'poll1:4121:9f03aa', zone: 'dmz', version: '0.1.0', hostname: 'poll1', pid: 4121, startedAtSec: 1796420000, sentAtSec: 1796426381, inFlight: 3, done: 5120, stopping: false };

describe('messages: jobs', () => {
  it('a job (a batch of hosts) survives encode -> decode, auth as a reference only', () => {
    const decoded = decodeJob(encode(job));
    assert.deepEqual(decoded, job);
    assert.ok(!isRefused(decoded));
    assert.deepEqual(decoded.hosts[0]?.auth, { kind: 'password-env', envVar: 'WEB1_PASSWORD' });
  });

  it('a job of another format is refused as such, naming both formats: v1 (one host per job), a future v3, none', () => {
    const v1 = { v: 1, cycleId: job.cycleId, deadlineMs: job.deadlineMs, host: job.hosts[0] };
    assert.match(refusal(bytes(v1)), /^job format v1 is not the one this worker reads \(v2\): run the same fleetpoll version on the coordinator and the workers$/);
    assert.match(refusal(bytes(changed(job, 'v', 3))), /^job format v3 is not/);
    assert.match(refusal(bytes(changed(job, 'v', undefined))), /^job format vundefined is not/);
  });

  for (const [what, path, to, why] of [
    ['a cycle id that is no subject token', 'cycleId', 'c1.>', /cycle id/],
    ['no deadline', 'deadlineMs', undefined, /no deadline/],
    ['a deadline that is not a number', 'deadlineMs', '1796426640000', /no deadline/],
    ['no hosts', 'hosts', undefined, /no list of hosts/],
    ['an empty list of hosts', 'hosts', [], /no list of hosts/],
    ['hosts that are no list', 'hosts', { web1: {} }, /no list of hosts/],
    ['a host that is null', 'hosts.1', null, /host 2 of 2 is malformed/],
    ['a host without a name', 'hosts.0.name', undefined, /host 1 of 2 is malformed/],
    ['an unknown transport', 'hosts.1.transport', 'telnet', /host 2 of 2/],
    ['a port that is a string', 'hosts.0.port', '22', /host 1 of 2/],
    ['an unknown auth kind', 'hosts.0.auth', { kind: 'password', value: 'secret' }, /host 1 of 2/],
    ['a key auth without a path', 'hosts.1.auth', { kind: 'key' }, /host 2 of 2/],
    ['an unknown os', 'hosts.0.os', 'plan9', /host 1 of 2/],
    ['tags that are no list', 'hosts.0.tags', 'web', /host 1 of 2/],
    ['enabled as a string', 'hosts.0.enabled', 'yes', /host 1 of 2/],
    ['a zone that is a number', 'hosts.1.zone', 7, /host 2 of 2/],
  ] as const) {
    it(`${what}: refused`, () => assert.match(refusal(bytes(changed(job, path, to))), why));
  }

  it('not JSON, JSON that is no object, an array: refused', () => {
    for (const data of [bytes('{"v":2,'), bytes('null'), bytes('"job"'), bytes([job]), new Uint8Array([0xff, 0xfe, 0x00])]) {
      assert.match(refusal(data), /^not a JSON object/);
    }
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
