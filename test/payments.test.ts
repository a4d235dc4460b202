/**
 * Paiements: list filters and pages, show, and the revenue summary (by status, by local calendar
 * month, exact sums) on both databases, in the domain and through the binary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { BOOKING_TABLES, hoursFromNow, insertCarrier } from './helpers/bookings.js';
import { run, runJson } from './helpers/cli.js';
import { createTrajet } from '../src/domain/trajets.js';
import { createReservation, moveReservation } from '../src/domain/reservations.js';
import { getPaiement, listPaiements, paiementSummary } from '../src/domain/paiements.js';
import { InvalidInput, NotFound } from '../src/domain/errors.js';

describe.each(testedKinds())('payments on %s', (kind) => {
  let db: TestDb;
  const p: Record<'pending' | 'completed' | 'failed' | 'refunded' | 'kept', { id: number; reservation: number }> = {} as never;
  const savedTz = process.env.TZ;

  beforeAll(async () => {
    db = await createTestDb(kind);
    const carrier = await insertCarrier(db.knex);
    await db.knex.transaction(async (trx) => {
      const t = await createTrajet(trx, { transporteur: carrier.compteId, from: 'Paris', to: 'Lyon', departure: hoursFromNow(24), priceCents: 1001, seats: 20 });
      const book = async (seats: number, refundable: boolean) => {
        const r = await createReservation(trx, { trajetId: t.id, firstName: 'Ana', lastName: `P${seats}`, phone: '0612345678', seats, refundable }, { refundRateBp: 1000 });
        return { id: r.paiement!.id, reservation: r.id };
      };
      p.pending = await book(1, false); // 10.01
      p.completed = await book(2, true); // 20.02 + 2.00 = 22.02
      await moveReservation(trx, p.completed.reservation, 'confirm');
      p.failed = await book(3, false); // 30.03
      await moveReservation(trx, p.failed.reservation, 'cancel');
      p.refunded = await book(1, true); // 10.01 + 1.00 = 11.01
      await moveReservation(trx, p.refunded.reservation, 'confirm');
      await moveReservation(trx, p.refunded.reservation, 'refund');
      p.kept = await book(4, false); // 40.04, paid then cancelled: money kept
      await moveReservation(trx, p.kept.reservation, 'confirm');
      await moveReservation(trx, p.kept.reservation, 'cancel');
    });
    // Payment dates on month edges (UTC): Paris sees the first on 1 November, the fourth in 2027.
    const dates: Record<string, string> = {
      pending: '2026-09-10 00:00:00',
      completed: '2026-10-31 23:30:00',
      failed: '2026-11-15 10:00:00',
      refunded: '2026-12-31 23:30:00',
      kept: '2026-11-30 12:00:00',
    };
    for (const [k, d] of Object.entries(dates)) await db.knex('paiements').where({ id: p[k as keyof typeof p].id }).update({ payment_date: d });
  });
  afterEach(() => {
    process.env.TZ = savedTz;
  });
  afterAll(async () => db?.drop());

  it('lists with status, since and keyset pages', async () => {
    const all = await listPaiements(db.knex, { limit: 50 });
    expect(all.map((x) => x.id)).toEqual([p.pending.id, p.completed.id, p.failed.id, p.refunded.id, p.kept.id]);
    expect(all[1]).toMatchObject({ amount: '22.02', status: 'completed', reservation_status: 'confirmed', passenger: 'Ana P2' });
    expect((await listPaiements(db.knex, { status: 'completed', limit: 50 })).map((x) => x.id)).toEqual([p.completed.id, p.kept.id]);
    expect((await listPaiements(db.knex, { since: new Date('2026-11-01T00:00:00Z'), limit: 50 })).map((x) => x.id)).toEqual([p.failed.id, p.refunded.id, p.kept.id]);
    expect((await listPaiements(db.knex, { limit: 2, after: p.completed.id })).map((x) => x.id)).toEqual([p.failed.id, p.refunded.id]);
    await expect(listPaiements(db.knex, { status: 'paid' as never, limit: 5 })).rejects.toThrow(InvalidInput);
  });

  it('shows a paiement with its reservation', async () => {
    const x = await getPaiement(db.knex, p.kept.id);
    expect(x).toMatchObject({ amount: '40.04', status: 'completed', payment_date: '2026-11-30T12:00:00.000Z', reservation: { id: p.kept.reservation, status: 'cancelled' } });
    await expect(getPaiement(db.knex, 99999)).rejects.toThrow(NotFound);
  });

  it('sums by status and by local month, exactly', async () => {
    process.env.TZ = 'Europe/Paris';
    const s = await paiementSummary(db.knex);
    expect(s.by_status).toEqual([
      { status: 'pending', count: 1, amount: '10.01' },
      { status: 'completed', count: 2, amount: '62.06' },
      { status: 'failed', count: 1, amount: '30.03' },
      { status: 'refunded', count: 1, amount: '11.01' },
    ]);
    expect(s.total).toEqual({ count: 5, amount: '113.11', revenue: '62.06' });
    expect(s.by_month).toEqual([
      { month: '2026-09', count: 1, pending: '10.01', completed: '0.00', failed: '0.00', refunded: '0.00', revenue: '0.00' },
      { month: '2026-11', count: 3, pending: '0.00', completed: '62.06', failed: '30.03', refunded: '0.00', revenue: '62.06' },
      { month: '2027-01', count: 1, pending: '0.00', completed: '0.00', failed: '0.00', refunded: '11.01', revenue: '0.00' },
    ]);
    process.env.TZ = 'UTC';
    const utc = await paiementSummary(db.knex);
    expect(utc.by_month.map((m) => [m.month, m.count, m.revenue])).toEqual([
      ['2026-09', 1, '0.00'],
      ['2026-10', 1, '22.02'],
      ['2026-11', 2, '40.04'],
      ['2026-12', 1, '0.00'],
    ]);
    const filtered = await paiementSummary(db.knex, { status: 'completed', since: new Date('2026-11-01T00:00:00Z') });
    expect(filtered.total).toEqual({ count: 1, amount: '40.04', revenue: '40.04' });
    expect(filtered.by_month.map((m) => m.month)).toEqual(['2026-11']);
    const empty = await paiementSummary(db.knex, { since: new Date('2040-01-01T00:00:00Z') });
    expect(empty).toEqual({ by_status: [], by_month: [], total: { count: 0, amount: '0.00', revenue: '0.00' } });
  });

  it('through the binary: list, --summary, summary, show, bad input', async () => {
    const env = { TZ: 'Europe/Paris' };
    const opts = { url: db.url, env };
    const viaList = await runJson<Record<string, unknown>>(['payments', 'list', '--summary'], opts);
    const viaVerb = await runJson<Record<string, unknown>>(['payments', 'summary'], opts);
    expect(viaList.code).toBe(0);
    expect(viaList.data).toEqual(viaVerb.data);
    expect(viaList.data).toMatchObject({ total: { count: 5, amount: '113.11', revenue: '62.06' } });
    const table = await run(['-o', 'table', 'payments', 'list', '--summary'], opts);
    expect(table.stdout).toContain('by month (Europe/Paris)');
    expect(table.stdout).toMatch(/2026-11 .*62\.06/);
    const list = await runJson<Array<{ id: number }>>(['payments', 'list', '--status', 'refunded'], opts);
    expect(list.data.map((x) => x.id)).toEqual([p.refunded.id]);
    const show = await runJson<{ id: number; reservation: { id: number } }>(['payments', 'show', String(p.refunded.id)], opts);
    expect(show.data.reservation.id).toBe(p.refunded.reservation);

    const before = await snapshot(db.knex, BOOKING_TABLES);
    const bad = await Promise.all([
      run(['payments', 'show', '99999'], opts),
      run(['payments', 'list', '--status', 'paid'], opts),
      run(['payments', 'list', '--summary', '--since', 'last week'], opts),
    ]);
    expect(bad.map((r) => r.code)).toEqual([3, 2, 2]);
    expect(bad[0]!.stderr).toContain('no paiement with id 99999');
    expect(bad[1]!.stderr).toContain('use one of pending, completed, failed, refunded');
    expect(bad[2]!.stderr).toContain('YYYY-MM-DD');
    expect(await snapshot(db.knex, BOOKING_TABLES)).toEqual(before);
  });
});
