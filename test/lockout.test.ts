/**
 * The lockout policy (docs/rules.md) on both databases: the boundary attempt at exactly the
 * threshold, what a success does, what unlock resets, and concurrent failures.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { recordLoginAttempt } from '../src/domain/lockout.js';
import { changeStatus, resetPassword, setLocked } from '../src/domain/accounts.js';
import { makeAccount } from './accounts-fixtures.js';

describe.each(testedKinds())('lockout policy on %s', (kind) => {
  let db: TestDb;
  const policy = { lockoutThreshold: 5 };
  const fail = (ref: string | number, s = policy) => recordLoginAttempt(db.knex, ref, { success: false }, s);
  const ok = (ref: string | number, s = policy) => recordLoginAttempt(db.knex, ref, { success: true }, s);
  const row = async (email: string) => db.knex('comptes').where('email', email).first();

  beforeAll(async () => {
    db = await createTestDb(kind);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await db.knex('audit_log').del();
    await db.knex('utilisateurs').del();
    await db.knex('comptes').del();
    await makeAccount(db.knex, { email: 'u@x.fr' });
  });

  it('locks at exactly the threshold, not one attempt before', async () => {
    for (let i = 1; i <= 4; i++) {
      const o = await fail('u@x.fr');
      expect(o).toMatchObject({ allowed: false, reason: 'bad_password', locked: false, lockedNow: false, failedLogins: i, loginAttempts: i });
    }
    const fifth = await fail('u@x.fr');
    expect(fifth).toMatchObject({ allowed: false, reason: 'locked', locked: true, lockedNow: true, failedLogins: 5 });
    const sixth = await fail('U@X.FR');
    expect(sixth).toMatchObject({ locked: true, lockedNow: false, failedLogins: 6, loginAttempts: 6 });
    const r = await row('u@x.fr');
    expect(Boolean(r.account_locked)).toBe(true);
    expect(r.last_failed_login).not.toBeNull();
    // Exactly one audit row, from the attempt that locked.
    const audit = await db.knex('audit_log').select('action', 'actor', 'reason', 'target_id');
    expect(audit).toEqual([{ action: 'accounts.lockout', actor: 'lockout-policy', reason: '5 consecutive failed logins (threshold 5)', target_id: String(r.id) }]);
  });

  it('a success resets the consecutive failures and records the login', async () => {
    for (let i = 0; i < 4; i++) await fail('u@x.fr');
    const o = await ok('u@x.fr');
    expect(o).toMatchObject({ allowed: true, reason: null, failedLogins: 0, loginAttempts: 5, locked: false });
    expect((await row('u@x.fr')).last_login).not.toBeNull();
    // Counting starts again: four more failures do not lock.
    for (let i = 0; i < 4; i++) await fail('u@x.fr');
    expect((await fail('u@x.fr')).lockedNow).toBe(true);
  });

  it('a right password does not open or reset a locked account; unlock does', async () => {
    for (let i = 0; i < 5; i++) await fail('u@x.fr');
    const o = await ok('u@x.fr');
    expect(o).toMatchObject({ allowed: false, reason: 'locked', failedLogins: 5, loginAttempts: 6 });
    expect((await row('u@x.fr')).last_login).toBeNull();
    await db.knex.transaction((trx) => setLocked(trx, 'u@x.fr', false));
    expect(await row('u@x.fr')).toMatchObject({ failed_logins: 0, login_attempts: 6 });
    expect(await ok('u@x.fr')).toMatchObject({ allowed: true });
  });

  it('reset-password unlocks and resets both counters', async () => {
    for (let i = 0; i < 5; i++) await fail('u@x.fr');
    await db.knex.transaction((trx) => resetPassword(trx, 'u@x.fr', '$2b$04$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'));
    expect(await row('u@x.fr')).toMatchObject({ failed_logins: 0, login_attempts: 0 });
    expect(await ok('u@x.fr')).toMatchObject({ allowed: true });
  });

  it('refuses a suspended account whatever the password, naming why', async () => {
    await db.knex.transaction((trx) => changeStatus(trx, 'u@x.fr', 'suspend'));
    expect(await ok('u@x.fr')).toMatchObject({ allowed: false, reason: 'suspended' });
  });

  it('follows the configured threshold (1: the first failure locks)', async () => {
    expect(await fail('u@x.fr', { lockoutThreshold: 1 })).toMatchObject({ lockedNow: true, failedLogins: 1 });
  });

  it('an unknown account is not found (exit 3)', async () => {
    await expect(fail('nobody@x.fr')).rejects.toMatchObject({ exitCode: 3 });
  });

  it('counts every concurrent failure, and exactly one of them locks', async () => {
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => fail('u@x.fr')));
    expect((await row('u@x.fr')).failed_logins).toBe(8);
    expect(outcomes.filter((o) => o.lockedNow)).toHaveLength(1);
    expect(Number((await db.knex('audit_log').count({ n: '*' }).first())!.n)).toBe(1);
  });
});
