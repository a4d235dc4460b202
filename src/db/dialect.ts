/**
 * Every difference between MySQL/MariaDB and SQLite that the rest of the code needs, in one place.
 */
import type { Knex } from 'knex';
import type { DbKind } from './config.js';
import { foldText } from './text.js';

export function dialectOf(knex: Knex | Knex.Transaction): DbKind {
  const client = (knex.client as { config: { client: string } }).config.client;
  return client === 'mysql2' || client === 'mysql' ? 'mysql' : 'sqlite';
}

export function isMysql(knex: Knex | Knex.Transaction): boolean {
  return dialectOf(knex) === 'mysql';
}

/**
 * SQL expression summing a DECIMAL column in integer cents, exactly on both dialects
 * (SQLite stores DECIMAL as REAL: summing the doubles would drift).
 */
export function sumCentsSql(knex: Knex | Knex.Transaction, column: string): Knex.Raw {
  return isMysql(knex)
    ? knex.raw('COALESCE(SUM(??), 0) * 100', [column])
    : knex.raw('COALESCE(SUM(CAST(ROUND(?? * 100) AS INTEGER)), 0)', [column]);
}

/**
 * SQL expression giving a DECIMAL(…,2) column in integer cents, per row, exactly: MySQL multiplies
 * the exact DECIMAL (an integral value) and casts it to an integer (cheaper than ROUND, and integer
 * arithmetic after it); SQLite holds a double, rounded back to the cent.
 * Also gives weights (DECIMAL(8,2) kg) in hundredths of a kg.
 */
export function centsSql(knex: Knex | Knex.Transaction, expr: string): string {
  return isMysql(knex) ? `CAST((${expr}) * 100 AS SIGNED)` : `CAST(ROUND((${expr}) * 100) AS INTEGER)`;
}

/**
 * Integer division of two non-negative integer SQL expressions (truncating = floor here):
 * MySQL `DIV`; SQLite's `/` is already integral on integers.
 */
export function intDivSql(knex: Knex | Knex.Transaction, numerator: string, denominator: string): string {
  return isMysql(knex) ? `((${numerator}) DIV (${denominator}))` : `((${numerator}) / (${denominator}))`;
}

/**
 * WHERE clause matching a text column ignoring case and accents ("Orleans" finds "Orléans").
 * MySQL: the utf8mb4_unicode_ci collation of our tables already folds both, and keeps indexes usable.
 * SQLite: `bt_fold()` registered on every connection (src/db/connection.ts).
 */
export function whereFolded<T extends Knex.QueryBuilder>(qb: T, column: string, value: string): T {
  const knex = qb.client as unknown as { config: { client: string } };
  const mysql = knex.config.client === 'mysql2' || knex.config.client === 'mysql';
  if (mysql) return qb.where(column, value.trim()) as T;
  return qb.whereRaw('bt_fold(??) = ?', [column, foldText(value)]) as T;
}

/**
 * WHERE clause finding a revoked token (`prefix` is the table alias, e.g. "t."). MySQL: the UNIQUE
 * index on the generated token_hash (a TEXT column cannot carry one). SQLite: the UNIQUE index on
 * token itself (no generated column there: the platform app's connections lack SHA-256).
 */
export function whereToken<T extends Knex.QueryBuilder>(qb: T, prefix: string, token: string, hash: string): T {
  const knex = qb.client as unknown as { config: { client: string } };
  const mysql = knex.config.client === 'mysql2' || knex.config.client === 'mysql';
  return (mysql ? qb.where(`${prefix}token_hash`, hash) : qb.where(`${prefix}token`, token)) as T;
}

/** Current UTC time as the database's DATETIME string; use for created_at/updated_at. */
export function nowSql(): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ');
}

export async function serverVersion(knex: Knex): Promise<string> {
  if (isMysql(knex)) {
    const [rows] = (await knex.raw('select version() as v')) as [Array<{ v: string }>];
    return rows[0]!.v;
  }
  const rows = (await knex.raw('select sqlite_version() as v')) as Array<{ v: string }>;
  return `SQLite ${rows[0]!.v}`;
}

/** Base tables of the current database (views excluded). */
export async function listTables(knex: Knex | Knex.Transaction): Promise<string[]> {
  if (isMysql(knex)) {
    const [rows] = (await knex.raw(
      "select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE' order by table_name",
    )) as [Array<{ name: string }>];
    return rows.map((r) => r.name);
  }
  const rows = (await knex.raw(
    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
  )) as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

/**
 * Stored column names of a table, in definition order. Generated columns are the database's own
 * (MySQL's token_hash) and are left out: they are never written, dumped or compared.
 */
export async function listColumns(knex: Knex | Knex.Transaction, table: string): Promise<string[]> {
  if (isMysql(knex)) {
    const [rows] = (await knex.raw(
      "select column_name as name from information_schema.columns where table_schema = database() and table_name = ? and extra not like '%GENERATED%' order by ordinal_position",
      [table],
    )) as [Array<{ name: string }>];
    return rows.map((r) => r.name);
  }
  const rows = (await knex.raw('select name from pragma_table_info(?)', [table])) as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

/** Rows of a raw query, whatever the driver's result shape. */
export async function rawRows<T>(knex: Knex | Knex.Transaction, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = (await knex.raw(sql, bindings as Knex.RawBinding[])) as unknown;
  if (isMysql(knex)) return (result as [T[]])[0];
  return result as T[];
}

/** Session settings that doctor reports (MySQL: time zone and sql_mode; SQLite: pragmas). */
export async function sessionSettings(knex: Knex): Promise<Record<string, string>> {
  if (isMysql(knex)) {
    const rows = await rawRows<Record<string, string>>(
      knex,
      'select @@session.time_zone as time_zone, @@global.time_zone as global_time_zone, @@system_time_zone as system_time_zone, @@session.sql_mode as sql_mode, @@character_set_database as charset, @@collation_database as collation',
    );
    return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, String(v)]));
  }
  const fk = await rawRows<{ foreign_keys: number }>(knex, 'pragma foreign_keys');
  const jm = await rawRows<{ journal_mode: string }>(knex, 'pragma journal_mode');
  return {
    time_zone: 'UTC (stored as text by the application)',
    foreign_keys: fk[0]?.foreign_keys ? 'on' : 'off',
    journal_mode: jm[0]?.journal_mode ?? 'unknown',
  };
}

/** Quotes an identifier for the dialect (only for names that come from our own code). */
export function quoteIdent(kind: DbKind, name: string): string {
  return kind === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}
