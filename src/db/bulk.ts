/**
 * Bulk loading of generated rows, one dialect-specific path each (the demo seed uses it; anything
 * that writes millions of rows can):
 *
 * - MySQL/MariaDB: `LOAD DATA LOCAL INFILE` fed by a stream (mysql2's `infileStreamFactory`), the
 *   fastest way in. The rows are written as TSV straight from the generator, never as files.
 *   LOCAL loads turn data errors into warnings and skip the row (the server cannot stop the
 *   client mid-file), so every statement runs in its own transaction and is committed only when
 *   the server accepted exactly the rows sent with no warning; otherwise it is rolled back and
 *   the first warnings are reported.
 * - MySQL/MariaDB without `local_infile` (MySQL 8's default): multi-row INSERTs of a few thousand
 *   rows, several statements per transaction, the next statement built while the server runs the
 *   previous one.
 * - SQLite: multi-row prepared INSERTs on the one connection. When a load brings at least as many
 *   rows as the table already holds (a fresh seed), the whole table is one transaction that drops
 *   the table's indexes, inserts, and re-creates them from their own SQL before COMMIT: CREATE
 *   INDEX sorts the keys once instead of inserting each at a random place, about twice as fast
 *   overall. Nothing is given up: every row still meets the NOT NULL, CHECK and foreign-key
 *   constraints as it is inserted, CREATE UNIQUE INDEX refuses a duplicate exactly as the insert
 *   would have (same error, and the whole table rolls back), DDL is transactional in SQLite (an
 *   interrupted load rolls the DROP back too), and other connections only ever see the table
 *   before or after, with all its indexes. A smaller load into a bigger table keeps the indexes
 *   live and commits every `batchRows` rows.
 *
 * Rows are written through a `RowSink` (typed field writers) so that each path serialises values
 * its own way without building intermediate row objects.
 */
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { IntegrityError, Interrupted } from '../domain/errors.js';
import { dialectOf, quoteIdent, rawRows } from './dialect.js';

// ---- the sink the generator writes to -------------------------------------------------------

export interface RowSink {
  int(v: number): void;
  str(v: string): void;
  strOrNull(v: string | null): void;
  /** An exact DECIMAL(…,2) from an integer number of hundredths (cents, or hundredths of a kg). */
  hundredths(v: number): void;
  hundredthsOrNull(v: number | null): void;
  /** A DATETIME from Unix seconds (UTC). */
  time(secs: number): void;
  timeOrNull(secs: number | null): void;
  bool(v: boolean): void;
  /** Ends the current row. */
  end(): void;
  /** Rows ended since the last flush. */
  readonly pending: number;
}

/** A table to fill: its columns, and a generator that writes rows to the sink (yielding now and then). */
export interface BulkJob {
  table: string;
  columns: readonly string[];
  /** Exact number of rows the generator will write. */
  rows: number;
  produce(sink: RowSink): Iterator<unknown>;
}

export type BulkPath = 'load-data' | 'insert' | 'sqlite';

export const BULK_PATH_LABEL: Record<BulkPath, string> = {
  'load-data': 'LOAD DATA LOCAL INFILE (streamed)',
  insert: 'multi-row INSERT',
  sqlite: 'SQLite prepared multi-row INSERT',
};

export interface BulkLoader {
  readonly path: BulkPath;
  /** Loads every row of the job; `onRows` reports progress (rows handed to the database so far). */
  load(job: BulkJob, onRows?: (done: number) => void): Promise<number>;
  /**
   * Stops at once (Ctrl-C): MySQL drops the connection, so the server rolls the open batch back;
   * SQLite stops at the next chunk and rolls back. The running `load` then rejects.
   */
  abort(): void;
  close(): Promise<void>;
}

export interface BulkOptions {
  /** 'auto' (default): LOAD DATA when the server allows it, INSERT otherwise. */
  mysqlPath?: 'auto' | 'load-data' | 'insert';
  /** Why the INSERT path ran, filled in by `openBulkLoader` when it falls back. */
  onFallback?: (reason: string) => void;
  /**
   * Rows per transaction (at chunk granularity): a LOAD DATA statement, a group of INSERTs, an
   * SQLite transaction (when the indexes stay live; see above). Defaults: 250,000 / 50,000 / 200,000.
   */
  batchRows?: number;
  /**
   * SQLite: drop and re-create a table's indexes around a load that brings at least as many rows
   * as the table holds (default true; see the top of this file). false keeps them live: the
   * benchmark measures both.
   */
  sqliteRebuildIndexes?: boolean;
}

