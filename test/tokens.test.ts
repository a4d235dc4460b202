/**
 * Tokens: JWT decoding (pure), revoke/check/list/purge on both databases, and the CLI reading
 * tokens from stdin and files, with exit codes 0/2/3/4 and nothing changed on refusals.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { checkToken, decodeJwt, listTokens, purgeCutoff, purgeExpiredTokens, revokeToken, tokenHash } from '../src/domain/tokens.js';
import { ACCOUNT_TABLES, jwt, makeAccount } from './accounts-fixtures.js';

const FUTURE = 1900000000; // 2030-03-17
const PAST = 1600000000; // 2020-09-13

describe('decodeJwt', () => {
  it('reads sub (number or digits) and exp without the secret', () => {
    const t = jwt({ sub: '42', exp: FUTURE, iat: 1 });
    expect(decodeJwt(`  Bearer ${t}\n`)).toEqual({ token: t, hash: tokenHash(t), accountId: 42, accountClaim: 'sub', expiresAt: new Date(FUTURE * 1000) });
    expect(decodeJwt(jwt({ sub: 7, exp: FUTURE + 0.5 })).accountId).toBe(7);
    // alg "none" tokens have an empty signature: still decodable.
    expect(decodeJwt(jwt({ sub: 1, exp: FUTURE }).replace(/\.[^.]*$/, '.')).accountId).toBe(1);
  });

  it("finds the account where the platform app puts it: sub, else id, userId, user_id, or the configured claims", () => {
    expect(decodeJwt(jwt({ id: 5, email: 'a@b.fr', exp: FUTURE }))).toMatchObject({ accountId: 5, accountClaim: 'id' });
    expect(decodeJwt(jwt({ sub: 'a@b.fr', userId: '6', exp: FUTURE }))).toMatchObject({ accountId: 6, accountClaim: 'userId' });
    expect(decodeJwt(jwt({ user_id: 8, exp: FUTURE }))).toMatchObject({ accountId: 8, accountClaim: 'user_id' });
    expect(decodeJwt(jwt({ sub: 1, uid: 9, exp: FUTURE }), { accountClaims: ['uid'] })).toMatchObject({ accountId: 9, accountClaim: 'uid' });
    expect(() => decodeJwt(jwt({ sub: 1, exp: FUTURE }), { accountClaims: ['uid'] })).toThrow(/no account claim \(looked for "uid"; set BILLETTIGUE_JWT_ACCOUNT_CLAIM/);
    // `tokens check` does not need the account.
    expect(decodeJwt(jwt({ exp: FUTURE }), { requireAccount: false }).accountId).toBeNull();
  });

  const b = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const h = b({ alg: 'HS256' });
  it.each([
    ['empty', '', /empty/],
    ['two parts', `${h}.${b({ sub: 1, exp: FUTURE })}`, /3 dot-separated parts/],
    ['bad characters', `${h}.${b({ sub: 1, exp: FUTURE })}.sig+/=`, /base64url/],
    ['payload not JSON', `${h}.bm90IGpzb24.sig`, /payload is not base64url-encoded JSON/],
    ['payload an array', `${h}.${b([1])}.sig`, /payload is not a JSON object/],
    ['header without alg', `${b({ typ: 'JWT' })}.${b({ sub: 1, exp: FUTURE })}.sig`, /no "alg"/],
    ['no account claim', jwt({ exp: FUTURE }), /no account claim \(looked for "sub", "id", "userId", "user_id"/],
    ['sub an email', jwt({ sub: 'a@b.fr', exp: FUTURE }), /"sub" is not an account id/],
    ['sub zero', jwt({ sub: 0, exp: FUTURE }), /"sub" is not an account id/],
    ['no exp', jwt({ sub: 1 }), /no "exp"/],
    ['exp a string', jwt({ sub: 1, exp: '2030-01-01' }), /"exp" is not a time/],
    ['exp beyond year 9999', jwt({ sub: 1, exp: 1e15 }), /"exp" is not a time/],
  ])('refuses %s (exit 2) without echoing the token', (_name, token, message) => {
    let err: unknown;
    try {
      decodeJwt(token);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ exitCode: 2, code: 'malformed_token', message: expect.stringMatching(message) });
    if (token) expect((err as Error).message).not.toContain(token);
  });

  it('refuses a purge cutoff in the future (it would un-revoke live tokens)', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(purgeCutoff(undefined, now)).toBe(now);
    expect(purgeCutoff(new Date('2026-01-01T00:00:00Z'), now).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(() => purgeCutoff(new Date('2026-07-01T00:00:00Z'), now)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe.each(testedKinds())('tokens on %s', (kind) => {
  let db: TestDb;
  let user: number;
  let other: number;
  beforeAll(async () => {
    db = await createTestDb(kind);
    user = await makeAccount(db.knex, { email: 'u@x.fr' });
    other = await makeAccount(db.knex, { email: 'o@x.fr' });
  });
  afterAll(async () => db?.drop());

  it('revokes once, finds it by hash, refuses twice (exit 4) and unknown accounts (exit 3)', async () => {
    const t = jwt({ sub: String(user), exp: FUTURE, jti: 'a' });
    const rec = await db.knex.transaction((trx) => revokeToken(trx, t, { reason: 'stolen laptop' }));
    expect(rec).toMatchObject({ user_id: user, email: 'u@x.fr', token_hash: tokenHash(t), expires_at: '2030-03-17T17:46:40.000Z', expired: false, reason: 'stolen laptop' });
    expect(await db.knex('revoked_tokens').where('id', rec.id).first('token')).toEqual({ token: t });
    expect(await checkToken(db.knex, t)).toMatchObject({ id: rec.id });
    await expect(db.knex.transaction((trx) => revokeToken(trx, t))).rejects.toMatchObject({ exitCode: 4, code: 'already_revoked' });
    await expect(db.knex.transaction((trx) => revokeToken(trx, jwt({ sub: 999999, exp: FUTURE })))).rejects.toMatchObject({ exitCode: 3 });
    await expect(checkToken(db.knex, jwt({ sub: user, exp: FUTURE, jti: 'never' }))).rejects.toMatchObject({ exitCode: 3 });
  });

  it('lists by account and state, keyset-paginated, and purges only expired ones', async () => {
    await db.knex.transaction(async (trx) => {
      await revokeToken(trx, jwt({ sub: user, exp: PAST, jti: 'old1' }));
      await revokeToken(trx, jwt({ sub: other, exp: PAST, jti: 'old2' }));
      await revokeToken(trx, jwt({ sub: other, exp: FUTURE, jti: 'live' }));
    });
    expect((await listTokens(db.knex, { limit: 50 })).length).toBe(4);
    expect((await listTokens(db.knex, { userId: other, limit: 50 })).map((t) => t.expired)).toEqual([true, false]);
    expect((await listTokens(db.knex, { state: 'active', limit: 50 })).every((t) => !t.expired)).toBe(true);
    const expired = await listTokens(db.knex, { state: 'expired', limit: 50 });
    expect(expired).toHaveLength(2);
    const page1 = await listTokens(db.knex, { limit: 3 });
    const page2 = await listTokens(db.knex, { limit: 3, after: page1[2]!.id });
    expect([...page1, ...page2].map((t) => t.id)).toEqual((await listTokens(db.knex, { limit: 50 })).map((t) => t.id));

    expect(await purgeExpiredTokens(db.knex, { dryRun: true })).toBe(2);
    expect(await purgeExpiredTokens(db.knex, { batchSize: 1 })).toBe(2);
    expect((await listTokens(db.knex, { limit: 50 })).every((t) => !t.expired)).toBe(true);
  });

  it('CLI: revoke from stdin and --token-file, check answers on stdout and exits 0/1, refusals change nothing', async () => {
    const t = jwt({ sub: user, exp: FUTURE, jti: 'cli' });
    const r = await runJson<{ token: { user_id: number; token_hash: string }; dry_run: boolean }>(['tokens', 'revoke', '--reason', 'support call'], { url: db.url, input: `${t}\n` });
    expect(r.code).toBe(0);
    expect(r.data.token).toMatchObject({ user_id: user, token_hash: tokenHash(t) });
    expect(JSON.stringify(r.data)).not.toContain(t);

    const file = path.join(db.dir, 'token.txt');
    writeFileSync(file, `${t}\n`);
    const c = await run(['tokens', 'check', '--token-file', file], { url: db.url });
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^revoked\n/);
    expect(c.stdout).not.toContain(t);

    const before = await snapshot(db.knex, ACCOUNT_TABLES);
    const again = await run(['tokens', 'revoke', '--token-file', file], { url: db.url });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^error: this token is already revoked/);
    const notRevoked = await run(['tokens', 'check'], { url: db.url, input: jwt({ sub: user, exp: FUTURE, jti: 'other' }) });
    expect(notRevoked.code).toBe(1);
    expect(notRevoked.stdout).toBe('not revoked\n');
    expect(notRevoked.stderr).toBe('');
    const quiet = await run(['tokens', 'check', '-q'], { url: db.url, input: jwt({ sub: user, exp: FUTURE, jti: 'other' }) });
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([1, '', '']);
    const bad = await run(['tokens', 'revoke'], { url: db.url, input: 'not.a-jwt' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: malformed token/);
    const empty = await run(['tokens', 'revoke'], { url: db.url, input: '' });
    expect(empty.code).toBe(2);
    const missing = await run(['tokens', 'revoke', '--token-file', path.join(db.dir, 'nope')], { url: db.url });
    expect(missing.code).toBe(2);
    const future = await run(['tokens', 'purge', '--expired-before', '2999-01-01'], { url: db.url });
    expect(future.code).toBe(2);
    const both = await run(['tokens', 'list', '--active', '--expired'], { url: db.url });
    expect(both.code).toBe(2);
    expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
  });

  it('CLI: purge prints the count, --dry-run deletes nothing', async () => {
    await db.knex.transaction((trx) => revokeToken(trx, jwt({ sub: user, exp: PAST, jti: 'p' })));
    const before = await snapshot(db.knex, ACCOUNT_TABLES);
    const dry = await runJson<{ deleted: number; dry_run: boolean }>(['tokens', 'purge', '--dry-run'], { url: db.url });
    expect(dry.data).toMatchObject({ deleted: 1, dry_run: true });
    expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
    const real = await run(['tokens', 'purge'], { url: db.url });
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/^deleted 1 expired revoked token \(expired before/);
    expect(await db.knex('audit_log').where('action', 'tokens.purge').count({ n: '*' }).first()).toEqual({ n: kind === 'mysql' ? 1 : 1 });
  });
});
