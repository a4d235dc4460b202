/**
 * `npm run bench -- accounts`: 1,000,000 accounts on MariaDB (BENCH_SIZE=small: 20,000), then
 * - query time (the domain call, all its queries) of `accounts show <email>` and of
 *   `accounts list --status suspended --limit 50`, first page and a page deep in the list (--after),
 *   median of several warm runs; target < 50 ms each;
 * - whole-process time of the built binary for the same three commands, median of several runs;
 *   target < 300 ms each.
 * Data: INSERT … SELECT from MariaDB's sequence engine (seq_1_to_N) in chunks, all sharing one bcrypt
 * hash; profiles derived from the comptes with INSERT … SELECT. Falls back to multi-row INSERTs
 * where the sequence engine is missing (MySQL). The database is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { median, runBinary } from './support/process.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { seedRoles } from '../seeds/default.js';
import { listAccounts, showAccount } from '../src/domain/accounts.js';
import { hashPassword } from '../src/domain/passwords.js';

const CHUNK = 100_000;

async function timeIt(fn: () => Promise<unknown>, runs: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function processTime(args: string[], url: string, runs: number): Promise<{ median: number; min: number }> {
  await runBinary(args, url); // warm the OS file cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await runBinary(args, url));
  return { median: median(times), min: Math.min(...times) };
}

/** The machine is shared: say how busy it was while measuring. */
function load(): string {
  return `load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;
}

/** comptes for seq in [from, to]: 5% suspended, 1 in 97 locked, 2% transporteurs, 1 admin per 100k. */
function comptesSelect(knex: Knex, hash: string, roles: Record<string, number>, from: number, to: number, source: string): Knex.Raw {
  return knex.raw(
    `INSERT INTO comptes (email, password_hash, status, email_verified, phone_verified, last_login, login_attempts,
        failed_logins, last_failed_login, account_locked, password_changed_at, role_id, created_at, updated_at)
     SELECT CONCAT('user', seq, '@bench.example.fr'), ?,
        CASE seq % 20 WHEN 0 THEN 'suspended' WHEN 1 THEN 'inactive' WHEN 2 THEN 'deleted' ELSE 'active' END,
        seq % 3 <> 0, seq % 5 = 0,
        IF(seq % 4 = 0, NULL, TIMESTAMP('2026-01-01 00:00:00') + INTERVAL (seq % 500000) MINUTE),
        seq % 40, IF(seq % 97 = 0, 5, seq % 3),
        IF(seq % 97 = 0, TIMESTAMP('2026-06-01 00:00:00') + INTERVAL (seq % 10000) MINUTE, NULL),
        seq % 97 = 0, TIMESTAMP('2025-01-01 00:00:00'),
        CASE WHEN seq % 100000 = 7 THEN ? WHEN seq % 50 = 3 THEN ? ELSE ? END,
        TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq MINUTE, TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq MINUTE
     FROM ${source} WHERE seq BETWEEN ? AND ?`,
    [hash, roles.admin!, roles.transporteur!, roles.user!, from, to],
  );
}

async function loadWithSequence(knex: Knex, n: number, hash: string, roles: Record<string, number>, log: (m: string) => void): Promise<void> {
  for (let from = 1; from <= n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK - 1);
    await knex.transaction(async (trx) => {
      await comptesSelect(trx, hash, roles, from, to, `seq_1_to_${n}`);
    });
    log(`  comptes ${to.toLocaleString('en')}/${n.toLocaleString('en')}`);
  }
}

/** Fallback without the sequence engine: a 1..CHUNK numbers table filled by multi-row INSERTs. */
async function loadWithNumbers(knex: Knex, n: number, hash: string, roles: Record<string, number>, log: (m: string) => void): Promise<void> {
  await knex.raw('CREATE TEMPORARY TABLE bench_seq (seq INT UNSIGNED PRIMARY KEY)');
  for (let from = 1; from <= n; from += 5000) {
    const values = Array.from({ length: Math.min(5000, n - from + 1) }, (_, i) => `(${from + i})`).join(',');
    await knex.raw(`INSERT INTO bench_seq (seq) VALUES ${values}`);
  }
  for (let from = 1; from <= n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK - 1);
    await knex.transaction((trx) => comptesSelect(trx, hash, roles, from, to, 'bench_seq'));
    log(`  comptes ${to.toLocaleString('en')}/${n.toLocaleString('en')}`);
  }
}

async function seed(knex: Knex, n: number, log: (m: string) => void): Promise<{ method: string }> {
  await knex.transaction((trx) => seedRoles(trx));
  const roles = Object.fromEntries(((await knex('roles').select('id', 'name')) as Array<{ id: number; name: string }>).map((r) => [r.name, r.id]));
  const hash = await hashPassword('bench password, never used', 12);
  // Bulk load of our own scratch database: skip per-row unique/FK checks (the data is generated unique).
  await knex.raw('SET SESSION unique_checks = 0, foreign_key_checks = 0');
  let method = 'INSERT … SELECT from seq_1_to_N (MariaDB sequence engine)';
  try {
    await knex.raw('SELECT seq FROM seq_1_to_2');
    await loadWithSequence(knex, n, hash, roles, log);
  } catch (err) {
    if (!/seq_1_to_2|doesn't exist/i.test((err as Error).message)) throw err;
    method = 'INSERT … SELECT from a numbers table filled by multi-row INSERTs (no sequence engine)';
    await loadWithNumbers(knex, n, hash, roles, log);
  }
  const profile = async (sql: string, label: string) => {
    await knex.transaction((trx) => trx.raw(sql));
    log(`  ${label} done`);
  };
  for (let from = 1; from <= n; from += CHUNK * 2) {
    const to = from + CHUNK * 2 - 1;
    await profile(
      `INSERT INTO utilisateurs (last_name, first_name, phone_number, compte_id, created_at, updated_at)
       SELECT CONCAT('Nom', id), CONCAT('Prenom', id), CONCAT('+336', LPAD(id, 8, '0')), id, created_at, created_at
       FROM comptes WHERE role_id = ${roles.user} AND id BETWEEN ${from} AND ${to}`,
      `utilisateurs up to id ${Math.min(to, n).toLocaleString('en')}`,
    );
  }
  await profile(
    `INSERT INTO transporteurs (phone_number, company_name, company_type, compte_id, created_at, updated_at)
     SELECT CONCAT('+337', LPAD(id, 8, '0')), CONCAT('Transports ', id), ELT(1 + id % 3, 'mixte', 'passagers', 'colis'), id, created_at, created_at
     FROM comptes WHERE role_id = ${roles.transporteur}`,
    'transporteurs',
  );
  await profile(
    `INSERT INTO administrateurs (last_name, first_name, compte_id, created_at, updated_at)
     SELECT CONCAT('Admin', id), 'Bench', id, created_at, created_at FROM comptes WHERE role_id = ${roles.admin}`,
    'administrateurs',
  );
  await knex.raw('SET SESSION unique_checks = 1, foreign_key_checks = 1');
  await knex.raw('ANALYZE TABLE comptes, utilisateurs, transporteurs, administrateurs');
  return { method };
}

const bench: BenchModule = {
  title: 'accounts: show and list on 1,000,000 accounts (MariaDB)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const n = ctx.size === 'small' ? 20_000 : 1_000_000;
    const runs = ctx.size === 'small' ? 5 : 9;
    const name = `bt_bench_accounts_${randomBytes(3).toString('hex')}`;
    const url = `${ctx.mysqlUrl}/${name}`;
    const admin = await connect(parseDatabaseUrl(ctx.mysqlUrl, '--db'), { noDatabase: true });
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
    let knex: Knex | undefined;
    try {
      knex = await connect(parseDatabaseUrl(url, '--db'), { pool: { max: 1 } });
      await migrateLatest(knex);
      ctx.log(`seeding ${n.toLocaleString('en')} accounts into ${name}`);
      const t0 = performance.now();
      const { method } = await seed(knex, n, ctx.log);
      const seedSecs = (performance.now() - t0) / 1000;

      const email = `user${Math.floor(n * 0.777) + 1}@bench.example.fr`;
      // A cursor 90% of the way through the suspended accounts (ids are multiples of 20).
      const deepAfter = Math.floor((n * 0.9) / 20) * 20;
      const settings = { lockoutThreshold: 5 };
      const db = knex;
      const first = await listAccounts(db, { status: 'suspended', limit: 50 });
      const deep = await listAccounts(db, { status: 'suspended', limit: 50, after: deepAfter });
      if (first.length !== 50 || deep.length !== 50 || deep[0]!.id <= deepAfter) throw new Error('unexpected list result: the data is not what the benchmark expects');
      const shown = await showAccount(db, email, settings);
      if (shown.account.email !== email) throw new Error('show returned another account');

      // The plan of the real list query (captured from knex), to show it walks (status, id).
      const captured: Array<{ sql: string; bindings: unknown[] }> = [];
      const onQuery = (q: { sql: string; bindings: unknown[] }) => captured.push(q);
      db.on('query', onQuery);
      await listAccounts(db, { status: 'suspended', limit: 50, after: deepAfter });
      db.off('query', onQuery);
      const listSql = captured.find((c) => /from `comptes` as `c`/.test(c.sql))!;
      const [explain] = (await db.raw(`EXPLAIN ${listSql.sql}`, listSql.bindings as Knex.RawBinding[])) as [Array<{ table: string; key: string | null; rows: number }>];
      const plan = explain.map((e) => `${e.table}:${e.key ?? 'no index'}`).join(' ');

      const qShow = await timeIt(() => showAccount(db, email, settings), runs);
      const qFirst = await timeIt(() => listAccounts(db, { status: 'suspended', limit: 50 }), runs);
      const qDeep = await timeIt(() => listAccounts(db, { status: 'suspended', limit: 50, after: deepAfter }), runs);
      const qSearch = await timeIt(() => listAccounts(db, { search: 'user7777', limit: 50 }), 3, 1);

      const pShow = await processTime(['accounts', 'show', email], url, runs);
      const pFirst = await processTime(['accounts', 'list', '--status', 'suspended', '--limit', '50'], url, runs);
      const pDeep = await processTime(['accounts', 'list', '--status', 'suspended', '--limit', '50', '--after', String(deepAfter)], url, runs);
      const pHelp = await processTime(['accounts', '--help'], url, runs);

      const q = (label: string, v: number, note?: string): BenchResult => ({ name: `${label} (query)`, value: v, unit: 'ms', target: '< 50 ms', ok: v < 50, note });
      const p = (label: string, v: { median: number; min: number }): BenchResult => ({
        name: `${label} (whole process)`,
        value: v.median,
        unit: 'ms',
        target: '< 300 ms',
        ok: v.median < 300,
        note: `median of ${runs}, min ${Math.round(v.min)} ms; ${load()}`,
      });
      return [
        { name: `seed ${n.toLocaleString('en')} accounts + profiles`, value: seedSecs, unit: 's', note: `${Math.round(n / seedSecs).toLocaleString('en')} accounts/s; ${method}` },
        q('accounts show <email>', qShow, `median of ${runs}; ${load()}`),
        q('accounts list --status suspended --limit 50, first page', qFirst),
        q(`accounts list --status suspended --limit 50 --after ${deepAfter}`, qDeep, `plan: ${plan}`),
        { name: 'accounts list --search user7777 (no target: LIKE %…% scans)', value: qSearch, unit: 'ms' },
        p('accounts show <email>', pShow),
        p('accounts list --status suspended --limit 50, first page', pFirst),
        p(`accounts list --status suspended --limit 50 --after ${deepAfter}`, pDeep),
        { name: 'accounts --help (whole process, no database)', value: pHelp.median, unit: 'ms', note: `the floor (node start + commander); min ${Math.round(pHelp.min)} ms` },
      ];
    } finally {
      await knex?.destroy();
      await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      await admin.destroy();
    }
  },
};

export default bench;
