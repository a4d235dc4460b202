/**
 * Zones desservies: which carrier serves which city, for pickups, deliveries or both.
 * One zone per (city, transporteur): the unique index decides, also between concurrent processes;
 * the domain checks first (ignoring case and accents, so "orleans" and "Orléans" are the same city
 * on both databases) and translates the index's refusal into the same message when it loses a race.
 */
import type { Knex } from 'knex';
import { SERVICE_FREQUENCIES, ZONE_TYPES, type ServiceFrequency, type ZoneType } from '../db/schema.js';
import type { ZoneRow } from '../db/rows.js';
import { centsToDecimal, isoOrNull, toCents, toDbTime } from '../db/values.js';
import { insertId, whereFolded } from '../db/dialect.js';
import { isDuplicateKey } from '../db/errors.js';
import { Conflict, InvalidInput, NotFound } from './errors.js';
import { findTransporteur } from './lookup.js';
import { oneOf, optionalText, parseId } from './validate.js';

type Db = Knex | Knex.Transaction;

/** What `--serves` asks: who can pick up (pickup_only or both) or deliver (delivery_only or both). */
export const ZONE_SERVES = { pickup: ['pickup_only', 'both'], delivery: ['delivery_only', 'both'] } as const satisfies Record<
  string,
  readonly ZoneType[]
>;
export type ZoneServes = keyof typeof ZONE_SERVES;

/** City names are stored as typed, trimmed, with inner runs of spaces collapsed. */
export function normalizeCity(raw: string | undefined, field = '--city'): string {
  const v = (raw ?? '').trim().replace(/\s+/g, ' ');
  if (v === '') throw new InvalidInput(`${field} is required (a city name, e.g. Orléans)`, { code: 'missing_field' });
  if (v.length > 255) throw new InvalidInput(`${field} is longer than 255 characters`, { code: 'invalid_value' });
  return v;
}

export function parseZoneType(raw: string, field = '--type'): ZoneType {
  return oneOf(raw.trim(), ZONE_TYPES, field);
}

export function parseFrequency(raw: string, field = '--frequency'): ServiceFrequency {
  return oneOf(raw.trim(), SERVICE_FREQUENCIES, field);
}

export interface ZoneView {
  id: number;
  city_name: string;
  region: string | null;
  zone_type: ZoneType;
  service_frequency: ServiceFrequency | null;
  /** kg, "25.00", or null: no limit given. */
  max_weight_capacity: string | null;
  transporteur_id: number;
  transporteur_name: string;
  transporteur_email: string;
  transporteur_company_type: string;
  /** The carrier's account status: only active carriers can take envois. */
  transporteur_status: string;
  created_at: string | null;
  updated_at: string | null;
}

type ZoneJoined = ZoneRow & {
  company_name: string | null;
  company_type: string;
  email: string;
  compte_status: string;
};

function baseQuery(db: Db): Knex.QueryBuilder {
  return db('zones_desservies as z')
    .join('transporteurs as t', 't.id', 'z.transporteur_id')
    .join('comptes as c', 'c.id', 't.compte_id')
    .select('z.*', 't.company_name', 't.company_type', 'c.email', 'c.status as compte_status');
}

function zoneView(r: ZoneJoined): ZoneView {
  return {
    id: r.id,
    city_name: r.city_name,
    region: r.region,
    zone_type: r.zone_type,
    service_frequency: r.service_frequency,
    max_weight_capacity: r.max_weight_capacity === null ? null : centsToDecimal(toCents(r.max_weight_capacity)),
    transporteur_id: r.transporteur_id,
    transporteur_name: r.company_name ?? r.email,
    transporteur_email: r.email,
    transporteur_company_type: r.company_type,
    transporteur_status: r.compte_status,
    created_at: isoOrNull(r.created_at),
    updated_at: isoOrNull(r.updated_at),
  };
}

export async function getZone(db: Db, idRef: number | string): Promise<ZoneView> {
  const id = parseId(idRef, 'zone');
  const row = (await baseQuery(db).where('z.id', id).first()) as ZoneJoined | undefined;
  if (!row) throw new NotFound(`no zone with id ${id}`, { code: 'zone_not_found' });
  return zoneView(row);
}

export interface ZoneQuery {
  /** transporteur id or account email. */
  transporteur?: string;
  /** Matched ignoring case and accents. */
  city?: string;
  type?: ZoneType;
  serves?: ZoneServes;
  limit: number;
  after?: number;
}

/** Oldest first, keyset on id. */
export async function listZones(db: Db, q: ZoneQuery): Promise<ZoneView[]> {
  const qb = baseQuery(db).orderBy('z.id').limit(q.limit);
  if (q.transporteur) qb.where('z.transporteur_id', (await findTransporteur(db, q.transporteur)).id);
  if (q.city) whereFolded(qb, 'z.city_name', normalizeCity(q.city));
  if (q.type) qb.where('z.zone_type', q.type);
  if (q.serves) qb.whereIn('z.zone_type', ZONE_SERVES[q.serves]);
  if (q.after) qb.where('z.id', '>', q.after);
  return ((await qb) as ZoneJoined[]).map(zoneView);
}

/** The zone of this carrier for this city (case and accents ignored), if any. */
async function zoneFor(
  db: Db,
  city: string,
  transporteurId: number,
  options: { excludeId?: number; lock?: boolean } = {},
): Promise<Pick<ZoneRow, 'id' | 'city_name'> | undefined> {
  const qb = db('zones_desservies').where('transporteur_id', transporteurId).select('id', 'city_name').orderBy('id');
  whereFolded(qb, 'city_name', city);
  if (options.excludeId) qb.whereNot('id', options.excludeId);
  // A locking read sees the latest committed row, not the transaction's snapshot (MySQL).
  if (options.lock) qb.forShare();
  return (await qb.first()) as Pick<ZoneRow, 'id' | 'city_name'> | undefined;
}

