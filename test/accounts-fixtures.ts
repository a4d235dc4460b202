/**
 * Small fixtures for the accounts/roles/tokens tests: rows inserted directly (no bcrypt, no CLI),
 * so each test sets up exactly the state it needs in a few milliseconds.
 */
import type { Knex } from 'knex';
import type { CompteStatus } from '../src/db/schema.js';
import { toDbTime } from '../src/db/values.js';
import { insertId } from '../src/db/dialect.js';

/** A syntactically valid bcrypt hash (cost 4) that no test ever needs to match. */
export const FAKE_HASH = '$2b$04$abcdefghijklmnopqrstuu5W0wYQ6xq8xV3Jk9m3eP1t3b1Yd5m1a';

export interface AccountFixture {
  email: string;
  role?: string;
  status?: CompteStatus;
  locked?: boolean;
  failedLogins?: number;
  lastLogin?: string | null;
  createdAt?: string;
  emailVerified?: boolean;
  phoneVerified?: boolean;
  firstName?: string;
  lastName?: string;
  phone?: string;
  companyName?: string | null;
}

/** Inserts a compte and the profile its role calls for; returns the compte id. */
export async function makeAccount(knex: Knex | Knex.Transaction, f: AccountFixture): Promise<number> {
  const role = f.role ?? 'user';
  const r = (await knex('roles').where('name', role).first('id')) as { id: number };
  const now = f.createdAt ?? toDbTime(new Date());
  const id = await insertId(knex('comptes').insert({
    email: f.email,
    password_hash: FAKE_HASH,
    status: f.status ?? 'active',
    email_verified: f.emailVerified ?? false,
    phone_verified: f.phoneVerified ?? false,
    account_locked: f.locked ?? false,
    failed_logins: f.failedLogins ?? 0,
    login_attempts: f.failedLogins ?? 0,
    last_login: f.lastLogin ?? null,
    role_id: r.id,
    created_at: now,
    updated_at: now,
  }));
  const base = { compte_id: id, created_at: now, updated_at: now };
  if (role === 'admin') {
    await knex('administrateurs').insert({ ...base, first_name: f.firstName ?? 'Ada', last_name: f.lastName ?? 'Admin' });
  } else if (role === 'transporteur') {
    await knex('transporteurs').insert({ ...base, phone_number: f.phone ?? '+33600000000', company_name: f.companyName ?? null, company_type: 'mixte' });
  } else {
    await knex('utilisateurs').insert({ ...base, first_name: f.firstName ?? 'Ugo', last_name: f.lastName ?? 'User', phone_number: f.phone ?? '+33611111111' });
  }
  return id!;
}

export async function profileId(knex: Knex, table: string, compteId: number): Promise<number> {
  return ((await knex(table).where('compte_id', compteId).first('id')) as { id: number }).id;
}

export async function makeTrajet(knex: Knex, transporteurId: number): Promise<number> {
  const now = toDbTime(new Date());
  const id = await insertId(knex('trajets').insert({
    departure_city: 'Paris',
    arrival_city: 'Lyon',
    departure_time: now,
    price: '10.00',
    seats_count: 3,
    available_seats: 2,
    transporteur_id: transporteurId,
    created_at: now,
    updated_at: now,
  }));
  return id!;
}

export async function makeReservation(knex: Knex, trajetId: number, compteId: number): Promise<number> {
  const now = toDbTime(new Date());
  const id = await insertId(knex('reservations').insert({
    reservation_date: now,
    passenger_first_name: 'P',
    passenger_last_name: 'Q',
    phone_number: '+33600000001',
    seats_reserved: 1,
    total_amount: '10.00',
    trajet_id: trajetId,
    compte_id: compteId,
    created_at: now,
    updated_at: now,
  }));
  return id!;
}

export async function makeEnvoi(knex: Knex, expediteurId: number, transporteurId: number, compteId: number): Promise<number> {
  const now = toDbTime(new Date());
  const id = await insertId(knex('envois').insert({
    description: 'carton',
    expediteur_id: expediteurId,
    recipient_name: 'R',
    recipient_phone: '+33600000002',
    transporteur_id: transporteurId,
    compte_id: compteId,
    created_at: now,
    updated_at: now,
  }));
  return id!;
}

export async function makeZone(knex: Knex, transporteurId: number, city: string): Promise<number> {
  const now = toDbTime(new Date());
  const id = await insertId(knex('zones_desservies').insert({ city_name: city, transporteur_id: transporteurId, created_at: now, updated_at: now }));
  return id!;
}

/** A JWT-shaped token (unsigned: revocation never checks signatures). */
export function jwt(payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const b = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  return `${b(header)}.${b(payload)}.c2lnbmF0dXJl`;
}

/** Every table the accounts/roles/tokens commands can touch: the "nothing changed" snapshot. */
export const ACCOUNT_TABLES = ['roles', 'comptes', 'utilisateurs', 'transporteurs', 'administrateurs', 'zones_desservies', 'revoked_tokens', 'audit_log'] as const;
