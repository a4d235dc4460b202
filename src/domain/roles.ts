/**
 * Roles: the three default ones of the seed (admin, user, transporteur) and any custom role.
 * A role decides which profile table its accounts live in (docs/rules.md): admin → administrateurs,
 * transporteur → transporteurs, user and every custom role → utilisateurs. That mapping is by name,
 * which is why the default roles can be neither renamed nor deleted.
 */
import type { Knex } from 'knex';
import type { RoleRow } from '../db/rows.js';
import { DEFAULT_ROLES, COMPTE_STATUSES, type CompteStatus } from '../db/schema.js';
import { isoOrNull, toDbTime } from '../db/values.js';
import { closest } from '../db/config.js';
import { Conflict, InvalidInput, NotFound } from './errors.js';
import { optionalText } from './validate.js';
import { insertId } from '../db/dialect.js';

type Db = Knex | Knex.Transaction;

export type ProfileKind = 'utilisateur' | 'transporteur' | 'administrateur';

export const DEFAULT_ROLE_NAMES: readonly string[] = DEFAULT_ROLES.map((r) => r.name);

/** The profile table of an account of this role (docs/rules.md, "Accounts and profiles"). */
export function profileKindOf(roleName: string): ProfileKind {
  if (roleName === 'admin') return 'administrateur';
  if (roleName === 'transporteur') return 'transporteur';
  return 'utilisateur';
}

export const PROFILE_TABLE: Record<ProfileKind, 'utilisateurs' | 'transporteurs' | 'administrateurs'> = {
  utilisateur: 'utilisateurs',
  transporteur: 'transporteurs',
  administrateur: 'administrateurs',
};

const ROLE_NAME_RE = /^[a-z][a-z0-9_-]{1,49}$/;

/** A new role name: 2–50 characters, lower-case letters, digits, `_` and `-`, starting with a letter. */
export function validateRoleName(raw: string): string {
  const name = raw.trim();
  if (!ROLE_NAME_RE.test(name)) {
    throw new InvalidInput(
      `role name "${raw}" is not allowed: use 2 to 50 lower-case letters, digits, "_" or "-", starting with a letter (e.g. support_agent)`,
      { code: 'invalid_role_name' },
    );
  }
  return name;
}

export interface RoleRecord {
  id: number;
  name: string;
  description: string | null;
  is_default: boolean;
  profile: ProfileKind;
  accounts: number;
  created_at: string | null;
  updated_at: string | null;
}

function toRecord(r: RoleRow, accounts: number): RoleRecord {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    is_default: DEFAULT_ROLE_NAMES.includes(r.name),
    profile: profileKindOf(r.name),
    accounts,
    created_at: isoOrNull(r.created_at),
    updated_at: isoOrNull(r.updated_at),
  };
}

/**
 * A role by name (case-insensitive) or id. `as` says how the caller names the thing, for the
 * error: an unknown role in a flag is bad input (exit 2); `roles show x` is a lookup (exit 3).
 */
export async function findRole(
  db: Db,
  ref: string | number,
  options: { forUpdate?: boolean; missing?: 'not_found' | 'invalid'; field?: string } = {},
): Promise<RoleRow> {
  const s = String(ref).trim();
  const qb = db<RoleRow>('roles');
  if (/^\d+$/.test(s)) qb.where('id', Number(s));
  else qb.where('name', s.toLowerCase());
  if (options.forUpdate) qb.forUpdate();
  const row = (await qb.first()) as RoleRow | undefined;
  if (row) return row;
  const names = ((await db('roles').orderBy('name').pluck('name')) as string[]) ?? [];
  const near = closest(s, names, 2);
  const msg = `${options.field ? `${options.field}: ` : ''}no role "${s}"${near ? ` (did you mean ${near}?)` : ''}; roles: ${names.join(', ')}`;
  if (options.missing === 'invalid') throw new InvalidInput(msg, { code: 'unknown_role' });
  throw new NotFound(msg, { code: 'role_not_found' });
}

/** Every role with its number of accounts, by name. */
export async function listRoles(db: Db): Promise<RoleRecord[]> {
  const rows = (await db('roles as r')
    .leftJoin('comptes as c', 'c.role_id', 'r.id')
    .groupBy('r.id', 'r.name', 'r.description', 'r.created_at', 'r.updated_at')
    .orderBy('r.name')
    .select('r.id', 'r.name', 'r.description', 'r.created_at', 'r.updated_at')
    .count({ accounts: 'c.id' })) as Array<RoleRow & { accounts: number | string }>;
  return rows.map((r) => toRecord(r, Number(r.accounts)));
}

