/**
 * PostgreSQL logical backup, inside one consistent snapshot on one session.
 *
 * The file is plain SQL in the shape of `pg_dump` (plain format), which psql loads
 * (`gunzip < f | psql -d db`):
 *   header     comments, session SETs, then the pre-data: the sequences the tables own, every
 *              CREATE TABLE (columns, defaults, identity, NOT NULL, CHECKs), OWNED BY
 *   data       per table `COPY t (cols) FROM stdin;`, the rows in primary-key order exactly as
 *              `COPY … TO STDOUT` wrote them, and `\.` — the rows in their own gzip members
 *              (the manifest records each range: a restore loads them in parallel)
 *   footer     the post-data: setval of every sequence, primary keys and unique constraints,
 *              indexes, foreign keys; then the trailer comment with every table's rows/SHA-256
 * Snapshot: the tables are locked IN ACCESS SHARE MODE (no DDL can touch them until the end)
 * before the REPEATABLE READ, READ ONLY transaction takes its snapshot (LOCK takes none), so the
 * definitions written are the ones the rows were read under. The COPY text goes to the file
 * unchanged and, transcoded to the canonical row form (copy-text.ts), into each table's SHA-256;
 * the COPY text is read straight off the socket (copy-out.ts).
 */
import { createHash } from 'node:crypto';
import type { PostgresTarget } from '../../../db/config.js';
import { Conflict } from '../../../domain/errors.js';
import { ChunkBuilder, type GzipWriter } from '../../gzip-pool.js';
import { pauseAt } from '../../pause.js';
import { trailerLine, type DumpedTable, type DumpHooks, type DumpResultBase } from '../../dump-types.js';
import { closeQuietly, destroy, openPg, q, qi, ql, rows, type PgSession } from './conn.js';
import { CopyToCanonical } from './copy-text.js';
import { copyOut } from './copy-out.js';
import { describePgObjects, describePgTables, listPgTables, objectsText, postData, postDataText, preData, readSequences, type PgTableSpec } from './catalog.js';

/** Target size of one gzip member. */
const MEMBER_BYTES = 2 << 20;

/** The session settings our files start with (what psql needs before any row). */
export const PG_FILE_SETTINGS = [
  'SET statement_timeout = 0;',
  'SET lock_timeout = 0;',
  'SET idle_in_transaction_session_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  'SET standard_conforming_strings = on;',
  'SET check_function_bodies = false;',
  'SET client_min_messages = warning;',
  'SET row_security = off;',
  "SET TimeZone = 'UTC';",
  "SET DateStyle = 'ISO, YMD';",
];

export interface PgTableRead {
  rows: number;
  sha256: string;
}

/** `COPY (SELECT cols FROM t ORDER BY pk) TO STDOUT`: the canonical order of a table's rows. */
export function copyOutSql(spec: { name: string; columns: Array<{ name: string }>; primaryKey: string[] }, schema?: string): string {
  const order = (spec.primaryKey.length ? spec.primaryKey : spec.columns.map((c) => c.name)).map(qi).join(', ');
  const from = schema ? `${qi(schema)}.${qi(spec.name)}` : qi(spec.name);
  return `COPY (SELECT ${spec.columns.map((c) => qi(c.name)).join(', ')} FROM ${from} ORDER BY ${order}) TO STDOUT`;
}

/**
 * Streams a table's rows (canonical order) through the canonical transcoder into a SHA-256;
 * `onData` also receives the COPY text itself (the backup writes it to the file).
 */
export async function readPgTable(
  conn: PgSession,
  spec: { name: string; columns: Array<{ name: string; code: number }>; primaryKey: string[] },
  options: { schema?: string; onData?: (chunk: Buffer) => void | Promise<void>; onRows?: (rows: number) => void } = {},
): Promise<PgTableRead> {
  const tr = new CopyToCanonical(Uint8Array.from(spec.columns.map((c) => c.code)));
  const hash = createHash('sha256');
  let reported = 0;
  const sent = await copyOut(conn, copyOutSql(spec, options.schema), (buf, start, end) => {
    tr.write(buf, start, end);
    tr.drain(hash);
    if (options.onRows && tr.rows - reported >= 16384) {
      reported = tr.rows;
      options.onRows(tr.rows);
    }
    return options.onData?.(buf.subarray(start, end));
  });
  tr.finish();
  if (sent !== tr.rows) throw new Error(`COPY of ${spec.name}: the server reported ${sent} rows, ${tr.rows} were read`);
  return { rows: tr.rows, sha256: hash.digest('hex') };
}

