// The service's transports: built once and kept across cycles (warm SSH connections live in them),
// rebuilt only when a reload changes what they were built from. Warm mode is switched on HERE only.
import type { Config } from '../config.js';
import type { Log } from '../log.js';
import type { Host, TransportKind } from '../model.js';
import { DEFAULT_WARM_SETTINGS, type SshOptions } from '../fleet/ssh.js';
import type { Transport } from '../fleet/transport.js';
import { buildTransports, type CycleTransports } from '../fleet/transports.js';
import { closeTransports } from '../run-poll.js';

// Counts of kept connections, as the warm SSH transport reports them (all zero without warm mode).
export interface WarmStats {
  readonly open: number;
  readonly connects: number;
  readonly reconnects: number;
  readonly [key: string]: number;
}

// What a warm transport offers beyond the Transport contract (src/fleet/ssh.ts in warm mode).
interface WarmCapable {
  retain(hostNames: Iterable<string>): Promise<void>;
  connectionStats(): WarmStats;
}

/**
 * THE ONE PLACE warm mode is chosen: the SSH options `serve` adds to poll's. One kept connection per host
 * (src/fleet/ssh-connections.ts), with keepalive and maximum age from the settings; ServeTransports below
 * closes removed hosts' connections (retain) and reports connectionStats().
 */
export function serveSshOptions(config: Config): Partial<SshOptions> {
  return { warm: { ...DEFAULT_WARM_SETTINGS, keepaliveMs: config.ssh.keepaliveMs, maxAgeMs: config.ssh.connectionMaxAgeMs } };
}

// The transports of the service, with what they were built for.
export class ServeTransports {
  private built: CycleTransports | null = null;
  private builtFor = '';
  private kinds = new Set<TransportKind>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Log,
  ) {}

  /** The transports for this cycle's hosts: the kept ones, or new ones when the settings they depend on changed. */
  async forCycle(config: Config, hosts: readonly Host[], knownHostsChanged: boolean): Promise<CycleTransports> {
    const key = transportKey(config);
    const needed = new Set(hosts.map((h) => h.transport));
    const covered = [...needed].every((k) => this.kinds.has(k));
    if (this.built !== null && key === this.builtFor && covered && !knownHostsChanged) return this.built;
    if (this.built !== null) {
      this.log.info('rebuilding transports (settings, known_hosts or transport kinds changed); kept connections close');
      await closeTransports(this.built.transports);
    }
    this.built = await buildTransports(config, hosts, this.env, this.log, serveSshOptions(config));
    this.builtFor = key;
    this.kinds = needed;
    return this.built;
  }

  /** Closes kept connections of hosts no longer in the inventory (warm transports only). */
  async retain(hostNames: readonly string[]): Promise<void> {
    const ssh = this.built?.transports.ssh;
    if (ssh !== undefined && isWarm(ssh)) await ssh.retain(hostNames);
  }

  /** Kept-connection counts, or null when the SSH transport keeps none. */
  stats(): WarmStats | null {
    const ssh = this.built?.transports.ssh;
    return ssh !== undefined && isWarm(ssh) ? ssh.connectionStats() : null;
  }

  /** Closes everything (the service stopping). */
  async close(): Promise<void> {
    if (this.built !== null) await closeTransports(this.built.transports);
    this.built = null;
  }
}

function isWarm(transport: Transport): transport is Transport & WarmCapable {
  const t = transport as Partial<WarmCapable>;
  return typeof t.retain === 'function' && typeof t.connectionStats === 'function';
}

// The settings a transport set is built from: a change among them means new transports.
function transportKey(config: Config): string {
  return JSON.stringify({ ssh: config.ssh, winrm: config.winrm, timeoutMs: config.poll.timeoutMs, inventory: config.inventoryPath });
}
