// Tells a listener when each host's poll starts (the terminal progress line shows the slowest host
// still running), by wrapping the transports: a host's first attempt is its first transport run.
import type { Host, TransportKind } from '../model.js';
import type { Transport } from './transport.js';

/** The same transports, calling `onStart` once per host as its first attempt begins (retries are not starts). */
export function reportingStarts(transports: Readonly<Record<TransportKind, Transport>>, onStart: (host: Host) => void): Record<TransportKind, Transport> {
  const started = new Set<Host>();
  // gatesCpu passes through: without it the fan-out would hold an SSH host's CPU slot for its whole run.
  const wrap = (transport: Transport): Transport => ({
    ...(transport.gatesCpu === undefined ? {} : { gatesCpu: transport.gatesCpu }),
    run: (host, options) => {
      if (!started.has(host)) {
        started.add(host);
        onStart(host);
      }
      return transport.run(host, options);
    },
    close: () => transport.close(),
  });
  return { local: wrap(transports.local), ssh: wrap(transports.ssh), winrm: wrap(transports.winrm), push: wrap(transports.push) };
}
