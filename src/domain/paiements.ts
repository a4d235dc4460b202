/**
 * Paiements: read side (list, show) and the revenue summary. Paiements only change status through
 * their reservation (src/domain/reservations.ts), so that the pair always stays allowed.
 * Money is summed in SQL as integer cents (sumCentsSql), never as floats.
 */
import type { Knex } from 'knex';
import type { PaiementStatus } from '../db/schema.js';
import { PAIEMENT_STATUSES } from '../db/schema.js';
import type { PaiementRow } from '../db/rows.js';
import { sumCentsSql } from '../db/dialect.js';
import { centsToDecimal, fromDbTime, isoOrNull, toCents, toDbTime } from '../db/values.js';
import { InvalidInput, NotFound } from './errors.js';
import { getReservation, type PaiementView, type ReservationView } from './reservations.js';

type Db = Knex | Knex.Transaction;

export interface PaiementListView extends PaiementView {
  reservation_status: string;
  passenger: string;
  trajet_id: number;
}

export interface PaiementQuery {
  status?: PaiementStatus;
  /** payment_date at or after. */
  since?: Date;
  limit: number;
  after?: number;
}

function checkStatus(status: string | undefined): void {
  if (status !== undefined && !(PAIEMENT_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidInput(`--status "${status}" is not allowed: use one of ${PAIEMENT_STATUSES.join(', ')}`, { code: 'invalid_value' });
  }
}

function paiementView(r: PaiementRow): PaiementView {
  return {
    id: r.id,
    reservation_id: r.reservation_id,
    amount: centsToDecimal(toCents(r.amount)),
    status: r.status,
    payment_date: isoOrNull(r.payment_date)!,
    created_at: isoOrNull(r.created_at)!,
    updated_at: isoOrNull(r.updated_at)!,
  };
}

export async function listPaiements(db: Db, q: PaiementQuery): Promise<PaiementListView[]> {
  checkStatus(q.status);
  const qb = db('paiements as p')
    .join('reservations as r', 'r.id', 'p.reservation_id')
    .select('p.*', 'r.status as reservation_status', 'r.passenger_first_name', 'r.passenger_last_name', 'r.trajet_id')
    .orderBy('p.id', 'asc')
    .limit(q.limit);
  if (q.status) qb.where('p.status', q.status);
  if (q.since) qb.where('p.payment_date', '>=', toDbTime(q.since));
  if (q.after !== undefined) qb.where('p.id', '>', q.after);
  const rows = (await qb) as Array<PaiementRow & { reservation_status: string; passenger_first_name: string; passenger_last_name: string; trajet_id: number }>;
  return rows.map((r) => ({
    ...paiementView(r),
    reservation_status: r.reservation_status,
    passenger: `${r.passenger_first_name} ${r.passenger_last_name}`,
    trajet_id: r.trajet_id,
  }));
}

export async function getPaiement(db: Db, id: number): Promise<PaiementView & { reservation: ReservationView }> {
  const row = (await db<PaiementRow>('paiements').where('id', id).first()) as PaiementRow | undefined;
  if (!row) throw new NotFound(`no paiement with id ${id}`, { code: 'paiement_not_found' });
  return { ...paiementView(row), reservation: await getReservation(db, row.reservation_id) };
}

// ---- summary ----------------------------------------------------------------------------------

export interface StatusTotal {
  status: PaiementStatus;
  count: number;
  amount: string;
}

export interface MonthTotal {
  /** YYYY-MM, a calendar month of the local time zone (as --date days are). */
  month: string;
  count: number;
  pending: string;
  completed: string;
  failed: string;
  refunded: string;
  /** Money kept: completed paiements. */
  revenue: string;
}

export interface PaiementSummary {
  by_status: StatusTotal[];
  by_month: MonthTotal[];
  total: { count: number; amount: string; revenue: string };
}

/** A SUM in cents as returned by sumCentsSql (MySQL: "1234500.00"; SQLite: 1234500). */
function sumToCents(v: unknown): number {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n)) throw new Error(`sum is not a whole number of cents: ${String(v)}`);
  return n;
}

