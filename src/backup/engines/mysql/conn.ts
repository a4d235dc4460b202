/**
 * Raw mysql2 connections for backup and restore. Backup needs ONE connection for its snapshot and
 * streams rows with back-pressure; restore needs its own sessions (FOREIGN_KEY_CHECKS, LOAD DATA
 * LOCAL INFILE). Knex's pool gives neither, so these are opened directly, with the same settings
 * as src/db/connection.ts (utf8mb4, UTC, strict sql_mode, DECIMAL/DATETIME as strings).
 */
import type { Connection, ConnectionOptions, QueryOptions } from 'mysql2';
import type { MysqlTarget } from '../../../db/config.js';
import { mysqlConnection, SESSION_SQL_MODE } from '../../../db/engines/mysql/index.js';
import { translateConnectError } from '../../../db/errors.js';
import { prepareSession } from '../../../db/engines/mysql/galera.js';

export type RawConnection = Connection;

export async function openMysql(target: MysqlTarget, database?: string | null): Promise<RawConnection> {
  const { default: mysql } = await import('mysql2');
  const base = mysqlConnection(target, { noDatabase: database === null }) as ConnectionOptions;
  const options: ConnectionOptions = { ...base, multipleStatements: false };
  if (database) options.database = database;
  const conn = mysql.createConnection(options);
  // A connection error after a query failed is reported by that query; never crash the process.
  conn.on('error', () => undefined);
  try {
    await run(conn, `SET SESSION time_zone = '+00:00', sql_mode = '${SESSION_SQL_MODE}'`);
    // A Galera node: causal reads (the backup's snapshot holds everything committed anywhere before it).
    await prepareSession(conn);
  } catch (err) {
    conn.destroy();
    throw translateConnectError(err, target);
  }
  return conn;
}

export interface OkPacket {
  affectedRows: number;
  info: string;
  warningStatus: number;
}

/** Runs one statement; resolves with the rows (SELECT) or the OK packet. */
export function run<T = unknown>(conn: RawConnection, sql: string | QueryOptions, values?: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    conn.query(sql as QueryOptions, values ?? [], (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

export async function rows<T>(conn: RawConnection, sql: string, values?: unknown[]): Promise<T[]> {
  return run<T[]>(conn, sql, values);
}

export function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export async function closeQuietly(conn: RawConnection | undefined): Promise<void> {
  if (!conn) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      conn.destroy();
      resolve();
    }, 2000);
    conn.end(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
