/**
 * MySQL/MariaDB logical backup, inside one consistent snapshot on one connection.
 *
 * The file is plain SQL that the stock client loads (`gunzip < f | mariadb db`):
 *   header   comments, session SETs (FOREIGN_KEY_CHECKS=0 … like mysqldump), then for every table
 *            DROP TABLE IF EXISTS + CREATE TABLE exactly as SHOW CREATE TABLE prints it
 *   data     per table, multi-row `INSERT INTO `t` VALUES (…),(…);` statements of ≤ 1 MiB, in
 *            primary-key order, in their own gzip members (the manifest records each range)
 *   footer   the session settings restored, and a trailer comment with every table's rows/SHA-256
 * Each row's VALUES tuple is its canonical serialisation (canonical.ts), built byte by byte from
 * the server's row packets (`appendCanonicalRow`) straight into the output buffer: the server only
 * scans and sends, the same bytes feed the file, the table's SHA-256 and the gzip members.
 */
import { createHash } from 'node:crypto';
import type { MysqlTarget } from '../../../db/config.js';
import { Conflict } from '../../../domain/errors.js';
import { mysqlValueClass, type ColumnInfo } from '../../canonical.js';
import { ChunkBuilder, type GzipWriter } from '../../gzip-pool.js';
import { closeQuietly, openMysql, quoteId, rows, run, type RawConnection } from './conn.js';
import { pauseAt } from '../../pause.js';
import { isLeftoverName } from '../../../db/leftovers.js';
import { selectTables, trailerLine, type DumpedTable, type DumpHooks, type DumpResultBase } from '../../dump-types.js';

/** Target size of one INSERT statement (the stock client's default max_allowed_packet is 16 MiB). */
export const STATEMENT_BYTES = 1 << 20;
/** Target size of one gzip member. */
export const MEMBER_BYTES = 2 << 20;

export const MYSQL_FILE_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';

export interface MysqlTableSpec {
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  createSql: string;
  /** Column names that are generated (not inserted). */
  generated: string[];
  estimatedRows: number;
}

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: string;
  numeric_scale: number | null;
  extra: string;
}

