/**
 * Reservations and their paiements (seed §7–8, docs/rules.md "Reservations and paiements").
 * - A reservation takes its seats with ONE conditional UPDATE of the trajet (active, not departed,
 *   enough seats): whatever the interleaving of concurrent creations, a trajet is never oversold.
 * - Each reservation has exactly one paiement (created with it, `amount = total_amount`), and the
 *   pair of statuses moves together through RESERVATION_TRANSITIONS / PAIEMENT_TRANSITIONS, always
 *   landing on one of ALLOWED_STATUS_PAIRS. What each verb does is the data of RESERVATION_MOVES.
 * - Lock order everywhere: the trajet row first, then its reservations, then their paiements.
 */
import type { Knex } from 'knex';
import type { PaiementStatus, ReservationStatus } from '../db/schema.js';
import { RESERVATION_STATUSES } from '../db/schema.js';
import type { ReservationRow, TrajetRow } from '../db/rows.js';
import { centsToDecimal, fromDbTime, isoOrNull, toBool, toCents, toDbTime } from '../db/values.js';
import { insertId, rawRows } from '../db/dialect.js';
import { Conflict, IntegrityError, InvalidInput, NotFound } from './errors.js';
import { findCompte } from './lookup.js';
import { refundSupplementCents, reservationTotalCents } from './money.js';
import { LIVE_RESERVATION_STATUSES, MAX_AMOUNT_CENTS, MAX_SEATS, getTrajet, loadTrajet, type TrajetView } from './trajets.js';
import { normalizePhone, requireText } from './validate.js';

type Db = Knex | Knex.Transaction;

// ---- state machines ---------------------------------------------------------------------------

/** Allowed status changes of a reservation. `cancelled`, `completed`, `refunded` are final. */
export const RESERVATION_TRANSITIONS: Record<ReservationStatus, readonly ReservationStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['completed', 'cancelled', 'refunded'],
  cancelled: [],
  completed: [],
  refunded: [],
};

/** Allowed status changes of a paiement. `failed` and `refunded` are final. */
export const PAIEMENT_TRANSITIONS: Record<PaiementStatus, readonly PaiementStatus[]> = {
  pending: ['completed', 'failed'],
  completed: ['refunded'],
  failed: [],
  refunded: [],
};

/** The only (reservation, paiement) status pairs that may exist (docs/rules.md). */
export const ALLOWED_STATUS_PAIRS: ReadonlyArray<readonly [ReservationStatus, PaiementStatus]> = [
  ['pending', 'pending'],
  ['confirmed', 'completed'],
  ['completed', 'completed'],
  ['cancelled', 'failed'],
  ['cancelled', 'completed'],
  ['refunded', 'refunded'],
];

export function isAllowedPair(r: ReservationStatus, p: PaiementStatus): boolean {
  return ALLOWED_STATUS_PAIRS.some(([a, b]) => a === r && b === p);
}

export function canMoveReservation(from: ReservationStatus, to: ReservationStatus): boolean {
  return RESERVATION_TRANSITIONS[from].includes(to);
}

export function canMovePaiement(from: PaiementStatus, to: PaiementStatus): boolean {
  return PAIEMENT_TRANSITIONS[from].includes(to);
}

export type ReservationVerb = 'confirm' | 'cancel' | 'refund' | 'complete';

/** One step of a verb: from a reservation status (and refundable option) to the new pair. */
export interface ReservationMove {
  from: ReservationStatus;
  /** Only for this refundable option; undefined: either. */
  refundable?: boolean;
  to: ReservationStatus;
  paiementFrom: PaiementStatus;
  /** New paiement status; null when the paiement stays as it is. */
  paiementTo: PaiementStatus | null;
}

/** What each verb does (docs/rules.md). Any state not listed refuses the verb (Conflict, exit 4). */
export const RESERVATION_MOVES: Record<ReservationVerb, readonly ReservationMove[]> = {
  confirm: [{ from: 'pending', to: 'confirmed', paiementFrom: 'pending', paiementTo: 'completed' }],
  cancel: [
    { from: 'pending', to: 'cancelled', paiementFrom: 'pending', paiementTo: 'failed' },
    { from: 'confirmed', refundable: true, to: 'refunded', paiementFrom: 'completed', paiementTo: 'refunded' },
    { from: 'confirmed', refundable: false, to: 'cancelled', paiementFrom: 'completed', paiementTo: null },
  ],
  refund: [{ from: 'confirmed', refundable: true, to: 'refunded', paiementFrom: 'completed', paiementTo: 'refunded' }],
  complete: [{ from: 'confirmed', to: 'completed', paiementFrom: 'completed', paiementTo: null }],
};

