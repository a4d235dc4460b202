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
import { BULK_PATH_LABEL, emptyTables, openBulkLoader, type BulkJob, type BulkLoader, type BulkPath } from '../../db/bulk.js';
import { rawRows } from '../../db/dialect.js';
import { seedRoles } from '../../../seeds/default.js';
import { DEMO_PARENTS, DEMO_TABLES, DemoGenerator, type DemoSettings, type DemoTable } from './generator.js';
import { DEMO_EMAIL_DOMAIN, type DemoPlan } from './plan.js';
import { Interrupted } from '../errors.js';

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
  /**
   * MySQL only: connections loading tables at the same time (default 2). Tables whose parents are
   * all committed load concurrently; SQLite has one writer and always uses one.
   */
  lanes?: number;
  /** Aborting stops the load at once (the open batches are rolled back). */
  signal?: AbortSignal;
  /** Rows per transaction (tuning and tests; see BulkOptions.batchRows). */
  batchRows?: number;
}

/** Default concurrent connections on MySQL (the critical path is about 60 % of the rows). */
export const DEFAULT_LANES = 2;

export interface DemoSeedHooks {
  /** Called before the first row (exact counts per table). */
  onPlan?(counts: Record<DemoTable, number>, path: BulkPath): Promise<void> | void;
  onTableStart?(table: DemoTable, rows: number): void;
  onProgress?(table: DemoTable, done: number): void;
  onTableDone?(table: DemoTable, rows: number, seconds: number): Promise<void> | void;
}

export interface DemoTableResult {
  table: DemoTable;
  rows: number;
  seconds: number;
}

export interface DemoSeedResult {
  path: BulkPath;
  /** Connections that loaded tables concurrently. */
  lanes: number;
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

/**
 * Generates and loads the whole demo platform. Not one transaction: see docs/seed.md.
 * Tables are handed to up to `lanes` loaders, each on its own connection, as soon as their
 * parents are committed, the heaviest chain of tables first.
 */
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
  const first = await openBulkLoader(knex, { mysqlPath: input.mysqlPath, batchRows: input.batchRows, onFallback: (why) => (fallbackReason = why) });
  const loaders: BulkLoader[] = [first];
  const tables: DemoTableResult[] = [];
  const t0 = performance.now();
  const abort = () => loaders.forEach((l) => l.abort());
  input.signal?.addEventListener('abort', abort);
  try {
    if (input.signal?.aborted) abort();
    const lanes = first.path === 'sqlite' ? 1 : Math.max(1, Math.min(4, input.lanes ?? DEFAULT_LANES));
    // The other lanes use the path the first one settled on (no second probe, no second fallback).
    for (let i = 1; i < lanes; i++) loaders.push(await openBulkLoader(knex, { mysqlPath: first.path === 'insert' ? 'insert' : 'load-data', batchRows: input.batchRows }));
    const counts = gen.counts();
    await hooks.onPlan?.(counts, first.path);
    const jobs = new Map(gen.jobs().map((j) => [j.table as DemoTable, j]));
    const order = scheduleOrder(counts);
    const done = new Set<DemoTable>();
    const started = new Set<DemoTable>();
    let failed: unknown = null;
    const waiting: Array<() => void> = [];
    const changed = () => new Promise<void>((resolve) => waiting.push(resolve));
    const wake = () => waiting.splice(0).forEach((resolve) => resolve());

    const runLane = async (loader: BulkLoader): Promise<void> => {
      for (;;) {
        if (failed) return;
        if (input.signal?.aborted) {
          failed ??= new Interrupted();
          return;
        }
        const next = order.find((t) => !started.has(t) && DEMO_PARENTS[t].every((p) => done.has(p)));
        if (!next) {
          if (started.size === order.length) return;
          await changed();
          continue;
        }
        started.add(next);
        const job = jobs.get(next)!;
        try {
          tables.push(await loadOne(loader, job, hooks));
        } catch (err) {
          failed ??= err;
        }
        done.add(next);
        wake();
      }
    };
    await Promise.all(loaders.map(runLane));
    if (failed) throw failed;
    const seconds = (performance.now() - t0) / 1000;
    tables.sort((a, b) => DEMO_TABLES.indexOf(a.table) - DEMO_TABLES.indexOf(b.table));
    return {
      path: first.path,
      lanes,
      pathLabel: BULK_PATH_LABEL[first.path],
      fallbackReason,
      tables,
      totalRows: tables.reduce((n, t) => n + t.rows, 0),
      seconds,
    };
  } finally {
    input.signal?.removeEventListener('abort', abort);
    for (const l of loaders) await l.close();
  }
}

async function loadOne(loader: BulkLoader, job: BulkJob, hooks: DemoSeedHooks): Promise<DemoTableResult> {
  const table = job.table as DemoTable;
  hooks.onTableStart?.(table, job.rows);
  const s = performance.now();
  const rows = await loader.load(job, (n) => hooks.onProgress?.(table, n));
  const seconds = (performance.now() - s) / 1000;
  if (rows !== job.rows) throw new Error(`${table}: generated ${rows} rows, planned ${job.rows}`);
  await hooks.onTableDone?.(table, rows, seconds);
  return { table, rows, seconds };
}

/**
 * Tables by priority: the longest chain of rows still to load after a table (its own rows plus
 * its heaviest descendants) first, so that the critical path starts as early as possible.
 */
export function scheduleOrder(counts: Record<DemoTable, number>): DemoTable[] {
  const children = (t: DemoTable) => DEMO_TABLES.filter((c) => DEMO_PARENTS[c].includes(t));
  const memo = new Map<DemoTable, number>();
  const chain = (t: DemoTable): number => {
    let v = memo.get(t);
    if (v === undefined) {
      v = counts[t] + Math.max(0, ...children(t).map(chain));
      memo.set(t, v);
    }
    return v;
  };
  return [...DEMO_TABLES].sort((a, b) => chain(b) - chain(a) || DEMO_TABLES.indexOf(a) - DEMO_TABLES.indexOf(b));
}
