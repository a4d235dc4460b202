/**
 * The PostgreSQL bulk path (src/db/bulk.ts dispatches here through the engine):
 * `COPY … FROM STDIN` fed straight from the generator. COPY's text format is the TSV the MySQL
 * path already writes (`TsvSink`: tab-separated, `\N` for NULL, backslash escapes for tab,
 * newline, CR and backslash; booleans as 1/0, which PostgreSQL reads as true/false; times as
 * 'YYYY-MM-DD HH:MM:SS' in the session's UTC). Every `batchRows` rows are one COPY in its own
 * transaction, committed once the server has taken exactly the rows sent: PostgreSQL checks NOT
 * NULL, CHECK, unique and foreign-key constraints as the rows arrive, and a refused row fails the
 * whole statement (nothing of that batch stays). The generator writes the next chunk while the
 * server parses the previous one (the socket holds it).
 * Emptying tables (seed --fresh): one `TRUNCATE … RESTART IDENTITY` of them all (transactional;
 * foreign keys between them are fine, the sequences start again at 1).
 */
import type { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { copyStreams } from './copy.js';
import { IntegrityError, Interrupted } from '../../../domain/errors.js';
import { CHUNK_ROWS, TsvSink, type BulkJob, type BulkLoader, type BulkOptions, type EngineBulk, type PoolClient } from '../../bulk.js';
import { postgresEngine } from './index.js';

interface PgRawConnection {
  query(q: unknown, values?: unknown[]): Promise<unknown> | Writable;
  connection?: { stream?: { destroy(): void } };
  /** knex's mark of a connection its pool must destroy instead of reusing. */
  __knex__disposed?: unknown;
}

interface CopyStream extends Writable {
  rowCount: number;
}

const qi = (name: string): string => postgresEngine.quoteIdent(name);

/** Resolves when the stream can take more, or has failed or closed (the caller checks which). */
function drained(s: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('error', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('error', done);
    s.on('close', done);
  });
}

class PgCopyLoader implements BulkLoader {
  readonly path = 'copy' as const;
  private aborted = false;
  private stream: CopyStream | null = null;

  private constructor(
    private readonly client: PoolClient,
    private readonly conn: PgRawConnection,
    /** Rows per COPY (and transaction). */
    private readonly batch: number,
  ) {}

  static async open(knex: Knex, batch: number): Promise<PgCopyLoader> {
    const client = knex.client as unknown as PoolClient;
    const conn = (await client.acquireConnection()) as PgRawConnection;
    return new PgCopyLoader(client, conn, batch);
  }

  private async sql(text: string): Promise<void> {
    if (this.aborted) throw new Interrupted();
    try {
      await (this.conn.query(text) as Promise<unknown>);
    } catch (err) {
      throw this.aborted ? new Interrupted() : err;
    }
  }

  async load(job: BulkJob, onRows?: (done: number) => void): Promise<number> {
    const { from } = await copyStreams();
    const sink = new TsvSink();
    const it = job.produce(sink);
    const copy = `COPY ${qi(job.table)} (${job.columns.map(qi).join(', ')}) FROM STDIN`;
    let done = 0;
    let exhausted = false;
    while (!exhausted) {
      await this.sql('BEGIN');
      const stream = (this.stream = this.conn.query(from(copy)) as CopyStream);
      let failure: unknown = null;
      stream.on('error', (err) => (failure ??= err));
      const finished = new Promise<void>((resolve, reject) => {
        stream.once('finish', resolve);
        stream.once('error', reject);
      });
      finished.catch(() => undefined);
      let sent = 0;
      try {
        while (!exhausted && sent < this.batch) {
          exhausted = Boolean(it.next().done);
          if (sink.pending < CHUNK_ROWS && !exhausted) continue;
          const chunk = sink.take();
          if (chunk.rows === 0) continue;
          sent += chunk.rows;
          if (!stream.write(chunk.text)) await drained(stream);
          if (failure) throw failure;
          if (this.aborted) throw new Interrupted();
          onRows?.(done + sent);
        }
        stream.end();
        await finished;
        if (stream.rowCount !== sent) {
          throw new IntegrityError(`COPY into ${job.table} took ${stream.rowCount} of ${sent} rows; that batch was rolled back`, { code: 'bulk_rejected' });
        }
        await this.sql('COMMIT');
      } catch (err) {
        if (this.aborted) throw new Interrupted();
        // A generator failure: cancel the COPY (CopyFail), then roll the batch back.
        if (!stream.writableFinished) {
          stream.destroy(err instanceof Error ? err : new Error(String(err)));
          await finished.catch(() => undefined);
        }
        await this.sql('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        this.stream = null;
      }
      done += sent;
      onRows?.(done);
      if (sent === 0) break;
    }
    await this.sequencesPastMax(job.table);
    return done;
  }

  /**
   * The rows came with their ids: every sequence the table's columns own (serial, identity) is
   * moved past the largest value (never backwards), or the next plain INSERT would collide.
   */
  private async sequencesPastMax(table: string): Promise<void> {
    const owned = (await (this.conn.query(
      `SELECT a.attname AS col, pg_get_serial_sequence($1, a.attname) AS seq FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND pg_get_serial_sequence($1, a.attname) IS NOT NULL`,
      [qi(table)],
    ) as Promise<{ rows: Array<{ col: string; seq: string }> }>)).rows;
    for (const o of owned) {
      await this.sql(
        `SELECT setval('${o.seq.replace(/'/g, "''")}', m.top) FROM (SELECT max(${qi(o.col)}) AS top FROM ${qi(table)}) m
          WHERE m.top IS NOT NULL AND m.top > (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM ${o.seq})`,
      );
    }
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    // The server rolls the open batch back when the session goes; the pool must not reuse it.
    this.conn.__knex__disposed = 'aborted';
    this.conn.connection?.stream?.destroy();
    this.stream?.destroy(new Interrupted());
  }

  async close(): Promise<void> {
    if (!this.aborted) await this.sql('ROLLBACK').catch(() => undefined);
    await this.client.releaseConnection(this.conn);
  }
}

async function emptyPostgresTables(knex: Knex, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return;
  await knex.raw(`TRUNCATE TABLE ${tables.map(qi).join(', ')} RESTART IDENTITY`);
}

export const postgresBulk: EngineBulk = {
  open: (knex: Knex, options: BulkOptions) => PgCopyLoader.open(knex, options.batchRows ?? 250_000),
  emptyTables: emptyPostgresTables,
};
