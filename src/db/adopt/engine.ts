/**
 * What adoption asks of an engine: how to quote, add and drop an index, add CHECKs, and give the
 * app's revoked tokens their lookup. Everything else in adoption is the same on every engine.
 * (A PostgreSQL engine adds its own: ALTER TABLE … ADD CONSTRAINT … CHECK … NOT VALID/VALIDATE,
 * a generated column with sha256(), an index on token.)
 */
import type { Knex } from 'knex';
import { isMysql } from '../dialect.js';
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
}

export async function adoptEngine(knex: Knex | Knex.Transaction): Promise<AdoptEngine> {
  return isMysql(knex) ? (await import('./mysql.js')).mysqlAdopt : (await import('./sqlite.js')).sqliteAdopt;
}
