/**
 * The invariants of docs/rules.md, checked over the whole database by `maintenance check`.
 * Each rule is ONE set-based SELECT that returns the violating rows (id + what is wrong); nothing
 * loops over rows in the program. Rules that concern reservations/paiements and envois/colis run
 * on the live tables and on the archive tables (an archived record must be as whole and as
 * consistent as a live one), plus rules that tie the two together (no record both live and
 * archived).
 *
 * Amounts are checked with the formulas of src/domain/money.ts written in SQL (same integer-cent
 * arithmetic, half-up division; test/invariants-money.test.ts proves SQL = TypeScript on both
 * databases) and with the CURRENT settings (refund rate, colis base and per-kg rate): a row priced
 * under other settings is reported, and the report says which settings were used. Those are the
 * `pricing` rules, kept apart from `integrity` (the platform app may price with its own settings).
 */
import type { Knex } from 'knex';
import { centsSql, intDivSql, rawRows } from '../db/dialect.js';
import { engineOf } from '../db/engines/index.js';
import {
  COLIS_STATUSES,
  COMPANY_TYPES,
  COMPTE_STATUSES,
  ENVOI_STATUSES,
  PAIEMENT_STATUSES,
  RESERVATION_STATUSES,
  SERVICE_FREQUENCIES,
  TRAJET_STATUSES,
  ZONE_TYPES,
  type ColisStatus,
  type EnvoiStatus,
  type PaiementStatus,
  type ReservationStatus,
} from '../db/schema.js';
import { formatCents } from './money.js';
import { DEFAULT_SETTINGS, type Settings } from './settings.js';

type Db = Knex | Knex.Transaction;

/** Reservations that hold seats. */
export const LIVE_RESERVATION_STATUSES: readonly ReservationStatus[] = ['pending', 'confirmed'];

/**
 * The (reservation, paiement) status pairs of docs/rules.md. `nonRefundableOnly`: a paid
 * reservation cancelled with its money kept is only possible without the refundable option (a paid
 * refundable one is refunded instead).
 */
export const ALLOWED_STATUS_PAIRS: ReadonlyArray<{
  reservation: ReservationStatus;
  paiement: PaiementStatus;
  nonRefundableOnly?: boolean;
}> = [
  { reservation: 'pending', paiement: 'pending' },
  { reservation: 'confirmed', paiement: 'completed' },
  { reservation: 'completed', paiement: 'completed' },
  { reservation: 'cancelled', paiement: 'failed' },
  { reservation: 'cancelled', paiement: 'completed', nonRefundableOnly: true },
  { reservation: 'refunded', paiement: 'refunded' },
];

/** Which colis statuses each envoi status allows (docs/rules.md). */
export const COLIS_STATUSES_BY_ENVOI: Readonly<Record<EnvoiStatus, readonly ColisStatus[]>> = {
  pending: ['pending'],
  accepted: ['packaged', 'lost'],
  in_transit: ['shipped', 'lost'],
  delivered: ['delivered', 'lost'],
  cancelled: ['pending', 'packaged', 'lost'],
};

/** The profile table each role requires (any custom role → utilisateurs). */
export const PROFILE_TABLE_BY_ROLE = { admin: 'administrateurs', transporteur: 'transporteurs' } as const;

export interface Violation {
  rule: string;
  table: string;
  id: number;
  detail: string;
}

/**
 * `integrity`: the data rules every writer must keep (seats, one paiement per reservation, amounts
 * that match, statuses); a violation fails the check (exit 6).
 * `pricing`: amounts recomputed with billettigue's CURRENT settings (refund supplement rate, colis
 * shipping formula). The platform app prices with its own settings, so a difference is reported as
 * a warning, not an integrity failure (unless the caller is strict).
 */
export type RuleClass = 'integrity' | 'pricing';

export interface RuleInfo {
  code: string;
  table: string;
  description: string;
  class: RuleClass;
  /** Set when the database itself also refuses such rows (FK, CHECK, UNIQUE). */
  alsoEnforcedBy?: string;
}

