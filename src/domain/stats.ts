/**
 * The morning dashboard (`billettigue stats`): a handful of set-based aggregate queries (GROUP BY,
 * conditional sums, one anti-join), run side by side, money summed exactly in SQL (sumCentsSql).
 *
 * Periods:
 * - Current states are always over the whole database: accounts (by role and status, locked,
 *   unverified), carriers without any zone, revoked tokens active/expired, archive sizes.
 * - Activity is all-time by default and restricted by `since`: trajets by departure_time,
 *   reservations by reservation_date, paiements by payment_date, envois (and their colis) by the
 *   envoi's created_at.
 * - "new accounts" counts created_at ≥ since, default the last 7 days; "refunds" counts paiements
 *   refunded (status refunded, updated_at = when it was refunded) ≥ since, default since the 1st of
 *   the current month (UTC).
 * - "upcoming this week": active trajets departing in [now, now + 7 days), with their occupancy
 *   (seats booked / seats offered over those trajets).
 */
import type { Knex } from 'knex';
import { rawRows, sumCentsSql } from '../db/dialect.js';
import {
  COLIS_STATUSES,
  COMPTE_STATUSES,
  ENVOI_STATUSES,
  PAIEMENT_STATUSES,
  RESERVATION_STATUSES,
  TRAJET_STATUSES,
  type CompteStatus,
} from '../db/schema.js';
import { toDbTime } from '../db/values.js';
import { divRoundHalfUp } from './money.js';

type Db = Knex | Knex.Transaction;

export interface StatsOptions {
  /** "Now" (tests pin it). */
  now?: Date;
  /** Restricts activity counts (and new accounts, refunds) to on/after this instant. */
  since?: Date;
  /** How many carriers without a zone to list (all are counted). Default 20. */
  carriersListed?: number;
}

export interface AccountLine {
  role: string;
  total: number;
  byStatus: Record<CompteStatus, number>;
  locked: number;
  emailUnverified: number;
  phoneUnverified: number;
  created: number;
}

export interface Stats {
  now: Date;
  since: Date | null;
  windows: { newAccountsSince: Date; refundsSince: Date; upcomingUntil: Date };
  accounts: { byRole: AccountLine[]; total: AccountLine };
  trajets: {
    byStatus: Array<{ status: string; count: number; seats: number; booked: number }>;
    total: number;
    upcoming: { count: number; seats: number; booked: number; occupancyTenthsPct: number | null };
  };
  reservations: { byStatus: Array<{ status: string; count: number; seats: number; totalCents: number }>; count: number; totalCents: number };
  paiements: { byStatus: Array<{ status: string; count: number; amountCents: number }>; revenueCents: number };
  refunds: { count: number; amountCents: number };
  envois: { byStatus: Array<{ status: string; count: number }>; total: number };
  colis: { byStatus: Array<{ status: string; count: number; weightHundredthsKg: number; shippingCents: number }>; total: number; lost: number };
  carriersWithoutZone: { count: number; carriers: Array<{ id: number; email: string; companyName: string | null; companyType: string }> };
  revokedTokens: { active: number; expired: number };
  archive: { reservations: number; paiements: number; envois: number; colis: number };
}

const DAY = 86_400_000;

/** A SUM in cents as the driver returns it ("1234500.00" on MySQL, 1234500 on SQLite) → integer. */
function centsOf(v: unknown): number {
  const n = Math.round(Number(v ?? 0));
  if (!Number.isSafeInteger(n)) throw new Error(`not a cent amount: ${String(v)}`);
  return n;
}

const num = (v: unknown) => Number(v ?? 0);

function byStatus<T extends { status: string }>(statuses: readonly string[], rows: T[], empty: (status: string) => T): T[] {
  const found = new Map(rows.map((r) => [r.status, r]));
  const known = statuses.map((s) => found.get(s) ?? empty(s));
  // Values outside the allowed list cannot get in (CHECK), but would be shown rather than hidden.
  return [...known, ...rows.filter((r) => !statuses.includes(r.status))];
}

