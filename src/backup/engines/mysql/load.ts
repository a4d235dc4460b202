/**
 * Loads a backup into a MySQL/MariaDB database that is not the live one (a restore's staging
 * database, or the scratch database of `backup verify --deep`), fast, and checks it.
 *
 * Our backups (with a manifest): every table is created with its primary key and CHECKs only,
 * then up to N tables load at once, each on its own connection, from its own byte range of the
 * file (the manifest's gzip members): the INSERT text is streamed unchanged into
 * `LOAD DATA LOCAL INFILE … FIELDS TERMINATED BY ',' ENCLOSED BY '\'' LINES STARTING BY '('
 * TERMINATED BY ')'`, which reads the `(…),(…)` tuples of INSERT statements directly (the text
 * before the first `(` of a statement is skipped as a line prefix). The secondary indexes are
 * then built in one ALTER, the table's canonical SHA-256 computed and compared with the manifest,
 * and the foreign keys added last. When the server refuses LOAD DATA LOCAL (MySQL 8's default),
 * the INSERT statements themselves run instead (slower, same result), and the caller is told.
 *
 * Stock mysqldump / mariadb-dump files (no manifest): statements are split and run in order on
 * one connection; consecutive plain INSERTs of a table go through LOAD DATA the same way; row
 * counts are checked against what LOAD DATA reports and every foreign key is checked for orphans.
 */
import { once } from 'node:events';
import os from 'node:os';
import { Readable } from 'node:stream';
import type { MysqlTarget } from '../../../db/config.js';
import { Conflict, IntegrityError, InvalidInput } from '../../../domain/errors.js';
import { hasBinaryColumns, splitCreateTable, type SplitTable } from '../../ddl.js';
import type { Manifest } from '../../manifest.js';
import type { LoadedTable } from '../types.js';
import { describeMysqlTables, hashMysqlTable, MYSQL_FILE_SQL_MODE, type MysqlTableSpec } from './dump.js';
import { closeQuietly, openMysql, quoteId, rows, run, type OkPacket, type RawConnection } from './conn.js';
import { openDecompressed, readSection } from '../../reader.js';
import { classifyStatement, splitStatements } from '../../sql-split.js';
import { pauseAt } from '../../pause.js';
import { rulesOf, type LoadPacer } from './rules.js';
export { DEFER_INDEXES_FROM_ROWS } from './defer.js';

export interface LoadResult {
  tables: LoadedTable[];
  method: 'load-data' | 'statements' | 'mixed';
  migrations: string[];
  /** Tables the file created, in file order. */
  created: string[];
}

export interface LoadOptions {
  target: MysqlTarget;
  /** The database to load into (must exist and be empty). */
  database: string;
  file: string;
  manifest: Manifest | null;
  /** Connections loading at once (default 2). */
  jobs?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  onStep?: (message: string) => void;
  onWarning?: (message: string) => void;
  /** Every connection opened, so an interruption can close them. */
  onConnection?: (conn: RawConnection) => void;
}

/** Tables loading at once: the server overlaps one table's I/O with another's parsing. */
export function defaultJobs(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(2, Math.min(4, n + 1));
}

const LOAD_DATA_FORMAT = "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES STARTING BY '(' TERMINATED BY ')'";

async function openSession(o: LoadOptions): Promise<RawConnection> {
  const conn = await openMysql(o.target, o.database);
  o.onConnection?.(conn);
  await run(conn, `SET SESSION FOREIGN_KEY_CHECKS = 0, UNIQUE_CHECKS = 0, SQL_MODE = '${MYSQL_FILE_SQL_MODE}', SQL_NOTES = 0`);
  await run(conn, 'SET SESSION net_read_timeout = 3600, net_write_timeout = 3600, innodb_lock_wait_timeout = 60');
  return conn;
}

async function localInfileAllowed(conn: RawConnection): Promise<boolean> {
  try {
    const [r] = await rows<{ v: number | string }>(conn, 'SELECT @@GLOBAL.local_infile AS v');
    return String(r?.v) === '1' || String(r?.v).toUpperCase() === 'ON';
  } catch {
    return false;
  }
}