export interface RuleResult extends RuleInfo {
  /** How many rows violate the rule. */
  count: number;
  /** The first `limit` of them, by id. */
  violations: Violation[];
}

export interface CheckReport {
  /** No violation of any rule. */
  clean: boolean;
  rules: RuleResult[];
  /** Total number of violating rows over every rule. */
  violationCount: number;
  /** Violating rows of the integrity rules / of the pricing rules. */
  integrityCount: number;
  pricingCount: number;
  settings: { refundRateBp: number; colisBaseCents: number; colisPerKgCents: number };
  durationMs: number;
}

type Row = Record<string, unknown> & { id: number | string; tbl?: string };

interface SqlKit {
  db: Db;
  settings: Settings;
  /** DECIMAL expression → integer cents (or hundredths of a kg). */
  cents(expr: string): string;
  /** floor((2n + d) / 2d): money.ts divRoundHalfUp for a non-negative integer numerator. */
  halfUp(numerator: string, denominator: number): string;
}

/**
 * A rule is either a `scan` — the rows of `from` that satisfy `when` — or free `sql` (unions, …).
 * Scans over the same `from` are COUNTED together in one pass (one SUM(CASE …) per rule); the
 * violating rows of a rule are only listed when its count is not zero. On a clean database that
 * is one read of each table family instead of one per rule.
 */
interface Scan {
  select: string;
  from: string;
  when: string;
}

interface Rule extends Omit<RuleInfo, 'class'> {
  /** Default `integrity`. */
  class?: RuleClass;
  scan?: (k: SqlKit) => Scan;
  sql?: (k: SqlKit) => string;
  detail(row: Row): string;
}

function sqlOf(rule: Rule, k: SqlKit): string {
  if (rule.sql) return rule.sql(k);
  const s = rule.scan!(k);
  return `select ${s.select} from ${s.from} where ${s.when}`;
}

const list = (values: readonly string[]) => values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
const money = (v: unknown) => formatCents(Number(v));
const kg = (v: unknown) => formatCents(Number(v));

/** Table names of a scope: the live tables or their archives. */
interface Scope {
  archived: boolean;
  reservations: string;
  paiements: string;
  envois: string;
  colis: string;
}
const LIVE: Scope = { archived: false, reservations: 'reservations', paiements: 'paiements', envois: 'envois', colis: 'colis' };
const ARCHIVE: Scope = {
  archived: true,
  reservations: 'reservations_archive',
  paiements: 'paiements_archive',
  envois: 'envois_archive',
  colis: 'colis_archive',
};

/** Reservations with their paiement (UNIQUE reservation_id: one row per reservation). */
const reservationsWithPaiement = (s: Scope) => `${s.reservations} r left join ${s.paiements} p on p.reservation_id = r.id`;
/** Colis with their envoi (one row per colis). */
const colisWithEnvoi = (s: Scope) => `${s.colis} c left join ${s.envois} e on e.id = c.envoi_id`;

const prefix = (s: Scope, code: string) => (s.archived ? `archived_${code}` : code);
const inScope = (s: Scope, text: string) => (s.archived ? `${text} (archive)` : text);

// ---- accounts and profiles -------------------------------------------------------------------

const PROFILE_JOIN = `comptes c
  join roles ro on ro.id = c.role_id
  left join utilisateurs u on u.compte_id = c.id
  left join transporteurs t on t.compte_id = c.id
  left join administrateurs a on a.compte_id = c.id`;
const PROFILE_COUNT = '((case when u.id is null then 0 else 1 end) + (case when t.id is null then 0 else 1 end) + (case when a.id is null then 0 else 1 end))';

