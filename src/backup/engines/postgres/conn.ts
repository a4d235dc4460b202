/**
 * Raw node-postgres sessions for backup and restore. A backup needs ONE session for its snapshot
 * (or several sharing an exported one) and COPY streams with back-pressure; a restore needs its
 * own sessions (COPY FROM STDIN, index builds, the swap) and a dedicated one for the advisory
 * lock. Knex's pool gives none of that, so these are opened directly, with the session settings
 * every reader and writer of the COPY text relies on: UTC, ISO dates, hex bytea, UTF-8.
 */
import type pg from 'pg';
import type { PostgresTarget } from '../../../db/config.js';
import { postgresConnection, postgresEngine } from '../../../db/engines/postgres/index.js';
import { Unavailable } from '../../../domain/errors.js';

export type PgSession = pg.Client;

/** Settings that make the COPY text of every session identical (what the canonical form reads). */
export const SESSION_SETTINGS = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  "SET bytea_output = 'hex'",
  "SET client_encoding = 'UTF8'",
  'SET extra_float_digits = 3',
  'SET standard_conforming_strings = on',
  'SET statement_timeout = 0',
  'SET idle_in_transaction_session_timeout = 0',
  'SET client_min_messages = warning',
];

export async function openPg(target: PostgresTarget, options: { database?: string | null; application?: string } = {}): Promise<PgSession> {
  const { default: pgm } = await import('pg');
  const base = await postgresConnection(target, { noDatabase: options.database === null });
  const client = new pgm.Client({
    ...(base as pg.ClientConfig),
    ...(options.database ? { database: options.database } : {}),
    application_name: options.application ?? 'billettigue',
  });
  // A connection error after a query failed is reported by that query; never crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(SESSION_SETTINGS.join('; '));
  } catch (err) {
    await client.end().catch(() => undefined);
    throw postgresEngine.translateConnectError(err, target);
  }
  return client;
}

export async function q(conn: PgSession, sql: string, values?: unknown[]): Promise<void> {
  await conn.query(sql, values);
}

export async function rows<T>(conn: PgSession, sql: string, values?: unknown[]): Promise<T[]> {
  return (await conn.query(sql, values)).rows as T[];
}

/** What a user who may create tables in `public` but not schemas in the database (no CREATE on it) must be granted. */
export function cannotCreateSchema(target: PostgresTarget, what: string, cause?: unknown): Unavailable {
  return new Unavailable(
    `${what} needs to create a schema in database "${target.database}", which user "${target.user}" may not: GRANT CREATE ON DATABASE ${qi(target.database)} TO ${qi(target.user)} (or run it as the database's owner)`,
    { cause, code: 'access_denied' },
  );
}

/** CREATE SCHEMA for a staging or scratch copy: "permission denied" becomes what to grant (exit 5). */
export async function createHelperSchema(conn: PgSession, target: PostgresTarget, name: string, what: string): Promise<void> {
  try {
    await q(conn, `CREATE SCHEMA ${qi(name)}`);
  } catch (err) {
    if ((err as { code?: unknown }).code !== '42501') throw err;
    throw cannotCreateSchema(target, what, err);
  }
}

/** "name" quoted as PostgreSQL does when it must (always here: the cheap, safe choice). */
export function qi(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** 'text' as a standard string literal. */
export function ql(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Closes a session; a stuck one is destroyed after 2 s. */
export async function closeQuietly(conn: PgSession | undefined): Promise<void> {
  if (!conn) return;
  await Promise.race([
    conn.end().catch(() => undefined),
    new Promise<void>((resolve) =>
      setTimeout(() => {
        destroy(conn);
        resolve();
      }, 2000).unref(),
    ),
  ]);
}

/** Drops the socket at once (Ctrl-C): the server rolls back what the session had open. */
export function destroy(conn: PgSession): void {
  (conn as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
