/**
 * `maintenance check` rules, at the domain level: clean on the consistent planted platform, and for
 * every rule the database cannot enforce itself, one planted violation (a direct knex insert/update,
 * nothing disabled, inside a transaction rolled back afterwards) that the rule reports with the
 * right id — and that no other rule reports. Rules the database also enforces (FK, CHECK) are
 * covered by test/invariants-lax.test.ts.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { plantPlatform, type Planted } from './maintenance-fixtures.js';
import { checkInvariants, listRules, type CheckReport } from '../src/domain/invariants.js';
import { archiveOlderThan, parseCutoff } from '../src/domain/archive.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';
import { toDbTime } from '../src/db/values.js';
import { insertId as newId } from '../src/db/dialect.js';

type Ids = Record<string, number>;
interface Plant {
  rule: string;
  name: string;
  plant: (trx: Knex.Transaction, ids: Ids) => Promise<unknown>;
  /** rule → "table:idName" entries expected (idName looked up in the planted ids, or a number). */
  expect: (ids: Ids, extra: Ids) => Record<string, string[]>;
}

/** Violations as { rule: ['table:id', …] } (sorted), to compare exactly. */
function found(report: CheckReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of report.rules) if (r.count > 0) out[r.code] = r.violations.map((v) => `${v.table}:${v.id}`).sort();
  return out;
}
const sorted = (m: Record<string, string[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v].sort()]));

async function planted(knex: Knex, plant: (trx: Knex.Transaction) => Promise<unknown>): Promise<CheckReport> {
  const trx = await knex.transaction();
  try {
    await plant(trx);
    return await checkInvariants(trx, DEFAULT_SETTINGS);
  } finally {
    await trx.rollback();
  }
}

const extra: Ids = {};
const insertId = async (trx: Knex.Transaction, table: string, row: Record<string, unknown>, name: string) => {
  const id = await newId(trx(table).insert(row));
  extra[name] = Number(id);
};
const now = () => toDbTime(new Date());

