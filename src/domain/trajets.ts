/**
 * Trajets: passenger trips offered by carriers (seed §6, docs/rules.md "Trajets").
 * - Status changes follow TRAJET_TRANSITIONS; anything else is a Conflict naming the current state.
 * - `available_seats = seats_count − Σ seats of live (pending/confirmed) reservations`: every change
 *   of seats here moves both columns together, in conditional UPDATEs.
 * - Completing or cancelling a trajet moves its live reservations and their paiements in the same
 *   transaction (src/domain/reservations.ts owns those state machines).
 */
import type { Knex } from 'knex';
import type { TrajetStatus } from '../db/schema.js';
import { TRAJET_STATUSES } from '../db/schema.js';
import type { TrajetRow, TransporteurRow } from '../db/rows.js';
import { insertId, whereFolded } from '../db/dialect.js';
import { foldText } from '../db/text.js';
import { centsToDecimal, fromDbTime, isoOrNull, toBool, toCents, toDbTime } from '../db/values.js';
import { Conflict, IntegrityError, InvalidInput, NotFound } from './errors.js';
import { findTransporteur } from './lookup.js';
import { optionalText, parseId, requireText } from './validate.js';

type Db = Knex | Knex.Transaction;

// ---- state machine ----------------------------------------------------------------------------

/** Allowed status changes of a trajet (docs/rules.md). `cancelled` and `completed` are final. */
export const TRAJET_TRANSITIONS: Record<TrajetStatus, readonly TrajetStatus[]> = {
  active: ['suspended', 'cancelled', 'completed'],
  suspended: ['active', 'cancelled'],
  cancelled: [],
  completed: [],
};

export function canMoveTrajet(from: TrajetStatus, to: TrajetStatus): boolean {
  return TRAJET_TRANSITIONS[from].includes(to);
}

export function assertTrajetMove(id: number, from: TrajetStatus, to: TrajetStatus): void {
  if (canMoveTrajet(from, to)) return;
  const allowed = TRAJET_TRANSITIONS[from];
  throw new Conflict(
    `trajet ${id} is ${from}: it cannot become ${to} (${allowed.length ? `from ${from} it can become ${allowed.join(' or ')}` : `${from} is final`})`,
    { code: 'forbidden_transition', details: { id, status: from, wanted: to } },
  );
}

/** Largest value of a DECIMAL(10,2) column, in cents. */
export const MAX_AMOUNT_CENTS = 9_999_999_999;
export const MAX_SEATS = 50;
/** Statuses of reservations that hold seats. */
export const LIVE_RESERVATION_STATUSES = ['pending', 'confirmed'] as const;

// ---- calendar days and instants ---------------------------------------------------------------

// Day and instant parsing lives in ./dates.ts (one parser for every group); re-exported here for
// the bookings code and its tests.
export { localZoneName, parseBetween, parseDay, parseDayOrInstant, parseInstant, type TimeRange } from './dates.js';
import type { TimeRange } from './dates.js';

// ---- views ------------------------------------------------------------------------------------

/** A trajet as it leaves the program (JSON keys; money as strings; times ISO 8601 UTC). */
export interface TrajetView {
  id: number;
  departure_city: string;
  arrival_city: string;
  departure_time: string;
  price: string;
  seats_count: number;
  available_seats: number;
  status: TrajetStatus;
  accepts_packages: boolean;
  max_package_weight: string | null;
  departure_point: string | null;
  arrival_point: string | null;
  transporteur_id: number;
  transporteur_name: string | null;
  /** The carrier's account: the id `accounts list` shows and `--transporteur` takes. */
  transporteur_account_id: number | null;
  created_at: string;
  updated_at: string;
}

type TrajetJoined = TrajetRow & { transporteur_name?: string | null; transporteur_account_id?: number | null };

