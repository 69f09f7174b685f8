// Builds hosts and poll options for tests that drive the real transports.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInventory } from '../../src/inventory.js';
import type { Host } from '../../src/model.js';
import { KnownHosts } from '../../src/fleet/known-hosts.js';
import { LocalTransport } from '../../src/fleet/local.js';
import { PowerShellTransport } from '../../src/fleet/powershell.js';
import type { Transport } from '../../src/fleet/transport.js';
import type { PollOptions } from '../../src/fleet/poll.js';
import { knownHostsPolicy, SshTransport } from '../../src/fleet/ssh.js';
import { PushTransport } from '../../src/fleet/push.js';
import { buildProbeScript } from '../../src/probes/scripts.js';
import { silentLog } from '../../src/log.js';

/** Hosts from inventory CSV text; fails the test on any inventory error. */
export function hostsFromCsv(csv: string, env: NodeJS.ProcessEnv = process.env): Host[] {
  const inventory = parseInventory(csv, 'test-servers.csv', { user: 'fpoll', port: 22 }, env);
  const errors = inventory.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return [...inventory.hosts];
}

export interface TestPollSetup {
  readonly knownHostsPath: string;
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly maxOutputBytes?: number;
  readonly retries?: number;
  readonly cpuWindowSec?: number;
  readonly mode?: 'strict' | 'accept-new' | 'off';
  /** Program the SSH transport runs on os=windows hosts (a pwsh in tests). */
  readonly windowsPowerShell?: string;
  /** The probe text for os=windows hosts (tests inject recorded Windows data). */
  readonly windowsScript?: string;
  /** The winrm transport; by default one that would start `pwsh` on first use. */
  readonly winrm?: Transport;
}

/** Poll options wired to the real SSH and local transports. */
export async function pollOptions(setup: TestPollSetup): Promise<PollOptions> {
  const knownHosts = new KnownHosts({ mode: setup.mode ?? 'strict', userFile: setup.knownHostsPath, systemFile: null });
  await knownHosts.load();
  const env = setup.env ?? process.env;
  const script = buildProbeScript('linux', { cpuWindowSec: setup.cpuWindowSec ?? 0.2, topProcesses: 10 });
  return {
    transports: {
      local: new LocalTransport(),
      ssh: new SshTransport({
        hostKeys: knownHostsPolicy(knownHosts, silentLog),
        identityPath: null,
        passphrase: undefined,
        env,
        resolveKeyPath: (p) => p,
        log: silentLog,
        windowsPowerShell: setup.windowsPowerShell,
      }),
      winrm: setup.winrm ?? new PowerShellTransport({ executable: 'pwsh', env, log: silentLog }),
      push: new PushTransport({ dataDir: '/nonexistent/fleetpoll-push', graceSeconds: 0 }),
    },
    scripts: { linux: script, windows: setup.windowsScript ?? buildProbeScript('windows', { cpuWindowSec: setup.cpuWindowSec ?? 0.2, topProcesses: 10 }) },
    concurrency: 50,
    timeoutMs: setup.timeoutMs,
    maxOutputBytes: setup.maxOutputBytes ?? 4 * 1024 * 1024,
    retries: setup.retries ?? 1,
    retryBackoffMs: 200,
    log: silentLog,
  };
}

/** Writes a known_hosts file from lines; returns its path. */
export function writeKnownHosts(dir: string, lines: readonly string[], name = 'known_hosts'): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  return path;
}