const accountRules: Rule[] = [
  {
    code: 'compte_without_profile',
    table: 'comptes',
    description: 'every compte has a profile (utilisateur, transporteur or administrateur)',
    scan: () => ({ select: 'c.id, ro.name as role', from: PROFILE_JOIN, when: `${PROFILE_COUNT} = 0` }),
    detail: (r) => `role ${String(r.role)}: no profile in utilisateurs, transporteurs or administrateurs`,
  },
  {
    code: 'compte_with_several_profiles',
    table: 'comptes',
    description: 'a compte has exactly one profile',
    scan: () => ({ select: 'c.id, ro.name as role, u.id as u_id, t.id as t_id, a.id as a_id', from: PROFILE_JOIN, when: `${PROFILE_COUNT} > 1` }),
    detail: (r) =>
      `role ${String(r.role)}: profiles ` +
      [r.u_id != null ? `utilisateur ${r.u_id}` : '', r.t_id != null ? `transporteur ${r.t_id}` : '', r.a_id != null ? `administrateur ${r.a_id}` : '']
        .filter(Boolean)
        .join(', '),
  },
  {
    code: 'compte_profile_wrong_role',
    table: 'comptes',
    description: "a compte's one profile is the one its role requires (admin → administrateurs, transporteur → transporteurs, other roles → utilisateurs)",
    scan: () => ({
      select: "c.id, ro.name as role, case when u.id is not null then 'utilisateurs' when t.id is not null then 'transporteurs' else 'administrateurs' end as has_profile",
      from: PROFILE_JOIN,
      when: `${PROFILE_COUNT} = 1 and not (
         (ro.name = 'admin' and a.id is not null) or
         (ro.name = 'transporteur' and t.id is not null) or
         (ro.name not in ('admin', 'transporteur') and u.id is not null))`,
    }),
    detail: (r) => {
      const role = String(r.role);
      const wanted = role === 'admin' ? 'administrateurs' : role === 'transporteur' ? 'transporteurs' : 'utilisateurs';
      return `role ${role} needs a profile in ${wanted}, has one in ${String(r.has_profile)}`;
    },
  },
  {
    code: 'profile_without_compte',
    table: 'utilisateurs, transporteurs, administrateurs',
    description: 'every profile belongs to an existing compte',
    alsoEnforcedBy: 'foreign key',
    sql: () =>
      ['utilisateurs', 'transporteurs', 'administrateurs']
        .map((p) => `select x.id, '${p}' as tbl, x.compte_id from ${p} x left join comptes c on c.id = x.compte_id where c.id is null`)
        .join(' union all '),
    detail: (r) => `compte ${String(r.compte_id)} does not exist`,
  },
];

// ---- trajets and seats -----------------------------------------------------------------------

const LIVE_SEATS = `(select trajet_id, sum(seats_reserved) as live_seats from reservations
  where status in (${list(LIVE_RESERVATION_STATUSES)}) group by trajet_id)`;

/** Trajets with the seats their live reservations hold (one row per trajet). */
const TRAJET_SEATS = `trajets t left join ${LIVE_SEATS} s on s.trajet_id = t.id`;

const trajetRules: Rule[] = [
  {
    code: 'trajet_seats_mismatch',
    table: 'trajets',
    description: 'available_seats = seats_count − seats of its pending/confirmed reservations',
    scan: () => ({
      select: 't.id, t.seats_count, t.available_seats, coalesce(s.live_seats, 0) as live_seats',
      from: TRAJET_SEATS,
      when: 't.available_seats <> t.seats_count - coalesce(s.live_seats, 0)',
    }),
    detail: (r) =>
      `available_seats ${r.available_seats}, expected ${Number(r.seats_count) - Number(r.live_seats)} (seats_count ${r.seats_count} − ${r.live_seats} seats of live reservations)`,
  },
  {
    code: 'trajet_overbooked',
    table: 'trajets',
    description: 'live reservations never hold more seats than the trajet has',
    scan: () => ({
      select: 't.id, t.seats_count, s.live_seats',
      from: TRAJET_SEATS,
      when: 's.live_seats > t.seats_count',
    }),
    detail: (r) => `${r.live_seats} seats held by pending/confirmed reservations, seats_count ${r.seats_count}`,
  },
  ...(['completed', 'cancelled'] as const).map(
    (status): Rule => ({
      code: `${status}_trajet_live_reservation`,
      table: 'reservations',
      description: `a ${status} trajet has no pending or confirmed reservation`,
      sql: () =>
        `select r.id, r.status, r.trajet_id from reservations r join trajets t on t.id = r.trajet_id
         where t.status = '${status}' and r.status in (${list(LIVE_RESERVATION_STATUSES)})`,
      detail: (r) => `${String(r.status)} on ${status} trajet ${r.trajet_id}`,
    }),
  ),
];

