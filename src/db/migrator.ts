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
import { listTables } from './dialect.js';
import { isMissingTable } from './errors.js';
import { ADOPTION_TABLE, SEED_TABLES } from './schema.js';

// dist/migrations/*.js when compiled, migrations/*.ts from the sources (tests, tsx).
const { dir: MIGRATIONS_DIR, ext } = shippedDir('migrations');
export { MIGRATIONS_DIR };

export interface MigrationModule {
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

/** The module of one shipped migration, by name (without extension). */
export async function loadMigration(name: string): Promise<MigrationModule> {
  return (await import(pathToFileURL(path.join(MIGRATIONS_DIR, name + ext)).href)) as MigrationModule;
}

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => knownMigrations(),
  getMigrationName: (name) => name,
  getMigration: loadMigration,
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

/**
 * Who built this database:
 * - `empty`: none of the seed's tables (a fresh database: `db migrate` builds it);
 * - `billettigue`: billettigue's migrations built it (knex_migrations has rows);
 * - `adopted`: the platform app built it and `db adopt` took it over (the adoption table exists);
 * - `platform`: the seed's tables are here but billettigue's migrations are not: the platform
 *   app built it, and billettigue must adopt it before using it.
 */
export type SchemaOwner = 'empty' | 'billettigue' | 'adopted' | 'platform';

export async function schemaOwner(knex: Knex | Knex.Transaction): Promise<SchemaOwner> {
  const tables = new Set(await listTables(knex));
  if (tables.has(ADOPTION_TABLE)) return 'adopted';
  if (tables.has('knex_migrations') && (await knex('knex_migrations').first('id'))) return 'billettigue';
  return SEED_TABLES.some((t) => tables.has(t)) ? 'platform' : 'empty';
}

export const ADOPT_HINT =
  "this database was built by the platform app (the seed's tables are here, billettigue's migrations are not): take it over with `billettigue db adopt` (see `billettigue db adopt --dry-run` first, and docs/platform.md)";

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  // Checked before knex creates its own tables: on the platform's database nothing is created.
  if ((await schemaOwner(knex)) === 'platform') throw new Conflict(`db migrate would create tables that already exist: ${ADOPT_HINT}`, { code: 'not_adopted' });
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

/** The migrations a rollback would revert, newest first. */
export function revertedMigrations(status: MigrationStatus, opts: { step?: number; all?: boolean } = {}): string[] {
  const applied = status.migrations.filter((m) => m.applied);
  const lastBatch = Math.max(0, ...applied.map((m) => m.batch ?? 0));
  const chosen = opts.all ? applied : opts.step !== undefined ? applied.slice(-opts.step) : applied.filter((m) => m.batch === lastBatch);
  return chosen.map((m) => m.name).reverse();
}

/**
 * On an adopted database the baseline migrations never ran here: reverting one would drop the
 * app's own tables. Refused (exit 4), naming what removes adoption's changes instead.
 */
export async function refuseBelowBaseline(knex: Knex, names: string[]): Promise<void> {
  if ((await schemaOwner(knex)) !== 'adopted') return;
  const { adoptionRecord } = await import('./adopt/run.js');
  const baseline = new Set((await adoptionRecord(knex))?.baseline.migrations ?? []);
  const below = names.filter((n) => baseline.has(n));
  if (below.length) {
    throw new Conflict(
      `this database was adopted: ${below.length} of these migrations (${below.join(', ')}) are its baseline and never built its tables; rolling them back would drop the platform app's tables. Use \`billettigue db adopt --undo\` to remove what adoption added`,
      { code: 'below_adoption_baseline' },
    );
  }
}

/** Rolls back: the last batch (default), `step` migrations, or all. Returns the names reverted. */
export async function rollback(knex: Knex, opts: { step?: number; all?: boolean } = {}): Promise<string[]> {
  await refuseBelowBaseline(knex, revertedMigrations(await migrationStatus(knex), opts));
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
  const owner = await schemaOwner(knex);
  if (owner === 'platform') throw new Unavailable(ADOPT_HINT, { code: 'not_adopted' });
  if (owner === 'adopted') {
    const { adoptionRecord } = await import('./adopt/run.js');
    if (!(await adoptionRecord(knex))?.complete) {
      throw new Unavailable('an adoption of this database was interrupted: run `billettigue db adopt --undo` to remove what it did, then `billettigue db adopt` again', { code: 'adoption_incomplete' });
    }
  }
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
