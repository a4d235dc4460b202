/**
 * Backups belong to a database (issue 16): `backup list`, `restore latest` and `backup prune` act
 * on the target's own backups (--all for every database); safety backups are listed as such and
 * pruned by their own rule, never counted in --keep; restoring another database's backup names
 * both and needs a confirmation (exit 2 without a terminal and without --yes); `backup clean`
 * removes what an interrupted backup left, and doctor only warns about it.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupReadyKinds, createTestDb, tableCounts, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { takeBackup } from '../src/backup/dump.js';
import { SAFETY_PREFIX } from '../src/backup/files.js';

describe.each(backupReadyKinds())('backups per database on %s', (kind) => {
  let a: TestDb;
  let b: TestDb;
  let dir: string;
  const regularA: string[] = [];
  const safetyA: string[] = [];
  let regularB: string;

  beforeAll(async () => {
    a = await createTestDb(kind);
    b = await createTestDb(kind);
    dir = path.join(a.dir, 'shared-backups');
    await a.knex('roles').insert({ name: 'only_in_a', description: 'a marker' });
    // Oldest first: A regular ×3 and safety ×4 interleaved, then B's regular backup (the newest).
    for (let i = 0; i < 3; i++) {
      regularA.push((await takeBackup(a.target, { dir })).file);
      safetyA.push((await takeBackup(a.target, { dir, prefix: SAFETY_PREFIX })).file);
    }
    safetyA.push((await takeBackup(a.target, { dir, prefix: SAFETY_PREFIX })).file);
    regularB = (await takeBackup(b.target, { dir })).file;
  }, 120_000);
  afterAll(async () => {
    await a?.drop();
    await b?.drop();
  });

  it('backup list shows the target\'s backups, regular or safety, and --all every database with its source', async () => {
    const own = await runJson<Array<{ name: string; safety: boolean; source: string }>>(['backup', 'list', '--dir', dir], { url: a.url });
    expect(own.data.map((e) => e.name).sort()).toEqual([...regularA, ...safetyA].map((f) => path.basename(f)).sort());
    expect(own.data.filter((e) => e.safety)).toHaveLength(4);
    const all = await runJson<Array<{ name: string; source: string }>>(['backup', 'list', '--all', '--dir', dir], { url: a.url });
    expect(all.data).toHaveLength(8);
    expect(all.data.find((e) => e.name === path.basename(regularB))!.source).toBe(b.target.display);
    const table = await run(['backup', 'list', '--dir', dir], { url: a.url });
    expect(table.stdout.split('\n')[0]).toBe('name\ttype\tdatabase\tdate\tsize\trows\tmigrations\tverified');
    expect(table.stdout).toMatch(/^safety_backup_\S+\tsafety\t/m);
    expect(table.stderr).toMatch(/1 backup of other databases not shown: add --all/);
  });

  it('restore latest picks the target\'s own newest backup, not the newest of the folder', async () => {
    const dry = await runJson<{ file: string }>(['restore', 'latest', '--dir', dir, '--dry-run'], { url: a.url });
    expect(dry.code).toBe(0);
    expect(dry.data.file).toBe(regularA[2]);
  });

  it('restoring another database\'s backup names both and is refused without a terminal and --yes', async () => {
    const before = await tableCounts(b.knex, ['roles']);
    const r = await run(['restore', regularA[0]!, '--dir', dir], { url: b.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`warning: this backup was taken from ${a.target.display}, not from ${b.target.display}`);
    expect(r.stderr).toMatch(/ANOTHER database.*confirmation needed.*--yes/);
    expect(await tableCounts(b.knex, ['roles'])).toEqual(before);
  });

  it('prune --keep counts regular backups only; safety backups follow --keep-safety; other databases untouched', async () => {
    const dry = await runJson<{ deleted: Array<{ name: string; type: string }> }>(['backup', 'prune', '--keep', '2', '--dir', dir, '--dry-run'], { url: a.url });
    expect(dry.data.deleted.map((d) => d.name).sort()).toEqual([path.basename(regularA[0]!), path.basename(safetyA[0]!)].sort());
    const refused = await run(['backup', 'prune', '--keep', '2', '--dir', dir], { url: a.url });
    expect(refused.code).toBe(2);
    const r = await run(['backup', 'prune', '--keep', '1', '--keep-safety', '1', '--dir', dir, '--yes'], { url: a.url });
    expect(r.code, r.stderr).toBe(0);
    const left = readdirSync(dir).filter((f) => f.endsWith('.sql.gz')).sort();
    expect(left).toEqual([regularA[2]!, safetyA[3]!, regularB].map((f) => path.basename(f)).sort());
  });

  it('a temp file of an interrupted backup: doctor warns (still healthy) and names backup clean, which removes it', async () => {
    const stray = path.join(dir, '.billettigue_backup_x.sql.gz.tmp-999999-abcdef');
    writeFileSync(stray, 'partial');
    // doctor looks in ./backups of the working folder: run it from the shared folder's parent.
    const cwd = path.dirname(dir);
    const backupsDir = path.join(cwd, 'backups');
    const copy = path.join(backupsDir, path.basename(stray));
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(backupsDir, { recursive: true });
    copyFileSync(stray, copy);
    const doc = await runJson<{ healthy: boolean; checks: Array<{ name: string; ok: boolean; detail: string; warning?: boolean }> }>(['doctor'], { url: b.url, cwd });
    expect(doc.code).toBe(0);
    expect(doc.data.healthy).toBe(true);
    expect(doc.data.checks.find((c) => c.name === 'temp files')).toMatchObject({ ok: false, warning: true, detail: expect.stringContaining('billettigue backup clean') });
    const clean = await run(['backup', 'clean'], { url: b.url, cwd });
    expect(clean.code, clean.stderr).toBe(0);
    expect(existsSync(copy)).toBe(false);
    const cleanDir = await run(['backup', 'clean', '--dir', dir, '--dry-run'], { url: b.url });
    expect(cleanDir.stdout).toContain(stray);
    expect(existsSync(stray)).toBe(true);
    await run(['backup', 'clean', '--dir', dir], { url: b.url });
    expect(existsSync(stray)).toBe(false);
  });
});
