/**
 * Invariants of docs/rules.md checked over a whole database, used by the tests and the benchmark
 * to prove that generated data is valid (and usable on any data). Set-based checks run as portable
 * SQL; those that need the exact rules of money.ts, byte-exact text or a hash read the rows in
 * pages and check them in the program. Each check returns how many rows break it.
 */
import type { Knex } from 'knex';
import { rawRows } from '../../db/dialect.js';
import { toDbTime, toCents } from '../../db/values.js';
import type { DbDecimal } from '../../db/rows.js';
import { colisShippingCents, refundSupplementCents, reservationTotalCents } from '../money.js';

export interface CheckResult {
  name: string;
  violations: number;
  /** Ids of a few offending rows, to start looking. */
  sample: number[];
}

export interface CheckSettings {
  refundRateBp: number;
  colisBaseCents: number;
  colisPerKgCents: number;
  lockoutThreshold: number;
}

const PAIRS = [
  ['pending', 'pending'],
  ['confirmed', 'completed'],
  ['completed', 'completed'],
  ['cancelled', 'failed'],
  ['cancelled', 'completed'],
  ['refunded', 'refunded'],
] as const;

const E164 = /^\+[1-9]\d{7,14}$/;

interface SqlCheck {
  name: string;
  /** Selects the ids of offending rows. */
  sql: string;
  bindings?: unknown[];
}

