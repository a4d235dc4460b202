/**
 * One engine = one object implementing `Engine` (src/db/engines/<engine>/index.ts), the way knex's
 * lib/dialects/<name>/ subclasses override only what differs. Everything above src/db/ asks the
 * engine of its connection (`engineOf(knex)`) or of its target (`engineFor(target.kind)`) instead of
 * testing which engine it runs on; a new engine is a new folder plus one line in ./index.ts.
 * Backup-side differences (dump, restore, locks, leftovers) live in src/backup/engines/<engine>/.
 */
import type { Knex } from 'knex';
import type { AppError } from '../../domain/errors.js';
import type { DbKind, DbTarget } from '../config.js';
import type { EngineBulk } from '../bulk.js';
import type { LiveSchema } from '../introspect.js';
import type { AdoptEngine } from '../adopt/engine.js';

export interface ConnectOptions {
  /** Connect to the server without selecting a database (db create). */
  noDatabase?: boolean;
  pool?: { min?: number; max?: number };
}

/** Kinds of driver errors the product translates (src/db/errors.ts); null = not one of these. */
export type DriverErrorClass =
  | 'deadlock'
  | 'lock_wait_timeout'
  | 'duplicate'
  | 'foreign_key'
  | 'check'
  | 'not_null'
  | 'out_of_range'
  | 'missing_table'
  /** Text the database cannot store (PostgreSQL: a NUL byte, a character outside the encoding). */
  | 'bad_character'
  /** A value the column's type refuses (PostgreSQL: a label an enumerated type lacks). */
  | 'bad_value'
  /** The connection died (killed, server gone, network cut): a statement in flight may or may not have run. */
  | 'connection'
  /** The connection had already died when a statement was issued: that statement was never sent. */
  | 'connection_closed'
  /** The server refuses work for now (a Galera node outside the primary component, or joining). */
  | 'not_ready';

/** How a transaction aborted by a conflict (deadlock, cluster certification failure) is retried. */
export interface ConflictRetry {
  /** Retries after the first attempt. */
  retries: number;
  /** Pause before retry n (1-based), in ms. */
  delayMs(n: number): number;
  /** The message when the last attempt failed too (exit 4). */
  busyMessage(attempts: number): string;
}

/** One line of `billettigue doctor`. `info` lines never make the result unhealthy. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  info?: boolean;
}

export interface Engine {
  readonly kind: DbKind;
  /** For people: "MySQL/MariaDB", "SQLite". */
  readonly label: string;
  /** knex client names that mean this engine. */
  readonly clients: readonly string[];
  /** A server holding several databases (true) or an embedded file (false). */
  readonly server: boolean;
  /**
   * DDL runs inside transactions and rolls back with them (PostgreSQL, SQLite): a migration dry run
   * can apply and roll back. MySQL commits each DDL statement as it goes.
   */
  readonly transactionalDdl: boolean;

  /** knex configuration with the session settings the product relies on (UTC, strictness, …). */
  knexConfig(target: DbTarget, options: ConnectOptions, log: Knex.Config['log']): Knex.Config;
  /** Connection-time failure → a one-line Unavailable error naming what to fix. */
  translateConnectError(err: unknown, target: DbTarget): AppError;
  /** Which translated kind a driver error is, when it comes from this engine's driver. */
  classifyError(err: unknown): DriverErrorClass | null;
  /** How conflicts are retried on this connection (default: src/db/retry.ts SERVER_RETRY). */
  conflictRetry?(knex: Knex | Knex.Transaction): ConflictRetry;

  /** SUM of a DECIMAL(…,2) column in integer cents, exactly. */
  sumCentsSql(knex: Knex | Knex.Transaction, column: string): Knex.Raw;
  /** A DECIMAL(…,2) expression in integer cents (or hundredths of a kg), per row, exactly. */
  centsSql(expr: string): string;
  /** Integer division of two non-negative integer expressions. */
  intDivSql(numerator: string, denominator: string): string;
  /** WHERE column matches value ignoring case and accents ("Orleans" finds "Orléans"). */
  whereFolded<T extends Knex.QueryBuilder>(qb: T, column: string, value: string): T;
  /**
   * WHERE column LIKE pattern (ESCAPE '!'), ignoring case — and accents where the engine can (MySQL's
   * collation, PostgreSQL's bt_fold; SQLite's LIKE folds ASCII case only). `or` joins with OR.
   */
  whereLike<T extends Knex.QueryBuilder>(qb: T, column: string, pattern: string, or?: boolean): T;
  /** ORDER BY column with NULL as the lowest value (first ascending, last descending), MySQL's and SQLite's order. */
  orderByNullsLow<T extends Knex.QueryBuilder>(qb: T, column: string, direction: 'asc' | 'desc'): T;
  /** WHERE finding a revoked token by its indexed exact match (`prefix`: table alias such as "t."). */
  whereToken<T extends Knex.QueryBuilder>(qb: T, prefix: string, token: string, hash: string): T;
  /** Runs an INSERT of one row and gives the new row's id (PostgreSQL needs RETURNING). */
  insertId(qb: Knex.QueryBuilder): Promise<number>;
  /**
   * What an index on a column matched by `whereFolded` must cover: the column itself where the
   * collation already folds (MySQL), the folding expression where matching goes through it (PostgreSQL).
   */
  foldedKey(knex: Knex | Knex.Transaction, column: string): string | Knex.Raw;
  /** Database-side functions the schema relies on (PostgreSQL: bt_fold), created by the first migration. */
  createSchemaFunctions(knex: Knex | Knex.Transaction): Promise<void>;
  /** Drops them again (the first migration's down). */
  dropSchemaFunctions(knex: Knex | Knex.Transaction): Promise<void>;
  /** Quotes an identifier (only for names from our own code or an allow-list). */
  quoteIdent(name: string): string;
  /** Row locks inside a transaction where the engine has them (SQLite: the write lock is global). */
  forUpdate<T extends Knex.QueryBuilder>(qb: T): T;
  /** Read-only queries worth running side by side on separate connections. */
  readonly parallelReads: number;

  serverVersion(knex: Knex): Promise<string>;
  /** Base tables of the current database (views excluded), sorted. */
  listTables(knex: Knex | Knex.Transaction): Promise<string[]>;
  /** Stored column names of a table, in definition order (generated columns left out). */
  listColumns(knex: Knex | Knex.Transaction, table: string): Promise<string[]>;
  /** Rows of a raw query, whatever the driver's result shape. */
  rawRows<T>(knex: Knex | Knex.Transaction, sql: string, bindings?: readonly unknown[]): Promise<T[]>;
  /** The engine's own `doctor` lines (time zone, strictness, charset, pragmas, …). */
  doctorChecks(knex: Knex): Promise<DoctorCheck[]>;
  /** Drops every table of the current database, foreign keys notwithstanding (db reset). */
  dropAllTables(knex: Knex): Promise<void>;
  /** Creates the target's database (server) or file (embedded) if missing; true when it was created. */
  createDatabase(target: DbTarget): Promise<boolean>;
  /** Table options every migration's CREATE TABLE gets (engine, charset, collation). */
  tableOptions(t: Knex.CreateTableBuilder): void;
  /** The engine's bulk path (seed demo): its fastest loader and how it empties tables. */
  bulk(): Promise<EngineBulk>;
  /** Every base table (or only `tables`) described: columns, indexes, foreign keys, CHECKs. */
  introspect(knex: Knex | Knex.Transaction, tables?: readonly string[]): Promise<LiveSchema>;
  /** What `db adopt` asks of this engine (loaded on demand). */
  adoption(): Promise<AdoptEngine>;
}
