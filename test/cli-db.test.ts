/**
 * `billettigue db …`, `doctor` and `audit list` as a user runs them: the real binary, real databases.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupReadyKinds, createTestDb, mysqlServerUrl, snapshot, tableCounts, type TestDb, testedKinds } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { knownMigrations } from '../src/db/migrator.js';
import { listTables } from '../src/db/dialect.js';
import { connect } from '../src/db/connection.js';
import { parseDatabaseUrl } from '../src/db/config.js';

describe.each(testedKinds())('db commands on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind, { migrate: false });
  });
  afterAll(async () => db?.drop());

  it('status lists pending migrations before migrate, and commands needing the schema refuse with exit 5', async () => {
    const s = await runJson<{ pending: number; migrations: Array<{ status: string }> }>(['db', 'status'], { url: db.url });
    expect(s.code).toBe(0);
    expect(s.data.pending).toBe(knownMigrations().length);
    const r = await run(['audit', 'list'], { url: db.url });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: .*billettigue db migrate/m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('migrate applies everything, then is a no-op; status shows dates', async () => {
    const m = await runJson<{ applied: string[] }>(['db', 'migrate'], { url: db.url });
    expect(m.code).toBe(0);
    expect(m.data.applied).toEqual(knownMigrations());
    const again = await run(['db', 'migrate'], { url: db.url });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already up to date/);
    const s = await runJson<{ pending: number; migrations: Array<{ status: string; applied_at: string }> }>(['db', 'status'], { url: db.url });
    expect(s.data.pending).toBe(0);
    for (const m2 of s.data.migrations) expect(m2.applied_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
  });

  it('seed is idempotent, creates an admin with a generated password printed once, never the hash', async () => {
    const first = await run(['db', 'seed', '--admin-email', ' Boss@Example.FR ', '--generate-password'], { url: db.url });
    expect(first.code, first.stderr).toBe(0);
    const pw = /generated password for boss@example\.fr: (\S+)/.exec(first.stdout)?.[1];
    expect(pw).toBeDefined();
    const admin = (await db.knex('comptes').where({ email: 'boss@example.fr' }).first()) as { password_hash: string; id: number };
    expect(admin.password_hash).toMatch(/^\$2[aby]\$04\$/);
    expect(first.stdout + first.stderr).not.toContain(admin.password_hash);
    const bcrypt = (await import('bcrypt')).default;
    expect(await bcrypt.compare(pw!, admin.password_hash)).toBe(true);
    expect(await db.knex('administrateurs').where({ compte_id: admin.id })).toHaveLength(1);

    const counts = await tableCounts(db.knex, ['roles', 'comptes', 'administrateurs']);
    const second = await run(['db', 'seed', '--admin-email', 'boss@example.fr', '--generate-password'], { url: db.url });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/generated password/);
    expect(await tableCounts(db.knex, ['roles', 'comptes', 'administrateurs'])).toEqual(counts);
    expect((await db.knex('roles').pluck('name')).sort()).toEqual(['admin', 'transporteur', 'user']);
  });

  it('seed reads the admin password from stdin, refuses bad ones, and never prompts without a TTY', async () => {
    const before = await snapshot(db.knex, ['comptes', 'administrateurs', 'audit_log']);
    const noSource = await run(['db', 'seed', '--admin-email', 'second@example.fr'], { url: db.url });
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toMatch(/--password-stdin or --generate-password/);
    const empty = await run(['db', 'seed', '--admin-email', 'second@example.fr', '--password-stdin'], { url: db.url, input: '' });
    expect(empty.code).toBe(2);
    const long = await run(['db', 'seed', '--admin-email', 'second@example.fr', '--password-stdin'], { url: db.url, input: '🔑'.repeat(19) + '\n' });
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/76 bytes.*72/);
    const badEmail = await run(['db', 'seed', '--admin-email', 'not-an-email', '--generate-password'], { url: db.url });
    expect(badEmail.code).toBe(2);
    const dry = await run(['db', 'seed', '--admin-email', 'second@example.fr', '--password-stdin', '--dry-run'], { url: db.url, input: 'correct horse battery\n' });
    expect(dry.code).toBe(0);
    expect(await snapshot(db.knex, ['comptes', 'administrateurs', 'audit_log'])).toEqual(before);
    const ok = await run(['db', 'seed', '--admin-email', 'second@example.fr', '--password-stdin'], { url: db.url, input: 'correct horse battery\n' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).not.toContain('correct horse battery');
  });

  it('audit list shows the seed actions, filtered and as JSON', async () => {
    const all = await runJson<Array<{ action: string; actor: string; created_at: string }>>(['audit', 'list', '--action', 'db.'], { url: db.url });
    expect(all.code).toBe(0);
    expect(all.data.map((a) => a.action)).toContain('db.seed.admin');
    expect(all.data[0]!.actor).toBe('test-runner');
    expect(all.data[0]!.created_at).toMatch(/Z$/);
    const bad = await run(['audit', 'list', '--limit', '0'], { url: db.url });
    expect(bad.code).toBe(2);
  });

  it('doctor is healthy on a migrated database and reports drift', async () => {
    const ok = await runJson<{ healthy: boolean; checks: Array<{ name: string; ok: boolean }> }>(['doctor'], { url: db.url });
    expect(ok.code, JSON.stringify(ok.data)).toBe(0);
    expect(ok.data.healthy).toBe(true);
    await db.knex.schema.alterTable('roles', (t) => t.string('surprise').nullable());
    await db.knex.schema.createTable('stray_table', (t) => t.increments('id'));
    const drift = await run(['doctor'], { url: db.url });
    expect(drift.code).toBe(5);
    expect(drift.stdout).toMatch(/roles: extra column surprise/);
    expect(drift.stdout).toMatch(/extra table stray_table/);
    await db.knex.schema.dropTable('stray_table');
    await db.knex.schema.alterTable('roles', (t) => t.dropColumn('surprise'));
  });

  it('a stuck migration lock is reported with the command that clears it', async () => {
    await db.knex('knex_migrations_lock').update({ is_locked: 1 });
    const r = await run(['db', 'rollback'], { url: db.url });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/billettigue db unlock --yes/);
    const noYes = await run(['db', 'unlock'], { url: db.url });
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    const un = await run(['db', 'unlock', '--yes'], { url: db.url });
    expect(un.code).toBe(0);
  });

  // reset takes a safety backup first.
  it.runIf(backupReadyKinds().includes(kind))('rollback --step, --all, and reset (refused without --yes, nothing changed)', async () => {
    const dry = await runJson<{ would_revert: string[]; tables: Array<{ name: string; rows: number }> }>(['db', 'rollback', '--all', '--dry-run'], { url: db.url });
    expect(dry.data.would_revert).toEqual([...knownMigrations()].reverse());
    expect(dry.data.tables).toContainEqual({ name: 'roles', rows: 3 });
    expect((await listTables(db.knex)).length).toBeGreaterThan(10);
    // The last migration drops no table: no row at stake, no question.
    const step = await runJson<{ reverted: string[] }>(['db', 'rollback', '--step', '1'], { url: db.url });
    expect(step.data.reverted).toHaveLength(1);
    await run(['db', 'migrate'], { url: db.url });

    // Rows at stake, no terminal, no --yes: exit 2, every table still there with its rows.
    const tablesBefore = (await listTables(db.knex)).sort();
    const countsBefore = await tableCounts(db.knex, ['comptes', 'roles']);
    for (const args of [['db', 'rollback', '--all'], ['db', 'rollback', '--step', String(knownMigrations().length)], ['db', 'reset']]) {
      const refused = await run([...args, '--dir', db.dir], { url: db.url });
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/roles +3 rows/);
      expect(refused.stderr).toMatch(/target: .*confirmation needed.*--yes/);
      expect((await listTables(db.knex)).sort()).toEqual(tablesBefore);
      expect(await tableCounts(db.knex, ['comptes', 'roles'])).toEqual(countsBefore);
    }
    expect(readdirSync(db.dir).filter((f) => f.startsWith('safety_backup_'))).toEqual([]);

    const reset = await run(['db', 'reset', '--yes', '--dir', db.dir], { url: db.url });
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stderr).toMatch(/safety backup: .*safety_backup_/);
    expect(await tableCounts(db.knex, ['comptes', 'roles'])).toEqual({ comptes: 0, roles: 3 });

    const all = await runJson<{ reverted: string[]; safety_backup: string }>(['db', 'rollback', '--all', '--yes', '--dir', db.dir], { url: db.url });
    expect(all.code).toBe(0);
    expect(all.data.safety_backup).toMatch(/safety_backup_.*\.sql\.gz$/);
    expect((await listTables(db.knex)).sort()).toEqual(['knex_migrations', 'knex_migrations_lock']);
    expect(readdirSync(db.dir).filter((f) => /^safety_backup_.*\.sql\.gz$/.test(f))).toHaveLength(2);
  });
});

describe('usage errors and unreachable databases', () => {
  it('unknown command and flag: exit 2 with a suggestion, one line', async () => {
    const c = await run(['acounts', 'list']);
    expect(c.code).toBe(2);
    expect(c.stderr.trim()).toBe("error: unknown command 'acounts' (Did you mean accounts?)");
    const f = await run(['--jsn', 'doctor']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/unknown option '--jsn' \(Did you mean --json\?\)/);
    const j = await run(['--json', 'db', 'migrat']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stderr)).toMatchObject({ error: { code: 'usage' } });
  });

  it('--help at every level, with examples, exit 0', async () => {
    for (const args of [['--help'], ['db', '--help'], ['db', 'rollback', '--help'], ['audit', 'list', '--help'], ['doctor', '--help']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: billettigue/);
    }
    expect((await run(['--help'])).stdout).toMatch(/Examples:/);
  });

  it('unreachable server: exit 5 naming host and port, no password, no stack', async () => {
    const r = await run(['--db', 'mysql://root:hunter2@127.0.0.1:1/billettigue', 'db', 'status']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(r.stderr).not.toMatch(/hunter2|\n\s+at /);
    const j = await run(['--json', '--db', 'mysql://root:hunter2@127.0.0.1:1/billettigue', 'doctor']);
    expect(j.code).toBe(5);
    expect(j.stdout + j.stderr).not.toContain('hunter2');
  });

  it('a URL with an unknown scheme or a .env typo: exit 5 with the fix', async () => {
    const r = await run(['--db', 'oracle://u@h/d', 'db', 'status']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/unknown URL scheme/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-env-'));
    writeFileSync(path.join(dir, '.env'), 'DB_NAEM=billettigue\n');
    const t = await run(['db', 'status'], { cwd: dir, url: undefined, env: { DATABASE_URL: undefined } });
    expect(t.code).toBe(5);
    expect(t.stderr).toMatch(/DB_NAEM.*did you mean DB_NAME/);
  });

  it.runIf(testedKinds().includes('mysql'))('MySQL: wrong password and missing database are exit 5 with the fix', async () => {
    const server = new URL(mysqlServerUrl());
    const wrong = await run(['--db', `mysql://${server.username || 'root'}:definitely-wrong@${server.host}/test`, 'db', 'status']);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/access denied/);
    expect(wrong.stderr).not.toContain('definitely-wrong');
    const missing = await run(['--db', `${mysqlServerUrl()}/bt_does_not_exist_42`, 'db', 'status']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/billettigue db create/);
  });

  it.runIf(testedKinds().includes('mysql'))('MySQL: db create makes the database (utf8mb4), idempotently', async () => {
    const name = `bt_test_create_${process.pid}_${Date.now().toString(36)}`;
    const url = `${mysqlServerUrl()}/${name}`;
    try {
      const c = await runJson<{ created: boolean }>(['db', 'create'], { url });
      expect(c.code).toBe(0);
      expect(c.data.created).toBe(true);
      const again = await runJson<{ created: boolean }>(['db', 'create'], { url });
      expect(again.data.created).toBe(false);
      const m = await run(['db', 'migrate'], { url });
      expect(m.code).toBe(0);
    } finally {
      const admin = await connect(parseDatabaseUrl(mysqlServerUrl(), '--db'), { noDatabase: true });
      await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      await admin.destroy();
    }
  });

  it('the embedded default works from an empty folder with no configuration', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-default-'));
    const env = { DATABASE_URL: undefined };
    expect((await run(['db', 'migrate'], { cwd: dir, env })).code).toBe(0);
    const s = await runJson<{ target: string; pending: number }>(['db', 'status'], { cwd: dir, env });
    expect(s.data).toMatchObject({ target: 'sqlite:billettigue.sqlite3', pending: 0 });
  });
});
