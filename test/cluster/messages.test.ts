// What travels over NATS: jobs, result messages (a job's results, cut to the server's max_payload) and
// heartbeats survive encode -> decode unchanged, and every malformed message (not JSON, wrong version, a
// missing or mistyped field, too large) decodes to null (a malformed result inside a message: that
// result alone is left out and counted) (a job: to the reason it is refused, for the worker's log line; a job of another
// format, such as v1's one host per job, is refused as such), so that it costs that message and
// never the cycle. Pure functions: no NATS here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHeartbeat, decodeJob, decodeResults, encode, encodeResults, isRefused, JOB_FORMAT, MAX_MESSAGE_BYTES, RESULT_FORMAT, toPollResult, type Heartbeat, type Job, type ResultEntry } from '../../src/cluster/messages.js';
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
  const MB = 1024 * 1024;
  // The one message of some results, as a plain object.
  const messageOf = (results: PollResult[]): Record<string, unknown> => {
    const encoded = encodeResults('c1', 'dmz', 'poll1:1:aa', results, MB);
    assert.equal(encoded.length, 1);
    return JSON.parse(new TextDecoder().decode(encoded[0]?.data)) as Record<string, unknown>;
  };

  it("a job's results travel in one message and come back as the same PollResults for the coordinator's own rows", () => {
    const encoded = encodeResults('c1', 'dmz', 'poll1:1:aa', [ok, failed], MB);
    assert.deepEqual(encoded.map((e) => [e.firstHost, e.lastHost, e.count]), [['web1', 'web2', 2]]);
    const decoded = decodeResults(encoded[0]?.data as Uint8Array);
    assert.ok(decoded !== null);
    assert.deepEqual({ cycleId: decoded.cycleId, zone: decoded.zone, worker: decoded.worker, malformed: decoded.malformed }, { cycleId: 'c1', zone: 'dmz', worker: 'poll1:1:aa', malformed: 0 });
    assert.deepEqual(decoded.entries.map((e) => e.host), ['web1', 'web2']);
    assert.deepEqual(toPollResult(ok.host, (decoded.entries[0] as ResultEntry).result), ok);
    assert.deepEqual(toPollResult(failed.host, (decoded.entries[1] as ResultEntry).result), failed, 'a failure keeps its status, phase, error and attempts');
  });

  it('results that do not fit one message are cut into as few as fit, in order, none above the limit', () => {
    const many = Array.from({ length: 40 }, (_, i) => okResult(`web${i}`));
    const one = encodeResults('c1', 'dmz', 'w', many.slice(0, 1), MB)[0]?.data.length ?? 0;
    const limit = 10 * one;
    const encoded = encodeResults('c1', 'dmz', 'w', many, limit);
    assert.ok(encoded.length >= 4 && encoded.length <= 6, `${encoded.length} messages`);
    for (const e of encoded) assert.ok(e.data.length <= limit, `${e.data.length} > ${limit}`);
    const names = encoded.flatMap((e) => decodeResults(e.data)?.entries.map((x) => x.host) ?? []);
    assert.deepEqual(names, many.map((r) => r.host.name));
    assert.deepEqual(encoded.map((e) => e.count).reduce((x, y) => x + y), 40);
    assert.equal(encoded[1]?.firstHost, names[encoded[0]?.count ?? 0]);
  });

  it('a result too large for any message travels as a probe_error saying so; the others of its job as they are', () => {
    const huge = okResult('web1', { warnings: ['x'.repeat(300 * 1024)] });
    const encoded = encodeResults('c1', 'dmz', 'w', [okResult('web0'), huge, failed], 256 * 1024);
    for (const e of encoded) assert.ok(e.data.length <= 256 * 1024);
    const entries = encoded.flatMap((e) => decodeResults(e.data)?.entries ?? []);
    assert.deepEqual(entries.map((e) => [e.host, e.result.status]), [['web0', 'ok'], ['web1', 'probe_error'], ['web2', 'auth_failed']]);
    const web1 = entries[1]?.result;
    assert.ok(web1 !== undefined && web1.status !== 'ok');
    assert.equal(web1.phase, 'parse');
    assert.match(web1.error, /^its result is \d+ bytes, more than one NATS message may carry here \(262144 bytes; the server's max_payload\)$/);
    assert.deepEqual([web1.startedAtMs, web1.durationMs, web1.attempts], [huge.startedAt.getTime(), huge.durationMs, huge.attempts]);
  });

  const okMessage = messageOf([ok]);
  const failedMessage = messageOf([failed]);
  for (const [what, message, path, to] of [
    ['another version', okMessage, 'v', 1],
    ['a cycle id that is no subject token', okMessage, 'cycleId', 'c 1'],
    ['no zone', okMessage, 'zone', undefined],
    ['no worker', okMessage, 'worker', 42],
    ['no list of results', okMessage, 'results', { host: 'web1' }],
  ] as const) {
    it(`a message with ${what}: null`, () => assert.equal(decodeResults(bytes(changed(message, path, to))), null));
  }
  for (const [what, message, path, to] of [
    ['no host name', okMessage, 'results.0.host', undefined],
    ['no result', okMessage, 'results.0.result', undefined],
    ['a start time that is not a number', okMessage, 'results.0.result.startedAtMs', 'now'],
    ['attempts missing', okMessage, 'results.0.result.attempts', undefined],
    ['an ok result without a sample', okMessage, 'results.0.result.sample', undefined],
    ['a sample without memory figures', okMessage, 'results.0.result.sample.mem', undefined],
    ['a sample with a memory figure as text', okMessage, 'results.0.result.sample.mem.totalKb', '8388608'],
    ['a sample with a load that is no object', okMessage, 'results.0.result.sample.load', 2],
    ['a sample with a malformed disk', okMessage, 'results.0.result.sample.disks', [{ mount: '/', fsType: 'ext4', totalKb: 1 }]],
    ['a sample with a process whose pid is text', okMessage, 'results.0.result.sample.procs', [{ pid: '1', user: 'root', cpuPct: 0, rssKb: 1, name: 'init' }]],
    ['a sample with a user that is null', okMessage, 'results.0.result.sample.users', [null]],
    ['a sample with warnings that are not text', okMessage, 'results.0.result.sample.warnings', [1]],
    ['an unknown failure status', failedMessage, 'results.0.result.status', 'exploded'],
    ['an unknown phase', failedMessage, 'results.0.result.phase', 'lunch'],
    ['a failure without its error text', failedMessage, 'results.0.result.error', undefined],
  ] as const) {
    it(`a result with ${what}: left out and counted, the others in its message kept`, () => {
      const bad = changed(message, path, to) as { results: unknown[] };
      const good = messageOf([okResult('web9')]) as { results: unknown[] };
      const decoded = decodeResults(bytes({ ...bad, results: [...bad.results, ...good.results] }));
      assert.ok(decoded !== null);
      assert.deepEqual([decoded.entries.map((e) => e.host), decoded.malformed], [['web9'], 1]);
    });
  }

  it('a sample with no load (an OS without it) is still a sample', () => {
    const decoded = decodeResults(bytes(changed(okMessage, 'results.0.result.sample.load', null)));
    const entry = decoded?.entries[0];
    assert.ok(entry !== undefined && entry.result.status === 'ok');
    assert.equal(entry.result.sample.load, null);
  });

  it(`the format is v${RESULT_FORMAT}; a message above ${MAX_MESSAGE_BYTES} bytes is refused before it is parsed`, () => {
    assert.equal(okMessage.v, RESULT_FORMAT);
    const big = encodeResults('c1', 'dmz', 'w', [okResult('web1', { warnings: ['x'.repeat(MAX_MESSAGE_BYTES)] })], 2 * MAX_MESSAGE_BYTES);
    assert.equal(decodeResults(big[0]?.data as Uint8Array), null);
  });
});

describe('messages: heartbeats', () => {
  it('a heartbeat survives encode -> decode', () => assert.deepEqual(decodeHeartbeat(encode(beat)), beat));
  it('with the slots its worker owns, too', () => assert.deepEqual(decodeHeartbeat(encode({ ...beat, slots: 30 })), { ...beat, slots: 30 }));

  for (const [what, path, to] of [
    ['a zone that is no subject token', 'zone', 'dmz.a'],
    ['no version', 'version', undefined],
    ['a pid that is text', 'pid', '4121'],
    ['a done count that is not finite', 'done', null],
    ['stopping as text', 'stopping', 'no'],
    ['slots as text', 'slots', '30'],
    ['another version', 'v', 0],
  ] as const) {
    it(`${what}: null`, () => assert.equal(decodeHeartbeat(bytes(changed(beat, path, to))), null));
  }
});
