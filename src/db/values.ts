/**
 * Conversions between database values and domain values, identical on both dialects.
 * Time: the database holds 'YYYY-MM-DD HH:MM:SS' in UTC; the program holds Date; output is ISO 8601.
 * Money: integer cents in the program; DECIMAL in the database (string on MySQL, REAL on SQLite).
 */
import type { DbBool, DbDateTime, DbDecimal } from './rows.js';

/** Date → 'YYYY-MM-DD HH:MM:SS' (UTC), the form every DATETIME column is written in. */
export function toDbTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** 'YYYY-MM-DD HH:MM:SS' (UTC) → Date. Accepts ISO strings and Dates as well. */
export function fromDbTime(v: DbDateTime | Date): Date {
  if (v instanceof Date) return v;
  const s = String(v);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}

/** DATETIME → ISO 8601 UTC string for JSON output (null stays null). */
export function isoOrNull(v: DbDateTime | Date | null | undefined): string | null {
  return v === null || v === undefined ? null : fromDbTime(v).toISOString();
}

export function toBool(v: DbBool | null | undefined): boolean {
  return v === true || v === 1 || (v as unknown) === '1';
}

/**
 * DECIMAL → integer cents. MySQL gives exact strings; SQLite gives doubles, which for values with
 * at most two decimals round back to the exact cent.
 */
export function toCents(v: DbDecimal | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return Math.round(v * 100);
  const m = /^(-)?(\d*)(?:\.(\d*))?$/.exec(v.trim());
  if (!m) throw new Error(`not a decimal: ${v}`);
  const frac = ((m[3] ?? '') + '00').slice(0, 2);
  const rest = (m[3] ?? '').slice(2);
  let cents = Number(m[2] || '0') * 100 + Number(frac);
  if (rest && Number(rest[0]) >= 5) cents += 1; // DECIMAL(10,2) never has more; be safe for sums.
  return m[1] ? -cents : cents;
}

/** Integer cents → exact decimal string ("12.50"), how money leaves the program and enters SQL. */
export function centsToDecimal(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new Error(`not an integer number of cents: ${cents}`);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** DECIMAL → exact decimal string with two places. */
export function toMoneyString(v: DbDecimal | null | undefined): string {
  return centsToDecimal(toCents(v));
}
