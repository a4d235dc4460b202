/**
 * Revoked JWTs. The platform app writes this table too (its logout inserts the seed's columns
 * only), so a token's SHA-256 is never written by either side: MySQL computes token_hash itself
 * (generated column, UNIQUE), SQLite indexes token directly; `whereToken` picks the lookup.
 * `expires_at` comes from the JWT's `exp`, `user_id` from its account claim (`sub`, else `id`,
 * `userId`, `user_id`; BILLETTIGUE_JWT_ACCOUNT_CLAIM) (docs/rules.md). A token is never printed
 * or logged: output names it by its hash.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { insertId, whereToken } from '../db/dialect.js';
import type { RevokedTokenRow } from '../db/rows.js';
import { fromDbTime, isoOrNull, toDbTime } from '../db/values.js';
import { Conflict, InvalidInput, NotFound } from './errors.js';
import { DEFAULT_ACCOUNT_CLAIMS } from './settings.js';
import { optionalText } from './validate.js';

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface PurgeOptions {
  /** Delete tokens that expired before this instant (default: now). */
  before?: Date;
  /** Rows deleted per transaction (bounded so locks and undo stay small). */
  batchSize?: number;
  /** Count only. */
  dryRun?: boolean;
  onBatch?: (deletedSoFar: number) => void;
}

/**
 * Deletes expired revoked tokens in batches of bounded size, each batch its own short transaction;
 * returns how many were (or, with dryRun, would be) deleted.
 */
export async function purgeExpiredTokens(db: Knex, options: PurgeOptions = {}): Promise<number> {
  const cutoff = toDbTime(options.before ?? new Date());
  const batchSize = options.batchSize ?? 5000;
  if (options.dryRun) {
    const row = (await db('revoked_tokens').where('expires_at', '<', cutoff).count({ n: '*' }).first()) as { n: number | string };
    return Number(row.n);
  }
  let total = 0;
  for (;;) {
    const deleted: number = await db.transaction(async (trx): Promise<number> => {
      const ids = (await trx('revoked_tokens').where('expires_at', '<', cutoff).orderBy('id').limit(batchSize).pluck('id')) as number[];
      if (ids.length === 0) return 0;
      return trx('revoked_tokens').whereIn('id', ids).del();
    });
    total += deleted;
    options.onBatch?.(total);
    if (deleted < batchSize) return total;
  }
}

// ---- decoding, revoking, checking, listing --------------------------------------------------

export interface DecodedToken {
  /** The token as stored (trimmed, without a `Bearer ` prefix). */
  token: string;
  hash: string;
  /** The account id, from the first of the account claims that holds one (null: none does). */
  accountId: number | null;
  /** The claim it came from (`sub`, `id`, …). */
  accountClaim: string | null;
  /** From `exp` (seconds since the epoch). */
  expiresAt: Date;
}

/** The largest `exp` a DATETIME can hold (9999-12-31 23:59:59 UTC). */
const MAX_EXP = 253402300799;
/** TEXT holds 65,535 bytes on MySQL. */
const MAX_TOKEN_BYTES = 65535;

function malformed(why: string): InvalidInput {
  // Never echo the token: it is a credential.
  return new InvalidInput(`malformed token: ${why}`, { code: 'malformed_token' });
}

function decodePart(part: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw malformed(`its ${name} is not base64url-encoded JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed(`its ${name} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** An account id: a positive whole number, or a string of digits. */
function asAccountId(v: unknown): number | null {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  if (typeof v === 'string' && /^\d+$/.test(v) && Number.isSafeInteger(Number(v)) && Number(v) > 0) return Number(v);
  return null;
}

export interface DecodeOptions {
  /** Claims that may carry the account id, in order (default DEFAULT_ACCOUNT_CLAIMS). */
  accountClaims?: readonly string[];
  /** Refuse a token none of whose account claims holds an id (revoking needs the account). */
  requireAccount?: boolean;
}

/**
 * Reads the account and `exp` from a JWT (JWS compact form `header.payload.signature`) without
 * checking the signature: revoking needs no secret, and a forged token is harmless to revoke.
 * The account is the first of `accountClaims` holding a positive integer (or a string of digits):
 * the platform app may put it in `id` or `userId` rather than `sub` (which may hold an email);
 * `exp` must be a NumericDate.
 */
export function decodeJwt(raw: string, options: DecodeOptions = {}): DecodedToken {
  const claims = options.accountClaims ?? DEFAULT_ACCOUNT_CLAIMS;
  const requireAccount = options.requireAccount ?? true;
  const token = raw.trim().replace(/^bearer\s+/i, '');
  if (token === '') throw malformed('the input is empty');
  if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) throw malformed(`it is longer than ${MAX_TOKEN_BYTES} bytes`);
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed(`a JWT has 3 dot-separated parts (header.payload.signature), this has ${parts.length}`);
  if (!parts.every((p, i) => /^[A-Za-z0-9_-]*$/.test(p) && (i === 2 || p.length > 0))) {
    throw malformed('its parts must be non-empty base64url text (A-Z a-z 0-9 - _)');
  }
  const header = decodePart(parts[0]!, 'header');
  if (typeof header.alg !== 'string') throw malformed('its header has no "alg"');
  const payload = decodePart(parts[1]!, 'payload');
  const claim = claims.find((c) => asAccountId(payload[c]) !== null) ?? null;
  const accountId = claim === null ? null : asAccountId(payload[claim]);
  if (accountId === null && requireAccount) {
    const present = claims.filter((c) => payload[c] !== undefined);
    const names = claims.map((c) => `"${c}"`).join(', ');
    throw malformed(
      present.length === 0
        ? `its payload has no account claim (looked for ${names}; set BILLETTIGUE_JWT_ACCOUNT_CLAIM to the claim your tokens use)`
        : `${present.map((c) => `"${c}"`).join(', ')} ${present.length > 1 ? 'are' : 'is'} not an account id (a positive whole number)`,
    );
  }
  const { exp } = payload;
  if (exp === undefined) throw malformed('its payload has no "exp" (expiry time)');
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0 || exp > MAX_EXP) {
    throw malformed('"exp" is not a time in seconds since 1970 (NumericDate)');
  }
  return { token, hash: tokenHash(token), accountId, accountClaim: claim, expiresAt: new Date(Math.floor(exp) * 1000) };
}

