import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupReadyKinds, createTestDb, mysqlServerUrl, type TestDb, testedKinds } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { dbState, dropHelpers, fillAll, start, TRICKY } from './backup-fixtures.js';
import { canonicalTime, canonicalTuple, mysqlQuote, sqliteValueClass, type ColumnInfo } from '../src/backup/canonical.js';
import { manifestDigest, readManifest, sealManifest, type Manifest } from '../src/backup/manifest.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { rawRows } from '../src/db/dialect.js';
import { PRODUCT_TABLES } from '../src/db/schema.js';

const mode = (p: string) => statSync(p).mode & 0o777;
const backups = (db: TestDb) => path.join(db.dir, 'backups');
const files = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

async function backupOf(db: TestDb, extra: string[] = []): Promise<{ file: string; manifest: Manifest }> {
  const r = await runJson<{ file: string }>(['backup', '--dir', backups(db), ...extra], { url: db.url });
  expect(r.code, r.stderr).toBe(0);
  return { file: r.data.file, manifest: readManifest(r.data.file)! };
}

describe('canonical serialisation', () => {
  it('quotes like mysqldump (no raw line ends: the stock client would drop a CR)', () => {
    expect(mysqlQuote("a\\b'c\0d\x1ae\nf\tg\r")).toBe("'a\\\\b\\'c\\0d\\Ze\\nf\tg\\r'");
    expect(mysqlQuote('plain')).toBe("'plain'");
  });

  it('normalises SQLite values to the MySQL text', () => {
    const cols: ColumnInfo[] = [
      { name: 'id', type: 'integer', nullable: false, ...sqliteValueClass('integer') },
      { name: 'price', type: 'float', nullable: false, ...sqliteValueClass('float') },
      { name: 'w', type: 'decimal(8,3)', nullable: true, ...sqliteValueClass('decimal(8,3)') },
      { name: 'flag', type: 'boolean', nullable: false, ...sqliteValueClass('boolean') },
      { name: 'at', type: 'datetime', nullable: true, ...sqliteValueClass('datetime') },
      { name: 'txt', type: 'varchar(255)', nullable: true, ...sqliteValueClass('varchar(255)') },
    ];
    expect(canonicalTuple([1, 12.5, null, 1, 1768465800000, "O'Brien"], cols)).toBe("(1,12.50,NULL,1,'2026-01-15 08:30:00','O\\'Brien')");
    expect(canonicalTuple([2, 3, 1.5, 0, '2026-01-15T08:30:00.000Z', null], cols)).toBe("(2,3.00,1.500,0,'2026-01-15 08:30:00',NULL)");
    expect(canonicalTime('2026-01-15 08:30:00')).toBe('2026-01-15 08:30:00');
  });

  it('the server reads every quoted tricky string back exactly', async () => {
    if (!testedKinds().includes('mysql')) return;
    const k = await connect(parseDatabaseUrl(mysqlServerUrl(), '--db'), { noDatabase: true });
    try {
      for (const s of TRICKY) {
        const [r] = await rawRows<{ v: string }>(k, `SELECT CAST(${mysqlQuote(s)} AS CHAR CHARACTER SET utf8mb4) AS v`);
        expect(r!.v).toBe(s);
      }
    } finally {
      await k.destroy();
    }
  });
});

describe('the same data hashes the same on MariaDB and SQLite', () => {
  it('has equal per-table SHA-256 in both manifests', async () => {
    if (testedKinds().length < 2) return;
    const [a, b] = await Promise.all([createTestDb('mysql'), createTestDb('sqlite')]);
    try {
      await fillAll(a.knex);
      await fillAll(b.knex);
      const [ma, mb] = [(await backupOf(a)).manifest, (await backupOf(b)).manifest];
      for (const t of PRODUCT_TABLES) {
        const x = ma.tables.find((e) => e.name === t)!;
        const y = mb.tables.find((e) => e.name === t)!;
        expect([t, x.rows, x.sha256]).toEqual([t, y.rows, y.sha256]);
      }
    } finally {
      await a.drop();
      await b.drop();
    }
  });
});