const LIVE_PLANTS: Plant[] = [
  {
    rule: 'compte_without_profile',
    name: 'a user account without its utilisateur profile',
    plant: async (trx) => {
      const role = (await trx('roles').where({ name: 'user' }).first('id')) as { id: number };
      await insertId(trx, 'comptes', { email: 'lonely@example.fr', password_hash: 'x', role_id: role.id, created_at: now(), updated_at: now() }, 'lonely');
    },
    expect: (_ids, x) => ({ compte_without_profile: [`comptes:${x.lonely}`] }),
  },
  {
    rule: 'compte_with_several_profiles',
    name: 'a user account that also has a transporteur profile',
    plant: (trx, ids) => trx('transporteurs').insert({ compte_id: ids.user1, phone_number: '+33600000009', company_type: 'mixte', created_at: now(), updated_at: now() }),
    expect: (ids) => ({ compte_with_several_profiles: [`comptes:${ids.user1}`] }),
  },
  {
    rule: 'compte_profile_wrong_role',
    name: 'an account moved to the admin role that still has only a utilisateur profile',
    plant: async (trx, ids) => {
      const role = (await trx('roles').where({ name: 'admin' }).first('id')) as { id: number };
      await trx('comptes').where('id', ids.user4).update({ role_id: role.id });
    },
    expect: (ids) => ({ compte_profile_wrong_role: [`comptes:${ids.user4}`] }),
  },
  {
    rule: 'trajet_seats_mismatch',
    name: 'available_seats one short',
    plant: (trx, ids) => trx('trajets').where('id', ids.tLater).update({ available_seats: 49 }),
    expect: (ids) => ({ trajet_seats_mismatch: [`trajets:${ids.tLater}`] }),
  },
  {
    rule: 'trajet_overbooked',
    name: 'a confirmed reservation on a full trajet (available_seats stays 0)',
    plant: async (trx, ids) => {
      await insertId(
        trx,
        'reservations',
        {
          reservation_date: now(),
          passenger_first_name: 'Over',
          passenger_last_name: 'Booked',
          phone_number: '+33612345678',
          status: 'confirmed',
          seats_reserved: 1,
          refundable_option: 0,
          refund_supplement_amount: '0.00',
          total_amount: '9.00',
          trajet_id: ids.tSuspended,
          created_at: now(),
          updated_at: now(),
        },
        'overbooked',
      );
      await trx('paiements').insert({ amount: '9.00', status: 'completed', payment_date: now(), reservation_id: extra.overbooked, created_at: now(), updated_at: now() });
    },
    expect: (ids) => ({ trajet_overbooked: [`trajets:${ids.tSuspended}`], trajet_seats_mismatch: [`trajets:${ids.tSuspended}`] }),
  },
  {
    rule: 'completed_trajet_live_reservation',
    name: 'a confirmed reservation left on a completed trajet (seats consistent)',
    plant: async (trx, ids) => {
      await trx('reservations').where('id', ids.rRecent).update({ status: 'confirmed' });
      await trx('trajets').where('id', ids.tRecentCompleted).update({ available_seats: 1 });
    },
    expect: (ids) => ({ completed_trajet_live_reservation: [`reservations:${ids.rRecent}`] }),
  },
  {
    rule: 'cancelled_trajet_live_reservation',
    name: 'a confirmed, paid reservation left on a cancelled trajet (seats consistent)',
    plant: async (trx, ids) => {
      await trx('reservations').where('id', ids.rOldTrajetCancelled).update({ status: 'confirmed' });
      await trx('paiements').where('id', ids.rOldTrajetCancelledP).update({ status: 'completed' });
      await trx('trajets').where('id', ids.tOldCancelled).update({ available_seats: 5 });
    },
    expect: (ids) => ({ cancelled_trajet_live_reservation: [`reservations:${ids.rOldTrajetCancelled}`] }),
  },
  {
    rule: 'reservation_without_paiement',
    name: 'a reservation whose paiement was deleted',
    plant: (trx, ids) => trx('paiements').where('id', ids.rOldKeptP).del(),
    expect: (ids) => ({ reservation_without_paiement: [`reservations:${ids.rOldKept}`] }),
  },
  {
    rule: 'paiement_amount_mismatch',
    name: 'a paiement one cent short of its reservation total',
    plant: (trx, ids) => trx('paiements').where('id', ids.rSoonConfirmedP).update({ amount: '13.58' }),
    expect: (ids) => ({ paiement_amount_mismatch: [`paiements:${ids.rSoonConfirmedP}`] }),
  },
  {
    rule: 'reservation_paiement_status',
    name: 'a refunded reservation whose paiement says completed',
    plant: (trx, ids) => trx('paiements').where('id', ids.rOldRefundedP).update({ status: 'completed' }),
    expect: (ids) => ({ reservation_paiement_status: [`reservations:${ids.rOldRefunded}`] }),
  },
  {
    rule: 'reservation_paiement_status',
    name: 'a refundable reservation cancelled with its money kept (amounts consistent)',
    plant: async (trx, ids) => {
      await trx('reservations').where('id', ids.rOldKept).update({ refundable_option: 1, refund_supplement_amount: '2.00', total_amount: '22.00' });
      await trx('paiements').where('id', ids.rOldKeptP).update({ amount: '22.00' });
    },
    expect: (ids) => ({ reservation_paiement_status: [`reservations:${ids.rOldKept}`] }),
  },
  {
    rule: 'reservation_total_formula',
    name: 'a 2-seat total that is not 2 × a price (paiement matching)',
    plant: async (trx, ids) => {
      await trx('reservations').where('id', ids.rSoonCancelled).update({ total_amount: '24.71' });
      await trx('paiements').where('id', ids.rSoonCancelledP).update({ amount: '24.71' });
    },
    expect: (ids) => ({ reservation_total_formula: [`reservations:${ids.rSoonCancelled}`] }),
  },
  {
    rule: 'reservation_supplement_formula',
    name: 'a refundable supplement rounded down instead of half up (12.35 × 10% = 1.235 → 1.24)',
    plant: async (trx, ids) => {
      await trx('reservations').where('id', ids.rSoonConfirmed).update({ refund_supplement_amount: '1.23', total_amount: '13.58' });
      await trx('paiements').where('id', ids.rSoonConfirmedP).update({ amount: '13.58' });
    },
    expect: (ids) => ({ reservation_supplement_formula: [`reservations:${ids.rSoonConfirmed}`] }),
  },
  {
    rule: 'reservation_supplement_formula',
    name: 'a supplement charged without the refundable option',
    plant: async (trx, ids) => {
      await trx('reservations').where('id', ids.rOldCancelledFailed).update({ refund_supplement_amount: '0.50', total_amount: '20.50' });
      await trx('paiements').where('id', ids.rOldCancelledFailedP).update({ amount: '20.50' });
    },
    expect: (ids) => ({ reservation_supplement_formula: [`reservations:${ids.rOldCancelledFailed}`] }),
  },
  {
    rule: 'envoi_colis_status',
    name: 'a delivered colis in an envoi still in transit',
    plant: (trx, ids) => trx('colis').where('id', ids.cShipped).update({ status: 'delivered' }),
    expect: (ids) => ({ envoi_colis_status: [`colis:${ids.cShipped}`] }),
  },
  {
    rule: 'colis_shipping_cost',
    name: 'a shipping cost one cent off (10 kg: 5.00 + 15.00)',
    plant: (trx, ids) => trx('colis').where('id', ids.cPending).update({ shipping_cost: '20.01' }),
    expect: (ids) => ({ colis_shipping_cost: [`colis:${ids.cPending}`] }),
  },
  {
    rule: 'envoi_compte_not_expediteur',
    name: "an envoi whose compte is not the expediteur's",
    plant: (trx, ids) => trx('envois').where('id', ids.ePending).update({ compte_id: ids.user2 }),
    expect: (ids) => ({ envoi_compte_not_expediteur: [`envois:${ids.ePending}`] }),
  },
  {
    rule: 'live_and_archived',
    name: 'a reservation and its paiement copied into the archive but not deleted (a half-done archive)',
    plant: async (trx, ids) => {
      const r = (await trx('reservations').where('id', ids.rOldKept).first()) as Record<string, unknown>;
      const p = (await trx('paiements').where('id', ids.rOldKeptP).first()) as Record<string, unknown>;
      await trx('reservations_archive').insert({ ...r, archived_at: now() });
      await trx('paiements_archive').insert({ ...p, archived_at: now() });
    },
    expect: (ids) => ({ live_and_archived: [`reservations:${ids.rOldKept}`, `paiements:${ids.rOldKeptP}`] }),
  },
];