// ---- reservations and paiements (live and archive) ----------------------------------------------

/**
 * ALLOWED_STATUS_PAIRS as one CASE on the reservation status (most frequent first), true when the
 * pair is allowed: a few string comparisons per row instead of one per pair (collation-aware
 * comparisons dominate the cost of this rule on a large table).
 */
function allowedPairSql(): string {
  const frequentFirst: ReservationStatus[] = ['completed', 'confirmed', 'cancelled', 'refunded', 'pending'];
  const order = [...frequentFirst, ...RESERVATION_STATUSES.filter((x) => !frequentFirst.includes(x))];
  const branches = order.map((rs) => {
    const pairs = ALLOWED_STATUS_PAIRS.filter((p) => p.reservation === rs);
    const plain = pairs.filter((p) => !p.nonRefundableOnly).map((p) => p.paiement);
    const kept = pairs.filter((p) => p.nonRefundableOnly).map((p) => p.paiement);
    const parts = [
      ...(plain.length ? [`p.status in (${list(plain)})`] : []),
      ...(kept.length ? [`(p.status in (${list(kept)}) and r.refundable_option = false)`] : []),
    ];
    // TRUE/FALSE literals: booleans on PostgreSQL, 1/0 on MySQL and SQLite.
    return `when '${rs}' then ${parts.length ? `(${parts.join(' or ')})` : 'false'}`;
  });
  return `case r.status ${branches.join(' ')} else false end`;
}