export function trajetView(r: TrajetJoined): TrajetView {
  return {
    id: r.id,
    departure_city: r.departure_city,
    arrival_city: r.arrival_city,
    departure_time: isoOrNull(r.departure_time)!,
    price: centsToDecimal(toCents(r.price)),
    seats_count: Number(r.seats_count),
    available_seats: Number(r.available_seats),
    status: r.status,
    accepts_packages: toBool(r.accepts_packages),
    max_package_weight: r.max_package_weight === null ? null : centsToDecimal(toCents(r.max_package_weight)),
    departure_point: r.departure_point,
    arrival_point: r.arrival_point,
    transporteur_id: r.transporteur_id,
    transporteur_name: r.transporteur_name ?? null,
    transporteur_account_id: r.transporteur_account_id ?? null,
    created_at: isoOrNull(r.created_at)!,
    updated_at: isoOrNull(r.updated_at)!,
  };
}

/** Reads one trajet row; NotFound (exit 3) when missing. `forUpdate` locks it (MySQL). */
export async function loadTrajet(db: Db, id: number, options: { forUpdate?: boolean } = {}): Promise<TrajetRow> {
  const qb = db<TrajetRow>('trajets').where('id', id);
  if (options.forUpdate) qb.forUpdate();
  const row = (await qb.first()) as TrajetRow | undefined;
  if (!row) throw new NotFound(`no trajet with id ${id}`, { code: 'trajet_not_found' });
  return row;
}

/** One trajet with its carrier's company name; NotFound (exit 3) when missing. */
export async function getTrajet(db: Db, id: number): Promise<TrajetView> {
  const row = (await db('trajets as t')
    .leftJoin('transporteurs as tr', 'tr.id', 't.transporteur_id')
    .where('t.id', id)
    .first('t.*', 'tr.company_name as transporteur_name', 'tr.compte_id as transporteur_account_id')) as TrajetJoined | undefined;
  if (!row) throw new NotFound(`no trajet with id ${id}`, { code: 'trajet_not_found' });
  return trajetView(row);
}

// ---- list -------------------------------------------------------------------------------------

export const TRAJET_SORTS = ['departure', 'id'] as const;
export type TrajetSort = (typeof TRAJET_SORTS)[number];

export interface TrajetQuery {
  from?: string;
  to?: string;
  /** Departure time within [start, end). */
  range?: TimeRange;
  status?: TrajetStatus;
  /** Transporteur id or its account's email. */
  transporteur?: string;
  /** At least this many seats available. */
  withSeats?: number;
  acceptsPackages?: boolean;
  limit: number;
  /** Keyset: trajets after this one in the chosen order. */
  after?: number;
  sort?: TrajetSort;
}

/**
 * Trajets matching the filters, by departure time then id (or by id). Cities match ignoring case
 * and accents; on MySQL through the column collation, so (departure_city, arrival_city,
 * departure_time) serves `--from X --to Y --date D` as one index range.
 */
export async function listTrajets(db: Db, q: TrajetQuery): Promise<TrajetView[]> {
  const { query } = await trajetListQuery(db, q);
  return ((await query) as TrajetJoined[]).map(trajetView);
}

/**
 * The query of `listTrajets`, not run (the benchmark EXPLAINs it). Wrapped in an object: a query
 * builder is thenable, so returning it bare from an async function would run it.
 */
