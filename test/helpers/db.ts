/**
 * Real databases for tests: each call makes a fresh, uniquely named MariaDB database or SQLite file,
 * migrated, and drops it afterwards. No mock of the database anywhere.
 *   BT_TEST_DB=sqlite|mysql|both (default both)   BT_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { parseDatabaseUrl, type DbKind, type DbTarget } from '../../src/db/config.js';
import { connect } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { seedRoles } from '../../seeds/default.js';

export function testedKinds(): DbKind[] {
  const v = (process.env.BT_TEST_DB ?? 'both').toLowerCase();
  if (v === 'sqlite') return ['sqlite'];
  if (v === 'mysql' || v === 'mariadb') return ['mysql'];
  return ['sqlite', 'mysql'];
}

export function mysqlServerUrl(): string {
  return (process.env.BT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
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
  /** MySQL server URL without database (default: mysqlServerUrl(); the cluster tests pass a node's). */
  server?: string;
}

export async function createTestDb(kind: DbKind, options: TestDbOptions = {}): Promise<TestDb> {
  const id = `bt_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
  let url: string;
  const server = options.server ?? mysqlServerUrl();
  if (kind === 'mysql') {
    const admin = await connect(parseDatabaseUrl(server, '--db'), { noDatabase: true });
    await admin.raw(options.serverDefaults ? 'CREATE DATABASE ??' : 'CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [id]);
    await admin.destroy();
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
      if (kind === 'mysql') {
        const admin = await connect(parseDatabaseUrl(server, '--db'), { noDatabase: true });
        await admin.raw('DROP DATABASE IF EXISTS ??', [id]);
        await admin.destroy();
      }
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
