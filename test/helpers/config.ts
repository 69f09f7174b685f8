// Loads a settings file written from `json` in a temp dir and returns its problems, paths made relative.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The ConfigError problems for this fleetpoll.config.json, or [] when it loads. */
export function configProblems(json: string, env: NodeJS.ProcessEnv = {}): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-cfg-'));
  try {
    writeFileSync(join(dir, 'fleetpoll.config.json'), json);
    loadConfig({}, env, dir, 'me');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.replace(`${dir}/`, ''));
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