export interface TokenRecord {
  id: number;
  user_id: number;
  email: string | null;
  /** SHA-256 hex of the token: how a token is named in output (the token itself never is). */
  token_hash: string;
  revoked_at: string | null;
  expires_at: string | null;
  expired: boolean;
  reason: string | null;
}

type TokenJoin = RevokedTokenRow & { email: string | null };

function toTokenRecord(r: TokenJoin, now: Date): TokenRecord {
  return {
    id: r.id,
    user_id: r.user_id,
    email: r.email,
    token_hash: tokenHash(r.token),
    revoked_at: isoOrNull(r.revoked_at),
    expires_at: isoOrNull(r.expires_at),
    expired: fromDbTime(r.expires_at).getTime() < now.getTime(),
    reason: r.reason,
  };
}

function tokenQuery(db: Knex | Knex.Transaction): Knex.QueryBuilder {
  return db('revoked_tokens as t')
    .leftJoin('comptes as c', 'c.id', 't.user_id')
    .select('t.id', 't.user_id', 't.token', 't.revoked_at', 't.expires_at', 't.reason', 'c.email');
}

export interface RevokeOptions {
  reason?: string | null;
  now?: Date;
  accountClaims?: readonly string[];
}

/** Revokes a token (stores it with its hash, account and expiry). Already revoked → Conflict (exit 4). */
export async function revokeToken(trx: Knex.Transaction, raw: string, options: RevokeOptions = {}): Promise<TokenRecord> {
  const decoded = decodeJwt(raw, { accountClaims: options.accountClaims });
  const accountId = decoded.accountId!;
  const now = options.now ?? new Date();
  const reason = optionalText(options.reason, '--reason') ?? 'logout';
  const compte = (await trx('comptes').where('id', accountId).first('id', 'email')) as { id: number; email: string } | undefined;
  if (!compte) {
    throw new NotFound(`the token's "${decoded.accountClaim}" is account ${accountId}, which does not exist`, { code: 'account_not_found' });
  }
  const existing = (await whereToken(tokenQuery(trx), 't.', decoded.token, decoded.hash).first()) as TokenJoin | undefined;
  if (existing) {
    throw new Conflict(`this token is already revoked (at ${isoOrNull(existing.revoked_at)}, id ${existing.id})`, {
      code: 'already_revoked',
      details: { id: existing.id, revoked_at: isoOrNull(existing.revoked_at) },
    });
  }
  const id = await insertId(trx('revoked_tokens').insert({
    token: decoded.token,
    user_id: accountId,
    revoked_at: toDbTime(now),
    expires_at: toDbTime(decoded.expiresAt),
    reason,
  }));
  const row = (await tokenQuery(trx).where('t.id', id!).first()) as TokenJoin;
  return toTokenRecord(row, now);
}

/** Is this token revoked? The record when it is; NotFound (exit 3) when not. */
export async function checkToken(db: Knex | Knex.Transaction, raw: string, now = new Date()): Promise<TokenRecord> {
  // Found by the token itself: which account it names does not matter here.
  const decoded = decodeJwt(raw, { requireAccount: false });
  const row = (await whereToken(tokenQuery(db), 't.', decoded.token, decoded.hash).first()) as TokenJoin | undefined;
  if (!row) throw new NotFound(`this token is not revoked (no revoked token with hash ${decoded.hash.slice(0, 12)}…)`, { code: 'token_not_revoked' });
  return toTokenRecord(row, now);
}

export interface TokenListQuery {
  /** Account id (already resolved from id or email). */
  userId?: number;
  /** `active`: not yet expired (still worth refusing); `expired`: purgeable. */
  state?: 'active' | 'expired';
  limit: number;
  /** Keyset cursor: id of the last token of the previous page. */
  after?: number;
  now?: Date;
}

/** Revoked tokens by id, keyset-paginated. */
export async function listTokens(db: Knex | Knex.Transaction, q: TokenListQuery): Promise<TokenRecord[]> {
  const now = q.now ?? new Date();
  const qb = tokenQuery(db).orderBy('t.id').limit(q.limit);
  if (q.userId !== undefined) qb.where('t.user_id', q.userId);
  if (q.state === 'active') qb.where('t.expires_at', '>=', toDbTime(now));
  if (q.state === 'expired') qb.where('t.expires_at', '<', toDbTime(now));
  if (q.after !== undefined) qb.where('t.id', '>', q.after);
  return ((await qb) as TokenJoin[]).map((r) => toTokenRecord(r, now));
}

/**
 * The cutoff of `tokens purge --expired-before`: not in the future, because deleting the row of a
 * token that has not expired yet would make that token valid again.
 */
export function purgeCutoff(before: Date | undefined, now = new Date()): Date {
  if (!before) return now;
  if (before.getTime() > now.getTime()) {
    throw new InvalidInput(
      `--expired-before ${before.toISOString()} is in the future: purging tokens that have not expired would make them valid again`,
      { code: 'cutoff_in_future' },
    );
  }
  return before;
}
