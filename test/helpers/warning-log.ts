// A Log that keeps its warnings with the host of the child logger that wrote each (undefined for the
// parent's own lines): what the failure-lines tests of every fan-out check.
import type { Log } from '../../src/log.js';

// One warning line and the host its child logger was made for.
export interface Warning {
  readonly message: string;
  readonly host: unknown;
}

/** A Log whose warnings land in `warnings`; other levels are dropped. */
export function warningLog(warnings: Warning[], host?: unknown): Log {
  return {
    error: () => {},
    info: () => {},
    debug: () => {},
    warn: (message) => warnings.push({ message, host }),
    child: (meta) => warningLog(warnings, meta.host),
  };
}
