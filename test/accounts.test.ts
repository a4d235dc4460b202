/**
 * The accounts domain against real MariaDB and SQLite: listing (filters, search, keyset pages for
 * every sort), show, create, state changes, the last-active-admin guard (also under concurrency),
 * hard delete and set-role refusals.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import {
  changeStatus,
  createAccount,
  hardDeleteAccount,
  listAccounts,
  parseSort,
  prepareAccount,
  resetPassword,
  setLocked,
  setRole,
  setVerified,
  phoneSearchDigits,
  showAccount,
  SORT_FIELDS,
  type AccountSummary,
  type SortField,
} from '../src/domain/accounts.js';
import { recordLoginAttempt } from '../src/domain/lockout.js';
import { isDeadlock } from '../src/db/errors.js';
import { ACCOUNT_TABLES, FAKE_HASH, makeAccount, makeEnvoi, makeReservation, makeTrajet, makeZone, profileId } from './accounts-fixtures.js';

/** Empties the account tables (keeps the roles) between tests. */
async function clear(knex: Knex): Promise<void> {
  for (const t of ['colis', 'envois', 'paiements', 'reservations', 'trajets', 'zones_desservies', 'revoked_tokens', 'administrateurs', 'transporteurs', 'utilisateurs', 'comptes', 'audit_log']) {
    await knex(t).del();
  }
  await knex('roles').whereNotIn('name', ['admin', 'user', 'transporteur']).del();
}

/** Runs fn in a transaction, retrying deadlocks like ctx.mutate does. */
async function mutate<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await knex.transaction(fn);
    } catch (err) {
      if (isDeadlock(err) && attempt < 5) continue;
      throw err;
    }
  }
}

