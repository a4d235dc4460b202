/**
 * Migration 800 (shared writes with the platform app): the app's INSERTs with only the seed's
 * columns succeed (revoked token without a hash, colis of weight 0), its lookup by token uses an
 * index, and down gives back exactly the schema it started from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { migrateLatest, rollback } from '../src/db/migrator.js';
import { insertId, rawRows } from '../src/db/dialect.js';
import { tokenHash } from '../src/domain/tokens.js';
import { makeAccount } from './accounts-fixtures.js';
import { toDbTime } from '../src/db/values.js';
import { postgresSchemaText } from './platform/snapshot.js';

const TABLES = ['colis', 'colis_archive', 'revoked_tokens'];

/** The schema text of the tables this migration touches (AUTO_INCREMENT counters aside). */
async function schemaText(knex: Knex, kind: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES) {
    if (kind === 'mysql') {
      const [row] = await rawRows<Record<string, string>>(knex, 'SHOW CREATE TABLE ??', [t]);
      out[t] = row!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '');
    } else if (kind === 'postgres') {
      out[t] = await postgresSchemaText(knex, t, true);
    } else {
      const rows = await rawRows<{ sql: string }>(knex, "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC, name", [t]);
      out[t] = rows.map((r) => r.sql).join(';\n');
    }
  }
  return out;
}

describe.each(testedKinds())('migration 800 (shared writes) on %s', (kind) => {
  let db: TestDb;
  let compte: number;
  let envoi: number;
  const now = toDbTime(new Date());
  beforeAll(async () => {
    db = await createTestDb(kind);
    const user = await makeAccount(db.knex, { email: 'u@x.fr' });
    const carrier = await makeAccount(db.knex, { email: 't@x.fr', role: 'transporteur' });
    compte = user;
    const u = (await db.knex('utilisateurs').where('compte_id', user).first('id')) as { id: number };
    const t = (await db.knex('transporteurs').where('compte_id', carrier).first('id')) as { id: number };
    envoi = await insertId(db.knex('envois').insert({
      description: 'e', expediteur_id: u.id, recipient_name: 'R', recipient_phone: '+33600000001', transporteur_id: t.id, compte_id: user, created_at: now, updated_at: now,
    }));
  });
  afterAll(async () => db?.drop());

  it('up accepts the app’s writes; down returns the exact schema and data it started from', async () => {
    await rollback(db.knex, { step: 1 });
    // Rows written before the migration, as billettigue wrote them then (with the hash).
    await db.knex('revoked_tokens').insert({ token: 'h.p.s1', token_hash: tokenHash('h.p.s1'), user_id: compte, revoked_at: now, expires_at: now });
    await db.knex('colis').insert({ description: 'c', weight: '1.50', shipping_cost: '7.25', envoi_id: envoi, created_at: now, updated_at: now });
    const before = await schemaText(db.knex, kind);
    const rowsBefore = await snapshot(db.knex, ['colis', 'revoked_tokens']);

    expect(await migrateLatest(db.knex)).toEqual(['20261125000800_shared_writes']);
    // The app's logout and its colis of weight 0: only the seed's columns.
    await db.knex('revoked_tokens').insert({ token: 'h.p.s2', user_id: compte, revoked_at: now, expires_at: now, reason: 'logout' });
    await db.knex('colis').insert({ description: 'vide', weight: '0.00', shipping_cost: '5.00', envoi_id: envoi, created_at: now, updated_at: now });
    await expect(db.knex('colis').insert({ description: 'x', weight: '-1.00', shipping_cost: '5.00', envoi_id: envoi, created_at: now, updated_at: now })).rejects.toThrow();
    await expect(db.knex('revoked_tokens').insert({ token: 'h.p.s2', user_id: compte, revoked_at: now, expires_at: now })).rejects.toThrow();
    if (kind === 'mysql') {
      const rows = await rawRows<{ token: string; token_hash: string }>(db.knex, 'SELECT token, token_hash FROM revoked_tokens ORDER BY id');
      for (const r of rows) expect(r.token_hash).toBe(tokenHash(r.token));
      // The app's findOne({ where: { token } }) uses the prefix index.
      const plan = await rawRows<{ key: string | null }>(db.knex, 'EXPLAIN SELECT * FROM revoked_tokens WHERE token = ?', ['h.p.s2']);
      expect(plan[0]!.key).toBe('revoked_tokens_token_index');
    } else if (kind === 'postgres') {
      const rows = await rawRows<{ token: string; token_hash: string }>(db.knex, 'SELECT token, token_hash FROM revoked_tokens ORDER BY id');
      for (const r of rows) expect(r.token_hash).toBe(tokenHash(r.token));
      // The app's findOne({ where: { token } }) can use the hash index (sequential scans off: the table is tiny).
      const plan = await db.knex.transaction(async (trx) => {
        await trx.raw('SET LOCAL enable_seqscan = off');
        return rawRows<{ 'QUERY PLAN': string }>(trx, 'EXPLAIN SELECT * FROM revoked_tokens WHERE token = ?', ['h.p.s2']);
      });
      expect(plan.map((p) => p['QUERY PLAN']).join(' ')).toMatch(/revoked_tokens_token_index/);
    } else {
      const plan = await rawRows<{ detail: string }>(db.knex, 'EXPLAIN QUERY PLAN SELECT * FROM revoked_tokens WHERE token = ?', ['h.p.s2']);
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX revoked_tokens_token_unique/);
    }

    // A colis of weight 0 keeps down from running (the old rule would not hold it): nothing changes.
    await expect(rollback(db.knex, { step: 1 })).rejects.toThrow(/colis of weight 0 \(ids \d+\)/);
    expect((await db.knex('colis').where('weight', 0)).length).toBe(1);
    await db.knex('colis').where('weight', 0).del();
    await db.knex('revoked_tokens').where('token', 'h.p.s2').del();

    await rollback(db.knex, { step: 1 });
    expect(await schemaText(db.knex, kind)).toEqual(before);
    expect(await snapshot(db.knex, ['colis', 'revoked_tokens'])).toEqual(rowsBefore);
    await migrateLatest(db.knex);
  });
});
