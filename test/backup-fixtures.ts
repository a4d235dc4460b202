/**
 * Shared by the backup/restore tests: rows in all 12 seed tables (+ audit_log) with the values
 * that break naive dumps (quotes, backslashes, newlines, NUL, Ctrl-Z, emoji, the word NULL,
 * NULLs, decimals, booleans), a full "what is in this database" snapshot (rows of every table in
 * primary-key order, AUTO_INCREMENT counters, table definitions), helpers to drive the binary
 * interactively (wait for the pause hook, kill it) and to drop the helper databases a test left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Knex } from 'knex';
import { BIN } from './helpers/cli.js';
import { mysqlServerUrl, type TestDb } from './helpers/db.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { dialectOf, listTables, rawRows } from '../src/db/dialect.js';
import { dbTag } from '../src/db/leftovers.js';
import { toDbTime } from '../src/db/values.js';

export const TRICKY = [
  "O'Brien",
  'back\\slash',
  'new\nline\r\nend',
  'tab\there',
  'émoji 😀 Orléans',
  'ctrl\x1az',
  'nul\0byte',
  'quote "double"',
  '),(',
  "'),('",
  'NULL',
  '',
  '\\N',
  "trailing \\'",
];

const T0 = Date.UTC(2026, 0, 15, 8, 30, 0);
const at = (minutes: number) => toDbTime(new Date(T0 + minutes * 60_000));

/** Inserts `n` of everything (n ≥ 3), ids explicit, strings from TRICKY. */
export async function fillAll(knex: Knex, n = 6): Promise<void> {
  const s = (i: number) => TRICKY[i % TRICKY.length]!;
  await knex.transaction(async (trx) => {
    // Fixed times everywhere (the seeded roles too): two databases filled apart hash the same.
    await trx('roles').update({ created_at: at(0), updated_at: at(0) });
    const roles = (await trx('roles').select('id', 'name')) as Array<{ id: number; name: string }>;
    const roleId = (name: string) => roles.find((r) => r.name === name)!.id;
    const comptes = [];
    for (let i = 1; i <= 3 * n; i++) {
      comptes.push({
        id: i,
        email: `user${i}.${i % 2 ? "o'brien" : 'test'}@example.fr`,
        password_hash: `$2b$04$${'x'.repeat(20)}${i}`,
        status: ['active', 'inactive', 'suspended', 'deleted'][i % 4],
        email_verified: i % 2 === 0,
        phone_verified: i % 3 === 0,
        last_login: i % 4 === 0 ? null : at(i),
        login_attempts: i % 5,
        failed_logins: i % 3,
        last_failed_login: i % 2 ? null : at(i + 1),
        account_locked: i % 7 === 0,
        password_changed_at: null,
        role_id: i <= n ? roleId('user') : i <= 2 * n ? roleId('transporteur') : roleId('admin'),
        created_at: at(i),
        updated_at: at(i + 2),
      });
    }
    await trx('comptes').insert(comptes);
    await trx('utilisateurs').insert(
      Array.from({ length: n }, (_, k) => ({ id: k + 1, last_name: s(k), first_name: s(k + 3), phone_number: `06000000${k}`, compte_id: k + 1, created_at: at(k), updated_at: at(k) })),
    );
    await trx('transporteurs').insert(
      Array.from({ length: n }, (_, k) => ({
        id: k + 1,
        phone_number: `07000000${k}`,
        company_name: k % 3 === 0 ? null : s(k + 5),
        company_type: ['mixte', 'passagers', 'colis'][k % 3],
        compte_id: n + k + 1,
        created_at: at(k),
        updated_at: at(k),
      })),
    );
    await trx('administrateurs').insert(
      Array.from({ length: n }, (_, k) => ({ id: k + 1, last_name: s(k + 7), first_name: 'Élise', compte_id: 2 * n + k + 1, created_at: at(k), updated_at: at(k) })),
    );
    await trx('trajets').insert(
      Array.from({ length: 2 * n }, (_, k) => ({
        id: k + 1,
        departure_city: ['Paris', 'Orléans', 'Besançon'][k % 3],
        arrival_city: 'Saint-Étienne',
        departure_time: at(1000 + k * 60),
        price: `${10 + k}.${k % 2 ? '50' : '05'}`,
        seats_count: 50,
        available_seats: 40,
        status: 'active',
        accepts_packages: k % 2 === 0,
        max_package_weight: k % 3 === 0 ? null : '12.25',
        departure_point: k % 2 ? null : s(k),
        arrival_point: s(k + 1),
        transporteur_id: (k % n) + 1,
        created_at: at(k),
        updated_at: at(k),
      })),
    );
    const reservations = [];
    const paiements = [];
    for (let k = 1; k <= 4 * n; k++) {
      reservations.push({
        id: k,
        reservation_date: at(k),
        passenger_first_name: s(k),
        passenger_last_name: s(k + 2),
        phone_number: `+33 6 ${k}`,
        status: ['pending', 'confirmed', 'cancelled', 'completed', 'refunded'][k % 5],
        seats_reserved: 1 + (k % 3),
        refundable_option: k % 2 === 1,
        refund_supplement_amount: k % 2 ? '1.05' : '0.00',
        total_amount: `${20 + k}.${k % 2 ? '55' : '00'}`,
        trajet_id: (k % (2 * n)) + 1,
        compte_id: k % 4 === 0 ? null : (k % n) + 1,
        created_at: at(k),
        updated_at: at(k),
      });
      paiements.push({
        id: k,
        amount: `${20 + k}.${k % 2 ? '55' : '00'}`,
        status: ['pending', 'completed', 'failed', 'refunded'][k % 4],
        payment_date: at(k + 1),
        reservation_id: k,
        created_at: at(k),
        updated_at: at(k),
      });
    }
    await trx('reservations').insert(reservations);
    await trx('paiements').insert(paiements);
    await trx('envois').insert(
      Array.from({ length: n }, (_, k) => ({
        id: k + 1,
        description: s(k + 4),
        status: ['pending', 'accepted', 'in_transit', 'delivered', 'cancelled'][k % 5],
        expediteur_id: k + 1,
        recipient_name: s(k + 6),
        recipient_phone: '0102030405',
        transporteur_id: k + 1,
        compte_id: k + 1,
        created_at: at(k),
        updated_at: at(k),
      })),
    );
    await trx('colis').insert(
      Array.from({ length: 2 * n }, (_, k) => ({
        id: k + 1,
        description: s(k + 8),
        weight: `${1 + k}.${k % 2 ? '75' : '00'}`,
        dimensions: k % 2 ? null : '30x20x10',
        shipping_cost: `${5 + k}.10`,
        status: ['pending', 'packaged', 'shipped', 'delivered', 'lost'][k % 5],
        envoi_id: (k % n) + 1,
        created_at: at(k),
        updated_at: at(k),
      })),
    );
    await trx('zones_desservies').insert(
      Array.from({ length: n }, (_, k) => ({
        id: k + 1,
        city_name: ['Orléans', 'Lyon', "L'Haÿ-les-Roses"][k % 3] + ` ${k}`,
        region: k % 2 ? null : 'Centre-Val de Loire',
        zone_type: ['pickup_only', 'delivery_only', 'both'][k % 3],
        service_frequency: k % 5 === 4 ? null : ['daily', 'weekly', 'monthly', 'on_demand'][k % 4],
        max_weight_capacity: k % 2 ? '100.50' : null,
        transporteur_id: (k % n) + 1,
        created_at: at(k),
        updated_at: at(k),
      })),
    );
    await trx('revoked_tokens').insert(
      Array.from({ length: n }, (_, k) => ({
        id: k + 1,
        token: `eyJhbGciOiJIUzI1NiJ9.${k}.${s(k)}`,
        user_id: k + 1,
        revoked_at: at(k),
        expires_at: at(k + 10_000),
        reason: k % 2 ? null : 'logout',
      })),
    );
    await trx('audit_log').insert(
      Array.from({ length: n }, (_, k) => ({
        id: k + 1,
        actor: 'fixture',
        action: 'accounts.lock',
        target_type: 'compte',
        target_id: String(k + 1),
        reason: s(k),
        before_json: JSON.stringify({ note: s(k) }),
        after_json: null,
        created_at: at(k),
      })),
    );
  });
  if (dialectOf(knex) === 'mysql') {
    // Counters above the data, as a live database has after deletions.
    await knex.raw('ALTER TABLE reservations AUTO_INCREMENT = 1000');
    await knex.raw('ALTER TABLE comptes AUTO_INCREMENT = 500');
  } else {
    await knex.raw("UPDATE sqlite_sequence SET seq = 999 WHERE name = 'reservations'");
    await knex.raw("UPDATE sqlite_sequence SET seq = 499 WHERE name = 'comptes'");
  }
}