export async function pgServerVersion(conn: PgSession): Promise<string> {
  const [v] = await rows<{ v: string }>(conn, "SELECT current_setting('server_version') AS v");
  return `PostgreSQL ${v!.v}`;
}

/** The schema unqualified names resolve to (where billettigue's tables live: `public` by default). */
export async function liveSchema(conn: PgSession): Promise<string> {
  const [r] = await rows<{ s: string | null }>(conn, 'SELECT current_schema() AS s');
  if (!r?.s) throw new Conflict('no schema of the search_path exists in this database: set search_path (or create the schema) first', { code: 'no_schema' });
  return r.s;
}

export async function pgMigrations(conn: PgSession, schema: string): Promise<string[]> {
  const [has] = await rows<{ n: string }>(conn, "SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = $1 AND tablename = 'knex_migrations'", [schema]);
  if (!Number(has?.n)) return [];
  const r = await rows<{ name: string }>(conn, `SELECT name FROM ${qi(schema)}.knex_migrations ORDER BY id`);
  return r.map((x) => x.name.replace(/\.(ts|js)$/, ''));
}

/** The sequence a table's AUTO_INCREMENT figure comes from: the one its primary key owns, else its first. */
export function mainSequence(t: PgTableSpec): PgTableSpec['sequences'][number] | undefined {
  return t.sequences.find((s) => t.primaryKey.includes(s.column)) ?? t.sequences[0];
}

/**
 * Opens the snapshot: locks the tables (ACCESS SHARE: readers and writers go on, DDL waits),
 * then the first read fixes the snapshot. A table created or dropped between listing and
 * locking makes it start over (a few times at most).
 */
