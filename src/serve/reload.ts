// Loading what the service runs (settings + inventory) at start and at every reload, with the same
// line-numbered validation as `poll`; a bad edit is a list of problems and the caller keeps what it had.
import { ConfigError, loadConfig, type Config, type ConfigFlags } from '../config.js';
import type { InventoryIssue } from '../inventory.js';
import { loadPollInventory, type PollInventory } from '../run-poll.js';

// What one cycle runs with.
export interface ServeInputs {
  readonly config: Config;
  readonly inventory: PollInventory;
}

// The outcome of a load: inputs to run, or every problem that kept them from loading.
export type LoadOutcome =
  | { readonly kind: 'loaded'; readonly inputs: ServeInputs; readonly warnings: readonly InventoryIssue[]; readonly needRestart: readonly string[] }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

// Where the settings come from: the command's flags, the environment, the directory it was started in.
export interface LoadSource {
  readonly flags: ConfigFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly defaultUser: string;
}

/**
 * Loads settings and inventory. Unlike `poll`, which skips bad rows, any inventory error refuses the
 * whole file: a half-applied edit would silently stop polling the hosts on the bad lines.
 * `pinned` (a reload) keeps the settings that only a restart may change: the data dir, which the run lock is on.
 */
export async function loadServeInputs(source: LoadSource, pinned: Config | null): Promise<LoadOutcome> {
  let config: Config;
  try {
    config = loadConfig(source.flags, source.env, source.cwd, source.defaultUser);
  } catch (error) {
    if (error instanceof ConfigError) return { kind: 'invalid', problems: error.problems.map((p) => `config: ${p}`) };
    throw error;
  }
  const problems: string[] = [];
  if (pinned !== null && config.dataDir !== pinned.dataDir) {
    problems.push(`config: dataDir changed from ${pinned.dataDir} to ${config.dataDir}: the data directory changes only at a restart (the run lock is held there)`);
  }
  const loaded = await loadPollInventory(config, source.env);
  if (loaded.kind === 'invalid') {
    return { kind: 'invalid', problems: [...problems, ...issueLines(loaded.inventoryIssues.filter((i) => i.severity === 'error')), ...loaded.problems] };
  }
  const { inventory, enabled } = loaded.value;
  problems.push(...issueLines(inventory.issues.filter((i) => i.severity === 'error')));
  if (problems.length === 0 && enabled.length === 0) problems.push(`${config.inventoryPath}: no enabled host to poll`);
  if (problems.length > 0) return { kind: 'invalid', problems };
  return { kind: 'loaded', inputs: { config, inventory: loaded.value }, warnings: inventory.issues.filter((i) => i.severity === 'warning'), needRestart: pinned === null ? [] : restartOnlyChanges(pinned, config) };
}

// Sections the service builds its parts from once, at start: the HTTP listener, the history store,
// the run log and the NATS coordinator.
const RESTART_ONLY = ['http', 'history', 'log', 'nats'] as const;

/** One sentence per restart-only section that an edit changed: the rest of the reload applies, these wait for a restart. */
export function restartOnlyChanges(running: Config, edited: Config): string[] {
  return RESTART_ONLY.filter((section) => JSON.stringify(running[section]) !== JSON.stringify(edited[section])).map(
    (section) => `config: the ${section} settings changed: they take effect at the next restart (the running service keeps the ones it started with)`,
  );
}

/** `file:line: severity: message`, as `poll` prints inventory issues. */
export function issueLines(issues: readonly InventoryIssue[]): string[] {
  return issues.map((i) => `${i.file}:${i.line}: ${i.severity}: ${i.message}`);
}

/** The edited settings with the restart-only sections of the running ones. */
export function keepRestartOnly(running: Config, edited: Config): Config {
  const pinned = Object.fromEntries(RESTART_ONLY.map((section) => [section, running[section]])) as Pick<Config, (typeof RESTART_ONLY)[number]>;
  return { ...edited, ...pinned };
}