function monthKey(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

/**
 * Totals by status and by month (local calendar months, like `--date` days), summed exactly.
 * Months are cut in SQL by a CASE over the local month boundaries (UTC instants), so the grouping
 * is exact whatever the time zone and stays one pass over the rows.
 */
export async function paiementSummary(db: Db, q: { status?: PaiementStatus; since?: Date } = {}): Promise<PaiementSummary> {
  checkStatus(q.status);
  const filter = (qb: Knex.QueryBuilder) => {
    if (q.status) qb.where('status', q.status);
    if (q.since) qb.where('payment_date', '>=', toDbTime(q.since));
    return qb;
  };
  const statusRows = (await filter(
    db('paiements').select('status').count({ n: '*' }).select(db.raw('? as cents', [sumCentsSql(db, 'amount')])).groupBy('status'),
  )) as Array<{ status: PaiementStatus; n: number | string; cents: unknown }>;
  const byStatus: StatusTotal[] = PAIEMENT_STATUSES.flatMap((s) => {
    const r = statusRows.find((x) => x.status === s);
    return r ? [{ status: s, count: Number(r.n), amount: centsToDecimal(sumToCents(r.cents)) }] : [];
  });

  const span = (await filter(db('paiements').min({ lo: 'payment_date' }).max({ hi: 'payment_date' })).first()) as
    | { lo: string | null; hi: string | null }
    | undefined;
  const byMonth: MonthTotal[] = [];
  if (span?.lo && span.hi) {
    const lo = fromDbTime(span.lo);
    const hi = fromDbTime(span.hi);
    // Local month starts from lo's month to the one after hi's.
    const starts: Date[] = [];
    for (let d = new Date(lo.getFullYear(), lo.getMonth(), 1); d.getTime() <= hi.getTime(); d = new Date(d.getFullYear(), d.getMonth() + 1, 1)) {
      starts.push(d);
    }
    const ends = starts.map((d) => new Date(d.getFullYear(), d.getMonth() + 1, 1));
    const branches = ends.map(() => 'when payment_date < ? then ?').join(' ');
    const bindings = ends.flatMap((e, i) => [toDbTime(e), monthKey(starts[i]!)]);
    const monthExpr = db.raw(`case ${branches} end`, bindings);
    const rows = (await filter(
      db('paiements')
        .select(db.raw('? as month', [monthExpr]), 'status')
        .count({ n: '*' })
        .select(db.raw('? as cents', [sumCentsSql(db, 'amount')]))
        .groupBy('month', 'status'),
    )) as Array<{ month: string; status: PaiementStatus; n: number | string; cents: unknown }>;
    for (const start of starts) {
      const key = monthKey(start);
      const of = rows.filter((r) => r.month === key);
      if (of.length === 0) continue;
      const cents = (s: PaiementStatus) => of.filter((r) => r.status === s).reduce((a, r) => a + sumToCents(r.cents), 0);
      byMonth.push({
        month: key,
        count: of.reduce((a, r) => a + Number(r.n), 0),
        pending: centsToDecimal(cents('pending')),
        completed: centsToDecimal(cents('completed')),
        failed: centsToDecimal(cents('failed')),
        refunded: centsToDecimal(cents('refunded')),
        revenue: centsToDecimal(cents('completed')),
      });
    }
  }
  const totalCents = statusRows.reduce((a, r) => a + sumToCents(r.cents), 0);
  const revenueCents = statusRows.filter((r) => r.status === 'completed').reduce((a, r) => a + sumToCents(r.cents), 0);
  return {
    by_status: byStatus,
    by_month: byMonth,
    total: { count: statusRows.reduce((a, r) => a + Number(r.n), 0), amount: centsToDecimal(totalCents), revenue: centsToDecimal(revenueCents) },
  };
}
