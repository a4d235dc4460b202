/**
 * How much demo data to make: the scales of the issue and the overrides of the command line.
 *
 * A scale fixes five counts (end-user accounts, transporteurs, trajets, reservations, envois); the
 * rest follows from them: administrators (2 + one per 4,000 accounts, at most 50), revoked tokens
 * (0.6 per account), zones (3–12 per transporteur), paiements (one per reservation), colis (1–5 per
 * envoi, 2.3 on average). Totals: tiny ≈ 1k rows, small ≈ 50k, medium ≈ 1M, large ≈ 10M.
 */
import { InvalidInput } from '../errors.js';

export const SCALES = ['tiny', 'small', 'medium', 'large'] as const;
export type Scale = (typeof SCALES)[number];

/** What the command line can set. */
export interface DemoCounts {
  /** End-user accounts (role `user`, each with its utilisateurs profile). */
  accounts: number;
  transporteurs: number;
  trajets: number;
  reservations: number;
  envois: number;
}

export const SCALE_COUNTS: Record<Scale, DemoCounts> = {
  tiny: { accounts: 150, transporteurs: 8, trajets: 70, reservations: 160, envois: 45 },
  small: { accounts: 7_500, transporteurs: 150, trajets: 3_400, reservations: 8_400, envois: 2_300 },
  medium: { accounts: 152_000, transporteurs: 2_600, trajets: 71_000, reservations: 174_000, envois: 47_000 },
  large: { accounts: 1_520_000, transporteurs: 20_000, trajets: 710_000, reservations: 1_740_000, envois: 470_000 },
};

export const DEFAULT_SCALE: Scale = 'small';

/** Average number of reservations a trajet can take before the plan is refused (seats are ≤ 50). */
export const MAX_RESERVATIONS_PER_TRAJET = 20;

export interface DemoPlan extends DemoCounts {
  scale: Scale;
  admins: number;
  tokens: number;
}

export function adminsFor(accounts: number): number {
  return Math.min(50, 2 + Math.floor(accounts / 4000));
}

export function tokensFor(accounts: number): number {
  return Math.round(accounts * 0.6);
}

/** Scale counts with the overrides applied, checked for coherence. */
export function makePlan(scale: Scale, overrides: Partial<DemoCounts> = {}): DemoPlan {
  const base = SCALE_COUNTS[scale];
  const c: DemoCounts = { ...base };
  for (const k of Object.keys(base) as Array<keyof DemoCounts>) {
    const v = overrides[k];
    if (v !== undefined) c[k] = v;
  }
  if (c.accounts < 1) throw new InvalidInput('--accounts must be at least 1 (envois and reservations need users)');
  if (c.transporteurs < 1 && (c.trajets > 0 || c.envois > 0)) {
    throw new InvalidInput('--transporteurs must be at least 1 when there are trajets or envois');
  }
  if (c.reservations > 0 && c.trajets < 1) throw new InvalidInput('--reservations needs trajets: set --trajets to at least 1');
  if (c.reservations > c.trajets * MAX_RESERVATIONS_PER_TRAJET) {
    throw new InvalidInput(
      `--reservations ${c.reservations} is too many for ${c.trajets} trajets (at most ${MAX_RESERVATIONS_PER_TRAJET} per trajet on average, seats are limited to 50): raise --trajets to at least ${Math.ceil(c.reservations / MAX_RESERVATIONS_PER_TRAJET)}`,
    );
  }
  return { scale, ...c, admins: adminsFor(c.accounts), tokens: tokensFor(c.accounts) };
}

/** Rough total of rows, for the plan shown before seeding (exact counts come from the generator). */
export function estimateRows(plan: DemoPlan): number {
  const comptes = plan.accounts + plan.transporteurs + plan.admins;
  return (
    comptes + plan.accounts + plan.transporteurs + plan.admins + plan.transporteurs * 7 + plan.trajets +
    2 * plan.reservations + plan.envois * 3.3 + plan.tokens
  );
}

/**
 * Production mode: NODE_ENV=production or BILLETTIGUE_ENV=production. Demo data is refused there
 * unless --yes, and its password is random and never shown.
 */
export function isProductionEnv(env: NodeJS.ProcessEnv): boolean {
  return env.NODE_ENV?.trim().toLowerCase() === 'production' || env.BILLETTIGUE_ENV?.trim().toLowerCase() === 'production';
}

/** Every demo account's email ends with this: the marker that tells demo data from real data. */
export const DEMO_EMAIL_DOMAIN = 'demo.billettigue.test';

/** The shared password of generated accounts (outside production mode). */
export const DEMO_PASSWORD = 'billettigue-demo';

/**
 * Default reference time: every timestamp is the seed's function of this instant, never of the
 * wall clock, so the same seed gives the same database on any day. `--now` moves it.
 */
export const DEFAULT_REFERENCE = new Date('2026-11-25T00:00:00Z');

export const DEFAULT_RANDOM_SEED = '1';
