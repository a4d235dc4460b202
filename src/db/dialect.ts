/**
 * Engine-dependent SQL helpers, as functions of a connection: each asks the connection's engine
 * (src/db/engines/) so callers never test which engine they run on.
 */
import type { Knex } from 'knex';
import type { DbKind } from './config.js';
import { engineFor, engineOf } from './engines/index.js';

export function dialectOf(knex: Knex | Knex.Transaction): DbKind {
  return engineOf(knex).kind;
}

/** SUM of a DECIMAL column in integer cents, exactly on every engine. */
export function sumCentsSql(knex: Knex | Knex.Transaction, column: string): Knex.Raw {
  return engineOf(knex).sumCentsSql(knex, column);
}

/**
 * A DECIMAL(…,2) expression in integer cents, per row, exactly. Also gives weights (DECIMAL(8,2)
 * kg) in hundredths of a kg.
 */
export function centsSql(knex: Knex | Knex.Transaction, expr: string): string {
  return engineOf(knex).centsSql(expr);
}

/** Integer division of two non-negative integer SQL expressions (truncating = floor here). */
export function intDivSql(knex: Knex | Knex.Transaction, numerator: string, denominator: string): string {
  return engineOf(knex).intDivSql(numerator, denominator);
}

/** WHERE clause matching a text column ignoring case and accents ("Orleans" finds "Orléans"). */
export function whereFolded<T extends Knex.QueryBuilder>(qb: T, column: string, value: string): T {
  return engineOf(qb).whereFolded(qb, column, value);
}

/** WHERE column LIKE pattern (ESCAPE '!'), case-insensitive on every engine, accent-insensitive where it can be. */
export function whereLike<T extends Knex.QueryBuilder>(qb: T, column: string, pattern: string, or = false): T {
  return engineOf(qb).whereLike(qb, column, pattern, or);
}

/** ORDER BY with NULL lowest (first ascending, last descending) on every engine: keyset cursors rely on it. */
export function orderByNullsLow<T extends Knex.QueryBuilder>(qb: T, column: string, direction: 'asc' | 'desc'): T {
  return engineOf(qb).orderByNullsLow(qb, column, direction);
}

/** WHERE finding a revoked token (`prefix` is the table alias, e.g. "t."), by the engine's unique index. */
export function whereToken<T extends Knex.QueryBuilder>(qb: T, prefix: string, token: string, hash: string): T {
  return engineOf(qb).whereToken(qb, prefix, token, hash);
}

/** Runs an INSERT of one row and gives its new id, on every engine (`trx('t').insert(row)` unawaited). */
export function insertId(qb: Knex.QueryBuilder): Promise<number> {
  return engineOf(qb).insertId(qb);
}

/** Row locks for a read-then-write inside a transaction, where the engine has them. */
export function forUpdate<T extends Knex.QueryBuilder>(qb: T): T {
  return engineOf(qb).forUpdate(qb);
}

/** Current UTC time as the database's DATETIME string; use for created_at/updated_at. */
export function nowSql(): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ');
}

export function serverVersion(knex: Knex): Promise<string> {
  return engineOf(knex).serverVersion(knex);
}

/** Base tables of the current database (views excluded). */
export function listTables(knex: Knex | Knex.Transaction): Promise<string[]> {
  return engineOf(knex).listTables(knex);
}

/**
 * Stored column names of a table, in definition order. Generated columns are the database's own
 * (MySQL's token_hash) and are left out: they are never written, dumped or compared.
 */
export function listColumns(knex: Knex | Knex.Transaction, table: string): Promise<string[]> {
  return engineOf(knex).listColumns(knex, table);
}

/** Rows of a raw query, whatever the driver's result shape. */
export function rawRows<T>(knex: Knex | Knex.Transaction, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  return engineOf(knex).rawRows<T>(knex, sql, bindings);
}

/** Quotes an identifier for the engine (only for names that come from our own code). */
export function quoteIdent(kind: DbKind, name: string): string {
  return engineFor(kind).quoteIdent(name);
}
