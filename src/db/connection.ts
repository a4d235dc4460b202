/**
 * Opens a Knex instance on a target, with the dialect settings the product relies on:
 * - MySQL/MariaDB: utf8mb4, UTC on both sides (`timezone: 'Z'` and session time_zone), strict
 *   sql_mode, DECIMALs as exact strings, DATETIMEs as strings (same shape as SQLite returns).
 * - SQLite: foreign keys ON, WAL, a busy timeout, `bt_fold()` for accent-insensitive matching and
 *   `bt_sha256()`.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { redactUrl, type DbTarget, type MysqlTarget } from './config.js';
import { translateConnectError } from './errors.js';
import { foldText } from './text.js';

export const SESSION_SQL_MODE =
  'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_IN_DATE,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION';

export interface ConnectOptions {
  /** Connect to the server without selecting a database (db create). */
  noDatabase?: boolean;
  pool?: { min?: number; max?: number };
}

export async function createKnex(target: DbTarget, options: ConnectOptions = {}): Promise<Knex> {
  const { default: knexFactory } = await import('knex');
  return knexFactory(knexConfig(target, options));
}

/**
 * Knex logs pool errors (with stacks, sometimes with connection details) straight to the console.
 * Errors reach the user through our translation instead; the raw log only with BILLETTIGUE_DEBUG=1.
 */
const quietLog = {
  warn: (m: unknown) => debugLog('warn', m),
  error: (m: unknown) => debugLog('error', m),
  deprecate: (m: unknown) => debugLog('deprecate', m),
  debug: (m: unknown) => debugLog('debug', m),
};

function debugLog(level: string, m: unknown): void {
  if (process.env.BILLETTIGUE_DEBUG === '1') process.stderr.write(`knex ${level}: ${redactUrl(String(m))}\n`);
}

export function knexConfig(target: DbTarget, options: ConnectOptions = {}): Knex.Config {
  if (target.kind === 'mysql') {
    return {
      log: quietLog,
      client: 'mysql2',
      connection: mysqlConnection(target, options),
      pool: {
        min: 0,
        max: options.pool?.max ?? 4,
        afterCreate: (conn: MysqlRawConnection, done: (err: Error | null, conn: unknown) => void) => {
          conn.query(`SET time_zone = '+00:00', sql_mode = '${SESSION_SQL_MODE}'`, (err) => done(err, conn));
        },
      },
      acquireConnectionTimeout: 15000,
    };
  }
  return {
    log: quietLog,
    client: 'better-sqlite3',
    connection: { filename: target.filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: SqliteRawConnection, done: (err: Error | null, conn: unknown) => void) => {
        try {
          conn.pragma('foreign_keys = ON');
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 10000');
          conn.pragma('synchronous = NORMAL');
          conn.function('bt_fold', { deterministic: true }, (v: unknown) =>
            typeof v === 'string' ? foldText(v) : v,
          );
          // Only billettigue's own connections have it (the platform app's do not): used by
          // migration 800's down to compute token_hash again, never by a default or a trigger.
          conn.function('bt_sha256', { deterministic: true }, (v: unknown) =>
            typeof v === 'string' ? createHash('sha256').update(v, 'utf8').digest('hex') : null,
          );
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  };
}

export function mysqlConnection(target: MysqlTarget, options: ConnectOptions = {}): Record<string, unknown> {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    ...(options.noDatabase || !target.database ? {} : { database: target.database }),
    charset: 'utf8mb4',
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    decimalNumbers: false,
    connectTimeout: 10000,
  };
}

interface MysqlRawConnection {
  query(sql: string, cb: (err: Error | null) => void): void;
}
interface SqliteRawConnection {
  pragma(sql: string): unknown;
  function(name: string, opts: { deterministic: boolean }, fn: (v: unknown) => unknown): void;
}

/** Opens and proves the connection (one round trip), turning driver failures into typed errors. */
export async function connect(target: DbTarget, options: ConnectOptions = {}): Promise<Knex> {
  const knex = await createKnex(target, options);
  try {
    await knex.raw('select 1');
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    throw translateConnectError(err, target);
  }
  return knex;
}