function sqlChecks(s: CheckSettings, reference?: Date): SqlCheck[] {
  const pairSql = PAIRS.map(([r, p]) => `(r.status = '${r}' and p.status = '${p}')`).join(' or ');
  const checks: SqlCheck[] = [
    {
      name: 'each compte has exactly the profile of its role',
      sql: `select c.id from comptes c join roles ro on ro.id = c.role_id
        left join (select compte_id, count(*) n from administrateurs group by compte_id) a on a.compte_id = c.id
        left join (select compte_id, count(*) n from transporteurs group by compte_id) t on t.compte_id = c.id
        left join (select compte_id, count(*) n from utilisateurs group by compte_id) u on u.compte_id = c.id
        where coalesce(a.n, 0) + coalesce(t.n, 0) + coalesce(u.n, 0) <> 1
           or (ro.name = 'admin' and a.n is null)
           or (ro.name = 'transporteur' and t.n is null)
           or (ro.name not in ('admin', 'transporteur') and u.n is null)`,
    },
    {
      name: 'lockout: locked exactly when failed_logins reaches the threshold; attempts >= failures',
      sql: `select id from comptes where (account_locked = true and failed_logins < ?) or (account_locked = false and failed_logins >= ?)
        or login_attempts < failed_logins`,
      bindings: [s.lockoutThreshold, s.lockoutThreshold],
    },
    {
      name: 'trajets: price >= 0, 1 <= seats_count <= 50, available_seats = seats_count - live seats',
      sql: `select t.id from trajets t left join (select trajet_id, sum(seats_reserved) s from reservations
          where status in ('pending', 'confirmed') group by trajet_id) l on l.trajet_id = t.id
        where t.price < 0 or t.seats_count < 1 or t.seats_count > 50 or t.available_seats < 0
           or t.available_seats > t.seats_count or t.available_seats <> t.seats_count - coalesce(l.s, 0)`,
    },
    {
      name: 'a completed or cancelled trajet has no pending or confirmed reservation',
      sql: `select r.id from reservations r join trajets t on t.id = r.trajet_id
        where t.status in ('completed', 'cancelled') and r.status in ('pending', 'confirmed')`,
    },
    {
      name: 'trajets are carried by passagers or mixte transporteurs',
      sql: `select tr.id from trajets tr join transporteurs t on t.id = tr.transporteur_id where t.company_type not in ('passagers', 'mixte')`,
    },
    {
      name: 'one paiement per reservation, in an allowed status pair, amount = total_amount',
      sql: `select r.id from reservations r left join paiements p on p.reservation_id = r.id
        where p.id is null or not (${pairSql}) or p.amount <> r.total_amount`,
    },
    {
      name: 'refunds: a non-refundable booking is refunded only by its trajet\'s cancellation; money kept only when non-refundable',
      sql: `select r.id from reservations r join trajets t on t.id = r.trajet_id join paiements p on p.reservation_id = r.id
        where (r.status = 'refunded' and r.refundable_option = false and t.status <> 'cancelled')
           or (r.status = 'cancelled' and p.status = 'completed' and r.refundable_option = true)`,
    },
    {
      name: 'colis statuses follow their envoi',
      sql: `select c.id from colis c join envois e on e.id = c.envoi_id where not (
          (e.status = 'pending' and c.status = 'pending')
          or (e.status = 'accepted' and c.status in ('packaged', 'lost'))
          or (e.status = 'in_transit' and c.status in ('shipped', 'lost'))
          or (e.status = 'delivered' and c.status in ('delivered', 'lost'))
          or (e.status = 'cancelled' and c.status in ('pending', 'packaged', 'lost')))`,
    },
    {
      name: 'a cancelled envoi\'s colis are all pending, or all packaged/lost',
      sql: `select e.id from envois e where e.status = 'cancelled'
        and exists (select 1 from colis c where c.envoi_id = e.id and c.status = 'pending')
        and exists (select 1 from colis c where c.envoi_id = e.id and c.status in ('packaged', 'lost'))`,
    },
    {
      name: 'envois: compte_id is the expediteur\'s compte; carried by colis or mixte transporteurs',
      sql: `select e.id from envois e join utilisateurs u on u.id = e.expediteur_id join transporteurs t on t.id = e.transporteur_id
        where u.compte_id <> e.compte_id or t.company_type not in ('colis', 'mixte')`,
    },
    {
      name: 'colis: weight > 0, shipping_cost >= 0',
      sql: `select id from colis where weight <= 0 or shipping_cost < 0`,
    },
    {
      name: 'zones: one row per (city_name, transporteur_id)',
      sql: `select min(id) as id from zones_desservies group by city_name, transporteur_id having count(*) > 1`,
    },
    {
      name: 'revoked tokens: revoked before they expire',
      sql: `select id from revoked_tokens where revoked_at > expires_at`,
    },
  ];
  for (const table of ['comptes', 'utilisateurs', 'transporteurs', 'administrateurs', 'zones_desservies', 'trajets', 'reservations', 'paiements', 'envois', 'colis']) {
    checks.push({ name: `${table}: updated_at >= created_at`, sql: `select id from ${table} where updated_at < created_at` });
  }
  if (reference) {
    const ref = toDbTime(reference);
    for (const table of ['comptes', 'utilisateurs', 'transporteurs', 'administrateurs', 'zones_desservies', 'trajets', 'reservations', 'paiements', 'envois', 'colis']) {
      checks.push({ name: `${table}: nothing after the reference time`, sql: `select id from ${table} where updated_at > ? or created_at > ?`, bindings: [ref, ref] });
    }
    checks.push({
      name: 'trajets: completed ones have left; active or suspended ones have not arrived',
      sql: `select id from trajets where (status = 'completed' and departure_time > ?) or (status in ('active', 'suspended') and departure_time < ?)`,
      bindings: [ref, toDbTime(new Date(reference.getTime() - 86400_000))],
    });
    checks.push({
      name: 'reservations are made after the trajet is published and before it leaves',
      sql: `select r.id from reservations r join trajets t on t.id = r.trajet_id where r.reservation_date < t.created_at or r.reservation_date > t.departure_time`,
    });
    checks.push({
      name: 'accounts exist before their reservations and envois',
      sql: `select r.id from reservations r join comptes c on c.id = r.compte_id where c.created_at > r.reservation_date
        union all select e.id from envois e join comptes c on c.id = e.compte_id where c.created_at > e.created_at`,
    });
  }
  return checks;
}

