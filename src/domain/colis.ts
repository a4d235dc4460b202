/**
 * The colis of an envoi, one at a time: show, list, mark lost, correct weight/dimensions while the
 * envoi is still pending. The state machine and the cost rule live in src/domain/envois.ts.
 * Locking order as there: the envoi row first, then the colis.
 */
import type { Knex } from 'knex';
import type { ColisStatus, EnvoiStatus } from '../db/schema.js';
import type { ColisRow, EnvoiRow } from '../db/rows.js';
import { centsToDecimal, toCents, toDbTime } from '../db/values.js';
import { Conflict, InvalidInput, NotFound } from './errors.js';
import { canMoveColis, colisView, COLIS_TRANSITIONS, type ColisRates, type ColisView } from './envois.js';
import { colisShippingCents } from './money.js';
import { parseId, requireText } from './validate.js';

type Db = Knex | Knex.Transaction;

export interface ColisDetail extends ColisView {
  envoi: { id: number; status: EnvoiStatus; transporteur_id: number; expediteur_id: number };
}

export async function getColis(db: Db, idRef: number | string): Promise<ColisDetail> {
  const id = parseId(idRef, 'colis');
  const c = (await db<ColisRow>('colis').where({ id }).first()) as ColisRow | undefined;
  if (!c) throw new NotFound(`no colis with id ${id}`, { code: 'colis_not_found' });
  const e = (await db<EnvoiRow>('envois').where({ id: c.envoi_id }).first()) as EnvoiRow;
  return {
    ...colisView(c),
    envoi: { id: e.id, status: e.status, transporteur_id: e.transporteur_id, expediteur_id: e.expediteur_id },
  };
}

export interface ColisQuery {
  envoiId?: number;
  status?: ColisStatus;
  limit: number;
  after?: number;
}

/** Oldest first; keyset on id. */
export async function listColis(db: Db, q: ColisQuery): Promise<ColisView[]> {
  if (q.envoiId !== undefined && !(await db('envois').where({ id: q.envoiId }).first('id'))) {
    throw new NotFound(`no envoi with id ${q.envoiId}`, { code: 'envoi_not_found' });
  }
  const qb = db<ColisRow>('colis').select('*').orderBy('id').limit(q.limit);
  if (q.envoiId !== undefined) qb.where('envoi_id', q.envoiId);
  if (q.status) qb.where('status', q.status);
  if (q.after) qb.where('id', '>', q.after);
  return ((await qb) as ColisRow[]).map(colisView);
}

/** Locks the colis' envoi, then the colis (the order every envoi/colis change follows). */
async function lockColis(trx: Db, id: number): Promise<{ colis: ColisRow; envoi: EnvoiRow }> {
  const first = (await trx<ColisRow>('colis').where({ id }).first('envoi_id')) as Pick<ColisRow, 'envoi_id'> | undefined;
  if (!first) throw new NotFound(`no colis with id ${id}`, { code: 'colis_not_found' });
  const envoi = (await trx<EnvoiRow>('envois').where({ id: first.envoi_id }).forUpdate().first()) as EnvoiRow;
  const colis = (await trx<ColisRow>('colis').where({ id }).forUpdate().first()) as ColisRow | undefined;
  if (!colis) throw new NotFound(`no colis with id ${id}`, { code: 'colis_not_found' });
  return { colis, envoi };
}

export interface ColisChange {
  before: ColisView;
  after: ColisDetail;
}

/**
 * Marks a colis lost: allowed from packaged or shipped (the carrier has it), while its envoi is
 * accepted or in transit. A lost colis stays lost whatever happens to its envoi afterwards.
 */
export async function markColisLost(trx: Db, idRef: number | string): Promise<ColisChange> {
  const id = parseId(idRef, 'colis');
  const { colis, envoi } = await lockColis(trx, id);
  const refusal = lostRefusal(colis, envoi);
  if (refusal) throw refusal;
  const n = await trx('colis').where({ id, status: colis.status }).update({ status: 'lost', updated_at: toDbTime(new Date()) });
  if (n !== 1) throw new Conflict(`colis ${id} changed while it was being updated: run the command again`, { code: 'concurrent_change' });
  return { before: colisView(colis), after: await getColis(trx, id) };
}

