// The host-key policy the SSH transport asks about each presented key, and its adapter to the
// known_hosts store (known-hosts.ts).
import type { Host } from '../model.js';
import type { Log } from '../log.js';
import { KnownHosts, preferHostKeyAlgorithms } from './known-hosts.js';

// The decision on a presented host key, as the transport needs it.
export type HostKeyDecision = { accept: true } | { accept: false; error: string };

// What the transport needs from host-key checking; knownHostsPolicy implements it.
export interface HostKeyPolicy {
  /** Server host key algorithms to offer, known types first (as OpenSSH does). */
  hostKeyAlgorithms(host: Host): string[];
  verify(host: Host, keyBlob: Buffer): Promise<HostKeyDecision>;
}

/** Adapts the known_hosts store to the transport; logs keys recorded by accept-new. */
export function knownHostsPolicy(knownHosts: KnownHosts, log: Log): HostKeyPolicy {
  // Hosts mostly share their key types: one ordered list per combination (ssh2 only reads it).
  const orders = new Map<string, string[]>();
  return {
    hostKeyAlgorithms: (host) => {
      const types = knownHosts.mode === 'off' ? [] : knownHosts.knownKeyTypes(host.address, host.port);
      const id = types.join(' ');
      let order = orders.get(id);
      if (order === undefined) {
        order = preferHostKeyAlgorithms(types);
        orders.set(id, order);
      }
      return order;
    },
    verify: async (host, keyBlob) => {
      const decision = await knownHosts.verify(host.address, host.port, keyBlob);
      if (decision.decision === 'refuse') {
        const hint =
          decision.reason === 'unknown'
            ? '; add it with ssh-keyscan after checking its fingerprint, or poll once with --host-key-checking accept-new'
            : '';
        log.error('host key refused', { host: host.name, reason: decision.reason, fingerprint: decision.fingerprint });
        return { accept: false, error: `${decision.message}${hint}` };
      }
      if (decision.how === 'recorded') log.warn('recorded new host key (accept-new)', { host: host.name, fingerprint: decision.fingerprint, file: knownHosts.userFile });
      if (decision.how === 'unsaved') log.warn('accepted new host key but could not save it', { host: host.name, error: decision.error });
      return { accept: true };
    },
  };
}
