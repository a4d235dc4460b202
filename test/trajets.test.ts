/**
 * Trajets: the transition table (every pair), day/instant parsing (with time zones), and the
 * domain against both databases: creation rules, listing filters, update, suspend/resume,
 * complete and cancel with their effect on reservations, paiements and seats.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { BOOKING_TABLES, hoursFromNow, insertCarrier } from './helpers/bookings.js';
import { TRAJET_STATUSES, type TrajetStatus } from '../src/db/schema.js';
import { Conflict, InvalidInput, NotFound } from '../src/domain/errors.js';
import {
  TRAJET_TRANSITIONS,
  assertTrajetMove,
  canMoveTrajet,
  closeTrajet,
  createTrajet,
  listTrajets,
  parseBetween,
  parseDay,
  parseDayOrInstant,
  parseInstant,
  setTrajetStatus,
  updateTrajet,
  type CreateTrajetInput,
} from '../src/domain/trajets.js';
import { bookingInvariantViolations, createReservation, getReservation, moveReservation } from '../src/domain/reservations.js';

describe('trajet transitions', () => {
  const allowed = new Set(['active>suspended', 'active>cancelled', 'active>completed', 'suspended>active', 'suspended>cancelled']);
  for (const from of TRAJET_STATUSES) {
    for (const to of TRAJET_STATUSES) {
      const ok = allowed.has(`${from}>${to}`);
      it(`${from} → ${to} is ${ok ? 'allowed' : 'refused'}`, () => {
        expect(canMoveTrajet(from, to)).toBe(ok);
        if (ok) expect(() => assertTrajetMove(1, from, to)).not.toThrow();
        else {
          expect(() => assertTrajetMove(1, from, to)).toThrow(Conflict);
          expect(() => assertTrajetMove(1, from, to)).toThrow(`trajet 1 is ${from}`);
        }
      });
    }
  }
  it('has a row for every status and final states have none', () => {
    expect(Object.keys(TRAJET_TRANSITIONS).sort()).toEqual([...TRAJET_STATUSES].sort());
    expect(TRAJET_TRANSITIONS.cancelled).toEqual([]);
    expect(TRAJET_TRANSITIONS.completed).toEqual([]);
  });
});

describe('days and instants', () => {
  const savedTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = savedTz;
  });

  it('a day is a local calendar day, half-open', () => {
    process.env.TZ = 'Pacific/Auckland';
    const r = parseDay('2026-11-26');
    expect(r.start.toISOString()).toBe('2026-11-25T11:00:00.000Z');
    expect(r.end.toISOString()).toBe('2026-11-26T11:00:00.000Z');
    process.env.TZ = 'UTC';
    expect(parseDay('2026-11-26').start.toISOString()).toBe('2026-11-26T00:00:00.000Z');
  });

  it('days across a DST change have their real length', () => {
    process.env.TZ = 'Europe/Paris';
    const r = parseDay('2026-10-25');
    expect((r.end.getTime() - r.start.getTime()) / 3_600_000).toBe(25);
  });

  it('today, tomorrow and yesterday are relative to now', () => {
    process.env.TZ = 'UTC';
    const now = new Date('2026-11-25T23:30:00Z');
    expect(parseDay('tomorrow', '--date', now).start.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(parseDay('Today', '--date', now).start.toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(parseDay('yesterday', '--date', now).start.toISOString()).toBe('2026-11-24T00:00:00.000Z');
    process.env.TZ = 'Europe/Paris'; // 00:30 on the 26th there
    expect(parseDay('today', '--date', now).start.toISOString()).toBe('2026-11-25T23:00:00.000Z');
  });

  it.each([
    ['2026-02-30', 'not a real calendar day'],
    ['25/11/2026', 'ambiguous'],
    ['11/25/2026', 'ambiguous'],
    ['demain', 'not a day'],
    ['2026-11-26T08:00:00Z', 'not a day'],
  ])('refuses --date %s (%s) showing the format', (raw, why) => {
    expect(() => parseDay(raw)).toThrow(InvalidInput);
    expect(() => parseDay(raw)).toThrow(why);
    expect(() => parseDay(raw)).toThrow('YYYY-MM-DD');
  });

  it('instants need a zone', () => {
    expect(parseInstant('2026-11-26T08:00:00+01:00', '--departure').toISOString()).toBe('2026-11-26T07:00:00.000Z');
    expect(parseInstant('2026-11-26 08:00Z', '--departure').toISOString()).toBe('2026-11-26T08:00:00.000Z');
    expect(parseInstant('2026-11-26T08:00:00.5-0230', '--departure').toISOString()).toBe('2026-11-26T10:30:00.500Z');
    for (const [raw, why] of [
      ['2026-11-26T08:00', 'ambiguous (no time zone)'],
      ['2026-11-26', 'is a day, not a time'],
      ['26/11/2026 08:00', 'not a date and time'],
      ['2026-13-01T08:00Z', 'not a real date'],
      ['2026-11-26T25:00Z', 'not a real date'],
      ['tomorrow 8am', 'not a date and time'],
    ]) {
      expect(() => parseInstant(raw!, '--departure'), raw).toThrow(why!);
      expect(() => parseInstant(raw!, '--departure'), raw).toThrow('2026-11-26T08:30:00+01:00');
    }
  });

  it('--between takes two bounds, the end day counted whole', () => {
    process.env.TZ = 'UTC';
    const r = parseBetween(['2026-11-25', '2026-11-27']);
    expect(r.start.toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(r.end.toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(parseBetween(['2026-11-25T10:00Z', '2026-11-25T12:00Z']).end.toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(() => parseBetween(['2026-11-25'])).toThrow('two values');
    expect(() => parseBetween(['2026-11-27', '2026-11-25'])).toThrow('not after');
    expect(() => parseDayOrInstant('yesterday-ish', '--since', 'start')).toThrow('YYYY-MM-DD');
  });
});

describe.each(testedKinds())('trajets domain on %s', (kind) => {
  let db: TestDb;
  let carrier: { id: number; email: string; compteId: number };
  let mixte: { id: number; email: string; compteId: number };
  let colis: { id: number; email: string; compteId: number };
  let suspended: { id: number; email: string; compteId: number };
  const base = (): CreateTrajetInput => ({
    transporteur: carrier.compteId,
    from: 'Paris',
    to: 'Lyon',
    departure: hoursFromNow(24),
    priceCents: 2550,
    seats: 4,
  });
  const tx = <T>(fn: (trx: import('knex').Knex.Transaction) => Promise<T>) => db.knex.transaction(fn);
  const book = (trajetId: number, seats = 1, refundable = false) =>
    tx((trx) => createReservation(trx, { trajetId, firstName: 'Ana', lastName: 'Lima', phone: '0612345678', seats, refundable }, { refundRateBp: 1000 }));

  beforeAll(async () => {
    db = await createTestDb(kind);
    carrier = await insertCarrier(db.knex, { companyName: 'Cars Dupont' });
    mixte = await insertCarrier(db.knex, { companyType: 'mixte' });
    colis = await insertCarrier(db.knex, { companyType: 'colis' });
    suspended = await insertCarrier(db.knex, { status: 'suspended' });
  });
  afterAll(async () => db?.drop());

  it('creates an active trajet with every seat available', async () => {
    const t = await tx((trx) => createTrajet(trx, { ...base(), departurePoint: ' Gare de Lyon ', maxPackageWeight: 2050 }));
    expect(t).toMatchObject({
      departure_city: 'Paris',
      arrival_city: 'Lyon',
      price: '25.50',
      seats_count: 4,
      available_seats: 4,
      status: 'active',
      accepts_packages: true,
      max_package_weight: '20.50',
      departure_point: 'Gare de Lyon',
      arrival_point: null,
      transporteur_id: carrier.id,
      transporteur_name: 'Cars Dupont',
    });
    expect(t.departure_time).toMatch(/Z$/);
    const byEmail = await tx((trx) => createTrajet(trx, { ...base(), transporteur: mixte.email, acceptsPackages: false }));
    expect(byEmail).toMatchObject({ transporteur_id: mixte.id, accepts_packages: false, max_package_weight: null });
  });

  const bad: Array<[string, () => Partial<CreateTrajetInput>, typeof InvalidInput | typeof NotFound | typeof Conflict, string]> = [
    ['same city (case and accents ignored)', () => ({ from: 'Orléans', to: ' orleans ' }), InvalidInput, 'same city'],
    ['a past departure', () => ({ departure: hoursFromNow(-1) }), InvalidInput, 'in the past'],
    ['0 seats', () => ({ seats: 0 }), InvalidInput, 'from 1 to 50'],
    ['51 seats', () => ({ seats: 51 }), InvalidInput, 'from 1 to 50'],
    ['a negative price', () => ({ priceCents: -1 }), InvalidInput, '--price'],
    ['an empty city', () => ({ from: '  ' }), InvalidInput, '--from is required'],
    ['an unknown account id as the transporteur', () => ({ transporteur: 9999 }), NotFound, 'no account with id 9999'],
    ['an unknown transporteur email', () => ({ transporteur: 'nobody@example.fr' }), NotFound, 'no account with email'],
    ['a colis-only carrier', () => ({ transporteur: colis.compteId }), InvalidInput, 'passagers or mixte'],
    ['a suspended carrier', () => ({ transporteur: suspended.compteId }), Conflict, 'is suspended'],
    ['packages refused yet a max weight', () => ({ acceptsPackages: false, maxPackageWeight: 500 }), InvalidInput, '--no-packages'],
  ];
  it.each(bad)('refuses %s and changes nothing', async (_name, patch, cls, message) => {
    const before = await snapshot(db.knex, BOOKING_TABLES);
    const err = await tx((trx) => createTrajet(trx, { ...base(), ...patch() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message).toContain(message);
    expect(await snapshot(db.knex, BOOKING_TABLES)).toEqual(before);
  });

  it('accepts a past departure with allowPast', async () => {
    const t = await tx((trx) => createTrajet(trx, { ...base(), departure: hoursFromNow(-48), allowPast: true }));
    expect(new Date(t.departure_time).getTime()).toBeLessThan(Date.now());
  });

  describe('list', () => {
    const ids: Record<string, number> = {};
    const savedTz = process.env.TZ;
    beforeAll(async () => {
      process.env.TZ = 'UTC';
      await db.knex('trajets').update({ status: 'completed' }); // earlier tests' trajets out of the way
      const day = (d: number, h: number) => {
        const t = parseDay('tomorrow').start;
        return new Date(t.getTime() + (d * 24 + h) * 3_600_000);
      };
      const mk = async (name: string, patch: Partial<CreateTrajetInput>) => {
        ids[name] = (await tx((trx) => createTrajet(trx, { ...base(), ...patch }))).id;
      };
      await mk('pl18', { departure: day(0, 18) });
      await mk('pl08', { departure: day(0, 8), seats: 2 });
      await mk('pl_next', { departure: day(1, 8) });
      await mk('orleans', { from: 'Orléans', to: 'Paris', departure: day(0, 9), acceptsPackages: false });
      await mk('marseille', { to: 'Marseille', departure: day(0, 10), transporteur: mixte.compteId, seats: 1 });
    });
    afterAll(() => {
      process.env.TZ = savedTz;
    });

    it('finds a route on a day, by departure time, ignoring case', async () => {
      const rows = await listTrajets(db.knex, { from: 'paris', to: 'LYON', range: parseDay('tomorrow'), status: 'active', limit: 50 });
      expect(rows.map((r) => r.id)).toEqual([ids.pl08, ids.pl18]);
    });

    it('matches cities ignoring accents', async () => {
      const rows = await listTrajets(db.knex, { from: 'Orleans', status: 'active', limit: 50 });
      expect(rows.map((r) => r.departure_city)).toEqual(['Orléans']);
      expect((await listTrajets(db.knex, { from: 'ORLÉANS', status: 'active', limit: 50 })).length).toBe(1);
    });

    it('filters by seats, packages, carrier and range', async () => {
      const withSeats = await listTrajets(db.knex, { status: 'active', withSeats: 3, limit: 50 });
      expect(withSeats.map((r) => r.id).sort()).toEqual([ids.pl18, ids.pl_next, ids.orleans].sort());
      const noPackages = await listTrajets(db.knex, { status: 'active', acceptsPackages: true, limit: 50 });
      expect(noPackages.map((r) => r.id)).not.toContain(ids.orleans);
      const byCarrier = await listTrajets(db.knex, { transporteur: mixte.email, status: 'active', limit: 50 });
      expect(byCarrier.map((r) => r.id)).toEqual([ids.marseille]);
      const between = await listTrajets(db.knex, { status: 'active', range: parseBetween(['tomorrow', 'tomorrow']), limit: 50 });
      expect(between.map((r) => r.id)).toEqual([ids.pl08, ids.orleans, ids.marseille, ids.pl18]);
      await expect(listTrajets(db.knex, { transporteur: '9999', limit: 5 })).rejects.toThrow(NotFound);
    });

    it('pages with --after in departure order and in id order', async () => {
      const all = await listTrajets(db.knex, { status: 'active', limit: 50 });
      const seen: number[] = [];
      let after: number | undefined;
      for (;;) {
        const page = await listTrajets(db.knex, { status: 'active', limit: 2, after });
        if (page.length === 0) break;
        seen.push(...page.map((r) => r.id));
        after = page[page.length - 1]!.id;
      }
      expect(seen).toEqual(all.map((r) => r.id));
      const byId = await listTrajets(db.knex, { status: 'active', limit: 2, after: ids.pl08, sort: 'id' });
      expect(byId.map((r) => r.id)).toEqual([ids.pl_next, ids.orleans]);
      await expect(listTrajets(db.knex, { limit: 2, after: 999999 })).rejects.toThrow(InvalidInput);
    });
  });

  it('updates seats by the difference and never below the seats sold', async () => {
    const t = await tx((trx) => createTrajet(trx, base()));
    await book(t.id, 3);
    const before = await snapshot(db.knex, BOOKING_TABLES);
    const err = await tx((trx) => updateTrajet(trx, t.id, { seats: 2 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Conflict);
    expect((err as Error).message).toContain('3 seats sold');
    expect(await snapshot(db.knex, BOOKING_TABLES)).toEqual(before);
    const up = await tx((trx) => updateTrajet(trx, t.id, { seats: 10, priceCents: 3000, departurePoint: 'Bercy' }));
    expect(up.before).toMatchObject({ seats_count: 4, available_seats: 1, price: '25.50' });
    expect(up.after).toMatchObject({ seats_count: 10, available_seats: 7, price: '30.00', departure_point: 'Bercy' });
    const down = await tx((trx) => updateTrajet(trx, t.id, { seats: 3, departurePoint: null }));
    expect(down.after).toMatchObject({ seats_count: 3, available_seats: 0, departure_point: null });
    // The existing reservation keeps its amount.
    const [r] = await db.knex('reservations').where('trajet_id', t.id);
    expect((await getReservation(db.knex, (r as { id: number }).id)).total_amount).toBe('76.50');
    await expect(tx((trx) => updateTrajet(trx, t.id, {}))).rejects.toThrow('nothing to change');
    await expect(tx((trx) => updateTrajet(trx, t.id, { departure: hoursFromNow(-2) }))).rejects.toThrow('in the past');
    await expect(tx((trx) => updateTrajet(trx, 999999, { seats: 3 }))).rejects.toThrow(NotFound);
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });

  it('suspend stops bookings, resume allows them again', async () => {
    const t = await tx((trx) => createTrajet(trx, base()));
    const s = await tx((trx) => setTrajetStatus(trx, t.id, 'suspended'));
    expect(s.after.status).toBe('suspended');
    await expect(book(t.id)).rejects.toThrow(`trajet ${t.id} is suspended`);
    await expect(tx((trx) => setTrajetStatus(trx, t.id, 'suspended'))).rejects.toThrow(`trajet ${t.id} is suspended: it cannot become suspended`);
    await tx((trx) => setTrajetStatus(trx, t.id, 'active'));
    expect((await book(t.id)).status).toBe('pending');
  });

  it('complete: only after departure; confirmed → completed, pending → cancelled/failed, seats back', async () => {
    const departure = hoursFromNow(5);
    const t = await tx((trx) => createTrajet(trx, { ...base(), departure, seats: 6 }));
    const a = await book(t.id, 2);
    const b = await book(t.id, 1, true);
    await tx((trx) => moveReservation(trx, a.id, 'confirm'));
    await expect(tx((trx) => closeTrajet(trx, t.id, 'completed'))).rejects.toThrow('has not departed yet');
    const later = new Date(departure.getTime() + 3_600_000);
    const s = await tx((trx) => closeTrajet(trx, t.id, 'completed', later));
    expect(s).toMatchObject({ completed: 1, cancelled: 1, refunded: 0, refunded_amount: '0.00', seats_released: 3 });
    expect(s.after).toMatchObject({ status: 'completed', available_seats: 6 });
    expect(await getReservation(db.knex, a.id)).toMatchObject({ status: 'completed', paiement: { status: 'completed' } });
    expect(await getReservation(db.knex, b.id)).toMatchObject({ status: 'cancelled', paiement: { status: 'failed' } });
    await expect(tx((trx) => closeTrajet(trx, t.id, 'cancelled', later))).rejects.toThrow(`trajet ${t.id} is completed`);
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });

  it('cancel: pending cancelled, every paid one refunded (refundable or not), seats released, one summary', async () => {
    const t = await tx((trx) => createTrajet(trx, { ...base(), seats: 8, priceCents: 1999 }));
    const paidPlain = await book(t.id, 2, false);
    const paidRefundable = await book(t.id, 1, true);
    const pending = await book(t.id, 3);
    await tx((trx) => moveReservation(trx, paidPlain.id, 'confirm'));
    await tx((trx) => moveReservation(trx, paidRefundable.id, 'confirm'));
    await tx((trx) => setTrajetStatus(trx, t.id, 'suspended'));
    const s = await tx((trx) => closeTrajet(trx, t.id, 'cancelled'));
    // 2 × 19.99 = 39.98; 19.99 + 2.00 supplement = 21.99
    expect(s).toMatchObject({ cancelled: 1, refunded: 2, refunded_amount: '61.97', seats_released: 6 });
    expect(s.after).toMatchObject({ status: 'cancelled', available_seats: 8 });
    expect(await getReservation(db.knex, paidPlain.id)).toMatchObject({ status: 'refunded', paiement: { status: 'refunded' } });
    expect(await getReservation(db.knex, paidRefundable.id)).toMatchObject({ status: 'refunded', paiement: { status: 'refunded' } });
    expect(await getReservation(db.knex, pending.id)).toMatchObject({ status: 'cancelled', paiement: { status: 'failed' } });
    await expect(tx((trx) => updateTrajet(trx, t.id, { seats: 3 }))).rejects.toThrow(`trajet ${t.id} is cancelled`);
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });

  it('the domain applies the table: every status change from every status', async () => {
    const departure = hoursFromNow(3);
    const later = new Date(departure.getTime() + 3_600_000);
    const move = (trx: import('knex').Knex.Transaction, id: number, to: TrajetStatus) =>
      to === 'active' || to === 'suspended' ? setTrajetStatus(trx, id, to, later) : closeTrajet(trx, id, to, later);
    for (const from of TRAJET_STATUSES) {
      for (const to of TRAJET_STATUSES) {
        const t = await tx((trx) => createTrajet(trx, { ...base(), departure }));
        await db.knex('trajets').where('id', t.id).update({ status: from });
        const result = await tx((trx) => move(trx, t.id, to)).then(
          () => 'ok',
          (e: Error) => e,
        );
        if (canMoveTrajet(from, to)) {
          expect(result, `${from} → ${to}`).toBe('ok');
          expect((await db.knex('trajets').where('id', t.id).first('status')).status).toBe(to);
        } else {
          expect(result, `${from} → ${to}`).toBeInstanceOf(Conflict);
          expect((result as Error).message).toContain(`trajet ${t.id} is ${from}`);
          expect((await db.knex('trajets').where('id', t.id).first('status')).status).toBe(from);
        }
      }
    }
    await expect(tx((trx) => setTrajetStatus(trx, 999999, 'active'))).rejects.toThrow(NotFound);
  });
});
