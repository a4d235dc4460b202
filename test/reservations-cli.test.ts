/**
 * `billettigue reservations` through the real binary on both databases: the JSON contract, the
 * audit row, dry runs, and every bad input of the issue with its exit code, its message, and a
 * database left exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { BOOKING_TABLES, hoursFromNow, insertAccount, insertCarrier, expectRefused, type RefusedCase } from './helpers/bookings.js';
import { run, runJson } from './helpers/cli.js';
import { createTrajet, setTrajetStatus } from '../src/domain/trajets.js';
import { bookingInvariantViolations, createReservation, moveReservation } from '../src/domain/reservations.js';

describe.each(testedKinds())('reservations CLI on %s', (kind) => {
  let db: TestDb;
  let trajetId: number;
  let paidPlain: number;
  let suspendedId: number;
  const cli = (args: string[]) => run(args, { url: db.url });

  beforeAll(async () => {
    db = await createTestDb(kind);
    const carrier = await insertCarrier(db.knex);
    await insertAccount(db.knex, 'jeanne.martin@example.fr');
    await db.knex.transaction(async (trx) => {
      const mk = (seats: number) =>
        createTrajet(trx, { transporteur: carrier.compteId, from: 'Paris', to: 'Lyon', departure: hoursFromNow(30), priceCents: 2550, seats });
      trajetId = (await mk(4)).id;
      suspendedId = (await mk(2)).id;
      await setTrajetStatus(trx, suspendedId, 'suspended');
      const r = await createReservation(trx, { trajetId, firstName: 'Paul', lastName: 'Durand', phone: '0611111111', seats: 1 }, { refundRateBp: 1000 });
      await moveReservation(trx, r.id, 'confirm');
      paidPlain = r.id;
    });
  });
  afterAll(async () => db?.drop());

  it('create prints the reservation with its paiement, writes one audit row', async () => {
    const r = await runJson<Record<string, unknown>>(
      ['reservations', 'create', '--trajet', String(trajetId), '--first-name', 'Jeanne', '--last-name', 'Martin', '--phone', '06 12 34 56 78', '--seats', '2', '--refundable', '--account', 'jeanne.martin@example.fr'],
      { url: db.url },
    );
    expect(r.code).toBe(0);
    expect(r.data).toMatchObject({
      trajet_id: trajetId,
      status: 'pending',
      seats_reserved: 2,
      refundable_option: true,
      refund_supplement_amount: '5.10',
      total_amount: '56.10',
      phone_number: '+33612345678',
      account_email: 'jeanne.martin@example.fr',
      guest: false,
      paiement: { status: 'pending', amount: '56.10' },
      trajet: { id: trajetId, departure_city: 'Paris', arrival_city: 'Lyon' },
    });
    expect(r.data.reservation_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    expect(r.stderr).toContain('booked reservation');
    const audit = await db.knex('audit_log').where({ action: 'reservations.create', target_id: String(r.data.id) });
    expect(audit).toHaveLength(1);
    expect((audit[0] as { actor: string }).actor).toBe('test-runner');

    const confirm = await runJson<Record<string, unknown>>(['reservations', 'confirm', String(r.data.id)], { url: db.url });
    expect(confirm.data).toMatchObject({ status: 'confirmed', paiement: { status: 'completed' }, seats_released: 0 });
    const cancel = await runJson<Record<string, unknown>>(['reservations', 'cancel', String(r.data.id), '--yes'], { url: db.url });
    expect(cancel.data).toMatchObject({ status: 'refunded', paiement: { status: 'refunded' }, seats_released: 2, refunded_amount: '56.10' });
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });

  it('--dry-run shows the would-be reservation and writes nothing', async () => {
    const before = await snapshot(db.knex, BOOKING_TABLES);
    const r = await run(['reservations', 'create', '--trajet', String(trajetId), '--first-name', 'A', '--last-name', 'B', '--phone', '+33600000001', '--dry-run'], {
      url: db.url,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pending');
    expect(r.stderr).toContain('dry run');
    expect(r.stderr).toContain('would book');
    expect(await snapshot(db.knex, BOOKING_TABLES)).toEqual(before);
  });

  it('every bad input: clear error, right exit code, nothing changed', async () => {
    const book = (...extra: string[]) => ['reservations', 'create', '--trajet', String(trajetId), '--first-name', 'A', '--last-name', 'B', '--phone', '+33600000001', ...extra];
    const cases: RefusedCase[] = [
      ['unknown trajet', ['reservations', 'create', '--trajet', '99999', '--first-name', 'A', '--last-name', 'B', '--phone', '+33600000001'], 3, 'no trajet with id 99999'],
      ['unknown account', book('--account', 'ghost@example.fr'), 3, 'no account with email ghost@example.fr'],
      ['seats 0', book('--seats', '0'), 2, '--seats must be a whole number from 1 to 50'],
      ['seats beyond available', book('--seats', '4'), 4, `not enough seats on trajet ${trajetId}: 3 available, 4 asked`],
      ['a suspended trajet', ['reservations', 'create', '--trajet', String(suspendedId), '--first-name', 'A', '--last-name', 'B', '--phone', '+33600000001'], 4, 'is suspended'],
      ['a phone that is not a phone', ['reservations', 'create', '--trajet', String(trajetId), '--first-name', 'A', '--last-name', 'B', '--phone', 'call me'], 2, 'is not a phone number'],
      ['a missing flag', ['reservations', 'create', '--trajet', String(trajetId), '--first-name', 'A', '--last-name', 'B'], 2, "required option '--phone <phone>' not specified"],
      ['a forbidden transition', ['reservations', 'confirm', String(paidPlain)], 4, `reservation ${paidPlain} is confirmed: cannot confirm it`],
      ['a refund without the option', ['reservations', 'refund', String(paidPlain), '--yes'], 4, 'without the refundable option'],
      ['complete before departure', ['reservations', 'complete', String(paidPlain)], 4, 'once its trajet'],
      ['cancel without --yes and no terminal', ['reservations', 'cancel', String(paidPlain)], 2, '--yes'],
      ['an unknown reservation', ['reservations', 'show', '99999'], 3, 'no reservation with id 99999'],
      ['an unparseable --since', ['reservations', 'list', '--since', '25/11/2026'], 2, 'use YYYY-MM-DD'],
      ['--guest with --account', ['reservations', 'list', '--guest', '--account', '1'], 2, 'choose one of --guest and --account'],
      ['an unknown status', ['reservations', 'list', '--status', 'paid'], 2, 'use one of pending, confirmed'],
    ];
    await expectRefused(db.knex, db.url, cases);
  });

  it('lists and shows for people and for scripts', async () => {
    const table = await cli(['reservations', 'list', '--trajet', String(trajetId)]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Paul Durand');
    expect(table.stdout).toContain('Paris → Lyon');
    const json = await runJson<Array<{ id: number }>>(['reservations', 'list', '--trajet', String(trajetId), '--status', 'confirmed'], { url: db.url });
    expect(json.data.map((r) => r.id)).toEqual([paidPlain]);
    const show = await runJson<{ id: number; paiement: { status: string } }>(['reservations', 'show', String(paidPlain)], { url: db.url });
    expect(show.data).toMatchObject({ id: paidPlain, paiement: { status: 'completed' } });
  });
});
