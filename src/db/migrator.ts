/**
 * Knex migrations from the compiled `migrations/` folder that ships with the package, found
 * relative to this module (not to the working directory), so an installed `billettigue` migrates
 * from anywhere. Migration names are stored without extension: the same database can be migrated
 * from the TypeScript sources (tests, tsx) and from the compiled JavaScript.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { shippedDir } from '../paths.js';
import { Conflict, Unavailable } from '../domain/errors.js';
import { isMissingTable } from './errors.js';

// dist/migrations/*.js when compiled, migrations/*.ts from the sources (tests, tsx).
const { dir: MIGRATIONS_DIR, ext } = shippedDir('migrations');
export { MIGRATIONS_DIR };

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Names of the migrations this build knows, in order. Cheap: no module is loaded. */
export function knownMigrations(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && /^\d{14}_/.test(f))
    .map((f) => f.slice(0, -ext.length))
    .sort();
}

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => knownMigrations(),
  getMigrationName: (name) => name,
  getMigration: async (name) =>
    (await import(pathToFileURL(path.join(MIGRATIONS_DIR, name + ext)).href)) as MigrationModule,
};

export const migratorConfig: Knex.MigratorConfig = { migrationSource: source };

export interface MigrationState {
  name: string;
  applied: boolean;
  batch: number | null;
  appliedAt: string | null;
}

export interface MigrationStatus {
  migrations: MigrationState[];
  /** Applied migrations this build does not know (the database is newer than this build). */
  unknown: string[];
  pending: number;
  locked: boolean;
}

interface KnexMigrationRow {
  name: string;
  batch: number;
  migration_time: string | number | Date;
}

async function appliedRows(knex: Knex): Promise<KnexMigrationRow[] | null> {
  try {
    return (await knex('knex_migrations').select('name', 'batch', 'migration_time').orderBy('id')) as KnexMigrationRow[];
  } catch (err) {
    if (isMissingTable(err)) return null;
    throw err;
  }
}

async function isLocked(knex: Knex): Promise<boolean> {
  try {
    const row = (await knex('knex_migrations_lock').first('is_locked')) as { is_locked: number } | undefined;
    return Boolean(row?.is_locked);
  } catch (err) {
    if (isMissingTable(err)) return false;
    throw err;
  }
}

export async function migrationStatus(knex: Knex): Promise<MigrationStatus> {
  const rows = (await appliedRows(knex)) ?? [];
  const byName = new Map(rows.map((r) => [r.name.replace(/\.(ts|js)$/, ''), r]));
  const known = knownMigrations();
  const migrations = known.map((name) => {
    const r = byName.get(name);
    return {
      name,
      applied: Boolean(r),
      batch: r?.batch ?? null,
      appliedAt: r ? toIso(r.migration_time) : null,
    };
  });
  const knownSet = new Set(known);
  return {
    migrations,
    unknown: [...byName.keys()].filter((n) => !knownSet.has(n)),
    pending: migrations.filter((m) => !m.applied).length,
    locked: await isLocked(knex),
  };
}

function toIso(v: string | number | Date): string {
  // knex writes migration_time as a Date: SQLite keeps its epoch milliseconds, MySQL a DATETIME.
  if (v instanceof Date || typeof v === 'number') return new Date(v).toISOString();
  return new Date(/[zZ]$/.test(v) ? v : `${v.replace(' ', 'T')}Z`).toISOString();
}

const LOCK_HINT =
  'the migration lock is held: another migration may be running; if none is (a killed process leaves it behind), clear it with `billettigue db unlock --yes`';

function translateMigrationError(err: unknown): unknown {
  if (err instanceof Error && /already locked/i.test(err.message)) {
    return new Conflict(LOCK_HINT, { code: 'migration_locked' });
  }
  return err;
}

export async function refuseIfLocked(knex: Knex): Promise<void> {
  if (await isLocked(knex)) throw new Conflict(LOCK_HINT, { code: 'migration_locked' });
}

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  await refuseIfLocked(knex);
  try {
    const [, names] = (await knex.migrate.latest(migratorConfig)) as [number, string[]];
    return names;
  } catch (err) {
    throw translateMigrationError(err);
  }
}

class DryRunDone extends Error {}

/**
 * `db migrate --dry-run` where DDL is transactional (PostgreSQL, SQLite): every pending migration
 * really runs, in one transaction that is then rolled back, so a migration that would fail fails
 * here, and nothing stays. Returns the names that would be applied.
 */
export async function dryRunLatest(knex: Knex): Promise<string[]> {
  await refuseIfLocked(knex);
  const pending = (await migrationStatus(knex)).migrations.filter((m) => !m.applied).map((m) => m.name);
  if (pending.length === 0) return [];
  try {
    await knex.transaction(async (trx) => {
      for (const name of pending) await ((await source.getMigration(name)) as MigrationModule).up(trx as unknown as Knex);
      throw new DryRunDone();
    });
  } catch (err) {
    if (!(err instanceof DryRunDone)) throw err;
  }
  return pending;
}

/** Rolls back: the last batch (default), `step` migrations, or all. Returns the names reverted. */
export async function rollback(knex: Knex, opts: { step?: number; all?: boolean } = {}): Promise<string[]> {
  await refuseIfLocked(knex);
  try {
    if (opts.step !== undefined) {
      const done: string[] = [];
      for (let i = 0; i < opts.step; i++) {
        const [, names] = (await knex.migrate.down(migratorConfig)) as [number, string[]];
        if (names.length === 0) break;
        done.push(...names);
      }
      return done;
    }
    const [, names] = (await knex.migrate.rollback(migratorConfig, opts.all ?? false)) as [number, string[]];
    return names;
  } catch (err) {
    throw translateMigrationError(err);
  }
}

export async function forceUnlock(knex: Knex): Promise<void> {
  await knex.migrate.forceFreeMigrationsLock(migratorConfig);
}

/**
 * Commands that read or write the platform's tables call this first: a database that is not
 * migrated (or is newer than this build) gets a clear error instead of "no such table".
 */
export async function requireCurrentSchema(knex: Knex): Promise<void> {
  const rows = await appliedRows(knex);
  const applied = new Set((rows ?? []).map((r) => r.name.replace(/\.(ts|js)$/, '')));
  const known = knownMigrations();
  const pending = known.filter((n) => !applied.has(n));
  if (pending.length > 0) {
    throw new Unavailable(
      rows === null || applied.size === 0
        ? 'the database has no schema yet: run `billettigue db migrate` first'
        : `the database schema is behind this build (${pending.length} pending migration${pending.length > 1 ? 's' : ''}): run \`billettigue db migrate\``,
      { code: 'migrations_pending' },
    );
  }
  const knownSet = new Set(known);
  const unknown = [...applied].filter((n) => !knownSet.has(n));
  if (unknown.length > 0) {
    throw new Unavailable(
      `the database has migrations this build does not know (${unknown.join(', ')}): upgrade billettigue`,
      { code: 'migrations_unknown' },
    );
  }
}
