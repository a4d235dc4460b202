/**
 * Timestamps are UTC whatever the machine's time zone: the binary runs under TZ=Pacific/Auckland
 * and what lands in the database is the UTC instant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { run } from './helpers/cli.js';
import { fromDbTime } from '../src/db/values.js';

describe.each(testedKinds())('time zone on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
  });
  afterAll(async () => db?.drop());

  it('stores UTC under TZ=Pacific/Auckland', async () => {
    const before = Date.now();
    const r = await run(['db', 'seed', '--admin-email', 'tz@example.fr', '--generate-password'], { url: db.url, env: { TZ: 'Pacific/Auckland' } });
    expect(r.code, r.stderr).toBe(0);
    const row = (await db.knex('comptes').where({ email: 'tz@example.fr' }).first('created_at', 'password_changed_at')) as { created_at: string; password_changed_at: string };
    const stored = fromDbTime(row.created_at).getTime();
    expect(Math.abs(stored - before)).toBeLessThan(60_000);
    const audit = (await db.knex('audit_log').orderBy('id', 'desc').first('created_at')) as { created_at: string };
    expect(Math.abs(fromDbTime(audit.created_at).getTime() - before)).toBeLessThan(60_000);
  });
});