/**
 * The INSERT text as a LOAD DATA source, with real back-pressure: mysql2 writes every chunk to
 * the socket as soon as it has it, so the source waits while the socket holds more than 4 MiB.
 */
function infileSource(conn: RawConnection, chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Readable {
  const sock = (conn as unknown as { stream: NodeJS.WritableStream & { writableLength: number } }).stream;
  const it = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  return new Readable({
    highWaterMark: 1 << 16,
    read() {
      void (async () => {
        try {
          while (sock.writableLength > 4 << 20) await once(sock as unknown as NodeJS.EventEmitter, 'drain');
          const { value, done } = await it.next();
          this.push(done ? null : value);
        } catch (err) {
          this.destroy(err as Error);
        }
      })();
    },
  });
}

interface LoadDataOutcome {
  records: number;
  skipped: number;
  warnings: number;
}

function parseInfo(r: OkPacket): LoadDataOutcome {
  const m = /Records:\s*(\d+)\s+Deleted:\s*(\d+)\s+Skipped:\s*(\d+)\s+Warnings:\s*(\d+)/i.exec(r.info ?? '');
  if (!m) return { records: r.affectedRows, skipped: 0, warnings: r.warningStatus ?? 0 };
  return { records: Number(m[1]), skipped: Number(m[3]), warnings: Number(m[4]) };
}

/**
 * Cuts the INSERT text of a table into runs of about `bytes` each, right after the closing `)` of
 * a row (outside quotes and backquotes): LOAD DATA skips what precedes a run's first `(` (`,` or
 * `INSERT INTO … VALUES `), so every run loads on its own. A run holds at least one row.
 */
export async function* rowRuns(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, bytes: number): AsyncGenerator<Buffer[]> {
  let run: Buffer[] = [];
  let size = 0;
  let quote = 0; // 0, or the quote character we are inside (' or `)
  let escaped = false;
  for await (const chunk of chunks) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (quote) {
        if (escaped) escaped = false;
        else if (c === 0x5c && quote === 0x27) escaped = true;
        else if (c === quote) quote = 0;
      } else if (c === 0x27 || c === 0x60) quote = c;
      else if (c === 0x29 && size + (i + 1 - start) >= bytes) {
        run.push(chunk.subarray(start, i + 1));
        yield run;
        run = [];
        size = 0;
        start = i + 1;
      }
    }
    if (start < chunk.length) {
      run.push(chunk.subarray(start));
      size += chunk.length - start;
    }
  }
  // What follows the last row (";\n") holds no row: no LOAD DATA for it.
  if (run.some((b) => b.includes(0x28))) yield run;
}

/** LOAD DATA in runs of at most about `bytes` of rows, each its own transaction (a bounded write set). */
async function loadDataInRuns(conn: RawConnection, table: string, columns: string[] | null, chunks: AsyncIterable<Buffer>, bytes: number, pacer: LoadPacer): Promise<LoadDataOutcome> {
  const total: LoadDataOutcome = { records: 0, skipped: 0, warnings: 0 };
  for await (const run of rowRuns(chunks, bytes)) {
    await pacer.wait();
    const outcome = await loadData(conn, table, columns, run);
    await failOnWarnings(conn, table, outcome, null);
    total.records += outcome.records;
  }
  return total;
}

