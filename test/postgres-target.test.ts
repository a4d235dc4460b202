/**
 * Reaching PostgreSQL (issue 13): the seed's own .env without DB_CLIENT, postgres:// URLs, a server
 * of the other protocol behind a URL (both ways), the usual bad input, db create, and a migration
 * dry run that really applies and rolls back. Through the real binary.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, dropServerDatabase, mysqlServerUrl, postgresServerUrl, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { listTables, rawRows } from '../src/db/dialect.js';
import { probeProtocol } from '../src/db/probe.js';

const pg = testedKinds().includes('postgres');
const both = pg && testedKinds().includes('mysql');
const server = new URL(postgresServerUrl());
const PG_HOST = server.hostname;
const PG_PORT = Number(server.port || 5432);

/** A folder holding only a .env with these lines (no DATABASE_URL from the test environment). */
function envFolder(lines: Record<string, string | number>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-pg-env-'));
  writeFileSync(path.join(dir, '.env'), Object.entries(lines).map(([k, v]) => `${k}=${v}\n`).join(''));
  return dir;
}
const inFolder = (dir: string) => ({ cwd: dir, url: undefined, env: { DATABASE_URL: undefined } });

/** A driver's own connect timeout is 10 s: the wrong protocol must be named long before that. */
const FAST_MS = 5000;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const r = await fn();
  return [r, Date.now() - t0];
}

describe.runIf(pg)('PostgreSQL targets', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb('postgres');
  });
  afterAll(async () => db?.drop());

  it("the seed's .env as it is (no DB_CLIENT, port 5432) reaches PostgreSQL, and doctor says how", async () => {
    const dir = envFolder({ DB_NAME: db.target.kind === 'postgres' ? db.target.database : '', DB_USER: 'postgres', DB_PASSWORD: 'postgres', DB_HOST: PG_HOST, DB_PORT: PG_PORT });
    const r = await runJson<{ healthy: boolean; target: string; checks: Array<{ name: string; detail: string }> }>(['doctor', '--json'], inFolder(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.data.target).toMatch(/^postgres:\/\/postgres:\*\*\*@/);
    expect(r.data.checks.find((c) => c.name === 'target')!.detail).toMatch(/no DB_CLIENT: PostgreSQL answered at/);
    expect(JSON.stringify(r.data) + r.stderr).not.toContain(':postgres@');
  });

  it('without DB_CLIENT the server decides, not the port: PostgreSQL behind another port is found', async () => {
    // A plain TCP relay on a random port (MySQL's guess for a port that is not 5432).
    const relay = net.createServer((c) => {
      const up = net.connect(PG_PORT, PG_HOST);
      c.pipe(up).pipe(c);
      const end = () => {
        c.destroy();
        up.destroy();
      };
      c.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      const port = (relay.address() as net.AddressInfo).port;
      expect(await probeProtocol('127.0.0.1', port)).toBe('postgres');
      const dir = envFolder({ DB_NAME: db.target.kind === 'postgres' ? db.target.database : '', DB_USER: 'postgres', DB_HOST: '127.0.0.1', DB_PORT: port });
      const r = await runJson<{ target: string }>(['db', 'status', '--json'], inFolder(dir));
      expect(r.code, r.stderr).toBe(0);
      expect(r.data.target).toBe(`postgres://postgres@127.0.0.1:${port}/${db.target.kind === 'postgres' ? db.target.database : ''}`);
    } finally {
      await new Promise((r) => relay.close(r));
    }
  });

  it('bad input: missing database (suggests db create), unknown role, unknown host, nothing listening: exit 5, one line, no password', async () => {
    const cases: Array<[string, RegExp]> = [
      [`postgres://postgres:s3cret-pw@${PG_HOST}:${PG_PORT}/bt_does_not_exist_42`, /database "bt_does_not_exist_42" does not exist .*billettigue db create/],
      [`postgres://bt_no_such_role:s3cret-pw@${PG_HOST}:${PG_PORT}/postgres`, /access denied for user "bt_no_such_role"/],
      ['postgres://postgres:s3cret-pw@bt-no-such-host.invalid:5432/x', /cannot resolve the PostgreSQL host "bt-no-such-host.invalid"/],
      ['postgresql://postgres:s3cret-pw@127.0.0.1:1/x', /cannot reach the PostgreSQL server at 127\.0\.0\.1:1/],
    ];
    for (const [url, message] of cases) {
      const [r, ms] = await timed(() => run(['--db', url, 'db', 'status']));
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
      expect(ms).toBeLessThan(FAST_MS);
    }
  });

  it('db create makes a UTF8 database, idempotently; migrate and doctor follow', async () => {
    const name = `bt_test_create_pg_${process.pid}_${Date.now().toString(36)}`;
    const url = `${postgresServerUrl()}/${name}`;
    try {
      const c = await runJson<{ created: boolean }>(['db', 'create', '--json'], { url });
      expect(c.code, c.stderr).toBe(0);
      expect(c.data.created).toBe(true);
      expect((await runJson<{ created: boolean }>(['db', 'create', '--json'], { url })).data.created).toBe(false);
      expect((await run(['db', 'migrate'], { url })).code).toBe(0);
      const d = await runJson<{ healthy: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> }>(['doctor', '--json'], { url });
      expect(d.code, d.stderr).toBe(0);
      expect(d.data.checks.find((x) => x.name === 'encoding')!.detail).toMatch(/^UTF8/);
      expect(d.data.checks.find((x) => x.name === 'time zone')!.detail).toMatch(/^session UTC \(server default /);
    } finally {
      await dropServerDatabase('postgres', name);
    }
  });

  it('db migrate --dry-run applies every migration in one transaction and rolls it back: nothing stays', async () => {
    const empty = await createTestDb('postgres', { migrate: false });
    try {
      const r = await runJson<{ dry_run: boolean; would_apply: string[] }>(['db', 'migrate', '--dry-run', '--json'], { url: empty.url });
      expect(r.code, r.stderr).toBe(0);
      expect(r.data.would_apply).toHaveLength(8);
      expect(await listTables(empty.knex)).toEqual([]);
      expect(await rawRows(empty.knex, "select 1 from pg_proc where proname = 'bt_fold'")).toEqual([]);
      // A migration that cannot apply fails the dry run with its error, and still leaves nothing.
      await empty.knex.schema.createTable('roles', (t) => t.increments('id'));
      const bad = await run(['db', 'migrate', '--dry-run'], { url: empty.url });
      expect(bad.code).not.toBe(0);
      expect(await listTables(empty.knex)).toEqual(['roles']);
    } finally {
      await empty.drop();
    }
  });

  it('accents and case fold in city matching and search (bt_fold), served by the expression index', async () => {
    const k = db.knex;
    const plan = await k.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      return rawRows<{ 'QUERY PLAN': string }>(trx, "EXPLAIN SELECT id FROM zones_desservies WHERE bt_fold(city_name) = bt_fold('ORLEANS')");
    });
    expect(plan.map((p) => p['QUERY PLAN']).join(' ')).toMatch(/zones_desservies_city_name_index|zones_desservies_city_transporteur_unique/);
    const [row] = await rawRows<{ a: string; b: string }>(k, "select bt_fold('  Orléans ') as a, bt_fold('ORLÉANS') as b");
    expect(row).toEqual({ a: 'orleans', b: 'orleans' });
  });
});