/** Table specs of the current database (columns, primary key, CREATE TABLE), in name order. */
export async function describeMysqlTables(conn: RawConnection, only?: string[]): Promise<MysqlTableSpec[]> {
  const tables = await rows<{ name: string; est: number | string | null }>(
    conn,
    "SELECT table_name AS name, table_rows AS est FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  const names = selectTables(tables.filter((t) => !isLeftoverName(t.name)), only).map((t) => t.name);
  const cols = await rows<ColumnRow>(
    conn,
    // Lower-case aliases: MySQL 8 returns information_schema column names in upper case.
    'SELECT table_name AS table_name, column_name AS column_name, data_type AS data_type, is_nullable AS is_nullable, numeric_scale AS numeric_scale, extra AS extra FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position',
  );
  const pks = await rows<{ table_name: string; column_name: string }>(
    conn,
    "SELECT table_name AS table_name, column_name AS column_name FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND constraint_name = 'PRIMARY' ORDER BY table_name, ordinal_position",
  );
  const est = new Map(tables.map((t) => [t.name, Number(t.est ?? 0)]));
  const specs: MysqlTableSpec[] = [];
  for (const name of names) {
    const mine = cols.filter((c) => c.table_name === name);
    const generated = mine.filter((c) => /GENERATED/i.test(c.extra)).map((c) => c.column_name);
    const columns: ColumnInfo[] = mine
      .filter((c) => !generated.includes(c.column_name))
      .map((c) => ({
        name: c.column_name,
        type: c.data_type.toLowerCase(),
        nullable: c.is_nullable === 'YES',
        cls: mysqlValueClass(c.data_type),
        scale: Number(c.numeric_scale ?? 0),
      }));
    const [create] = await rows<Record<string, string>>(conn, `SHOW CREATE TABLE ${quoteId(name)}`);
    specs.push({
      name,
      columns,
      primaryKey: pks.filter((p) => p.table_name === name).map((p) => p.column_name),
      createSql: create!['Create Table']!,
      generated,
      estimatedRows: est.get(name) ?? 0,
    });
  }
  return specs;
}

/** AUTO_INCREMENT=N of a CREATE TABLE text (null when the table has none). */
export function autoIncrementOf(createSql: string): number | null {
  const m = /\bAUTO_INCREMENT=(\d+)/i.exec(createSql.slice(createSql.lastIndexOf('\n)')));
  return m ? Number(m[1]) : null;
}

function withoutAutoIncrement(createSql: string): string {
  return createSql.replace(/ AUTO_INCREMENT=\d+/i, '');
}

export interface MysqlDumpResult extends DumpResultBase {
  kind: 'mysql';
}

const CLS_NUMBER = 0;
const CLS_QUOTED = 1; // temporal: quoted, never needs escaping
const CLS_TEXT = 2;
const CLS_BINARY = 3;
const HEX = Buffer.from('0123456789ABCDEF');
/** Byte → the letter after the backslash when it must be escaped in a text value (0: as is). */
const ESCAPE = new Uint8Array(256);
ESCAPE[0x5c] = 0x5c; // \\
ESCAPE[0x27] = 0x27; // \'
ESCAPE[0x00] = 0x30; // \0
ESCAPE[0x0a] = 0x6e; // \n
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[0x1a] = 0x5a; // \Z

function classCodes(cols: readonly ColumnInfo[]): Uint8Array {
  return Uint8Array.from(
    cols.map((c) => (c.cls === 'integer' || c.cls === 'decimal' ? CLS_NUMBER : c.cls === 'temporal' ? CLS_QUOTED : c.cls === 'binary' ? CLS_BINARY : CLS_TEXT)),
  );
}

/**
 * Appends the canonical tuple of one text-protocol row packet (`buf[off..end)`: one
 * length-coded value per column) to `out`, byte by byte: numbers as the server wrote them,
 * temporals quoted, text quoted and escaped like mysqldump (\\ \' \0 \n \r \Z), binary as X'HEX'.
 * Returns the number of bytes written.
 */
export function appendCanonicalRow(buf: Buffer, off: number, end: number, cls: Uint8Array, out: ChunkBuilder): number {
  // Worst case: every byte escaped or hex-encoded (×2), plus quotes, commas, NULL words.
  out.ensure((end - off) * 2 + cls.length * 6 + 4);
  const o = out.buf;
  const p0 = out.len;
  let p = p0;
  o[p++] = 0x28; // (
  for (let i = 0; i < cls.length; i++) {
    if (i > 0) o[p++] = 0x2c; // ,
    let len = buf[off++]!;
    if (len >= 0xfb) {
      if (len === 0xfb) {
        o[p++] = 0x4e; // NULL
        o[p++] = 0x55;
        o[p++] = 0x4c;
        o[p++] = 0x4c;
        continue;
      }
      if (len === 0xfc) {
        len = buf[off]! | (buf[off + 1]! << 8);
        off += 2;
      } else if (len === 0xfd) {
        len = buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16);
        off += 3;
      } else {
        len = buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 0x100000000;
        off += 8;
      }
    }
    const stop = off + len;
    switch (cls[i]) {
      case CLS_NUMBER:
        while (off < stop) o[p++] = buf[off++]!;
        break;
      case CLS_QUOTED:
        o[p++] = 0x27;
        while (off < stop) o[p++] = buf[off++]!;
        o[p++] = 0x27;
        break;
      case CLS_TEXT:
        o[p++] = 0x27;
        while (off < stop) {
          const c = buf[off++]!;
          const e = ESCAPE[c]!;
          if (e === 0) o[p++] = c;
          else {
            o[p++] = 0x5c;
            o[p++] = e;
          }
        }
        o[p++] = 0x27;
        break;
      default:
        o[p++] = 0x58; // X'
        o[p++] = 0x27;
        while (off < stop) {
          const c = buf[off++]!;
          o[p++] = HEX[c >> 4]!;
          o[p++] = HEX[c & 15]!;
        }
        o[p++] = 0x27;
    }
  }
  o[p++] = 0x29; // )
  out.len = p;
  return p - p0;
}

interface RawPacket {
  buffer: Buffer;
  offset: number;
  end: number;
}

/**
 * Reads one table in primary-key order and appends each row's canonical tuple to `out` (then
 * calls `onRow(tupleLength)`). The row packets are formatted as bytes, straight from mysql2's
 * buffer: mysql2's own row parser (one JS value per column) is replaced for this query. The
 * server only scans and sends, like mysqldump; no string is built per value.
 */
