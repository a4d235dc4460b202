/**
 * Default data every installation needs: the three roles (idempotent: existing roles are left as
 * they are) and, on request, a first admin account. The admin's password is never here: the CLI
 * prompts for it, reads it from stdin or generates it, and passes only the bcrypt hash.
 */
import type { Knex } from 'knex';
import { DEFAULT_ROLES } from '../src/db/schema.js';
import { toDbTime } from '../src/db/values.js';
import { insertId } from '../src/db/dialect.js';

export async function seedRoles(knex: Knex | Knex.Transaction): Promise<string[]> {
  const existing = new Set(((await knex('roles').select('name')) as Array<{ name: string }>).map((r) => r.name));
  const now = toDbTime(new Date());
  const missing = DEFAULT_ROLES.filter((r) => !existing.has(r.name));
  if (missing.length > 0) {
    await knex('roles').insert(missing.map((r) => ({ ...r, created_at: now, updated_at: now })));
  }
  return missing.map((r) => r.name);
}

export interface AdminSeed {
  email: string;
  passwordHash: string;
  firstName: string;
  lastName: string;
}

/** Creates the admin account and its administrateurs profile; returns its compte id. */
export async function seedAdmin(trx: Knex.Transaction, admin: AdminSeed): Promise<number> {
  const role = (await trx('roles').where({ name: 'admin' }).first('id')) as { id: number } | undefined;
  if (!role) throw new Error('the admin role is missing: seed the roles first');
  const now = toDbTime(new Date());
  const id = await insertId(trx('comptes').insert({
    email: admin.email,
    password_hash: admin.passwordHash,
    status: 'active',
    email_verified: true,
    role_id: role.id,
    password_changed_at: now,
    created_at: now,
    updated_at: now,
  }));
  await trx('administrateurs').insert({
    compte_id: id,
    first_name: admin.firstName,
    last_name: admin.lastName,
    created_at: now,
    updated_at: now,
  });
  return id!;
}