async function lockAndSnapshot(conn: PgSession, schema: string, only?: string[]): Promise<void> {
  let names = (await listPgTables(conn, schema)).map((t) => t.name).filter((n) => !only || only.includes(n));
  for (let attempt = 0; ; attempt++) {
    await q(conn, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await q(conn, "SET LOCAL lock_timeout = '30s'");
    if (names.length) await q(conn, `LOCK TABLE ${names.map((n) => `${qi(schema)}.${qi(n)}`).join(', ')} IN ACCESS SHARE MODE`);
    const now = (await listPgTables(conn, schema)).map((t) => t.name).filter((n) => !only || only.includes(n));
    if (now.join('\n') === names.join('\n')) return;
    await q(conn, 'ROLLBACK');
    if (attempt >= 3) throw new Conflict('tables kept being created or dropped while the backup started: nothing was published; run it again', { code: 'ddl_during_backup' });
    names = now;
  }
}

export async function dumpPostgres(target: PostgresTarget, writer: GzipWriter, hooks: DumpHooks): Promise<DumpResultBase> {
  const conn = await openPg(target, { application: 'billettigue backup' });
  hooks.onConnection?.({ destroy: () => destroy(conn) });
  try {
    const schema = await liveSchema(conn);
    // Deparsed expressions (defaults, checks, index definitions) come out unqualified.
    await q(conn, `SELECT pg_catalog.set_config('search_path', ${ql(qi(schema))}, false)`);
    await lockAndSnapshot(conn, schema, hooks.tables);
    await pauseAt('backup:snapshot');
    const serverVersion = await pgServerVersion(conn);
    const specs = await describePgTables(conn, schema, hooks.tables);
    const migrations = await pgMigrations(conn, schema);
    if (specs.length) {
      const triggers = await rows<{ name: string; tbl: string }>(
        conn,
        'SELECT t.tgname AS name, c.relname AS tbl FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgrelid = ANY($1::oid[]) ORDER BY 1',
        [specs.map((s) => s.oid)],
      );
      if (triggers.length) hooks.onWarning?.(`triggers are not part of the backup: ${triggers.map((t) => `${t.name} on ${t.tbl}`).join(', ')}`);
    }

    const header = new ChunkBuilder(1 << 16);
    header.text(
      [
        `-- billettigue backup (format 1) of ${target.display}`,
        `-- server ${serverVersion}; taken ${new Date().toISOString()}; schema ${schema}`,
        '-- load it with `billettigue restore FILE` (verified, atomic), or: gunzip < FILE | psql -v ON_ERROR_STOP=1 -d DBNAME',
        '',
        ...PG_FILE_SETTINGS,
        '',
      ].join('\n') + '\n',
    );
    // The extensions and functions the tables rely on (bt_fold() under the city indexes).
    const { objects, skipped } = await describePgObjects(conn, schema);
    if (skipped.length) hooks.onWarning?.(`aggregates and other routines pg_get_functiondef cannot print are not part of the backup: ${skipped.join(', ')}`);
    header.text(objectsText(objects) + '\n');
    header.text(preData(specs) + '\n');
    writer.push(header.take(), 'header');

    const totalEstimate = specs.reduce((n, s) => n + s.estimatedRows, 0);
    let done = 0;
    const tables: DumpedTable[] = [];
    for (const spec of specs) {
      writer.push(Buffer.from(`-- data ${spec.name}\nCOPY ${qi(spec.name)} (${spec.columns.map((c) => qi(c.name)).join(', ')}) FROM stdin;\n`), `copy:${spec.name}`);
      const tag = `data:${spec.name}`;
      const chunk = new ChunkBuilder(MEMBER_BYTES + (1 << 17));
      const before = done;
      const read = await readPgTable(conn, spec, {
        onData: async (buf) => {
          chunk.bytes(buf);
          if (chunk.len >= MEMBER_BYTES) {
            writer.pushFrom(chunk, tag);
            if (writer.full) await writer.drained();
          }
        },
        onRows: (n) => hooks.onProgress?.((done = before + n), Math.max(totalEstimate, done)),
      });
      if (chunk.len > 0) writer.pushFrom(chunk, tag);
      writer.push(Buffer.from('\\.\n\n'), `end:${spec.name}`);
      done = before + read.rows;
      tables.push({
        name: spec.name,
        rows: read.rows,
        sha256: read.sha256,
        columns: spec.columns.map((c) => c.name),
        primary_key: spec.primaryKey,
        auto_increment: null,
        load: 'copy',
      });
      hooks.onProgress?.(done, Math.max(totalEstimate, done));
      if (tables.length === 1) await pauseAt('backup:data');
    }
    // Sequences are not transactional: read after the rows, their position is at least past them.
    await readSequences(conn, specs);
    await q(conn, 'COMMIT');
    for (const t of tables) t.auto_increment = mainSequence(specs.find((s) => s.name === t.name)!)?.next ?? null;

    const footer = new ChunkBuilder(1 << 16);
    footer.text(`-- post-data\n${postDataText(postData(specs))}\n${trailerLine(tables)}\n-- end of billettigue backup\n`);
    writer.push(footer.take(), 'footer');
    return {
      kind: 'postgres',
      serverVersion,
      database: { name: target.database, host: `${target.host}:${target.port}`, display: target.display },
      migrations,
      tables,
      snapshot: 'tables locked IN ACCESS SHARE MODE, then one REPEATABLE READ, READ ONLY transaction on one session',
    };
  } catch (err) {
    throw translateDumpError(err);
  } finally {
    await closeQuietly(conn);
  }
}

export function translateDumpError(err: unknown): unknown {
  const e = err as { code?: string };
  if (e?.code === '42P01') {
    return new Conflict('a table was dropped during the backup: nothing was published; run the backup again', { code: 'ddl_during_backup', cause: err });
  }
  if (e?.code === '55P03') {
    return new Conflict('the tables stayed locked by other sessions (DDL in progress?) for 30 s: nothing was published; run the backup when they are done', {
      code: 'tables_busy',
      cause: err,
    });
  }
  return err;
}