describe.runIf(both)('a server of the other protocol', () => {
  const mysql = new URL(mysqlServerUrl());
  const MY_PORT = Number(mysql.port || 3306);

  it('a postgres:// URL to a MySQL server: exit 5 at once, naming MySQL and the URL to use, no password', async () => {
    const [r, ms] = await timed(() => run(['--db', `postgres://postgres:s3cret-pw@${mysql.hostname}:${MY_PORT}/x`, 'db', 'status']));
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/speaks MySQL\/MariaDB, not PostgreSQL: use a mysql:\/\/ URL/);
    expect(r.stderr + r.stdout).not.toContain('s3cret-pw');
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('a mysql:// URL to a PostgreSQL server: exit 5 within a second or so, not after the driver timeout', async () => {
    const [r, ms] = await timed(() => run(['--db', `mysql://root:s3cret-pw@${PG_HOST}:${PG_PORT}/x`, 'doctor']));
    expect(r.code).toBe(5);
    expect(r.stdout + r.stderr).toMatch(/speaks PostgreSQL, not MySQL\/MariaDB: use a postgres:\/\/ URL/);
    expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('DB_CLIENT=mysql in front of PostgreSQL: exit 5 naming DB_CLIENT=postgres', async () => {
    const dir = envFolder({ DB_CLIENT: 'mysql', DB_HOST: PG_HOST, DB_PORT: PG_PORT, DB_USER: 'root', DB_PASSWORD: 's3cret-pw', DB_NAME: 'x' });
    const [r, ms] = await timed(() => run(['db', 'status'], inFolder(dir)));
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/speaks PostgreSQL, not MySQL\/MariaDB: set DB_CLIENT=postgres/);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('without DB_CLIENT a MySQL server is still found on its port, as before', async () => {
    const dir = envFolder({ DB_HOST: mysql.hostname, DB_PORT: MY_PORT, DB_USER: mysql.username || 'root', DB_NAME: 'bt_no_such_db_42' });
    const r = await run(['db', 'status'], inFolder(dir));
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/database "bt_no_such_db_42" does not exist on .*billettigue db create/);
    expect(await probeProtocol(mysql.hostname, MY_PORT)).toBe('mysql');
  });
});