function reservationRules(s: Scope): Rule[] {
  const R = s.reservations;
  const P = s.paiements;
  const RP = reservationsWithPaiement(s);
  const pairSql = allowedPairSql();
  const rules: Rule[] = [
    {
      code: prefix(s, 'reservation_without_paiement'),
      table: R,
      description: inScope(s, 'every reservation has exactly one paiement (a UNIQUE index forbids a second one)'),
      scan: () => ({ select: 'r.id, r.status', from: RP, when: 'p.id is null' }),
      detail: (r) => `${String(r.status)} reservation has no paiement${s.archived ? ' in paiements_archive' : ''}`,
    },
    {
      code: prefix(s, 'paiement_without_reservation'),
      table: P,
      description: inScope(s, "every paiement belongs to an existing reservation"),
      alsoEnforcedBy: 'foreign key',
      sql: () => `select p.id, p.reservation_id from ${P} p left join ${R} r on r.id = p.reservation_id where r.id is null`,
      detail: (r) => `reservation ${r.reservation_id} does not exist in ${R}`,
    },
    {
      code: prefix(s, 'paiement_amount_mismatch'),
      table: P,
      description: inScope(s, "a paiement's amount equals its reservation's total_amount"),
      scan: (k) => ({
        select: `p.id, p.reservation_id, ${k.cents('p.amount')} as amount, ${k.cents('r.total_amount')} as total`,
        from: RP,
        when: `p.id is not null and ${k.cents('p.amount')} <> ${k.cents('r.total_amount')}`,
      }),
      detail: (r) => `amount ${money(r.amount)} but reservation ${r.reservation_id} total_amount ${money(r.total)}`,
    },
    {
      code: prefix(s, 'reservation_paiement_status'),
      table: R,
      description: inScope(s, 'the (reservation, paiement) statuses are an allowed pair'),
      scan: () => ({
        select: 'r.id, r.status, p.id as paiement_id, p.status as paiement_status, r.refundable_option',
        from: RP,
        when: `p.id is not null and not (${pairSql})`,
      }),
      detail: (r) =>
        `reservation ${String(r.status)} with paiement ${r.paiement_id} ${String(r.paiement_status)}` +
        (r.status === 'cancelled' && r.paiement_status === 'completed' ? ' (refundable: a paid refundable reservation is refunded, not cancelled)' : ''),
    },
    {
      code: prefix(s, 'reservation_total_formula'),
      table: R,
      description: inScope(s, 'total_amount = price × seats_reserved + refund_supplement_amount (price ≥ 0)'),
      scan: (k) => {
        const base = `(${k.cents('r.total_amount')} - ${k.cents('r.refund_supplement_amount')})`;
        return {
          select: `r.id, r.seats_reserved, ${k.cents('r.total_amount')} as total, ${k.cents('r.refund_supplement_amount')} as supplement`,
          from: RP,
          when: `r.seats_reserved >= 1 and (${base} < 0 or ${base} - r.seats_reserved * ${intDivSql(k.db, base, 'r.seats_reserved')} <> 0)`,
        };
      },
      detail: (r) =>
        `total ${money(r.total)} − supplement ${money(r.supplement)} = ${money(Number(r.total) - Number(r.supplement))} is not ${r.seats_reserved} seat(s) × a price`,
    },
    {
      code: prefix(s, 'reservation_supplement_formula'),
      table: R,
      class: 'pricing',
      description: inScope(s, 'refund_supplement_amount = refund rate × price × seats, half-up to the cent (0 when not refundable)'),
      scan: (k) => {
        const base = `(${k.cents('r.total_amount')} - ${k.cents('r.refund_supplement_amount')})`;
        const expected = `(case when r.refundable_option = true then ${k.halfUp(`${base} * ${k.settings.refundRateBp}`, 10_000)} else 0 end)`;
        return {
          select: `r.id, r.refundable_option, ${k.cents('r.refund_supplement_amount')} as supplement, ${expected} as expected`,
          from: RP,
          when: `${base} >= 0 and ${k.cents('r.refund_supplement_amount')} <> ${expected}`,
        };
      },
      detail: (r) =>
        `supplement ${money(r.supplement)}, expected ${money(r.expected)} (${Number(r.refundable_option) ? 'refundable' : 'not refundable'})`,
    },
  ];
  if (s.archived) {
    rules.push({
      code: 'archived_reservation_not_final',
      table: R,
      description: 'only finished reservations (completed, cancelled, refunded) are archived',
      alsoEnforcedBy: 'CHECK',
      scan: () => ({ select: 'r.id, r.status', from: RP, when: "r.status not in ('completed', 'cancelled', 'refunded')" }),
      detail: (r) => `status ${String(r.status)} is not final`,
    });
  }
  return rules;
}

// ---- envois and colis (live and archive) ---------------------------------------------------------