/** Planted in the archive tables, after archiving everything older than 18 months. */
const ARCHIVE_PLANTS: Plant[] = [
  {
    rule: 'archived_reservation_without_paiement',
    name: "an archived reservation whose archived paiement is gone",
    plant: (trx, ids) => trx('paiements_archive').where('reservation_id', ids.rOldKept).del(),
    expect: (ids) => ({ archived_reservation_without_paiement: [`reservations_archive:${ids.rOldKept}`] }),
  },
  {
    rule: 'archived_paiement_amount_mismatch',
    name: 'an archived paiement that differs from its archived reservation',
    plant: (trx, ids) => trx('paiements_archive').where('id', ids.rOldCompletedP).update({ amount: '40.00' }),
    expect: (ids) => ({ archived_paiement_amount_mismatch: [`paiements_archive:${ids.rOldCompletedP}`] }),
  },
  {
    rule: 'archived_reservation_paiement_status',
    name: 'an archived refunded reservation whose paiement failed',
    plant: (trx, ids) => trx('paiements_archive').where('id', ids.rOldRefundedP).update({ status: 'failed' }),
    expect: (ids) => ({ archived_reservation_paiement_status: [`reservations_archive:${ids.rOldRefunded}`] }),
  },
  {
    rule: 'archived_reservation_total_formula',
    name: 'an archived 2-seat total that is not 2 × a price',
    plant: async (trx, ids) => {
      await trx('reservations_archive').where('id', ids.rOldCompleted).update({ total_amount: '44.01' });
      await trx('paiements_archive').where('id', ids.rOldCompletedP).update({ amount: '44.01' });
    },
    expect: (ids) => ({ archived_reservation_total_formula: [`reservations_archive:${ids.rOldCompleted}`] }),
  },
  {
    rule: 'archived_reservation_supplement_formula',
    name: 'an archived supplement one cent off',
    plant: async (trx, ids) => {
      await trx('reservations_archive').where('id', ids.rOldRefunded).update({ refund_supplement_amount: '2.01', total_amount: '22.01' });
      await trx('paiements_archive').where('id', ids.rOldRefundedP).update({ amount: '22.01' });
    },
    expect: (ids) => ({ archived_reservation_supplement_formula: [`reservations_archive:${ids.rOldRefunded}`] }),
  },
  {
    rule: 'archived_envoi_colis_status',
    name: 'a shipped colis in an archived cancelled envoi',
    plant: (trx, ids) => trx('colis_archive').where('id', ids.cOldPending).update({ status: 'shipped' }),
    expect: (ids) => ({ archived_envoi_colis_status: [`colis_archive:${ids.cOldPending}`] }),
  },
  {
    rule: 'archived_colis_shipping_cost',
    name: 'an archived shipping cost one cent off (2.5 kg: 5.00 + 3.75)',
    plant: (trx, ids) => trx('colis_archive').where('id', ids.cOldDelivered).update({ shipping_cost: '8.76' }),
    expect: (ids) => ({ archived_colis_shipping_cost: [`colis_archive:${ids.cOldDelivered}`] }),
  },
  {
    rule: 'archived_envoi_compte_not_expediteur',
    name: "an archived envoi whose compte is not the expediteur's",
    plant: (trx, ids) => trx('envois_archive').where('id', ids.eOldDelivered).update({ compte_id: ids.user3 }),
    expect: (ids) => ({ archived_envoi_compte_not_expediteur: [`envois_archive:${ids.eOldDelivered}`] }),
  },
];

