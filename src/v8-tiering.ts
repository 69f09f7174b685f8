// V8's tier-up threshold for a process that lives seconds to minutes. With Node 20's default,
// TurboFan optimises a function once ~67 KB of its bytecode has run: in a poll that is much of
// ssh2's handshake and packet code and fleetpoll's parser and row builders, compiled on V8's
// worker threads and then run a few hundred times before the process exits. Four times the
// budget leaves TurboFan only the really hot code: interleaved runs of a 200-host poll used ~10 %
// less CPU, of 500 and 1,000 hosts about the same (README "Performance").
import { setFlagsFromString } from 'node:v8';

/** The budget fleetpoll runs with on Node 20: four times V8 11's default (67,584). */
export const INTERRUPT_BUDGET_FLAG = '--interrupt-budget=270336';

// Only the V8 it was measured on: Node 22's V8 tiers up through Maglev with other budgets.
const TUNED_V8_MAJOR = '11';

/**
 * The V8 flags fleetpoll sets for itself: none when the user chose a budget on the node
 * command line (`node --interrupt-budget=N`), or on a V8 it was not measured on.
 */
export function tieringFlags(execArgv: readonly string[], v8Version: string): string[] {
  if (v8Version.split('.')[0] !== TUNED_V8_MAJOR) return [];
  if (execArgv.some((arg) => /^--interrupt[-_]budget(=|$)/.test(arg))) return [];
  return [INTERRUPT_BUDGET_FLAG];
}

/**
 * Applies tieringFlags to this process. Must run before the bundle is compiled: its code cache
 * records the flags it was made under, and V8 rejects it under others.
 */
export function tuneTiering(): void {
  for (const flag of tieringFlags(process.execArgv, process.versions.v8)) setFlagsFromString(flag);
}
