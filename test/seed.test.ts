/**
 * `seed demo` end to end on both databases: the generated platform satisfies every invariant of
 * docs/rules.md (checked in SQL), looks like a platform, is reproducible from its seed, and the
 * command refuses what it must refuse (non-demo data, demo data without --fresh, production mode,
 * bad flags) without changing anything.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, testedKinds, tableCounts, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { checkInvariants } from '../src/domain/demo/checks.js';
import { DEMO_TABLES } from '../src/domain/demo/generator.js';
import { makePlan, DEFAULT_REFERENCE, DEMO_PASSWORD } from '../src/domain/demo/plan.js';
import { demoPasswordHash, inspectForDemo, runDemoSeed } from '../src/domain/demo/seed.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';
import { Interrupted } from '../src/domain/errors.js';
import { verifyPassword } from '../src/domain/passwords.js';
import { readManifest } from '../src/backup/manifest.js';
import { rawRows } from '../src/db/dialect.js';

const TABLES = [...DEMO_TABLES, 'audit_log'];

/** SHA-256 per table over every row in id order. */
async function checksums(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of DEMO_TABLES) {
    const h = createHash('sha256');
    let after = 0;
    for (;;) {
      const rows = (await knex(t).select('*').where('id', '>', after).orderBy('id').limit(5000)) as Array<Record<string, unknown>>;
      for (const r of rows) h.update(JSON.stringify(Object.values(r)) + '\n');
      if (rows.length < 5000) break;
      after = Number(rows[rows.length - 1]!.id);
    }
    out[t] = h.digest('hex');
  }
  return out;
}

async function expectValid(knex: Knex): Promise<void> {
  const results = await checkInvariants(knex, DEFAULT_SETTINGS, { reference: DEFAULT_REFERENCE });
  const broken = results.filter((r) => r.violations > 0);
  expect(broken).toEqual([]);
  expect(results.length).toBeGreaterThan(30);
}

async function scalar(knex: Knex, sql: string): Promise<number> {
  const rows = await rawRows<Record<string, unknown>>(knex, sql);
  return Number(Object.values(rows[0]!)[0]);
}

interface SeedJson {
  loader: string;
  tables: Array<{ table: string; rows: number }>;
  total_rows: number;
  demo_password?: string;
  random_seed: string;
  reference_time: string;
}

