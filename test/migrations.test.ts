import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { listTables } from '../src/db/dialect.js';
import { knownMigrations, migrateLatest, migrationStatus, rollback } from '../src/db/migrator.js';
import { PRODUCT_TABLES } from '../src/db/schema.js';

describe.each(testedKinds())('migrations on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind, { migrate: false });
  });
  afterAll(async () => db?.drop());

  it('go up, down to nothing but knex tables, and up again', async () => {
    const applied = await migrateLatest(db.knex);
    expect(applied).toEqual(knownMigrations());
    for (const t of PRODUCT_TABLES) expect(await listTables(db.knex)).toContain(t);
    expect((await migrationStatus(db.knex)).pending).toBe(0);

    const reverted = await rollback(db.knex, { all: true });
    expect(reverted.length).toBe(knownMigrations().length);
    expect((await listTables(db.knex)).sort()).toEqual(['knex_migrations', 'knex_migrations_lock']);

    await migrateLatest(db.knex);
    expect((await migrationStatus(db.knex)).pending).toBe(0);
  });

  it('rolls back step by step', async () => {
    const reverted = await rollback(db.knex, { step: 2 });
    expect(reverted).toHaveLength(2);
    expect((await migrationStatus(db.knex)).pending).toBe(2);
    await migrateLatest(db.knex);
  });
});
