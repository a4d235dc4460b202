/**
 * Schema canary (after Ghost): the tables and columns the migrations build are pinned here. A change
 * to the schema must come as a new migration AND an update of test/fixtures/schema.json, so that
 * nobody changes the schema by accident (editing an applied migration, a helper used by migrations).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedSchema } from '../src/db/schema-drift.js';
import { expectedModel } from '../src/db/adopt/expected.js';
import { SEED_TABLES } from '../src/db/schema.js';

/**
 * Indexes, foreign keys and CHECKs of every table, as the migrations leave them (read from the
 * scratch SQLite database they build): test/fixtures/schema-constraints.json pins them. After a
 * deliberate change, regenerate it:
 *   BT_WRITE_CANARY=1 npx vitest run test/schema-canary.test.ts
 */
async function constraintsShape(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, t] of [...(await expectedModel()).entries()].sort(([a], [b]) => a.localeCompare(b))) {
    out[name] = {
      indexes: t.indexes.map((i) => `${i.unique ? 'unique ' : ''}${i.name} (${i.columns.join(', ')})`).sort(),
      foreign_keys: t.foreignKeys.map((f) => `(${f.columns.join(', ')}) → ${f.refTable}(${f.refColumns.join(', ')}) on delete ${f.onDelete}`).sort(),
      checks: t.checks.map((c) => `${c.name}: ${c.predicate}`),
      not_null: t.columns.filter((c) => !c.nullable).map((c) => c.name),
    };
  }
  return out;
}

describe('schema canary', () => {
  it('the migrations build exactly the pinned tables and columns', async () => {
    const pinned = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures/schema.json'), 'utf8')) as Record<string, string[]>;
    const actual = Object.fromEntries([...(await expectedSchema()).entries()].sort());
    expect(actual).toEqual(pinned);
  });

  it('the migrations build exactly the pinned indexes, foreign keys, CHECKs and NOT NULLs', async () => {
    const file = path.join(import.meta.dirname, 'fixtures/schema-constraints.json');
    const actual = await constraintsShape();
    if (process.env.BT_WRITE_CANARY === '1') writeFileSync(file, JSON.stringify(actual, null, 1) + '\n');
    expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });

  it("keeps every column of the seed's 12 tables", async () => {
    const s = await expectedSchema();
    for (const t of SEED_TABLES) expect(s.has(t), t).toBe(true);
    expect(s.get('comptes')).toEqual([
      'id', 'email', 'password_hash', 'status', 'email_verified', 'phone_verified', 'last_login', 'login_attempts',
      'failed_logins', 'last_failed_login', 'account_locked', 'password_changed_at', 'role_id', 'created_at', 'updated_at',
    ]);
    expect(s.get('trajets')).toEqual([
      'id', 'departure_city', 'arrival_city', 'departure_time', 'price', 'seats_count', 'available_seats', 'status',
      'accepts_packages', 'max_package_weight', 'departure_point', 'arrival_point', 'transporteur_id', 'created_at', 'updated_at',
    ]);
    // The seed's columns exactly: MySQL adds token_hash as a generated column (not part of this shape).
    expect(s.get('revoked_tokens')).toEqual(['id', 'token', 'user_id', 'revoked_at', 'expires_at', 'reason']);
  });
});
