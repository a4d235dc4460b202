/**
 * One change adoption makes, and how it is undone: plain DDL statements, or an engine's own op
 * (SQLite: a rebuild of a table from a CREATE TABLE text, which is how SQLite adds a CHECK;
 * MySQL: a table's keys put back exactly). Ops are stored as JSON in the adoption table and run
 * again from there by `--undo`.
 */
import type { Knex } from 'knex';
import { engineOf } from '../engines/index.js';

export type Op =
  | { sql: string[] }
  | { rebuild: { table: string; createSql: string } }
  /** MySQL: the table's secondary keys exactly as these SHOW CREATE TABLE lines (names and order). */
  | { keys: { table: string; lines: string[] } };

/** Runs an op; `tolerate` lets a statement's error pass (an inverse whose change never ran). */
export async function runOp(db: Knex | Knex.Transaction, op: Op, tolerate: (err: unknown) => boolean = () => false): Promise<void> {
  if ('sql' in op) {
    for (const s of op.sql) {
      try {
        await db.raw(s);
      } catch (err) {
        if (!tolerate(err)) throw err;
      }
    }
  } else {
    await (await engineOf(db).adoption()).runOp(db, op);
  }
}

/** The statements an op runs, for `--dry-run` and the report (a rebuild's, as they would run now). */
export async function opStatements(db: Knex | Knex.Transaction, op: Op): Promise<string[]> {
  if ('sql' in op) return op.sql;
  return (await engineOf(db).adoption()).opStatements(db, op);
}
