/**
 * Zones desservies on MariaDB and SQLite: add/list/update/remove at the domain level, one zone per
 * (city, transporteur) whatever the case and accents, the unique index's refusal translated when a
 * concurrent writer wins, and two real processes racing to add the same zone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { run } from './helpers/cli.js';
import { makeTransporteur, type Party } from './envois-fixtures.js';
import { addZone, getZone, listZones, removeZone, updateZone } from '../src/domain/zones.js';
import { connect } from '../src/db/connection.js';
import { Conflict, InvalidInput, NotFound } from '../src/domain/errors.js';
import { toDbTime } from '../src/db/values.js';

describe.each(testedKinds())('zones on %s', (kind) => {
  let db: TestDb;
  let k: Knex;
  let loire: Party;
  let centre: Party;

  beforeAll(async () => {
    db = await createTestDb(kind);
    k = db.knex;
    loire = await makeTransporteur(k, { email: 'loire@example.fr', companyName: 'Transports Loire', companyType: 'colis' });
    centre = await makeTransporteur(k, { email: 'centre@example.fr', companyName: 'Cars Centre', companyType: 'passagers', status: 'suspended' });
  });
  afterAll(async () => db?.drop());

  const add = (input: Parameters<typeof addZone>[1]) => k.transaction((trx) => addZone(trx, input));

  it('adds, lists by city ignoring case and accents, by carrier, type and what it serves', async () => {
    const a = await add({ transporteur: String(loire.id), city: '  Orléans ', region: 'Centre-Val de Loire', type: 'pickup_only', frequency: 'daily', maxWeight: 3050 });
    expect(a.zone).toMatchObject({
      city_name: 'Orléans',
      region: 'Centre-Val de Loire',
      zone_type: 'pickup_only',
      service_frequency: 'daily',
      max_weight_capacity: '30.50',
      transporteur_id: loire.id,
      transporteur_name: 'Transports Loire',
      transporteur_status: 'active',
    });
    expect(a.inactiveCarrier).toBeUndefined();
    const b = await add({ transporteur: 'centre@example.fr', city: 'orleans' });
    expect(b.zone).toMatchObject({ zone_type: 'both', service_frequency: null, max_weight_capacity: null, region: null });
    expect(b.inactiveCarrier).toMatch(/account is suspended/);
    await add({ transporteur: String(loire.id), city: 'Saint-Étienne', type: 'delivery_only' });

    const ids = (zs: Array<{ id: number }>) => zs.map((z) => z.id);
    expect(ids(await listZones(k, { city: 'ORLEANS', limit: 10 }))).toEqual([a.zone.id, b.zone.id]);
    expect(ids(await listZones(k, { city: 'orléans', serves: 'pickup', limit: 10 }))).toEqual([a.zone.id, b.zone.id]);
    expect(ids(await listZones(k, { city: 'Orleans', serves: 'delivery', limit: 10 }))).toEqual([b.zone.id]);
    expect(ids(await listZones(k, { city: 'Orleans', type: 'pickup_only', limit: 10 }))).toEqual([a.zone.id]);
    expect((await listZones(k, { city: 'saint-etienne', limit: 10 })).map((z) => z.city_name)).toEqual(['Saint-Étienne']);
    expect((await listZones(k, { transporteur: 'loire@example.fr', limit: 10 })).length).toBe(2);
    expect(ids(await listZones(k, { transporteur: String(loire.id), limit: 1, after: a.zone.id }))).toHaveLength(1);
    expect(await listZones(k, { city: 'Tours', limit: 10 })).toEqual([]);
    await expect(listZones(k, { transporteur: '9999', limit: 10 })).rejects.toThrow(NotFound);
  });

  it('refuses a second zone for the same city and carrier, whatever the case and accents', async () => {
    const existing = (await listZones(k, { city: 'Orléans', transporteur: String(loire.id), limit: 1 }))[0]!;
    for (const city of ['Orléans', 'ORLEANS', 'orleans ']) {
      const before = await snapshot(k, ['zones_desservies']);
      const err = await add({ transporteur: String(loire.id), city }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Conflict);
      expect((err as Error).message).toContain(`transporteur ${loire.id} already serves Orléans (zone id ${existing.id})`);
      expect(await snapshot(k, ['zones_desservies'])).toEqual(before);
    }
  });

  it('translates the unique index refusal when another writer committed after our check', async () => {
    // Simulates losing the race deterministically: the row appears after addZone's own check
    // would have run. MySQL: our transaction's snapshot predates the other commit, so the check
    // misses it and the INSERT hits the unique index. SQLite: byte-identical names hit the index too.
    const other = await connect(db.target);
    try {
      const err = await k
        .transaction(async (trx) => {
          await trx('zones_desservies').count({ n: '*' }); // takes the snapshot (MySQL)
          const now = toDbTime(new Date());
          if (kind === 'mysql') {
            await other('zones_desservies').insert({ city_name: 'Tours', zone_type: 'both', transporteur_id: loire.id, created_at: now, updated_at: now });
            return addZone(trx, { transporteur: String(loire.id), city: 'Tours' });
          }
          // SQLite has one writer: insert in this transaction, then add again through the index path.
          await trx('zones_desservies').insert({ city_name: 'Blois', zone_type: 'both', transporteur_id: loire.id, created_at: now, updated_at: now });
          return addZone(trx, { transporteur: String(loire.id), city: 'Blois' });
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Conflict);
      const z = (await k('zones_desservies').whereIn('city_name', ['Tours']).first('id')) as { id: number } | undefined;
      if (kind === 'mysql') expect((err as Error).message).toContain(`transporteur ${loire.id} already serves Tours (zone id ${z!.id})`);
      else expect((err as Error).message).toMatch(new RegExp(`transporteur ${loire.id} already serves Blois`));
    } finally {
      await other.destroy();
    }
  });

  it('updates only the fields given, refuses to collide with another zone, removes', async () => {
    const z = (await add({ transporteur: String(loire.id), city: 'Chartres', frequency: 'weekly', maxWeight: 1000, region: 'Eure-et-Loir' })).zone;
    const u = await k.transaction((trx) => updateZone(trx, z.id, { type: 'delivery_only', frequency: null, maxWeight: null, region: null }));
    expect(u.before).toMatchObject({ zone_type: 'both', service_frequency: 'weekly', max_weight_capacity: '10.00' });
    expect(u.after).toMatchObject({ city_name: 'Chartres', zone_type: 'delivery_only', service_frequency: null, max_weight_capacity: null, region: null });

    const before = await snapshot(k, ['zones_desservies']);
    const err = await k.transaction((trx) => updateZone(trx, z.id, { city: 'orléans' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Conflict);
    expect((err as Error).message).toMatch(/already serves Orléans \(zone id \d+\)/);
    await expect(k.transaction((trx) => updateZone(trx, z.id, {}))).rejects.toThrow(InvalidInput);
    await expect(k.transaction((trx) => updateZone(trx, 999999, { type: 'both' }))).rejects.toThrow(NotFound);
    expect(await snapshot(k, ['zones_desservies'])).toEqual(before);

    const moved = await k.transaction((trx) => updateZone(trx, z.id, { transporteur: 'centre@example.fr', city: 'Chartres ' }));
    expect(moved.after.transporteur_id).toBe(centre.id);

    const removed = await k.transaction((trx) => removeZone(trx, z.id));
    expect(removed.id).toBe(z.id);
    await expect(getZone(k, z.id)).rejects.toThrow(NotFound);
    await expect(k.transaction((trx) => removeZone(trx, z.id))).rejects.toThrow(NotFound);
  });

  it('the database refuses bad values on any path (CHECK constraints)', async () => {
    const now = toDbTime(new Date());
    await expect(
      k('zones_desservies').insert({ city_name: 'X', zone_type: 'everywhere', transporteur_id: loire.id, created_at: now, updated_at: now }),
    ).rejects.toThrow();
    await expect(
      k('zones_desservies').insert({ city_name: 'Y', zone_type: 'both', service_frequency: 'hourly', transporteur_id: loire.id, created_at: now, updated_at: now }),
    ).rejects.toThrow();
  });

  it('two processes adding the same zone at the same time: exactly one succeeds, the other exits 4', async () => {
    for (const city of ['Bourges', 'Vierzon']) {
      const args = ['zones', 'add', '--transporteur', String(loire.compteId), '--city', city, '--frequency', 'daily'];
      const results = await Promise.all([run(args, { url: db.url }), run(args, { url: db.url })]);
      const codes = results.map((r) => r.code).sort();
      expect(codes, JSON.stringify(results)).toEqual([0, 4]);
      const loser = results.find((r) => r.code === 4)!;
      const zones = await listZones(k, { city, limit: 10 });
      expect(zones).toHaveLength(1);
      expect(loser.stderr.trim()).toBe(
        `error: transporteur ${loire.id} already serves ${city} (zone id ${zones[0]!.id}): change that zone with \`billettigue zones update ${zones[0]!.id}\``,
      );
      expect(loser.stdout).toBe('');
      const audits = await k('audit_log').where({ action: 'zones.add', target_id: String(zones[0]!.id) });
      expect(audits).toHaveLength(1);
    }
  });
});