async function loadData(conn: RawConnection, table: string, columns: string[] | null, chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<LoadDataOutcome> {
  const cols = columns ? ` (${columns.map(quoteId).join(', ')})` : '';
  const r = await run<OkPacket>(conn, {
    sql: `LOAD DATA LOCAL INFILE 'billettigue:${table.replace(/'/g, '')}' INTO TABLE ${quoteId(table)} ${LOAD_DATA_FORMAT}${cols}`,
    infileStreamFactory: () => infileSource(conn, chunks),
  });
  return parseInfo(r);
}

/** Turns LOAD DATA's warnings (LOCAL makes errors warnings) into a typed error. */
async function failOnWarnings(conn: RawConnection, table: string, outcome: LoadDataOutcome, expected: number | null): Promise<void> {
  if (outcome.warnings === 0 && outcome.skipped === 0 && (expected === null || outcome.records === expected)) return;
  const warnings = outcome.warnings || outcome.skipped ? await rows<{ Code: number; Message: string }>(conn, 'SHOW WARNINGS LIMIT 3').catch(() => []) : [];
  const first = warnings[0];
  if (first && first.Code === 1062) {
    throw new Conflict(`the backup violates a unique key of table ${table} (${first.Message}): nothing was changed`, { code: 'duplicate_in_backup' });
  }
  const detail = warnings.map((w) => `${w.Code} ${w.Message}`).join('; ');
  throw new IntegrityError(
    `table ${table}: the backup's rows did not load cleanly (${outcome.records} read${expected === null ? '' : ` of ${expected} expected`}, ${outcome.skipped} skipped, ${outcome.warnings} warnings${detail ? `: ${detail}` : ''}): nothing was changed`,
    { code: 'load_failed' },
  );
}

function translateLoadError(err: unknown, table: string): unknown {
  const e = err as { errno?: number; code?: string; sqlMessage?: string; message?: string };
  if (e?.errno === 1062 || e?.code === 'ER_DUP_ENTRY') {
    return new Conflict(`the backup violates a unique key of table ${table} (${e.sqlMessage ?? e.message}): nothing was changed`, { code: 'duplicate_in_backup', cause: err });
  }
  if (e?.errno === 4025 || e?.errno === 3819) {
    return new IntegrityError(`the backup violates a CHECK constraint of table ${table} (${e.sqlMessage ?? e.message}): nothing was changed`, { code: 'check_in_backup', cause: err });
  }
  if (e?.errno === 1148 || e?.errno === 3948 || e?.code === 'ER_NOT_ALLOWED_COMMAND') {
    return new IntegrityError('the server refused LOAD DATA LOCAL INFILE', { code: 'local_infile_refused', cause: err });
  }
  return err;
}

async function* statementsOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* splitStatements(chunks, 'mysql');
}

const VALUES = Buffer.from(' VALUES ');

/**
 * One INSERT … VALUES (…),(…) as several of at most about `bytes` each (cut between rows, never
 * inside one); a statement without VALUES, or small enough, stays whole.
 */
export async function splitInsert(stmt: Buffer, bytes: number): Promise<Buffer[]> {
  if (stmt.length <= bytes) return [stmt];
  // The prefix (INSERT INTO `t` (`a`,`b`) VALUES ) holds no quote: its first " VALUES " is the one.
  const at = stmt.indexOf(VALUES);
  if (at < 0) return [stmt];
  const prefix = stmt.subarray(0, at + VALUES.length);
  const out: Buffer[] = [];
  for await (const piece of rowRuns([stmt.subarray(at + VALUES.length)], Math.max(1, bytes - prefix.length))) {
    const text = Buffer.concat(piece);
    const from = text.indexOf(0x28); // a later piece starts with the "," between two rows
    out.push(Buffer.concat([prefix, text.subarray(from)]));
  }
  return out;
}

async function runStatements(conn: RawConnection, stmts: AsyncIterable<Buffer>, bytes: number | null, pacer: LoadPacer): Promise<number> {
  let n = 0;
  for await (const s of stmts) {
    for (const part of bytes === null ? [s] : await splitInsert(s, bytes)) {
      await pacer.wait();
      const r = await run<OkPacket>(conn, part.toString('utf8'));
      n += r.affectedRows ?? 0;
    }
  }
  return n;
}

async function addKeys(conn: RawConnection, t: SplitTable): Promise<void> {
  if (t.keys.length === 0) return;
  await run(conn, `ALTER TABLE ${quoteId(t.name)} ${t.keys.join(', ')}`);
}

