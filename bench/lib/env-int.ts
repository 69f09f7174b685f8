// The benchmarks' whole-number settings from the environment, checked the same way everywhere.

/** An env reader: `name`'s whole number from min to max, `fallback` when unset or empty; throws with the allowed range otherwise. */
export function envInt(env: NodeJS.ProcessEnv): (name: string, fallback: number, min: number, max: number) => number {
  return (name, fallback, min, max) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return n;
  };
}