describe.each(testedKinds())('seed demo on %s', (kind) => {
  let a: TestDb;
  let b: TestDb;
  /** Checksums of the first (small, seed 7) seed of `a`. */
  let smallSums: Record<string, string>;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDb(kind), createTestDb(kind)]);
  });
  afterAll(async () => {
    await Promise.all([a?.drop(), b?.drop()]);
  });

  it('generates a small platform that satisfies every rule and looks real', async () => {
    const r = await runJson<SeedJson>(['seed', 'demo', '--scale', 'small', '--random-seed', '7'], { url: a.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.data.loader).toBe({ mysql: 'load-data', postgres: 'copy', sqlite: 'sqlite' }[kind]);
    expect(r.data.total_rows).toBeGreaterThan(40_000);
    expect(r.data.total_rows).toBeLessThan(60_000);
    expect(r.data.demo_password).toBe(DEMO_PASSWORD);
    const counts = await tableCounts(a.knex, DEMO_TABLES);
    for (const t of r.data.tables) expect(counts[t.table]).toBe(t.rows);
    expect(counts.comptes).toBe(counts.utilisateurs! + counts.transporteurs! + counts.administrateurs!);
    expect(counts.paiements).toBe(counts.reservations);

    await expectValid(a.knex);

    // A platform, not a fixture: every state a person browsing would expect to find.
    const ref = "'2026-11-25 00:00:00'";
    expect(await scalar(a.knex, `select count(*) from trajets where departure_time > ${ref} and status = 'active'`)).toBeGreaterThan(100);
    expect(await scalar(a.knex, `select count(*) from trajets where status = 'completed'`)).toBeGreaterThan(1000);
    expect(await scalar(a.knex, `select count(distinct status) from trajets`)).toBe(4);
    expect(await scalar(a.knex, `select count(distinct status) from reservations`)).toBe(5);
    expect(await scalar(a.knex, `select count(distinct status) from envois`)).toBe(5);
    expect(await scalar(a.knex, `select count(distinct status) from colis`)).toBe(5);
    expect(await scalar(a.knex, `select count(*) from reservations where compte_id is null`)).toBeGreaterThan(500);
    expect(await scalar(a.knex, `select count(*) from reservations where refundable_option = true`)).toBeGreaterThan(1000);
    expect(await scalar(a.knex, `select count(*) from revoked_tokens where expires_at < ${ref}`)).toBeGreaterThan(1000);
    expect(await scalar(a.knex, `select count(*) from revoked_tokens where expires_at > ${ref}`)).toBeGreaterThan(500);
    expect(await scalar(a.knex, `select count(*) from comptes where account_locked = true`)).toBeGreaterThan(10);
    expect(await scalar(a.knex, `select count(distinct departure_city) from trajets`)).toBeGreaterThan(80);
    expect(await scalar(a.knex, `select count(*) from envois e where (select count(*) from colis c where c.envoi_id = e.id) not between 1 and 5`)).toBe(0);
    expect(await scalar(a.knex, `select count(*) from comptes where email not like '%@demo.billettigue.test'`)).toBe(0);
    const admin = (await a.knex('comptes').where({ email: 'admin@demo.billettigue.test' }).first()) as { password_hash: string; status: string };
    expect(admin.status).toBe('active');
    expect(await verifyPassword(DEMO_PASSWORD, admin.password_hash)).toBe(true);
    const audit = (await a.knex('audit_log').where({ action: 'seed.demo' })) as Array<{ after_json: string; actor: string }>;
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.after_json)).toMatchObject({ scale: 'small', random_seed: '7', total_rows: r.data.total_rows });
    smallSums = await checksums(a.knex);
  });

  it('the same seed gives the same database on another fresh database, whatever the batching', async () => {
    // Through the domain, on one connection (the CLI used two on MySQL), in transactions of
    // 2,500 rows (several per table): identical rows and ids.
    await runDemoSeed(b.knex, {
      plan: makePlan('small'),
      randomSeed: '7',
      reference: DEFAULT_REFERENCE,
      settings: DEFAULT_SETTINGS,
      passwordHash: await demoPasswordHash(DEMO_PASSWORD, 4, '7'), // the CLI tests run with BILLETTIGUE_BCRYPT_COST=4
      offsets: (await inspectForDemo(b.knex)).maxIds,
      lanes: 1,
      batchRows: 2500,
    });
    expect(await checksums(b.knex)).toEqual(smallSums);
  });

  it('refuses a second seed without --fresh, and --fresh without --yes off a terminal', async () => {
    const before = await tableCounts(a.knex, TABLES);
    const again = await run(['seed', 'demo', '--scale', 'tiny'], { url: a.url });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already holds demo data .*--fresh/);
    const fresh = await run(['seed', 'demo', '--scale', 'tiny', '--fresh'], { url: a.url });
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toMatch(/--yes/);
    const dry = await run(['seed', 'demo', '--scale', 'tiny', '--fresh', '--dry-run'], { url: a.url });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/dry run/);
    expect(await tableCounts(a.knex, TABLES)).toEqual(before);
  });

  it('--fresh --yes takes a safety backup of what it empties, then replaces the data', async () => {
    const before = await tableCounts(a.knex, DEMO_TABLES);
    const dir = path.join(a.dir, 'fresh-safety');
    const r = await runJson<SeedJson & { safety_backup: string }>(['seed', 'demo', '--scale', 'tiny', '--random-seed', '7', '--fresh', '--yes', '--dir', dir], { url: a.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/safety backup: .*safety_backup_/);
    expect(path.dirname(r.data.safety_backup)).toBe(dir);
    expect(statSync(r.data.safety_backup).mode & 0o777).toBe(0o600);
    const saved = readManifest(r.data.safety_backup)!;
    for (const t of DEMO_TABLES) expect(saved.tables.find((x) => x.name === t)?.rows, t).toBe(before[t]);
    const verify = await run(['backup', 'verify', r.data.safety_backup], { url: a.url });
    expect(verify.code, verify.stderr).toBe(0);
    expect(r.data.total_rows).toBeGreaterThan(800);
    expect(r.data.total_rows).toBeLessThan(1200);
    expect((await tableCounts(a.knex, ['comptes'])).comptes).toBe(r.data.tables.find((t) => t.table === 'comptes')!.rows);
    expect((await a.knex('comptes').min({ id: 'id' }).first())?.id).toBe(1);
    await expectValid(a.knex);
  });

  it('refuses a database holding other accounts unless --yes, then adds demo data beside them', async () => {
    const other = await runJson<SeedJson>(['seed', 'demo', '--scale', 'tiny', '--random-seed', '8', '--fresh', '--yes', '--no-safety-backup'], { url: b.url });
    expect(other.code, other.stderr).toBe(0);
    const demoSums = await checksums(b.knex);
    // A different seed gives different data.
    expect(demoSums.comptes).not.toBe((await checksums(a.knex)).comptes);

    await b.knex('comptes').where('email', 'admin@demo.billettigue.test').update({ email: 'chef@billettigue.fr' });
    const before = await tableCounts(b.knex, TABLES);
    const refused = await run(['seed', 'demo', '--scale', 'tiny', '--fresh'], { url: b.url });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    await b.knex('comptes').whereNot('email', 'chef@billettigue.fr').update({ email: b.knex.raw("replace(email, '@demo.billettigue.test', '@example.fr')") });
    const mixed = await run(['seed', 'demo', '--scale', 'tiny'], { url: b.url });
    expect(mixed.code).toBe(4);
    expect(mixed.stderr).toMatch(/not demo data.*--yes/);
    expect(await tableCounts(b.knex, TABLES)).toEqual(before);

    const added = await runJson<SeedJson>(['--yes', 'seed', 'demo', '--scale', 'tiny', '--random-seed', '9'], { url: b.url });
    expect(added.code, added.stderr).toBe(0);
    const after = await tableCounts(b.knex, DEMO_TABLES);
    for (const t of added.data.tables) expect(after[t.table]).toBe(before[t.table]! + t.rows);
    expect(await b.knex('comptes').where('email', 'chef@billettigue.fr').first()).toBeTruthy();
    await expectValid(b.knex);
  });

  it('production mode: refused without --yes; with it the password is random and never shown', async () => {
    const state = await inspectForDemo(b.knex);
    const env = { NODE_ENV: 'production' };
    const refused = await run(['seed', 'demo', '--scale', 'tiny', '--fresh'], { url: b.url, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/production mode.*--yes/);
    expect((await inspectForDemo(b.knex)).rows).toEqual(state.rows);

    const r = await runJson<SeedJson>(['--yes', 'seed', 'demo', '--scale', 'tiny', '--fresh', '--no-safety-backup'], { url: b.url, env: { BILLETTIGUE_ENV: 'production' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.data.demo_password).toBeUndefined();
    expect(r.stderr).not.toContain(DEMO_PASSWORD);
    const admin = (await b.knex('comptes').where({ email: 'admin@demo.billettigue.test' }).first()) as { password_hash: string };
    expect(await verifyPassword(DEMO_PASSWORD, admin.password_hash)).toBe(false);
  });

  it('an abort (Ctrl-C) stops the load and rolls the open batch back', async () => {
    const db = await createTestDb(kind);
    try {
      const stop = new AbortController();
      const run = runDemoSeed(
        db.knex,
        {
          plan: makePlan('tiny'),
          randomSeed: '1',
          reference: DEFAULT_REFERENCE,
          settings: DEFAULT_SETTINGS,
          passwordHash: 'x',
          offsets: (await inspectForDemo(db.knex)).maxIds,
          lanes: 1,
          signal: stop.signal,
        },
        { onTableStart: (t) => t === 'trajets' && stop.abort() },
      );
      await expect(run).rejects.toBeInstanceOf(Interrupted);
      const counts = await tableCounts(db.knex, ['comptes', 'trajets', 'reservations']);
      expect(counts.comptes).toBeGreaterThan(0);
      expect(counts.trajets).toBe(0);
      expect(counts.reservations).toBe(0);
    } finally {
      await db.drop();
    }
  });

  it('rejects bad flags without touching the database', async () => {
    const before = await tableCounts(b.knex, TABLES);
    // (The plan's own refusals are unit-tested in seed-generator.test.ts; these prove the wiring.)
    for (const args of [['--scale', 'huge'], ['--trajets', '10', '--reservations', '100000'], ['--now', 'yesterday-ish']]) {
      const r = await run(['seed', 'demo', ...args, '--fresh', '--yes', '--no-safety-backup'], { url: b.url });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
    }
    // Colis rates that would overflow shipping_cost: refused before --fresh empties anything.
    const rates = await run(['seed', 'demo', '--scale', 'tiny', '--fresh', '--yes', '--no-safety-backup'], { url: b.url, env: { BILLETTIGUE_COLIS_PER_KG: '5000000' } });
    expect(rates.code, rates.stderr).toBe(2);
    expect(rates.stderr).toMatch(/^error: a colis of .* kg would cost more than 99999999\.99.*BILLETTIGUE_COLIS_PER_KG\n$/);
    expect(await tableCounts(b.knex, TABLES)).toEqual(before);
  });

  if (kind === 'mysql') {
    it('falls back to multi-row INSERTs (forced here) and says which path ran', async () => {
      const r = await runJson<SeedJson>(['seed', 'demo', '--scale', 'tiny', '--random-seed', '7', '--fresh', '--yes', '--no-safety-backup'], {
        url: b.url,
        env: { BILLETTIGUE_SEED_LOADER: 'insert' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.data.loader).toBe('insert');
      expect(r.stderr).toMatch(/loader: multi-row INSERT/);
      await expectValid(b.knex);
      expect(await checksums(b.knex)).toEqual(await checksums(a.knex));
    });
  }
});

describe('the same --random-seed gives the same data on every engine', () => {
  it('has equal per-table SHA-256 of the canonical rows (backup manifests) for the eleven tables', async () => {
    const kinds = testedKinds();
    if (kinds.length < 2) return;
    const dbs = await Promise.all(kinds.map((k) => createTestDb(k)));
    try {
      const sums: Array<Record<string, unknown>> = [];
      for (const d of dbs) {
        const seeded = await run(['seed', 'demo', '--scale', 'small', '--random-seed', 'same-everywhere'], { url: d.url });
        expect(seeded.code, `${d.kind}: ${seeded.stderr}`).toBe(0);
        const b = await runJson<{ file: string }>(['backup', '--dir', path.join(d.dir, 'b'), '--tables', DEMO_TABLES.join(',')], { url: d.url });
        expect(b.code, b.stderr).toBe(0);
        sums.push(Object.fromEntries(readManifest(b.data.file)!.tables.map((t) => [t.name, [t.rows, t.sha256]])));
      }
      expect(Object.keys(sums[0]!).sort()).toEqual([...DEMO_TABLES].sort());
      for (let i = 1; i < sums.length; i++) expect(sums[i], kinds[i]).toEqual(sums[0]);
    } finally {
      for (const d of dbs) await d.drop();
    }
    // Three small seeds and three backups, one after the other: ~30 s alone, minutes on a busy machine.
  }, 300_000);
});