/** Rows the generator writes between two flushes to the database. */
export const CHUNK_ROWS = 2000;

export async function openBulkLoader(knex: Knex, options: BulkOptions = {}): Promise<BulkLoader> {
  const batch = options.batchRows;
  if (dialectOf(knex) === 'sqlite') return SqliteLoader.open(knex, batch ?? 200_000, options.sqliteRebuildIndexes ?? true);
  const want = options.mysqlPath ?? 'auto';
  if (want === 'insert') return MysqlInsertLoader.open(knex, batch ?? 50_000);
  const refusal = await loadDataRefusal(knex);
  if (refusal === null) return MysqlLoadDataLoader.open(knex, batch ?? 250_000);
  if (want === 'load-data') throw new IntegrityError(`LOAD DATA LOCAL INFILE is not available: ${refusal}`, { code: 'load_data_unavailable' });
  options.onFallback?.(refusal);
  return MysqlInsertLoader.open(knex, batch ?? 50_000);
}

// ---- value formatting shared by the text formats ---------------------------------------------

const PAD2: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const DAY = 86400;

/** 'YYYY-MM-DD HH:MM:SS' for Unix seconds, with the date part cached per day (hot path). */
class TimeFormatter {
  private days = new Map<number, string>();

  format(secs: number): string {
    const day = Math.floor(secs / DAY);
    let d = this.days.get(day);
    if (d === undefined) {
      d = new Date(day * DAY * 1000).toISOString().slice(0, 10) + ' ';
      if (this.days.size > 20000) this.days.clear();
      this.days.set(day, d);
    }
    const s = secs - day * DAY;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return d + PAD2[h]! + ':' + PAD2[m]! + ':' + PAD2[s % 60]!;
  }
}

function hundredthsText(v: number): string {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`not a non-negative integer number of hundredths: ${v}`);
  return Math.floor(v / 100) + '.' + PAD2[v % 100]!;
}

/**
 * The text formats' shared field writers: each format only says how a field is appended, how a
 * string is escaped, what NULL is and how a time is quoted.
 */
abstract class TextSink implements RowSink {
  protected buf = '';
  pending = 0;
  private readonly times = new TimeFormatter();
  protected abstract readonly nullText: string;
  /** Around a DATETIME literal ('' in TSV, a quote in SQL). */
  protected abstract readonly timeQuote: string;
  protected abstract put(text: string): void;
  protected abstract escape(v: string): string;
  abstract end(): void;

  int(v: number): void {
    this.put(String(v));
  }
  str(v: string): void {
    this.put(this.escape(v));
  }
  strOrNull(v: string | null): void {
    this.put(v === null ? this.nullText : this.escape(v));
  }
  hundredths(v: number): void {
    this.put(hundredthsText(v));
  }
  hundredthsOrNull(v: number | null): void {
    this.put(v === null ? this.nullText : hundredthsText(v));
  }
  time(secs: number): void {
    this.put(this.timeQuote + this.times.format(secs) + this.timeQuote);
  }
  timeOrNull(secs: number | null): void {
    if (secs === null) this.put(this.nullText);
    else this.time(secs);
  }
  bool(v: boolean): void {
    this.put(v ? '1' : '0');
  }
  /** The text written since the last take, and how many rows it holds. */
  take(): { text: string; rows: number } {
    const out = { text: this.buf, rows: this.pending };
    this.buf = '';
    this.pending = 0;
    return out;
  }
}

/** TSV for LOAD DATA: tab-separated, newline-ended, `\N` for NULL, backslash escapes. */
export class TsvSink extends TextSink {
  protected readonly nullText = '\\N';
  protected readonly timeQuote = '';
  private first = true;

  protected put(text: string): void {
    if (this.first) {
      this.buf += text;
      this.first = false;
    } else this.buf += '\t' + text;
  }
  protected escape(v: string): string {
    return /[\t\n\r\\]/.test(v) ? v.replace(/[\t\n\r\\]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\\\')) : v;
  }
  end(): void {
    this.buf += '\n';
    this.first = true;
    this.pending++;
  }
}

/** SQL literals for multi-row INSERT: `(1,'a',NULL),(2,'b',NULL)` (MySQL escaping, no NO_BACKSLASH_ESCAPES). */
export class SqlValuesSink extends TextSink {
  protected readonly nullText = 'NULL';
  protected readonly timeQuote = "'";
  private row = '';