/** Read-only check that a colis exists and may be marked lost (before asking for a confirmation). */
export async function checkColisLost(db: Db, idRef: number | string): Promise<void> {
  const id = parseId(idRef, 'colis');
  const colis = (await db<ColisRow>('colis').where({ id }).first()) as ColisRow | undefined;
  if (!colis) throw new NotFound(`no colis with id ${id}`, { code: 'colis_not_found' });
  const envoi = (await db<EnvoiRow>('envois').where({ id: colis.envoi_id }).first()) as EnvoiRow;
  const refusal = lostRefusal(colis, envoi);
  if (refusal) throw refusal;
}

function lostRefusal(colis: ColisRow, envoi: EnvoiRow): Conflict | undefined {
  const id = colis.id;
  if (!canMoveColis(colis.status, 'lost')) {
    const why =
      colis.status === 'pending'
        ? 'the carrier does not have it yet (its envoi is not accepted)'
        : colis.status === 'lost'
          ? 'it already is'
          : `${colis.status} is final`;
    return new Conflict(`colis ${id} is ${colis.status}: it cannot be marked lost (${why}; only ${sourcesOfLost()} colis can)`, {
      code: 'forbidden_transition',
      details: { colis_id: id, current: colis.status, wanted: 'lost' },
    });
  }
  if (envoi.status !== 'accepted' && envoi.status !== 'in_transit') {
    return new Conflict(
      `colis ${id} belongs to envoi ${envoi.id}, which is ${envoi.status}: only colis of an accepted or in_transit envoi can be marked lost`,
      { code: 'forbidden_transition', details: { colis_id: id, envoi_id: envoi.id, envoi_status: envoi.status } },
    );
  }
  return undefined;
}

function sourcesOfLost(): string {
  return (Object.keys(COLIS_TRANSITIONS) as ColisStatus[]).filter((s) => COLIS_TRANSITIONS[s].includes('lost')).join(' or ');
}

export interface ColisPatch {
  description?: string;
  /** Hundredths of a kg. */
  weight?: number;
  /** Normalised "LxlxH", or null to clear. */
  dimensions?: string | null;
}

/**
 * Corrects a colis while it and its envoi are pending. The shipping cost is recomputed from the
 * (new) weight with the current rates, whatever field changed.
 */
export async function updateColis(trx: Db, idRef: number | string, patch: ColisPatch, rates: ColisRates): Promise<ColisChange> {
  const id = parseId(idRef, 'colis');
  if (patch.description === undefined && patch.weight === undefined && patch.dimensions === undefined) {
    throw new InvalidInput('nothing to update: give --weight, --dimensions or --description', { code: 'nothing_to_update' });
  }
  const description = patch.description === undefined ? undefined : requireText(patch.description, '--description');
  const { colis, envoi } = await lockColis(trx, id);
  if (colis.status !== 'pending' || envoi.status !== 'pending') {
    throw new Conflict(
      `colis ${id} is ${colis.status} (envoi ${envoi.id} is ${envoi.status}): a colis can only be changed while it and its envoi are pending`,
      { code: 'not_pending', details: { colis_id: id, status: colis.status, envoi_status: envoi.status } },
    );
  }
  const weight = patch.weight ?? toCents(colis.weight);
  const changes = {
    ...(description !== undefined ? { description } : {}),
    ...(patch.dimensions !== undefined ? { dimensions: patch.dimensions } : {}),
    weight: centsToDecimal(weight),
    shipping_cost: centsToDecimal(colisShippingCents(weight, rates.baseCents, rates.perKgCents)),
    updated_at: toDbTime(new Date()),
  };
  const n = await trx('colis').where({ id, status: 'pending' }).update(changes);
  if (n !== 1) throw new Conflict(`colis ${id} changed while it was being updated: run the command again`, { code: 'concurrent_change' });
  return { before: colisView(colis), after: await getColis(trx, id) };
}