function alreadyServes(transporteurId: number, city: string, zoneId?: number): Conflict {
  return new Conflict(
    `transporteur ${transporteurId} already serves ${city}${zoneId ? ` (zone id ${zoneId})` : ''}: change that zone with \`billettigue zones update ${zoneId ?? '<id>'}\``,
    { code: 'zone_exists', details: { transporteur_id: transporteurId, city_name: city, zone_id: zoneId ?? null } },
  );
}

/** Runs a write; a duplicate (city, transporteur) becomes the "already serves" conflict. */
async function guardUnique<T>(db: Db, city: string, transporteurId: number, excludeId: number | undefined, write: (w: Db) => Promise<T>): Promise<T> {
  try {
    // Under a savepoint: on PostgreSQL a failed statement aborts the whole transaction, and the
    // lookup below (then the caller's rollback) must still run.
    return await db.transaction((sp) => write(sp));
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const existing = await zoneFor(db, city, transporteurId, { excludeId, lock: true });
    throw alreadyServes(transporteurId, existing?.city_name ?? city, existing?.id);
  }
}

export interface ZoneInput {
  /** transporteur id or account email. */
  transporteur: string;
  city: string;
  region?: string | null;
  type?: ZoneType;
  frequency?: ServiceFrequency | null;
  /** Hundredths of a kg, or null. */
  maxWeight?: number | null;
}

export interface ZoneAdded {
  zone: ZoneView;
  /** Set when the carrier's account is not active (the zone is still recorded). */
  inactiveCarrier?: string;
}

export async function addZone(trx: Db, input: ZoneInput): Promise<ZoneAdded> {
  const city = normalizeCity(input.city);
  const region = optionalText(input.region, '--region');
  const t = await findTransporteur(trx, input.transporteur);
  const existing = await zoneFor(trx, city, t.id);
  if (existing) throw alreadyServes(t.id, existing.city_name, existing.id);
  const now = toDbTime(new Date());
  const id = await guardUnique(trx, city, t.id, undefined, (w) =>
    insertId(w('zones_desservies').insert({
      city_name: city,
      region,
      zone_type: input.type ?? 'both',
      service_frequency: input.frequency ?? null,
      max_weight_capacity: input.maxWeight === undefined || input.maxWeight === null ? null : centsToDecimal(input.maxWeight),
      transporteur_id: t.id,
      created_at: now,
      updated_at: now,
    })),
  );
  return {
    zone: await getZone(trx, id!),
    ...(t.compte.status !== 'active' ? { inactiveCarrier: `transporteur ${t.id}'s account is ${t.compte.status}` } : {}),
  };
}

export interface ZonePatch {
  transporteur?: string;
  city?: string;
  /** null clears it. */
  region?: string | null;
  type?: ZoneType;
  frequency?: ServiceFrequency | null;
  maxWeight?: number | null;
}

export interface ZoneChange {
  before: ZoneView;
  after: ZoneView;
}

export async function updateZone(trx: Db, idRef: number | string, patch: ZonePatch): Promise<ZoneChange> {
  const id = parseId(idRef, 'zone');
  if (Object.values(patch).every((v) => v === undefined)) {
    throw new InvalidInput('nothing to update: give --city, --region, --type, --frequency, --max-weight or --transporteur', {
      code: 'nothing_to_update',
    });
  }
  const row = (await trx<ZoneRow>('zones_desservies').where({ id }).forUpdate().first()) as ZoneRow | undefined;
  if (!row) throw new NotFound(`no zone with id ${id}`, { code: 'zone_not_found' });
  const before = await getZone(trx, id);
  const changes: Partial<ZoneRow> = {};
  if (patch.city !== undefined) changes.city_name = normalizeCity(patch.city);
  if (patch.transporteur !== undefined) changes.transporteur_id = (await findTransporteur(trx, patch.transporteur)).id;
  if (patch.region !== undefined) changes.region = optionalText(patch.region, '--region');
  if (patch.type !== undefined) changes.zone_type = patch.type;
  if (patch.frequency !== undefined) changes.service_frequency = patch.frequency;
  if (patch.maxWeight !== undefined) changes.max_weight_capacity = patch.maxWeight === null ? null : centsToDecimal(patch.maxWeight);
  const city = changes.city_name ?? row.city_name;
  const tid = changes.transporteur_id ?? row.transporteur_id;
  if (changes.city_name !== undefined || changes.transporteur_id !== undefined) {
    const existing = await zoneFor(trx, city, tid, { excludeId: id });
    if (existing) throw alreadyServes(tid, existing.city_name, existing.id);
  }
  await guardUnique(trx, city, tid, id, (w) =>
    w('zones_desservies').where({ id }).update({ ...changes, updated_at: toDbTime(new Date()) }),
  );
  return { before, after: await getZone(trx, id) };
}

export async function removeZone(trx: Db, idRef: number | string): Promise<ZoneView> {
  const id = parseId(idRef, 'zone');
  const zone = await getZone(trx, id);
  const n = await trx('zones_desservies').where({ id }).del();
  if (n !== 1) throw new NotFound(`no zone with id ${id}`, { code: 'zone_not_found' });
  return zone;
}
