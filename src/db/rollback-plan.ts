/**
 * What a rollback would lose, before it runs: the migrations it reverts and the tables their
 * `down` drops, with the rows each holds now. Which migration creates which table is learnt by
 * running the migrations one by one on a scratch in-memory SQLite database (table names are the
 * same on every engine), so no migration has to declare it and none can be forgotten.
 */
import type { Knex } from 'knex';
import type { DbTarget } from './config.js';

export interface RollbackOptions {
  step?: number;
  all?: boolean;
}

export interface TableLoss {
  name: string;
  rows: number;
}

export interface RollbackPlan {
  /** Migrations reverted, in the order they are reverted (newest first). */
  migrations: string[];
  /** Tables the reverted migrations drop that exist now, with their rows. */
  tables: TableLoss[];
  rows: number;
}

let cache: Promise<string[][]> | undefined;

/** Tables that exist after each known migration (index i: after the first i+1 migrations). */
function tablesAfterEachMigration(): Promise<string[][]> {
  cache ??= (async () => {
    const { createKnex } = await import('./connection.js');
    const { knownMigrations, migratorConfig } = await import('./migrator.js');
    const { listTables } = await import('./dialect.js');
    const target: DbTarget = { kind: 'sqlite', filename: ':memory:', source: 'default', display: 'sqlite::memory:' };
    const knex = await createKnex(target);
    try {
      const out: string[][] = [];
      for (let i = 0; i < knownMigrations().length; i++) {
        await knex.migrate.up(migratorConfig);
        out.push((await listTables(knex)).filter((t) => !t.startsWith('knex_')));
      }
      return out;
    } finally {
      await knex.destroy();
    }
  })();
  return cache;
}

/** Row counts of the given live tables (tables that do not exist are left out). */
export async function countRows(knex: Knex, tables: readonly string[]): Promise<TableLoss[]> {
  const { listTables } = await import('./dialect.js');
  const live = new Set(await listTables(knex));
  const out: TableLoss[] = [];
  for (const name of tables) {
    if (!live.has(name)) continue;
    const row = (await knex(name).count({ n: '*' }).first()) as { n: number | string } | undefined;
    out.push({ name, rows: Number(row?.n ?? 0) });
  }
  return out;
}

export async function planRollback(knex: Knex, opts: RollbackOptions): Promise<RollbackPlan> {
  const { migrationStatus, knownMigrations, revertedMigrations } = await import('./migrator.js');
  const status = await migrationStatus(knex);
  const applied = status.migrations.filter((m) => m.applied);
  const reverted = revertedMigrations(status, opts);
  const revertedNames = new Set(reverted);
  const known = knownMigrations();
  const index = (names: string[]) => Math.max(-1, ...names.map((n) => known.indexOf(n)));
  const after = await tablesAfterEachMigration();
  const at = (i: number) => new Set(i < 0 ? [] : (after[i] ?? []));
  const before = at(index(applied.map((m) => m.name)));
  const kept = at(index(applied.map((m) => m.name).filter((n) => !revertedNames.has(n))));
  const dropped = [...before].filter((t) => !kept.has(t));
  const tables = await countRows(knex, dropped);
  return {
    migrations: reverted,
    tables,
    rows: tables.reduce((n, t) => n + t.rows, 0),
  };
}