describe('the rule list', () => {
  it('has a planted violation here for every rule the database does not enforce itself', () => {
    const plantable = listRules().filter((r) => !r.alsoEnforcedBy).map((r) => r.code);
    const covered = new Set([...LIVE_PLANTS, ...ARCHIVE_PLANTS].map((p) => p.rule));
    expect(plantable.filter((c) => !covered.has(c))).toEqual([]);
    expect([...covered].filter((c) => !plantable.includes(c))).toEqual([]);
  });

  it('has unique codes', () => {
    const codes = listRules().map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe.each(testedKinds())('maintenance check rules on %s', (kind) => {
  let db: TestDb;
  let p: Planted;
  beforeAll(async () => {
    db = await createTestDb(kind);
    p = await plantPlatform(db.knex);
  });
  afterAll(async () => db?.drop());

  it('finds nothing on the consistent platform', async () => {
    const report = await checkInvariants(db.knex, DEFAULT_SETTINGS);
    expect(found(report)).toEqual({});
    expect(report.clean).toBe(true);
    expect(report.rules.length).toBe(listRules().length);
  });

  it.each(LIVE_PLANTS.map((x) => [x.rule, x.name, x] as const))('%s: %s', async (_rule, _name, plant) => {
    const report = await planted(db.knex, (trx) => plant.plant(trx, p.ids));
    expect(found(report)).toEqual(sorted(plant.expect(p.ids, extra)));
    expect(report.clean).toBe(false);
  });

  it('counts every violation but lists at most --limit of them', async () => {
    const trx = await db.knex.transaction();
    try {
      await trx('colis').update({ shipping_cost: '99.99' });
      const report = await checkInvariants(trx, DEFAULT_SETTINGS, { limit: 2, only: ['colis_shipping_cost'] });
      expect(report.rules).toHaveLength(1);
      expect(report.rules[0]!.count).toBe(8);
      expect(report.rules[0]!.violations.map((v) => v.id)).toEqual([p.ids.cOldDelivered, p.ids.cOldLost]);
      expect(report.violationCount).toBe(8);
    } finally {
      await trx.rollback();
    }
  });

  it('checks amounts with the settings it is given (and says which)', async () => {
    const report = await checkInvariants(db.knex, { ...DEFAULT_SETTINGS, colisBaseCents: 600 }, { only: ['colis_shipping_cost'] });
    expect(report.rules[0]!.count).toBe(8);
    expect(report.settings.colisBaseCents).toBe(600);
    const rate = await checkInvariants(db.knex, { ...DEFAULT_SETTINGS, refundRateBp: 1500 }, { only: ['reservation_supplement_formula'] });
    // Every live refundable reservation: rOldCompleted, rOldRefunded, rSoonConfirmed, rSoonRefunded, rRecent.
    expect(rate.rules[0]!.violations.map((v) => v.id).sort((a, b) => a - b)).toEqual(
      [p.ids.rOldCompleted!, p.ids.rOldRefunded!, p.ids.rSoonConfirmed!, p.ids.rSoonRefunded!, p.ids.rRecent!].sort((a, b) => a - b),
    );
  });

  describe('over the archive', () => {
    beforeAll(async () => {
      await archiveOlderThan(db.knex, { cutoff: parseCutoff('18mo', p.now), batchSize: 4, actor: 'test' });
    });

    it('finds nothing after archiving (archived records are whole and consistent)', async () => {
      expect(Number(((await db.knex('reservations_archive').count({ n: '*' }).first()) as { n: number }).n)).toBe(p.oldReservations.length);
      expect(found(await checkInvariants(db.knex, DEFAULT_SETTINGS))).toEqual({});
    });

    it.each(ARCHIVE_PLANTS.map((x) => [x.rule, x.name, x] as const))('%s: %s', async (_rule, _name, plant) => {
      const report = await planted(db.knex, (trx) => plant.plant(trx, p.ids));
      expect(found(report)).toEqual(sorted(plant.expect(p.ids, extra)));
    });
  });
});
