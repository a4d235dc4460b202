/**
 * The MySQL/MariaDB bulk path (src/db/bulk.ts dispatches here through the engine):
 * - `LOAD DATA LOCAL INFILE` fed by a stream (mysql2's `infileStreamFactory`), the fastest way
 *   in. The rows are written as TSV straight from the generator, never as files. LOCAL loads turn
 *   data errors into warnings and skip the row (the server cannot stop the client mid-file), so
 *   every statement runs in its own transaction and is committed only when the server accepted
 *   exactly the rows sent with no warning; otherwise it is rolled back and the first warnings are
 *   reported.
 * - Without `local_infile` (MySQL 8's default): multi-row INSERTs of a few thousand rows, several
 *   statements per transaction, the next statement built while the server runs the previous one.
 * - Emptying tables (seed --fresh): TRUNCATE with foreign-key checks off on one pinned session
 *   (DDL: commits as it goes).
 */
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { IntegrityError, Interrupted } from '../../../domain/errors.js';
import { CHUNK_ROWS, SqlValuesSink, TsvSink, type BulkJob, type BulkLoader, type BulkOptions, type BulkPath, type EngineBulk, type PoolClient } from '../../bulk.js';
import { rawRows } from '../../dialect.js';
import { mysqlEngine } from './index.js';

const quoteIdent = (name: string): string => mysqlEngine.quoteIdent(name);

async function openMysqlLoader(knex: Knex, options: BulkOptions): Promise<BulkLoader> {
  const batch = options.batchRows;
  const want = options.mysqlPath ?? 'auto';
  if (want === 'insert') return MysqlInsertLoader.open(knex, batch ?? 50_000);
  const refusal = await loadDataRefusal(knex);
  if (refusal === null) return MysqlLoadDataLoader.open(knex, batch ?? 250_000);
  if (want === 'load-data') throw new IntegrityError(`LOAD DATA LOCAL INFILE is not available: ${refusal}`, { code: 'load_data_unavailable' });
  options.onFallback?.(refusal);
  return MysqlInsertLoader.open(knex, batch ?? 50_000);
}

interface MysqlResultHeader {
  affectedRows: number;
  warningStatus?: number;
  info?: string;
}

interface MysqlRawConnection {
  destroy(): void;
  query(options: { sql: string; infileStreamFactory?: (path: string) => Readable }, cb: (err: Error | null, result: unknown) => void): void;
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
    const cols = job.columns.map((c) => quoteIdent(c)).join(', ');
    const sql =
      `LOAD DATA LOCAL INFILE 'billettigue-demo' INTO TABLE ${quoteIdent(job.table)} CHARACTER SET utf8mb4 ` +
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
    const head = `INSERT INTO ${quoteIdent(job.table)} (${job.columns.map((c) => quoteIdent(c)).join(', ')}) VALUES `;
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

async function emptyMysqlTables(knex: Knex, tables: readonly string[]): Promise<void> {
  const client = knex.client as unknown as PoolClient;
  const conn = (await client.acquireConnection()) as MysqlRawConnection;
  try {
    await rawQuery(conn, 'SET FOREIGN_KEY_CHECKS = 0');
    for (const t of tables) await rawQuery(conn, `TRUNCATE TABLE ${quoteIdent(t)}`);
  } finally {
    await rawQuery(conn, 'SET FOREIGN_KEY_CHECKS = 1').catch(() => undefined);
    await client.releaseConnection(conn);
  }
}

export const mysqlBulk: EngineBulk = { open: openMysqlLoader, emptyTables: emptyMysqlTables };