export async function trajetListQuery(db: Db, q: TrajetQuery): Promise<{ query: Knex.QueryBuilder }> {
  const qb = db('trajets as t')
    .leftJoin('transporteurs as tr', 'tr.id', 't.transporteur_id')
    .select('t.*', 'tr.company_name as transporteur_name', 'tr.compte_id as transporteur_account_id')
    .limit(q.limit);
  if (q.from !== undefined) whereFolded(qb, 't.departure_city', requireText(q.from, '--from', 100));
  if (q.to !== undefined) whereFolded(qb, 't.arrival_city', requireText(q.to, '--to', 100));
  if (q.range) {
    qb.where('t.departure_time', '>=', toDbTime(q.range.start)).andWhere('t.departure_time', '<', toDbTime(q.range.end));
  }
  if (q.status) {
    if (!(TRAJET_STATUSES as readonly string[]).includes(q.status)) {
      throw new InvalidInput(`--status "${q.status}" is not allowed: use one of ${TRAJET_STATUSES.join(', ')}`, { code: 'invalid_value' });
    }
    qb.where('t.status', q.status);
  }
  if (q.transporteur !== undefined) {
    const tr = await findTransporteur(db, q.transporteur);
    qb.where('t.transporteur_id', tr.id);
  }
  if (q.withSeats !== undefined) qb.where('t.available_seats', '>=', q.withSeats);
  if (q.acceptsPackages) qb.where('t.accepts_packages', true);
  const sort = q.sort ?? 'departure';
  if (sort === 'id') {
    if (q.after !== undefined) qb.where('t.id', '>', q.after);
    qb.orderBy('t.id', 'asc');
  } else {
    if (q.after !== undefined) {
      const a = (await db('trajets').where('id', q.after).first('departure_time')) as { departure_time: string } | undefined;
      if (!a) throw new InvalidInput(`--after ${q.after}: no trajet with this id to continue after`, { code: 'invalid_cursor' });
      const at = toDbTime(fromDbTime(a.departure_time));
      qb.where((w) => w.where('t.departure_time', '>', at).orWhere((w2) => w2.where('t.departure_time', at).andWhere('t.id', '>', q.after!)));
    }
    qb.orderBy([{ column: 't.departure_time', order: 'asc' }, { column: 't.id', order: 'asc' }]);
  }
  return { query: qb };
}

// ---- create -----------------------------------------------------------------------------------

export interface CreateTrajetInput {
  /** Transporteur id or its account's email. */
  transporteur: string | number;
  from: string;
  to: string;
  departure: Date;
  priceCents: number;
  seats: number;
  acceptsPackages?: boolean;
  /** Hundredths of a kg (parseWeight), or null. */
  maxPackageWeight?: number | null;
  departurePoint?: string | null;
  arrivalPoint?: string | null;
  /** Allow a departure in the past (back-filling history). */
  allowPast?: boolean;
}

function checkSeats(seats: number, field = '--seats'): void {
  if (!Number.isSafeInteger(seats) || seats < 1 || seats > MAX_SEATS) {
    throw new InvalidInput(`${field} must be a whole number from 1 to ${MAX_SEATS}, got ${seats}`, { code: 'invalid_seats' });
  }
}

function checkPrice(cents: number): void {
  if (!Number.isSafeInteger(cents) || cents < 0 || cents > MAX_AMOUNT_CENTS) {
    throw new InvalidInput(`--price must be from 0 to ${centsToDecimal(MAX_AMOUNT_CENTS)}`, { code: 'invalid_amount' });
  }
}

function checkDeparture(departure: Date, now: Date, allowPast: boolean | undefined): void {
  if (Number.isNaN(departure.getTime())) throw new InvalidInput('--departure is not a valid time', { code: 'invalid_date' });
  if (!allowPast && departure.getTime() <= now.getTime()) {
    throw new InvalidInput(
      `--departure ${departure.toISOString()} is in the past: give a future time (or --allow-past to record a past trip)`,
      { code: 'departure_in_past' },
    );
  }
}

/** Carrier able to run passenger trips: company_type passagers or mixte, account active. */
async function passengerCarrier(db: Db, ref: string | number): Promise<TransporteurRow & { compte: { status: string; email: string } }> {
  const tr = await findTransporteur(db, ref);
  if (tr.company_type !== 'passagers' && tr.company_type !== 'mixte') {
    throw new InvalidInput(
      `transporteur ${tr.id} (${tr.company_name ?? tr.compte.email}) is of company_type "${tr.company_type}": trajets need a passagers or mixte carrier`,
      { code: 'carrier_type' },
    );
  }
  if (tr.compte.status !== 'active') {
    throw new Conflict(`transporteur ${tr.id}'s account ${tr.compte.email} is ${tr.compte.status}: activate it before adding trajets`, {
      code: 'carrier_inactive',
    });
  }
  return tr;
}