/** The move a verb makes from a state, or a Conflict saying the current state and why not. */
export function planMove(id: number, verb: ReservationVerb, status: ReservationStatus, refundable: boolean): ReservationMove {
  const move = RESERVATION_MOVES[verb].find((m) => m.from === status && (m.refundable === undefined || m.refundable === refundable));
  if (move) return move;
  let why: string;
  if (verb === 'refund' && status === 'confirmed') why = 'it was booked without the refundable option: cancel it instead (the money is kept)';
  else if (verb === 'refund' && status === 'pending') why = 'it is not paid: cancel it instead';
  else if (RESERVATION_TRANSITIONS[status].length === 0) why = `${status} is final`;
  else why = `from ${status} it can only be ${RESERVATION_TRANSITIONS[status].join(' or ')}`;
  throw new Conflict(`reservation ${id} is ${status}: cannot ${verb} it (${why})`, {
    code: 'forbidden_transition',
    details: { id, status, verb },
  });
}

// ---- views ------------------------------------------------------------------------------------

export interface PaiementView {
  id: number;
  reservation_id: number;
  amount: string;
  status: PaiementStatus;
  payment_date: string;
  created_at: string;
  updated_at: string;
}

export interface ReservationView {
  id: number;
  trajet_id: number;
  reservation_date: string;
  passenger_first_name: string;
  passenger_last_name: string;
  phone_number: string;
  status: ReservationStatus;
  seats_reserved: number;
  refundable_option: boolean;
  refund_supplement_amount: string;
  total_amount: string;
  compte_id: number | null;
  account_email: string | null;
  guest: boolean;
  created_at: string;
  updated_at: string;
  trajet: { id: number; departure_city: string; arrival_city: string; departure_time: string; status: string };
  paiement: PaiementView | null;
}

interface ReservationJoined extends ReservationRow {
  departure_city: string;
  arrival_city: string;
  departure_time: string;
  trajet_status: string;
  account_email: string | null;
  p_id: number | null;
  p_amount: string | number | null;
  p_status: PaiementStatus | null;
  p_payment_date: string | null;
  p_created_at: string | null;
  p_updated_at: string | null;
}

function reservationView(r: ReservationJoined): ReservationView {
  return {
    id: r.id,
    trajet_id: r.trajet_id,
    reservation_date: isoOrNull(r.reservation_date)!,
    passenger_first_name: r.passenger_first_name,
    passenger_last_name: r.passenger_last_name,
    phone_number: r.phone_number,
    status: r.status,
    seats_reserved: Number(r.seats_reserved),
    refundable_option: toBool(r.refundable_option),
    refund_supplement_amount: centsToDecimal(toCents(r.refund_supplement_amount)),
    total_amount: centsToDecimal(toCents(r.total_amount)),
    compte_id: r.compte_id,
    account_email: r.account_email,
    guest: r.compte_id === null,
    created_at: isoOrNull(r.created_at)!,
    updated_at: isoOrNull(r.updated_at)!,
    trajet: {
      id: r.trajet_id,
      departure_city: r.departure_city,
      arrival_city: r.arrival_city,
      departure_time: isoOrNull(r.departure_time)!,
      status: r.trajet_status,
    },
    paiement:
      r.p_id === null
        ? null
        : {
            id: r.p_id,
            reservation_id: r.id,
            amount: centsToDecimal(toCents(r.p_amount)),
            status: r.p_status!,
            payment_date: isoOrNull(r.p_payment_date)!,
            created_at: isoOrNull(r.p_created_at)!,
            updated_at: isoOrNull(r.p_updated_at)!,
          },
  };
}

function reservationQuery(db: Db): Knex.QueryBuilder {
  return db('reservations as r')
    .join('trajets as t', 't.id', 'r.trajet_id')
    .leftJoin('paiements as p', 'p.reservation_id', 'r.id')
    .leftJoin('comptes as c', 'c.id', 'r.compte_id')
    .select(
      'r.*',
      't.departure_city',
      't.arrival_city',
      't.departure_time',
      't.status as trajet_status',
      'c.email as account_email',
      'p.id as p_id',
      'p.amount as p_amount',
      'p.status as p_status',
      'p.payment_date as p_payment_date',
      'p.created_at as p_created_at',
      'p.updated_at as p_updated_at',
    );
}