export interface RoleDetail extends RoleRecord {
  accounts_by_status: Record<CompteStatus, number>;
}

export async function showRole(db: Db, ref: string): Promise<RoleDetail> {
  const role = await findRole(db, ref);
  const counts = (await db('comptes').where('role_id', role.id).groupBy('status').select('status').count({ n: '*' })) as Array<{
    status: CompteStatus;
    n: number | string;
  }>;
  const byStatus = Object.fromEntries(COMPTE_STATUSES.map((s) => [s, 0])) as Record<CompteStatus, number>;
  for (const c of counts) byStatus[c.status] = Number(c.n);
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  return { ...toRecord(role, total), accounts_by_status: byStatus };
}

async function nameTaken(db: Db, name: string, exceptId?: number): Promise<boolean> {
  const qb = db('roles').where('name', name);
  if (exceptId !== undefined) qb.whereNot('id', exceptId);
  return Boolean(await qb.first('id'));
}

export async function createRole(trx: Db, input: { name: string; description?: string | null }): Promise<RoleRecord> {
  const name = validateRoleName(input.name);
  const description = optionalText(input.description, '--description', 65535);
  if (await nameTaken(trx, name)) throw new Conflict(`role "${name}" already exists`, { code: 'duplicate_role' });
  const now = toDbTime(new Date());
  const id = await insertId(trx('roles').insert({ name, description, created_at: now, updated_at: now }));
  const row = (await trx<RoleRow>('roles').where('id', id!).first()) as RoleRow;
  return toRecord(row, 0);
}

export interface RoleChange {
  before: { name: string; description: string | null };
  after: { name: string; description: string | null };
  role: RoleRecord;
}

/** Renames a custom role and/or changes any role's description. */
export async function updateRole(
  trx: Db,
  ref: string,
  input: { name?: string; description?: string | null },
): Promise<RoleChange> {
  if (input.name === undefined && input.description === undefined) {
    throw new InvalidInput('nothing to update: give --name and/or --description');
  }
  const role = await findRole(trx, ref, { forUpdate: true });
  const name = input.name === undefined ? role.name : validateRoleName(input.name);
  const description = input.description === undefined ? role.description : optionalText(input.description, '--description', 65535);
  if (name !== role.name && DEFAULT_ROLE_NAMES.includes(role.name)) {
    throw new Conflict(`role "${role.name}" is a default role and cannot be renamed (accounts' profiles depend on its name)`, {
      code: 'default_role',
    });
  }
  if (name !== role.name && (await nameTaken(trx, name, role.id))) {
    throw new Conflict(`role "${name}" already exists`, { code: 'duplicate_role' });
  }
  if (name === role.name && description === role.description) {
    throw new Conflict(`role "${role.name}" already has this name and description: nothing to change`, { code: 'no_change' });
  }
  await trx('roles').where('id', role.id).update({ name, description, updated_at: toDbTime(new Date()) });
  const count = (await trx('comptes').where('role_id', role.id).count({ n: '*' }).first()) as { n: number | string };
  const row = (await trx<RoleRow>('roles').where('id', role.id).first()) as RoleRow;
  return {
    before: { name: role.name, description: role.description },
    after: { name, description },
    role: toRecord(row, Number(count.n)),
  };
}

/** Deletes a custom role that no account uses. */
export async function deleteRole(trx: Db, ref: string): Promise<RoleRecord> {
  const role = await findRole(trx, ref, { forUpdate: true });
  if (DEFAULT_ROLE_NAMES.includes(role.name)) {
    throw new Conflict(`role "${role.name}" is a default role and cannot be deleted`, { code: 'default_role' });
  }
  // Locks the accounts of the role too, so none can be moved onto it while we delete (counted
  // here: PostgreSQL refuses FOR UPDATE on an aggregate).
  const n = ((await trx('comptes').where('role_id', role.id).forUpdate().pluck('id')) as number[]).length;
  if (n > 0) {
    throw new Conflict(
      `role "${role.name}" is used by ${n} account${n > 1 ? 's' : ''}: move them first (billettigue accounts list --role ${role.name}, then accounts set-role)`,
      { code: 'role_in_use', details: { accounts: n } },
    );
  }
  await trx('roles').where('id', role.id).del();
  return toRecord(role, 0);
}