async function addForeignKeys(conn: RawConnection, t: SplitTable): Promise<void> {
  if (t.foreignKeys.length === 0) return;
  await run(conn, `ALTER TABLE ${quoteId(t.name)} ${t.foreignKeys.join(', ')}`);
}

async function autoIncrements(conn: RawConnection): Promise<Map<string, number | null>> {
  const r = await rows<{ name: string; ai: number | string | null }>(
    conn,
    'SELECT table_name AS name, auto_increment AS ai FROM information_schema.tables WHERE table_schema = DATABASE()',
  );
  return new Map(r.map((x) => [x.name, x.ai === null ? null : Number(x.ai)]));
}

async function readMigrations(conn: RawConnection): Promise<string[]> {
  const has = await rows<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'knex_migrations'");
  if (!has[0]?.n) return [];
  return (await rows<{ name: string }>(conn, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name.replace(/\.(ts|js)$/, ''));
}

/** Our backups: parallel per-table loading by byte range, verified against the manifest. */
export async function loadBackupMysql(o: LoadOptions): Promise<LoadResult> {
  const m = o.manifest!;
  const control = await openSession(o);
  const conns: RawConnection[] = [];
  const rules = rulesOf(control);
  let pacer: LoadPacer | undefined;
  try {
    const writeSet = await rules.writeSetBytes(control);
    const deferFrom = rules.deferIndexesFrom() ?? Infinity;
    pacer = await rules.loadPacer(control, o.target);
    const pace = pacer;
    o.onStep?.('creating tables');
    const header = await readSection(o.file, 0, m.file.header_length);
    const creates = new Map<string, string>();
    for await (const stmt of splitStatements([header], 'mysql')) {
      const k = classifyStatement(stmt);
      if (k.kind === 'create-table') creates.set(k.table, stripLeading(stmt.toString('utf8')));
    }
    const splits = new Map<string, SplitTable | null>();
    for (const t of m.tables) {
      const sql = creates.get(t.name);
      if (!sql) throw new IntegrityError(`the backup has no CREATE TABLE for ${t.name}: the file does not match its manifest`, { code: 'file_mismatch' });
      // Deferring indexes pays off for big tables; small ones are created whole (fewer DDLs).
      const split = t.rows >= deferFrom ? splitCreateTable(sql) : null;
      splits.set(t.name, split);
      await run(control, split ? split.base : sql);
    }
    const deferred = [...splits.values()].filter((x) => x?.keys.length).length;
    if (deferred) o.onStep?.(`secondary indexes after the rows for ${deferred} table${deferred > 1 ? 's' : ''} of ${deferFrom} rows or more`);
    const specs = new Map<string, MysqlTableSpec>((await describeMysqlTables(control)).map((s) => [s.name, s]));
    const infile = await localInfileAllowed(control);
    if (!infile) o.onWarning?.('the server does not allow LOAD DATA LOCAL INFILE (local_infile=OFF): loading with INSERT statements, which is slower');
    let methods = new Set<'load-data' | 'statements'>();
    const total = m.tables.reduce((n, t) => n + t.data_length, 0);
    let done = 0;
    const onBytes = (n: number) => {
      done += n;
      o.onProgress?.(done, total);
    };
    const queue = [...m.tables].sort((a, b) => b.data_length - a.data_length);
    const results = new Map<string, LoadedTable>();
    let loadedOne = false;
    const jobs = Math.max(1, Math.min(o.jobs ?? defaultJobs(), queue.length || 1));
    for (let i = 0; i < jobs * 2; i++) conns.push(await openSession(o));
    o.onStep?.(`loading ${m.tables.length} tables on ${jobs} connection${jobs > 1 ? 's' : ''}`);
    const worker = async (conn: RawConnection, hashConn: RawConnection) => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const split = splits.get(t.name) ?? null;
        const spec = specs.get(t.name)!;
        try {
          if (t.rows > 0 && t.data_length > 0) {
            const chunks = openDecompressed(o.file, { start: t.data_offset, length: t.data_length, onBytes }) as AsyncIterable<Buffer>;
            const useLoadData = infile && t.load === 'load-data' && !(split && hasBinaryColumns(split));
            if (useLoadData) {
              methods.add('load-data');
              const outcome = writeSet === null ? await loadData(conn, t.name, t.columns, chunks) : await loadDataInRuns(conn, t.name, t.columns, chunks, writeSet, pace);
              await failOnWarnings(conn, t.name, outcome, t.rows);
            } else {
              methods.add('statements');
              await runStatements(conn, statementsOf(chunks), writeSet, pace);
            }
          }
          // Build the secondary indexes and hash the rows at the same time: an in-place ALTER
          // lets reads run once it has started (the hash waits a moment so that the ALTER takes
          // its metadata lock first; otherwise the ALTER would wait for the hash to finish).
          // Not where DDL aborts readers (a cluster's TOI): there the index comes first.
          let h: { rows: number; sha256: string };
          if (split && split.keys.length && !rules.alterAlongsideReads) {
            await addKeys(conn, split);
            h = await hashMysqlTable(hashConn, spec);
          } else if (split && split.keys.length) {
            const altering = addKeys(conn, split);
            await Promise.race([altering.catch(() => undefined), new Promise((r) => setTimeout(r, 250))]);
            const hashing = hashMysqlTable(hashConn, spec);
            [h] = await Promise.all([hashing, altering]);
          } else {
            h = await hashMysqlTable(hashConn, spec);
          }
          if (h.rows !== t.rows || h.sha256 !== t.sha256) {
            throw new IntegrityError(
              `table ${t.name} does not match the manifest after loading (${h.rows} rows, expected ${t.rows}${h.rows === t.rows ? '; SHA-256 differs' : ''}): the backup is not what its manifest describes; nothing was changed`,
              { code: 'verify_mismatch' },
            );
          }
          results.set(t.name, { name: t.name, rows: h.rows, sha256: h.sha256, auto_increment: null, verified: true });
        } catch (err) {
          throw translateLoadError(err, t.name);
        }
        if (!loadedOne) {
          loadedOne = true;
          await pauseAt('restore:load');
        }
      }
    };
    await Promise.all(Array.from({ length: jobs }, (_, i) => worker(conns[2 * i]!, conns[2 * i + 1]!)));
    o.onStep?.('adding foreign keys');
    for (const t of m.tables) {
      const split = splits.get(t.name);
      if (split) await addForeignKeys(control, split);
    }
    const ai = await autoIncrements(control);
    for (const t of m.tables) {
      const r = results.get(t.name)!;
      r.auto_increment = ai.get(t.name) ?? null;
      if (t.auto_increment !== null && r.auto_increment !== null && r.auto_increment < t.auto_increment) {
        // AUTO_INCREMENT never goes backwards on the live side: put it where the backup had it.
        await run(control, `ALTER TABLE ${quoteId(t.name)} AUTO_INCREMENT = ${Number(t.auto_increment)}`);
        r.auto_increment = t.auto_increment;
      }
    }
    if (methods.size === 0) methods = new Set(['load-data']);
    return {
      tables: m.tables.map((t) => results.get(t.name)!),
      method: methods.size > 1 ? 'mixed' : [...methods][0]!,
      migrations: await readMigrations(control),
      created: m.tables.map((t) => t.name),
    };
  } finally {
    await pacer?.close();
    for (const c of conns) await closeQuietly(c);
    await closeQuietly(control);
  }
}