export async function getReservation(db: Db, id: number): Promise<ReservationView> {
  const row = (await reservationQuery(db).where('r.id', id).first()) as ReservationJoined | undefined;
  if (!row) throw new NotFound(`no reservation with id ${id}`, { code: 'reservation_not_found' });
  return reservationView(row);
}

/** Every reservation of a trajet (with paiements), by id: for `trajets show`. */
export async function reservationsOfTrajet(db: Db, trajetId: number): Promise<ReservationView[]> {
  return ((await reservationQuery(db).where('r.trajet_id', trajetId).orderBy('r.id')) as ReservationJoined[]).map(reservationView);
}

export interface TrajetDetails extends TrajetView {
  transporteur: { id: number; company_name: string | null; company_type: string; phone_number: string; email: string; compte_id: number };
  occupancy: {
    seats_count: number;
    available_seats: number;
    seats_sold: number;
    pending_seats: number;
    confirmed_seats: number;
    /** Money kept: paiements completed. */
    paid_amount: string;
    refunded_amount: string;
  };
  reservations: ReservationView[];
}

/** `trajets show`: the trajet, its carrier, its occupancy, and every reservation with its paiement. */
export async function getTrajetDetails(db: Db, id: number): Promise<TrajetDetails> {
  const t = await getTrajet(db, id);
  const carrier = (await db('transporteurs as tr')
    .join('comptes as c', 'c.id', 'tr.compte_id')
    .where('tr.id', t.transporteur_id)
    .first('tr.id', 'tr.company_name', 'tr.company_type', 'tr.phone_number', 'c.email', 'tr.compte_id')) as TrajetDetails['transporteur'];
  const reservations = await reservationsOfTrajet(db, id);
  const seatsOf = (s: string) => reservations.filter((r) => r.status === s).reduce((a, r) => a + r.seats_reserved, 0);
  const paidOf = (s: string) => reservations.filter((r) => r.paiement?.status === s).reduce((a, r) => a + toCents(r.paiement!.amount), 0);
  return {
    ...t,
    transporteur: carrier,
    occupancy: {
      seats_count: t.seats_count,
      available_seats: t.available_seats,
      seats_sold: t.seats_count - t.available_seats,
      pending_seats: seatsOf('pending'),
      confirmed_seats: seatsOf('confirmed'),
      paid_amount: centsToDecimal(paidOf('completed')),
      refunded_amount: centsToDecimal(paidOf('refunded')),
    },
    reservations,
  };
}

/** How many reservations of a trajet hold seats (for the cancel confirmation). */
export async function liveReservationCount(db: Db, trajetId: number): Promise<number> {
  const row = (await db('reservations').where('trajet_id', trajetId).whereIn('status', LIVE_RESERVATION_STATUSES).count({ n: '*' }).first()) as {
    n: number | string;
  };
  return Number(row.n);
}

// ---- list -------------------------------------------------------------------------------------

export interface ReservationQuery {
  trajetId?: number;
  /** Account id or email. */
  account?: string;
  /** Only guest reservations (no account). */
  guest?: boolean;
  status?: ReservationStatus;
  /** reservation_date at or after. */
  since?: Date;
  limit: number;
  after?: number;
}

export async function listReservations(db: Db, q: ReservationQuery): Promise<ReservationView[]> {
  if (q.guest && q.account !== undefined) {
    throw new InvalidInput('choose one of --guest and --account: a guest reservation has no account', { code: 'conflicting_options' });
  }
  const qb = reservationQuery(db).orderBy('r.id', 'asc').limit(q.limit);
  if (q.trajetId !== undefined) {
    await loadTrajet(db, q.trajetId);
    qb.where('r.trajet_id', q.trajetId);
  }
  if (q.account !== undefined) {
    const compte = await findCompte(db, q.account);
    qb.where('r.compte_id', compte.id);
  }
  if (q.guest) qb.whereNull('r.compte_id');
  if (q.status !== undefined) {
    if (!(RESERVATION_STATUSES as readonly string[]).includes(q.status)) {
      throw new InvalidInput(`--status "${q.status}" is not allowed: use one of ${RESERVATION_STATUSES.join(', ')}`, { code: 'invalid_value' });
    }
    qb.where('r.status', q.status);
  }
  if (q.since) qb.where('r.reservation_date', '>=', toDbTime(q.since));
  if (q.after !== undefined) qb.where('r.id', '>', q.after);
  return ((await qb) as ReservationJoined[]).map(reservationView);
}

