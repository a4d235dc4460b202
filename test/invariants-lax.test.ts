/**
 * The rules that the database ALSO enforces (foreign keys, CHECK constraints, the archive's final
 * statuses). With everything on, the database refuses each planted row — that is checked first.
 * `maintenance check` still verifies them because a database can hold such rows anyway: a server
 * that ignores CHECKs (MySQL < 8.0.16), a dump loaded with FOREIGN_KEY_CHECKS=0 (mysqldump files
 * set it), SQLite opened without `PRAGMA foreign_keys`. To prove the rules find those rows, each is
 * planted once more on a session that simulates such a server (MariaDB: check_constraint_checks=0,
 * foreign_key_checks=0; SQLite: ignore_check_constraints, foreign_keys off), in a transaction rolled
 * back afterwards.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { plantPlatform, type Planted } from './maintenance-fixtures.js';
import { checkInvariants, listRules, type CheckReport } from '../src/domain/invariants.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';
import { toDbTime } from '../src/db/values.js';
import { insertId, rawRows } from '../src/db/dialect.js';

type Ids = Record<string, number>;
const now = () => toDbTime(new Date());
const ts = () => ({ created_at: now(), updated_at: now() });
const MISSING = 999_999;

interface LaxPlant {
  rule: string;
  plant: (trx: Knex.Transaction, ids: Ids) => Promise<number | void>;
  /** Expected violations; `planted` is the id returned by plant() when it inserted a row. */
  expect: (ids: Ids, planted: number) => Record<string, string[]>;
}

const PLANTS: LaxPlant[] = [
  {
    rule: 'profile_without_compte',
    plant: async (trx) => insertId(trx('utilisateurs').insert({ compte_id: MISSING, first_name: 'Or', last_name: 'Phan', phone_number: '+33600000000', ...ts() })),
    expect: (_i, id) => ({ profile_without_compte: [`utilisateurs:${id}`] }),
  },
  {
    rule: 'paiement_without_reservation',
    plant: async (trx) => insertId(trx('paiements').insert({ amount: '1.00', status: 'pending', payment_date: now(), reservation_id: MISSING, ...ts() })),
    expect: (_i, id) => ({ paiement_without_reservation: [`paiements:${id}`] }),
  },
  {
    rule: 'colis_without_envoi',
    plant: async (trx) =>
      insertId(trx('colis').insert({ description: 'x', weight: '1.00', shipping_cost: '6.50', status: 'pending', envoi_id: MISSING, ...ts() })),
    expect: (_i, id) => ({ colis_without_envoi: [`colis:${id}`] }),
  },
  {
    rule: 'archived_paiement_without_reservation',
    plant: async (trx) => {
      await trx('paiements_archive').insert({ id: 5000, amount: '1.00', status: 'failed', payment_date: now(), reservation_id: MISSING, ...ts(), archived_at: now() });
      return 5000;
    },
    expect: (_i, id) => ({ archived_paiement_without_reservation: [`paiements_archive:${id}`] }),
  },
  {
    rule: 'archived_colis_without_envoi',
    plant: async (trx) => {
      await trx('colis_archive').insert({ id: 5000, description: 'x', weight: '1.00', shipping_cost: '6.50', status: 'delivered', envoi_id: MISSING, ...ts(), archived_at: now() });
      return 5000;
    },
    expect: (_i, id) => ({ archived_colis_without_envoi: [`colis_archive:${id}`] }),
  },
  {
    rule: 'archived_reservation_not_final',
    plant: async (trx, ids) => {
      await trx('reservations_archive').insert({
        id: 5000,
        reservation_date: now(),
        passenger_first_name: 'A',
        passenger_last_name: 'B',
        phone_number: '+33612345678',
        status: 'confirmed',
        seats_reserved: 1,
        refundable_option: 0,
        refund_supplement_amount: '0.00',
        total_amount: '9.00',
        trajet_id: ids.tSuspended,
        compte_id: null,
        ...ts(),
        archived_at: now(),
      });
      await trx('paiements_archive').insert({ id: 5000, amount: '9.00', status: 'completed', payment_date: now(), reservation_id: 5000, ...ts(), archived_at: now() });
      return 5000;
    },
    expect: (_i, id) => ({ archived_reservation_not_final: [`reservations_archive:${id}`] }),
  },
  {
    rule: 'archived_envoi_not_final',
    plant: async (trx, ids) => {
      await trx('envois_archive').insert({
        id: 5000,
        description: 'x',
        status: 'pending',
        expediteur_id: ids.user1U,
        recipient_name: 'D',
        recipient_phone: '+33699999999',
        transporteur_id: ids.carrier2T,
        compte_id: ids.user1,
        ...ts(),
        archived_at: now(),
      });
      return 5000;
    },
    expect: (_i, id) => ({ archived_envoi_not_final: [`envois_archive:${id}`] }),
  },
  {
    rule: 'check_comptes',
    plant: (trx, ids) => trx('comptes').where('id', ids.user3).update({ failed_logins: -1 }),
    expect: (ids) => ({ check_comptes: [`comptes:${ids.user3}`] }),
  },
  {
    rule: 'check_transporteurs',
    plant: (trx, ids) => trx('transporteurs').where('id', ids.carrier2T).update({ company_type: 'bus' }),
    expect: (ids) => ({ check_transporteurs: [`transporteurs:${ids.carrier2T}`] }),
  },
  {
    rule: 'check_trajets',
    plant: (trx, ids) => trx('trajets').where('id', ids.tLater).update({ price: '-1.00' }),
    expect: (ids) => ({ check_trajets: [`trajets:${ids.tLater}`] }),
  },
  {
    rule: 'check_reservations',
    plant: (trx, ids) => trx('reservations').where('id', ids.rSoonCancelled).update({ seats_reserved: 0 }),
    expect: (ids) => ({ check_reservations: [`reservations:${ids.rSoonCancelled}`] }),
  },
  {
    rule: 'check_paiements',
    plant: (trx, ids) => trx('paiements').where('id', ids.rSoonCancelledP).update({ status: 'lost' }),
    // An unknown paiement status is also not an allowed (reservation, paiement) pair.
    expect: (ids) => ({ check_paiements: [`paiements:${ids.rSoonCancelledP}`], reservation_paiement_status: [`reservations:${ids.rSoonCancelled}`] }),
  },
  {
    rule: 'check_envois',
    plant: (trx, ids) => trx('envois').where('id', ids.ePending).update({ status: 'lost' }),
    expect: (ids) => ({ check_envois: [`envois:${ids.ePending}`], envoi_colis_status: [`colis:${ids.cPending}`] }),
  },
  {
    rule: 'check_colis',
    plant: (trx, ids) => trx('colis').where('id', ids.cPending).update({ weight: '-1.00' }),
    expect: (ids) => ({ check_colis: [`colis:${ids.cPending}`] }),
  },
  {
    rule: 'check_zones_desservies',
    plant: (trx, ids) => trx('zones_desservies').where('id', ids.zone1).update({ zone_type: 'air' }),
    expect: (ids) => ({ check_zones_desservies: [`zones_desservies:${ids.zone1}`] }),
  },
];

