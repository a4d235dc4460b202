/**
 * The database itself refuses bad rows (CHECK, NOT NULL, UNIQUE, FK), whatever path they come by.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { insertId } from '../src/db/dialect.js';

const now = '2026-11-25 08:00:00';

async function base(knex: Knex) {
  const role = (await knex('roles').where({ name: 'transporteur' }).first('id')) as { id: number };
  const compteId = await insertId(knex('comptes').insert({ email: 't@example.fr', password_hash: 'x', role_id: role.id, created_at: now, updated_at: now }));
  const transporteurId = await insertId(knex('transporteurs').insert({ phone_number: '+33600000000', compte_id: compteId, created_at: now, updated_at: now }));
  const trajetId = await insertId(knex('trajets').insert({
    departure_city: 'Paris', arrival_city: 'Lyon', departure_time: now, price: '10.00', seats_count: 3, available_seats: 3,
    transporteur_id: transporteurId, created_at: now, updated_at: now,
  }));
  const reservationId = await insertId(knex('reservations').insert({
    reservation_date: now, passenger_first_name: 'A', passenger_last_name: 'B', phone_number: '+33600000001',
    total_amount: '10.00', trajet_id: trajetId, created_at: now, updated_at: now,
  }));
  const envoiId = await insertId(knex('envois').insert({
    description: 'x', expediteur_id: 1, recipient_name: 'r', recipient_phone: '+33600000002', transporteur_id: transporteurId,
    compte_id: compteId, created_at: now, updated_at: now,
  })).catch(() => 0);
  return { role: role.id, compteId: compteId!, transporteurId: transporteurId!, trajetId: trajetId!, reservationId: reservationId!, envoiId };
}

describe.each(testedKinds())('database constraints on %s', (kind) => {
  let db: TestDb;
  let ids: Awaited<ReturnType<typeof base>>;
  beforeAll(async () => {
    db = await createTestDb(kind);
    ids = await base(db.knex);
  });
  afterAll(async () => db?.drop());

  const trajet = (over: Record<string, unknown>) => ({
    departure_city: 'Paris', arrival_city: 'Lyon', departure_time: now, price: '10.00', seats_count: 3, available_seats: 3,
    transporteur_id: ids.transporteurId, created_at: now, updated_at: now, ...over,
  });

  it.each([
    ['negative price', { price: '-1.00' }],
    ['0 seats', { seats_count: 0, available_seats: 0 }],
    ['51 seats', { seats_count: 51, available_seats: 51 }],
    ['available above total', { available_seats: 4 }],
    ['negative available', { available_seats: -1 }],
    ['unknown status', { status: 'flying' }],
    ['negative max package weight', { max_package_weight: '-2.00' }],
  ])('trajets refuse %s', async (_label, over) => {
    await expect(db.knex('trajets').insert(trajet(over))).rejects.toThrow();
  });

  it('accepts a valid trajet', async () => {
    await expect(db.knex('trajets').insert(trajet({ price: '0.00', seats_count: 50, available_seats: 0 }))).resolves.toBeDefined();
  });

  it('comptes refuse an unknown status, negative counters, duplicate email, unknown role', async () => {
    const c = { password_hash: 'x', role_id: ids.role, created_at: now, updated_at: now };
    await expect(db.knex('comptes').insert({ ...c, email: 'a@x.fr', status: 'banned' })).rejects.toThrow();
    await expect(db.knex('comptes').insert({ ...c, email: 'b@x.fr', failed_logins: -1 })).rejects.toThrow();
    await expect(db.knex('comptes').insert({ ...c, email: 't@example.fr' })).rejects.toThrow();
    await expect(db.knex('comptes').insert({ ...c, email: 'c@x.fr', role_id: 9999 })).rejects.toThrow();
  });

  it('transporteurs refuse an unknown company_type and a second profile for the same compte', async () => {
    await expect(
      db.knex('transporteurs').insert({ phone_number: '+33600000000', company_type: 'avion', compte_id: ids.compteId, created_at: now, updated_at: now }),
    ).rejects.toThrow();
    await expect(
      db.knex('transporteurs').insert({ phone_number: '+33600000000', compte_id: ids.compteId, created_at: now, updated_at: now }),
    ).rejects.toThrow();
  });

  it('reservations and paiements: statuses, seats, one paiement per reservation', async () => {
    const r = { reservation_date: now, passenger_first_name: 'A', passenger_last_name: 'B', phone_number: '+33600000001', total_amount: '10.00', trajet_id: ids.trajetId, created_at: now, updated_at: now };
    await expect(db.knex('reservations').insert({ ...r, status: 'lost' })).rejects.toThrow();
    await expect(db.knex('reservations').insert({ ...r, seats_reserved: 0 })).rejects.toThrow();
    await expect(db.knex('reservations').insert({ ...r, trajet_id: 999999 })).rejects.toThrow();
    const p = { amount: '10.00', payment_date: now, reservation_id: ids.reservationId, created_at: now, updated_at: now };
    await db.knex('paiements').insert(p);
    await expect(db.knex('paiements').insert(p)).rejects.toThrow();
    await expect(db.knex('paiements').insert({ ...p, reservation_id: 999999 })).rejects.toThrow();
    await expect(db.knex('paiements').where({ reservation_id: ids.reservationId }).update({ status: 'stolen' })).rejects.toThrow();
  });

  it('colis refuse a weight < 0 and a negative cost; zones refuse bad types and duplicates', async () => {
    const u = (await db.knex('roles').where({ name: 'user' }).first('id')) as { id: number };
    const cid = await insertId(db.knex('comptes').insert({ email: 'u@x.fr', password_hash: 'x', role_id: u.id, created_at: now, updated_at: now }));
    const uid = await insertId(db.knex('utilisateurs').insert({ first_name: 'U', last_name: 'V', phone_number: '+33600000003', compte_id: cid, created_at: now, updated_at: now }));
    const envoiId = await insertId(db.knex('envois').insert({
      description: 'x', expediteur_id: uid, recipient_name: 'r', recipient_phone: '+33600000002', transporteur_id: ids.transporteurId,
      compte_id: cid, created_at: now, updated_at: now,
    }));
    const c = { description: 'c', weight: '1.00', shipping_cost: '6.50', envoi_id: envoiId, created_at: now, updated_at: now };
    await expect(db.knex('colis').insert({ ...c, weight: '-0.01' })).rejects.toThrow();
    await db.knex('colis').insert({ ...c, weight: '0.00' }); // the seed: MIN 0
    await expect(db.knex('colis').insert({ ...c, shipping_cost: '-1.00' })).rejects.toThrow();
    await expect(db.knex('colis').insert({ ...c, status: 'teleported' })).rejects.toThrow();
    await expect(db.knex('envois').where({ id: envoiId }).update({ status: 'lost' })).rejects.toThrow();
    const z = { city_name: 'Orléans', transporteur_id: ids.transporteurId, created_at: now, updated_at: now };
    await expect(db.knex('zones_desservies').insert({ ...z, zone_type: 'everywhere' })).rejects.toThrow();
    await expect(db.knex('zones_desservies').insert({ ...z, service_frequency: 'hourly' })).rejects.toThrow();
    await expect(db.knex('zones_desservies').insert({ ...z, max_weight_capacity: '-1' })).rejects.toThrow();
    await db.knex('zones_desservies').insert(z);
    await expect(db.knex('zones_desservies').insert(z)).rejects.toThrow();
  });

  it("revoked_tokens: the seed's columns alone make a row (as the app inserts it); a token is unique", async () => {
    const t = { token: 'a.b.c', user_id: ids.compteId, revoked_at: now, expires_at: now, reason: 'logout' };
    await db.knex('revoked_tokens').insert(t);
    await expect(db.knex('revoked_tokens').insert(t)).rejects.toThrow();
    if (kind === 'mysql') {
      const [row] = (await db.knex.raw('select token_hash, sha2(token, 256) as h from revoked_tokens')) as [Array<{ token_hash: string; h: string }>];
      expect(row[0]!.token_hash).toBe(row[0]!.h);
    }
  });

  it('foreign keys: a role in use cannot be deleted; deleting a compte removes its profile', async () => {
    await expect(db.knex('roles').where({ id: ids.role }).del()).rejects.toThrow();
    const u = (await db.knex('roles').where({ name: 'admin' }).first('id')) as { id: number };
    const cid = await insertId(db.knex('comptes').insert({ email: 'adm@x.fr', password_hash: 'x', role_id: u.id, created_at: now, updated_at: now }));
    await db.knex('administrateurs').insert({ first_name: 'A', last_name: 'D', compte_id: cid, created_at: now, updated_at: now });
    await db.knex('comptes').where({ id: cid }).del();
    expect(await db.knex('administrateurs').where({ compte_id: cid })).toHaveLength(0);
  });

  if (kind === 'mysql') {
    it("a CHECK failure is translated by errno (MariaDB 4025), whatever name mysql2 gives it", async () => {
      const { translateDbError } = await import('../src/db/errors.js');
      const raw = (await db.knex('trajets').insert(trajet({ price: '-1.00' })).then(() => null, (e: unknown) => e)) as { errno: number; code: string };
      // mysql2 maps 4025 to an unrelated MySQL name (ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE here).
      expect([4025, 3819]).toContain(raw.errno);
      expect(translateDbError(raw, 'trajet')).toMatchObject({ exitCode: 2, code: 'check_violation', message: expect.stringMatching(/^trajet: refused by a CHECK constraint of the database/) });
    });

    it('MySQL refusals of values a column cannot hold become one-line bad-input errors (exit 2)', async () => {
      const { translateDbError } = await import('../src/db/errors.js');
      const { InvalidInput } = await import('../src/domain/errors.js');
      const caught = async (write: Promise<unknown>) => translateDbError(await write.then(() => null, (e: unknown) => e), 'trajet');
      for (const over of [{ price: '123456789012.00' }, { departure_city: 'x'.repeat(101) }]) {
        const err = await caught(db.knex('trajets').insert(trajet(over)));
        expect(err).toBeInstanceOf(InvalidInput);
        expect((err as Error).message).toMatch(/^trajet: a value does not fit its column \(.*\): use a smaller value$/);
        expect((err as { exitCode: number }).exitCode).toBe(2);
      }
    });
  }

  it('text compares case- and accent-insensitively where the CLI needs it (cities)', async () => {
    const { whereFolded } = await import('../src/db/dialect.js');
    const rows = await whereFolded(db.knex('zones_desservies'), 'city_name', 'ORLEANS');
    expect(rows.length).toBe(1);
  });
});