// ---- create -----------------------------------------------------------------------------------

export interface CreateReservationInput {
  trajetId: number;
  firstName: string;
  lastName: string;
  phone: string;
  seats?: number;
  refundable?: boolean;
  /** Account id or email; absent: a guest reservation. */
  account?: string | number;
}

export interface CreateOptions {
  /** Refundable supplement rate in basis points (settings.refundRateBp). */
  refundRateBp: number;
  now?: Date;
}

/**
 * Books seats on a trajet and creates its pending paiement (amount = total), in the caller's
 * transaction. The seats are taken first, by one conditional UPDATE; when it matches no row the
 * trajet is read to say why (missing 3, not active / departed / not enough seats 4).
 */
export async function createReservation(trx: Db, input: CreateReservationInput, options: CreateOptions): Promise<ReservationView> {
  const now = options.now ?? new Date();
  const seats = input.seats ?? 1;
  if (!Number.isSafeInteger(seats) || seats < 1 || seats > MAX_SEATS) {
    throw new InvalidInput(`--seats must be a whole number from 1 to ${MAX_SEATS}, got ${seats}`, { code: 'invalid_seats' });
  }
  const firstName = requireText(input.firstName, '--first-name');
  const lastName = requireText(input.lastName, '--last-name');
  const phone = normalizePhone(input.phone, '--phone');
  const refundable = Boolean(input.refundable);
  const ts = toDbTime(now);

  // The seat count is taken atomically: this UPDATE is the first write of the transaction. A
  // trajet whose carrier's account is not active (suspended, …) takes no new booking
  // (docs/rules.md), checked in the same statement so a suspension cannot slip between.
  const taken = await trx('trajets')
    .where('id', input.trajetId)
    .andWhere('status', 'active')
    .andWhere('available_seats', '>=', seats)
    .andWhere('departure_time', '>', ts)
    .whereExists((q) =>
      q
        .select(trx.raw('1'))
        .from('transporteurs as tr')
        .join('comptes as c', 'c.id', 'tr.compte_id')
        .whereRaw('?? = ??', ['tr.id', 'trajets.transporteur_id'])
        .andWhere('c.status', 'active'),
    )
    .update({ available_seats: trx.raw('available_seats - ?', [seats]), updated_at: ts });
  if (taken !== 1) await whyNoSeats(trx, input.trajetId, seats, now);

  const trajet = await loadTrajet(trx, input.trajetId);
  const compte = input.account === undefined ? null : await findCompte(trx, input.account);
  const compteId = compte?.id ?? null;
  const priceCents = toCents(trajet.price);
  const supplement = refundSupplementCents(priceCents, seats, refundable, options.refundRateBp);
  const total = reservationTotalCents(priceCents, seats, supplement);
  if (!Number.isSafeInteger(total) || total > MAX_AMOUNT_CENTS) {
    throw new InvalidInput(`the total (${seats} × ${centsToDecimal(priceCents)} + supplement) exceeds ${centsToDecimal(MAX_AMOUNT_CENTS)}: book fewer seats`, {
      code: 'amount_too_large',
    });
  }
  const row = {
    reservation_date: ts,
    passenger_first_name: firstName,
    passenger_last_name: lastName,
    phone_number: phone,
    status: 'pending' as const,
    seats_reserved: seats,
    refundable_option: refundable,
    refund_supplement_amount: centsToDecimal(supplement),
    total_amount: centsToDecimal(total),
    trajet_id: input.trajetId,
    compte_id: compteId,
    created_at: ts,
    updated_at: ts,
  };
  const id = await insertId(trx('reservations').insert(row));
  const paiement = { amount: row.total_amount, status: 'pending' as const, payment_date: ts, reservation_id: id!, created_at: ts, updated_at: ts };
  const paiementId = await insertId(trx('paiements').insert(paiement));
  // The view is built from what was written (no re-read: creation is the hot path).
  return reservationView({
    ...row,
    id: id!,
    departure_city: trajet.departure_city,
    arrival_city: trajet.arrival_city,
    departure_time: trajet.departure_time,
    trajet_status: trajet.status,
    account_email: compte?.email ?? null,
    p_id: paiementId!,
    p_amount: paiement.amount,
    p_status: 'pending',
    p_payment_date: ts,
    p_created_at: ts,
    p_updated_at: ts,
  });
}