  protected put(text: string): void {
    this.row += this.row === '' ? '(' + text : ',' + text;
  }
  protected escape(v: string): string {
    return "'" + (SQL_SPECIAL.test(v) ? v.replace(SQL_SPECIAL_ALL, (c) => ESC[c]!) : v) + "'";
  }
  end(): void {
    this.buf += this.buf === '' ? this.row + ')' : ',' + this.row + ')';
    this.row = '';
    this.pending++;
  }
}

// What MySQL's own escaping (mysql2/sqlstring) handles: quotes, backslash, NUL, backspace, tab,
// LF, CR and Ctrl-Z. Built from char codes so that no control character sits in a regex literal.
const SPECIAL = [0, 8, 9, 10, 13, 26].map((c) => String.fromCharCode(c));
const SPECIAL_CLASS = '[\'"\\\\' + SPECIAL.join('') + ']';
const SQL_SPECIAL = new RegExp(SPECIAL_CLASS);
const SQL_SPECIAL_ALL = new RegExp(SPECIAL_CLASS, 'g');
const ESC: Record<string, string> = {
  "'": "\\'",
  '"': '\\"',
  '\\': '\\\\',
  '\0': '\\0',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  [String.fromCharCode(26)]: '\\Z',
};

/** Bound parameters for SQLite: a flat array of values, rows after rows. */
export class ParamsSink implements RowSink {
  values: unknown[] = [];
  pending = 0;
  private readonly times = new TimeFormatter();

  int(v: number): void {
    this.values.push(v);
  }
  str(v: string): void {
    this.values.push(v);
  }
  strOrNull(v: string | null): void {
    this.values.push(v);
  }
  // DECIMAL columns have REAL affinity in SQLite: "12.50" would be stored as the double 12.5
  // anyway; binding the number skips the text conversion.
  hundredths(v: number): void {
    this.values.push(v / 100);
  }
  hundredthsOrNull(v: number | null): void {
    this.values.push(v === null ? null : v / 100);
  }
  time(secs: number): void {
    this.values.push(this.times.format(secs));
  }
  timeOrNull(secs: number | null): void {
    this.values.push(secs === null ? null : this.times.format(secs));
  }
  bool(v: boolean): void {
    this.values.push(v ? 1 : 0);
  }
  end(): void {
    this.pending++;
  }
}

// ---- MySQL: raw connections from knex's pool ---------------------------------------------------

interface MysqlResultHeader {
  affectedRows: number;
  warningStatus?: number;
  info?: string;
}

interface MysqlRawConnection {
  destroy(): void;
  query(options: { sql: string; infileStreamFactory?: (path: string) => Readable }, cb: (err: Error | null, result: unknown) => void): void;
}

interface PoolClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<void>;
}

