/**
 * Faults during `restore` and `restore --undo` (docs/reliability.md): the staging copy changed
 * under a paused restore, incomplete undo sets. Each case asserts the documented exit code, one
 * `error:` line without a stack, and a live database exactly as before or exactly the backup.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, testedKinds, withServer, type TestDb } from '../helpers/db.js';
import { run, runJson } from '../helpers/cli.js';
import { dropHelpers, fillAll, helperDatabases, reconnect, start, type DbState } from '../backup-fixtures.js';
import { helperDatabase, stamp, UNDO_PREFIX } from '../../src/db/leftovers.js';
import { UNDO_CONTENTS } from '../../src/backup/swap-check.js';
import { readManifest, sealManifest, serializeManifest } from '../../src/backup/manifest.js';
import { breakData as breakLiveData, expectFailure, liveState, withLive } from './support/outcome.js';

describe.each(testedKinds())('restore faults on %s', (kind) => {
  let db: TestDb;
  let backupFile: string;
  let backedUp: DbState;
  const dir = () => path.join(db.dir, 'backups');
  const restore = (args: string[]) => run(['restore', ...args, '--dir', dir()], { url: db.url, cwd: db.dir });
  const sqliteFiles = (marker: string) => readdirSync(db.dir).filter((f) => f.includes(marker) && !/-(wal|shm|journal)$/.test(f));

  const withKnex = <T>(fn: (k: Knex) => Promise<T>) => withLive(db, fn);
  const breakData = () => breakLiveData(db);

  /** Runs SQL against the staging copy of the paused restore (`sql` gets its name and tables). */
  async function onStaging(fn: (name: string, tables: string[], exec: (sql: string) => Promise<void>) => Promise<void>): Promise<void> {
    if (kind === 'sqlite') {
      const [f] = sqliteFiles('.bt_restore_');
      const s = new Database(path.join(db.dir, f!));
      try {
        s.pragma('foreign_keys = OFF');
        const tables = (s.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'").all() as Array<{ name: string }>).map((r) => r.name);
        await fn(f!, tables, async (sql) => void s.exec(sql));
      } finally {
        s.close();
      }
      return;
    }
    const name = (await helperDatabases(db)).find((n) => n.startsWith('bt_restore_'));
    if (!name) throw new Error('no staging copy found');
    if (kind === 'mysql') {
      await withServer('mysql', (admin) =>
        admin.transaction(async (trx) => {
          const tables = ((await trx.raw('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?', [name]))[0] as Array<{ t: string }>).map((r) => r.t);
          await trx.raw('SET FOREIGN_KEY_CHECKS = 0');
          await fn(name, tables.map((t) => `\`${name}\`.\`${t}\``), async (sql) => void (await trx.raw(sql)));
        }),
      );
      return;
    }
    const tables = ((await db.knex.raw('SELECT tablename AS t FROM pg_tables WHERE schemaname = ?', [name])).rows as Array<{ t: string }>).map((r) => `"${name}"."${r.t}"`);
    await fn(name, tables, async (sql) => void (await db.knex.raw(sql)));
  }

  /** A restore paused just before its swap; `meddle` changes the staging copy; then it resumes. */
  async function restoreWithMeddling(meddle: () => Promise<void>) {
    const resume = path.join(db.dir, `resume-${Date.now()}`);
    const p = start(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', dir()], {
      url: db.url,
      cwd: db.dir,
      env: { BILLETTIGUE_TEST_PAUSE_AT: 'restore:swap', BILLETTIGUE_TEST_RESUME_FILE: resume },
    });
    try {
      await p.waitFor(/billettigue-paused restore:swap/);
      await meddle();
    } catch (err) {
      p.child.kill('SIGKILL');
      throw err;
    }
    writeFileSync(resume, '');
    const exit = await p.exited;
    return { code: exit.code, stdout: p.stdout(), stderr: p.stderr() };
  }

  /** An undo set as a swap killed before it moved anything leaves it: a record, no table. */
  async function incompleteUndo(): Promise<string> {
    const later = new Date(Date.now() + 3_600_000);
    if (kind === 'sqlite') {
      // A copy cut short: an empty file where the kept database should be.
      const f = `${db.target.kind === 'sqlite' ? db.target.filename : ''}.${UNDO_PREFIX}${stamp(later)}`;
      writeFileSync(f, '');
      return path.basename(f);
    }
    const name = helperDatabase(UNDO_PREFIX, (db.target as { database: string }).database, later);
    const record = async (k: Knex, q: string) => {
      await k.raw(`CREATE TABLE ${q}.${UNDO_CONTENTS} (name VARCHAR(64) PRIMARY KEY)`);
      await k.raw(`INSERT INTO ${q}.${UNDO_CONTENTS} (name) VALUES ('comptes'), ('trajets'), ('knex_migrations')`);
    };
    if (kind === 'mysql') {
      await withServer('mysql', async (admin) => {
        await admin.raw(`CREATE DATABASE \`${name}\``);
        await record(admin, `\`${name}\``);
      });
    } else {
      await db.knex.raw(`CREATE SCHEMA "${name}"`);
      await record(db.knex, `"${name}"`);
    }
    return name;
  }

  async function undoSets(): Promise<string[]> {
    return kind === 'sqlite' ? sqliteFiles(`.${UNDO_PREFIX}`) : (await helperDatabases(db)).filter((n) => n.startsWith(UNDO_PREFIX));
  }

  beforeAll(async () => {
    db = await createTestDb(kind);
    // SQLite: the test's own connection would keep the replaced file open; use fresh ones.
    if (kind === 'sqlite') await db.knex.destroy();
    await withKnex((k) => fillAll(k, 3));
    const r = await runJson<{ file: string }>(['backup', '--dir', dir()], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    backupFile = r.data.file;
    backedUp = await liveState(db);
  });
  afterAll(async () => {
    await dropHelpers(db);
    if (kind === 'sqlite') db.knex = await reconnect(db);
    await db?.drop();
  });
  beforeEach(async () => {
    if (JSON.stringify(await liveState(db)) !== JSON.stringify(backedUp)) {
      const r = await restore([backupFile, '--yes', '--no-safety-backup']);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  // These start from the backed-up data (beforeEach): any swap of the meddled copy would differ.
  it('the staging copy emptied by hand before the swap: exit 6 naming what is missing, nothing swapped', async () => {
    const before = await liveState(db);
    const r = await restoreWithMeddling(() =>
      onStaging(async (_, tables, exec) => {
        for (const t of tables) await exec(`DROP TABLE ${t}${kind === 'postgres' ? ' CASCADE' : ''}`);
      }),
    );
    expectFailure(r, 6, /staging .* changed after it was verified \(missing: .*comptes.*\): nothing was swapped/);
    expect(await liveState(db)).toEqual(before);
    // The failed restore removed its staging copy and kept no undo copy.
    expect((await helperDatabases(db)).filter((n) => n.startsWith('bt_restore_'))).toEqual([]);
    if (kind === 'sqlite') expect(sqliteFiles('.bt_restore_')).toEqual([]);
  });

  it('rows deleted from one staging table before the swap: exit 6 naming the table, nothing swapped', async () => {
    const before = await liveState(db);
    const r = await restoreWithMeddling(() => onStaging((_, tables, exec) => exec(`DELETE FROM ${tables.find((t) => /reservations\W*$/.test(t))}`)));
    expectFailure(r, 6, /rows changed: .*reservations 0 rows, \d+ verified/);
    expect(await liveState(db)).toEqual(before);
  });

  it('kill -9 at every phase: exactly the old data or exactly the backup, and --clean-leftovers then leaves nothing', async () => {
    // [phase, what the live database must be afterwards]
    const phases: Array<[string, 'old' | 'new']> = [
      ['restore:load', 'old'],
      ['restore:swap', 'old'],
      ...(kind === 'postgres' ? [['restore:commit', 'old'] as [string, 'old']] : []),
      ['restore:swapped', 'new'],
    ];
    for (const [phase, expected] of phases) {
      await breakData();
      const old = await liveState(db);
      const p = start(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', dir()], { url: db.url, cwd: db.dir, env: { BILLETTIGUE_TEST_PAUSE_AT: phase } });
      await p.waitFor(new RegExp(`billettigue-paused ${phase}`));
      p.child.kill('SIGKILL');
      await p.exited;
      expect(await liveState(db), phase).toEqual(expected === 'old' ? old : backedUp);
      const clean = await restore(['--clean-leftovers', '--yes']);
      expect(clean.code, clean.stderr).toBe(0);
      expect((await helperDatabases(db)).filter((n) => n.startsWith('bt_restore_')), phase).toEqual([]);
      expect(readdirSync(db.dir).filter((f) => f.includes('.bt_restore')), phase).toEqual([]);
      if (expected === 'old') expect(await liveState(db), phase).toEqual(old);
    }
    const doctor = await run(['doctor'], { url: db.url, cwd: db.dir });
    expect(doctor.stdout).toMatch(/leftovers\s+none/);
    expect(doctor.stdout).toMatch(/^healthy/m);
  });

  it('a damaged gzip stream behind a re-sealed manifest: exit 6 like `backup verify`, nothing changed', async () => {
    // Break the CRC-32 of the last gzip member of the biggest table, then recompute the file's
    // size and SHA-256 into the manifest and seal it again: the manifest checks all pass.
    const m = readManifest(backupFile)!;
    const t = [...m.tables].sort((a, b) => b.data_length - a.data_length)[0]!;
    const bytes = readFileSync(backupFile);
    const at = t.data_offset + t.data_length - 8;
    bytes[at] = bytes[at]! ^ 0xff;
    const damaged = path.join(db.dir, 'damaged.sql.gz');
    writeFileSync(damaged, bytes);
    const { manifest_sha256: _, verification: __, ...rest } = m;
    const file = { ...rest.file, name: 'damaged.sql.gz', sha256: createHash('sha256').update(bytes).digest('hex') };
    writeFileSync(`${damaged}.json`, serializeManifest(sealManifest({ ...rest, file })));

    const verify = await run(['backup', 'verify', damaged], { url: db.url, cwd: db.dir });
    expectFailure(verify, 6);
    const before = await liveState(db);
    const r = await restore([damaged, '--yes', '--no-safety-backup']);
    expectFailure(r, 6, /damaged|gzip|corrupt/i);
    expect(await liveState(db)).toEqual(before);
    expect((await helperDatabases(db)).filter((n) => n.startsWith('bt_restore_'))).toEqual([]);
    if (kind === 'sqlite') expect(sqliteFiles('.bt_restore_')).toEqual([]);
  });

  it('an incomplete undo set is a leftover: --undo skips it for a complete one, refuses it alone (exit 6), doctor names it, --clean-leftovers removes it', async () => {
    await breakData();
    const broken = await liveState(db);
    const r = await restore([backupFile, '--yes', '--no-safety-backup']);
    expect(r.code, r.stderr).toBe(0);
    const bad = await incompleteUndo();

    // The newest set is the incomplete one; the complete one (what the restore replaced) goes back.
    const undo = await restore(['--undo', '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await liveState(db)).toEqual(broken);

    // Now only the incomplete set is left (the complete one the undo kept is dropped by hand):
    // --undo refuses it and the live tables stay.
    for (const u of (await undoSets()).filter((x) => x !== bad)) {
      if (kind === 'sqlite') rmSync(path.join(db.dir, u));
      else if (kind === 'mysql') await withServer('mysql', (a) => a.raw(`DROP DATABASE \`${u}\``));
      else await db.knex.raw(`DROP SCHEMA "${u}" CASCADE`);
    }
    expect(await undoSets()).toEqual([bad]);
    const refused = await restore(['--undo', '--yes']);
    expectFailure(refused, 6, new RegExp(`${bad}.* is incomplete .*nothing was changed.*--clean-leftovers`));
    expect(await liveState(db)).toEqual(broken);

    const doctor = await run(['doctor'], { url: db.url, cwd: db.dir });
    expect(doctor.stdout).toContain(bad);
    expect(doctor.stdout).toMatch(/unhealthy/);
    const clean = await restore(['--clean-leftovers', '--yes']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout + clean.stderr).toContain(bad);
    expect(await undoSets()).toEqual([]);
    const after = await run(['doctor'], { url: db.url, cwd: db.dir });
    expect(after.stdout).toMatch(/leftovers\s+none/);
  });
});

describe.each(testedKinds().filter((k) => k === 'sqlite'))('restore of a %s file in use', (kind) => {
  let db: TestDb;
  let backupFile: string;
  const file = () => (db.target.kind === 'sqlite' ? db.target.filename : '');
  const restore = (args: string[]) => run(['restore', ...args, '--dir', path.join(db.dir, 'backups')], { url: db.url, cwd: db.dir });

  beforeAll(async () => {
    db = await createTestDb(kind);
    await db.knex.destroy();
    await withLive(db, (k) => fillAll(k, 3));
    const r = await runJson<{ file: string }>(['backup', '--dir', path.join(db.dir, 'backups')], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    backupFile = r.data.file;
  });
  afterAll(async () => {
    db.knex = await reconnect(db);
    await db?.drop();
  });

  it.each([
    ['an idle connection', false],
    ['a connection inside a read transaction', true],
  ])('%s in another process: exit 4 "open in another process", nothing swapped, staging removed', async (_, reading) => {
    await breakLiveData(db);
    const before = await liveState(db);
    // A separate process, as an application would be (WAL mode, as billettigue and the app open it).
    const code =
      `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))}); const d = new D(${JSON.stringify(file())}); d.pragma('journal_mode = WAL');` +
      (reading ? "d.exec('BEGIN'); d.prepare('SELECT COUNT(*) FROM comptes').get();" : '') +
      "process.stdout.write('holding\\n'); setInterval(() => {}, 1000);";
    const holder = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const r = await restore([backupFile, '--yes', '--no-safety-backup']);
      expectFailure(r, 4, /is open in another process .*stop the application, then restore; nothing was swapped/);
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    expect(await liveState(db)).toEqual(before);
    expect(readdirSync(db.dir).filter((f) => f.includes('.bt_restore_'))).toEqual([]);
  });

  it('keeps the file mode: a 0600 database is 0600 after a restore and after an undo', async () => {
    chmodSync(file(), 0o600);
    const r = await restore([backupFile, '--yes', '--no-safety-backup']);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    const u = await restore(['--undo', '--yes']);
    expect(u.code, u.stderr).toBe(0);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
  });
});
