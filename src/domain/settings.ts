/**
 * Tunable rules of the platform, read once from the environment by the CLI and passed down.
 * Every variable is documented in the README.
 */
import { InvalidInput } from './errors.js';

/** JWT claims tried for the account id when none are configured (BILLETTIGUE_JWT_ACCOUNT_CLAIM). */
export const DEFAULT_ACCOUNT_CLAIMS = ['sub', 'id', 'userId', 'user_id'];

export interface Settings {
  /** bcrypt cost (BILLETTIGUE_BCRYPT_COST, default 12). */
  bcryptCost: number;
  /** Consecutive failed logins that lock an account (BILLETTIGUE_LOCKOUT_THRESHOLD, default 5). */
  lockoutThreshold: number;
  /** Refundable supplement, in basis points of the base fare (BILLETTIGUE_REFUND_RATE in %, default 10). */
  refundRateBp: number;
  /** Colis shipping cost: base in cents + per kg in cents (BILLETTIGUE_COLIS_BASE, BILLETTIGUE_COLIS_PER_KG). */
  colisBaseCents: number;
  colisPerKgCents: number;
  /** Minimum password length (BILLETTIGUE_PASSWORD_MIN_LENGTH, default 10). */
  passwordMinLength: number;
  /**
   * JWT payload claims that may carry the account id, tried in order
   * (BILLETTIGUE_JWT_ACCOUNT_CLAIM, comma-separated; default sub, id, userId, user_id).
   */
  jwtAccountClaims: string[];
}

export const DEFAULT_SETTINGS: Settings = {
  bcryptCost: 12,
  lockoutThreshold: 5,
  refundRateBp: 1000,
  colisBaseCents: 500,
  colisPerKgCents: 150,
  passwordMinLength: 10,
  jwtAccountClaims: [...DEFAULT_ACCOUNT_CLAIMS],
};

function claims(env: NodeJS.ProcessEnv, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const list = raw.split(',').map((c) => c.trim()).filter(Boolean);
  const bad = list.find((c) => !/^[A-Za-z_$][A-Za-z0-9_$.-]{0,63}$/.test(c));
  if (list.length === 0 || bad !== undefined) {
    throw new InvalidInput(`${name}=${raw} is invalid: expected claim names separated by commas, e.g. sub or id,userId`);
  }
  return list;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidInput(`${name}=${raw} is invalid: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** A decimal with at most two places ("10", "7.5", "1.50") → hundredths as an integer. */
function hundredths(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(raw.trim());
  if (!m) throw new InvalidInput(`${name}=${raw} is invalid: expected a number with at most 2 decimals, e.g. 10 or 7.5`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    bcryptCost: int(env, 'BILLETTIGUE_BCRYPT_COST', DEFAULT_SETTINGS.bcryptCost, 4, 31),
    lockoutThreshold: int(env, 'BILLETTIGUE_LOCKOUT_THRESHOLD', DEFAULT_SETTINGS.lockoutThreshold, 1, 1000),
    refundRateBp: hundredths(env, 'BILLETTIGUE_REFUND_RATE', DEFAULT_SETTINGS.refundRateBp),
    colisBaseCents: hundredths(env, 'BILLETTIGUE_COLIS_BASE', DEFAULT_SETTINGS.colisBaseCents),
    colisPerKgCents: hundredths(env, 'BILLETTIGUE_COLIS_PER_KG', DEFAULT_SETTINGS.colisPerKgCents),
    passwordMinLength: int(env, 'BILLETTIGUE_PASSWORD_MIN_LENGTH', DEFAULT_SETTINGS.passwordMinLength, 1, 72),
    jwtAccountClaims: claims(env, 'BILLETTIGUE_JWT_ACCOUNT_CLAIM', DEFAULT_SETTINGS.jwtAccountClaims),
  };
}
