/**
 * Opens a Knex instance on a target with the engine's settings (src/db/engines/<engine>/):
 * UTC sessions, strictness, exact DECIMALs and DATETIMEs as strings, foreign keys on.
 */
import type { Knex } from 'knex';
import { AppError, Unavailable } from '../domain/errors.js';
import { redactUrl, URL_SCHEMES, type DbTarget, type ServerTarget } from './config.js';
import { asDriver } from './engines/driver-error.js';
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
    await prove(knex, target);
  } catch (err) {
    // A driver waiting on a server of the other protocol may keep its socket until its own
    // timeout: closing is not awaited longer than a moment.
    await Promise.race([knex.destroy().catch(() => undefined), new Promise((r) => setTimeout(r, 300).unref())]);
    throw translateConnectError(err, target);
  }
  return knex;
}

/** How long a connection may stay silent before the server is asked which protocol it speaks. */
const SILENCE_MS = 700;

/**
 * `select 1`, and on a server: if it has not answered within SILENCE_MS (mysql2 waits for a
 * greeting a PostgreSQL server never sends) or failed without a SQL error (node-postgres reading a
 * MySQL greeting), ask the server (src/db/probe.ts) and, when it speaks the other protocol, say
 * so at once instead of after the driver's 10 s timeout.
 */
async function prove(knex: Knex, target: DbTarget): Promise<void> {
  const first = knex.raw('select 1');
  if (target.kind === 'sqlite') {
    await first;
    return;
  }
  first.catch(() => undefined); // settled below or superseded by the protocol answer
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => void otherProtocol(target).then((e) => e && reject(e)), SILENCE_MS);
  });
  try {
    await Promise.race([first, silent]);
  } catch (err) {
    if (err instanceof AppError || answeredBySql(err)) throw err;
    throw (await otherProtocol(target)) ?? err;
  } finally {
    clearTimeout(timer);
  }
}

/** A failure that comes from the server speaking the expected protocol (an error code of it) or from the network. */
function answeredBySql(err: unknown): boolean {
  const code = asDriver(err).code ?? '';
  return /^(ER_|E[A-Z]+$|[0-9A-Z]{5}$)/.test(code) && code !== 'ECONNRESET';
}

/** The error to give when the server at the target's address speaks the other protocol, else null. */
async function otherProtocol(target: ServerTarget): Promise<Unavailable | null> {
  const { probeProtocol } = await import('./probe.js');
  const answer = await probeProtocol(target.host, target.port);
  if ((answer !== 'mysql' && answer !== 'postgres') || answer === target.kind) return null;
  const other = engineFor(answer).label;
  const fix =
    target.source === 'DB_* variables'
      ? `set DB_CLIENT=${URL_SCHEMES[answer]}`
      : `use a ${URL_SCHEMES[answer]}:// URL (${URL_SCHEMES[answer]}://${target.user}@${target.host}:${target.port}/${target.database})`;
  return new Unavailable(
    `the server at ${target.host}:${target.port} speaks ${other}, not ${engineFor(target.kind).label}: ${fix}`,
    { code: 'wrong_protocol' },
  );
}