describe.each(backupReadyKinds())('backup on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
    await fillAll(db.knex);
  });
  afterAll(async () => {
    await dropHelpers(db);
    await db?.drop();
  });

  it('writes a 0600 gzip file and manifest in a 0700 folder, with every field', async () => {
    const before = await dbState(db.knex);
    const r = await run(['backup', '--dir', backups(db)], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    const file = r.stdout.trim();
    expect(path.basename(file)).toMatch(/^billettigue_backup_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.sql\.gz$/);
    // every product table plus knex_migrations and knex_migrations_lock
    expect(r.stderr).toContain(`backup written: ${PRODUCT_TABLES.length + 2} tables`);
    expect(mode(backups(db))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}.json`)).toBe(0o600);
    expect(files(backups(db)).filter((f) => f.startsWith('.'))).toEqual([]); // no temp file left
    const m = readManifest(file)!;
    expect(m).toMatchObject({ format: 'billettigue-backup', format_version: 1, kind, scope: 'full', tool: { name: 'billettigue' } });
    expect(m.migrations.length).toBeGreaterThanOrEqual(5);
    expect(m.server_version).toBeTruthy();
    expect(m.database.display).toBe(db.target.display);
    expect(m.file.size).toBe(statSync(file).size);
    expect(m.manifest_sha256).toBe(manifestDigest(m));
    const names = m.tables.map((t) => t.name);
    for (const t of [...PRODUCT_TABLES, 'knex_migrations']) expect(names).toContain(t);
    expect(m.tables.find((t) => t.name === 'reservations')!.rows).toBe(before.tables.reservations!.length);
    expect(m.tables.find((t) => t.name === 'reservations')!.auto_increment).toBe(kind === 'mysql' ? 1000 : 999);
    for (const t of m.tables) expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.started_at <= m.finished_at).toBe(true);
    // The file ends with the trailer and is complete gzip.
    const sql = execFileSync('gunzip', ['-c', file]).toString('utf8');
    expect(sql).toContain('-- billettigue-trailer');
    expect(sql.trimEnd().endsWith('-- end of billettigue backup')).toBe(true);
    expect(await dbState(db.knex)).toEqual(before);
  });

  it('the stock client loads the file into an empty database, identical', async () => {
    const { file } = await backupOf(db);
    const other = await createTestDb(kind, { migrate: false });
    try {
      const sql = execFileSync('gunzip', ['-c', file]);
      if (kind === 'mysql') {
        const u = new URL(other.url);
        execFileSync('mariadb', ['-h', u.hostname, '-P', u.port || '3306', '-u', u.username || 'root', u.pathname.slice(1)], { input: sql });
      } else {
        await other.knex.destroy();
        execFileSync('sqlite3', [(other.target as { filename: string }).filename], { input: sql });
      }
      const k = kind === 'mysql' ? other.knex : await connect(other.target);
      try {
        expect(await dbState(k)).toEqual(await dbState(db.knex));
      } finally {
        if (kind === 'sqlite') await k.destroy();
      }
    } finally {
      if (kind === 'sqlite') other.knex = await connect(other.target);
      await other.drop();
    }
  });

  it('--tables, --name, --json; a name is never overwritten; unknown tables are refused', async () => {
    const r = await runJson<{ file: string; tables: Array<{ name: string; rows: number }> }>(['backup', '--dir', backups(db), '--name', 'only-audit', '--tables', 'audit_log,roles'], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    expect(path.basename(r.data.file)).toBe('only-audit.sql.gz');
    expect(r.data.tables.map((t) => t.name)).toEqual(['audit_log', 'roles']);
    expect(readManifest(r.data.file)!.scope).toBe('tables');
    const again = await run(['backup', '--dir', backups(db), '--name', 'only-audit'], { url: db.url });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already exists/);
    const bad = await run(['backup', '--dir', backups(db), '--tables', 'nope'], { url: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown table nope/);
  });

  it('verify passes (and --deep), list shows it; damaged, truncated, edited, missing manifest: exit 6', async () => {
    const { file, manifest } = await backupOf(db);
    const ok = await run(['backup', 'verify', file], { url: db.url });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok\s+gzip/);
    const deep = await runJson<{ ok: boolean; deep: boolean; tables: Array<{ verified: boolean }> }>(['backup', 'verify', path.basename(file), '--dir', backups(db), '--deep'], { url: db.url });
    expect(deep.code, deep.stderr).toBe(0);
    expect(deep.data.ok && deep.data.deep).toBe(true);
    expect(deep.data.tables.every((t) => t.verified)).toBe(true);
    const list = await runJson<Array<{ name: string; verified: boolean | null; verified_deep: boolean | null; rows: number }>>(['backup', 'list', '--dir', backups(db)], { url: db.url });
    const entry = list.data.find((e) => e.name === path.basename(file))!;
    expect(entry).toMatchObject({ verified: true, verified_deep: true, rows: manifest.tables.reduce((n, t) => n + t.rows, 0) });

    const original = readFileSync(file);
    const originalManifest = readFileSync(`${file}.json`, 'utf8');
    const expect6 = async (what: string) => {
      const r = await run(['backup', 'verify', file], { url: db.url });
      expect(r.code, `${what}: ${r.stderr}`).toBe(6);
      expect(r.stderr).toMatch(/^error: /m);
      return r.stderr;
    };
    // A flipped byte in the middle.
    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    writeFileSync(file, flipped);
    expect(await expect6('flipped')).toMatch(/SHA-256/);
    // Truncated.
    writeFileSync(file, original);
    truncateSync(file, original.length - 100);
    expect(await expect6('truncated')).toMatch(/truncated/);
    // Edited manifest (a row count).
    writeFileSync(file, original);
    const edited = JSON.parse(originalManifest) as Manifest;
    edited.tables[0]!.rows += 1;
    writeFileSync(`${file}.json`, JSON.stringify(edited, null, 2));
    expect(await expect6('edited')).toMatch(/edited/);
    // Edited and re-sealed: the rows inside the file still disagree.
    writeFileSync(`${file}.json`, JSON.stringify(sealManifest(edited), null, 2));
    expect(await expect6('resealed')).toMatch(/do not match its manifest/);
    // Missing manifest.
    writeFileSync(`${file}.json`, originalManifest);
    const { unlinkSync } = await import('node:fs');
    unlinkSync(`${file}.json`);
    expect(await expect6('missing')).toMatch(/missing/);
    writeFileSync(`${file}.json`, originalManifest);
    expect((await run(['backup', 'verify', file], { url: db.url })).code).toBe(0);
  });

  it('prune keeps the N newest, never the newest, with --dry-run', async () => {
    const dir = path.join(db.dir, 'prune');
    for (let i = 0; i < 3; i++) expect((await run(['backup', '--dir', dir, '--tables', 'roles'], { url: db.url })).code).toBe(0);
    const all = files(dir).filter((f) => f.endsWith('.gz'));
    expect(all).toHaveLength(3);
    const dry = await runJson<{ deleted: Array<{ name: string }> }>(['backup', 'prune', '--keep', '1', '--dir', dir, '--dry-run'], { url: db.url });
    expect(dry.data.deleted.map((d) => d.name).sort()).toEqual(all.slice(0, 2));
    expect(files(dir).filter((f) => f.endsWith('.gz'))).toHaveLength(3);
    expect((await run(['backup', 'prune', '--keep', '1', '--dir', dir], { url: db.url })).code).toBe(2); // needs --yes without a TTY
    expect((await run(['backup', 'prune', '--keep', '0', '--dir', dir, '--yes'], { url: db.url })).code).toBe(2);
    const r = await run(['backup', 'prune', '--keep', '1', '--dir', dir, '--yes'], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    expect(files(dir)).toEqual([all[2]!, `${all[2]!}.json`]);
  });

  it('is one snapshot while others write: every reservation has its paiement, later rows are absent', async () => {
    const resume = path.join(db.dir, 'resume-snapshot');
    const dir = path.join(db.dir, 'concurrent');
    const p = start(['backup', '--dir', dir, '--json'], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'backup:snapshot', BILLETTIGUE_TEST_RESUME_FILE: resume } });
    await p.waitFor(/billettigue-paused backup:snapshot/);
    const before = Number(((await db.knex('reservations').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
    // Writers keep going while the backup reads: reservation + paiement in one transaction each.
    let id = 10_000;
    let stop = false;
    const writer = (async () => {
      // Bounded, and yielding to timers each round (SQLite's driver is synchronous).
      while (!stop && id < 12_000) {
        await new Promise((r) => setImmediate(r));
        const i = id++;
        await db.knex.transaction(async (trx) => {
          await trx('reservations').insert({ id: i, reservation_date: '2026-02-01 10:00:00', passenger_first_name: 'A', passenger_last_name: 'B', phone_number: '1', status: 'pending', seats_reserved: 1, refundable_option: false, refund_supplement_amount: '0.00', total_amount: '10.00', trajet_id: 1, compte_id: null, created_at: '2026-02-01 10:00:00', updated_at: '2026-02-01 10:00:00' });
          await trx('paiements').insert({ id: i, amount: '10.00', status: 'pending', payment_date: '2026-02-01 10:00:00', reservation_id: i, created_at: '2026-02-01 10:00:00', updated_at: '2026-02-01 10:00:00' });
        });
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    writeFileSync(resume, '');
    const exit = await p.exited.finally(() => (stop = true));
    stop = true;
    await writer;
    expect(exit.code, p.stderr()).toBe(0);
    expect(id).toBeGreaterThan(10_000);
    const { file } = JSON.parse(p.stdout()) as { file: string };
    const m = readManifest(file)!;
    expect(m.tables.find((t) => t.name === 'reservations')!.rows).toBe(before);
    // Load it elsewhere and check the pairs.
    const other = await createTestDb(kind, { migrate: false });
    try {
      const r = await run(['restore', file, '--yes', '--no-safety-backup', '--dir', dir], { url: other.url });
      expect(r.code, r.stderr).toBe(0);
      const k = kind === 'sqlite' ? await connect(other.target) : other.knex;
      const orphans = await k('reservations').leftJoin('paiements', 'paiements.reservation_id', 'reservations.id').whereNull('paiements.id').count({ n: '*' });
      expect(Number((orphans[0] as { n: number }).n)).toBe(0);
      const n = Number(((await k('reservations').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
      expect(n).toBe(before);
      if (kind === 'sqlite') await k.destroy();
    } finally {
      await dropHelpers(other);
      await other.drop();
    }
    await db.knex('paiements').where('id', '>=', 10_000).delete();
    await db.knex('reservations').where('id', '>=', 10_000).delete();
  });

  it('Ctrl-C during a backup: exit 130, no file, no temp file', async () => {
    const dir = path.join(db.dir, 'interrupted');
    const p = start(['backup', '--dir', dir], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'backup:data' } });
    await p.waitFor(/billettigue-paused backup:data/);
    expect(files(dir).some((f) => f.includes('.tmp-'))).toBe(true);
    p.child.kill('SIGINT');
    const exit = await p.exited;
    expect(exit.code, p.stderr()).toBe(130);
    expect(files(dir)).toEqual([]);
  });

  // MySQL only: SQLite's snapshot simply does not see a later ALTER, and it has no passwords.
  if (kind === 'mysql') it('fails cleanly and publishes nothing when a table is altered during the backup', async () => {
    const resume = path.join(db.dir, 'resume-ddl');
    const dir = path.join(db.dir, 'ddl');
    const p = start(['backup', '--dir', dir], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'backup:data', BILLETTIGUE_TEST_RESUME_FILE: resume } });
    await p.waitFor(/billettigue-paused backup:data/);
    await db.knex.raw('ALTER TABLE zones_desservies ADD COLUMN note VARCHAR(10) NULL');
    writeFileSync(resume, '');
    const exit = await p.exited;
    await db.knex.raw('ALTER TABLE zones_desservies DROP COLUMN note');
    expect(exit.code, p.stderr()).toBe(4);
    expect(p.stderr()).toMatch(/altered during the backup: nothing was published/);
    expect(files(dir)).toEqual([]);
  });

  if (kind === 'mysql') it('never writes the password: not in the file, the manifest or the output', async () => {
    const secret = 'S3cr3t-Pa55-xyz';
    const user = `bt_pw_${Date.now().toString(36)}`;
    await db.knex.raw(`CREATE USER ?@'%' IDENTIFIED BY '${secret}'`, [user]);
    await db.knex.raw(`CREATE USER ?@'localhost' IDENTIFIED BY '${secret}'`, [user]);
    try {
      await db.knex.raw(`GRANT ALL ON *.* TO ?@'%'`, [user]);
      await db.knex.raw(`GRANT ALL ON *.* TO ?@'localhost'`, [user]);
      const u = new URL(db.url);
      const url = `mysql://${user}:${secret}@${u.host}${u.pathname}`;
      const dir = path.join(db.dir, 'secret');
      const r = await run(['backup', '--dir', dir], { url });
      expect(r.code, r.stderr).toBe(0);
      const file = r.stdout.trim();
      const v = await run(['backup', 'verify', file, '--deep'], { url });
      expect(v.code, v.stderr).toBe(0);
      const res = await run(['restore', file, '--yes', '--dir', dir], { url });
      expect(res.code, res.stderr).toBe(0);
      for (const out of [r.stdout, r.stderr, v.stdout, v.stderr, res.stdout, res.stderr]) expect(out).not.toContain(secret);
      for (const f of files(dir)) {
        const p = path.join(dir, f);
        const text = f.endsWith('.gz') ? execFileSync('gunzip', ['-c', p]).toString('utf8') : readFileSync(p, 'utf8');
        expect(text, f).not.toContain(secret);
        expect(mode(p)).toBe(0o600);
      }
      expect(readManifest(file)!.database.display).toBe(`mysql://${user}:***@${u.host}${u.pathname}`);
    } finally {
      await db.knex.raw(`DROP USER IF EXISTS ?@'%'`, [user]);
      await db.knex.raw(`DROP USER IF EXISTS ?@'localhost'`, [user]);
    }
  });
});