/** Creates an active trajet with every seat available. Validates everything first. */
export async function createTrajet(trx: Db, input: CreateTrajetInput, now: Date = new Date()): Promise<TrajetView> {
  const from = requireText(input.from, '--from', 100);
  const to = requireText(input.to, '--to', 100);
  if (foldText(from) === foldText(to)) {
    throw new InvalidInput(`--from and --to are the same city ("${from}"): a trajet goes somewhere else`, { code: 'same_city' });
  }
  checkDeparture(input.departure, now, input.allowPast);
  checkPrice(input.priceCents);
  checkSeats(input.seats);
  const accepts = input.acceptsPackages ?? true;
  if (!accepts && input.maxPackageWeight != null) {
    throw new InvalidInput('--max-package-weight makes no sense with --no-packages: give one or the other', { code: 'conflicting_options' });
  }
  if (input.maxPackageWeight != null && (!Number.isSafeInteger(input.maxPackageWeight) || input.maxPackageWeight <= 0 || input.maxPackageWeight > 99_999_999)) {
    throw new InvalidInput('--max-package-weight must be a weight greater than 0 kg with at most 2 decimals', { code: 'invalid_weight' });
  }
  const departurePoint = optionalText(input.departurePoint, '--departure-point', 200);
  const arrivalPoint = optionalText(input.arrivalPoint, '--arrival-point', 200);
  const carrier = await passengerCarrier(trx, input.transporteur);
  const ts = toDbTime(now);
  const id = await insertId(trx('trajets').insert({
    departure_city: from,
    arrival_city: to,
    departure_time: toDbTime(input.departure),
    price: centsToDecimal(input.priceCents),
    seats_count: input.seats,
    available_seats: input.seats,
    status: 'active',
    accepts_packages: accepts,
    max_package_weight: input.maxPackageWeight == null ? null : centsToDecimal(input.maxPackageWeight),
    departure_point: departurePoint,
    arrival_point: arrivalPoint,
    transporteur_id: carrier.id,
    created_at: ts,
    updated_at: ts,
  }));
  return getTrajet(trx, id!);
}

// ---- update -----------------------------------------------------------------------------------

export interface UpdateTrajetInput {
  departure?: Date;
  priceCents?: number;
  seats?: number;
  /** null clears the point. */
  departurePoint?: string | null;
  arrivalPoint?: string | null;
  acceptsPackages?: boolean;
  maxPackageWeight?: number | null;
  allowPast?: boolean;
}

export interface ChangeResult {
  before: TrajetView;
  after: TrajetView;
}

/**
 * Changes time, price, points, packages or seat count of an active or suspended trajet.
 * The seat count never goes below the seats already sold, and `available_seats` moves by the
 * same difference. A new price applies to new reservations; existing ones keep their amounts.
 */
