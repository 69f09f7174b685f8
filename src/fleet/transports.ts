// The transports of one poll, keyed by kind, with what they need set up first: the known_hosts files
// for the SSH transport (and the names of their hashed lines a previous poll found), and the
// PowerShell transport only when a host uses it.
import { join } from 'node:path';
import { resolveKeyPath, type Config } from '../config.js';
import type { Log } from '../log.js';
import type { Host, TransportKind } from '../model.js';
import { KnownHosts } from './known-hosts.js';
import { KNOWN_HOSTS_NAMES_FILE, readKnownHostsNames, writeKnownHostsNames } from './known-hosts-names.js';
import { LocalTransport } from './local.js';
import { PushTransport } from './push.js';
import { knownHostsPolicy, SshTransport, type SshOptions } from './ssh.js';
import type { Transport } from './transport.js';

// A poll's transports, and the step that keeps what they learned for the next poll.
export interface CycleTransports {
  readonly transports: Record<TransportKind, Transport>;
  /** Keeps the names hashed known_hosts lines were matched to, for the next poll; never throws. */
  readonly saveKnownHostsNames: () => Promise<void>;
}

// An HMAC costs ~4 us: below this many (hashed lines x hosts) the scan is not worth a log line.
const HASHED_SCAN_NOTE = 100_000;

/**
 * Sets up the transports `hosts` use; throws only when a known_hosts file is unreadable. Close each transport after the poll.
 * `ssh` adds SSH options (`serve` passes its warm mode there, src/serve/transports.ts).
 */
export async function buildTransports(config: Config, hosts: readonly Host[], env: NodeJS.ProcessEnv, log: Log, ssh: Partial<SshOptions> = {}): Promise<CycleTransports> {
  const knownHosts = new KnownHosts({
    mode: config.ssh.hostKeyChecking,
    userFile: config.ssh.knownHostsPath,
    systemFile: config.ssh.systemKnownHostsPath,
  });
  const sshHosts = hosts.filter((h) => h.transport === 'ssh').length;
  const saveKnownHostsNames = sshHosts > 0 ? await loadKnownHosts(config, knownHosts, sshHosts, log) : nothingToSave;
  const transports: Record<TransportKind, Transport> = {
    local: new LocalTransport(),
    ssh: new SshTransport({
      hostKeys: knownHostsPolicy(knownHosts, log),
      identityPath: config.ssh.identityPath,
      passphrase: env[config.ssh.passphraseEnv],
      env,
      resolveKeyPath: (path) => resolveKeyPath(path, config.inventoryPath),
      log,
      windowsPowerShell: config.ssh.windowsPowerShell,
      ...ssh,
    }),
    // Loaded only for fleets with winrm hosts; it starts its PowerShell process on first use.
    winrm: hosts.some((h) => h.transport === 'winrm')
      ? new (await import('./powershell.js')).PowerShellTransport({ executable: config.winrm.powershell, env, log, timeoutMs: config.poll.timeoutMs })
      : unusedTransport('winrm'),
    // Reads what transport=push hosts sent to the ingest route (docs/push.md); opens no connection.
    push: new PushTransport({ dataDir: config.dataDir, graceSeconds: config.push.graceSeconds }),
  };
  return { transports, saveKnownHostsNames };
}

// Stands in for a transport no host of this poll uses (pollFleet wants every kind in the map).
function unusedTransport(kind: TransportKind): Transport {
  return {
    run: () => Promise.reject(new Error(`transport ${kind} was not set up for this run`)),
    close: () => Promise.resolve(),
  };
}

const nothingToSave = (): Promise<void> => Promise.resolve();

// Loads the known_hosts files and, when they have hashed lines, the names a previous poll found for them;
// returns what saves this poll's names afterwards.
async function loadKnownHosts(config: Config, knownHosts: KnownHosts, sshHosts: number, log: Log): Promise<() => Promise<void>> {
  if (config.ssh.hostKeyChecking === 'off') {
    log.warn('host key checking is OFF: any server can impersonate your hosts (ssh.hostKeyChecking=off)');
  }
  const loaded = await knownHosts.load();
  for (const problem of loaded.errors) log.warn(`known_hosts: ${problem}`);
  if (loaded.hashed === 0) return nothingToSave;
  const namesFile = join(config.dataDir, KNOWN_HOSTS_NAMES_FILE);
  const saved = await readKnownHostsNames(namesFile);
  const verified = knownHosts.useResolvedNames(saved);
  const unmatched = loaded.hashed - verified;
  if (unmatched * sshHosts >= HASHED_SCAN_NOTE) {
    log.info(`known_hosts: ${unmatched} hashed line(s) not yet matched to a host; each is tried against each host this poll, and the matches are kept in ${namesFile}`);
  }
  return async () => {
    // Rewritten when this poll matched new lines, or when saved pairs no longer verify (lines removed).
    if (knownHosts.newlyResolved === 0 && verified === saved.size) return;
    try {
      await writeKnownHostsNames(namesFile, knownHosts.resolvedNames());
    } catch (error) {
      log.warn(`cannot save ${namesFile}: ${(error as Error).message}; the next poll matches hashed known_hosts lines again`);
    }
  };
}