export interface DbState {
  tables: Record<string, unknown[]>;
  autoIncrement: Record<string, number | null>;
  schema: Record<string, string>;
}

async function primaryKey(knex: Knex, table: string): Promise<string[]> {
  if (dialectOf(knex) === 'mysql') {
    const r = await rawRows<{ c: string }>(knex, "SELECT column_name AS c FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = ? AND constraint_name = 'PRIMARY' ORDER BY ordinal_position", [table]);
    return r.map((x) => x.c);
  }
  const r = await rawRows<{ name: string; pk: number }>(knex, 'SELECT name, pk FROM pragma_table_info(?)', [table]);
  return r.filter((x) => x.pk > 0).sort((a, b) => a.pk - b.pk).map((x) => x.name);
}

/** Everything a restore must bring back, comparable with toEqual. */
export async function dbState(knex: Knex, options: { skip?: (table: string, row: Record<string, unknown>) => boolean } = {}): Promise<DbState> {
  const state: DbState = { tables: {}, autoIncrement: {}, schema: {} };
  for (const t of await listTables(knex)) {
    if (t.startsWith('bt_')) continue;
    const pk = await primaryKey(knex, t);
    const rows = (await knex(t).select('*').orderBy(pk.length ? pk : ['rowid'])) as Array<Record<string, unknown>>;
    state.tables[t] = rows.filter((r) => !options.skip?.(t, r));
    if (dialectOf(knex) === 'mysql') {
      const [c] = await rawRows<Record<string, string>>(knex, `SHOW CREATE TABLE \`${t}\``);
      state.schema[t] = c!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '');
      const [a] = await rawRows<{ ai: number | null }>(knex, 'SELECT auto_increment AS ai FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [t]);
      state.autoIncrement[t] = a?.ai === null || a?.ai === undefined ? null : Number(a.ai);
    } else {
      const [c] = await rawRows<{ sql: string }>(knex, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [t]);
      state.schema[t] = c!.sql;
      const idx = await rawRows<{ sql: string }>(knex, "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", [t]);
      state.schema[t] += '\n' + idx.map((i) => i.sql).join('\n');
      const [a] = await rawRows<{ seq: number }>(knex, 'SELECT seq FROM sqlite_sequence WHERE name = ?', [t]);
      state.autoIncrement[t] = a ? Number(a.seq) : null;
    }
  }
  return state;
}

