/**
 * Reservations and paiements: the state machines and the status-pair table (every pair, every
 * verb from every state), then the domain on both databases: creation and its amounts, each verb,
 * each bad input changing nothing, and random sequences of operations after which the invariants
 * of the issue hold (seats, one paiement per reservation with amount = total, allowed pairs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { BOOKING_TABLES, hoursFromNow, insertAccount, insertCarrier, rng } from './helpers/bookings.js';
import { PAIEMENT_STATUSES, RESERVATION_STATUSES, type PaiementStatus, type ReservationStatus } from '../src/db/schema.js';
import { AppError, Conflict, InvalidInput, NotFound } from '../src/domain/errors.js';
import {
  ALLOWED_STATUS_PAIRS,
  PAIEMENT_TRANSITIONS,
  RESERVATION_MOVES,
  RESERVATION_TRANSITIONS,
  bookingInvariantViolations,
  canMovePaiement,
  canMoveReservation,
  createReservation,
  getReservation,
  isAllowedPair,
  listReservations,
  moveReservation,
  planMove,
  type CreateReservationInput,
  type ReservationVerb,
} from '../src/domain/reservations.js';
import { closeTrajet, createTrajet, setTrajetStatus, updateTrajet } from '../src/domain/trajets.js';

const VERBS: ReservationVerb[] = ['confirm', 'cancel', 'refund', 'complete'];

describe('reservation and paiement state machines', () => {
  const resAllowed = new Set([
    'pending>confirmed',
    'pending>cancelled',
    'confirmed>completed',
    'confirmed>cancelled',
    'confirmed>refunded',
  ]);
  for (const from of RESERVATION_STATUSES) {
    for (const to of RESERVATION_STATUSES) {
      it(`reservation ${from} → ${to}: ${resAllowed.has(`${from}>${to}`) ? 'allowed' : 'refused'}`, () => {
        expect(canMoveReservation(from, to)).toBe(resAllowed.has(`${from}>${to}`));
      });
    }
  }
  const payAllowed = new Set(['pending>completed', 'pending>failed', 'completed>refunded']);
  for (const from of PAIEMENT_STATUSES) {
    for (const to of PAIEMENT_STATUSES) {
      it(`paiement ${from} → ${to}: ${payAllowed.has(`${from}>${to}`) ? 'allowed' : 'refused'}`, () => {
        expect(canMovePaiement(from, to)).toBe(payAllowed.has(`${from}>${to}`));
      });
    }
  }
  it('the tables cover every status', () => {
    expect(Object.keys(RESERVATION_TRANSITIONS).sort()).toEqual([...RESERVATION_STATUSES].sort());
    expect(Object.keys(PAIEMENT_TRANSITIONS).sort()).toEqual([...PAIEMENT_STATUSES].sort());
  });

  const pairs = new Set(['pending/pending', 'confirmed/completed', 'completed/completed', 'cancelled/failed', 'cancelled/completed', 'refunded/refunded']);
  for (const r of RESERVATION_STATUSES) {
    for (const p of PAIEMENT_STATUSES) {
      it(`pair ${r}/${p}: ${pairs.has(`${r}/${p}`) ? 'allowed' : 'never'}`, () => {
        expect(isAllowedPair(r, p)).toBe(pairs.has(`${r}/${p}`));
      });
    }
  }

  // verb × status × refundable → expected (reservation, paiement) after, or refused.
  const expected: Record<string, string> = {
    'confirm/pending/false': 'confirmed/completed',
    'confirm/pending/true': 'confirmed/completed',
    'cancel/pending/false': 'cancelled/failed',
    'cancel/pending/true': 'cancelled/failed',
    'cancel/confirmed/false': 'cancelled/completed',
    'cancel/confirmed/true': 'refunded/refunded',
    'refund/confirmed/true': 'refunded/refunded',
    'complete/confirmed/false': 'completed/completed',
    'complete/confirmed/true': 'completed/completed',
  };
  for (const verb of VERBS) {
    for (const status of RESERVATION_STATUSES) {
      for (const refundable of [false, true]) {
        const key = `${verb}/${status}/${refundable}`;
        it(`${verb} from ${status} (refundable ${refundable}) → ${expected[key] ?? 'Conflict'}`, () => {
          if (!expected[key]) {
            expect(() => planMove(7, verb, status, refundable)).toThrow(Conflict);
            expect(() => planMove(7, verb, status, refundable)).toThrow(`reservation 7 is ${status}`);
            return;
          }
          const m = planMove(7, verb, status, refundable);
          expect(`${m.to}/${m.paiementTo ?? m.paiementFrom}`).toBe(expected[key]);
        });
      }
    }
  }

  it('every move goes from an allowed pair to an allowed pair through allowed transitions', () => {
    for (const verb of VERBS) {
      for (const m of RESERVATION_MOVES[verb]) {
        expect(isAllowedPair(m.from, m.paiementFrom), `${verb} from ${m.from}`).toBe(true);
        expect(canMoveReservation(m.from, m.to), `${verb}: ${m.from} → ${m.to}`).toBe(true);
        if (m.paiementTo) expect(canMovePaiement(m.paiementFrom, m.paiementTo)).toBe(true);
        expect(isAllowedPair(m.to, m.paiementTo ?? m.paiementFrom), `${verb} lands on ${m.to}`).toBe(true);
      }
    }
  });

  it('every allowed pair is reachable from (pending, pending), the trajet cascades included', () => {
    type Pair = `${ReservationStatus}/${PaiementStatus}`;
    const seen = new Set<Pair>(['pending/pending']);
    const edges: Array<[Pair, Pair]> = [
      ...VERBS.flatMap((v) => RESERVATION_MOVES[v].map((m) => [`${m.from}/${m.paiementFrom}`, `${m.to}/${m.paiementTo ?? m.paiementFrom}`] as [Pair, Pair])),
      ['pending/pending', 'cancelled/failed'], // trajet complete or cancel
      ['confirmed/completed', 'completed/completed'], // trajet complete
      ['confirmed/completed', 'refunded/refunded'], // trajet cancel
    ];
    for (let changed = true; changed; ) {
      changed = false;
      for (const [a, b] of edges) {
        if (seen.has(a) && !seen.has(b)) {
          seen.add(b);
          changed = true;
        }
      }
    }
    expect([...seen].sort()).toEqual(ALLOWED_STATUS_PAIRS.map(([r, p]) => `${r}/${p}`).sort());
  });
});

describe.each(testedKinds())('reservations domain on %s', (kind) => {
  let db: TestDb;
  let carrier: { id: number; compteId: number };
  let account: number;
  const tx = <T>(fn: (trx: Knex.Transaction) => Promise<T>) => db.knex.transaction(fn);
  const trajet = (seats = 4, priceCents = 2550, departure = hoursFromNow(24)) =>
    tx((trx) => createTrajet(trx, { transporteur: carrier.compteId, from: 'Paris', to: 'Lyon', departure, priceCents, seats }));
  const book = (input: Partial<CreateReservationInput> & { trajetId: number }, now?: Date) =>
    tx((trx) =>
      createReservation(trx, { firstName: 'Jeanne', lastName: 'Martin', phone: '06 12 34 56 78', ...input }, { refundRateBp: 1000, now }),
    );
  const move = (id: number, verb: ReservationVerb, now?: Date) => tx((trx) => moveReservation(trx, id, verb, now));
  const seatsLeft = async (id: number) => Number(((await db.knex('trajets').where({ id }).first('available_seats')) as { available_seats: number }).available_seats);

  beforeAll(async () => {
    db = await createTestDb(kind);
    carrier = await insertCarrier(db.knex);
    account = await insertAccount(db.knex, 'jeanne.martin@example.fr');
  });
  afterAll(async () => db?.drop());

  it('creates a pending reservation with its pending paiement, amounts computed', async () => {
    const t = await trajet(5, 2550);
    const r = await book({ trajetId: t.id, seats: 3, refundable: true, account: 'Jeanne.Martin@example.fr' });
    expect(r).toMatchObject({
      status: 'pending',
      seats_reserved: 3,
      refundable_option: true,
      refund_supplement_amount: '7.65', // 10% of 76.50
      total_amount: '84.15',
      compte_id: account,
      account_email: 'jeanne.martin@example.fr',
      guest: false,
      phone_number: '+33612345678',
      paiement: { status: 'pending', amount: '84.15' },
    });
    expect(await seatsLeft(t.id)).toBe(2);
    expect(await getReservation(db.knex, r.id)).toEqual(r); // the returned view is what was stored
    const guest = await book({ trajetId: t.id });
    expect(guest).toMatchObject({ compte_id: null, guest: true, refund_supplement_amount: '0.00', total_amount: '25.50' });
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });

  it('rounds the supplement half up to the cent', async () => {
    const t = await trajet(5, 1005); // 10% of 10.05 = 1.005 → 1.01
    expect((await book({ trajetId: t.id, refundable: true })).refund_supplement_amount).toBe('1.01');
  });

  it('refuses bad input and changes nothing', async () => {
    const t = await trajet(2);
    const departed = await tx((trx) =>
      createTrajet(trx, { transporteur: carrier.compteId, from: 'Paris', to: 'Nice', departure: hoursFromNow(-1), priceCents: 100, seats: 3, allowPast: true }),
    );
    const suspended = await trajet(2);
    await tx((trx) => setTrajetStatus(trx, suspended.id, 'suspended'));
    const pricey = await trajet(50, 99_999_999_99);
    const cases: Array<[string, Partial<CreateReservationInput> & { trajetId: number }, new (...a: never[]) => AppError, string]> = [
      ['unknown trajet', { trajetId: 999999 }, NotFound, 'no trajet with id 999999'],
      ['unknown account', { trajetId: t.id, account: 'nobody@example.fr' }, NotFound, 'no account with email nobody@example.fr'],
      ['unknown account id', { trajetId: t.id, account: 999999 }, NotFound, 'no account with id 999999'],
      ['0 seats', { trajetId: t.id, seats: 0 }, InvalidInput, 'from 1 to 50'],
      ['more seats than available', { trajetId: t.id, seats: 3 }, Conflict, `not enough seats on trajet ${t.id}: 2 available, 3 asked`],
      ['a departed trajet', { trajetId: departed.id }, Conflict, 'already departed'],
      ['a suspended trajet', { trajetId: suspended.id }, Conflict, `trajet ${suspended.id} is suspended`],
      ['a phone that is not a phone', { trajetId: t.id, phone: '12-34' }, InvalidInput, 'is not a phone number'],
      ['an empty name', { trajetId: t.id, firstName: ' ' }, InvalidInput, '--first-name is required'],
      ['a total beyond DECIMAL(10,2)', { trajetId: pricey.id, seats: 2 }, InvalidInput, 'exceeds'],
    ];
    for (const [name, input, cls, message] of cases) {
      const before = await snapshot(db.knex, BOOKING_TABLES);
      const err = await book(input).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(cls);
      expect((err as Error).message, name).toContain(message);
      expect(await snapshot(db.knex, BOOKING_TABLES), name).toEqual(before);
    }
  });

  it('confirm, cancel, refund, complete move reservation, paiement and seats together', async () => {
    const departure = hoursFromNow(6);
    const later = new Date(departure.getTime() + 60_000);
    const t = await trajet(10, 1000, departure);
    const pending = await book({ trajetId: t.id, seats: 2 });
    const c = await move(pending.id, 'cancel');
    expect(c).toMatchObject({ seats_released: 2, refunded_amount: '0.00', after: { status: 'cancelled', paiement: { status: 'failed' } } });

    const plain = await book({ trajetId: t.id, seats: 1 });
    const conf = await move(plain.id, 'confirm');
    expect(conf.after).toMatchObject({ status: 'confirmed', paiement: { status: 'completed' } });
    expect(conf.seats_released).toBe(0);
    await expect(move(plain.id, 'refund')).rejects.toThrow('without the refundable option');
    const kept = await move(plain.id, 'cancel');
    expect(kept).toMatchObject({ seats_released: 1, refunded_amount: '0.00', after: { status: 'cancelled', paiement: { status: 'completed' } } });

    const refundable = await book({ trajetId: t.id, seats: 2, refundable: true });
    await expect(move(refundable.id, 'refund')).rejects.toThrow('it is not paid');
    await move(refundable.id, 'confirm');
    const ref = await move(refundable.id, 'refund');
    expect(ref).toMatchObject({ seats_released: 2, refunded_amount: '22.00', after: { status: 'refunded', paiement: { status: 'refunded' } } });
    await expect(move(refundable.id, 'cancel')).rejects.toThrow(`reservation ${refundable.id} is refunded: cannot cancel it (refunded is final)`);

    const cancelRefunds = await book({ trajetId: t.id, refundable: true });
    await move(cancelRefunds.id, 'confirm');
    expect((await move(cancelRefunds.id, 'cancel')).after).toMatchObject({ status: 'refunded', paiement: { status: 'refunded' } });

    const done = await book({ trajetId: t.id, seats: 3 });
    await expect(move(done.id, 'complete')).rejects.toThrow(`reservation ${done.id} is pending: cannot complete it`);
    await move(done.id, 'confirm');
    await expect(move(done.id, 'complete')).rejects.toThrow('once its trajet');
    const comp = await move(done.id, 'complete', later);
    expect(comp).toMatchObject({ seats_released: 3, after: { status: 'completed', paiement: { status: 'completed' } } });

    expect(await seatsLeft(t.id)).toBe(10);
    await expect(move(999999, 'confirm')).rejects.toThrow(NotFound);
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });

  it('payment_date is when the money came in', async () => {
    const t = await trajet();
    const r = await book({ trajetId: t.id }, new Date(Date.now() - 3_600_000));
    const paidAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const after = (await tx((trx) => moveReservation(trx, r.id, 'confirm', paidAt))).after;
    expect(after.paiement!.payment_date).toBe(paidAt.toISOString());
    expect(after.reservation_date).not.toBe(paidAt.toISOString());
  });

  it('lists by trajet, account, guest, status, since, with keyset pages', async () => {
    const t = await trajet(6);
    const a = await book({ trajetId: t.id, account });
    const g1 = await book({ trajetId: t.id });
    const g2 = await book({ trajetId: t.id });
    await move(g2.id, 'confirm');
    const ids = (q: Parameters<typeof listReservations>[1]) => listReservations(db.knex, q).then((rows) => rows.map((r) => r.id));
    expect(await ids({ trajetId: t.id, limit: 50 })).toEqual([a.id, g1.id, g2.id]);
    expect(await ids({ trajetId: t.id, guest: true, limit: 50 })).toEqual([g1.id, g2.id]);
    expect(await ids({ trajetId: t.id, account: 'jeanne.martin@example.fr', limit: 50 })).toEqual([a.id]);
    expect(await ids({ trajetId: t.id, status: 'confirmed', limit: 50 })).toEqual([g2.id]);
    expect(await ids({ trajetId: t.id, limit: 1, after: a.id })).toEqual([g1.id]);
    expect(await ids({ trajetId: t.id, since: new Date(Date.now() + 3_600_000), limit: 50 })).toEqual([]);
    await expect(ids({ trajetId: 999999, limit: 5 })).rejects.toThrow(NotFound);
    await expect(ids({ account: 'ghost@example.fr', limit: 5 })).rejects.toThrow(NotFound);
    await expect(ids({ account: '1', guest: true, limit: 5 })).rejects.toThrow(InvalidInput);
    await expect(ids({ status: 'lost' as ReservationStatus, limit: 5 })).rejects.toThrow('use one of');
  });

  it('the invariant check sees broken data', async () => {
    const t = await trajet(3);
    const r = await book({ trajetId: t.id });
    await db.knex('trajets').where({ id: t.id }).update({ available_seats: 3 });
    await db.knex('paiements').where({ reservation_id: r.id }).update({ amount: '1.00', status: 'refunded' });
    const extra = await book({ trajetId: t.id });
    await db.knex('paiements').where({ reservation_id: extra.id }).del();
    const v = await bookingInvariantViolations(db.knex);
    expect(v.some((l) => l.startsWith(`trajet ${t.id}: available_seats`))).toBe(true);
    expect(v).toContain(`reservation ${r.id}: paiement amount 1.00 ≠ total_amount 25.50`);
    expect(v).toContain(`reservation ${r.id}: status pair pending/refunded is not allowed`);
    expect(v).toContain(`reservation ${extra.id}: 0 paiements instead of exactly one`);
    // Moving a reservation whose paiement breaks the pair is refused as an integrity failure.
    await expect(move(r.id, 'confirm')).rejects.toThrow('its paiement is refunded');
    // Repair, for the tests that follow.
    await db.knex('reservations').whereIn('id', [r.id, extra.id]).del();
    await db.knex('paiements').where({ reservation_id: r.id }).del();
    await db.knex('trajets').where({ id: t.id }).update({ available_seats: 3 });
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });

  it('keeps every invariant through a random sequence of operations; refused ones change nothing', async () => {
    const rand = rng(kind === 'mysql' ? 4242 : 2424);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const departure = hoursFromNow(12);
    const later = new Date(departure.getTime() + 3_600_000);
    const trajets = [await trajet(5, 1234, departure), await trajet(12, 999, departure), await trajet(20, 0, departure)];
    const reservations: number[] = [];
    const outcomes: Record<string, number> = {};
    for (let step = 0; step < 200; step++) {
      const roll = rand();
      const t = pick(trajets);
      let name: string;
      let op: () => Promise<unknown>;
      if (roll < 0.35 || reservations.length === 0) {
        name = 'create';
        op = async () =>
          reservations.push(
            (await book({ trajetId: t.id, seats: 1 + Math.floor(rand() * 2), refundable: rand() < 0.5, account: rand() < 0.3 ? account : undefined })).id,
          );
      } else if (roll < 0.85) {
        const verb = pick(VERBS);
        name = verb;
        // Mostly recent reservations: they are the ones still live.
        const id = rand() < 0.8 ? pick(reservations.slice(-6)) : pick(reservations);
        op = () => move(id, verb, verb === 'complete' ? later : undefined);
      } else if (roll < 0.93) {
        // Suspensions are short (a suspended trajet is mostly resumed next); some repeats are refused.
        const suspended = (await db.knex('trajets').whereIn('id', trajets.map((x) => x.id)).where('status', 'suspended').pluck('id')) as number[];
        const target = suspended.length > 0 && rand() < 0.7 ? suspended[0]! : t.id;
        const to = target !== t.id || rand() < 0.15 ? 'active' : 'suspended';
        name = `trajet ${to}`;
        op = () => tx((trx) => setTrajetStatus(trx, target, to));
      } else if (roll < 0.98) {
        const seats = 1 + Math.floor(rand() * 20);
        name = 'trajet update seats';
        op = () => tx((trx) => updateTrajet(trx, t.id, { seats }));
      } else {
        const to = pick(['completed', 'cancelled'] as const);
        name = `trajet ${to}`;
        op = async () => {
          await tx((trx) => closeTrajet(trx, t.id, to, later));
          // A closed trajet takes nothing more: replace it so the walk keeps booking.
          trajets.splice(trajets.indexOf(t), 1, await trajet(2 + Math.floor(rand() * 6), Math.floor(rand() * 5000), departure));
        };
      }
      const before = await snapshot(db.knex, BOOKING_TABLES);
      try {
        await op();
        outcomes[`${name} ok`] = (outcomes[`${name} ok`] ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof AppError) || err.exitCode === 1 || err.exitCode === 6) throw err;
        outcomes[`${name} refused`] = (outcomes[`${name} refused`] ?? 0) + 1;
        outcomes[`${name} ${err.code}`] = (outcomes[`${name} ${err.code}`] ?? 0) + 1;
        expect(await snapshot(db.knex, BOOKING_TABLES), `step ${step} ${name}`).toEqual(before);
      }
      expect(await bookingInvariantViolations(db.knex), `after step ${step} (${name})`).toEqual([]);
    }
    // The walk did real work of every kind, and hit refusals too.
    for (const k of ['create ok', 'confirm ok', 'cancel ok', 'refund ok', 'complete ok', 'create refused', 'trajet update seats ok']) expect(outcomes[k], k).toBeGreaterThan(0);
    expect(Object.entries(outcomes).filter(([k]) => k.endsWith(' ok')).reduce((a, [, n]) => a + n, 0)).toBeGreaterThan(70);
    for (const id of reservations) {
      const r = await getReservation(db.knex, id);
      expect(r.paiement!.amount).toBe(r.total_amount);
    }
  });
});
