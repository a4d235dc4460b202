/**
 * SQLite logical backup, inside one read transaction (in WAL mode a reader sees one snapshot while
 * writers go on). The file is SQL text that the `sqlite3` shell also loads
 * (`gunzip < f | sqlite3 new.sqlite3`), in the shape of `sqlite3 .dump`:
 *   header   PRAGMA foreign_keys=OFF; BEGIN TRANSACTION; every CREATE TABLE from sqlite_master
 *   data     per table, multi-row INSERTs in primary-key order, ONE STATEMENT PER LINE (newlines
 *            inside text are spliced in with char(10), like .dump), in their own gzip members
 *   footer   sqlite_sequence (AUTOINCREMENT counters), indexes, triggers, views, COMMIT, and the
 *            trailer comment with every table's rows/SHA-256
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteTarget } from '../../../db/config.js';
import { isLeftoverName } from '../../../db/leftovers.js';
import { canonicalTuple, sqliteLiteral, sqliteValueClass, type ColumnInfo } from '../../canonical.js';
import { ChunkBuilder, type GzipWriter } from '../../gzip-pool.js';
import { pauseAt } from '../../pause.js';
import { selectTables, trailerLine, type DumpedTable, type DumpHooks, type DumpResultBase } from '../../dump-types.js';

export const SQLITE_STATEMENT_ROWS = 100;
const MEMBER_BYTES = 2 << 20;

export interface SqliteTableSpec {
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  createSql: string;
  estimatedRows: number;
}

export function sqliteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export async function openSqlite(filename: string, options: { readonly?: boolean; mustExist?: boolean } = {}): Promise<BetterSqlite3.Database> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(filename, { readonly: options.readonly ?? false, fileMustExist: options.mustExist ?? true });
  db.pragma('busy_timeout = 10000');
  return db;
}

export function describeSqliteTables(db: BetterSqlite3.Database, only?: string[]): SqliteTableSpec[] {
  const tables = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
    .all() as Array<{ name: string; sql: string }>;
  const list = selectTables(tables.filter((t) => !isLeftoverName(t.name)), only);
  return list.map((t) => {
    const info = db.prepare(`PRAGMA table_info(${sqliteIdent(t.name)})`).all() as Array<{ name: string; type: string; notnull: number; pk: number }>;
    const columns = info.map((c) => {
      const { cls, scale } = sqliteValueClass(c.type ?? '');
      return { name: c.name, type: (c.type ?? '').toLowerCase(), nullable: !c.notnull, cls, scale };
    });
    const primaryKey = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    return { name: t.name, columns, primaryKey, createSql: t.sql, estimatedRows: 0 };
  });
}

/** Rows of a table in primary-key order (rowid when there is no primary key), as arrays. */
export function iterateSqliteRows(db: BetterSqlite3.Database, spec: { name: string; columns: ColumnInfo[]; primaryKey: string[] }): IterableIterator<unknown[]> {
  const order = spec.primaryKey.length ? spec.primaryKey.map(sqliteIdent).join(', ') : 'rowid';
  const cols = spec.columns.map((c) => sqliteIdent(c.name)).join(', ');
  return db.prepare(`SELECT ${cols} FROM ${sqliteIdent(spec.name)} ORDER BY ${order}`).raw(true).iterate() as IterableIterator<unknown[]>;
}

/** SHA-256 and row count of a table's canonical stream (restore and deep verify use it). */
export async function hashSqliteTable(db: BetterSqlite3.Database, spec: { name: string; columns: ColumnInfo[]; primaryKey: string[] }): Promise<{ rows: number; sha256: string }> {
  const h = createHash('sha256');
  let n = 0;
  let batch = '';
  for (const row of iterateSqliteRows(db, spec)) {
    batch += canonicalTuple(row, spec.columns) + ',';
    n++;
    if (batch.length > 1 << 18) {
      h.update(batch);
      batch = '';
      if ((n & 0xffff) < 2000) await new Promise((r) => setImmediate(r));
    }
  }
  h.update(batch);
  return { rows: n, sha256: h.digest('hex') };
}

export function sqliteSequences(db: BetterSqlite3.Database): Map<string, number> {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").get();
  if (!has) return new Map();
  const rows = db.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>;
  return new Map(rows.map((r) => [r.name, Number(r.seq)]));
}

export function sqliteMigrations(db: BetterSqlite3.Database): string[] {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'knex_migrations'").get();
  if (!has) return [];
  return (db.prepare('SELECT name FROM knex_migrations ORDER BY id').all() as Array<{ name: string }>).map((r) => r.name.replace(/\.(ts|js)$/, ''));
}

