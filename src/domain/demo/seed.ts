/**
 * `seed demo`, the domain side: look at what the database holds, empty it on request, and load the
 * generated platform table by table through the bulk loader of the dialect (src/db/bulk.ts).
 * It never prints or prompts: the CLI asks the questions and shows progress through the hooks.
 *
 * Demo data is recognised by its accounts' email domain (`@demo.billettigue.test`): every row of
 * the eleven data tables hangs off a compte through NOT NULL foreign keys (a guest reservation
 * through its trajet's transporteur), so "no compte outside the demo domain" means "no data that
 * is not demo data".
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { BULK_PATH_LABEL, emptyTables, openBulkLoader, type BulkPath } from '../../db/bulk.js';
import { rawRows } from '../../db/dialect.js';
import { seedRoles } from '../../../seeds/default.js';
import { DEMO_TABLES, DemoGenerator, type DemoSettings, type DemoTable } from './generator.js';
import { DEMO_EMAIL_DOMAIN, type DemoPlan } from './plan.js';

export interface DemoState {
  /** Accounts at the demo domain. */
  demoAccounts: number;
  /** Accounts anywhere else: real (or hand-made) data. */
  otherAccounts: number;
  /** Rows per data table. */
  rows: Record<DemoTable, number>;
  /** Largest id per data table (0 when empty). */
  maxIds: Record<DemoTable, number>;
}

export async function inspectForDemo(knex: Knex): Promise<DemoState> {
  const pattern = `%@${DEMO_EMAIL_DOMAIN}`;
  const [acc] = await rawRows<{ demo: number | string | null; other: number | string | null }>(
    knex,
    'select sum(case when email like ? then 1 else 0 end) as demo, sum(case when email like ? then 0 else 1 end) as other from comptes',
    [pattern, pattern],
  );
  const rows = {} as Record<DemoTable, number>;
  const maxIds = {} as Record<DemoTable, number>;
  for (const t of DEMO_TABLES) {
    const r = (await knex(t).count({ n: '*' }).max({ m: 'id' }).first()) as { n: number | string; m: number | string | null };
    rows[t] = Number(r.n);
    maxIds[t] = Number(r.m ?? 0);
  }
  return { demoAccounts: Number(acc?.demo ?? 0), otherAccounts: Number(acc?.other ?? 0), rows, maxIds };
}

export function totalRows(state: DemoState): number {
  return DEMO_TABLES.reduce((n, t) => n + state.rows[t], 0);
}

/** Empties the eleven data tables (roles and audit_log stay). */
export async function emptyDemoTables(knex: Knex): Promise<void> {
  await emptyTables(knex, [...DEMO_TABLES].reverse());
}

/**
 * The shared password's bcrypt hash, computed once. The salt derives from the random seed so the
 * same seed gives the same hash (and so the same database, byte for byte); demo data has no secret
 * to protect. `randomSalt` (production mode) uses bcrypt's own random salt.
 */
