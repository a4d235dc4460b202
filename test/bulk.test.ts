/**
 * The bulk loader (src/db/bulk.ts) on both databases, below the seed: a load that breaks a rule
 * (here a duplicate email) is refused and leaves nothing behind, and on SQLite the drop-and-rebuild
 * of a table's indexes around a big load leaves the schema exactly as it was, whatever happens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { backupReadyKinds, createTestDb, type TestDb } from './helpers/db.js';
import { openBulkLoader, type BulkJob, type RowSink } from '../src/db/bulk.js';
import { Interrupted } from '../src/domain/errors.js';

const COLUMNS = ['id', 'email', 'password_hash', 'status', 'role_id', 'created_at', 'updated_at'] as const;

/** `rows` comptes from id `first`; `duplicateAt` (1-based) repeats the previous row's email. */
function comptesJob(first: number, rows: number, roleId: number, duplicateAt?: number, onRow?: (n: number) => void): BulkJob {
  return {
    table: 'comptes',
    columns: COLUMNS,
    rows,
    *produce(sink: RowSink) {
      for (let n = 1; n <= rows; n++) {
        const id = first + n - 1;
        sink.int(id);
        sink.str(`user${n === duplicateAt ? id - 1 : id}@bulk.test`);
        sink.str('$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnotar');
        sink.str('active');
        sink.int(roleId);
        sink.time(1_764_000_000 + id);
        sink.time(1_764_000_000 + id);
        sink.end();
        onRow?.(n);
        if (n % 500 === 0) yield;
      }
    },
  };
}

/** The table's indexes as SQLite records them (name → sql, root page). */
async function sqliteIndexes(knex: Knex, table: string): Promise<Array<{ name: string; sql: string; rootpage: number }>> {
  return (await knex.raw("select name, sql, rootpage from sqlite_master where type = 'index' and tbl_name = ? and sql is not null order by name", [table])) as Array<{
    name: string;
    sql: string;
    rootpage: number;
  }>;
}

async function load(knex: Knex, job: BulkJob, beforeLoad?: (abort: () => void) => void, rebuild = true): Promise<number> {
  const loader = await openBulkLoader(knex, { batchRows: 1000, sqliteRebuildIndexes: rebuild });
  try {
    beforeLoad?.(() => loader.abort());
    return await loader.load(job);
  } finally {
    await loader.close();
  }
}

describe.each(backupReadyKinds())('bulk loader on %s', (kind) => {
  let db: TestDb;
  let roleId: number;

  beforeAll(async () => {
    db = await createTestDb(kind);
    roleId = Number(((await db.knex('roles').where({ name: 'user' }).first('id')) as { id: number }).id);
  });
  afterAll(async () => db?.drop());

  const count = async () => Number(((await db.knex('comptes').count({ n: '*' }).first()) as { n: number | string }).n);

  it('a duplicate email inside a load is refused and nothing of that load stays', async () => {
    const before = kind === 'sqlite' ? await sqliteIndexes(db.knex, 'comptes') : [];
    await expect(load(db.knex, comptesJob(1, 900, roleId, 850))).rejects.toMatchObject({
      code: kind === 'sqlite' ? 'SQLITE_CONSTRAINT_UNIQUE' : 'bulk_rejected',
    });
    expect(await count()).toBe(0);
    if (kind === 'sqlite') expect((await sqliteIndexes(db.knex, 'comptes')).map((i) => i.sql)).toEqual(before.map((i) => i.sql));
  });

  it('a valid load into an empty table lands whole, with every index in place and usable', async () => {
    const before = kind === 'sqlite' ? await sqliteIndexes(db.knex, 'comptes') : [];
    expect(await load(db.knex, comptesJob(1, 3000, roleId))).toBe(3000);
    expect(await count()).toBe(3000);
    if (kind === 'sqlite') {
      const after = await sqliteIndexes(db.knex, 'comptes');
      expect(after.map((i) => [i.name, i.sql])).toEqual(before.map((i) => [i.name, i.sql]));
      expect(await db.knex.raw('pragma integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      const plan = (await db.knex.raw("explain query plan select id from comptes where email = 'user7@bulk.test'")) as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/comptes_email_unique/);
    }
    // The unique index enforces its rule after the load as before it.
    await expect(
      db.knex('comptes').insert({ email: 'user42@bulk.test', password_hash: 'x', status: 'active', role_id: roleId }),
    ).rejects.toThrow();
  });

  it('a small load into a bigger table keeps its indexes live (not rebuilt) and refuses a duplicate', async () => {
    const before = kind === 'sqlite' ? await sqliteIndexes(db.knex, 'comptes') : [];
    expect(await load(db.knex, comptesJob(3001, 200, roleId))).toBe(200);
    if (kind === 'sqlite') expect(await sqliteIndexes(db.knex, 'comptes')).toEqual(before); // same root pages: untouched
    await expect(load(db.knex, comptesJob(3201, 50, roleId, 20))).rejects.toBeTruthy();
    expect(await count()).toBe(3200);
  });

  it('an abort in the middle of a load rolls it back, indexes included', async () => {
    await db.knex('comptes').del();
    const before = kind === 'sqlite' ? await sqliteIndexes(db.knex, 'comptes') : [];
    let abort: () => void = () => undefined;
    const job = comptesJob(10_001, 5000, roleId, undefined, (n) => n === 2600 && abort());
    await expect(load(db.knex, job, (a) => (abort = a))).rejects.toBeInstanceOf(Interrupted);
    // SQLite: the table was empty, so the whole load was one transaction. MySQL commits per batch:
    // what was committed before the abort stays, the batch in flight does not.
    if (kind === 'sqlite') expect(await count()).toBe(0);
    else expect(await count()).toBeLessThan(2600);
    if (kind === 'sqlite') {
      expect((await sqliteIndexes(db.knex, 'comptes')).map((i) => i.sql)).toEqual(before.map((i) => i.sql));
      expect(await db.knex.raw('pragma integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    }
  });

  if (kind === 'sqlite') {
    it('with the rebuild turned off (the benchmark\'s comparison), indexes stay live and batches commit', async () => {
      await db.knex('comptes').del();
      const before = await sqliteIndexes(db.knex, 'comptes');
      let abort: () => void = () => undefined;
      const job = comptesJob(20_001, 5000, roleId, undefined, (n) => n === 2600 && abort());
      await expect(load(db.knex, job, (a) => (abort = a), false)).rejects.toBeInstanceOf(Interrupted);
      // Committed every 1,000 rows at chunk granularity (2,000): the first chunk stays, the chunk
      // the abort came in does not.
      expect(await count()).toBe(2000);
      expect(await sqliteIndexes(db.knex, 'comptes')).toEqual(before); // never dropped: same root pages
    });
  }
});
