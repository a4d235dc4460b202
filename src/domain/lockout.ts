/**
 * The lockout policy (PRODUCT.md, docs/rules.md), as a function the platform's login code can call
 * after checking a password:
 * - every attempt counts in `login_attempts`;
 * - a failure adds one to `failed_logins` (consecutive failures) and sets `last_failed_login`;
 *   when `failed_logins` reaches the threshold the account is locked (`account_locked = 1`) and
 *   the lock is written to the audit log, so `accounts show` can say why;
 * - a success on an active, unlocked account resets `failed_logins` and sets `last_login`;
 * - a locked or non-active account is refused whatever the password: a right password does not
 *   unlock it and does not reset its counter (only `accounts unlock` / `reset-password` do).
 *
 * Concurrency: the counters move with relative UPDATEs (`failed_logins = failed_logins + 1`) and the
 * lock with a conditional one (`… WHERE account_locked = 0 AND failed_logins >= threshold`), so
 * simultaneous failures are all counted and exactly one of them reports `lockedNow`.
 */
import type { Knex } from 'knex';
import type { CompteRow } from '../db/rows.js';
import { toBool, toDbTime } from '../db/values.js';
import { writeAudit } from './audit.js';
import { findCompte } from './lookup.js';

export interface LoginAttempt {
  /** Whether the password matched. */
  success: boolean;
}

export interface LockoutSettings {
  lockoutThreshold: number;
}

export interface LoginOutcome {
  compteId: number;
  /** Whether the platform may open a session. */
  allowed: boolean;
  /** Why not, when not allowed. */
  reason: 'bad_password' | 'locked' | 'inactive' | 'suspended' | 'deleted' | null;
  locked: boolean;
  /** This attempt is the one that locked the account. */
  lockedNow: boolean;
  failedLogins: number;
  loginAttempts: number;
}

export interface RecordOptions {
  /** Actor of the audit row written when the policy locks the account. */
  actor?: string;
  now?: Date;
}

/**
 * Records one login attempt on the account (id or email) and applies the policy. Runs in the
 * given transaction, or in its own when given a Knex instance.
 */
export async function recordLoginAttempt(
  db: Knex | Knex.Transaction,
  compteRef: string | number,
  attempt: LoginAttempt,
  settings: LockoutSettings,
  options: RecordOptions = {},
): Promise<LoginOutcome> {
  if (!isTransaction(db)) return db.transaction((trx) => recordLoginAttempt(trx, compteRef, attempt, settings, options));
  const trx = db;
  const threshold = settings.lockoutThreshold;
  const now = toDbTime(options.now ?? new Date());
  const c0 = await findCompte(trx, compteRef);
  const refusal = (c: CompteRow): LoginOutcome['reason'] =>
    toBool(c.account_locked) ? 'locked' : c.status !== 'active' ? (c.status as LoginOutcome['reason']) : null;

  if (attempt.success) {
    await trx('comptes').where('id', c0.id).increment('login_attempts', 1);
    // Only an active, unlocked account logs in; the WHERE makes that decision atomic.
    const opened = await trx('comptes')
      .where({ id: c0.id, account_locked: false, status: 'active' })
      .update({ failed_logins: 0, last_login: now, updated_at: now });
    const c = await reread(trx, c0.id);
    return outcome(c, opened === 1 ? null : refusal(c) ?? 'locked', false);
  }

  await trx('comptes')
    .where('id', c0.id)
    .update({
      login_attempts: trx.raw('login_attempts + 1'),
      failed_logins: trx.raw('failed_logins + 1'),
      last_failed_login: now,
      updated_at: now,
    });
  const lockedNow =
    (await trx('comptes')
      .where({ id: c0.id, account_locked: false })
      .where('failed_logins', '>=', threshold)
      .update({ account_locked: true })) === 1;
  const c = await reread(trx, c0.id);
  if (lockedNow) {
    await writeAudit(trx, {
      actor: options.actor ?? 'lockout-policy',
      action: 'accounts.lockout',
      targetType: 'compte',
      targetId: c.id,
      reason: `${c.failed_logins} consecutive failed logins (threshold ${threshold})`,
      before: { account_locked: false, failed_logins: c.failed_logins - 1 },
      after: { account_locked: true, failed_logins: c.failed_logins },
    });
  }
  return outcome(c, toBool(c.account_locked) ? 'locked' : 'bad_password', lockedNow);
}

function outcome(c: CompteRow, reason: LoginOutcome['reason'], lockedNow: boolean): LoginOutcome {
  return {
    compteId: c.id,
    allowed: reason === null,
    reason,
    locked: toBool(c.account_locked),
    lockedNow,
    failedLogins: Number(c.failed_logins),
    loginAttempts: Number(c.login_attempts),
  };
}

async function reread(trx: Knex.Transaction, id: number): Promise<CompteRow> {
  return (await trx<CompteRow>('comptes').where('id', id).first()) as CompteRow;
}

function isTransaction(db: Knex | Knex.Transaction): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true;
}