function stripLeading(sql: string): string {
  return sql.replace(/^(\s*--[^\n]*\n)+/, '').trim();
}

/**
 * A stock mysqldump / mariadb-dump file (or a billettigue file whose manifest is not used):
 * statements in order on one connection, plain INSERT runs through LOAD DATA.
 */
export async function loadDumpMysql(o: LoadOptions): Promise<LoadResult> {
  const conn = await openSession(o);
  const rules = rulesOf(conn);
  let pacer: LoadPacer | undefined;
  try {
    const writeSet = await rules.writeSetBytes(conn);
    // No row counts before the rows: a stock dump's indexes are all deferred, or none (a cluster).
    const deferKeys = rules.deferIndexesFrom() !== null;
    const deferred: Array<[string, SplitTable]> = [];
    pacer = await rules.loadPacer(conn, o.target);
    const pace = pacer;
    const infile = await localInfileAllowed(conn);
    if (!infile) o.onWarning?.('the server does not allow LOAD DATA LOCAL INFILE (local_infile=OFF): loading with INSERT statements, which is slower');
    const splits = new Map<string, SplitTable | null>();
    const created: string[] = [];
    const counts = new Map<string, number>();
    const methods = new Set<'load-data' | 'statements'>();
    let total = 0;
    const { statSync } = await import('node:fs');
    total = statSync(o.file).size;
    let done = 0;
    const source = openDecompressed(o.file, {
      onBytes: (n) => {
        done += n;
        o.onProgress?.(done, total);
      },
    }) as AsyncIterable<Buffer>;

    // A LOAD DATA in progress for one table: statements are fed to it until another kind comes.
    let feed: { table: string; bytes: number; push: (b: Buffer | null) => Promise<void>; result: Promise<LoadDataOutcome> } | null = null;
    const endFeed = async () => {
      if (!feed) return;
      const f = feed;
      feed = null;
      await f.push(null);
      const outcome = await f.result.catch((err: unknown) => {
        throw translateLoadError(err, f.table);
      });
      await failOnWarnings(conn, f.table, outcome, null);
      counts.set(f.table, (counts.get(f.table) ?? 0) + outcome.records);
    };
    const startFeed = (table: string, columns: string[] | null) => {
      const pending: Array<Buffer | null> = [];
      const signal: { wake?: () => void; space?: () => void } = {};
      const chunks = (async function* () {
        for (;;) {
          if (pending.length === 0) await new Promise<void>((r) => (signal.wake = r));
          const b = pending.shift()!;
          const sp = signal.space;
          signal.space = undefined;
          sp?.();
          if (b === null) return;
          yield b;
        }
      })();
      const result = loadData(conn, table, columns, chunks);
      let settled = false;
      const settle = () => {
        settled = true;
        const sp = signal.space;
        signal.space = undefined;
        sp?.();
      };
      result.then(settle, settle);
      feed = {
        table,
        bytes: 0,
        result,
        push: async (b) => {
          pending.push(b);
          const w = signal.wake;
          signal.wake = undefined;
          w?.();
          while (pending.length > 4 && !settled) await new Promise<void>((r) => (signal.space = r));
          if (settled && b !== null) await result; // LOAD DATA ended early: surface its error
        },
      };
    };

    for await (const stmt of splitStatements(source, 'mysql')) {
      const k = classifyStatement(stmt);
      const current = feed as { table: string } | null;
      // Another statement or another table: this LOAD DATA ends.
      if (current && !(k.kind === 'insert' && k.plain && k.table === current.table)) await endFeed();
      switch (k.kind) {
        case 'skip':
          break;
        case 'set':
          await run(conn, stmt.toString('utf8'));
          break;
        case 'use':
          throw new InvalidInput('the dump switches database (USE …: made with --databases or --all-databases): dump one database without those options');
        case 'create-database':
          throw new InvalidInput('the dump creates databases (made with --databases or --all-databases): dump one database without those options');
        case 'delimiter':
          throw new InvalidInput('the dump contains triggers or routines (DELIMITER): billettigue restores tables only; dump with --skip-triggers');
        case 'unsupported':
          throw new InvalidInput(`the dump contains a statement billettigue does not restore ("${k.what}…"): only tables and their rows are restored`);
        case 'drop-table':
          await run(conn, `DROP TABLE IF EXISTS ${quoteId(k.table)}`);
          break;
        case 'create-table': {
          const sql = stripLeading(stmt.toString('utf8'));
          const split = splitCreateTable(sql);
          splits.set(k.table, split);
          if (split && deferKeys) deferred.push([k.table, split]);
          await run(conn, split && deferKeys ? split.base : sql);
          created.push(k.table);
          break;
        }
        case 'insert': {
          const split = splits.get(k.table);
          // A cluster: one write set per part, none over the bound.
          const parts = writeSet === null ? [stmt] : await splitInsert(stmt, writeSet);
          if (k.plain && infile && !(split && hasBinaryColumns(split)) && !(split && split.columns.some((c) => c.generated))) {
            methods.add('load-data');
            for (const part of parts) {
              if (feed && writeSet !== null && (feed as { bytes: number }).bytes + part.length > writeSet) await endFeed();
              if (!feed) {
                await pace.wait();
                startFeed(k.table, null);
              }
              const f = feed as unknown as { bytes: number; push: (b: Buffer) => Promise<void> };
              f.bytes += part.length;
              await f.push(part);
            }
          } else {
            methods.add('statements');
            try {
              for (const part of parts) {
                await pace.wait();
                const r = await run<OkPacket>(conn, part.toString('utf8'));
                counts.set(k.table, (counts.get(k.table) ?? 0) + (r.affectedRows ?? 0));
              }
            } catch (err) {
              throw translateLoadError(err, k.table);
            }
          }
          break;
        }
      }
    }
    await endFeed();
    await pauseAt('restore:load');
    if (deferred.length) o.onStep?.('building indexes');
    for (const [name, split] of deferred) {
      try {
        await addKeys(conn, split);
      } catch (err) {
        throw translateLoadError(err, name);
      }
    }
    for (const [, split] of deferred) await addForeignKeys(conn, split);
    await checkForeignKeys(conn);
    const specs = await describeMysqlTables(conn);
    const ai = await autoIncrements(conn);
    const tables: LoadedTable[] = [];
    for (const s of specs) {
      const h = await hashMysqlTable(conn, s);
      tables.push({ name: s.name, rows: h.rows, sha256: h.sha256, auto_increment: ai.get(s.name) ?? null, verified: false });
    }
    return {
      tables,
      method: methods.size > 1 ? 'mixed' : ([...methods][0] ?? 'load-data'),
      migrations: await readMigrations(conn),
      created,
    };
  } finally {
    await pacer?.close();
    await closeQuietly(conn);
  }
}