function rawQuery(conn: MysqlRawConnection, sql: string, stream?: () => Readable): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query({ sql, ...(stream ? { infileStreamFactory: stream } : {}) }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Why LOAD DATA LOCAL cannot be used here, or null when it can. */
async function loadDataRefusal(knex: Knex): Promise<string | null> {
  const rows = await rawRows<{ v: number | string }>(knex, 'select @@global.local_infile as v');
  const v = rows[0]?.v;
  if (!(v === 1 || v === '1' || v === 'ON')) return 'the server has local_infile = OFF';
  // The server allows it; prove the whole path (client flag, permission) with an empty load.
  const client = knex.client as unknown as PoolClient;
  const conn = (await client.acquireConnection()) as MysqlRawConnection;
  try {
    await rawQuery(conn, 'START TRANSACTION');
    await rawQuery(conn, "LOAD DATA LOCAL INFILE 'billettigue-probe' INTO TABLE roles (name)", () => Readable.from([]));
    await rawQuery(conn, 'ROLLBACK');
    return null;
  } catch (err) {
    await rawQuery(conn, 'ROLLBACK').catch(() => undefined);
    return `LOAD DATA LOCAL INFILE was refused (${(err as Error).message.split('\n')[0]})`;
  } finally {
    await client.releaseConnection(conn);
  }
}

async function firstWarnings(query: (sql: string) => Promise<unknown>): Promise<string> {
  const rows = (await query('SHOW WARNINGS LIMIT 3')) as Array<{ Message: string }>;
  return rows.map((r) => r.Message).join('; ') || 'no warning text';
}

abstract class MysqlLoader implements BulkLoader {
  abstract readonly path: BulkPath;
  protected constructor(
    protected readonly client: PoolClient,
    protected readonly conn: MysqlRawConnection,
    /** Rows per transaction. */
    protected readonly batch: number,
  ) {}

  protected static async acquire(knex: Knex): Promise<{ client: PoolClient; conn: MysqlRawConnection }> {
    const client = knex.client as unknown as PoolClient;
    const conn = (await client.acquireConnection()) as MysqlRawConnection;
    return { client, conn };
  }

  abstract load(job: BulkJob, onRows?: (done: number) => void): Promise<number>;

  protected aborted = false;
  /** Rejecters of the queries in flight: an abort settles them itself (the driver may never call back). */
  private readonly pending = new Set<(err: Error) => void>();
  /** The stream of the LOAD DATA in flight, stopped on abort. */
  protected stream: Readable | null = null;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stream?.destroy();
    this.conn.destroy();
    for (const reject of [...this.pending]) reject(new Interrupted());
  }

  protected checkAborted(): void {
    if (this.aborted) throw new Interrupted();
  }

  /** A query on the loader's connection that an abort interrupts. */
  protected q(sql: string, stream?: () => Readable): Promise<unknown> {
    if (this.aborted) return Promise.reject(new Interrupted());
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      rawQuery(this.conn, sql, stream).then(
        (result) => {
          this.pending.delete(fail);
          if (this.aborted) reject(new Interrupted());
          else resolve(result);
        },
        (err: Error) => fail(this.aborted ? new Interrupted() : err),
      );
    });
  }

  async close(): Promise<void> {
    if (!this.aborted) await rawQuery(this.conn, 'ROLLBACK').catch(() => undefined);
    await this.client.releaseConnection(this.conn);
  }
}

class MysqlLoadDataLoader extends MysqlLoader {
  readonly path = 'load-data' as const;

  static async open(knex: Knex, batch: number): Promise<MysqlLoadDataLoader> {
    const { client, conn } = await MysqlLoader.acquire(knex);
    return new MysqlLoadDataLoader(client, conn, batch);
  }

  async load(job: BulkJob, onRows?: (done: number) => void): Promise<number> {
    const sink = new TsvSink();
    const it = job.produce(sink);
    const cols = job.columns.map((c) => quoteIdent('mysql', c)).join(', ');
    const sql =
      `LOAD DATA LOCAL INFILE 'billettigue-demo' INTO TABLE ${quoteIdent('mysql', job.table)} CHARACTER SET utf8mb4 ` +
      `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${cols})`;
    const statementRows = this.batch;
    let done = 0;
    let exhausted = false;
    while (!exhausted) {
      this.checkAborted();
      let sent = 0;
      let failure: unknown = null;
      // One statement: the server reads the "file" from this stream, which pulls chunks from the
      // generator on demand (backpressure), until the statement's share of rows is reached.
      const pull = (s: Readable): void => {
        for (;;) {
          if (!exhausted && sent + sink.pending < statementRows) {
            exhausted = Boolean(it.next().done);
            if (sink.pending < CHUNK_ROWS && !exhausted) continue;
          }
          const chunk = sink.take();
          sent += chunk.rows;
          if (chunk.rows > 0) onRows?.(done + sent);
          if (exhausted || sent >= statementRows) {
            if (chunk.rows > 0) s.push(chunk.text);
            s.push(null);
            return;
          }
          if (chunk.rows > 0 && !s.push(chunk.text)) return;
        }
      };
      const stream = (this.stream = new Readable({
        highWaterMark: 1 << 20,
        read() {
          try {
            pull(this);
          } catch (err) {
            // A generator bug: end the "file" so the statement returns, then roll back and rethrow.
            failure = err;
            exhausted = true;
            this.push(null);
          }
        },
      }));
      await this.q('START TRANSACTION');
      let result: MysqlResultHeader;
      try {
        result = (await this.q(sql, () => stream)) as MysqlResultHeader;
        if (failure) throw failure;
      } catch (err) {
        this.checkAborted();
        await this.q('ROLLBACK').catch(() => undefined);
        throw failure ?? err;
      }
      if (result.affectedRows !== sent || (result.warningStatus ?? 0) > 0) {
        const why = await firstWarnings((sql) => this.q(sql));
        await this.q('ROLLBACK');
        throw new IntegrityError(
          `LOAD DATA into ${job.table} accepted ${result.affectedRows} of ${sent} rows with ${result.warningStatus ?? 0} warnings (${why}); that batch was rolled back`,
          { code: 'bulk_rejected' },
        );
      }
      await this.q('COMMIT');
      done += sent;
      onRows?.(done);
      if (sent === 0) break;
    }
    return done;
  }
}

