/**
 * Money is integer cents inside the program and an exact "12.50" string outside it. Never floats.
 * The platform's computed amounts are defined here once, so the CLI, the demo generator and the
 * invariant checks agree to the cent.
 */
import { centsToDecimal } from '../db/values.js';
import { InvalidInput } from './errors.js';

/** Parses a user-typed amount ("12", "12.5", "12.50") into cents; at most 2 decimals, >= 0. */
export function parseMoney(raw: string | number, field = 'amount'): number {
  const s = String(raw).trim().replace(',', '.');
  const m = /^(\d{1,8})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) {
    throw new InvalidInput(
      /^-/.test(s)
        ? `${field} "${raw}" is negative: it must be >= 0`
        : /^\d+\.\d{3,}$/.test(s)
          ? `${field} "${raw}" has more than 2 decimals`
          : `${field} "${raw}" is not an amount: use a number with at most 2 decimals, e.g. 12.50`,
      { code: 'invalid_amount' },
    );
  }
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** Cents → "12.50". */
export function formatCents(cents: number): string {
  return centsToDecimal(cents);
}

/** Integer division rounded half up (amounts are never negative here). */
export function divRoundHalfUp(numerator: number, denominator: number): number {
  return Math.floor((2 * numerator + denominator) / (2 * denominator));
}

/**
 * Refundable supplement: `rateBp` basis points (1000 = 10%) of the base fare (price × seats),
 * rounded half up to the cent. Zero when the option is not taken.
 */
export function refundSupplementCents(priceCents: number, seats: number, refundable: boolean, rateBp: number): number {
  if (!refundable) return 0;
  return divRoundHalfUp(priceCents * seats * rateBp, 10_000);
}

/** total_amount = price × seats + supplement. */
export function reservationTotalCents(priceCents: number, seats: number, supplementCents: number): number {
  return priceCents * seats + supplementCents;
}

/**
 * Colis shipping cost: base + per-kg rate × weight, rounded half up to the cent.
 * Weight is in hundredths of a kg (DECIMAL(8,2)), so the product stays an integer.
 */
export function colisShippingCents(weightHundredthsKg: number, baseCents: number, perKgCents: number): number {
  const cents = baseCents + divRoundHalfUp(weightHundredthsKg * perKgCents, 100);
  // colis.shipping_cost is DECIMAL(10,2): MySQL would refuse a larger cost and SQLite would store
  // it, so both refuse it here, the same way (rates come from the environment, not from a rule).
  if (!Number.isSafeInteger(weightHundredthsKg * perKgCents) || cents > MAX_SHIPPING_COST_CENTS) {
    throw new InvalidInput(
      `a colis of ${formatCents(weightHundredthsKg)} kg would cost more than ${formatCents(MAX_SHIPPING_COST_CENTS)}, the most shipping_cost can hold: check BILLETTIGUE_COLIS_BASE and BILLETTIGUE_COLIS_PER_KG`,
      { code: 'shipping_cost_too_large' },
    );
  }
  return cents;
}

/** The largest DECIMAL(10,2), in cents. */
export const MAX_SHIPPING_COST_CENTS = 9_999_999_999;

/** Parses a weight in kg ("2", "2.5", "0.75") into hundredths of a kg; must be > 0 (or ≥ 0 with `allowZero`: a zone's capacity may be 0). */
export function parseWeight(raw: string | number, field = 'weight', { allowZero = false } = {}): number {
  const s = String(raw).trim().replace(',', '.');
  const m = /^(\d{1,6})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) {
    throw new InvalidInput(`${field} "${raw}" is not a weight: use kilograms with at most 2 decimals, e.g. 2.5`, {
      code: 'invalid_weight',
    });
  }
  const h = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (h <= 0 && !allowZero) throw new InvalidInput(`${field} must be greater than 0 kg, got "${raw}"`, { code: 'invalid_weight' });
  return h;
}
