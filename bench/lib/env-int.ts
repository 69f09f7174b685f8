// The benchmarks' settings from the environment, checked and refused the same way everywhere.

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

/** The settings `read` makes of this process's environment, or null once the reason is printed (the benchmark then exits 2). */
export function settingsOrReason<T>(read: (env: NodeJS.ProcessEnv) => T): T | null {
  try {
    return read(process.env);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return null;
  }
}
