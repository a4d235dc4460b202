/**
 * Envois and colis against real MariaDB and SQLite, at the domain level: creation (cost, compte,
 * dimensions), who may send and carry, every envoi verb from every status, mark-lost and update
 * from every colis status, totals, listing. Refusals leave the database unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { ENVOI_TABLES, makeTransporteur, makeUtilisateur, type Party } from './envois-fixtures.js';
import {
  createEnvoi,
  ENVOI_TRANSITIONS,
  getEnvoi,
  listEnvois,
  moveEnvoi,
  parseColisSpec,
  type ColisInput,
} from '../src/domain/envois.js';
import { getColis, listColis, markColisLost, updateColis } from '../src/domain/colis.js';
import { ENVOI_STATUSES, COLIS_STATUSES, type ColisStatus, type EnvoiStatus } from '../src/db/schema.js';
import { Conflict, InvalidInput, NotFound } from '../src/domain/errors.js';
import { colisShippingCents } from '../src/domain/money.js';
import { centsToDecimal } from '../src/db/values.js';
import { connect } from '../src/db/connection.js';
import { run } from './helpers/cli.js';

const RATES = { baseCents: 500, perKgCents: 150 };
const THREE: ColisInput[] = [
  parseColisSpec('Livres:2.5:30x20x10', 1),
  parseColisSpec('Vaisselle:4', 2),
  parseColisSpec('Lampe:1.25:40 x 25 x 25', 3),
];

describe.each(testedKinds())('envois and colis on %s', (kind) => {
  let db: TestDb;
  let k: Knex;
  let sender: Party;
  let carrier: Party;

  beforeAll(async () => {
    db = await createTestDb(kind);
    k = db.knex;
    sender = await makeUtilisateur(k, { email: 'jeanne@example.fr', firstName: 'Jeanne', lastName: 'Dupont' });
    carrier = await makeTransporteur(k, { email: 'loire@example.fr', companyName: 'Transports Loire', companyType: 'mixte' });
  });
  afterAll(async () => db?.drop());

  const create = (o: Partial<{ expediteur: string; transporteur: string; colis: ColisInput[]; phone: string }> = {}) =>
    k.transaction((trx) =>
      createEnvoi(
        trx,
        {
          expediteur: o.expediteur ?? String(sender.compteId),
          transporteur: o.transporteur ?? String(carrier.compteId),
          description: 'Cartons',
          recipientName: 'Paul Martin',
          recipientPhone: o.phone ?? '06 12 34 56 78',
          colis: o.colis ?? THREE,
        },
        RATES,
      ),
    );
  const move = (id: number, to: EnvoiStatus) => k.transaction((trx) => moveEnvoi(trx, id, to));
  /** The real binary; rejects with "exit N: stderr" unless it exits 0. */
  const cli = async (args: string[]) => {
    const r = await run(args, { url: db.url });
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim()}`);
    return r;
  };

  /** An envoi brought to `status` through the verbs (lost colis first when asked). */
  async function envoiIn(status: EnvoiStatus, o: { loseFirst?: boolean } = {}): Promise<number> {
    const e = await create();
    const path: Record<EnvoiStatus, EnvoiStatus[]> = {
      pending: [],
      accepted: ['accepted'],
      in_transit: ['accepted', 'in_transit'],
      delivered: ['accepted', 'in_transit', 'delivered'],
      cancelled: ['cancelled'],
    };
    for (const s of path[status]) {
      await move(e.id, s);
      if (o.loseFirst && s === 'accepted') await k.transaction((trx) => markColisLost(trx, e.colis[0]!.id));
    }
    return e.id;
  }

  it('creates the envoi and its colis: computed costs, normalised dimensions and phone, sender compte', async () => {
    const e = await create();
    expect(e.status).toBe('pending');
    expect(e.compte_id).toBe(sender.compteId);
    expect(e.expediteur).toMatchObject({ id: sender.id, email: 'jeanne@example.fr', first_name: 'Jeanne' });
    expect(e.transporteur).toMatchObject({ id: carrier.id, company_name: 'Transports Loire', company_type: 'mixte' });
    expect(e.recipient_phone).toBe('+33612345678');
    expect(e.colis.map((c) => [c.description, c.weight, c.dimensions, c.shipping_cost, c.status])).toEqual([
      ['Livres', '2.50', '30x20x10', '8.75', 'pending'],
      ['Vaisselle', '4.00', null, '11.00', 'pending'],
      ['Lampe', '1.25', '40x25x25', '6.88', 'pending'], // 5.00 + 1.875 → 6.88 (half up)
    ]);
    expect(e.totals).toMatchObject({ colis: 3, weight: '7.75', shipping_cost: '26.63' });
    // The stored values, as another program would read them.
    const rows = (await k('colis').where({ envoi_id: e.id }).orderBy('id')) as Array<{ shipping_cost: string | number }>;
    expect(rows.map((r) => Number(r.shipping_cost))).toEqual([8.75, 11, 6.88]);
  });

  it('finds the parties by email too, and uses the configured rates', async () => {
    const e = await k.transaction((trx) =>
      createEnvoi(
        trx,
        {
          expediteur: 'JEANNE@example.fr',
          transporteur: 'loire@example.fr',
          description: 'x',
          recipientName: 'y',
          recipientPhone: '+4915112345678',
          colis: [parseColisSpec('Colis:0.01', 1)],
        },
        { baseCents: 1000, perKgCents: 333 },
      ),
    );
    expect(e.colis[0]!.shipping_cost).toBe(centsToDecimal(colisShippingCents(1, 1000, 333)));
    expect(e.colis[0]!.shipping_cost).toBe('10.03');
  });

  describe('refusals change nothing', () => {
    const cases: Array<[string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp]> = [];
    let inactive: Party;
    let suspendedCarrier: Party;
    let passagers: Party;
    beforeAll(async () => {
      inactive = await makeUtilisateur(k, { status: 'suspended' });
      suspendedCarrier = await makeTransporteur(k, { status: 'inactive' });
      passagers = await makeTransporteur(k, { companyType: 'passagers', companyName: 'Cars Centre' });
    });
    cases.push(
      ['unknown sender id', () => create({ expediteur: '9999' }), NotFound, /no account with id 9999/],
      ['unknown sender email', () => create({ expediteur: 'nobody@example.fr' }), NotFound, /no account with email nobody@example.fr/],
      ['a carrier given as the sender', () => create({ expediteur: 'loire@example.fr' }), NotFound, /is not a utilisateur/],
      ['inactive sender', () => create({ expediteur: String(inactive.compteId) }), InvalidInput, /account is suspended, only active utilisateurs/],
      ['unknown carrier', () => create({ transporteur: '9999' }), NotFound, /no account with id 9999/],
      ['inactive carrier', () => create({ transporteur: String(suspendedCarrier.compteId) }), InvalidInput, /its account is inactive/],
      ['carrier of passengers only', () => create({ transporteur: String(passagers.compteId) }), InvalidInput, /does not carry parcels \(company_type passagers\)/],
      ['empty colis list', () => create({ colis: [] }), InvalidInput, /at least one colis/],
      ['bad recipient phone', () => create({ phone: '12' }), InvalidInput, /--recipient-phone "12" is not a phone number/],
    );
    it.each(cases.map((c) => [c[0], c] as const))('%s', async (_name, [, fn, type, msg]) => {
      const before = await snapshot(k, ENVOI_TABLES);
      const err = await fn().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(msg);
      expect(await snapshot(k, ENVOI_TABLES)).toEqual(before);
    });
  });

  describe('every envoi verb from every status', () => {
    const pairs = ENVOI_STATUSES.flatMap((from) =>
      (['accepted', 'in_transit', 'delivered', 'cancelled'] as EnvoiStatus[]).map((to) => [from, to] as const),
    );
    it.each(pairs)('%s → %s', async (from, to) => {
      const id = await envoiIn(from);
      if (ENVOI_TRANSITIONS[from].includes(to)) {
        const r = await move(id, to);
        expect(r.from).toBe(from);
        expect(r.envoi.status).toBe(to);
        const expected: Record<EnvoiStatus, ColisStatus> = {
          pending: 'pending',
          accepted: 'packaged',
          in_transit: 'shipped',
          delivered: 'delivered',
          cancelled: from === 'accepted' ? 'packaged' : 'pending',
        };
        expect(r.envoi.colis.map((c) => c.status)).toEqual([expected[to], expected[to], expected[to]]);
      } else {
        const before = await snapshot(k, ['envois', 'colis']);
        const err = await move(id, to).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Conflict);
        expect((err as Error).message).toContain(`envoi ${id} is ${from}`);
        expect((err as Conflict).details).toMatchObject({ current: from, wanted: to });
        expect(await snapshot(k, ['envois', 'colis'])).toEqual(before);
      }
    });
  });

  it('lost colis stay lost through ship and deliver, and count in the totals', async () => {
    const id = await envoiIn('accepted');
    const e0 = await getEnvoi(k, id);
    const lost = e0.colis[1]!;
    const r = await k.transaction((trx) => markColisLost(trx, lost.id));
    expect(r.before.status).toBe('packaged');
    expect(r.after.status).toBe('lost');
    const shipped = await move(id, 'in_transit');
    expect(shipped.colisMoved).toEqual({ shipped: 2 });
    expect(shipped.colisLost).toBe(1);
    const delivered = await move(id, 'delivered');
    expect(delivered.envoi.colis.map((c) => c.status)).toEqual(['delivered', 'lost', 'delivered']);
    expect(delivered.envoi.totals).toMatchObject({
      colis: 3,
      weight: '7.75',
      shipping_cost: '26.63',
      by_status: {
        delivered: { colis: 2, weight: '3.75', shipping_cost: '15.63' },
        lost: { colis: 1, weight: '4.00', shipping_cost: '11.00' },
      },
    });
  });

  it('a cancelled accepted envoi keeps its packaged and lost colis', async () => {
    const id = await envoiIn('accepted', { loseFirst: true });
    const r = await move(id, 'cancelled');
    expect(r.envoi.colis.map((c) => c.status)).toEqual(['lost', 'packaged', 'packaged']);
  });

  describe('mark-lost from every colis status', () => {
    const cases: Array<[ColisStatus, EnvoiStatus, boolean]> = [
      ['pending', 'pending', false],
      ['packaged', 'accepted', true],
      ['shipped', 'in_transit', true],
      ['delivered', 'delivered', false],
      ['lost', 'accepted', false],
      ['packaged', 'cancelled', false],
    ];
    it.each(cases)('colis %s (envoi %s): allowed %s', async (colisStatus, envoiStatus, allowed) => {
      let id: number;
      if (envoiStatus === 'cancelled') {
        id = await envoiIn('accepted');
        await move(id, 'cancelled');
      } else {
        id = await envoiIn(envoiStatus, { loseFirst: colisStatus === 'lost' });
      }
      const c = (await getEnvoi(k, id)).colis[0]!;
      expect(c.status).toBe(colisStatus);
      const before = await snapshot(k, ['envois', 'colis']);
      const run = k.transaction((trx) => markColisLost(trx, c.id));
      if (allowed) {
        expect((await run).after.status).toBe('lost');
      } else {
        const err = await run.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Conflict);
        expect((err as Error).message).toMatch(new RegExp(`colis ${c.id} (is ${colisStatus}|belongs to envoi ${id}, which is cancelled)`));
        expect(await snapshot(k, ['envois', 'colis'])).toEqual(before);
      }
    });
  });

  it('colis update recomputes the cost while pending, and is refused afterwards', async () => {
    const e = await create();
    const c = e.colis[1]!;
    const r = await k.transaction((trx) => updateColis(trx, c.id, { weight: 1000, dimensions: '50x40x30' }, RATES));
    expect(r.before).toMatchObject({ weight: '4.00', shipping_cost: '11.00', dimensions: null });
    expect(r.after).toMatchObject({ weight: '10.00', shipping_cost: '20.00', dimensions: '50x40x30' });
    const d = await k.transaction((trx) => updateColis(trx, c.id, { dimensions: null, description: 'Assiettes' }, RATES));
    expect(d.after).toMatchObject({ description: 'Assiettes', dimensions: null, weight: '10.00' });
    expect((await getEnvoi(k, e.id)).totals.shipping_cost).toBe('35.63');

    await expect(k.transaction((trx) => updateColis(trx, c.id, {}, RATES))).rejects.toThrow(/nothing to update/);
    await move(e.id, 'accepted');
    const before = await snapshot(k, ['colis']);
    const err = await k.transaction((trx) => updateColis(trx, c.id, { weight: 100 }, RATES)).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(Conflict);
    expect((err as Error).message).toMatch(/is packaged \(envoi \d+ is accepted\): a colis can only be changed while it and its envoi are pending/);
    expect(await snapshot(k, ['colis'])).toEqual(before);
    await expect(k.transaction((trx) => updateColis(trx, 999999, { weight: 100 }, RATES))).rejects.toThrow(NotFound);
  });

  it('lists envois with filters, totals and keyset pagination; colis by envoi and status', async () => {
    const other = await makeUtilisateur(k, { email: 'other@example.fr' });
    const a = await create({ expediteur: String(other.compteId) });
    const b = await create({ expediteur: String(other.compteId) });
    await move(b.id, 'accepted');

    const mine = await listEnvois(k, { expediteur: 'other@example.fr', limit: 10 });
    expect(mine.map((r) => r.id)).toEqual([b.id, a.id]); // newest first by default
    expect(mine[0]).toMatchObject({
      status: 'accepted',
      expediteur_email: 'other@example.fr',
      transporteur_name: 'Transports Loire',
      colis_count: 3,
      lost_count: 0,
      total_weight: '7.75',
      total_shipping_cost: '26.63',
    });
    expect((await listEnvois(k, { expediteur: String(other.compteId), sort: 'id', limit: 1 })).map((r) => r.id)).toEqual([a.id]);
    expect((await listEnvois(k, { expediteur: String(other.compteId), sort: 'id', limit: 5, after: a.id })).map((r) => r.id)).toEqual([b.id]);
    expect((await listEnvois(k, { expediteur: String(other.compteId), limit: 5, after: b.id })).map((r) => r.id)).toEqual([a.id]);
    expect((await listEnvois(k, { expediteur: String(other.compteId), status: 'pending', limit: 5 })).map((r) => r.id)).toEqual([a.id]);
    const all = await listEnvois(k, { transporteur: 'loire@example.fr', limit: 1000 });
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(await listEnvois(k, { since: new Date(Date.now() + 86_400_000), limit: 5 })).toEqual([]);
    await expect(listEnvois(k, { transporteur: '424242', limit: 5 })).rejects.toThrow(NotFound);

    const colis = await listColis(k, { envoiId: b.id, limit: 10 });
    expect(colis.map((c) => c.status)).toEqual(['packaged', 'packaged', 'packaged']);
    expect((await listColis(k, { envoiId: b.id, limit: 10, after: colis[0]!.id })).length).toBe(2);
    const packaged = await listColis(k, { status: 'packaged', limit: 10000 });
    expect(packaged.every((c) => c.status === 'packaged')).toBe(true);
    await expect(listColis(k, { envoiId: 999999, limit: 5 })).rejects.toThrow(/no envoi with id 999999/);

    const shown = await getColis(k, colis[0]!.id);
    expect(shown.envoi).toMatchObject({ id: b.id, status: 'accepted', transporteur_id: carrier.id });
    await expect(getEnvoi(k, 999999)).rejects.toThrow(NotFound);
  });

  it('concurrent ship / mark-lost / cancel keep envois and colis consistent', async () => {
    // MySQL: two connections of this process race. SQLite: one process would block on its own
    // lock, so two real processes race instead (each retries a stale snapshot from the start).
    const other = kind === 'mysql' ? await connect(db.target) : undefined;
    const ship = (id: number) =>
      other ? k.transaction((trx) => moveEnvoi(trx, id, 'in_transit')) : cli(['envois', 'ship', String(id)]);
    const lose = (colisId: number) =>
      other ? other.transaction((trx) => markColisLost(trx, colisId)) : cli(['colis', 'mark-lost', String(colisId), '--yes']);
    const cancel = (id: number) =>
      other ? other.transaction((trx) => moveEnvoi(trx, id, 'cancelled')) : cli(['envois', 'cancel', String(id), '--yes']);
    try {
      const ids: number[] = [];
      for (let i = 0; i < (other ? 6 : 2); i++) ids.push(await envoiIn('accepted'));
      const firstColis = new Map<number, number>();
      for (const id of ids) firstColis.set(id, (await getEnvoi(k, id)).colis[0]!.id);
      const outcomes = await Promise.all(
        ids.flatMap((id) => [
          ship(id).then(() => 'ship', (e: unknown) => e),
          lose(firstColis.get(id)!).then(() => 'lost', (e: unknown) => e),
        ]),
      );
      // Both orders are legal: ship then lose a shipped colis, or lose a packaged one then ship.
      expect(outcomes.filter((o) => o === 'ship')).toHaveLength(ids.length);
      expect(outcomes.filter((o) => o === 'lost')).toHaveLength(ids.length);
      for (const id of ids) {
        const e = await getEnvoi(k, id);
        expect(e.status).toBe('in_transit');
        expect(e.colis.map((c) => c.status)).toEqual(['lost', 'shipped', 'shipped']);
      }
      // ship and cancel of the same accepted envoi: exactly one wins, the other is a conflict.
      const id = await envoiIn('accepted');
      const race = await Promise.all([ship(id).then(() => 'ok', (e: unknown) => e), cancel(id).then(() => 'ok', (e: unknown) => e)]);
      expect(race.filter((r) => r === 'ok')).toHaveLength(1);
      const loser = race.find((r) => r !== 'ok');
      if (other) expect(loser).toBeInstanceOf(Conflict);
      else expect(String(loser)).toMatch(/exit 4: error: envoi \d+ is (in_transit|cancelled)/);
      const final = await getEnvoi(k, id);
      expect(final.colis.map((c) => c.status)).toEqual(
        final.status === 'cancelled' ? ['packaged', 'packaged', 'packaged'] : ['shipped', 'shipped', 'shipped'],
      );
    } finally {
      await other?.destroy();
    }
  });

  it('every envoi it made is consistent (colis statuses allowed for the envoi status)', async () => {
    const { COLIS_STATUSES_OF_ENVOI } = await import('../src/domain/envois.js');
    const rows = (await k('colis as c').join('envois as e', 'e.id', 'c.envoi_id').select('e.status as es', 'c.status as cs')) as Array<{
      es: EnvoiStatus;
      cs: ColisStatus;
    }>;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(COLIS_STATUSES_OF_ENVOI[r.es]).toContain(r.cs);
    expect(COLIS_STATUSES).toHaveLength(5);
  });
});