export async function demoPasswordHash(password: string, cost: number, randomSeed: string, randomSalt = false): Promise<string> {
  const { default: bcrypt } = await import('bcrypt');
  if (randomSalt) return bcrypt.hash(password, cost);
  const bytes = createHash('sha256').update(`billettigue-demo-salt:${randomSeed}`, 'utf8').digest().subarray(0, 16);
  return bcrypt.hash(password, `$2b$${String(cost).padStart(2, '0')}$${bcryptBase64(bytes)}`);
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** bcrypt's own base64 (its alphabet, no padding): 16 bytes → 22 characters. */
export function bcryptBase64(buf: Uint8Array): string {
  let out = '';
  let off = 0;
  while (off < buf.length) {
    let c1 = buf[off++]!;
    out += BCRYPT_ALPHABET[(c1 >> 2) & 0x3f];
    c1 = (c1 & 0x03) << 4;
    if (off >= buf.length) {
      out += BCRYPT_ALPHABET[c1 & 0x3f];
      break;
    }
    let c2 = buf[off++]!;
    c1 |= (c2 >> 4) & 0x0f;
    out += BCRYPT_ALPHABET[c1 & 0x3f];
    c1 = (c2 & 0x0f) << 2;
    if (off >= buf.length) {
      out += BCRYPT_ALPHABET[c1 & 0x3f];
      break;
    }
    c2 = buf[off++]!;
    c1 |= (c2 >> 6) & 0x03;
    out += BCRYPT_ALPHABET[c1 & 0x3f];
    out += BCRYPT_ALPHABET[c2 & 0x3f];
  }
  return out;
}

export interface DemoSeedInput {
  plan: DemoPlan;
  randomSeed: string;
  reference: Date;
  settings: DemoSettings;
  passwordHash: string;
  /** Ids continue after these (the state's maxIds; zeros on an empty database). */
  offsets: Record<DemoTable, number>;
  /** MySQL only: force a path (default auto: LOAD DATA when allowed). */
  mysqlPath?: 'auto' | 'load-data' | 'insert';
}

export interface DemoSeedHooks {
  /** Called before the first row (exact counts per table). */
  onPlan?(counts: Record<DemoTable, number>, path: BulkPath): void;
  onTableStart?(table: DemoTable, rows: number): void;
  onProgress?(table: DemoTable, done: number): void;
  onTableDone?(table: DemoTable, rows: number, seconds: number): void;
}

export interface DemoTableResult {
  table: DemoTable;
  rows: number;
  seconds: number;
}

export interface DemoSeedResult {
  path: BulkPath;
  pathLabel: string;
  /** Why the INSERT path ran instead of LOAD DATA (MySQL), if it did. */
  fallbackReason: string | null;
  tables: DemoTableResult[];
  totalRows: number;
  seconds: number;
}

/** Makes sure the three default roles exist and returns their ids. */
export async function demoRoleIds(knex: Knex): Promise<{ admin: number; user: number; transporteur: number }> {
  await knex.transaction((trx) => seedRoles(trx));
  const rows = (await knex('roles').whereIn('name', ['admin', 'user', 'transporteur']).select('id', 'name')) as Array<{ id: number; name: string }>;
  const id = (name: string) => rows.find((r) => r.name === name)!.id;
  return { admin: id('admin'), user: id('user'), transporteur: id('transporteur') };
}

/** Generates and loads the whole demo platform. Not one transaction: see docs/seed.md. */
export async function runDemoSeed(knex: Knex, input: DemoSeedInput, hooks: DemoSeedHooks = {}): Promise<DemoSeedResult> {
  const roleIds = await demoRoleIds(knex);
  const gen = new DemoGenerator({
    plan: input.plan,
    randomSeed: input.randomSeed,
    reference: input.reference,
    settings: input.settings,
    passwordHash: input.passwordHash,
    roleIds,
    offsets: input.offsets,
  });
  let fallbackReason: string | null = null;
  const loader = await openBulkLoader(knex, { mysqlPath: input.mysqlPath, onFallback: (why) => (fallbackReason = why) });
  const counts = gen.counts();
  hooks.onPlan?.(counts, loader.path);
  const tables: DemoTableResult[] = [];
  const t0 = performance.now();
  try {
    for (const job of gen.jobs()) {
      const table = job.table as DemoTable;
      hooks.onTableStart?.(table, job.rows);
      const s = performance.now();
      const rows = await loader.load(job, (done) => hooks.onProgress?.(table, done));
      const seconds = (performance.now() - s) / 1000;
      if (rows !== job.rows) throw new Error(`${table}: generated ${rows} rows, planned ${job.rows}`);
      tables.push({ table, rows, seconds });
      hooks.onTableDone?.(table, rows, seconds);
    }
  } finally {
    await loader.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    path: loader.path,
    pathLabel: BULK_PATH_LABEL[loader.path],
    fallbackReason,
    tables,
    totalRows: tables.reduce((n, t) => n + t.rows, 0),
    seconds,
  };
}