function envoiRules(s: Scope): Rule[] {
  const E = s.envois;
  const C = s.colis;
  const CE = colisWithEnvoi(s);
  const matrix = `case e.status ${Object.entries(COLIS_STATUSES_BY_ENVOI)
    .map(([envoi, colis]) => `when '${envoi}' then c.status in (${list(colis)})`)
    .join(' ')} else false end`;
  const rules: Rule[] = [
    {
      code: prefix(s, 'envoi_colis_status'),
      table: C,
      description: inScope(s, "a colis' status matches its envoi's (e.g. an in_transit envoi has shipped or lost colis)"),
      scan: () => ({ select: 'c.id, c.status, c.envoi_id, e.status as envoi_status', from: CE, when: `e.id is not null and not (${matrix})` }),
      detail: (r) => {
        const allowed = COLIS_STATUSES_BY_ENVOI[r.envoi_status as EnvoiStatus] ?? [];
        return `colis ${String(r.status)} in ${String(r.envoi_status)} envoi ${r.envoi_id} (allowed: ${allowed.join(', ')})`;
      },
    },
    {
      code: prefix(s, 'colis_shipping_cost'),
      table: C,
      class: 'pricing',
      description: inScope(s, 'shipping_cost = colis base + per-kg rate × weight, half-up to the cent'),
      scan: (k) => {
        const expected = `(${k.settings.colisBaseCents} + ${k.halfUp(`${k.cents('c.weight')} * ${k.settings.colisPerKgCents}`, 100)})`;
        return {
          select: `c.id, ${k.cents('c.weight')} as weight, ${k.cents('c.shipping_cost')} as cost, ${expected} as expected`,
          from: CE,
          when: `${k.cents('c.weight')} >= 0 and ${k.cents('c.shipping_cost')} <> ${expected}`,
        };
      },
      detail: (r) => `shipping_cost ${money(r.cost)} for ${kg(r.weight)} kg, expected ${money(r.expected)}`,
    },
    {
      code: prefix(s, 'colis_without_envoi'),
      table: C,
      description: inScope(s, 'every colis belongs to an existing envoi'),
      alsoEnforcedBy: 'foreign key',
      scan: () => ({ select: 'c.id, c.envoi_id', from: CE, when: 'e.id is null' }),
      detail: (r) => `envoi ${r.envoi_id} does not exist in ${E}`,
    },
    {
      code: prefix(s, 'envoi_compte_not_expediteur'),
      table: E,
      description: inScope(s, "an envoi's compte_id is its expediteur's compte"),
      sql: () =>
        `select e.id, e.compte_id, e.expediteur_id, u.compte_id as expediteur_compte from ${E} e
         join utilisateurs u on u.id = e.expediteur_id where e.compte_id <> u.compte_id`,
      detail: (r) => `compte_id ${r.compte_id} but expediteur ${r.expediteur_id} is compte ${r.expediteur_compte}`,
    },
  ];
  if (s.archived) {
    rules.push({
      code: 'archived_envoi_not_final',
      table: E,
      description: 'only finished envois (delivered, cancelled) are archived',
      alsoEnforcedBy: 'CHECK',
      scan: () => ({ select: 'e.id, e.status', from: `${E} e`, when: "e.status not in ('delivered', 'cancelled')" }),
      detail: (r) => `status ${String(r.status)} is not final`,
    });
  }
  return rules;
}

// ---- live and archive together ----------------------------------------------------------------------

const crossRules: Rule[] = [
  {
    code: 'live_and_archived',
    table: 'reservations, paiements, envois, colis',
    description: 'a record is either live or archived, never both (no duplicate after an interrupted archive)',
    sql: () =>
      (['reservations', 'paiements', 'envois', 'colis'] as const)
        .map((t) => `select x.id, '${t}' as tbl from ${t} x join ${t}_archive a on a.id = x.id`)
        .join(' union all '),
    detail: (r) => `id present in ${String(r.tbl)} and in ${String(r.tbl)}_archive`,
  },
];

// ---- the database's CHECK constraints, checked again (servers that ignore CHECKs, lax restores) ----

interface RangeCheck {
  /** The refused condition, over the columns of the row alias `x` given. */
  when: (x: string) => string;
  says: string;
}

/**
 * The CHECKs of one table as one rule. `from`/`alias` let it share the counting pass of other
 * rules reading the same rows (one row per `table` row there).
 */
function rangeRule(table: string, checks: RangeCheck[], from = `${table} x`, alias = 'x'): Rule {
  const problem = `(case ${checks.map((c) => `when ${c.when(alias)} then '${c.says.replace(/'/g, "''")}'`).join(' ')} end)`;
  return {
    code: `check_${table}`,
    table,
    description: `the CHECK constraints of ${table} hold; refused: ${checks.map((c) => c.says).join('; ')}`,
    alsoEnforcedBy: 'CHECK',
    scan: () => ({ select: `${alias}.id, ${problem} as problem`, from, when: `${problem} is not null` }),
    detail: (r) => String(r.problem),
  };
}

const statusCheck = (values: readonly string[], column = 'status'): RangeCheck => ({
  when: (x) => `${x}.${column} not in (${list(values)})`,
  says: `${column} not one of ${values.join(', ')}`,
});

