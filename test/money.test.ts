/**
 * Money of the bookings: the formulas of src/domain/money.ts against an independent BigInt
 * computation, and a property test on both databases: random prices, seat counts and refund rates
 * go through the domain, and every stored DECIMAL, every JSON string and every SQL sum equals
 * integer-cent arithmetic exactly (no float drift; DECIMAL strings round-trip).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { hoursFromNow, insertCarrier, rng } from './helpers/bookings.js';
import { formatCents, parseMoney, refundSupplementCents, reservationTotalCents } from '../src/domain/money.js';
import { InvalidInput } from '../src/domain/errors.js';
import { createReservation, moveReservation } from '../src/domain/reservations.js';
import { createTrajet } from '../src/domain/trajets.js';
import { paiementSummary } from '../src/domain/paiements.js';
import { sumCentsSql } from '../src/db/dialect.js';
import { toCents } from '../src/db/values.js';

/** Half-up rounding of p × s × rate / 10000 with BigInt: an independent oracle. */
function supplementOracle(priceCents: number, seats: number, rateBp: number): number {
  const n = BigInt(priceCents) * BigInt(seats) * BigInt(rateBp);
  const q = n / 10000n;
  const rem = n % 10000n;
  return Number(rem * 2n >= 10000n ? q + 1n : q);
}