export function streamMysqlRows(
  conn: RawConnection,
  spec: { name: string; columns: ColumnInfo[]; primaryKey: string[] },
  out: ChunkBuilder,
  onRow: (tupleLength: number) => void,
  backpressure?: { readonly full: boolean; drained(): Promise<void> },
  beforeRow?: () => void,
): Promise<void> {
  const order = (spec.primaryKey.length ? spec.primaryKey : spec.columns.map((c) => c.name)).map(quoteId).join(', ');
  const sql = `SELECT ${spec.columns.map((c) => quoteId(c.name)).join(', ')} FROM ${quoteId(spec.name)} ORDER BY ${order}`;
  const cls = classCodes(spec.columns);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let paused = false;
    let viaHook = 0;
    // mysql2 reports a connection lost under a streaming query (no callback) only to the
    // connection: without this the promise would never settle and the backup would end as if done.
    const onConnectionError = (err: Error) => finish(err);
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      conn.off('error', onConnectionError);
      if (err) reject(err);
      else resolve();
    };
    conn.on('error', onConnectionError);
    const parser = {
      next(packet: RawPacket): null {
        viaHook++;
        beforeRow?.();
        onRow(appendCanonicalRow(packet.buffer, packet.offset, packet.end, cls, out));
        if (backpressure && !paused && backpressure.full) {
          paused = true;
          conn.pause();
          backpressure.drained().then(
            () => {
              paused = false;
              conn.resume();
            },
            (err: unknown) => {
              finish(err);
              conn.destroy();
            },
          );
        }
        return null;
      },
    };
    const q = conn.query({ sql, rowsAsArray: true });
    // mysql2 assigns its compiled row parser to `_rowParser` once the columns are known; ours
    // takes its place (guarded below: if mysql2 ever stops using it, rows would arrive as arrays).
    Object.defineProperty(q, '_rowParser', { configurable: true, get: () => parser, set: () => undefined });
    q.on('result', (row: unknown) => {
      if (row !== null && viaHook === 0) {
        finish(new Error('this mysql2 version is not supported by the backup row reader (row parser hook not used)'));
        conn.destroy();
      }
    });
    q.on('error', (err: Error) => finish(err));
    q.on('end', () => finish());
  });
}

/** SHA-256 and row count of a table's canonical stream (restore and deep verify use it). */
export async function hashMysqlTable(conn: RawConnection, spec: { name: string; columns: ColumnInfo[]; primaryKey: string[] }): Promise<{ rows: number; sha256: string }> {
  const h = createHash('sha256');
  let n = 0;
  const batch = new ChunkBuilder(1 << 18);
  await streamMysqlRows(conn, spec, batch, () => {
    n++;
    batch.byte(0x2c);
    if (batch.len >= 1 << 18) {
      h.update(batch.buf.subarray(0, batch.len));
      batch.len = 0;
    }
  });
  h.update(batch.buf.subarray(0, batch.len));
  return { rows: n, sha256: h.digest('hex') };
}

export async function mysqlServerVersion(conn: RawConnection): Promise<string> {
  const [v] = await rows<{ v: string }>(conn, 'SELECT VERSION() AS v');
  return v!.v;
}