/** Explains why the conditional seat UPDATE matched nothing. Always throws. */
async function whyNoSeats(db: Db, trajetId: number, seats: number, now: Date): Promise<never> {
  const t = (await db<TrajetRow>('trajets').where('id', trajetId).first()) as TrajetRow | undefined;
  if (!t) throw new NotFound(`no trajet with id ${trajetId}`, { code: 'trajet_not_found' });
  if (t.status !== 'active') {
    throw new Conflict(`trajet ${trajetId} is ${t.status}: only an active trajet takes reservations`, {
      code: 'trajet_not_active',
      details: { id: trajetId, status: t.status },
    });
  }
  const carrier = (await db('transporteurs as tr').join('comptes as c', 'c.id', 'tr.compte_id').where('tr.id', t.transporteur_id).first('c.id', 'c.email', 'c.status')) as
    | { id: number; email: string; status: string }
    | undefined;
  if (carrier && carrier.status !== 'active') {
    throw new Conflict(`trajet ${trajetId} belongs to ${carrier.email} (account ${carrier.id}), whose account is ${carrier.status}: its trajets take no new bookings until it is active again`, {
      code: 'carrier_not_active',
      details: { id: trajetId, carrier_account_id: carrier.id, carrier_status: carrier.status },
    });
  }
  const departure = fromDbTime(t.departure_time);
  if (departure.getTime() <= now.getTime()) {
    throw new Conflict(`trajet ${trajetId} already departed (${departure.toISOString()}): it takes no more reservations`, {
      code: 'trajet_departed',
      details: { id: trajetId, departure_time: departure.toISOString() },
    });
  }
  const available = Number(t.available_seats);
  throw new Conflict(`not enough seats on trajet ${trajetId}: ${available} available, ${seats} asked`, {
    code: 'not_enough_seats',
    details: { id: trajetId, available_seats: available, asked: seats },
  });
}

// ---- confirm / cancel / refund / complete -----------------------------------------------------

export interface ReservationChange {
  before: ReservationView;
  after: ReservationView;
  /** Seats given back to the trajet (0 when the reservation stays live). */
  seats_released: number;
  /** Money returned, "0.00" unless refunded. */
  refunded_amount: string;
}

/**
 * Applies a verb to one reservation and its paiement, per RESERVATION_MOVES:
 * confirm (paid), cancel (seats back; a paid refundable one is refunded, a paid non-refundable one
 * keeps the money), refund (paid + refundable only), complete (after the trajet's departure).
 */
export async function moveReservation(trx: Db, id: number, verb: ReservationVerb, now: Date = new Date()): Promise<ReservationChange> {
  const current = (await trx<ReservationRow>('reservations').where('id', id).first()) as ReservationRow | undefined;
  if (!current) throw new NotFound(`no reservation with id ${id}`, { code: 'reservation_not_found' });
  // Lock order: trajet, then reservation, then paiement (as trajet cancel/complete do).
  const trajet = await loadTrajet(trx, current.trajet_id, { forUpdate: true });
  const before = await getReservation(trx, id);
  const move = planMove(id, verb, before.status, before.refundable_option);
  if (verb === 'complete' && fromDbTime(trajet.departure_time).getTime() > now.getTime()) {
    throw new Conflict(
      `reservation ${id} is ${before.status}: it can be completed once its trajet ${trajet.id} has departed (${fromDbTime(trajet.departure_time).toISOString()})`,
      { code: 'not_departed', details: { id, status: before.status } },
    );
  }
  const ts = toDbTime(now);
  const n = await trx('reservations').where({ id, status: move.from }).update({ status: move.to, updated_at: ts });
  if (n !== 1) {
    const again = await getReservation(trx, id);
    throw new Conflict(`reservation ${id} is now ${again.status} (changed meanwhile): cannot ${verb} it`, {
      code: 'concurrent_change',
      details: { id, status: again.status },
    });
  }
  const paiementStatus = before.paiement?.status;
  if (paiementStatus !== move.paiementFrom) {
    throw new IntegrityError(
      `reservation ${id} is ${before.status} but its paiement is ${paiementStatus ?? 'missing'} (expected ${move.paiementFrom}): nothing was changed; run \`billettigue maintenance check\``,
      { code: 'paiement_mismatch' },
    );
  }
  if (move.paiementTo !== null) {
    const paid: Record<string, unknown> = { status: move.paiementTo, updated_at: ts };
    // payment_date is the date the money moved in: set when the paiement completes.
    if (move.paiementTo === 'completed') paid.payment_date = ts;
    const p = await trx('paiements').where({ reservation_id: id, status: move.paiementFrom }).update(paid);
    if (p !== 1) throw new Conflict(`the paiement of reservation ${id} changed meanwhile: try again`, { code: 'concurrent_change' });
  }
  const wasLive = (LIVE_RESERVATION_STATUSES as readonly string[]).includes(move.from);
  const isLive = (LIVE_RESERVATION_STATUSES as readonly string[]).includes(move.to);
  const released = wasLive && !isLive ? before.seats_reserved : 0;
  if (released > 0) {
    await trx('trajets')
      .where('id', trajet.id)
      .update({ available_seats: trx.raw('available_seats + ?', [released]), updated_at: ts });
  }
  return {
    before,
    after: await getReservation(trx, id),
    seats_released: released,
    refunded_amount: move.paiementTo === 'refunded' ? before.paiement!.amount : '0.00',
  };
}

