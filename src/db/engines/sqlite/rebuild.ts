/**
 * SQLite cannot add, drop or change a CHECK constraint (nor restore a NOT NULL column) in place:
 * the table is rebuilt. This is SQLite's documented procedure, done so that the table keeps its
 * exact CREATE TABLE text (undo compares sqlite_master) and everything pointing at it keeps working:
 *   1. the old table is renamed aside with legacy_alter_table ON;
 *   2. the new table is created under the real name from the new CREATE TABLE text;
 *   3. rows are copied (ids included, so rowids and references are unchanged), the old table
 *      dropped, its indexes created again from their own saved SQL;
 *   4. PRAGMA foreign_key_check proves nothing dangles.
 * It runs in the caller's transaction (a migration's, or adoption's): all or nothing.
 *
 * A table other tables reference needs PRAGMA foreign_keys OFF, which SQLite only accepts outside
 * a transaction (`withoutForeignKeys`): with foreign keys ON, renaming it rewrites the children's
 * REFERENCES to the old name, and dropping the old copy deletes its rows first, firing the
 * children's ON DELETE CASCADE. The rebuild refuses to run in that case rather than lose rows.
 */
import type { Knex } from 'knex';
import { IntegrityError } from '../../../domain/errors.js';

type Db = Knex | Knex.Transaction;

async function all<T>(db: Db, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  return (await db.raw(sql, bindings as Knex.RawBinding[])) as T[];
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The CREATE TABLE text SQLite keeps for `table` (throws when there is no such table). */
export async function sqliteTableSql(db: Db, table: string): Promise<string> {
  const [row] = await all<{ sql: string }>(db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]);
  if (!row) throw new Error(`no table ${table}`);
  return row.sql;
}

export interface RebuildOptions {
  /** Columns of the new table to fill, and the SELECT expressions over the old table (default: every column, as is). */
  copy?: { columns: string[]; select: string[] };
  /** Indexes of the old table not to create again (dropped by the change). */
  dropIndexes?: string[];
}

/**
 * The statements of a rebuild of `table` from `createSql` (a CREATE TABLE naming `table`), in
 * order: rename aside, create, copy, drop, the old indexes again.
 */
export async function sqliteRebuildStatements(db: Db, table: string, createSql: string, options: RebuildOptions = {}): Promise<string[]> {
  const indexes = await all<{ name: string; sql: string }>(
    db,
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY rowid",
    [table],
  );
  const old = `${table}__bt_rebuild`;
  const columns = (await all<{ name: string }>(db, 'SELECT name FROM pragma_table_info(?)', [table])).map((c) => c.name);
  const copy = options.copy ?? { columns, select: columns.map(ident) };
  const skip = new Set(options.dropIndexes ?? []);
  return [
    'PRAGMA defer_foreign_keys = ON',
    'PRAGMA legacy_alter_table = ON',
    `ALTER TABLE ${ident(table)} RENAME TO ${ident(old)}`,
    createSql,
    `INSERT INTO ${ident(table)} (${copy.columns.map(ident).join(', ')}) SELECT ${copy.select.join(', ')} FROM ${ident(old)}`,
    `DROP TABLE ${ident(old)}`,
    'PRAGMA legacy_alter_table = OFF',
    ...indexes.filter((i) => !skip.has(i.name)).map((i) => i.sql),
  ];
}

/** Tables whose foreign keys reference `table`. */
async function referencing(db: Db, table: string): Promise<string[]> {
  const rows = await all<{ name: string }>(
    db,
    "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f.\"table\" = ? AND m.name <> ?",
    [table, table],
  );
  return rows.map((r) => r.name);
}

/**
 * Runs `fn` (which opens its own transaction) with foreign keys off on this connection, and checks
 * every foreign key afterwards. `knex` must not be in a transaction (SQLite ignores the pragma there).
 */
export async function withoutForeignKeys<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  await knex.raw('PRAGMA foreign_keys = OFF');
  try {
    return await fn();
  } finally {
    await knex.raw('PRAGMA foreign_keys = ON');
  }
}

/** Rebuilds `table` from `createSql` (a CREATE TABLE naming `table`), keeping rows, ids and indexes. */
export async function rebuildSqliteTable(db: Db, table: string, createSql: string, options: RebuildOptions = {}): Promise<void> {
  const children = await referencing(db, table);
  const [fk] = await all<{ foreign_keys: number }>(db, 'PRAGMA foreign_keys');
  if (children.length > 0 && fk?.foreign_keys) {
    throw new Error(`rebuilding ${table} needs foreign keys off (${children.join(', ')} reference it): run it inside withoutForeignKeys()`);
  }
  const statements = await sqliteRebuildStatements(db, table, createSql, options);
  try {
    for (const s of statements) await db.raw(s);
  } finally {
    await db.raw('PRAGMA legacy_alter_table = OFF');
  }
  const dangling = [
    ...(await all<Record<string, unknown>>(db, 'SELECT * FROM pragma_foreign_key_check(?)', [table])),
    ...(children.length ? await all<Record<string, unknown>>(db, 'PRAGMA foreign_key_check') : []),
  ];
  if (dangling.length > 0) {
    throw new IntegrityError(`rebuilding ${table} would leave ${dangling.length} row(s) with a dangling foreign key: nothing was changed`, {
      code: 'rebuild_foreign_key',
    });
  }
}