/** Rows per INSERT statement (at most). */
const INSERT_ROWS = 2000;

class MysqlInsertLoader extends MysqlLoader {
  readonly path = 'insert' as const;

  static async open(knex: Knex, batch: number): Promise<MysqlInsertLoader> {
    const { client, conn } = await MysqlLoader.acquire(knex);
    return new MysqlInsertLoader(client, conn, batch);
  }

  async load(job: BulkJob, onRows?: (done: number) => void): Promise<number> {
    const sink = new SqlValuesSink();
    const it = job.produce(sink);
    const head = `INSERT INTO ${quoteIdent('mysql', job.table)} (${job.columns.map((c) => quoteIdent('mysql', c)).join(', ')}) VALUES `;
    const perStatement = Math.min(INSERT_ROWS, this.batch);
    const perTransaction = Math.max(1, Math.floor(this.batch / perStatement));
    let done = 0;
    let inTx = 0;
    let finished = false;
    // One statement in flight while the next one is generated.
    let running: Promise<unknown> | null = null;
    let runningRows = 0;
    const settle = async () => {
      if (!running) return;
      const r = (await running) as MysqlResultHeader;
      if (r.affectedRows !== runningRows) {
        throw new IntegrityError(`INSERT into ${job.table} wrote ${r.affectedRows} of ${runningRows} rows`, { code: 'bulk_rejected' });
      }
      done += runningRows;
      onRows?.(done);
      running = null;
    };
    try {
      while (!finished) {
        this.checkAborted();
        const r = it.next();
        if (r.done) finished = true;
        if (sink.pending < perStatement && !finished) continue;
        const chunk = sink.take();
        if (chunk.rows === 0) continue;
        await settle();
        if (inTx === 0) await this.q('START TRANSACTION');
        running = this.q(head + chunk.text);
        running.catch(() => undefined); // awaited in settle()
        runningRows = chunk.rows;
        if (++inTx >= perTransaction) {
          await settle();
          await this.q('COMMIT');
          inTx = 0;
        }
      }
      await settle();
      if (inTx > 0) await this.q('COMMIT');
    } catch (err) {
      this.checkAborted();
      await this.q('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return done;
  }
}

// ---- SQLite ---------------------------------------------------------------------------------

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(sql: string, options?: { simple: boolean }): unknown;
  inTransaction: boolean;
}

/** Rows per multi-row statement (bounded by SQLite's 32,766 parameters). */
const SQLITE_ROWS_PER_STATEMENT = 64;

class SqliteLoader implements BulkLoader {
  readonly path = 'sqlite' as const;
  private aborted = false;
  private constructor(
    private readonly client: PoolClient,
    private readonly db: SqliteDatabase,
    private readonly cacheSize: unknown,
    private readonly batch: number,
    private readonly rebuildIndexes: boolean,
  ) {}

  static async open(knex: Knex, batch: number, rebuildIndexes: boolean): Promise<SqliteLoader> {
    const client = knex.client as unknown as PoolClient;
    const db = (await client.acquireConnection()) as SqliteDatabase;
    const cacheSize = db.pragma('cache_size', { simple: true });
    // A larger page cache while loading (32 MiB: 64 gained nothing measurable and cost 40 MB of
    // peak memory, which at --scale large must stay under 300 MB); restored on close.
    db.pragma('cache_size = -32768');
    return new SqliteLoader(client, db, cacheSize, batch, rebuildIndexes);
  }