// ---- invariants -------------------------------------------------------------------------------

/**
 * The bookings invariants of the issue, checked in SQL; returns one line per violation (empty
 * when all hold):
 * - available_seats = seats_count − Σ live seats, and 0 ≤ available_seats ≤ seats_count;
 * - exactly one paiement per reservation, amount = total_amount;
 * - the (reservation, paiement) status pair is allowed.
 */
export async function bookingInvariantViolations(db: Db, options: { limit?: number } = {}): Promise<string[]> {
  const limit = options.limit ?? 100;
  const out: string[] = [];
  const live = LIVE_RESERVATION_STATUSES.map((s) => `'${s}'`).join(', ');
  const seats = await rawRows<{ id: number; seats_count: number; available_seats: number; live: number | string }>(
    db,
    `select t.id, t.seats_count, t.available_seats, coalesce(sum(r.seats_reserved), 0) as live
       from trajets t left join reservations r on r.trajet_id = t.id and r.status in (${live})
      group by t.id, t.seats_count, t.available_seats
     having t.available_seats <> t.seats_count - coalesce(sum(r.seats_reserved), 0)
         or t.available_seats < 0 or t.available_seats > t.seats_count
      limit ${limit}`,
  );
  for (const s of seats) {
    out.push(`trajet ${s.id}: available_seats ${s.available_seats} but seats_count ${s.seats_count} − live seats ${Number(s.live)} = ${s.seats_count - Number(s.live)}`);
  }
  const pays = await rawRows<{ id: number; n: number | string }>(
    db,
    `select r.id, count(p.id) as n from reservations r left join paiements p on p.reservation_id = r.id
      group by r.id having count(p.id) <> 1 limit ${limit}`,
  );
  for (const p of pays) out.push(`reservation ${p.id}: ${Number(p.n)} paiements instead of exactly one`);
  const amounts = await rawRows<{ id: number; total_amount: string | number; amount: string | number }>(
    db,
    `select r.id, r.total_amount, p.amount from reservations r join paiements p on p.reservation_id = r.id
      where round(p.amount * 100) <> round(r.total_amount * 100) limit ${limit}`,
  );
  for (const a of amounts) {
    out.push(`reservation ${a.id}: paiement amount ${centsToDecimal(toCents(a.amount))} ≠ total_amount ${centsToDecimal(toCents(a.total_amount))}`);
  }
  const pairList = ALLOWED_STATUS_PAIRS.map(([r, p]) => `(r.status = '${r}' and p.status = '${p}')`).join(' or ');
  const pairs = await rawRows<{ id: number; rs: string; ps: string }>(
    db,
    `select r.id, r.status as rs, p.status as ps from reservations r join paiements p on p.reservation_id = r.id
      where not (${pairList}) limit ${limit}`,
  );
  for (const p of pairs) out.push(`reservation ${p.id}: status pair ${p.rs}/${p.ps} is not allowed`);
  return out;
}