/** With FOREIGN_KEY_CHECKS=0 a dump can hold orphans: refuse them (unverified files only). */
async function checkForeignKeys(conn: RawConnection): Promise<void> {
  const fks = await rows<{ table_name: string; constraint_name: string; column_name: string; ref_table: string; ref_column: string; pos: number }>(
    conn,
    `SELECT k.table_name AS table_name, k.constraint_name AS constraint_name, k.column_name AS column_name, k.referenced_table_name AS ref_table, k.referenced_column_name AS ref_column, k.ordinal_position AS pos
       FROM information_schema.key_column_usage k
      WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL
      ORDER BY k.table_name, k.constraint_name, k.ordinal_position`,
  );
  const byFk = new Map<string, typeof fks>();
  for (const f of fks) {
    const key = `${f.table_name}\u0000${f.constraint_name}`;
    byFk.set(key, [...(byFk.get(key) ?? []), f]);
  }
  for (const cols of byFk.values()) {
    const c0 = cols[0]!;
    const on = cols.map((c) => `p.${quoteId(c.ref_column)} = c.${quoteId(c.column_name)}`).join(' AND ');
    const notNull = cols.map((c) => `c.${quoteId(c.column_name)} IS NOT NULL`).join(' AND ');
    const orphan = await rows<{ x: number }>(
      conn,
      `SELECT 1 AS x FROM ${quoteId(c0.table_name)} c LEFT JOIN ${quoteId(c0.ref_table)} p ON ${on} WHERE ${notNull} AND p.${quoteId(cols[0]!.ref_column)} IS NULL LIMIT 1`,
    ).catch(() => []);
    if (orphan.length) {
      throw new IntegrityError(`the dump violates foreign key ${c0.constraint_name} (${c0.table_name} → ${c0.ref_table}): rows reference missing ones; nothing was changed`, { code: 'orphans_in_backup' });
    }
  }
}
