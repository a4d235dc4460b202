/**
 * `billettigue trajets` through the real binary on both databases: creation, listing (accents,
 * local days under another time zone, JSON in UTC), show, update and the status verbs, and every
 * bad input of the issue with its exit code, its message and a database left as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { hoursFromNow, insertCarrier, expectRefused, type RefusedCase } from './helpers/bookings.js';
import { run, runJson } from './helpers/cli.js';
import { closeTrajet, createTrajet } from '../src/domain/trajets.js';
import { bookingInvariantViolations, createReservation } from '../src/domain/reservations.js';

describe.each(testedKinds())('trajets CLI on %s', (kind) => {
  let db: TestDb;
  let carrier: { id: number; email: string; compteId: number };
  let colis: { id: number; compteId: number };
  let soldId: number;
  let cancelledId: number;
  const cli = (args: string[], env?: Record<string, string>) => run(args, { url: db.url, env });
  const future = hoursFromNow(72).toISOString().replace('.000Z', 'Z');

  beforeAll(async () => {
    db = await createTestDb(kind);
    carrier = await insertCarrier(db.knex, { companyName: 'Cars Dupont' });
    colis = await insertCarrier(db.knex, { companyType: 'colis' });
    await db.knex.transaction(async (trx) => {
      const t = await createTrajet(trx, { transporteur: carrier.compteId, from: 'Orléans', to: 'Tours', departure: hoursFromNow(50), priceCents: 1000, seats: 3 });
      soldId = t.id;
      await createReservation(trx, { trajetId: t.id, firstName: 'Ana', lastName: 'Lima', phone: '0612345678', seats: 2 }, { refundRateBp: 1000 });
      const c = await createTrajet(trx, { transporteur: carrier.compteId, from: 'Lille', to: 'Tours', departure: hoursFromNow(50), priceCents: 1000, seats: 3 });
      cancelledId = c.id;
      await closeTrajet(trx, c.id, 'cancelled');
    });
  });
  afterAll(async () => db?.drop());

  it('creates a trajet (table for people, JSON for scripts, one audit row)', async () => {
    const r = await runJson<Record<string, unknown>>(
      ['trajets', 'create', '--transporteur', carrier.email, '--from', 'Paris', '--to', 'Lyon', '--departure', '2031-03-01T08:30:00+01:00', '--price', '25.5', '--seats', '4', '--max-package-weight', '20', '--departure-point', 'Gare de Lyon'],
      { url: db.url },
    );
    expect(r.code).toBe(0);
    expect(r.data).toMatchObject({
      departure_city: 'Paris',
      arrival_city: 'Lyon',
      departure_time: '2031-03-01T07:30:00.000Z',
      price: '25.50',
      seats_count: 4,
      available_seats: 4,
      status: 'active',
      accepts_packages: true,
      max_package_weight: '20.00',
      departure_point: 'Gare de Lyon',
      transporteur_id: carrier.id,
    });
    expect(await db.knex('audit_log').where({ action: 'trajets.create', target_id: String(r.data.id) })).toHaveLength(1);
    const table = await cli(['trajets', 'create', '--transporteur', String(carrier.compteId), '--from', 'Paris', '--to', 'Marseille', '--departure', future, '--price', '0', '--seats', '1', '--no-packages']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Paris → Marseille/);
    expect(table.stderr).toMatch(/created trajet \d+: Paris → Marseille, 1 seat at 0.00/);
  });

  it('every bad input: clear error, right exit code, nothing changed', async () => {
    const create = (...patch: string[]) => {
      const base: Record<string, string> = { '--transporteur': String(carrier.id), '--from': 'Paris', '--to': 'Lyon', '--departure': future, '--price': '10', '--seats': '3' };
      for (let i = 0; i < patch.length; i += 2) base[patch[i]!] = patch[i + 1]!;
      return ['trajets', 'create', ...Object.entries(base).flat()];
    };
    const cases: RefusedCase[] = [
      ['a negative price', create('--price', '-5'), 2, '--price "-5" is negative'],
      ['a 3-decimal price', create('--price', '12.345'), 2, 'more than 2 decimals'],
      ['a departure in the past', create('--departure', '2020-01-01T08:00:00Z'), 2, 'is in the past'],
      ['an ambiguous departure (no zone)', create('--departure', '2031-03-01T08:30'), 2, 'ambiguous (no time zone): use ISO 8601 with a time zone'],
      ['an unparseable departure', create('--departure', '01/03/2031 08:30'), 2, 'e.g. 2026-11-26T08:30:00+01:00'],
      ['an unknown transporteur', create('--transporteur', '99999'), 3, 'no account with id 99999'],
      ['a colis-only carrier', create('--transporteur', String(colis.compteId)), 2, 'passagers or mixte'],
      ['seats 0', create('--seats', '0'), 2, '--seats must be a whole number from 1 to 50'],
      ['51 seats', create('--seats', '51'), 2, 'from 1 to 50'],
      ['the same city twice', create('--to', 'PARIS'), 2, 'same city'],
      ['an unparseable --date', ['trajets', 'list', '--date', '2026-02-30'], 2, 'use YYYY-MM-DD'],
      ['an ambiguous --date', ['trajets', 'list', '--date', '03/04/2026'], 2, 'ambiguous'],
      ['--date with --between', ['trajets', 'list', '--date', 'today', '--between', 'today', 'tomorrow'], 2, 'choose one of --date and --between'],
      ['--between with one bound', ['trajets', 'list', '--between', 'today'], 2, 'takes two values'],
      ['a sort field not allowed', ['trajets', 'list', '--sort', 'price; drop table trajets'], 2, 'use one of departure, id'],
      ['an unknown trajet', ['trajets', 'show', '99999'], 3, 'no trajet with id 99999'],
      ['updating an unknown trajet', ['trajets', 'update', '99999', '--seats', '3'], 3, 'no trajet with id 99999'],
      ['seats below those sold', ['trajets', 'update', String(soldId), '--seats', '1'], 4, 'has 2 seats sold'],
      ['a transition not allowed', ['trajets', 'resume', String(soldId)], 4, `trajet ${soldId} is active: it cannot become active`],
      ['a final trajet', ['trajets', 'suspend', String(cancelledId)], 4, `trajet ${cancelledId} is cancelled`],
      ['cancel of a cancelled trajet', ['trajets', 'cancel', String(cancelledId), '--yes'], 4, `trajet ${cancelledId} is cancelled`],
      ['complete before departure', ['trajets', 'complete', String(soldId)], 4, 'has not departed yet'],
      ['cancel without --yes and no terminal', ['trajets', 'cancel', String(soldId)], 2, 're-run with --yes'],
      ['an id that is not one', ['trajets', 'show', 'abc'], 2, 'id must be a whole number'],
    ];
    await expectRefused(db.knex, db.url, cases);
  });

  it('lists ignoring accents; --date is a local day; tables local, JSON UTC', async () => {
    // 2031-05-10T11:30Z is 2031-05-10 23:30 in Auckland (NZST +12) and 13:30 in Paris.
    const a = await runJson<{ id: number }>(
      ['trajets', 'create', '--transporteur', String(carrier.compteId), '--from', 'Évry', '--to', 'Orléans', '--departure', '2031-05-10T11:30:00Z', '--price', '7', '--seats', '2'],
      { url: db.url },
    );
    const b = await runJson<{ id: number }>(
      ['trajets', 'create', '--transporteur', String(carrier.compteId), '--from', 'Évry', '--to', 'Orléans', '--departure', '2031-05-10T12:30:00Z', '--price', '7', '--seats', '2'],
      { url: db.url },
    );
    const nz = await runJson<Array<{ id: number; departure_time: string }>>(['trajets', 'list', '--from', 'evry', '--to', 'ORLEANS', '--date', '2031-05-10'], {
      url: db.url,
      env: { TZ: 'Pacific/Auckland' },
    });
    expect(nz.data.map((t) => t.id)).toEqual([a.data.id]);
    expect(nz.data[0]!.departure_time).toBe('2031-05-10T11:30:00.000Z');
    const nextDay = await runJson<Array<{ id: number }>>(['trajets', 'list', '--from', 'evry', '--date', '2031-05-11'], { url: db.url, env: { TZ: 'Pacific/Auckland' } });
    expect(nextDay.data.map((t) => t.id)).toEqual([b.data.id]);
    const paris = await runJson<Array<{ id: number }>>(['trajets', 'list', '--from', 'evry', '--date', '2031-05-10'], { url: db.url, env: { TZ: 'Europe/Paris' } });
    expect(paris.data.map((t) => t.id)).toEqual([a.data.id, b.data.id]);
    const table = await cli(['-o', 'table', 'trajets', 'list', '--from', 'EVRY', '--to', 'orleans'], { TZ: 'Pacific/Auckland' });
    expect(table.stdout).toContain('DEPARTURE (Pacific/Auckland)');
    expect(table.stdout).toContain('2031-05-10 23:30');
    expect(table.stdout).toContain('Orléans');
    const page = await runJson<Array<{ id: number }>>(['trajets', 'list', '--from', 'evry', '--limit', '1', '--after', String(a.data.id)], { url: db.url });
    expect(page.data.map((t) => t.id)).toEqual([b.data.id]);
  });

  it('show, update, suspend, resume, cancel', async () => {
    const show = await runJson<Record<string, unknown>>(['trajets', 'show', String(soldId)], { url: db.url });
    expect(show.data).toMatchObject({
      id: soldId,
      departure_city: 'Orléans',
      transporteur: { id: carrier.id, company_name: 'Cars Dupont', email: carrier.email },
      occupancy: { seats_count: 3, available_seats: 1, seats_sold: 2, pending_seats: 2, confirmed_seats: 0 },
      reservations: [{ passenger_first_name: 'Ana', seats_reserved: 2, paiement: { status: 'pending', amount: '20.00' } }],
    });
    const table = await cli(['trajets', 'show', String(soldId)]);
    expect(table.stdout).toContain('Ana Lima');
    expect(table.stdout).toContain('occupancy: 2/3 seats sold');

    const up = await runJson<Record<string, unknown>>(['trajets', 'update', String(soldId), '--seats', '5', '--price', '12', '--reason', 'bigger van'], { url: db.url });
    expect(up.data).toMatchObject({ seats_count: 5, available_seats: 3, price: '12.00' });
    const audit = (await db.knex('audit_log').where({ action: 'trajets.update', target_id: String(soldId) }).first()) as { reason: string; before_json: string; after_json: string };
    expect(audit.reason).toBe('bigger van');
    expect(JSON.parse(audit.before_json)).toEqual({ seats_count: 3, available_seats: 1, price: '10.00' });
    expect(JSON.parse(audit.after_json)).toEqual({ seats_count: 5, available_seats: 3, price: '12.00' });

    expect((await cli(['trajets', 'suspend', String(soldId)])).code).toBe(0);
    expect((await cli(['trajets', 'resume', String(soldId)])).code).toBe(0);
    const cancel = await runJson<Record<string, unknown>>(['trajets', 'cancel', String(soldId), '--yes', '--reason', 'strike'], { url: db.url });
    expect(cancel.data).toMatchObject({ trajet: { status: 'cancelled', available_seats: 5 }, cancelled: 1, refunded: 0, refunded_amount: '0.00', seats_released: 2 });
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });
});