describe.each(testedKinds())('accounts domain on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => clear(db.knex));

  describe('list', () => {
    beforeEach(async () => {
      await makeAccount(db.knex, { email: 'jean.dupont@example.fr', firstName: 'Jean', lastName: 'Dupont', phone: '+33612345678', locked: true, failedLogins: 5, lastLogin: '2026-01-02 10:00:00', createdAt: '2026-01-01 00:00:00' });
      await makeAccount(db.knex, { email: 'marie@example.fr', firstName: 'Marie', lastName: 'Curie', status: 'suspended', emailVerified: true, lastLogin: '2026-03-01 10:00:00', createdAt: '2026-02-01 00:00:00' });
      await makeAccount(db.knex, { email: 'fret@transports.fr', role: 'transporteur', companyName: 'Fret Dupont SARL', phone: '+33699887766', status: 'suspended', emailVerified: true, phoneVerified: true, failedLogins: 2, createdAt: '2026-03-01 00:00:00' });
      await makeAccount(db.knex, { email: 'boss@example.fr', role: 'admin', firstName: 'Bea', lastName: 'Boss', emailVerified: true, lastLogin: '2026-01-02 10:00:00', createdAt: '2026-04-01 00:00:00' });
      await makeAccount(db.knex, { email: 'x_y%z@example.fr', firstName: 'Odd', lastName: 'Chars', failedLogins: 1, createdAt: '2026-05-01 00:00:00' });
    });

    const emails = (rows: AccountSummary[]) => rows.map((r) => r.email);

    it('filters by role, status, locked, unverified and creation date', async () => {
      expect(emails(await listAccounts(db.knex, { role: 'transporteur', limit: 50 }))).toEqual(['fret@transports.fr']);
      expect(emails(await listAccounts(db.knex, { status: 'suspended', limit: 50 }))).toEqual(['marie@example.fr', 'fret@transports.fr']);
      expect(emails(await listAccounts(db.knex, { locked: true, limit: 50 }))).toEqual(['jean.dupont@example.fr']);
      expect(emails(await listAccounts(db.knex, { unverified: 'email', limit: 50 }))).toEqual(['jean.dupont@example.fr', 'x_y%z@example.fr']);
      expect(emails(await listAccounts(db.knex, { unverified: 'any', limit: 50 })).length).toBe(4);
      expect(emails(await listAccounts(db.knex, { createdSince: new Date('2026-03-01T00:00:00Z'), limit: 50 }))).toEqual(['fret@transports.fr', 'boss@example.fr', 'x_y%z@example.fr']);
    });

    it('searches email, names, phone and company (every word must match)', async () => {
      expect(emails(await listAccounts(db.knex, { search: 'dupont', limit: 50 }))).toEqual(['jean.dupont@example.fr', 'fret@transports.fr']);
      expect(emails(await listAccounts(db.knex, { search: 'DUPONT sarl', limit: 50 }))).toEqual(['fret@transports.fr']);
      expect(emails(await listAccounts(db.knex, { search: 'curie', limit: 50 }))).toEqual(['marie@example.fr']);
      expect(emails(await listAccounts(db.knex, { search: 'Bea', limit: 50 }))).toEqual(['boss@example.fr']);
      expect(emails(await listAccounts(db.knex, { search: '06 12 34', limit: 50 }))).toEqual(['jean.dupont@example.fr']);
      expect(emails(await listAccounts(db.knex, { search: '+33699', limit: 50 }))).toEqual(['fret@transports.fr']);
      // LIKE wildcards typed by the user are literal.
      expect(emails(await listAccounts(db.knex, { search: '_y%', limit: 50 }))).toEqual(['x_y%z@example.fr']);
      expect(emails(await listAccounts(db.knex, { search: '%', limit: 50 }))).toEqual(['x_y%z@example.fr']);
      expect(emails(await listAccounts(db.knex, { search: '!', limit: 50 }))).toEqual([]);
    });

    it('finds phones stored as the platform app typed them, whatever format is searched', async () => {
      await makeAccount(db.knex, { email: 'lea@app.fr', phone: '0655555555' });
      await makeAccount(db.knex, { email: 'paul@app.fr', phone: '06 22 22 22 22' });
      await makeAccount(db.knex, { email: 'zoe@app.fr', phone: '06.33.33.33.33' });
      await makeAccount(db.knex, { email: 'car@app.fr', role: 'transporteur', phone: '+33 6 44 44 44 44' });
      for (const [search, expected] of [
        ['+33655555555', 'lea@app.fr'],
        ['06 55 55 55 55', 'lea@app.fr'],
        ['0655555555', 'lea@app.fr'],
        ['+33 6 22 22 22 22', 'paul@app.fr'],
        ['0622222222', 'paul@app.fr'],
        ['0033633333333', 'zoe@app.fr'],
        ['06 33 33', 'zoe@app.fr'],
        ['06-44-44-44-44', 'car@app.fr'],
        ['+33644444444', 'car@app.fr'],
        ['+33 (0)6 12 34 56 78', 'jean.dupont@example.fr'],
      ]) {
        expect(emails(await listAccounts(db.knex, { search, limit: 50 })), search).toEqual([expected]);
      }
      expect(phoneSearchDigits('+33 6 12 34 56 78')).toBe('612345678');
      expect(phoneSearchDigits('+44 20 7946 0958')).toBe('442079460958');
    });

    it('shows name or company, role and flags', async () => {
      const [fret] = await listAccounts(db.knex, { search: 'fret@', limit: 1 });
      expect(fret).toMatchObject({ role: 'transporteur', name: 'Fret Dupont SARL', company_name: 'Fret Dupont SARL', email_verified: true, phone_verified: true, failed_logins: 2 });
      expect(fret).not.toHaveProperty('password_hash');
    });

    for (const field of Object.keys(SORT_FIELDS) as SortField[]) {
      for (const direction of ['asc', 'desc'] as const) {
        it(`pages by keyset on (${field}, id) ${direction}, every page exact`, async () => {
          const sort = parseSort(`${field}:${direction}`);
          const all = await listAccounts(db.knex, { sort, limit: 100 });
          expect(all).toHaveLength(5);
          // The reference order, computed here: NULLs first ascending, last descending.
          const key = (a: AccountSummary): [number, string | number] => {
            const v = (a as unknown as Record<string, string | number | null>)[field];
            return v === null || v === undefined ? [0, ''] : [1, v];
          };
          const expected = [...all].sort((a, b) => {
            const [na, va] = key(a);
            const [nb, vb] = key(b);
            const c = na - nb || (va < vb ? -1 : va > vb ? 1 : 0) || a.id - b.id;
            return direction === 'asc' ? c : -c;
          });
          expect(all.map((a) => a.id)).toEqual(expected.map((a) => a.id));
          for (const size of [1, 2]) {
            const seen: number[] = [];
            let after: number | undefined;
            for (;;) {
              const page = await listAccounts(db.knex, { sort, limit: size, after });
              if (page.length === 0) break;
              seen.push(...page.map((a) => a.id));
              after = page[page.length - 1]!.id;
            }
            expect(seen).toEqual(expected.map((a) => a.id));
          }
        });
      }
    }

    it('refuses bad pages and filters with exit 2, an unknown cursor with exit 3', async () => {
      await expect(listAccounts(db.knex, { limit: 0 })).rejects.toMatchObject({ exitCode: 2 });
      await expect(listAccounts(db.knex, { limit: -3 })).rejects.toMatchObject({ exitCode: 2 });
      await expect(listAccounts(db.knex, { status: 'frozen', limit: 5 })).rejects.toMatchObject({ exitCode: 2 });
      await expect(listAccounts(db.knex, { role: 'nobody', limit: 5 })).rejects.toMatchObject({ exitCode: 2, code: 'unknown_role' });
      await expect(listAccounts(db.knex, { sort: parseSort('email'), after: 999999, limit: 5 })).rejects.toMatchObject({ exitCode: 3 });
    });
  });

  describe('create', () => {
    it('creates the compte and the profile of its role, email normalised', async () => {
      const p = await prepareAccount(db.knex, { email: '  Ana.Roy@Example.FR ', role: 'user', profile: { firstName: 'Ana', lastName: 'Roy', phone: '06 12 34 56 78' } });
      const a = await db.knex.transaction((trx) => createAccount(trx, p, FAKE_HASH));
      expect(a).toMatchObject({ email: 'ana.roy@example.fr', role: 'user', name: 'Ana Roy', phone_number: '+33612345678', status: 'active', account_locked: false });
      const row = await db.knex('comptes').where('id', a.id).first();
      expect(row.password_changed_at).not.toBeNull();
      expect(await db.knex('utilisateurs').where('compte_id', a.id).first()).toMatchObject({ first_name: 'Ana', phone_number: '+33612345678' });
    });

    it('creates a transporteur with its company, and an admin', async () => {
      const t = await prepareAccount(db.knex, { email: 't@x.fr', role: 'transporteur', profile: { phone: '+33611223344', companyName: 'Fret', companyType: 'colis' } });
      const a = await db.knex.transaction((trx) => createAccount(trx, t, FAKE_HASH));
      expect(await db.knex('transporteurs').where('compte_id', a.id).first()).toMatchObject({ company_name: 'Fret', company_type: 'colis' });
      const ad = await prepareAccount(db.knex, { email: 'a@x.fr', role: 'ADMIN', profile: { firstName: 'A', lastName: 'B' } });
      const b = await db.knex.transaction((trx) => createAccount(trx, ad, FAKE_HASH));
      expect(b.role).toBe('admin');
      expect(await db.knex('administrateurs').where('compte_id', b.id).first()).toMatchObject({ first_name: 'A' });
    });

    it('refuses a duplicate email (exit 4), an unknown role and invalid fields (exit 2), changing nothing', async () => {
      await makeAccount(db.knex, { email: 'taken@example.fr' });
      const before = await snapshot(db.knex, ACCOUNT_TABLES);
      const profile = { firstName: 'A', lastName: 'B', phone: '0612345678' };
      await expect(prepareAccount(db.knex, { email: 'TAKEN@example.fr', role: 'user', profile })).rejects.toMatchObject({ exitCode: 4, code: 'duplicate_email' });
      await expect(prepareAccount(db.knex, { email: 'n@example.fr', role: 'superuser', profile })).rejects.toMatchObject({ exitCode: 2, code: 'unknown_role' });
      await expect(prepareAccount(db.knex, { email: 'not-an-email', role: 'user', profile })).rejects.toMatchObject({ exitCode: 2, code: 'invalid_email' });
      await expect(prepareAccount(db.knex, { email: 'n@example.fr', role: 'user', profile: { ...profile, phone: 'call me' } })).rejects.toMatchObject({ exitCode: 2, code: 'invalid_phone' });
      expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
    });
  });

  describe('state changes', () => {
    it('locks and unlocks; unlock resets the consecutive-failure counter', async () => {
      const id = await makeAccount(db.knex, { email: 'l@x.fr', failedLogins: 3 });
      const locked = await db.knex.transaction((trx) => setLocked(trx, 'l@x.fr', true));
      expect(locked.after).toEqual({ account_locked: true });
      await expect(db.knex.transaction((trx) => setLocked(trx, 'l@x.fr', true))).rejects.toMatchObject({ exitCode: 4 });
      const un = await db.knex.transaction((trx) => setLocked(trx, String(id), false));
      expect(un.before).toEqual({ account_locked: true, failed_logins: 3 });
      expect(await db.knex('comptes').where('id', id).first('account_locked', 'failed_logins')).toMatchObject({ failed_logins: 0 });
      await expect(db.knex.transaction((trx) => setLocked(trx, 'l@x.fr', false))).rejects.toMatchObject({ exitCode: 4 });
    });

    it('moves the status along the table and refuses the rest with the current state', async () => {
      await makeAccount(db.knex, { email: 's@x.fr' });
      await db.knex.transaction((trx) => changeStatus(trx, 's@x.fr', 'suspend'));
      await expect(db.knex.transaction((trx) => changeStatus(trx, 's@x.fr', 'suspend'))).rejects.toThrow(/^account s@x.fr is already suspended$/);
      await db.knex.transaction((trx) => changeStatus(trx, 's@x.fr', 'deactivate'));
      await db.knex.transaction((trx) => changeStatus(trx, 's@x.fr', 'activate'));
      await db.knex.transaction((trx) => changeStatus(trx, 's@x.fr', 'delete'));
      await expect(db.knex.transaction((trx) => changeStatus(trx, 's@x.fr', 'activate'))).rejects.toMatchObject({ exitCode: 4, code: 'forbidden_transition' });
      await expect(db.knex.transaction((trx) => setLocked(trx, 's@x.fr', true))).rejects.toMatchObject({ exitCode: 4, code: 'account_deleted' });
    });

    it('resets a password: new hash, changed-at, unlocked, counters at zero', async () => {
      const id = await makeAccount(db.knex, { email: 'p@x.fr', locked: true, failedLogins: 7 });
      const ch = await db.knex.transaction((trx) => resetPassword(trx, 'p@x.fr', '$2b$04$newhashnewhashnewhashnewhashnewhashnewhashnewhashnewha'));
      expect(JSON.stringify(ch)).not.toContain('$2b$');
      const row = await db.knex('comptes').where('id', id).first();
      expect(row.password_hash).toMatch(/^\$2b\$04\$newhash/);
      expect(row).toMatchObject({ failed_logins: 0, login_attempts: 0 });
      expect(Boolean(row.account_locked)).toBe(false);
      expect(row.password_changed_at).not.toBeNull();
    });

    it('verifies and unverifies email and phone; refuses a no-op and an admin phone', async () => {
      await makeAccount(db.knex, { email: 'v@x.fr' });
      await makeAccount(db.knex, { email: 'adm@x.fr', role: 'admin' });
      const ch = await db.knex.transaction((trx) => setVerified(trx, 'v@x.fr', { email: true, phone: true }, true));
      expect(ch.after).toEqual({ email_verified: true, phone_verified: true });
      await expect(db.knex.transaction((trx) => setVerified(trx, 'v@x.fr', { email: true }, true))).rejects.toMatchObject({ exitCode: 4 });
      const un = await db.knex.transaction((trx) => setVerified(trx, 'v@x.fr', { phone: true }, false));
      expect(un.after).toEqual({ phone_verified: false });
      await expect(db.knex.transaction((trx) => setVerified(trx, 'adm@x.fr', { phone: true }, true))).rejects.toMatchObject({ exitCode: 4, code: 'no_phone' });
    });
  });

  describe('last active admin', () => {
    it('cannot be suspended, deactivated, deleted (soft or hard) or moved to another role', async () => {
      await makeAccount(db.knex, { email: 'only@x.fr', role: 'admin' });
      await makeAccount(db.knex, { email: 'old@x.fr', role: 'admin', status: 'suspended' });
      const before = await snapshot(db.knex, ACCOUNT_TABLES);
      for (const verb of ['suspend', 'deactivate', 'delete'] as const) {
        await expect(db.knex.transaction((trx) => changeStatus(trx, 'only@x.fr', verb))).rejects.toMatchObject({ exitCode: 4, code: 'last_active_admin' });
      }
      await expect(db.knex.transaction((trx) => hardDeleteAccount(trx, 'only@x.fr'))).rejects.toMatchObject({ code: 'last_active_admin' });
      await expect(db.knex.transaction((trx) => setRole(trx, 'only@x.fr', 'user', { phone: '0612345678' }))).rejects.toMatchObject({ code: 'last_active_admin' });
      expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
      // A non-active admin is not the one keeping the platform administered.
      await db.knex.transaction((trx) => changeStatus(trx, 'old@x.fr', 'delete'));
    });

    it('is kept when two admins are suspended at the same time', async () => {
      for (let round = 0; round < 4; round++) {
        await clear(db.knex);
        await makeAccount(db.knex, { email: 'a1@x.fr', role: 'admin' });
        await makeAccount(db.knex, { email: 'a2@x.fr', role: 'admin' });
        const results = await Promise.allSettled([
          mutate(db.knex, (trx) => changeStatus(trx, 'a1@x.fr', 'suspend')),
          mutate(db.knex, (trx) => changeStatus(trx, 'a2@x.fr', 'suspend')),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(refused.reason).toMatchObject({ code: 'last_active_admin' });
        const active = await db.knex('comptes').where({ status: 'active' }).count({ n: '*' }).first();
        expect(Number(active!.n)).toBe(1);
      }
    });
  });

  describe('delete --hard', () => {
    it('removes the account, its profile, zones and revoked tokens when nothing references it', async () => {
      const id = await makeAccount(db.knex, { email: 'gone@x.fr', role: 'transporteur' });
      await makeZone(db.knex, await profileId(db.knex, 'transporteurs', id), 'Lyon');
      const r = await db.knex.transaction((trx) => hardDeleteAccount(trx, 'gone@x.fr'));
      expect(r.removed).toEqual({ profile: 'transporteurs', zones: 1, revoked_tokens: 0 });
      expect(await db.knex('comptes').where('id', id).first()).toBeUndefined();
      expect(Number((await db.knex('zones_desservies').count({ n: '*' }).first())!.n)).toBe(0);
    });

    it('is refused (exit 4) naming what still references the account', async () => {
      const carrier = await makeAccount(db.knex, { email: 'carrier@x.fr', role: 'transporteur' });
      const user = await makeAccount(db.knex, { email: 'buyer@x.fr' });
      const tid = await profileId(db.knex, 'transporteurs', carrier);
      const trajet = await makeTrajet(db.knex, tid);
      await makeReservation(db.knex, trajet, user);
      await makeReservation(db.knex, trajet, user);
      await makeEnvoi(db.knex, await profileId(db.knex, 'utilisateurs', user), tid, user);
      const before = await snapshot(db.knex, ACCOUNT_TABLES);
      await expect(db.knex.transaction((trx) => hardDeleteAccount(trx, 'buyer@x.fr'))).rejects.toThrow(/still referenced by 2 reservations, 1 envoi, 1 envoi as expediteur/);
      await expect(db.knex.transaction((trx) => hardDeleteAccount(trx, 'carrier@x.fr'))).rejects.toThrow(/still referenced by 1 trajet, 1 envoi as transporteur/);
      expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
      // The soft delete keeps the history.
      await db.knex.transaction((trx) => changeStatus(trx, 'buyer@x.fr', 'delete'));
    });
  });

  describe('set-role', () => {
    it('moves the profile, carrying the phone and names over', async () => {
      const id = await makeAccount(db.knex, { email: 'u@x.fr', firstName: 'Ana', lastName: 'Roy', phone: '+33612345678' });
      const m = await db.knex.transaction((trx) => setRole(trx, 'u@x.fr', 'transporteur', { companyName: 'Ana Trans', companyType: 'passagers' }));
      expect(m).toMatchObject({ profile_from: 'utilisateurs', profile_to: 'transporteurs', before: { role: 'user' }, after: { role: 'transporteur' } });
      expect(await db.knex('utilisateurs').where('compte_id', id).first()).toBeUndefined();
      expect(await db.knex('transporteurs').where('compte_id', id).first()).toMatchObject({ phone_number: '+33612345678', company_name: 'Ana Trans', company_type: 'passagers' });
      // transporteur → user needs the names the transporteur profile does not have.
      await expect(db.knex.transaction((trx) => setRole(trx, 'u@x.fr', 'user'))).rejects.toMatchObject({ exitCode: 2, code: 'missing_field' });
      await db.knex.transaction((trx) => setRole(trx, 'u@x.fr', 'user', { firstName: 'Ana', lastName: 'Roy' }));
      expect(await db.knex('utilisateurs').where('compte_id', id).first()).toMatchObject({ phone_number: '+33612345678' });
    });

    it('keeps the profile between roles of the same kind, and refuses a no-op', async () => {
      await db.knex('roles').insert({ name: 'support', created_at: '2026-01-01 00:00:00', updated_at: '2026-01-01 00:00:00' });
      const id = await makeAccount(db.knex, { email: 'u@x.fr' });
      const pid = await profileId(db.knex, 'utilisateurs', id);
      await db.knex.transaction((trx) => setRole(trx, 'u@x.fr', 'support'));
      expect(await profileId(db.knex, 'utilisateurs', id)).toBe(pid);
      await expect(db.knex.transaction((trx) => setRole(trx, 'u@x.fr', 'support'))).rejects.toMatchObject({ exitCode: 4 });
      await expect(db.knex.transaction((trx) => setRole(trx, 'u@x.fr', 'nobody'))).rejects.toMatchObject({ exitCode: 2 });
    });

    it('refuses to orphan envois, trajets or zones (exit 4), changing nothing', async () => {
      const carrier = await makeAccount(db.knex, { email: 'carrier@x.fr', role: 'transporteur' });
      const user = await makeAccount(db.knex, { email: 'sender@x.fr' });
      const tid = await profileId(db.knex, 'transporteurs', carrier);
      await makeZone(db.knex, tid, 'Lyon');
      await makeEnvoi(db.knex, await profileId(db.knex, 'utilisateurs', user), tid, user);
      const before = await snapshot(db.knex, ACCOUNT_TABLES);
      await expect(db.knex.transaction((trx) => setRole(trx, 'sender@x.fr', 'transporteur'))).rejects.toThrow(/still has 1 envoi as expediteur, which would be orphaned/);
      await expect(db.knex.transaction((trx) => setRole(trx, 'carrier@x.fr', 'admin', { firstName: 'A', lastName: 'B' }))).rejects.toThrow(/1 envoi as transporteur, 1 zone desservie/);
      expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
    });
  });

  describe('show', () => {
    it('says why a locked account cannot log in: the lockout policy', async () => {
      await makeAccount(db.knex, { email: 'victim@x.fr' });
      for (let i = 0; i < 5; i++) await recordLoginAttempt(db.knex, 'victim@x.fr', { success: false }, { lockoutThreshold: 5 });
      const d = await showAccount(db.knex, 'victim@x.fr', { lockoutThreshold: 5 });
      expect(d.security).toMatchObject({ can_log_in: false, account_locked: true, failed_logins: 5, login_attempts: 5 });
      expect(d.security.lock_reason).toMatch(/^5 consecutive failed logins \(threshold 5\) \(lockout policy/);
      expect(d.recent_audit[0]).toMatchObject({ action: 'accounts.lockout', actor: 'lockout-policy' });
      expect(JSON.stringify(d)).not.toContain('password_hash');
      expect(JSON.stringify(d)).not.toContain(FAKE_HASH);
    });

    it('shows status, profile, zones and activity of a transporteur', async () => {
      const id = await makeAccount(db.knex, { email: 'c@x.fr', role: 'transporteur', status: 'suspended', companyName: 'Fret' });
      const tid = await profileId(db.knex, 'transporteurs', id);
      await makeZone(db.knex, tid, 'Orléans');
      await makeTrajet(db.knex, tid);
      const d = await showAccount(db.knex, '  C@X.FR ', { lockoutThreshold: 5 });
      expect(d.security.blocked_by).toEqual(['status is suspended']);
      expect(d.profile).toMatchObject({ table: 'transporteurs', company_name: 'Fret' });
      expect(d.zones.map((z) => z.city_name)).toEqual(['Orléans']);
      expect(d.activity).toMatchObject({ trajets: 1, envois_carried: 0, reservations: 0 });
    });

    it('offers "did you mean" for a near email (exit 3)', async () => {
      await makeAccount(db.knex, { email: 'jean.dupont@example.fr' });
      await expect(showAccount(db.knex, 'jean.dupond@example.fr', { lockoutThreshold: 5 })).rejects.toMatchObject({
        exitCode: 3,
        message: expect.stringContaining('did you mean jean.dupont@example.fr?'),
      });
    });
  });
});
