/**
 * Input rules shared by every aggregate: emails, phones, names, enumerations, ids.
 */
import { InvalidInput } from './errors.js';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Trimmed, lower-cased and checked (the same on MySQL's _ci collation and SQLite's bytes). */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!EMAIL_RE.test(email) || email.length > 255) {
    throw new InvalidInput(`"${raw}" is not a valid email address (expected name@domain.tld)`, { code: 'invalid_email' });
  }
  return email;
}

export function looksLikeEmail(s: string): boolean {
  return s.includes('@');
}

/**
 * E.164 (+33612345678) or French national format (06 12 34 56 78, 06.12.34.56.78, 0612345678),
 * stored normalised as E.164. Spaces, dots, dashes and parentheses are ignored.
 */
export function normalizePhone(raw: string, field = 'phone'): string {
  const compact = raw.trim().replace(/[\s.\-()]/g, '');
  if (/^0[1-9]\d{8}$/.test(compact)) return `+33${compact.slice(1)}`;
  if (/^0033[1-9]\d{8}$/.test(compact)) return `+${compact.slice(2)}`;
  if (/^\+[1-9]\d{7,14}$/.test(compact)) return compact;
  throw new InvalidInput(
    `${field} "${raw}" is not a phone number: use E.164 (+33612345678) or the French format (06 12 34 56 78)`,
    { code: 'invalid_phone' },
  );
}

export function requireText(value: string | undefined, field: string, max = 255): string {
  const v = (value ?? '').trim();
  if (v === '') throw new InvalidInput(`${field} is required`, { code: 'missing_field' });
  if (v.length > max) throw new InvalidInput(`${field} is longer than ${max} characters`);
  return v;
}

export function optionalText(value: string | undefined | null, field: string, max = 255): string | null {
  if (value === undefined || value === null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (v.length > max) throw new InvalidInput(`${field} is longer than ${max} characters`);
  return v;
}

/** Checks a value against an allowed list, with the list in the message. */
export function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidInput(`${field} "${value}" is not allowed: use one of ${allowed.join(', ')}`, { code: 'invalid_value' });
}

/** A record id given on the command line. */
export function parseId(raw: string | number, what: string): number {
  const s = String(raw).trim();
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidInput(`${what} id must be a positive whole number, got "${raw}"`, { code: 'invalid_id' });
  }
  return n;
}