  async load(job: BulkJob, onRows?: (done: number) => void): Promise<number> {
    const ncols = job.columns.length;
    const cols = job.columns.map((c) => quoteIdent('sqlite', c)).join(', ');
    const tuple = '(' + new Array(ncols).fill('?').join(',') + ')';
    const head = `INSERT INTO ${quoteIdent('sqlite', job.table)} (${cols}) VALUES `;
    const per = Math.max(1, Math.min(SQLITE_ROWS_PER_STATEMENT, Math.floor(32766 / ncols)));
    const many = this.db.prepare(head + new Array(per).fill(tuple).join(','));
    const one = this.db.prepare(head + tuple);
    const sink = new ParamsSink();
    const it = job.produce(sink);
    let done = 0;
    let inTx = 0;
    let finished = false;
    const indexes = this.indexesToRebuild(job);
    const flush = () => {
      const v = sink.values;
      const rows = sink.pending;
      let i = 0;
      const width = per * ncols;
      // Spread, not an array argument: better-sqlite3 binds an array element by element through
      // generic property lookups; arguments are bound directly (the medium seed ≈ 20 % faster).
      for (; i + per <= rows; i += per) many.run(...v.slice(i * ncols, i * ncols + width));
      for (; i < rows; i++) one.run(...v.slice(i * ncols, (i + 1) * ncols));
      sink.values = [];
      sink.pending = 0;
      done += rows;
      inTx += rows;
    };
    try {
      this.db.exec('BEGIN');
      for (const ix of indexes) this.db.exec(`DROP INDEX ${quoteIdent('sqlite', ix.name)}`);
      while (!finished) {
        const r = it.next();
        if (r.done) finished = true;
        if (sink.pending < CHUNK_ROWS && !finished) continue;
        flush();
        // Before a COMMIT: rows generated after the abort must not land.
        if (this.aborted) throw new Interrupted();
        if (indexes.length === 0 && inTx >= this.batch) {
          this.db.exec('COMMIT');
          inTx = 0;
          this.db.exec('BEGIN');
        }
        onRows?.(done);
        // Let the event loop breathe (Ctrl-C, progress) between chunks.
        if (done % (CHUNK_ROWS * 25) < CHUNK_ROWS) await new Promise((r) => setImmediate(r));
        if (this.aborted) throw new Interrupted();
      }
      for (const ix of indexes) this.db.exec(ix.sql);
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
    return done;
  }

  /**
   * The indexes to drop and re-create around this load (see the top of this file): all of the
   * table's explicit indexes when the load brings at least as many rows as the table holds, none
   * otherwise (rebuilding a big table's indexes for a few rows would cost more than it saves).
   * Implicit `sqlite_autoindex_*` indexes have no SQL and cannot be dropped; they stay live.
   */
  private indexesToRebuild(job: BulkJob): Array<{ name: string; sql: string }> {
    if (!this.rebuildIndexes) return [];
    const table = quoteIdent('sqlite', job.table);
    // max(rowid) reads one B-tree edge; it bounds the rows present from above.
    const present = Number((this.db.prepare(`SELECT coalesce(max(rowid), 0) AS n FROM ${table}`).get() as { n: number }).n);
    if (present > job.rows) return [];
    return this.db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name")
      .all(job.table) as Array<{ name: string; sql: string }>;
  }

  abort(): void {
    this.aborted = true;
  }

  async close(): Promise<void> {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.pragma(`cache_size = ${Number(this.cacheSize) || -2000}`);
    } finally {
      await this.client.releaseConnection(this.db);
    }
  }
}

// ---- emptying tables (seed --fresh) ------------------------------------------------------------

/**
 * Deletes every row of the given tables (children listed before parents is not required).
 * MySQL: TRUNCATE with foreign-key checks off on one pinned session (DDL: commits as it goes);
 * SQLite: DELETE in one transaction with foreign keys off (so SQLite can truncate), and the
 * AUTOINCREMENT counters reset.
 */
export async function emptyTables(knex: Knex, tables: readonly string[]): Promise<void> {
  if (dialectOf(knex) === 'mysql') {
    const client = knex.client as unknown as PoolClient;
    const conn = (await client.acquireConnection()) as MysqlRawConnection;
    try {
      await rawQuery(conn, 'SET FOREIGN_KEY_CHECKS = 0');
      for (const t of tables) await rawQuery(conn, `TRUNCATE TABLE ${quoteIdent('mysql', t)}`);
    } finally {
      await rawQuery(conn, 'SET FOREIGN_KEY_CHECKS = 1').catch(() => undefined);
      await client.releaseConnection(conn);
    }
    return;
  }
  const client = knex.client as unknown as PoolClient;
  const db = (await client.acquireConnection()) as SqliteDatabase;
  try {
    db.pragma('foreign_keys = OFF');
    db.exec('BEGIN');
    try {
      for (const t of tables) db.exec(`DELETE FROM ${quoteIdent('sqlite', t)}`);
      const names = tables.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ');
      const seq = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'sqlite_sequence'") as unknown as { get(): unknown };
      if (seq.get()) db.exec(`DELETE FROM sqlite_sequence WHERE name IN (${names})`);
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  } finally {
    db.pragma('foreign_keys = ON');
    await client.releaseConnection(db);
  }
}