/** Cents as a decimal string built digit by digit (no division): another oracle. */
function centsString(cents: number): string {
  const s = String(cents).padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

describe('money formulas', () => {
  it.each([
    ['12', 1200],
    ['12.5', 1250],
    ['12.50', 1250],
    ['12,05', 1205],
    [' 0 ', 0],
    ['0.01', 1],
    ['99999999.99', 9_999_999_999],
  ])('parseMoney(%s) = %i cents', (raw, cents) => {
    expect(parseMoney(raw, '--price')).toBe(cents);
  });

  it.each([
    ['-5', 'is negative'],
    ['-0.01', 'is negative'],
    ['1.234', 'more than 2 decimals'],
    ['12.505', 'more than 2 decimals'],
    ['abc', 'is not an amount'],
    ['', 'is not an amount'],
    ['1e3', 'is not an amount'],
    ['123456789', 'is not an amount'],
  ])('parseMoney(%s) is refused: %s', (raw, why) => {
    expect(() => parseMoney(raw, '--price')).toThrow(InvalidInput);
    expect(() => parseMoney(raw, '--price')).toThrow(why);
  });

  it('rounds the supplement half up, to the cent', () => {
    expect(refundSupplementCents(1005, 1, true, 1000)).toBe(101); // 1.005 → 1.01
    expect(refundSupplementCents(1004, 1, true, 1000)).toBe(100); // 1.004 → 1.00
    expect(refundSupplementCents(2550, 3, true, 1000)).toBe(765);
    expect(refundSupplementCents(2550, 3, false, 1000)).toBe(0);
    expect(refundSupplementCents(1, 1, true, 5000)).toBe(1); // 0.5 cent → 1
    expect(refundSupplementCents(1, 1, true, 4999)).toBe(0);
    expect(reservationTotalCents(10, 3, 3)).toBe(33); // 0.10 × 3 + 0.03, where floats give 0.33000000000000007
  });

  it('agrees with a BigInt oracle on 20,000 random cases', () => {
    const rand = rng(7);
    for (let i = 0; i < 20_000; i++) {
      const price = Math.floor(rand() * 10_000_000);
      const seats = 1 + Math.floor(rand() * 50);
      const rate = Math.floor(rand() * 10_001);
      const s = refundSupplementCents(price, seats, true, rate);
      expect(s).toBe(supplementOracle(price, seats, rate));
      expect(formatCents(reservationTotalCents(price, seats, s))).toBe(centsString(price * seats + s));
    }
  });
});

describe.each(testedKinds())('money through the database on %s', (kind) => {
  let db: TestDb;
  let carrier: number;
  beforeAll(async () => {
    db = await createTestDb(kind);
    carrier = (await insertCarrier(db.knex)).compteId;
  });
  afterAll(async () => db?.drop());

  interface Case {
    price: number;
    seats: number;
    rate: number;
    refundable: boolean;
    confirm: boolean;
  }
  const bookOne = async (trx: Knex.Transaction, c: Case) => {
    const t = await createTrajet(trx, { transporteur: carrier, from: 'Lille', to: 'Nantes', departure: hoursFromNow(48), priceCents: c.price, seats: c.seats });
    const res = await createReservation(
      trx,
      { trajetId: t.id, firstName: 'Ana', lastName: 'Lima', phone: '+33612345678', seats: c.seats, refundable: c.refundable },
      { refundRateBp: c.rate },
    );
    return c.confirm ? (await moveReservation(trx, res.id, 'confirm')).after : res;
  };

  it('stores, reads back and sums random bookings exactly (300 cases)', async () => {
    const rand = rng(kind === 'mysql' ? 11 : 13);
    const edges = [1, 5, 10, 33, 99, 1005, 9_999_999, 0];
    const cases: Case[] = Array.from({ length: 300 }, (_, i) => ({
      price: i < edges.length ? edges[i]! : Math.floor(rand() * (rand() < 0.5 ? 10_000 : 10_000_000)),
      seats: 1 + Math.floor(rand() * 50),
      rate: rand() < 0.2 ? 1000 : Math.floor(rand() * 10_001),
      refundable: rand() < 0.7,
      confirm: rand() < 0.5,
    }));
    let sum = 0;
    let sumCompleted = 0;
    const ids: number[] = [];
    // Ten cases per transaction: the same domain calls, fewer commits (fast on MariaDB).
    for (let i = 0; i < cases.length; i += 10) {
      const batch = cases.slice(i, i + 10);
      const made = await db.knex.transaction(async (trx) => {
        const out = [];
        for (const c of batch) out.push(await bookOne(trx, c));
        return out;
      });
      batch.forEach((c, k) => {
        const r = made[k]!;
        const supplement = c.refundable ? supplementOracle(c.price, c.seats, c.rate) : 0;
        const total = c.price * c.seats + supplement;
        expect(r.refund_supplement_amount).toBe(centsString(supplement));
        expect(r.total_amount).toBe(centsString(total));
        expect(r.paiement!.amount).toBe(centsString(total));
        sum += total;
        if (c.confirm) sumCompleted += total;
        ids.push(r.id);
      });
    }
    // Raw values as the driver returns them: exact strings on MySQL, numbers that round back on SQLite.
    const rows = (await db.knex('reservations as r')
      .join('trajets as t', 't.id', 'r.trajet_id')
      .join('paiements as p', 'p.reservation_id', 'r.id')
      .whereIn('r.id', ids)
      .orderBy('r.id')
      .select('t.price', 'r.seats_reserved', 'r.refund_supplement_amount', 'r.total_amount', 'p.amount')) as Array<Record<string, string | number>>;
    rows.forEach((row, i) => {
      const c = cases[i]!;
      const total = c.price * c.seats + (c.refundable ? supplementOracle(c.price, c.seats, c.rate) : 0);
      if (kind === 'mysql') {
        expect(row.price).toBe(centsString(c.price));
        expect(row.total_amount).toBe(centsString(total));
        expect(row.amount).toBe(centsString(total));
      }
      expect(toCents(row.price)).toBe(c.price);
      expect(toCents(row.total_amount)).toBe(total);
      expect(toCents(row.amount)).toBe(total);
    });
    // SQL sums in cents, exactly.
    const sums = (await db.knex('reservations').whereIn('id', ids).select(db.knex.raw('? as cents', [sumCentsSql(db.knex, 'total_amount')]))) as Array<{
      cents: unknown;
    }>;
    expect(Number(sums[0]!.cents)).toBe(sum);
    const summary = await paiementSummary(db.knex);
    expect(summary.total.amount).toBe(centsString(sum));
    expect(summary.total.revenue).toBe(centsString(sumCompleted));
    expect(summary.by_status.find((s) => s.status === 'completed')?.amount ?? '0.00').toBe(centsString(sumCompleted));
    expect(summary.by_month.reduce((a, m) => a + toCents(m.completed) + toCents(m.pending), 0)).toBe(sum);
  });
});
