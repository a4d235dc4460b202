/**
 * Accounts (comptes) and their profiles: finding, listing, creating, changing state, moving between
 * roles. Rules of docs/rules.md: every compte has exactly one profile, chosen by its role; emails are
 * trimmed and lower-cased; phones stored as E.164.
 *
 * Functions that change something take a transaction, lock the rows they decide on, and return the
 * before/after summary the caller writes to the audit log (never the password hash).
 */
import type { Knex } from 'knex';
import type { AdministrateurRow, CompteRow, RoleRow, TransporteurRow, UtilisateurRow, ZoneRow } from '../db/rows.js';
import { COMPANY_TYPES, COMPTE_STATUSES, type CompanyType, type CompteStatus } from '../db/schema.js';
import { isoOrNull, toBool, toDbTime, toMoneyString } from '../db/values.js';
import { Conflict, InvalidInput, NotFound, NoChange } from './errors.js';
import { findCompte } from './lookup.js';
import { findRole, PROFILE_TABLE, profileKindOf, type ProfileKind } from './roles.js';
import { normalizeEmail, normalizePhone, oneOf, optionalText, requireText } from './validate.js';
import { insertId, orderByNullsLow, whereLike } from '../db/dialect.js';

type Db = Knex | Knex.Transaction;

// ---- status machine ------------------------------------------------------------------------

/**
 * Allowed status changes of a compte. `deleted` is final: a soft-deleted account keeps its history
 * (reservations, envois, audit) but never comes back; `delete --hard` removes the row instead.
 */
export const TRANSITIONS: Record<CompteStatus, readonly CompteStatus[]> = {
  active: ['inactive', 'suspended', 'deleted'],
  inactive: ['active', 'suspended', 'deleted'],
  suspended: ['active', 'inactive', 'deleted'],
  deleted: [],
};

