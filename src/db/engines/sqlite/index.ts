/**
 * SQLite through better-sqlite3 (version 12: 13 crashes on Node 20), the embedded default.
 * - Foreign keys ON, WAL, a busy timeout on every connection; one connection (one writer anyway).
 * - DECIMAL has NUMERIC affinity (a double): money is rounded back to the cent in SQL.
 * - `bt_fold()` is registered on every connection for accent- and case-insensitive matching.
 * - Revoked tokens are found by the UNIQUE index on `token` itself: no generated token_hash here,
 *   since the platform app's connections have no SHA-256 function.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Knex } from 'knex';
import { AppError, Unavailable } from '../../../domain/errors.js';
import type { DbTarget, SqliteTarget } from '../../config.js';
import { foldText } from '../../text.js';
import { asDriver, driverText } from '../driver-error.js';
import type { DriverErrorClass, Engine } from '../types.js';

interface SqliteRawConnection {
  pragma(sql: string): unknown;
  function(name: string, opts: { deterministic: boolean }, fn: (v: unknown) => unknown): void;
}

function asSqlite(target: DbTarget): SqliteTarget {
  if (target.kind !== 'sqlite') throw new Error(`not a SQLite target: ${target.display}`);
  return target;
}

async function rawRows<T>(knex: Knex | Knex.Transaction, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  return (await knex.raw(sql, bindings as Knex.RawBinding[])) as T[];
}

export const sqliteEngine: Engine = {
  kind: 'sqlite',
  label: 'SQLite',
  clients: ['better-sqlite3', 'sqlite3'],
  server: false,
  transactionalDdl: true,

  knexConfig(target, _options, log) {
    return {
      log,
      client: 'better-sqlite3',
      connection: { filename: asSqlite(target).filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: SqliteRawConnection, done: (err: Error | null, conn: unknown) => void) => {
          try {
            conn.pragma('foreign_keys = ON');
            conn.pragma('journal_mode = WAL');
            conn.pragma('busy_timeout = 10000');
            conn.pragma('synchronous = NORMAL');
            conn.function('bt_fold', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? foldText(v) : v));
            // Only billettigue's own connections have it (the platform app's do not): used by
            // migration 800's down to compute token_hash again, never by a default or a trigger.
            conn.function('bt_sha256', { deterministic: true }, (v: unknown) =>
              typeof v === 'string' ? createHash('sha256').update(v, 'utf8').digest('hex') : null,
            );
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    };
  },

  translateConnectError(err, target) {
    if (err instanceof AppError) return err;
    return new Unavailable(`cannot open ${target.display}: ${driverText(err)}`, { cause: err });
  },

  classifyError(err): DriverErrorClass | null {
    const e = asDriver(err);
    switch (e.code) {
      // SQLITE_BUSY_SNAPSHOT: a WAL transaction that read before another process committed cannot
      // upgrade to a writer (the busy timeout does not apply); only a retry from the start succeeds.
      case 'SQLITE_BUSY':
      case 'SQLITE_BUSY_SNAPSHOT':
        return 'deadlock';
      case 'SQLITE_CONSTRAINT_UNIQUE':
      case 'SQLITE_CONSTRAINT_PRIMARYKEY':
        return 'duplicate';
      case 'SQLITE_CONSTRAINT_FOREIGNKEY':
        return 'foreign_key';
      case 'SQLITE_CONSTRAINT_CHECK':
        return 'check';
      case 'SQLITE_CONSTRAINT_NOTNULL':
        return 'not_null';
      case 'SQLITE_ERROR':
        return /no such table/i.test(e.message ?? '') ? 'missing_table' : null;
    }
    return null;
  },

  sumCentsSql: (knex, column) => knex.raw('COALESCE(SUM(CAST(ROUND(?? * 100) AS INTEGER)), 0)', [column]),
  centsSql: (expr) => `CAST(ROUND((${expr}) * 100) AS INTEGER)`,
  // `/` is already integral on integers.
  intDivSql: (numerator, denominator) => `((${numerator}) / (${denominator}))`,
  whereFolded: (qb, column, value) => qb.whereRaw('bt_fold(??) = ?', [column, foldText(value)]) as typeof qb,
  whereToken: (qb, prefix, token) => qb.where(`${prefix}token`, token) as typeof qb,
  whereLike: (qb, column, pattern, or) => qb[or ? 'orWhereRaw' : 'whereRaw']("?? like ? escape '!'", [column, pattern]) as typeof qb,
  orderByNullsLow: (qb, column, direction) => qb.orderBy(column, direction) as typeof qb,
  insertId: async (qb) => ((await qb) as number[])[0]!,
  foldedKey: (_knex, column) => column,
  createSchemaFunctions: async () => undefined,
  dropSchemaFunctions: async () => undefined,
  quoteIdent: (name) => `"${name.replace(/"/g, '""')}"`,
  // One writer at a time: the write transaction already excludes every other writer.
  forUpdate: (qb) => qb,
  parallelReads: 1,

  async serverVersion(knex) {
    const rows = await rawRows<{ v: string }>(knex, 'select sqlite_version() as v');
    return `SQLite ${rows[0]!.v}`;
  },

  async listTables(knex) {
    const rows = await rawRows<{ name: string }>(knex, "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name");
    return rows.map((r) => r.name);
  },

  async listColumns(knex, table) {
    const rows = await rawRows<{ name: string }>(knex, 'select name from pragma_table_info(?)', [table]);
    return rows.map((r) => r.name);
  },

  rawRows,

  async doctorChecks(knex) {
    const fk = await rawRows<{ foreign_keys: number }>(knex, 'pragma foreign_keys');
    const jm = await rawRows<{ journal_mode: string }>(knex, 'pragma journal_mode');
    const foreignKeys = fk[0]?.foreign_keys ? 'on' : 'off';
    return [
      { name: 'time zone', ok: true, detail: 'UTC (stored as text by the application)' },
      { name: 'foreign keys', ok: foreignKeys === 'on', detail: foreignKeys },
      { name: 'journal mode', ok: true, detail: jm[0]?.journal_mode ?? 'unknown', info: true },
    ];
  },

  async dropAllTables(knex) {
    const tables = await this.listTables(knex);
    if (tables.length === 0) return;
    await knex.raw('PRAGMA foreign_keys = OFF');
    try {
      for (const t of tables) await knex.raw('DROP TABLE IF EXISTS ??', [t]);
    } finally {
      await knex.raw('PRAGMA foreign_keys = ON');
    }
  },

  async createDatabase(t) {
    const target = asSqlite(t);
    const existed = existsSync(target.filename);
    const { connect } = await import('../../connection.js');
    await (await connect(target)).destroy();
    return !existed;
  },

  tableOptions() {
    /* SQLite has no table options */
  },

  introspect: async (knex, tables) => (await import('./introspect.js')).introspect(knex, tables),
  adoption: async () => (await import('./adopt.js')).sqliteAdopt,
};
