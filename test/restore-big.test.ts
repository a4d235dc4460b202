/**
 * Tables of at least DEFER_INDEXES_FROM_ROWS rows are loaded without their secondary indexes and
 * foreign keys, which are added afterwards: the restored tables must be the same tables (SHOW
 * CREATE TABLE, AUTO_INCREMENT, rows), and a duplicate in a unique index must still be caught.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { dbState, dropHelpers, fillAll, helperDatabases, notRestoreAudit } from './backup-fixtures.js';
import { DEFER_INDEXES_FROM_ROWS } from '../src/backup/engines/mysql/load.js';

const kinds = testedKinds().filter((k) => k === 'mysql');

describe.each(kinds)('restore of big tables on %s', (kind) => {
  let db: TestDb;
  const n = DEFER_INDEXES_FROM_ROWS + 500;
  beforeAll(async () => {
    db = await createTestDb(kind);
    await fillAll(db.knex, 3);
    // n reservations with their paiements, in one statement each (server-side generation).
    await db.knex.raw(
      `INSERT INTO reservations (id, reservation_date, passenger_first_name, passenger_last_name, phone_number, status, seats_reserved, refundable_option, refund_supplement_amount, total_amount, trajet_id, compte_id, created_at, updated_at)
       SELECT 100 + seq, '2026-03-01 10:00:00', CONCAT('P''', seq), 'Nom\\\\', '06', 'confirmed', 1, seq % 2, 0, 12.5, 1 + seq % 6, IF(seq % 3 = 0, NULL, 1), '2026-03-01 10:00:00', '2026-03-01 10:00:00' FROM seq_1_to_${n}`,
    );
    await db.knex.raw(
      `INSERT INTO paiements (id, amount, status, payment_date, reservation_id, created_at, updated_at)
       SELECT 100 + seq, 12.5, 'completed', '2026-03-01 10:00:00', 100 + seq, '2026-03-01 10:00:00', '2026-03-01 10:00:00' FROM seq_1_to_${n}`,
    );
    await db.knex.raw('ALTER TABLE paiements AUTO_INCREMENT = 999999');
  });
  afterAll(async () => {
    await dropHelpers(db);
    await db?.drop();
  });

  it('comes back identical: indexes, foreign keys, AUTO_INCREMENT, rows', async () => {
    const dir = path.join(db.dir, 'backups');
    const b = await runJson<{ file: string }>(['backup', '--dir', dir], { url: db.url });
    expect(b.code, b.stderr).toBe(0);
    const before = await dbState(db.knex);
    await db.knex('paiements').where('id', '>', 5000).delete();
    await db.knex.raw('ALTER TABLE reservations DROP INDEX reservations_date_index');
    const r = await run(['restore', b.data.file, '--yes', '--no-safety-backup', '--dir', dir], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    const after = await dbState(db.knex, notRestoreAudit);
    delete after.autoIncrement.audit_log;
    delete before.autoIncrement.audit_log;
    expect(after.schema).toEqual(before.schema);
    expect(after.autoIncrement).toEqual(before.autoIncrement);
    expect(after).toEqual(before);
    // The foreign keys work again on the restored tables.
    await expect(db.knex('paiements').insert({ id: 9_999_999, amount: 1, status: 'pending', payment_date: '2026-03-01 10:00:00', reservation_id: 99_999_999, created_at: '2026-03-01 10:00:00', updated_at: '2026-03-01 10:00:00' })).rejects.toThrow(/foreign key/i);
  });

  it('a duplicate in a deferred unique index fails the restore (exit 4), live untouched, staging dropped', async () => {
    // A stock-style dump made by our own backup file's SQL, with one paiement pointing at
    // another's reservation (paiements.reservation_id is UNIQUE), and no manifest.
    const dir = path.join(db.dir, 'dup');
    const b = await runJson<{ file: string }>(['backup', '--dir', dir, '--name', 'src'], { url: db.url });
    expect(b.code, b.stderr).toBe(0);
    const { execFileSync } = await import('node:child_process');
    const { writeFileSync } = await import('node:fs');
    const sql = execFileSync('gunzip', ['-c', b.data.file], { maxBuffer: 1 << 28 }).toString('utf8');
    const bad = sql.replace("(102,12.50,'completed','2026-03-01 10:00:00',102,", "(102,12.50,'completed','2026-03-01 10:00:00',101,");
    expect(bad).not.toBe(sql);
    const dump = path.join(db.dir, 'dup.sql');
    writeFileSync(dump, bad.replace(/^-- billettigue backup.*\n/, '-- MariaDB dump (edited)\n'));
    const before = await dbState(db.knex);
    const r = await run(['restore', dump, '--yes', '--no-safety-backup', '--dir', dir], { url: db.url });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/unique key of table paiements/);
    expect(await dbState(db.knex)).toEqual(before);
    expect(await helperDatabases(db)).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
  });
});
