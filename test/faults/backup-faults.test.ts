/**
 * Faults during `backup` (docs/reliability.md): the server connection cut mid-stream (also under
 * a restore's safety backup), a full, read-only or forbidden backup folder. Each case asserts the
 * documented exit code, one `error:` line without a stack, nothing published (no data file, no
 * manifest), no temp file left, and the database unchanged.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, testedKinds, type TestDb } from '../helpers/db.js';
import { BIN, run, runJson } from '../helpers/cli.js';
import { dropHelpers, fillAll, helperDatabases, start } from '../backup-fixtures.js';
import { expectFailure, liveState, withLive } from './support/outcome.js';
import { startProxy, type FaultProxy } from './support/proxy.js';
import { mountTmpfs, tmpfsUnavailable, type Tmpfs } from './support/tmpfs.js';

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** ~7 MB of audit rows: enough for a backup stream to pass every cut point below. */
async function fillBig(k: Knex): Promise<void> {
  const filler = (i: number) => `${i}:`.padEnd(4000, 'abcdefghijklmnopqrstuvwxyz0123456789'.charAt(i % 36));
  for (let b = 0; b < 9; b++) {
    await k('audit_log').insert(
      Array.from({ length: 200 }, (_, i) => ({ actor: 'filler', action: 'fill', before_json: filler(b * 200 + i), created_at: '2026-01-15 08:30:00' })),
    );
  }
}

describe.each(testedKinds().filter((k) => k !== 'sqlite'))('backup with its connection cut on %s', (kind) => {
  let db: TestDb;
  let proxy: FaultProxy | undefined;
  let n = 0;
  const dir = () => path.join(db.dir, `backups-${n}`);
  // PostgreSQL here trusts local connections and ignores a password: put one in the URL to prove
  // that no message prints it. (MariaDB's root has none, and a wrong one would be refused.)
  const secret = 'Sup3r-s3cret-pw';
  const secrets = () => (kind === 'postgres' ? [secret] : []);
  const viaProxy = async (dropAfterBytes: number) => {
    const u = new URL(db.url);
    proxy = await startProxy({ host: u.hostname, port: Number(u.port) }, { dropAfterBytes });
    if (kind === 'postgres') u.password = secret;
    return proxy.url(u.toString());
  };

  beforeAll(async () => {
    db = await createTestDb(kind);
    await fillAll(db.knex, 3);
    await fillBig(db.knex);
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    n++;
  });
  afterAll(async () => {
    await dropHelpers(db);
    await db?.drop();
  });

  it.each([60_000, 1_000_000, 6_000_000])('cut after %i bytes: exit 5, one line, nothing published, no temp file', async (bytes) => {
    const before = await liveState(db);
    const r = await run(['backup', '--dir', dir()], { url: await viaProxy(bytes) });
    expectFailure(r, 5, /connection/i, secrets());
    expect(proxy!.cuts).toBeGreaterThan(0);
    expect(r.stdout).toBe('');
    expect(ls(dir())).toEqual([]);
    expect(await liveState(db)).toEqual(before);
  });

  it.runIf(process.getuid?.() === 0)('a folder this user may not write in: exit 5 "not allowed to write", nothing written', async () => {
    // As root every folder is writable: run the backup as nobody, into a folder only root may enter.
    const forbidden = path.join(db.dir, 'forbidden');
    mkdirSync(forbidden, { mode: 0o700 });
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'backup', '--dir', path.join(forbidden, 'backups')], {
      cwd: '/',
      env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: '1' },
      encoding: 'utf8',
    });
    expectFailure({ code: r.status, stdout: r.stdout, stderr: r.stderr }, 5, /not allowed to write in .*forbidden.* \(EACCES\): nothing was published/);
    expect(ls(forbidden)).toEqual([]);
  });

  it("the same cut during a restore's safety backup: exit 5, nothing restored, nothing published", async () => {
    const b = await runJson<{ file: string }>(['backup', '--dir', dir()], { url: db.url });
    expect(b.code, b.stderr).toBe(0);
    await db.knex('audit_log').where('id', '<', 100).delete();
    const before = await liveState(db);
    const r = await run(['restore', b.data.file, '--yes', '--dir', dir()], { url: await viaProxy(1_000_000) });
    expectFailure(r, 5, /connection/i, secrets());
    expect(r.stderr).not.toMatch(/restored /);
    expect(await liveState(db)).toEqual(before);
    // Only the backup taken above: no safety backup, no temp file; no staging copy.
    expect(ls(dir())).toEqual([path.basename(b.data.file), `${path.basename(b.data.file)}.json`].sort());
    expect((await helperDatabases(db)).filter((x) => x.startsWith('bt_restore_'))).toEqual([]);
  });
});