export async function dumpSqlite(target: SqliteTarget, writer: GzipWriter, hooks: DumpHooks): Promise<DumpResultBase> {
  const db = await openSqlite(target.filename, { readonly: true });
  hooks.onConnection?.({ destroy: () => db.close() });
  try {
    db.exec('BEGIN');
    // The snapshot starts at the first read, not at BEGIN: read now.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    await pauseAt('backup:snapshot');
    const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    const specs = describeSqliteTables(db, hooks.tables);
    const names = new Set(specs.map((s) => s.name));
    const migrations = sqliteMigrations(db);
    const sequences = sqliteSequences(db);
    for (const s of specs) s.estimatedRows = (db.prepare(`SELECT count(*) AS n FROM ${sqliteIdent(s.name)}`).get() as { n: number }).n;
    const others = (
      db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL ORDER BY CASE type WHEN 'index' THEN 0 WHEN 'trigger' THEN 1 ELSE 2 END, name").all() as Array<{
        type: string;
        name: string;
        tbl_name: string;
        sql: string;
      }>
    ).filter((o) => (hooks.tables ? o.type !== 'view' && names.has(o.tbl_name) : !isLeftoverName(o.tbl_name)));

    const header = new ChunkBuilder(1 << 16);
    header.text(
      [
        `-- billettigue backup (format 1) of ${target.display}`,
        `-- SQLite ${version}; taken ${new Date().toISOString()}`,
        '-- load it with `billettigue restore FILE` (verified, atomic), or: gunzip < FILE | sqlite3 new.sqlite3',
        'PRAGMA foreign_keys=OFF;',
        'BEGIN TRANSACTION;',
        '',
      ].join('\n'),
    );
    for (const s of specs) header.text(`${s.createSql};\n`);
    writer.push(header.take(), 'header');

    const total = specs.reduce((n, s) => n + s.estimatedRows, 0);
    let done = 0;
    const tables: DumpedTable[] = [];
    for (const spec of specs) {
      const tag = `data:${spec.name}`;
      const hash = createHash('sha256');
      const prefix = `INSERT INTO ${sqliteIdent(spec.name)} VALUES`;
      const chunk = new ChunkBuilder(MEMBER_BYTES + (1 << 20));
      let text = '';
      let canon = '';
      let inStmt = 0;
      let rowsInTable = 0;
      const flushText = () => {
        if (inStmt > 0) text += ';\n';
        inStmt = 0;
        chunk.text(text);
        text = '';
        hash.update(canon);
        canon = '';
      };
      for (const row of iterateSqliteRows(db, spec)) {
        let tuple = '(';
        for (let i = 0; i < row.length; i++) tuple += (i ? ',' : '') + sqliteLiteral(row[i]);
        tuple += ')';
        text += inStmt === 0 ? `${prefix}${tuple}` : `,${tuple}`;
        canon += canonicalTuple(row, spec.columns) + ',';
        rowsInTable++;
        if (++inStmt >= SQLITE_STATEMENT_ROWS) {
          flushText();
          if (chunk.len >= MEMBER_BYTES) {
            writer.pushFrom(chunk, tag);
            hooks.onProgress?.(done + rowsInTable, total);
            await writer.drained();
            await new Promise((r) => setImmediate(r));
          }
        }
      }
      flushText();
      if (chunk.len > 0) writer.pushFrom(chunk, tag);
      done += rowsInTable;
      tables.push({
        name: spec.name,
        rows: rowsInTable,
        sha256: hash.digest('hex'),
        columns: spec.columns.map((c) => c.name),
        primary_key: spec.primaryKey,
        auto_increment: sequences.has(spec.name) ? sequences.get(spec.name)! : null,
        load: 'statements',
      });
      hooks.onProgress?.(done, total);
      await writer.drained();
      if (tables.length === 1) await pauseAt('backup:data');
    }
    db.exec('COMMIT');

    const footer = new ChunkBuilder(1 << 14);
    const seq = [...sequences].filter(([name]) => names.has(name));
    if (seq.length) {
      footer.text(`DELETE FROM sqlite_sequence${hooks.tables ? ` WHERE name IN (${seq.map(([n]) => sqliteLiteral(n)).join(',')})` : ''};\n`);
      for (const [name, n] of seq) footer.text(`INSERT INTO sqlite_sequence(name, seq) VALUES(${sqliteLiteral(name)},${n});\n`);
    }
    for (const o of others) footer.text(`${o.sql};\n`);
    footer.text(`COMMIT;\n${trailerLine(tables)}\n-- end of billettigue backup\n`);
    writer.push(footer.take(), 'footer');
    return {
      kind: 'sqlite',
      serverVersion: `SQLite ${version}`,
      database: { name: path.basename(target.filename), host: null, display: target.display },
      migrations,
      tables,
      snapshot: 'one read transaction (WAL snapshot), one connection',
    };
  } finally {
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } catch {
      /* closing anyway */
    }
    db.close();
  }
}
