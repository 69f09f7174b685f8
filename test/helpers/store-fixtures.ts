// Hosts, samples and poll results for the store tests; every value is a plain literal, easy to check in output.
import type { FailureStatus, Host, Phase, PollResult, Sample } from '../../src/model.js';

// 1 GiB expressed in kB, the unit of the probe protocol.
export const GIB_KB = 1024 * 1024;

// A host as inventory.ts would produce it.
export function host(name: string, overrides: Partial<Host> = {}): Host {
  return {
    name,
    address: `${name}.example.net`,
    transport: 'ssh',
    port: 22,
    user: 'poller',
    auth: { kind: 'default' },
    os: 'linux',
    tags: [],
    enabled: true,
    line: 2,
    extra: {},
    ...overrides,
  };
}

// A plausible Linux sample: 8 GiB RAM, 4 cores, two disks, three processes, two users.
export function sample(overrides: Partial<Sample> = {}): Sample {
  return {
    hostname: 'web1',
    osFamily: 'linux',
    osVersion: '6.1.0-18-amd64',
    osPretty: 'Debian GNU/Linux 12 (bookworm)',
    uptimeSec: 3 * 86400 + 43200,
    cpuCores: 4,
    cpuBusyPct: 37.26,
    load: { m1: 2, m5: 1.5, m15: 1 },
    mem: {
      totalKb: 8 * GIB_KB,
      availableKb: 6 * GIB_KB,
      freeKb: 5 * GIB_KB,
      swapTotalKb: 2 * GIB_KB,
      swapFreeKb: 1.5 * GIB_KB,
    },
    disks: [
      { mount: '/', fsType: 'ext4', totalKb: 100 * GIB_KB, usedKb: 45 * GIB_KB, availableKb: 50 * GIB_KB },
      { mount: '/var', fsType: 'xfs', totalKb: 20 * GIB_KB, usedKb: 18 * GIB_KB, availableKb: 2 * GIB_KB },
    ],
    procs: [
      { pid: 101, user: 'postgres', cpuPct: 3.1, rssKb: 2 * GIB_KB, name: 'postgres' },
      { pid: 202, user: 'www-data', cpuPct: 97, rssKb: 300 * 1024, name: 'php-fpm' },
      { pid: 303, user: 'root', cpuPct: 0.04, rssKb: 512, name: 'sshd' },
      { pid: 404, user: 'root', cpuPct: 1.0, rssKb: 1024, name: 'cron' },
    ],
    users: [
      { user: 'postgres', cpuPct: 3.1, rssKb: 2 * GIB_KB, processCount: 7 },
      { user: 'www-data', cpuPct: 97, rssKb: 300 * 1024, processCount: 12 },
    ],
    sessions: [
      { user: 'bob', terminal: 'pts/1', from: '10.0.0.9' },
      { user: 'alice', terminal: 'pts/0', from: '10.0.0.8' },
      { user: 'bob', terminal: 'pts/2', from: '10.0.0.9' },
    ],
    warnings: [],
    ...overrides,
  };
}

// A successful poll of `name`.
export function okResult(name: string, sampleOverrides: Partial<Sample> = {}, hostOverrides: Partial<Host> = {}): PollResult {
  return {
    host: host(name, hostOverrides),
    status: 'ok',
    sample: sample({ hostname: name, ...sampleOverrides }),
    startedAt: new Date('2024-03-05T10:00:00.250Z'),
    durationMs: 1234.4,
    attempts: 1,
  };
}

// A failed poll of `name`.
export function failedResult(
  name: string,
  status: FailureStatus = 'timeout',
  phase: Phase = 'connect',
  error = 'no answer within 10 s',
): PollResult {
  return {
    host: host(name),
    status,
    phase,
    error,
    startedAt: new Date('2024-03-05T10:00:00.250Z'),
    durationMs: 10000,
    attempts: 2,
  };
}
