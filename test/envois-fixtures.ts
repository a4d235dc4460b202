/**
 * Parties for the envois/colis/zones tests, inserted directly (the accounts commands are another
 * issue's): utilisateurs (senders) and transporteurs (carriers) with their comptes.
 */
import type { Knex } from 'knex';
import { toDbTime } from '../src/db/values.js';
import type { CompanyType, CompteStatus } from '../src/db/schema.js';
import { insertId } from '../src/db/dialect.js';

let seq = 0;

async function compte(knex: Knex, role: string, email: string, status: CompteStatus): Promise<number> {
  const r = (await knex('roles').where({ name: role }).first('id')) as { id: number };
  const now = toDbTime(new Date());
  const id = await insertId(knex('comptes').insert({
    email,
    password_hash: '$2b$04$abcdefghijklmnopqrstuuO0q0P1w1N1y1Q1y1Q1y1Q1y1Q1y1Q1y',
    status,
    role_id: r.id,
    created_at: now,
    updated_at: now,
  }));
  return id!;
}

export interface Party {
  id: number;
  compteId: number;
  email: string;
}

export async function makeUtilisateur(
  knex: Knex,
  o: { email?: string; status?: CompteStatus; firstName?: string; lastName?: string } = {},
): Promise<Party> {
  const email = o.email ?? `user${++seq}@example.fr`;
  const compteId = await compte(knex, 'user', email, o.status ?? 'active');
  const now = toDbTime(new Date());
  const id = await insertId(knex('utilisateurs').insert({
    first_name: o.firstName ?? 'Jeanne',
    last_name: o.lastName ?? 'Dupont',
    phone_number: '+33612345678',
    compte_id: compteId,
    created_at: now,
    updated_at: now,
  }));
  return { id: id!, compteId, email };
}

export async function makeTransporteur(
  knex: Knex,
  o: { email?: string; status?: CompteStatus; companyType?: CompanyType; companyName?: string } = {},
): Promise<Party> {
  const email = o.email ?? `carrier${++seq}@example.fr`;
  const compteId = await compte(knex, 'transporteur', email, o.status ?? 'active');
  const now = toDbTime(new Date());
  const id = await insertId(knex('transporteurs').insert({
    phone_number: '+33700000000',
    company_name: o.companyName ?? `Transports ${seq}`,
    company_type: o.companyType ?? 'colis',
    compte_id: compteId,
    created_at: now,
    updated_at: now,
  }));
  return { id: id!, compteId, email };
}

export const ENVOI_TABLES = ['envois', 'colis', 'zones_desservies', 'audit_log'] as const;