const noTmpfs = tmpfsUnavailable();
if (noTmpfs) console.warn(`test/faults/backup-faults.test.ts: disk-full and read-only cases skipped: ${noTmpfs}`);

describe.skipIf(noTmpfs !== null).each(testedKinds())('backup onto a full or read-only disk on %s', (kind) => {
  let db: TestDb;
  let fs: Tmpfs | undefined;
  let normal: { size: number; manifest: number };

  beforeAll(async () => {
    db = await createTestDb(kind);
    await withLive(db, async (k) => {
      await fillAll(k, 3);
      // Random text does not compress: the file is big enough to fill a small disk.
      await k('audit_log').insert(Array.from({ length: 150 }, () => ({ actor: 'filler', action: 'fill', before_json: randomBytes(600).toString('hex'), created_at: '2026-01-15 08:30:00' })));
    });
    const r = await runJson<{ file: string; manifest: string }>(['backup', '--dir', path.join(db.dir, 'normal')], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    normal = { size: statSync(r.data.file).size, manifest: statSync(r.data.manifest).size };
  });
  afterEach(() => {
    fs?.unmount();
    fs = undefined;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('full while writing the data: exit 5 "no space left", nothing published, temp removed', async () => {
    expect(normal.size).toBeGreaterThan(64 * 1024);
    fs = mountTmpfs(64 * 1024);
    const before = await liveState(db);
    const r = await run(['backup', '--dir', fs.dir], { url: db.url });
    expectFailure(r, 5, new RegExp(`no space left on the device of ${fs.dir}: nothing was published`));
    expect(ls(fs.dir)).toEqual([]);
    expect(await liveState(db)).toEqual(before);
  });

  it('full while writing the manifest: exit 5, the data file is not published either, both temps removed', async () => {
    // The data fits (one spare page for the few bytes a new timestamp may add), its manifest
    // (three pages) does not.
    expect(normal.manifest).toBeGreaterThan(2 * 4096);
    fs = mountTmpfs(4 << 20);
    fs.leaveFree((Math.ceil(normal.size / 4096) + 1) * 4096);
    const r = await run(['backup', '--dir', fs.dir], { url: db.url });
    expectFailure(r, 5, /no space left on the device of .*: nothing was published/);
    expect(ls(fs.dir)).toEqual(['filler']);
  });

  it("full under a restore's safety backup: exit 5, nothing restored", async () => {
    fs = mountTmpfs(64 * 1024);
    await withLive(db, (k) => k('comptes').update({ status: 'deleted' }));
    const before = await liveState(db);
    const backups = readdirSync(path.join(db.dir, 'normal')).filter((f) => f.endsWith('.sql.gz'));
    const r = await run(['restore', path.join(db.dir, 'normal', backups[0]!), '--yes', '--dir', fs.dir], { url: db.url, cwd: db.dir });
    expectFailure(r, 5, /no space left on the device of/);
    expect(await liveState(db)).toEqual(before);
    expect(ls(fs.dir)).toEqual([]);
  });

  it('a read-only folder: exit 5 "read-only file system", nothing written', async () => {
    fs = mountTmpfs(1 << 20);
    fs.readOnly();
    const r = await run(['backup', '--dir', fs.dir], { url: db.url });
    expectFailure(r, 5, new RegExp(`${fs.dir} is on a read-only file system: nothing was published`));
    const sub = await run(['backup', '--dir', path.join(fs.dir, 'sub')], { url: db.url });
    expectFailure(sub, 5, /read-only file system/);
    expect(ls(fs.dir)).toEqual([]);
  });
});

describe.each(testedKinds())('backup killed on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
    await fillAll(db.knex, 3);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each(['backup:snapshot', 'backup:data'])('kill -9 at %s: nothing published, `backup clean` removes the temp file, doctor healthy', async (phase) => {
    const dir = path.join(db.dir, phase.replace(':', '-'));
    const before = await liveState(db);
    const p = start(['backup', '--dir', dir], { url: db.url, cwd: db.dir, env: { BILLETTIGUE_TEST_PAUSE_AT: phase } });
    await p.waitFor(new RegExp(`billettigue-paused ${phase}`));
    p.child.kill('SIGKILL');
    await p.exited;
    // Only a hidden temp file: nothing that lists as a backup.
    expect(ls(dir).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(ls(dir).length).toBe(1);
    const clean = await run(['backup', 'clean', '--dir', dir], { url: db.url });
    expect(clean.code, clean.stderr).toBe(0);
    expect(ls(dir)).toEqual([]);
    expect(await liveState(db)).toEqual(before);
    const doctor = await run(['doctor'], { url: db.url, cwd: db.dir });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toMatch(/leftovers\s+none/);
  });
});