export function startOfMonthUtc(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export async function collectStats(db: Db, options: StatsOptions = {}): Promise<Stats> {
  const now = options.now ?? new Date();
  const since = options.since ?? null;
  const nowS = toDbTime(now);
  const newSince = since ?? new Date(now.getTime() - 7 * DAY);
  const refundsSince = since ?? startOfMonthUtc(now);
  const upcomingUntil = new Date(now.getTime() + 7 * DAY);
  const sinceS = since ? toDbTime(since) : null;
  const listed = options.carriersListed ?? 20;
  const where = (column: string) => (sinceS ? { sql: `where ${column} >= ?`, b: [sinceS] } : { sql: '', b: [] as string[] });

  const statusSums = COMPTE_STATUSES.map((s) => `sum(case when c.status = '${s}' then 1 else 0 end) as st_${s}`).join(', ');
  const accountsQ = rawRows<Record<string, unknown>>(
    db,
    `select ro.name as role, count(c.id) as total, ${statusSums},
       sum(case when c.account_locked = true then 1 else 0 end) as locked,
       sum(case when c.email_verified = false then 1 else 0 end) as email_unverified,
       sum(case when c.phone_verified = false then 1 else 0 end) as phone_unverified,
       sum(case when c.created_at >= ? then 1 else 0 end) as created
     from roles ro left join comptes c on c.role_id = ro.id
     group by ro.name order by ro.name`,
    [toDbTime(newSince)],
  );

  const tw = where('departure_time');
  const trajetsQ = rawRows<Record<string, unknown>>(
    db,
    `select status, count(*) as n, sum(seats_count) as seats, sum(seats_count - available_seats) as booked
     from trajets ${tw.sql} group by status`,
    tw.b,
  );
  const upcomingQ = rawRows<Record<string, unknown>>(
    db,
    `select count(*) as n, coalesce(sum(seats_count), 0) as seats, coalesce(sum(seats_count - available_seats), 0) as booked
     from trajets where status = 'active' and departure_time >= ? and departure_time < ?`,
    [nowS, toDbTime(upcomingUntil)],
  );

  const rw = where('reservation_date');
  const reservationsQ = rawRows<Record<string, unknown>>(
    db,
    `select status, count(*) as n, sum(seats_reserved) as seats, ${sumCentsSql(db, 'total_amount').toString()} as cents
     from reservations ${rw.sql} group by status`,
    rw.b,
  );
  const pw = where('payment_date');
  const paiementsQ = rawRows<Record<string, unknown>>(
    db,
    `select status, count(*) as n, ${sumCentsSql(db, 'amount').toString()} as cents
     from paiements ${pw.sql} group by status`,
    pw.b,
  );
  const refundsQ = rawRows<Record<string, unknown>>(
    db,
    `select count(*) as n, ${sumCentsSql(db, 'amount').toString()} as cents from paiements where status = 'refunded' and updated_at >= ?`,
    [toDbTime(refundsSince)],
  );

  const ew = where('created_at');
  const envoisQ = rawRows<Record<string, unknown>>(db, `select status, count(*) as n from envois ${ew.sql} group by status`, ew.b);
  const colisQ = rawRows<Record<string, unknown>>(
    db,
    sinceS
      ? `select c.status, count(*) as n, ${sumCentsSql(db, 'c.weight').toString()} as weight, ${sumCentsSql(db, 'c.shipping_cost').toString()} as cents
         from colis c join envois e on e.id = c.envoi_id where e.created_at >= ? group by c.status`
      : `select status, count(*) as n, ${sumCentsSql(db, 'weight').toString()} as weight, ${sumCentsSql(db, 'shipping_cost').toString()} as cents
         from colis group by status`,
    sinceS ? [sinceS] : [],
  );

  const noZone = `from transporteurs t join comptes c on c.id = t.compte_id
    where not exists (select 1 from zones_desservies z where z.transporteur_id = t.id)`;
  const carriersQ = rawRows<Record<string, unknown>>(
    db,
    `select t.id, c.email, t.company_name, t.company_type ${noZone} order by t.id limit ${Math.max(0, Math.floor(listed))}`,
  );
  const carriersCountQ = rawRows<Record<string, unknown>>(db, `select count(*) as n ${noZone}`);

  const tokensQ = rawRows<Record<string, unknown>>(
    db,
    `select sum(case when expires_at >= ? then 1 else 0 end) as active, sum(case when expires_at < ? then 1 else 0 end) as expired from revoked_tokens`,
    [nowS, nowS],
  );
  const archiveQ = rawRows<Record<string, unknown>>(
    db,
    `select (select count(*) from reservations_archive) as reservations, (select count(*) from paiements_archive) as paiements,
            (select count(*) from envois_archive) as envois, (select count(*) from colis_archive) as colis`,
  );

  const [accounts, trajets, upcoming, reservations, paiements, refunds, envois, colis, carriers, carriersCount, tokens, archive] =
    await Promise.all([
      accountsQ,
      trajetsQ,
      upcomingQ,
      reservationsQ,
      paiementsQ,
      refundsQ,
      envoisQ,
      colisQ,
      carriersQ,
      carriersCountQ,
      tokensQ,
      archiveQ,
    ]);

  const accountLine = (r: Record<string, unknown>): AccountLine => ({
    role: String(r.role),
    total: num(r.total),
    byStatus: Object.fromEntries(COMPTE_STATUSES.map((s) => [s, num(r[`st_${s}`])])) as Record<CompteStatus, number>,
    locked: num(r.locked),
    emailUnverified: num(r.email_unverified),
    phoneUnverified: num(r.phone_unverified),
    created: num(r.created),
  });
  const byRole = accounts.map(accountLine);
  const total: AccountLine = {
    role: 'all',
    total: byRole.reduce((n, l) => n + l.total, 0),
    byStatus: Object.fromEntries(COMPTE_STATUSES.map((s) => [s, byRole.reduce((n, l) => n + l.byStatus[s], 0)])) as Record<CompteStatus, number>,
    locked: byRole.reduce((n, l) => n + l.locked, 0),
    emailUnverified: byRole.reduce((n, l) => n + l.emailUnverified, 0),
    phoneUnverified: byRole.reduce((n, l) => n + l.phoneUnverified, 0),
    created: byRole.reduce((n, l) => n + l.created, 0),
  };

  const trajetLines = byStatus(
    TRAJET_STATUSES,
    trajets.map((r) => ({ status: String(r.status), count: num(r.n), seats: num(r.seats), booked: num(r.booked) })),
    (status) => ({ status, count: 0, seats: 0, booked: 0 }),
  );
  const up = upcoming[0] ?? {};
  const upSeats = num(up.seats);
  const upBooked = num(up.booked);

  const reservationLines = byStatus(
    RESERVATION_STATUSES,
    reservations.map((r) => ({ status: String(r.status), count: num(r.n), seats: num(r.seats), totalCents: centsOf(r.cents) })),
    (status) => ({ status, count: 0, seats: 0, totalCents: 0 }),
  );
  const paiementLines = byStatus(
    PAIEMENT_STATUSES,
    paiements.map((r) => ({ status: String(r.status), count: num(r.n), amountCents: centsOf(r.cents) })),
    (status) => ({ status, count: 0, amountCents: 0 }),
  );
  const envoiLines = byStatus(
    ENVOI_STATUSES,
    envois.map((r) => ({ status: String(r.status), count: num(r.n) })),
    (status) => ({ status, count: 0 }),
  );
  const colisLines = byStatus(
    COLIS_STATUSES,
    colis.map((r) => ({ status: String(r.status), count: num(r.n), weightHundredthsKg: centsOf(r.weight), shippingCents: centsOf(r.cents) })),
    (status) => ({ status, count: 0, weightHundredthsKg: 0, shippingCents: 0 }),
  );
  const a = archive[0] ?? {};

  return {
    now,
    since,
    windows: { newAccountsSince: newSince, refundsSince, upcomingUntil },
    accounts: { byRole, total },
    trajets: {
      byStatus: trajetLines,
      total: trajetLines.reduce((n, l) => n + l.count, 0),
      upcoming: {
        count: num(up.n),
        seats: upSeats,
        booked: upBooked,
        occupancyTenthsPct: upSeats > 0 ? divRoundHalfUp(upBooked * 1000, upSeats) : null,
      },
    },
    reservations: {
      byStatus: reservationLines,
      count: reservationLines.reduce((n, l) => n + l.count, 0),
      totalCents: reservationLines.reduce((n, l) => n + l.totalCents, 0),
    },
    paiements: {
      byStatus: paiementLines,
      revenueCents: paiementLines.find((l) => l.status === 'completed')?.amountCents ?? 0,
    },
    refunds: { count: num(refunds[0]?.n), amountCents: centsOf(refunds[0]?.cents) },
    envois: { byStatus: envoiLines, total: envoiLines.reduce((n, l) => n + l.count, 0) },
    colis: {
      byStatus: colisLines,
      total: colisLines.reduce((n, l) => n + l.count, 0),
      lost: colisLines.find((l) => l.status === 'lost')?.count ?? 0,
    },
    carriersWithoutZone: {
      count: num(carriersCount[0]?.n),
      carriers: carriers.map((r) => ({
        id: num(r.id),
        email: String(r.email),
        companyName: r.company_name == null ? null : String(r.company_name),
        companyType: String(r.company_type),
      })),
    },
    revokedTokens: { active: num(tokens[0]?.active), expired: num(tokens[0]?.expired) },
    archive: { reservations: num(a.reservations), paiements: num(a.paiements), envois: num(a.envois), colis: num(a.colis) },
  };
}

/** Occupancy in tenths of a percent → "45.2" (exact, no float). */
export function formatTenthsPct(t: number | null): string | null {
  if (t === null) return null;
  return `${Math.floor(t / 10)}.${t % 10}`;
}