export function canTransition(from: CompteStatus, to: CompteStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The verbs that move the status, and where each one goes. */
export const STATUS_VERBS = {
  activate: 'active',
  deactivate: 'inactive',
  suspend: 'suspended',
  delete: 'deleted',
} as const satisfies Record<string, CompteStatus>;
export type StatusVerb = keyof typeof STATUS_VERBS;

function assertTransition(c: CompteRow, to: CompteStatus, verb: string): void {
  if (canTransition(c.status, to)) return;
  const allowed = TRANSITIONS[c.status];
  const hint =
    c.status === to
      ? `it is already ${to}`
      : allowed.length === 0
        ? `${c.status} is final`
        : `from ${c.status} it can only become ${allowed.join(', ')}`;
  if (c.status === to) throw new NoChange(`account ${c.email} is already ${to}`, { code: 'no_change', details: { status: c.status } });
  throw new Conflict(`cannot ${verb} account ${c.email}: its status is ${c.status} (${hint})`, {
    code: 'forbidden_transition',
    details: { status: c.status, wanted: to },
  });
}

function assertNotDeleted(c: CompteRow, verb: string): void {
  if (c.status === 'deleted') {
    throw new Conflict(`cannot ${verb} account ${c.email}: it is deleted (soft-deleted accounts are kept for history only)`, {
      code: 'account_deleted',
      details: { status: c.status },
    });
  }
}

// ---- shapes --------------------------------------------------------------------------------

/** One account as lists, JSON and audit summaries show it. Never carries the password hash. */
export interface AccountSummary {
  id: number;
  email: string;
  role: string;
  /** "First Last" for utilisateurs and admins, the company (or phone) for transporteurs. */
  name: string | null;
  phone_number: string | null;
  company_name: string | null;
  status: CompteStatus;
  account_locked: boolean;
  email_verified: boolean;
  phone_verified: boolean;
  failed_logins: number;
  login_attempts: number;
  last_login: string | null;
  created_at: string | null;
}

interface JoinedRow {
  id: number;
  email: string;
  status: CompteStatus;
  email_verified: number | boolean;
  phone_verified: number | boolean;
  account_locked: number | boolean;
  failed_logins: number;
  login_attempts: number;
  last_login: string | null;
  created_at: string;
  role: string | null;
  u_first_name: string | null;
  u_last_name: string | null;
  u_phone: string | null;
  t_phone: string | null;
  t_company_name: string | null;
  a_first_name: string | null;
  a_last_name: string | null;
}

function joinedQuery(db: Db): Knex.QueryBuilder {
  // LEFT JOINs only: comptes stays the driving table, so its (status, id)-style indexes serve the
  // ORDER BY … LIMIT of a page (an inner join on roles lets MySQL start from roles and filesort).
  return db('comptes as c')
    .leftJoin('roles as r', 'r.id', 'c.role_id')
    .leftJoin('utilisateurs as u', 'u.compte_id', 'c.id')
    .leftJoin('transporteurs as t', 't.compte_id', 'c.id')
    .leftJoin('administrateurs as a', 'a.compte_id', 'c.id')
    .select(
      'c.id',
      'c.email',
      'c.status',
      'c.email_verified',
      'c.phone_verified',
      'c.account_locked',
      'c.failed_logins',
      'c.login_attempts',
      'c.last_login',
      'c.created_at',
      'r.name as role',
      'u.first_name as u_first_name',
      'u.last_name as u_last_name',
      'u.phone_number as u_phone',
      't.phone_number as t_phone',
      't.company_name as t_company_name',
      'a.first_name as a_first_name',
      'a.last_name as a_last_name',
    );
}

function fullName(first: string | null, last: string | null): string | null {
  const s = [first, last].filter(Boolean).join(' ');
  return s === '' ? null : s;
}

function toSummary(r: JoinedRow): AccountSummary {
  return {
    id: r.id,
    email: r.email,
    role: r.role ?? '?',
    name: fullName(r.u_first_name, r.u_last_name) ?? fullName(r.a_first_name, r.a_last_name) ?? r.t_company_name ?? r.t_phone,
    phone_number: r.u_phone ?? r.t_phone,
    company_name: r.t_company_name,
    status: r.status,
    account_locked: toBool(r.account_locked),
    email_verified: toBool(r.email_verified),
    phone_verified: toBool(r.phone_verified),
    failed_logins: Number(r.failed_logins),
    login_attempts: Number(r.login_attempts),
    last_login: isoOrNull(r.last_login),
    created_at: isoOrNull(r.created_at),
  };
}

/** The summary of one account by id (inside or outside a transaction). */
export async function accountSummary(db: Db, id: number): Promise<AccountSummary> {
  const row = (await joinedQuery(db).where('c.id', id).first()) as JoinedRow | undefined;
  if (!row) throw new NotFound(`no account with id ${id}`, { code: 'account_not_found' });
  return toSummary(row);
}

// ---- list ----------------------------------------------------------------------------------

/** `--sort` fields (never raw SQL) and the column each one orders by. */
export const SORT_FIELDS = {
  id: { column: 'c.id', nullable: false },
  email: { column: 'c.email', nullable: false },
  created_at: { column: 'c.created_at', nullable: false },
  last_login: { column: 'c.last_login', nullable: true },
  failed_logins: { column: 'c.failed_logins', nullable: false },
} as const;
export type SortField = keyof typeof SORT_FIELDS;
export interface Sort {
  field: SortField;
  direction: 'asc' | 'desc';
}

/** `field`, `field:asc` or `field:desc`, the field from SORT_FIELDS. */
export function parseSort(raw: string): Sort {
  const [field = '', dir = 'asc', ...rest] = raw.trim().toLowerCase().split(':');
  const fields = Object.keys(SORT_FIELDS);
  if (!fields.includes(field) || !['asc', 'desc'].includes(dir) || rest.length > 0) {
    throw new InvalidInput(`--sort "${raw}" is not allowed: use one of ${fields.join(', ')}, optionally with :asc or :desc (e.g. last_login:desc)`, {
      code: 'invalid_sort',
    });
  }
  return { field: field as SortField, direction: dir as 'asc' | 'desc' };
}

export const UNVERIFIED = ['any', 'email', 'phone'] as const;
export type Unverified = (typeof UNVERIFIED)[number];

export interface AccountListQuery {
  /** Role name or id. */
  role?: string;
  status?: string;
  locked?: boolean;
  /** `any`: email or phone not verified. */
  unverified?: Unverified;
  search?: string;
  createdSince?: Date;
  sort?: Sort;
  limit: number;
  /** Keyset cursor: the id of the last account of the previous page. */
  after?: number;
}

export const MAX_LIMIT = 10000;

/**
 * LIKE escaping with `!` as the escape character: a backslash would itself need escaping in MySQL
 * string literals but not in SQLite; `!` means the same on both.
 */
function escapeLike(s: string): string {
  return s.replace(/[!%_]/g, (m) => `!${m}`);
}

/** `column LIKE %text%`, the user's % and _ taken literally (case-insensitive on every engine). */
function whereContains(qb: Knex.QueryBuilder, column: string, text: string, or: boolean): void {
  whereLike(qb, column, `%${escapeLike(text)}%`, or);
}

const PHONE_LIKE = /^\+?[\d\s.\-()/\u00a0]{3,}$/;

/** Separators people and apps put in phone numbers: removed before comparing digits. */
const PHONE_SEPARATORS = [' ', '\u00a0', '.', '-', '(', ')', '/'];

/** SQL: a phone column (bound as ??) with its separators removed (plain REPLACE: the same on every engine). */
const PHONE_DIGITS_SQL = PHONE_SEPARATORS.reduce((expr, sep) => `replace(${expr}, '${sep}', '')`, '??');

/**
 * The digits a phone search looks for, whatever the format typed: for a French number its
 * national significant digits (`+33 6 12 34 56 78`, `0033612345678`, `06.12.34.56.78` and
 * `0612345678` all give `612345678`), which every stored form contains (`+33612345678`,
 * `0612345678`, `06 12 34 56 78` once separators are removed); other numbers: their digits.
 */
export function phoneSearchDigits(text: string): string {
  const t = text.trim().replace(/\(0\)/g, '');
  let digits = t.replace(/\D/g, '');
  if (t.startsWith('+')) {
    if (digits.startsWith('33')) digits = digits.slice(2);
  } else if (digits.startsWith('0033')) {
    digits = digits.slice(4);
  } else if (digits.startsWith('0')) {
    digits = digits.slice(1);
  }
  return digits;
}

/**
 * `--search`: every word must match the email, a first or last name, a phone or the company name.
 * Text that looks like (part of) a phone number is matched on digits on both sides, so
 * "+33612345678", "06 12 34 56 78" and "06 12 34" all find a phone stored as "0612345678",
 * "06 12 34 56 78" or "+33612345678" (the platform app stores phones as typed). No index can serve
 * a substring match: it reads the profiles once (docs/accounts.md has the measured cost).
 */
function applySearch(qb: Knex.QueryBuilder, search: string): void {
  const text = search.trim();
  if (text === '') throw new InvalidInput('--search needs some text');
  if (PHONE_LIKE.test(text) && /\d{2}/.test(text.replace(/\D/g, ''))) {
    const like = `%${escapeLike(phoneSearchDigits(text))}%`;
    qb.where((w) => {
      w.whereRaw(`${PHONE_DIGITS_SQL} like ? escape '!'`, ['u.phone_number', like]);
      w.orWhereRaw(`${PHONE_DIGITS_SQL} like ? escape '!'`, ['t.phone_number', like]);
      whereContains(w, 'c.email', text, true);
    });
    return;
  }
  for (const word of text.split(/\s+/)) {
    qb.where((w) => {
      whereContains(w, 'c.email', word.toLowerCase(), false);
      for (const col of ['u.first_name', 'u.last_name', 'a.first_name', 'a.last_name', 'u.phone_number', 't.phone_number', 't.company_name']) {
        whereContains(w, col, word, true);
      }
    });
  }
}

export function validateLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidInput(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got ${limit}`, { code: 'invalid_limit' });
  }
  return limit;
}

/**
 * A page of accounts, keyset-paginated on (sort value, id): `after` is the id of the last row of
 * the previous page, so pages stay exact while rows are added, and deep pages cost what the first
 * one does (no OFFSET).
 */
export async function listAccounts(db: Db, q: AccountListQuery): Promise<AccountSummary[]> {
  const limit = validateLimit(q.limit);
  const sort = q.sort ?? { field: 'id', direction: 'asc' };
  const { column, nullable } = SORT_FIELDS[sort.field];
  const qb = joinedQuery(db);
  if (q.role !== undefined) {
    const role = await findRole(db, q.role, { missing: 'invalid', field: '--role' });
    qb.where('c.role_id', role.id);
  }
  if (q.status !== undefined) qb.where('c.status', oneOf(q.status, COMPTE_STATUSES, '--status'));
  if (q.locked) qb.where('c.account_locked', true);
  if (q.unverified === 'email') qb.where('c.email_verified', false);
  else if (q.unverified === 'phone') qb.where('c.phone_verified', false);
  else if (q.unverified === 'any') qb.where((w) => w.where('c.email_verified', false).orWhere('c.phone_verified', false));
  if (q.createdSince) qb.where('c.created_at', '>=', toDbTime(q.createdSince));
  if (q.search !== undefined) applySearch(qb, q.search);

  if (q.after !== undefined) {
    const asc = sort.direction === 'asc';
    const cmp = asc ? '>' : '<';
    if (sort.field === 'id') {
      qb.where('c.id', cmp, q.after);
    } else {
      const cursor = (await db('comptes').where('id', q.after).first(column.slice(2))) as Record<string, unknown> | undefined;
      if (!cursor) {
        throw new NotFound(`--after ${q.after}: no account with this id any more; start again from the first page`, {
          code: 'cursor_not_found',
        });
      }
      const v = cursor[column.slice(2)] as string | number | null;
      // NULLs sort first ascending and last descending, on every engine (orderByNullsLow).
      if (v === null) {
        if (asc) qb.where((w) => w.where((x) => x.whereNull(column).where('c.id', '>', q.after!)).orWhereNotNull(column));
        else qb.whereNull(column).where('c.id', '<', q.after);
      } else {
        qb.where((w) => {
          w.where(column, cmp, v).orWhere((x) => x.where(column, v).where('c.id', cmp, q.after!));
          if (nullable && !asc) w.orWhereNull(column);
        });
      }
    }
  }
  orderByNullsLow(qb, column, sort.direction);
  if (sort.field !== 'id') qb.orderBy('c.id', sort.direction);
  qb.limit(limit);
  return ((await qb) as JoinedRow[]).map(toSummary);
}

// ---- profiles ------------------------------------------------------------------------------

export interface ProfileInput {
  firstName?: string;
  lastName?: string;
  phone?: string;
  companyName?: string;
  companyType?: string;
}

export type Profile =
  | { kind: 'utilisateur'; first_name: string; last_name: string; phone_number: string }
  | { kind: 'transporteur'; phone_number: string; company_name: string | null; company_type: CompanyType }
  | { kind: 'administrateur'; first_name: string; last_name: string };

const FLAG: Record<keyof ProfileInput, string> = {
  firstName: '--first-name',
  lastName: '--last-name',
  phone: '--phone',
  companyName: '--company-name',
  companyType: '--company-type',
};

const FIELDS_OF: Record<ProfileKind, ReadonlyArray<keyof ProfileInput>> = {
  utilisateur: ['firstName', 'lastName', 'phone'],
  transporteur: ['phone', 'companyName', 'companyType'],
  administrateur: ['firstName', 'lastName'],
};

/**
 * The profile of an account of role `roleName` from the flags given, falling back to `carried`
 * (what the old profile had, when moving roles). Flags that do not belong to the role are refused
 * rather than silently dropped.
 */
export function buildProfile(roleName: string, input: ProfileInput, carried: ProfileInput = {}): Profile {
  const kind = profileKindOf(roleName);
  for (const key of Object.keys(FLAG) as Array<keyof ProfileInput>) {
    if (input[key] !== undefined && !FIELDS_OF[kind].includes(key)) {
      throw new InvalidInput(
        `${FLAG[key]} does not apply to role ${roleName} (profile ${kind}: ${FIELDS_OF[kind].map((k) => FLAG[k]).join(', ')})`,
        { code: 'field_not_applicable' },
      );
    }
  }
  const pick = (key: keyof ProfileInput) => input[key] ?? carried[key];
  const need = (key: keyof ProfileInput) => {
    const v = pick(key);
    if (v === undefined || v.trim() === '') {
      throw new InvalidInput(`${FLAG[key]} is required for role ${roleName} (profile ${kind})`, { code: 'missing_field' });
    }
    return v;
  };
  switch (kind) {
    case 'utilisateur':
      return {
        kind,
        first_name: requireText(need('firstName'), '--first-name'),
        last_name: requireText(need('lastName'), '--last-name'),
        phone_number: normalizePhone(need('phone'), '--phone'),
      };
    case 'transporteur':
      return {
        kind,
        phone_number: normalizePhone(need('phone'), '--phone'),
        company_name: optionalText(pick('companyName'), '--company-name'),
        company_type: oneOf((pick('companyType') ?? 'mixte').trim().toLowerCase(), COMPANY_TYPES, '--company-type'),
      };
    case 'administrateur':
      return {
        kind,
        first_name: requireText(need('firstName'), '--first-name'),
        last_name: requireText(need('lastName'), '--last-name'),
      };
  }
}

async function insertProfile(trx: Db, compteId: number, profile: Profile, now: string): Promise<void> {
  const { kind, ...fields } = profile;
  await trx(PROFILE_TABLE[kind]).insert({ ...fields, compte_id: compteId, created_at: now, updated_at: now });
}

type AnyProfileRow = UtilisateurRow | TransporteurRow | AdministrateurRow;

async function profileRow(db: Db, compteId: number, kind: ProfileKind): Promise<AnyProfileRow | undefined> {
  return (await db(PROFILE_TABLE[kind]).where('compte_id', compteId).first()) as AnyProfileRow | undefined;
}

function carriedFrom(row: AnyProfileRow | undefined): ProfileInput {
  if (!row) return {};
  const r = row as Partial<UtilisateurRow & TransporteurRow>;
  return { firstName: r.first_name, lastName: r.last_name, phone: r.phone_number };
}

// ---- create --------------------------------------------------------------------------------

export interface CreateAccountInput {
  email: string;
  role: string;
  profile: ProfileInput;
}

export interface PreparedAccount {
  email: string;
  role: RoleRow;
  profile: Profile;
}

/**
 * Validates everything about a new account that can be checked before asking for its password:
 * email, role, profile fields, email not taken.
 */
export async function prepareAccount(db: Db, input: CreateAccountInput): Promise<PreparedAccount> {
  const email = normalizeEmail(input.email);
  const role = await findRole(db, input.role, { missing: 'invalid', field: '--role' });
  const profile = buildProfile(role.name, input.profile);
  await assertEmailFree(db, email);
  return { email, role, profile };
}

async function assertEmailFree(db: Db, email: string): Promise<void> {
  const taken = (await db('comptes').where('email', email).first('id')) as { id: number } | undefined;
  if (taken) throw new Conflict(`an account with email ${email} already exists (id ${taken.id})`, { code: 'duplicate_email' });
}

/** Creates the compte and its profile (in the caller's transaction). */
export async function createAccount(trx: Knex.Transaction, prepared: PreparedAccount, passwordHash: string): Promise<AccountSummary> {
  await assertEmailFree(trx, prepared.email);
  const now = toDbTime(new Date());
  const id = await insertId(trx('comptes').insert({
    email: prepared.email,
    password_hash: passwordHash,
    status: 'active',
    email_verified: false,
    phone_verified: false,
    login_attempts: 0,
    failed_logins: 0,
    account_locked: false,
    password_changed_at: now,
    role_id: prepared.role.id,
    created_at: now,
    updated_at: now,
  }));
  await insertProfile(trx, id!, prepared.profile, now);
  return accountSummary(trx, id!);
}

// ---- state changes -------------------------------------------------------------------------

export interface AccountChange {
  account: AccountSummary;
  /** Only the fields that changed, before and after (for the audit log and --json). */
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

async function roleName(db: Db, roleId: number): Promise<string> {
  const r = (await db('roles').where('id', roleId).first('name')) as { name: string } | undefined;
  return r?.name ?? '?';
}

/**
 * Refuses a change that would leave no active admin. Locks every active admin row first (MySQL
 * FOR UPDATE): two admins suspending each other at the same moment serialise here, and the second
 * sees the first's change. SQLite has one writer at a time, which gives the same guarantee.
 */
async function assertNotLastActiveAdmin(trx: Db, c: CompteRow, role: string, what: string): Promise<void> {
  if (role !== 'admin' || c.status !== 'active') return;
  const ids = (await trx('comptes')
    .where({ role_id: c.role_id, status: 'active' })
    .orderBy('id')
    .forUpdate()
    .pluck('id')) as number[];
  if (!ids.some((id) => Number(id) !== c.id)) {
    throw new Conflict(
      `${c.email} is the last active admin: ${what} would leave nobody able to administer the platform; create or activate another admin first`,
      { code: 'last_active_admin' },
    );
  }
}

/**
 * Locks the account for a change that may remove an admin. Every such change locks the active
 * admin rows in id order *before* the target row, so two of them never wait on each other in a
 * cycle (no deadlock), and the second one re-reads the first one's committed change.
 */
async function lockCompte(trx: Db, ref: string): Promise<CompteRow> {
  const peek = await findCompte(trx, ref);
  if ((await roleName(trx, peek.role_id)) === 'admin') {
    await trx('comptes').where({ role_id: peek.role_id, status: 'active' }).orderBy('id').forUpdate().pluck('id');
  }
  return findCompte(trx, peek.id, { forUpdate: true });
}

/** Conditional UPDATE on the state we decided on; 0 rows means someone changed it under us. */
async function updateCompte(trx: Db, c: CompteRow, expected: Partial<CompteRow>, changes: Record<string, unknown>): Promise<void> {
  const n = await trx('comptes')
    .where({ id: c.id, ...expected })
    .update({ ...changes, updated_at: toDbTime(new Date()) });
  if (n !== 1) throw new Conflict(`account ${c.email} was changed by someone else meanwhile: look again and retry`, { code: 'concurrent_change' });
}

/** activate / deactivate / suspend / delete (soft): moves the status along TRANSITIONS. */
export async function changeStatus(trx: Knex.Transaction, ref: string, verb: StatusVerb): Promise<AccountChange> {
  const to = STATUS_VERBS[verb];
  const c = await lockCompte(trx, ref);
  assertTransition(c, to, verb);
  if (to !== 'active') await assertNotLastActiveAdmin(trx, c, await roleName(trx, c.role_id), `${verb === 'delete' ? 'deleting' : verb === 'suspend' ? 'suspending' : 'deactivating'} it`);
  await updateCompte(trx, c, { status: c.status }, { status: to });
  return { account: await accountSummary(trx, c.id), before: { status: c.status }, after: { status: to } };
}

/** lock / unlock. Unlocking also resets the consecutive-failure counter (docs/rules.md). */
export async function setLocked(trx: Knex.Transaction, ref: string, locked: boolean): Promise<AccountChange> {
  const c = await findCompte(trx, ref, { forUpdate: true });
  assertNotDeleted(c, locked ? 'lock' : 'unlock');
  if (toBool(c.account_locked) === locked) {
    throw new NoChange(`account ${c.email} is already ${locked ? 'locked' : 'unlocked'}`, {
      code: 'no_change',
      details: { account_locked: locked },
    });
  }
  const changes = locked ? { account_locked: true } : { account_locked: false, failed_logins: 0 };
  await updateCompte(trx, c, { account_locked: c.account_locked }, changes);
  return {
    account: await accountSummary(trx, c.id),
    before: locked ? { account_locked: false } : { account_locked: true, failed_logins: c.failed_logins },
    after: locked ? { account_locked: true } : { account_locked: false, failed_logins: 0 },
  };
}

/** Checks that an account can get a new password, before the password is asked for. */
export async function assertPasswordResettable(db: Db, ref: string): Promise<CompteRow> {
  const c = await findCompte(db, ref);
  assertNotDeleted(c, 'reset the password of');
  return c;
}

/** New password hash, `password_changed_at` now, unlocked, failure and attempt counters reset. */
export async function resetPassword(trx: Knex.Transaction, ref: string, passwordHash: string): Promise<AccountChange> {
  const c = await findCompte(trx, ref, { forUpdate: true });
  assertNotDeleted(c, 'reset the password of');
  const now = toDbTime(new Date());
  await updateCompte(trx, c, {}, {
    password_hash: passwordHash,
    password_changed_at: now,
    account_locked: false,
    failed_logins: 0,
    login_attempts: 0,
  });
  return {
    account: await accountSummary(trx, c.id),
    before: {
      password_changed_at: isoOrNull(c.password_changed_at),
      account_locked: toBool(c.account_locked),
      failed_logins: c.failed_logins,
      login_attempts: c.login_attempts,
    },
    after: { password: 'changed', password_changed_at: isoOrNull(now), account_locked: false, failed_logins: 0, login_attempts: 0 },
  };
}

export interface VerifyTarget {
  email?: boolean;
  phone?: boolean;
}

/** verify / unverify the email and/or phone. Refused when nothing would change. */
export async function setVerified(trx: Knex.Transaction, ref: string, what: VerifyTarget, value: boolean): Promise<AccountChange> {
  if (!what.email && !what.phone) throw new InvalidInput(`say what to ${value ? 'verify' : 'unverify'}: --email and/or --phone`);
  const verb = value ? 'verify' : 'unverify';
  const c = await findCompte(trx, ref, { forUpdate: true });
  assertNotDeleted(c, verb);
  if (what.phone) {
    const kind = profileKindOf(await roleName(trx, c.role_id));
    if (kind === 'administrateur') {
      throw new Conflict(`account ${c.email} has no phone number (administrateur profile): nothing to ${verb}`, { code: 'no_phone' });
    }
  }
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  if (what.email && toBool(c.email_verified) !== value) {
    before.email_verified = !value;
    after.email_verified = value;
  }
  if (what.phone && toBool(c.phone_verified) !== value) {
    before.phone_verified = !value;
    after.phone_verified = value;
  }
  if (Object.keys(after).length === 0) {
    const which = [what.email ? 'email' : '', what.phone ? 'phone' : ''].filter(Boolean).join(' and ');
    throw new NoChange(`account ${c.email}: ${which} already ${value ? 'verified' : 'unverified'}`, {
      code: 'no_change',
      details: { email_verified: toBool(c.email_verified), phone_verified: toBool(c.phone_verified) },
    });
  }
  await updateCompte(trx, c, {}, after);
  return { account: await accountSummary(trx, c.id), before, after };
}

// ---- references ----------------------------------------------------------------------------

async function count(db: Db, table: string, where: Record<string, unknown>): Promise<number> {
  const r = (await db(table).where(where).count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(r?.n ?? 0);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n > 1 ? 's' : ''}`;
}

/** What still points at a profile, by name: the data a role change would orphan. */
async function profileReferences(db: Db, kind: ProfileKind, profileId: number): Promise<string[]> {
  const out: string[] = [];
  if (kind === 'utilisateur') {
    const envois = await count(db, 'envois', { expediteur_id: profileId });
    if (envois) out.push(`${plural(envois, 'envoi')} as expediteur`);
  }
  if (kind === 'transporteur') {
    const trajets = await count(db, 'trajets', { transporteur_id: profileId });
    const envois = await count(db, 'envois', { transporteur_id: profileId });
    const zones = await count(db, 'zones_desservies', { transporteur_id: profileId });
    if (trajets) out.push(plural(trajets, 'trajet'));
    if (envois) out.push(`${plural(envois, 'envoi')} as transporteur`);
    if (zones) out.push(plural(zones, 'zone desservie'));
  }
  return out;
}

// ---- delete --hard -------------------------------------------------------------------------

export interface HardDeleteResult {
  account: AccountSummary;
  /** Rows that went with the account (its profile, zones and revoked tokens, by cascade). */
  removed: { profile: string | null; zones: number; revoked_tokens: number };
}

/**
 * Removes the compte row, its profile and what belongs only to it (zones, revoked tokens), only
 * when nothing else references it: reservations, envois and trajets are history and keep it.
 */
export async function hardDeleteAccount(trx: Knex.Transaction, ref: string): Promise<HardDeleteResult> {
  const c = await lockCompte(trx, ref);
  const role = await roleName(trx, c.role_id);
  await assertNotLastActiveAdmin(trx, c, role, 'deleting it');
  const summary = await accountSummary(trx, c.id);
  const refs: string[] = [];
  const reservations = await count(trx, 'reservations', { compte_id: c.id });
  const envois = await count(trx, 'envois', { compte_id: c.id });
  if (reservations) refs.push(plural(reservations, 'reservation'));
  if (envois) refs.push(plural(envois, 'envoi'));
  let zones = 0;
  let profileTable: string | null = null;
  for (const kind of ['utilisateur', 'transporteur', 'administrateur'] as const) {
    const p = await profileRow(trx, c.id, kind);
    if (!p) continue;
    profileTable = PROFILE_TABLE[kind];
    // Zones are the carrier's own configuration: they go with it. Anything else is history.
    refs.push(...(await profileReferences(trx, kind, p.id)).filter((r) => !r.includes('zone')));
    if (kind === 'transporteur') zones = await count(trx, 'zones_desservies', { transporteur_id: p.id });
  }
  if (refs.length > 0) {
    throw new Conflict(
      `cannot hard-delete account ${c.email}: still referenced by ${refs.join(', ')}; use \`accounts delete\` without --hard to mark it deleted and keep the history`,
      { code: 'still_referenced', details: { references: refs } },
    );
  }
  const tokens = await count(trx, 'revoked_tokens', { user_id: c.id });
  // Profiles, zones and revoked tokens go by ON DELETE CASCADE.
  const n = await trx('comptes').where({ id: c.id }).del();
  if (n !== 1) throw new Conflict(`account ${c.email} was changed by someone else meanwhile: look again and retry`, { code: 'concurrent_change' });
  return { account: summary, removed: { profile: profileTable, zones, revoked_tokens: tokens } };
}

// ---- set-role ------------------------------------------------------------------------------

export interface RoleMove extends AccountChange {
  /** Profile table before and after (equal when only the role changed). */
  profile_from: string | null;
  profile_to: string;
}

/**
 * Gives the account another role. When the profile kind changes (user → transporteur, …), the old
 * profile row is replaced by a new one built from the flags, carrying over the name and phone the
 * old one had. Refused when the old profile still has data hanging off it (envois, trajets, zones),
 * or when it would remove the last active admin.
 */
export async function setRole(trx: Knex.Transaction, ref: string, newRoleRef: string, input: ProfileInput = {}): Promise<RoleMove> {
  const c = await lockCompte(trx, ref);
  assertNotDeleted(c, 'change the role of');
  const oldRole = await roleName(trx, c.role_id);
  const role = await findRole(trx, newRoleRef, { missing: 'invalid', field: 'role' });
  if (role.id === c.role_id) {
    throw new NoChange(`account ${c.email} already has role ${role.name}`, { code: 'no_change', details: { role: role.name } });
  }
  if (oldRole === 'admin') await assertNotLastActiveAdmin(trx, c, oldRole, `moving it to role ${role.name}`);
  const fromKind = profileKindOf(oldRole);
  const toKind = profileKindOf(role.name);
  const old = await profileRow(trx, c.id, fromKind);
  const now = toDbTime(new Date());
  if (fromKind === toKind && old) {
    // Same profile table: the profile stays; new profile flags would be ignored, so refuse them.
    const given = (Object.keys(input) as Array<keyof ProfileInput>).filter((k) => input[k] !== undefined);
    if (given.length > 0) {
      throw new InvalidInput(`${given.map((k) => FLAG[k]).join(', ')}: the profile does not change between ${oldRole} and ${role.name} (both ${toKind}); leave them out`);
    }
  } else {
    const profile = buildProfile(role.name, input, carriedFrom(old));
    if (old) {
      const refs = await profileReferences(trx, fromKind, old.id);
      if (refs.length > 0) {
        throw new Conflict(
          `cannot move account ${c.email} from ${oldRole} to ${role.name}: its ${fromKind} profile still has ${refs.join(', ')}, which would be orphaned`,
          { code: 'would_orphan', details: { references: refs } },
        );
      }
      await trx(PROFILE_TABLE[fromKind]).where('id', old.id).del();
    }
    await insertProfile(trx, c.id, profile, now);
  }
  await updateCompte(trx, c, { role_id: c.role_id }, { role_id: role.id });
  return {
    account: await accountSummary(trx, c.id),
    before: { role: oldRole, profile: old ? PROFILE_TABLE[fromKind] : null },
    after: { role: role.name, profile: PROFILE_TABLE[toKind] },
    profile_from: old ? PROFILE_TABLE[fromKind] : null,
    profile_to: PROFILE_TABLE[toKind],
  };
}

// ---- show ----------------------------------------------------------------------------------

export interface AccountDetail {
  account: AccountSummary & { updated_at: string | null };
  role: { id: number; name: string; description: string | null };
  profile: ({ table: string } & Record<string, unknown>) | null;
  zones: Array<{ id: number; city_name: string; region: string | null; zone_type: string; service_frequency: string | null; max_weight_capacity: string | null }>;
  security: {
    can_log_in: boolean;
    /** Why the account cannot log in, in words (empty when it can). */
    blocked_by: string[];
    account_locked: boolean;
    lock_reason: string | null;
    login_attempts: number;
    failed_logins: number;
    lockout_threshold: number;
    last_failed_login: string | null;
    last_login: string | null;
    password_changed_at: string | null;
  };
  activity: { reservations: number; envois: number; trajets: number; envois_carried: number };
  tokens: { revoked: number; not_yet_expired: number };
  recent_audit: Array<{ id: number; created_at: string | null; actor: string; action: string; reason: string | null }>;
}

/** Everything an admin needs on one screen. `lockoutThreshold` explains a policy lock. */
export async function showAccount(db: Db, ref: string, settings: { lockoutThreshold: number }): Promise<AccountDetail> {
  const c = await findCompte(db, ref);
  const summary = await accountSummary(db, c.id);
  const role = (await db<RoleRow>('roles').where('id', c.role_id).first()) as RoleRow;
  const kind = profileKindOf(role.name);
  let profile: AccountDetail['profile'] = null;
  let zones: AccountDetail['zones'] = [];
  let trajets = 0;
  let envoisCarried = 0;
  // The profile of the role's table; a row left in another table (should not happen) is shown too.
  for (const k of [kind, ...(['utilisateur', 'transporteur', 'administrateur'] as const).filter((x) => x !== kind)]) {
    const p = await profileRow(db, c.id, k);
    if (!p) continue;
    const { compte_id: _c, created_at, updated_at, ...fields } = p as unknown as Record<string, unknown> & { created_at: string; updated_at: string };
    profile ??= { table: PROFILE_TABLE[k], ...fields, created_at: isoOrNull(created_at), updated_at: isoOrNull(updated_at) };
    if (k === 'transporteur') {
      const zr = (await db<ZoneRow>('zones_desservies').where('transporteur_id', p.id).orderBy('city_name')) as ZoneRow[];
      zones = zr.map((z) => ({
        id: z.id,
        city_name: z.city_name,
        region: z.region,
        zone_type: z.zone_type,
        service_frequency: z.service_frequency,
        max_weight_capacity: z.max_weight_capacity === null ? null : toMoneyString(z.max_weight_capacity),
      }));
      trajets = await count(db, 'trajets', { transporteur_id: p.id });
      envoisCarried = await count(db, 'envois', { transporteur_id: p.id });
    }
  }
  const now = toDbTime(new Date());
  const revoked = await count(db, 'revoked_tokens', { user_id: c.id });
  const live = (await db('revoked_tokens').where('user_id', c.id).where('expires_at', '>=', now).count({ n: '*' }).first()) as { n: number | string };
  const audit = (await db('audit_log')
    .where({ target_type: 'compte', target_id: String(c.id) })
    .orderBy('id', 'desc')
    .limit(10)
    .select('id', 'created_at', 'actor', 'action', 'reason')) as Array<{ id: number; created_at: string; actor: string; action: string; reason: string | null }>;

  const locked = toBool(c.account_locked);
  const lockReason = locked ? await lockReasonOf(db, c, settings.lockoutThreshold) : null;
  const blocked: string[] = [];
  if (c.status !== 'active') blocked.push(`status is ${c.status}`);
  if (locked) blocked.push(`locked: ${lockReason}`);
  return {
    account: { ...summary, updated_at: isoOrNull(c.updated_at) },
    role: { id: role.id, name: role.name, description: role.description },
    profile,
    zones,
    security: {
      can_log_in: blocked.length === 0,
      blocked_by: blocked,
      account_locked: locked,
      lock_reason: lockReason,
      login_attempts: c.login_attempts,
      failed_logins: c.failed_logins,
      lockout_threshold: settings.lockoutThreshold,
      last_failed_login: isoOrNull(c.last_failed_login),
      last_login: isoOrNull(c.last_login),
      password_changed_at: isoOrNull(c.password_changed_at),
    },
    activity: {
      reservations: await count(db, 'reservations', { compte_id: c.id }),
      envois: await count(db, 'envois', { compte_id: c.id }),
      trajets,
      envois_carried: envoisCarried,
    },
    tokens: { revoked, not_yet_expired: Number(live.n) },
    recent_audit: audit.map((a) => ({ ...a, created_at: isoOrNull(a.created_at) })),
  };
}

/**
 * Why a locked account is locked: the last lock recorded in the audit log (an admin's
 * `accounts lock`, or the lockout policy), else what the counters say.
 */
async function lockReasonOf(db: Db, c: CompteRow, threshold: number): Promise<string> {
  const last = (await db('audit_log')
    .where({ target_type: 'compte', target_id: String(c.id) })
    .whereIn('action', ['accounts.lock', 'accounts.lockout'])
    .orderBy('id', 'desc')
    .first('actor', 'action', 'reason', 'created_at')) as { actor: string; action: string; reason: string | null; created_at: string } | undefined;
  const when = (t: string | null) => (t ? isoOrNull(t)!.replace('T', ' ').slice(0, 16) + ' UTC' : 'unknown time');
  if (last?.action === 'accounts.lockout') {
    return `${last.reason ?? 'too many failed logins'} (lockout policy, ${when(last.created_at)})`;
  }
  if (last?.action === 'accounts.lock') {
    return `locked by ${last.actor} on ${when(last.created_at)}${last.reason ? `: ${last.reason}` : ''}`;
  }
  if (c.failed_logins >= threshold) {
    return `${c.failed_logins} consecutive failed logins (threshold ${threshold}), last at ${when(c.last_failed_login)}`;
  }
  return 'no record of why (locked outside billettigue)';
}


/** What suspending or deleting a carrier touches (its bookings and parcels stay as they are). */
export interface CarrierImpact {
  active_trajets: number;
  pending_reservations: number;
  confirmed_reservations: number;
  open_envois: number;
}

/**
 * For the confirmation and --dry-run of `accounts suspend|deactivate|delete` on a carrier: its active
 * trajets (which then take no new booking, docs/rules.md), the pending and confirmed reservations on
 * them, and its envois not yet delivered or cancelled. null when the account is not a carrier.
 */
export async function carrierImpact(db: Knex | Knex.Transaction, compteId: number): Promise<CarrierImpact | null> {
  const tr = (await db('transporteurs').where('compte_id', compteId).first('id')) as { id: number } | undefined;
  if (!tr) return null;
  const one = async (qb: Knex.QueryBuilder) => Number(((await qb.count({ n: '*' }).first()) as { n: number | string } | undefined)?.n ?? 0);
  return {
    active_trajets: await one(db('trajets').where({ transporteur_id: tr.id, status: 'active' })),
    pending_reservations: await one(db('reservations as r').join('trajets as t', 't.id', 'r.trajet_id').where({ 't.transporteur_id': tr.id, 'r.status': 'pending' })),
    confirmed_reservations: await one(db('reservations as r').join('trajets as t', 't.id', 'r.trajet_id').where({ 't.transporteur_id': tr.id, 'r.status': 'confirmed' }).whereIn('t.status', ['active', 'suspended'])),
    open_envois: await one(db('envois').where('transporteur_id', tr.id).whereIn('status', ['pending', 'accepted', 'in_transit'])),
  };
}

export function describeCarrierImpact(i: CarrierImpact): string {
  const n = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  return `${n(i.active_trajets, 'active trajet')} (then taking no new booking), ${n(i.pending_reservations, 'pending reservation')} and ${n(i.confirmed_reservations, 'confirmed reservation')} on them, ${n(i.open_envois, 'open envoi')}`;
}
