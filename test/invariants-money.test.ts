/**
 * The money formulas that `maintenance check` evaluates in SQL (set-based) must be exactly the ones
 * of src/domain/money.ts: for random and boundary values (half-cent ties, large fares, several
 * rates), the SQL written by the invariant kit equals the TypeScript function, on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { moneySqlKit } from '../src/domain/invariants.js';
import { colisShippingCents, refundSupplementCents } from '../src/domain/money.js';
import { rawRows } from '../src/db/dialect.js';
import { centsToDecimal } from '../src/db/values.js';

/** Small deterministic PRNG (mulberry32), so a failure is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Probe {
  id: number;
  price: number;
  seats: number;
  weight: number;
}

function probes(): Probe[] {
  const rnd = prng(20261125);
  const out: Probe[] = [];
  // Ties: 12.35 × 10% = 1.235 → 1.24; 0.05 × 10% = 0.005 → 0.01; 0.33 kg × 1.50 = 0.495 → 0.50.
  const fixed: Array<[number, number, number]> = [
    [1235, 1, 33],
    [5, 1, 1],
    [0, 3, 100],
    [99_999_999, 50, 999_999],
    [1, 50, 5],
    [2000, 2, 250],
  ];
  for (const [price, seats, weight] of fixed) out.push({ id: out.length + 1, price, seats, weight });
  while (out.length < 400) {
    const big = rnd() < 0.1;
    out.push({
      id: out.length + 1,
      price: Math.floor(rnd() * (big ? 10_000_000 : 20_000)),
      seats: 1 + Math.floor(rnd() * 50),
      weight: 1 + Math.floor(rnd() * (big ? 999_999 : 5_000)),
    });
  }
  return out;
}

describe.each(testedKinds())('SQL money formulas = money.ts on %s', (kind) => {
  let db: TestDb;
  const rows = probes();
  beforeAll(async () => {
    db = await createTestDb(kind, { roles: false });
    await db.knex.schema.createTable('bt_money_probe', (t) => {
      t.integer('id').primary();
      t.decimal('price', 10, 2).notNullable();
      t.integer('seats').notNullable();
      t.decimal('weight', 8, 2).notNullable();
    });
    await db.knex('bt_money_probe').insert(rows.map((r) => ({ id: r.id, price: centsToDecimal(r.price), seats: r.seats, weight: centsToDecimal(r.weight) })));
  });
  afterAll(async () => db?.drop());

  it.each([1000, 750, 1234, 333, 10_000])('refund supplement at %s basis points', async (rateBp) => {
    const k = moneySqlKit(db.knex);
    const got = await rawRows<{ id: number; v: number | string }>(
      db.knex,
      `select id, ${k.halfUp(`${k.cents('price')} * seats * ${rateBp}`, 10_000)} as v from bt_money_probe order by id`,
    );
    const expected = rows.map((r) => refundSupplementCents(r.price, r.seats, true, rateBp));
    expect(got.map((g) => Number(g.v))).toEqual(expected);
  });

  it.each([
    [500, 150],
    [0, 99],
    [123, 1],
    [1000, 1234],
  ])('colis shipping cost with base %s and %s per kg', async (base, perKg) => {
    const k = moneySqlKit(db.knex);
    const got = await rawRows<{ id: number; v: number | string }>(
      db.knex,
      `select id, ${base} + ${k.halfUp(`${k.cents('weight')} * ${perKg}`, 100)} as v from bt_money_probe order by id`,
    );
    expect(got.map((g) => Number(g.v))).toEqual(rows.map((r) => colisShippingCents(r.weight, base, perKg)));
  });
});
