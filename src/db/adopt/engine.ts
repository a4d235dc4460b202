/**
 * What adoption asks of an engine (src/db/engines/<engine>/adopt.ts): how to quote, add an index,
 * add CHECKs, give the app's revoked tokens their lookup, create the functions its queries call,
 * and run its own kinds of op. Everything else in adoption (src/db/adopt/) is the same on every
 * engine, which is described by its introspection (src/db/engines/<engine>/introspect.ts).
 */
import type { Knex } from 'knex';
import { engineOf } from '../engines/index.js';
import type { LiveTable } from '../introspect.js';
import type { Op } from './ops.js';

export interface Change {
  summary: string;
  forward: Op;
  inverse: Op;
}

export interface AdoptEngine {
  name: string;
  quote(name: string): string;
  /** The collation billettigue's own tables use (null: the engine has none to compare). */
  collation: string | null;
  createIndex(table: string, name: string, columns: string[], unique: boolean): Change;
  /**
   * An index key of `column` as the engine's introspection reports it (`key`) and as SQL (`sql`):
   * PostgreSQL indexes the searched cities on `bt_fold(column)`. Absent: the column itself.
   */
  indexKey?(table: string, column: string): { key: string; sql: string };
  /**
   * A CHECK predicate of the expected model (SQLite's knex writes it, `backquoted` names) as this
   * engine evaluates it on `table`. Absent: as written.
   */
  checkPredicate?(table: LiveTable, predicate: string): string;
  /**
   * The database functions billettigue's queries call, when missing (PostgreSQL: bt_fold). They
   * are created first; an engine with transactional DDL computes the plan with them in place (in a
   * transaction rolled back afterwards).
   */
  schemaFunctions?(db: Knex | Knex.Transaction): Promise<Change[]>;
  /** What `--undo` will leave in place, and why (for a warning); empty: everything goes. */
  keptOnUndo?(db: Knex | Knex.Transaction): Promise<string[]>;
  /** One change adding every CHECK given to the table. */
  addChecks(db: Knex | Knex.Transaction, table: LiveTable, checks: Array<{ name: string; predicate: string }>): Promise<Change>;
  /**
   * What the app's revoked_tokens needs so that `WHERE token = ?` (the app) and billettigue's own
   * lookup use an index and nobody writes a hash: `unique` says the tokens present are unique.
   */
  tokenLookup(table: LiveTable, unique: boolean): Change[];
  /**
   * MySQL: the table's secondary keys as SHOW CREATE TABLE prints them. InnoDB silently drops an
   * index it created for a foreign key when a new index can serve that key (and a key put back
   * lands at the end), so the inverse of adding an index is "the keys as they were just before":
   * names, definitions and order (Op `keys`).
   */
  keyLines?(db: Knex | Knex.Transaction, table: string): Promise<string[]>;
  /** DDL runs inside a transaction (SQLite, PostgreSQL): each change commits with its record. */
  transactionalDdl: boolean;
  /**
   * Statements that open each change's transaction (PostgreSQL: a lock timeout, so that a change
   * waiting behind a long transaction of the app fails, and adoption is undone, instead of
   * queueing every write of the app behind its lock).
   */
  stepSettings?: string[];
  /** The error of an inverse whose change never ran (no such index, column, table). */
  missingObject(err: unknown): boolean;
  /**
   * Runs `inTransaction` (a change and its record, in one transaction) with what the op needs set
   * up outside any transaction (SQLite: foreign keys off around a table rebuild).
   */
  aroundTransaction?<T>(knex: Knex, op: Op, inTransaction: () => Promise<T>): Promise<T>;
  /** Runs one of the engine's own ops (anything but `{ sql }`). */
  runOp(db: Knex | Knex.Transaction, op: Op): Promise<void>;
  /** The statements one of the engine's own ops runs, as they would run now (for --dry-run). */
  opStatements(db: Knex | Knex.Transaction, op: Op): Promise<string[]>;
}

/** The adoption part of the engine of `knex` (src/db/engines/<engine>/adopt.ts). */
export function adoptEngine(knex: Knex | Knex.Transaction): Promise<AdoptEngine> {
  return engineOf(knex).adoption();
}
