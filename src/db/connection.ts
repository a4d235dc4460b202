/**
 * Opens a Knex instance on a target with the engine's settings (src/db/engines/<engine>/):
 * UTC sessions, strictness, exact DECIMALs and DATETIMEs as strings, foreign keys on.
 */
import type { Knex } from 'knex';
import { redactUrl, type DbTarget } from './config.js';
import { engineFor, type ConnectOptions } from './engines/index.js';
import { translateConnectError } from './errors.js';

export type { ConnectOptions } from './engines/index.js';

export async function createKnex(target: DbTarget, options: ConnectOptions = {}): Promise<Knex> {
  const { default: knexFactory } = await import('knex');
  return knexFactory(knexConfig(target, options));
}

/**
 * Knex logs pool errors (with stacks, sometimes with connection details) straight to the console.
 * Errors reach the user through our translation instead; the raw log only with BILLETTIGUE_DEBUG=1.
 */
const quietLog = {
  warn: (m: unknown) => debugLog('warn', m),
  error: (m: unknown) => debugLog('error', m),
  deprecate: (m: unknown) => debugLog('deprecate', m),
  debug: (m: unknown) => debugLog('debug', m),
};

function debugLog(level: string, m: unknown): void {
  if (process.env.BILLETTIGUE_DEBUG === '1') process.stderr.write(`knex ${level}: ${redactUrl(String(m))}\n`);
}

export function knexConfig(target: DbTarget, options: ConnectOptions = {}): Knex.Config {
  return engineFor(target.kind).knexConfig(target, options, quietLog);
}

/** Opens and proves the connection (one round trip), turning driver failures into typed errors. */
export async function connect(target: DbTarget, options: ConnectOptions = {}): Promise<Knex> {
  const knex = await createKnex(target, options);
  try {
    await knex.raw('select 1');
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    throw translateConnectError(err, target);
  }
  return knex;
}
