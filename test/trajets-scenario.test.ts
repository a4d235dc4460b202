/**
 * The "done when", through the real binary only, on both databases, as a new admin would
 * do it: find tomorrow's Paris → Lyon trips, see who booked, cancel a trip, and see every paid
 * reservation refunded (carriers and accounts are inserted with knex: the accounts commands are
 * another issue).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { insertAccount, insertCarrier } from './helpers/bookings.js';
import { run, runJson, type RunResult } from './helpers/cli.js';
import { bookingInvariantViolations } from '../src/domain/reservations.js';

describe.each(testedKinds())('bookings scenario on %s', (kind) => {
  let db: TestDb;
  const env = { TZ: 'Europe/Paris' };
  const savedTz = process.env.TZ;
  const ok = (r: RunResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const bin = async (...args: string[]) => ok(await run(args, { url: db.url, env }));
  const json = async <T>(...args: string[]) => {
    const r = await runJson<T>(args, { url: db.url, env });
    expect(r.code, r.stderr).toBe(0);
    return r.data;
  };

  beforeAll(async () => {
    db = await createTestDb(kind);
    await insertCarrier(db.knex, { email: 'contact@cars-dupont.fr', companyName: 'Cars Dupont' });
    await insertAccount(db.knex, 'jeanne.martin@example.fr');
  });
  afterEach(() => {
    process.env.TZ = savedTz;
  });
  afterAll(async () => db?.drop());

  it('find tomorrow’s Paris → Lyon trips, see who booked, cancel one, every paid reservation refunded', async () => {
    process.env.TZ = 'Europe/Paris';
    const now = new Date();
    const at = (days: number, hour: number) => new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, hour, 0, 0).toISOString();
    const create = (from: string, to: string, departure: string, price: string, seats: string) =>
      json<{ id: number }>('trajets', 'create', '--transporteur', 'contact@cars-dupont.fr', '--from', from, '--to', to, '--departure', departure, '--price', price, '--seats', seats);
    const morning = (await create('Paris', 'Lyon', at(1, 8), '29.90', '6')).id;
    const evening = (await create('Paris', 'Lyon', at(1, 18), '24.50', '4')).id;
    const dayAfter = (await create('Paris', 'Lyon', at(2, 8), '29.90', '6')).id;
    await create('Paris', 'Marseille', at(1, 9), '45', '3');

    const book = (trajet: number, first: string, last: string, ...extra: string[]) =>
      json<{ id: number }>('reservations', 'create', '--trajet', String(trajet), '--first-name', first, '--last-name', last, '--phone', '06 12 34 56 78', ...extra);
    const jeanne = (await book(morning, 'Jeanne', 'Martin', '--seats', '2', '--refundable', '--account', 'jeanne.martin@example.fr')).id;
    const paul = (await book(morning, 'Paul', 'Durand')).id;
    const marie = (await book(morning, 'Marie', 'Curie')).id;
    const other = (await book(evening, 'Louis', 'Pasteur')).id;
    await bin('reservations', 'confirm', String(jeanne));
    await bin('reservations', 'confirm', String(paul));
    await bin('reservations', 'confirm', String(other));

    // 1. Tomorrow's Paris → Lyon trips (a person types the cities any way).
    const list = await bin('-o', 'table', 'trajets', 'list', '--from', 'paris', '--to', 'LYON', '--date', 'tomorrow');
    expect(list.stdout).toContain('DEPARTURE (Europe/Paris)');
    const d = new Date(at(1, 8));
    const pad = (n: number) => String(n).padStart(2, '0');
    expect(list.stdout).toContain(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} 08:00`);
    expect(list.stdout).toContain('18:00');
    const found = await json<Array<{ id: number; available_seats: number }>>('trajets', 'list', '--from', 'paris', '--to', 'lyon', '--date', 'tomorrow');
    expect(found.map((t) => t.id)).toEqual([morning, evening]);
    expect(found.map((t) => t.available_seats)).toEqual([2, 3]);
    expect(found.map((t) => t.id)).not.toContain(dayAfter);

    // 2. Who booked.
    const show = await bin('trajets', 'show', String(morning));
    for (const name of ['Jeanne Martin', 'Paul Durand', 'Marie Curie', 'jeanne.martin@example.fr', 'guest']) expect(show.stdout).toContain(name);
    expect(show.stdout).toContain('occupancy: 4/6 seats sold (3 confirmed, 1 pending)');

    // 3. Cancel the morning trip.
    const cancel = await bin('trajets', 'cancel', String(morning), '--yes', '--reason', 'vehicle broke down');
    // Jeanne 2 × 29.90 + 5.98 = 65.78; Paul 29.90: refunded 95.68.
    expect(cancel.stderr).toContain(`marked trajet ${morning} cancelled: 2 paid reservations refunded (95.68), 1 pending cancelled, 4 seats released`);

    // 4. Every paid reservation refunded, the pending one cancelled, the other trip untouched.
    const after = await json<Array<{ id: number; status: string; paiement: { status: string; amount: string } }>>('reservations', 'list', '--trajet', String(morning));
    expect(after.map((r) => [r.id, r.status, r.paiement.status, r.paiement.amount])).toEqual([
      [jeanne, 'refunded', 'refunded', '65.78'],
      [paul, 'refunded', 'refunded', '29.90'],
      [marie, 'cancelled', 'failed', '29.90'],
    ]);
    const refunds = await json<Array<{ reservation_id: number; amount: string }>>('payments', 'list', '--status', 'refunded');
    expect(refunds.map((p) => [p.reservation_id, p.amount])).toEqual([
      [jeanne, '65.78'],
      [paul, '29.90'],
    ]);
    const still = await json<{ status: string; paiement: { status: string } }>('reservations', 'show', String(other));
    expect(still).toMatchObject({ status: 'confirmed', paiement: { status: 'completed' } });
    const summary = await json<{ total: { revenue: string } }>('payments', 'summary');
    expect(summary.total.revenue).toBe('24.50');
    const audit = await json<Array<{ action: string; reason: string | null }>>('audit', 'list', '--action', 'trajets.cancel');
    expect(audit).toMatchObject([{ action: 'trajets.cancel', reason: 'vehicle broke down' }]);
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });
});