export async function dumpMysql(target: MysqlTarget, writer: GzipWriter, hooks: DumpHooks): Promise<MysqlDumpResult> {
  const conn = await openMysql(target);
  hooks.onConnection?.(conn);
  try {
    await run(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await run(conn, 'SET SESSION net_write_timeout = 3600, net_read_timeout = 3600');
    await run(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    await pauseAt('backup:snapshot');
    const serverVersion = await mysqlServerVersion(conn);
    const specs = await describeMysqlTables(conn, hooks.tables);
    const all = await rows<{ name: string }>(
      conn,
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
    );
    let migrations: string[] = [];
    if (all.some((t) => t.name === 'knex_migrations')) {
      migrations = (await rows<{ name: string }>(conn, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) =>
        r.name.replace(/\.(ts|js)$/, ''),
      );
    }
    const triggers = await rows<{ name: string }>(
      conn,
      'SELECT trigger_name AS name FROM information_schema.triggers WHERE trigger_schema = DATABASE()',
    );
    if (triggers.length) hooks.onWarning?.(`triggers are not part of the backup: ${triggers.map((t) => t.name).join(', ')}`);

    // Header: what the stock client needs before any row, then every table's DDL.
    const header = new ChunkBuilder(1 << 16);
    header.text(
      [
        `-- billettigue backup (format 1) of ${target.display}`,
        `-- server ${serverVersion}; taken ${new Date().toISOString()}`,
        `-- load it with \`billettigue restore FILE\` (verified, atomic), or: gunzip < FILE | mariadb DBNAME`,
        '',
        'SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT, @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS, @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION;',
        'SET NAMES utf8mb4;',
        "SET @OLD_TIME_ZONE=@@TIME_ZONE, TIME_ZONE='+00:00';",
        'SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0;',
        'SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;',
        `SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='${MYSQL_FILE_SQL_MODE}';`,
        'SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0;',
        '',
      ].join('\n') + '\n',
    );
    for (const s of specs) {
      header.text(`-- table ${s.name}\nDROP TABLE IF EXISTS ${quoteId(s.name)};\n${s.createSql};\n\n`);
    }
    writer.push(header.take(), 'header');

    const totalEstimate = specs.reduce((n, s) => n + s.estimatedRows, 0);
    let done = 0;
    const tables: DumpedTable[] = [];
    const COMMA = 0x2c;
    for (const spec of specs) {
      const tag = `data:${spec.name}`;
      const plainInsert = spec.generated.length === 0;
      const prefix = Buffer.from(
        plainInsert
          ? `INSERT INTO ${quoteId(spec.name)} VALUES `
          : `INSERT INTO ${quoteId(spec.name)} (${spec.columns.map((c) => quoteId(c.name)).join(',')}) VALUES `,
      );
      const hash = createHash('sha256');
      const chunk = new ChunkBuilder(MEMBER_BYTES + STATEMENT_BYTES);
      let stmtStart = -1; // offset of the first tuple of the open statement
      let rowsInTable = 0;
      const closeStatement = () => {
        if (stmtStart < 0) return;
        hash.update(chunk.buf.subarray(stmtStart, chunk.len));
        hash.update(',');
        chunk.text(';\n');
        stmtStart = -1;
        if (chunk.len >= MEMBER_BYTES) writer.pushFrom(chunk, tag);
      };
      // The reader appends each row's tuple to `chunk`; before it, open a statement or add ",".
      await streamMysqlRows(
        conn,
        spec,
        chunk,
        () => {
          rowsInTable++;
          if ((++done & 0x3fff) === 0) hooks.onProgress?.(done, totalEstimate);
        },
        writer,
        () => {
          if (stmtStart >= 0 && chunk.len - stmtStart >= STATEMENT_BYTES) closeStatement();
          if (stmtStart < 0) {
            chunk.bytes(prefix);
            stmtStart = chunk.len;
          } else chunk.byte(COMMA);
        },
      );
      closeStatement();
      if (chunk.len > 0) writer.pushFrom(chunk, tag);
      tables.push({
        name: spec.name,
        rows: rowsInTable,
        sha256: hash.digest('hex'),
        columns: spec.columns.map((c) => c.name),
        primary_key: spec.primaryKey,
        auto_increment: autoIncrementOf(spec.createSql),
        load: plainInsert && !spec.columns.some((c) => c.cls === 'binary') ? 'load-data' : 'statements',
      });
      hooks.onProgress?.(done, totalEstimate);
      if (tables.length === 1) await pauseAt('backup:data');
    }

    // DDL during the backup: reads fail with 1412 for tables changed after the snapshot began,
    // and a definition that differs now from the one written means the file would not match.
    for (const s of specs) {
      const [now] = await rows<Record<string, string>>(conn, `SHOW CREATE TABLE ${quoteId(s.name)}`).catch(() => [undefined]);
      if (!now || withoutAutoIncrement(now['Create Table']!) !== withoutAutoIncrement(s.createSql)) {
        throw new Conflict(`table ${s.name} was altered during the backup: nothing was published; run the backup again`, { code: 'ddl_during_backup' });
      }
    }
    await run(conn, 'COMMIT');

    const footer = new ChunkBuilder(1 << 14);
    footer.text(
      [
        '',
        'SET SQL_NOTES=@OLD_SQL_NOTES;',
        'SET SQL_MODE=@OLD_SQL_MODE;',
        'SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS;',
        'SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS;',
        'SET TIME_ZONE=@OLD_TIME_ZONE;',
        'SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT, CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS, COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION;',
        trailerLine(tables),
        '-- end of billettigue backup',
        '',
      ].join('\n'),
    );
    writer.push(footer.take(), 'footer');
    return {
      kind: 'mysql',
      serverVersion,
      database: { name: target.database, host: `${target.host}:${target.port}`, display: target.display },
      migrations,
      tables,
      snapshot: 'REPEATABLE READ, START TRANSACTION WITH CONSISTENT SNAPSHOT, one connection',
    };
  } catch (err) {
    throw translateDumpError(err);
  } finally {
    await closeQuietly(conn);
  }
}

/** The trailer comment: every table's rows and SHA-256, inside the file (covered by its hash). */
export function translateDumpError(err: unknown): unknown {
  const e = err as { errno?: number; code?: string };
  if (e?.errno === 1412 || e?.code === 'ER_TABLE_DEF_CHANGED') {
    return new Conflict('a table was altered during the backup (DDL after the snapshot began): nothing was published; run the backup again', {
      code: 'ddl_during_backup',
      cause: err,
    });
  }
  if (e?.errno === 1146) {
    return new Conflict('a table was dropped during the backup: nothing was published; run the backup again', { code: 'ddl_during_backup', cause: err });
  }
  return err;
}