async function ids(knex: Knex, sql: string, bindings: unknown[] = []): Promise<number[]> {
  return (await rawRows<{ id: number | string }>(knex, sql, bindings)).map((r) => Number(r.id));
}

/** Reads a table in id order, page by page, calling `check` on each row; returns offending ids. */
async function scan<T extends { id: number }>(knex: Knex, table: string, columns: string[], check: (row: T) => boolean): Promise<number[]> {
  const bad: number[] = [];
  let after = 0;
  for (;;) {
    const rows = (await knex(table).select(['id', ...columns]).where('id', '>', after).orderBy('id').limit(5000)) as T[];
    for (const row of rows) if (!check(row)) bad.push(row.id);
    if (rows.length < 5000) return bad;
    after = rows[rows.length - 1]!.id;
  }
}

/** Runs every check; an empty database passes them all. */
export async function checkInvariants(knex: Knex, settings: CheckSettings, options: { reference?: Date } = {}): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const push = (name: string, bad: number[]) => out.push({ name, violations: bad.length, sample: bad.slice(0, 5) });
  for (const c of sqlChecks(settings, options.reference)) push(c.name, await ids(knex, c.sql, c.bindings));

  push(
    'emails are trimmed, lower-case and unique',
    await (async () => {
      const seen = new Set<string>();
      return scan<{ id: number; email: string }>(knex, 'comptes', ['email'], (r) => {
        const ok = r.email === r.email.trim().toLowerCase() && !seen.has(r.email);
        seen.add(r.email);
        return ok;
      });
    })(),
  );
  const phone = (col: string) => (r: Record<string, unknown>) => E164.test(String(r[col]));
  push('utilisateurs: phone in E.164', await scan(knex, 'utilisateurs', ['phone_number'], phone('phone_number')));
  push('transporteurs: phone in E.164', await scan(knex, 'transporteurs', ['phone_number'], phone('phone_number')));
  push('reservations: phone in E.164', await scan(knex, 'reservations', ['phone_number'], phone('phone_number')));
  push('envois: recipient phone in E.164', await scan(knex, 'envois', ['recipient_phone'], phone('recipient_phone')));

  // Amounts, to the cent, with the formulas and settings of money.ts.
  const prices = new Map<number, number>();
  await scan<{ id: number; price: DbDecimal }>(knex, 'trajets', ['price'], (r) => {
    prices.set(r.id, toCents(r.price));
    return true;
  });
  push(
    'reservations: supplement and total_amount from money.ts',
    await scan<{ id: number; trajet_id: number; seats_reserved: number; refundable_option: number | boolean; refund_supplement_amount: DbDecimal; total_amount: DbDecimal }>(
      knex,
      'reservations',
      ['trajet_id', 'seats_reserved', 'refundable_option', 'refund_supplement_amount', 'total_amount'],
      (r) => {
        const price = prices.get(r.trajet_id);
        if (price === undefined) return false;
        const sup = refundSupplementCents(price, r.seats_reserved, Number(r.refundable_option) === 1, settings.refundRateBp);
        return toCents(r.refund_supplement_amount) === sup && toCents(r.total_amount) === reservationTotalCents(price, r.seats_reserved, sup);
      },
    ),
  );
  prices.clear();
  push(
    'colis: shipping_cost from money.ts; dimensions LxlxH',
    await scan<{ id: number; weight: DbDecimal; shipping_cost: DbDecimal; dimensions: string | null }>(knex, 'colis', ['weight', 'shipping_cost', 'dimensions'], (r) => {
      const w = toCents(r.weight);
      return (
        w > 0 &&
        toCents(r.shipping_cost) === colisShippingCents(w, settings.colisBaseCents, settings.colisPerKgCents) &&
        (r.dimensions === null || /^\d+x\d+x\d+$/.test(r.dimensions))
      );
    }),
  );
  return out;
}
