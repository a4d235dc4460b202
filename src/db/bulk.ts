/**
 * Bulk loading of generated rows (the demo seed uses it; anything that writes millions of rows
 * can). Each engine brings its own fastest path, asked through the engine of the connection
 * (`Engine.bulk()`), never by testing which engine this is:
 *   MySQL/MariaDB   LOAD DATA LOCAL INFILE from a TSV stream (multi-row INSERT without local_infile)
 *                   — src/db/engines/mysql/bulk.ts
 *   PostgreSQL      COPY … FROM STDIN from the same TSV stream — src/db/engines/postgres/bulk.ts
 *   SQLite          prepared multi-row INSERTs, indexes re-created by a sort after a fresh load
 *                   — src/db/engines/sqlite/bulk.ts
 * This file holds what they share: the jobs, the loader interface and the row sinks.
 *
 * Rows are written through a `RowSink` (typed field writers) so that each path serialises values
 * its own way without building intermediate row objects.
 */
import type { Knex } from 'knex';
import { engineOf } from './engines/index.js';

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

export type BulkPath = 'load-data' | 'insert' | 'copy' | 'sqlite';

export const BULK_PATH_LABEL: Record<BulkPath, string> = {
  'load-data': 'LOAD DATA LOCAL INFILE (streamed)',
  insert: 'multi-row INSERT',
  copy: 'COPY FROM STDIN (streamed)',
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

/** What an engine provides for bulk loads (src/db/engines/<engine>/bulk.ts). */
export interface EngineBulk {
  open(knex: Knex, options: BulkOptions): Promise<BulkLoader>;
  /**
   * Deletes every row of the given tables (children listed before parents is not required) and
   * resets their id counters (seed --fresh).
   */
  emptyTables(knex: Knex, tables: readonly string[]): Promise<void>;
}

/** Knex's connection pool, for loaders that need a connection of their own for a while. */
export interface PoolClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<void>;
}

/** The connection's engine's fastest loader. */
export async function openBulkLoader(knex: Knex, options: BulkOptions = {}): Promise<BulkLoader> {
  return (await engineOf(knex).bulk()).open(knex, options);
}

/** Empties tables the engine's way (see EngineBulk.emptyTables). */
export async function emptyTables(knex: Knex, tables: readonly string[]): Promise<void> {
  await (await engineOf(knex).bulk()).emptyTables(knex, tables);
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