function found(report: CheckReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of report.rules) if (r.count > 0) out[r.code] = r.violations.map((v) => `${v.table}:${v.id}`).sort();
  return out;
}

describe('the rule list', () => {
  it('has a lax-server plant here for every rule the database also enforces', () => {
    const enforced = listRules().filter((r) => r.alsoEnforcedBy).map((r) => r.code);
    expect(enforced.sort()).toEqual(PLANTS.map((p) => p.rule).sort());
  });
});

/**
 * PostgreSQL has no session switch for CHECKs and foreign keys: the lax server is the same one with
 * them dropped inside the transaction, which the rollback puts back (DDL is transactional there).
 */
async function dropConstraints(trx: Knex.Transaction): Promise<void> {
  const rows = await rawRows<{ t: string; c: string }>(
    trx,
    "select conrelid::regclass::text as t, conname as c from pg_constraint where contype in ('c', 'f') and connamespace = current_schema()::regnamespace",
  );
  for (const r of rows) await trx.raw('ALTER TABLE ?? DROP CONSTRAINT ??', [r.t, r.c]);
}

describe.each(testedKinds())('rules also enforced by the database, on %s', (kind) => {
  let db: TestDb;
  let p: Planted;
  beforeAll(async () => {
    db = await createTestDb(kind);
    p = await plantPlatform(db.knex);
  });
  afterAll(async () => db?.drop());

  /** Runs plant + check in a transaction rolled back, optionally on a lax session. */
  async function attempt(plant: LaxPlant, lax: boolean): Promise<{ report: CheckReport; id: number }> {
    if (lax && kind === 'sqlite') await db.knex.raw('PRAGMA foreign_keys = OFF');
    const trx = await db.knex.transaction();
    try {
      if (lax) {
        if (kind === 'mysql') await trx.raw('SET SESSION check_constraint_checks = 0, foreign_key_checks = 0');
        else if (kind === 'postgres') await dropConstraints(trx);
        else await trx.raw('PRAGMA ignore_check_constraints = ON');
      }
      const id = Number((await plant.plant(trx, p.ids)) ?? 0);
      return { report: await checkInvariants(trx, DEFAULT_SETTINGS), id };
    } finally {
      if (kind === 'mysql') await trx.raw('SET SESSION check_constraint_checks = 1, foreign_key_checks = 1');
      else if (kind === 'sqlite') await trx.raw('PRAGMA ignore_check_constraints = OFF');
      await trx.rollback();
      if (kind === 'sqlite') await db.knex.raw('PRAGMA foreign_keys = ON');
    }
  }

  it.each(PLANTS.map((x) => [x.rule, x] as const))('%s: refused by the database, found by check on a lax server', async (_rule, plant) => {
    await expect(attempt(plant, false)).rejects.toThrow(/constraint|foreign key|CHECK/i);
    const { report, id } = await attempt(plant, true);
    expect(found(report)).toEqual(
      Object.fromEntries(Object.entries(plant.expect(p.ids, id)).map(([k, v]) => [k, [...v].sort()])),
    );
    // Nothing left behind on the shared database.
    expect(found(await checkInvariants(db.knex, DEFAULT_SETTINGS))).toEqual({});
  });
});
