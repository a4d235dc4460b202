/**
 * Real databases for tests: each call makes a fresh, uniquely named MariaDB or PostgreSQL database
 * or SQLite file, migrated, and drops it afterwards. No mock of the database anywhere.
 *   BT_TEST_DB=sqlite|mysql|postgres|all (default all; a comma list works too)
 *   BT_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306   BT_TEST_PG_URL=postgres://postgres@127.0.0.1:5432
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { parseDatabaseUrl, type DbKind, type DbTarget } from '../../src/db/config.js';
import { connect } from '../../src/db/connection.js';
import { listTables } from '../../src/db/dialect.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { seedRoles } from '../../seeds/default.js';

const ALL_KINDS: DbKind[] = ['sqlite', 'mysql', 'postgres'];
const KIND_NAMES: Record<string, DbKind> = { sqlite: 'sqlite', mysql: 'mysql', mariadb: 'mysql', postgres: 'postgres', postgresql: 'postgres', pg: 'postgres' };

export function testedKinds(): DbKind[] {
  const v = (process.env.BT_TEST_DB ?? 'all').toLowerCase();
  if (v === 'all' || v === 'both' || v === '') return ALL_KINDS;
  const kinds = new Set<DbKind>();
  for (const name of v.split(',')) {
    const k = KIND_NAMES[name.trim()];
    if (!k) throw new Error(`BT_TEST_DB=${v}: use sqlite, mysql, postgres, all, or a comma list`);
    kinds.add(k);
  }
  return ALL_KINDS.filter((k) => kinds.has(k));
}

export function mysqlServerUrl(): string {
  return (process.env.BT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
}

export function postgresServerUrl(): string {
  return (process.env.BT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
}

/** The server URL (no database) of a server engine's test instance. */
export function serverUrl(kind: DbKind): string {
  if (kind === 'mysql') return mysqlServerUrl();
  if (kind === 'postgres') return postgresServerUrl();
  throw new Error(`${kind} has no server`);
}

/** Runs fn on a server-level connection (no database selected) of a server engine (or of `server`). */
export async function withServer<T>(kind: DbKind, fn: (admin: Knex) => Promise<T>, server = serverUrl(kind)): Promise<T> {
  const admin = await connect(parseDatabaseUrl(server, '--db'), { noDatabase: true });
  try {
    return await fn(admin);
  } finally {
    await admin.destroy();
  }
}

/**
 * Creates an empty database on a test server (MySQL: utf8mb4_unicode_ci; PostgreSQL: UTF8), or with
 * the server's defaults (as the platform's was) when `serverDefaults`.
 */
export async function createServerDatabase(kind: DbKind, name: string, serverDefaults = false, server = serverUrl(kind)): Promise<void> {
  await withServer(
    kind,
    (admin) =>
      serverDefaults
        ? admin.raw('CREATE DATABASE ??', [name])
        : kind === 'mysql'
          ? admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name])
          : admin.raw("CREATE DATABASE ?? TEMPLATE template0 ENCODING 'UTF8'", [name]),
    server,
  );
}

/** Drops a test database (PostgreSQL: other sessions on it are ended first). */
export async function dropServerDatabase(kind: DbKind, name: string, server = serverUrl(kind)): Promise<void> {
  await withServer(
    kind,
    async (admin) => {
      if (kind === 'postgres') await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      else await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
    },
    server,
  );
}

export interface TestDb {
  kind: DbKind;
  /** URL for `--db` / DATABASE_URL when spawning the binary. */
  url: string;
  target: DbTarget;
  /** A connection for the test's own setup and assertions. */
  knex: Knex;
  /** Temporary folder owned by this database (SQLite file lives there; use it for backups too). */
  dir: string;
  drop(): Promise<void>;
}

export interface TestDbOptions {
  /** MySQL: create the database with the server's defaults (as the platform's was), not utf8mb4_unicode_ci. */
  serverDefaults?: boolean;
  /** Run the migrations (default true). */
  migrate?: boolean;
  /** Insert the default roles (default true when migrating). */
  roles?: boolean;
  /** Server URL without database (default: the kind's test server; the cluster tests pass a node's). */
  server?: string;
}

export async function createTestDb(kind: DbKind, options: TestDbOptions = {}): Promise<TestDb> {
  const id = `bt_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
  let url: string;
  const server = kind === 'sqlite' ? '' : (options.server ?? serverUrl(kind));
  if (kind !== 'sqlite') {
    await createServerDatabase(kind, id, options.serverDefaults, server);
    url = `${server}/${id}`;
  } else {
    url = `sqlite:${path.join(dir, 'test.sqlite3')}`;
  }
  const target = parseDatabaseUrl(url, '--db');
  const knex = await connect(target);
  if (options.migrate !== false) {
    await migrateLatest(knex);
    if (options.roles !== false) await knex.transaction((trx) => seedRoles(trx));
  }
  return {
    kind,
    url,
    target,
    knex,
    dir,
    async drop() {
      await knex.destroy();
      if (kind !== 'sqlite') await dropServerDatabase(kind, id, server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Row counts of every given table: snapshot before/after to prove "nothing changed". */
export async function tableCounts(knex: Knex, tables: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const row = (await knex(t).count({ n: '*' }).first()) as { n: number | string };
    out[t] = Number(row.n);
  }
  return out;
}

/** Full contents of tables ordered by id: the strongest "nothing changed" snapshot for small data. */
export async function snapshot(knex: Knex, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = (await knex(t).select('*').orderBy('id')) as unknown[];
  return out;
}

/**
 * One SHA-256 per table over every row of every table of the database (rows serialised and sorted,
 * so no key order is assumed): compare before/after to prove "nothing changed" or "exactly this
 * changed" without holding whole tables in the test's output.
 */
export async function tableChecksums(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await listTables(knex)) {
    const rows = ((await knex(t).select('*')) as Array<Record<string, unknown>>).map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    out[t] = `${rows.length}:${createHash('sha256').update(rows.sort().join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}
