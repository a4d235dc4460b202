/**
 * Fixtures for the bookings tests (trajets, reservations, paiements): carriers and accounts are
 * inserted directly with knex, so these tests do not depend on the accounts commands.
 */
import type { Knex } from 'knex';
import { expect } from 'vitest';
import { toDbTime } from '../../src/db/values.js';
import { snapshot } from './db.js';
import { run } from './cli.js';
import { insertId } from '../../src/db/dialect.js';

export const BOOKING_TABLES = ['trajets', 'reservations', 'paiements', 'audit_log'] as const;

let seq = 0;

async function roleId(knex: Knex, name: string): Promise<number> {
  const row = (await knex('roles').where({ name }).first('id')) as { id: number } | undefined;
  if (!row) throw new Error(`role ${name} missing: seed the roles first`);
  return row.id;
}

/** A compte (with a utilisateurs profile); returns its id. */
export async function insertAccount(knex: Knex, email = `user${++seq}@example.fr`): Promise<number> {
  const now = toDbTime(new Date());
  const id = await insertId(knex('comptes').insert({
    email,
    password_hash: 'x',
    status: 'active',
    role_id: await roleId(knex, 'user'),
    created_at: now,
    updated_at: now,
  }));
  await knex('utilisateurs').insert({ compte_id: id, first_name: 'Test', last_name: `User${seq}`, phone_number: '+33600000000', created_at: now, updated_at: now });
  return id!;
}

export interface CarrierOptions {
  email?: string;
  companyType?: 'passagers' | 'mixte' | 'colis';
  companyName?: string;
  status?: 'active' | 'inactive' | 'suspended' | 'deleted';
}

/** A transporteur with its compte; returns the transporteur id and the email. */
export async function insertCarrier(knex: Knex, o: CarrierOptions = {}): Promise<{ id: number; email: string; compteId: number }> {
  const now = toDbTime(new Date());
  const email = o.email ?? `carrier${++seq}@example.fr`;
  const compteId = await insertId(knex('comptes').insert({
    email,
    password_hash: 'x',
    status: o.status ?? 'active',
    role_id: await roleId(knex, 'transporteur'),
    created_at: now,
    updated_at: now,
  }));
  const id = await insertId(knex('transporteurs').insert({
    phone_number: '+33611223344',
    company_name: o.companyName ?? `Cars ${seq}`,
    company_type: o.companyType ?? 'passagers',
    compte_id: compteId,
    created_at: now,
    updated_at: now,
  }));
  return { id: id!, email, compteId: compteId! };
}

/** Now + hours, as a Date (whole seconds: DATETIME keeps no fraction). */
export function hoursFromNow(hours: number): Date {
  const d = new Date(Date.now() + hours * 3_600_000);
  d.setUTCMilliseconds(0);
  return d;
}

/** A small deterministic PRNG (mulberry32) so that a failing random sequence can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** [name, argv, expected exit code, text the one `error:` line must contain] */
export type RefusedCase = [string, string[], number, string];

/**
 * Runs every bad-input case through the binary at once and checks each: its exit code, its one
 * `error:` line, nothing on stdout, and the bookings tables exactly as they were before.
 */
export async function expectRefused(knex: Knex, url: string, cases: RefusedCase[]): Promise<void> {
  const before = await snapshot(knex, BOOKING_TABLES);
  const results = await Promise.all(cases.map(([, args]) => run(args, { url })));
  results.forEach((r, i) => {
    const [name, , code, message] = cases[i]!;
    expect({ name, code: r.code }).toEqual({ name, code });
    expect(r.stderr, name).toContain(message);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error: ')), name).toHaveLength(1);
    expect(r.stdout, name).toBe('');
  });
  expect(await snapshot(knex, BOOKING_TABLES)).toEqual(before);
}