const rangeRules: Rule[] = [
  rangeRule(
    'comptes',
    [statusCheck(COMPTE_STATUSES), { when: (x) => `${x}.login_attempts < 0 or ${x}.failed_logins < 0`, says: 'login counters < 0' }],
    PROFILE_JOIN,
    'c',
  ),
  rangeRule('transporteurs', [statusCheck(COMPANY_TYPES, 'company_type')]),
  rangeRule(
    'trajets',
    [
      { when: (x) => `${x}.price < 0`, says: 'price < 0' },
      { when: (x) => `${x}.seats_count < 1 or ${x}.seats_count > 50`, says: 'seats_count not between 1 and 50' },
      { when: (x) => `${x}.available_seats < 0 or ${x}.available_seats > ${x}.seats_count`, says: 'available_seats not between 0 and seats_count' },
      { when: (x) => `${x}.max_package_weight < 0`, says: 'max_package_weight < 0' },
      statusCheck(TRAJET_STATUSES),
    ],
    TRAJET_SEATS,
    't',
  ),
  rangeRule(
    'reservations',
    [
      { when: (x) => `${x}.seats_reserved < 1`, says: 'seats_reserved < 1' },
      { when: (x) => `${x}.refund_supplement_amount < 0 or ${x}.total_amount < 0`, says: 'amount < 0' },
      statusCheck(RESERVATION_STATUSES),
    ],
    reservationsWithPaiement(LIVE),
    'r',
  ),
  rangeRule('paiements', [{ when: (x) => `${x}.amount < 0`, says: 'amount < 0' }, statusCheck(PAIEMENT_STATUSES)]),
  rangeRule('envois', [statusCheck(ENVOI_STATUSES)]),
  rangeRule(
    'colis',
    [
      { when: (x) => `${x}.weight < 0`, says: 'weight < 0' },
      { when: (x) => `${x}.shipping_cost < 0`, says: 'shipping_cost < 0' },
      statusCheck(COLIS_STATUSES),
    ],
    colisWithEnvoi(LIVE),
    'c',
  ),
  rangeRule('zones_desservies', [
    statusCheck(ZONE_TYPES, 'zone_type'),
    {
      when: (x) => `${x}.service_frequency is not null and ${x}.service_frequency not in (${list(SERVICE_FREQUENCIES)})`,
      says: `service_frequency not one of ${SERVICE_FREQUENCIES.join(', ')}`,
    },
    { when: (x) => `${x}.max_weight_capacity < 0`, says: 'max_weight_capacity < 0' },
  ]),
];

const RULES: Rule[] = [
  ...accountRules,
  ...trajetRules,
  ...reservationRules(LIVE),
  ...envoiRules(LIVE),
  ...reservationRules(ARCHIVE),
  ...envoiRules(ARCHIVE),
  ...crossRules,
  ...rangeRules,
];

/** Every rule, in the order they run (for docs, --help and tests). */
export function listRules(): RuleInfo[] {
  return RULES.map((r) => info(r));
}

function info(r: Rule): RuleInfo {
  return { code: r.code, table: r.table, description: r.description, class: r.class ?? 'integrity', ...(r.alsoEnforcedBy ? { alsoEnforcedBy: r.alsoEnforcedBy } : {}) };
}

export interface CheckOptions {
  /** Violations listed per rule (all are counted). Default 100. */
  limit?: number;
  /** Only these rule codes (default: all). Unknown codes are the caller's to refuse. */
  only?: readonly string[];
  /** Called as each rule is counted (progress). */
  onRule?: (done: number, total: number) => void;
}

function kit(db: Db, settings: Settings): SqlKit {
  return {
    db,
    settings,
    cents: (expr) => centsSql(db, expr),
    halfUp: (numerator, denominator) => intDivSql(db, `2 * (${numerator}) + ${denominator}`, String(2 * denominator)),
  };
}

/** Runs `tasks` with at most `n` in flight. */
async function inParallel(tasks: Array<() => Promise<void>>, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
}