export async function updateTrajet(trx: Db, id: number, input: UpdateTrajetInput, now: Date = new Date()): Promise<ChangeResult> {
  const keys = Object.entries(input).filter(([k, v]) => k !== 'allowPast' && v !== undefined);
  if (keys.length === 0) {
    throw new InvalidInput(
      'nothing to change: give at least one of --departure, --price, --seats, --departure-point, --arrival-point, --packages/--no-packages, --max-package-weight',
      { code: 'nothing_to_change' },
    );
  }
  if (input.departure !== undefined) checkDeparture(input.departure, now, input.allowPast);
  if (input.priceCents !== undefined) checkPrice(input.priceCents);
  if (input.seats !== undefined) checkSeats(input.seats);
  const row = await loadTrajet(trx, id, { forUpdate: true });
  if (row.status !== 'active' && row.status !== 'suspended') {
    throw new Conflict(`trajet ${id} is ${row.status}: a ${row.status} trajet can no longer be changed`, {
      code: 'forbidden_transition',
      details: { id, status: row.status },
    });
  }
  const before = await getTrajet(trx, id);
  const patch: Record<string, unknown> = { updated_at: toDbTime(now) };
  if (input.departure !== undefined) patch.departure_time = toDbTime(input.departure);
  if (input.priceCents !== undefined) patch.price = centsToDecimal(input.priceCents);
  if (input.departurePoint !== undefined) patch.departure_point = optionalText(input.departurePoint, '--departure-point', 200);
  if (input.arrivalPoint !== undefined) patch.arrival_point = optionalText(input.arrivalPoint, '--arrival-point', 200);
  const accepts = input.acceptsPackages ?? toBool(row.accepts_packages);
  if (input.acceptsPackages !== undefined) patch.accepts_packages = input.acceptsPackages;
  if (input.maxPackageWeight !== undefined) {
    if (input.maxPackageWeight !== null && (!Number.isSafeInteger(input.maxPackageWeight) || input.maxPackageWeight <= 0)) {
      throw new InvalidInput('--max-package-weight must be greater than 0 kg', { code: 'invalid_weight' });
    }
    patch.max_package_weight = input.maxPackageWeight === null ? null : centsToDecimal(input.maxPackageWeight);
  }
  if (!accepts) {
    if (input.maxPackageWeight != null) {
      throw new InvalidInput('--max-package-weight makes no sense on a trajet without packages', { code: 'conflicting_options' });
    }
    patch.max_package_weight = null;
  }
  const seatsCount = Number(row.seats_count);
  const available = Number(row.available_seats);
  const upd = trx('trajets').where({ id, status: row.status, seats_count: seatsCount, available_seats: available });
  if (input.seats !== undefined && input.seats !== seatsCount) {
    const sold = seatsCount - available;
    if (input.seats < sold) {
      throw new Conflict(`trajet ${id} has ${sold} seat${sold > 1 ? 's' : ''} sold: its seat count cannot go below ${sold} (asked ${input.seats})`, {
        code: 'seats_below_sold',
        details: { id, sold, wanted: input.seats },
      });
    }
    patch.seats_count = input.seats;
    patch.available_seats = available + (input.seats - seatsCount);
  }
  const n = await upd.update(patch);
  if (n !== 1) throw new Conflict(`trajet ${id} changed while it was being updated: try again`, { code: 'concurrent_change' });
  return { before, after: await getTrajet(trx, id) };
}

// ---- simple status changes --------------------------------------------------------------------

/** suspend (active → suspended) or resume (suspended → active): bookings stay as they are. */
export async function setTrajetStatus(trx: Db, id: number, to: 'suspended' | 'active', now: Date = new Date()): Promise<ChangeResult> {
  const row = await loadTrajet(trx, id, { forUpdate: true });
  assertTrajetMove(id, row.status, to);
  const before = await getTrajet(trx, id);
  const n = await trx('trajets').where({ id, status: row.status }).update({ status: to, updated_at: toDbTime(now) });
  if (n !== 1) throw new Conflict(`trajet ${id} changed while it was being updated: try again`, { code: 'concurrent_change' });
  return { before, after: await getTrajet(trx, id) };
}

// ---- complete and cancel ----------------------------------------------------------------------

export interface TrajetCloseSummary extends ChangeResult {
  /** Confirmed reservations that became completed (complete). */
  completed: number;
  /** Pending reservations cancelled, their paiements failed. */
  cancelled: number;
  /** Confirmed reservations refunded with their paiements (cancel). */
  refunded: number;
  /** Sum of the refunded paiements, "12.50". */
  refunded_amount: string;
  /** Seats given back to the trajet. */
  seats_released: number;
  reservation_ids: number[];
}

interface LiveReservation {
  id: number;
  status: 'pending' | 'confirmed';
  seats_reserved: number;
  total_amount: string | number;
}

