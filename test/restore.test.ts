import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { dbState, dropHelpers, dumpedString, fillAll, helperDatabases, notRestoreAudit, reconnect, start, stockDump, type DbState } from './backup-fixtures.js';
import { readManifest, sealManifest, serializeManifest } from '../src/backup/manifest.js';
import { rollback, migrateLatest } from '../src/db/migrator.js';
import { breakData as breakLiveData, withLive } from './faults/support/outcome.js';

const dirOf = (db: TestDb) => path.join(db.dir, 'backups');
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe.each(testedKinds())('restore on %s', (kind) => {
  let db: TestDb;
  let backupFile: string;
  let backedUp: DbState;

  /**
   * The live state, read on a fresh connection (a SQLite restore replaces the file). The audit
   * rows restores add (and the audit_log counter they move) are left out: everything else must
   * be identical.
   */
  async function state(): Promise<DbState> {
    const read = async (k: Knex) => {
      const s = await dbState(k, notRestoreAudit);
      delete s.autoIncrement.audit_log;
      return s;
    };
    if (kind === 'mysql') return read(db.knex);
    const k = await reconnect(db);
    try {
      return await read(k);
    } finally {
      await k.destroy();
    }
  }
  const withKnex = <T>(fn: (k: Knex) => Promise<T>) => withLive(db, fn);
  /** Changes the data so a restore has something to undo. */
  const breakData = () => breakLiveData(db);
  const restore = (args: string[], env?: Record<string, string>) => run(['restore', ...args, '--dir', dirOf(db)], { url: db.url, env });

  beforeAll(async () => {
    db = await createTestDb(kind);
    // SQLite: the test's own connection would keep the replaced file open; use fresh ones.
    if (kind === 'sqlite') await db.knex.destroy();
    await withKnex((k) => fillAll(k));
    const r = await runJson<{ file: string }>(['backup', '--dir', dirOf(db)], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    backupFile = r.data.file;
    backedUp = await state();
  });
  afterAll(async () => {
    await dropHelpers(db);
    if (kind === 'sqlite') db.knex = await reconnect(db);
    await db?.drop();
  });
  beforeEach(async () => {
    // Every test starts from the backed-up data.
    if (JSON.stringify(await state()) !== JSON.stringify(backedUp)) {
      const r = await restore([backupFile, '--yes', '--no-safety-backup']);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('done when: back up, verify, break the data, restore: identical to the backup; undo puts the broken data back', async () => {
    const verify = await run(['backup', 'verify', 'latest', '--dir', dirOf(db), '--deep'], { url: db.url });
    expect(verify.code, verify.stderr).toBe(0);
    await breakData();
    const broken = await state();
    expect(broken).not.toEqual(backedUp);

    const r = await restore(['latest', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`target: ${db.target.display}`);
    expect(r.stderr).toMatch(/safety backup: .*safety_backup_\d{4}-/);
    expect(r.stderr).toMatch(/every table verified against the manifest/);
    expect(r.stdout).toMatch(/^reservations\t24\t/m);
    expect(await state()).toEqual(backedUp);
    // The restore itself is audited (the only row that differs from the backup).
    const audit = await withKnex((k) => k('audit_log').where('action', 'restore.run').select('actor'));
    expect(audit).toEqual([{ actor: 'test-runner' }]);
    // The safety backup holds the broken state.
    const safety = ls(dirOf(db)).find((f) => f.startsWith('safety_backup_') && f.endsWith('.gz'))!;
    expect(readManifest(path.join(dirOf(db), safety))!.tables.find((t) => t.name === 'paiements')!.rows).toBe(10);

    const undo = await run(['restore', '--undo', '--yes'], { url: db.url });
    expect(undo.code, undo.stderr).toBe(0);
    expect(await state()).toEqual(broken);
    const redo = await run(['restore', '--undo', '--yes'], { url: db.url });
    expect(redo.code, redo.stderr).toBe(0);
    expect(await state()).toEqual(backedUp);
  });

  it('without a terminal and without --yes: exit 2, nothing touched, no safety backup', async () => {
    await breakData();
    const before = await state();
    const filesBefore = ls(dirOf(db));
    const r = await restore([backupFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(await state()).toEqual(before);
    expect(ls(dirOf(db))).toEqual(filesBefore);
  });

  it('a damaged or truncated file, a missing or edited manifest: exit 6 before touching anything', async () => {
    await breakData();
    const before = await state();
    const dir = dirOf(db);
    const bad = path.join(dir, 'bad.sql.gz');
    const original = readFileSync(backupFile);
    const manifest = readFileSync(`${backupFile}.json`, 'utf8');
    const cases: Array<[string, () => void]> = [
      ['flipped byte', () => {
        const b = Buffer.from(original);
        b[b.length - 30]! ^= 0xff;
        writeFileSync(bad, b);
        writeFileSync(`${bad}.json`, manifest);
      }],
      ['truncated', () => {
        writeFileSync(bad, original.subarray(0, original.length - 50));
        writeFileSync(`${bad}.json`, manifest);
      }],
      ['edited manifest', () => {
        writeFileSync(bad, original);
        writeFileSync(`${bad}.json`, manifest.replace('"rows": 24', '"rows": 25'));
      }],
      ['missing manifest', () => {
        writeFileSync(bad, original);
        writeFileSync(`${bad}.json`, '');
        execFileSync('rm', [`${bad}.json`]);
      }],
    ];
    for (const [what, make] of cases) {
      make();
      const filesBefore = ls(dir);
      const r = await restore([bad, '--yes']);
      expect(r.code, `${what}: ${r.stderr}`).toBe(6);
      expect(await state()).toEqual(before);
      expect(ls(dir), what).toEqual(filesBefore); // no safety backup either
    }
    expect(await helperDatabases(db)).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
  });

  it('refuses a backup newer than this build (exit 4) and migrates an older one up', async () => {
    const m = readManifest(backupFile)!;
    const { manifest_sha256: _s, ...rest } = m;
    const newer = path.join(dirOf(db), 'newer.sql.gz');
    writeFileSync(newer, readFileSync(backupFile));
    writeFileSync(`${newer}.json`, serializeManifest(sealManifest({ ...rest, migrations: [...m.migrations, '29991231000000_from_the_future'] })));
    const r = await restore([newer, '--yes']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/29991231000000_from_the_future.*upgrade billettigue/);

    // An older database: its last migration rolled back (audit_log gone), backed up, then current again.
    await withKnex((k) => rollback(k, { step: 1 }));
    const old = await runJson<{ file: string }>(['backup', '--dir', dirOf(db), '--name', 'older'], { url: db.url });
    expect(old.code, old.stderr).toBe(0);
    await withKnex((k) => migrateLatest(k));
    const res = await restore([old.data.file, '--yes', '--no-safety-backup']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/older than this build \(1 migration behind/);
    const after = await state();
    expect(Object.keys(after.tables)).toContain('audit_log');
    expect(after.tables.knex_migrations).toHaveLength(backedUp.tables.knex_migrations!.length);
    expect(after.tables.reservations).toEqual(backedUp.tables.reservations);
  });

  it('restores a stock dump (mariadb-dump / pg_dump --no-owner / sqlite3 .dump) with a warning', async () => {
    const dump = path.join(db.dir, `stock-${kind}.sql`);
    writeFileSync(dump, stockDump(db));
    await breakData();
    const r = await restore([dump, '--yes', '--no-safety-backup']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*no manifest.*cannot be verified/);
    expect(r.stdout).toMatch(/no manifest/);
    // sqlite3's .dump cuts text at a NUL byte (its limitation, not the restore's).
    const cut = (v: unknown): unknown =>
      typeof v === 'string' ? v.split('\0')[0] : Array.isArray(v) ? v.map(cut) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cut(x)])) : v;
    expect(await state()).toEqual(kind === 'sqlite' ? cut(backedUp) : backedUp);
  });

  it('a file that violates a unique key midway: exit 4, live untouched, staging cleaned', async () => {
    const dump = path.join(db.dir, 'dup.sql');
    const sql = stockDump(db).toString('utf8');
    // Compte 2 gets compte 1's email (quoted the way each dump quotes it; pg_dump also dumps the
    // undo copy a previous restore kept, which the restore skips).
    writeFileSync(dump, sql.split('user2.test@example.fr').join(dumpedString(kind, "user1.o'brien@example.fr")));
    expect(readFileSync(dump, 'utf8')).not.toContain('user2.test@example.fr');
    await breakData();
    const before = await state();
    const r = await restore([dump, '--yes', '--no-safety-backup']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/unique/);
    expect(await state()).toEqual(before);
    expect(await helperDatabases(db)).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
    expect(ls(db.dir).filter((f) => f.includes('.bt_restore_'))).toEqual([]);
  });

  it('--dry-run loads and checks a staging copy and changes nothing', async () => {
    await breakData();
    const before = await state();
    const r = await restore([backupFile, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dry run: the backup loads and matches its manifest/);
    expect(await state()).toEqual(before);
    expect(await helperDatabases(db)).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
  });

  it('a second restore at the same time fails fast with exit 4', async () => {
    const first = start(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', dirOf(db)], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'restore:load' } });
    try {
      await first.waitFor(/billettigue-paused restore:load/);
      const t0 = Date.now();
      const second = await restore([backupFile, '--yes', '--no-safety-backup']);
      expect(second.code, second.stderr).toBe(4);
      expect(second.stderr).toMatch(/another restore .* is running/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    // The killed one left its staging copy: detected, then cleaned.
    const clean = await run(['restore', '--clean-leftovers', '--yes', '--dir', dirOf(db)], { url: db.url });
    expect(clean.code, clean.stderr).toBe(0);
  });

  it('kill -9 during the load: the database is entirely the old one; doctor reports the leftovers, --clean-leftovers removes them', async () => {
    await breakData();
    const before = await state();
    const p = start(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', dirOf(db)], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'restore:load' } });
    await p.waitFor(/billettigue-paused restore:load/);
    p.child.kill('SIGKILL');
    await p.exited;
    expect(await state()).toEqual(before);
    const doctor = await run(['doctor'], { url: db.url, cwd: db.dir });
    expect(doctor.stdout).toMatch(/leftovers\s+.*bt_restore_.*restore --clean-leftovers --yes/);
    const clean = await runJson<{ cleaned: string[] }>(['restore', '--clean-leftovers', '--yes', '--dir', dirOf(db)], { url: db.url });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.data.cleaned.join(' ')).toMatch(/bt_restore_/);
    const again = await run(['doctor'], { url: db.url, cwd: db.dir });
    expect(again.stdout).toMatch(/leftovers\s+none/);
    expect(await state()).toEqual(before);
  });

  it('kill -9 right after the swap: the database is entirely the backup', async () => {
    await breakData();
    const p = start(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', dirOf(db)], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'restore:swapped' } });
    await p.waitFor(/billettigue-paused restore:swapped/);
    p.child.kill('SIGKILL');
    await p.exited;
    expect(await state()).toEqual(backedUp);
    // The next restore finds what the killed one left and, with --yes, cleans it first.
    await breakData();
    const next = await restore([backupFile, '--yes', '--no-safety-backup']);
    expect(next.code, next.stderr).toBe(0);
    if (kind !== 'sqlite') {
      // The (now empty) staging database or schema; SQLite leaves only its stale lock, taken over silently.
      expect(next.stderr).toMatch(/an interrupted restore left: .*bt_restore_/);
      expect(next.stderr).toMatch(/cleaned: /);
    }
    expect(ls(db.dir).filter((f) => f.includes('.bt_restore'))).toEqual([]);
    expect(await state()).toEqual(backedUp);
  });

  it('Ctrl-C during the load: exit 130, database intact, staging removed', async () => {
    await breakData();
    const before = await state();
    const p = start(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', dirOf(db)], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'restore:load' } });
    await p.waitFor(/billettigue-paused restore:load/);
    p.child.kill('SIGINT');
    const exit = await p.exited;
    expect(exit.code, p.stderr()).toBe(130);
    expect(p.stderr()).toMatch(/error: interrupted/);
    expect(await state()).toEqual(before);
    expect(await helperDatabases(db)).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
    expect(ls(db.dir).filter((f) => f.includes('.bt_restore'))).toEqual([]);
  });

  it('a partial backup (--tables) replaces only its tables', async () => {
    const part = await runJson<{ file: string }>(['backup', '--dir', dirOf(db), '--name', 'audit-only', '--tables', 'audit_log'], { url: db.url });
    expect(part.code, part.stderr).toBe(0);
    await breakData();
    const broken = await state();
    const r = await restore([part.data.file, '--yes', '--no-safety-backup']);
    expect(r.code, r.stderr).toBe(0);
    const after = await state();
    expect(after.tables.audit_log).toEqual(backedUp.tables.audit_log);
    expect(after.tables.paiements).toEqual(broken.tables.paiements);
    expect(after.tables.comptes).toEqual(broken.tables.comptes);
    // A partial backup of tables tied by foreign keys to others is refused.
    const tied = await runJson<{ file: string }>(['backup', '--dir', dirOf(db), '--name', 'paiements-only', '--tables', 'paiements'], { url: db.url });
    const refused = await restore([tied.data.file, '--yes', '--no-safety-backup']);
    expect(refused.code, refused.stderr).toBe(kind === 'sqlite' ? 0 : 4);
  });
});
