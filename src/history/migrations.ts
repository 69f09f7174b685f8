// Brings a store to the current schema: PRAGMA user_version says which migrations ran; the missing ones run in
// one transaction each, so a store is always at a whole version. A store newer than this build is refused.
import type Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema.js';

// A store written by a newer fleetpoll: this one must not guess at its tables.
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(readonly found: number) {
    super(`schema version ${found} is newer than this fleetpoll's (${SCHEMA_VERSION}): upgrade fleetpoll`);
  }
}

// What migrate() did, for logs and `history stats`.
export interface MigrateOutcome {
  readonly from: number;
  readonly to: number;
}

/** Applies the migrations after the store's user_version, up to `upTo` (default: all). */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, upTo = migrations.length): MigrateOutcome {
  const from = userVersion(db);
  if (from > migrations.length) throw new SchemaTooNewError(from);
  for (let version = from; version < upTo; version += 1) {
    const step = migrations[version] as Migration;
    db.transaction(() => {
      db.exec(step.sql);
      // PRAGMA takes no bound parameters; `version` is our own integer, never input.
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return { from, to: Math.max(from, upTo) };
}

/** The store's schema version (0 for a new, empty file). */
export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