/** The audit row a restore adds to the restored database (everything else must be identical). */
export const notRestoreAudit = { skip: (t: string, r: Record<string, unknown>) => t === 'audit_log' && String(r.action).startsWith('restore.') };

/** A fresh connection to the test database (after a SQLite swap the old one sees the old file). */
export async function reconnect(db: TestDb): Promise<Knex> {
  return connect(db.target);
}

/** Drops the helper databases (staging, undo, verify scratch) a MySQL test database left. */
export async function dropHelpers(db: TestDb): Promise<void> {
  if (db.kind !== 'mysql' || db.target.kind !== 'mysql') return;
  const admin = await connect(parseDatabaseUrl(mysqlServerUrl(), '--db'), { noDatabase: true });
  try {
    const tag = dbTag(db.target.database);
    const dbs = await rawRows<{ name: string }>(admin, 'SELECT schema_name AS name FROM information_schema.schemata');
    for (const d of dbs) {
      if (/^bt_(restore|undo|verify)_/.test(d.name) && d.name.includes(`_${tag}_`)) await admin.raw('DROP DATABASE IF EXISTS ??', [d.name]);
    }
  } finally {
    await admin.destroy();
  }
}

export async function helperDatabases(db: TestDb): Promise<string[]> {
  if (db.target.kind !== 'mysql') return [];
  const tag = dbTag(db.target.database);
  const dbs = await rawRows<{ name: string }>(db.knex, 'SELECT schema_name AS name FROM information_schema.schemata');
  return dbs.map((d) => d.name).filter((n) => /^bt_(restore|undo|verify)_/.test(n) && n.includes(`_${tag}_`)).sort();
}

/** A running binary: wait for a stderr pattern, signal it, await its exit. */
export interface Running {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function start(args: string[], options: { url: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number }): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: '1', BILLETTIGUE_ACTOR: 'test-runner', DATABASE_URL: options.url, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.end();
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of waiters.splice(0)) w();
  });
  // Never leave a paused process behind, whatever the test does.
  const guard = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let done = false;
      void exited.then(() => (done = true));
      while (!pattern.test(err)) {
        if (done) throw new Error(`exited before ${pattern}: ${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${err}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}