/**
 * Ends a trajet (docs/rules.md):
 * - complete (active → completed, only once it has departed): confirmed → completed, pending →
 *   cancelled with paiement failed;
 * - cancel (active|suspended → cancelled): pending → cancelled with paiement failed, confirmed →
 *   refunded with paiement refunded whatever their refundable option (the carrier cancelled).
 * All live seats go back to the trajet. One transaction: the caller's.
 */
export async function closeTrajet(trx: Db, id: number, to: 'completed' | 'cancelled', now: Date = new Date()): Promise<TrajetCloseSummary> {
  const row = await loadTrajet(trx, id, { forUpdate: true });
  assertTrajetMove(id, row.status, to);
  if (to === 'completed' && fromDbTime(row.departure_time).getTime() > now.getTime()) {
    throw new Conflict(
      `trajet ${id} has not departed yet (departure ${fromDbTime(row.departure_time).toISOString()}): complete it after departure, or cancel it`,
      { code: 'not_departed', details: { id, status: row.status } },
    );
  }
  const before = await getTrajet(trx, id);
  const ts = toDbTime(now);
  const live = (await trx('reservations')
    .where('trajet_id', id)
    .whereIn('status', LIVE_RESERVATION_STATUSES)
    .orderBy('id')
    .forUpdate()
    .select('id', 'status', 'seats_reserved', 'total_amount')) as LiveReservation[];
  const pending = live.filter((r) => r.status === 'pending').map((r) => r.id);
  const confirmed = live.filter((r) => r.status === 'confirmed');
  const confirmedIds = confirmed.map((r) => r.id);
  const seats = live.reduce((s, r) => s + Number(r.seats_reserved), 0);

  await moveMany(trx, pending, 'pending', 'cancelled', 'pending', 'failed', ts);
  let refundedCents = 0;
  if (to === 'completed') {
    await moveMany(trx, confirmedIds, 'confirmed', 'completed', null, null, ts);
  } else {
    await moveMany(trx, confirmedIds, 'confirmed', 'refunded', 'completed', 'refunded', ts);
    refundedCents = confirmed.reduce((s, r) => s + toCents(r.total_amount), 0);
  }
  const n = await trx('trajets')
    .where({ id, status: row.status })
    .update({ status: to, available_seats: trx.raw('available_seats + ?', [seats]), updated_at: ts });
  if (n !== 1) throw new Conflict(`trajet ${id} changed while it was being updated: try again`, { code: 'concurrent_change' });
  return {
    before,
    after: await getTrajet(trx, id),
    completed: to === 'completed' ? confirmedIds.length : 0,
    cancelled: pending.length,
    refunded: to === 'cancelled' ? confirmedIds.length : 0,
    refunded_amount: centsToDecimal(refundedCents),
    seats_released: seats,
    reservation_ids: live.map((r) => r.id),
  };
}

/** Moves a set of reservations (and, when given, their paiements) between statuses, checked. */
async function moveMany(
  trx: Db,
  ids: number[],
  from: string,
  to: string,
  payFrom: string | null,
  payTo: string | null,
  ts: string,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const n = await trx('reservations').whereIn('id', chunk).where('status', from).update({ status: to, updated_at: ts });
    if (n !== chunk.length) throw new Conflict('reservations of this trajet changed meanwhile: try again', { code: 'concurrent_change' });
    if (payFrom && payTo) {
      const p = await trx('paiements').whereIn('reservation_id', chunk).where('status', payFrom).update({ status: payTo, updated_at: ts });
      if (p !== chunk.length) {
        throw new IntegrityError(
          `${chunk.length - p} of the paiements of reservations ${chunk.join(', ')} are not ${payFrom}: the data breaks the reservation/paiement rules; nothing was changed (run \`billettigue maintenance check\`)`,
          { code: 'paiement_mismatch' },
        );
      }
    }
  }
}

export function parseTrajetId(raw: string): number {
  return parseId(raw, 'trajet');
}