/**
 * Runs every invariant (or `only` some) and returns what violates them. Read-only.
 * 1. Counting: scans over the same rows share one pass (SUM(CASE WHEN … THEN 1 …) per rule); other
 *    rules are counted with their own statement. On MySQL (outside a transaction) two statements
 *    run at a time.
 * 2. Listing: only for rules whose count is not zero, the first `limit` violating rows by id.
 * Each statement reads one consistent view (InnoDB consistent read, SQLite statement): a
 * reservation and its paiement written in one transaction never show up half-done.
 */
export async function checkInvariants(db: Db, settings: Settings, options: CheckOptions = {}): Promise<CheckReport> {
  const started = Date.now();
  const limit = options.limit ?? 100;
  const k = kit(db, settings);
  const rules = options.only ? RULES.filter((r) => options.only!.includes(r.code)) : RULES;
  const counts = new Map<string, number>();
  let done = 0;
  const counted = (codes: string[]) => {
    done += codes.length;
    options.onRule?.(done, rules.length);
  };

  const passes = new Map<string, Array<{ rule: Rule; scan: Scan }>>();
  const tasks: Array<() => Promise<void>> = [];
  for (const rule of rules) {
    if (rule.scan) {
      const scan = rule.scan(k);
      const group = passes.get(scan.from) ?? [];
      group.push({ rule, scan });
      passes.set(scan.from, group);
    } else {
      tasks.push(async () => {
        const [c] = await rawRows<{ n: number | string }>(db, `select count(*) as n from (${rule.sql!(k)}) v`);
        counts.set(rule.code, Number(c!.n));
        counted([rule.code]);
      });
    }
  }
  for (const [from, group] of passes) {
    tasks.unshift(async () => {
      const sums = group.map((g, i) => `coalesce(sum(case when ${g.scan.when} then 1 else 0 end), 0) as c${i}`).join(', ');
      const [row] = await rawRows<Record<string, number | string>>(db, `select ${sums} from ${from}`);
      group.forEach((g, i) => counts.set(g.rule.code, Number(row?.[`c${i}`] ?? 0)));
      counted(group.map((g) => g.rule.code));
    });
  }
  const inTransaction = Boolean((db as { isTransaction?: boolean }).isTransaction);
  await inParallel(tasks, inTransaction ? 1 : engineOf(db).parallelReads);

  const results: RuleResult[] = [];
  for (const rule of rules) {
    const count = counts.get(rule.code) ?? 0;
    const rows = count > 0 ? await rawRows<Row>(db, `select * from (${sqlOf(rule, k)}) v order by v.id limit ${limit}`) : [];
    results.push({
      ...info(rule),
      count,
      violations: rows.map((r) => ({ rule: rule.code, table: r.tbl ?? rule.table, id: Number(r.id), detail: rule.detail(r) })),
    });
  }
  const violationCount = results.reduce((n, r) => n + r.count, 0);
  const pricingCount = results.reduce((n, r) => n + (r.class === 'pricing' ? r.count : 0), 0);
  return {
    clean: violationCount === 0,
    rules: results,
    violationCount,
    integrityCount: violationCount - pricingCount,
    pricingCount,
    settings: { refundRateBp: settings.refundRateBp, colisBaseCents: settings.colisBaseCents, colisPerKgCents: settings.colisPerKgCents },
    durationMs: Date.now() - started,
  };
}

/** The SQL of one rule (for tests and EXPLAIN in the benchmark). */
export function ruleSql(db: Db, settings: Settings, code: string): string {
  const rule = RULES.find((r) => r.code === code);
  if (!rule) throw new Error(`unknown rule ${code}`);
  return sqlOf(rule, kit(db, settings));
}

/** SQL of money.ts's divRoundHalfUp and cents conversion, exposed for the SQL = TypeScript test. */
export function moneySqlKit(db: Db): { cents(expr: string): string; halfUp(numerator: string, denominator: number): string } {
  const k = kit(db, DEFAULT_SETTINGS);
  return { cents: k.cents, halfUp: k.halfUp };
}
