/** The fields drivers put on their errors (mysql2: code/errno/sqlMessage; better-sqlite3: code; pg: code = SQLSTATE). */
import { redactUrl } from '../config.js';

export interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  sqlMessage?: string;
  /** mysql2: the connection cannot be used any more. */
  fatal?: boolean;
}

/** Node's socket errors: the connection to the server broke (or could not be made again). */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

export function isSocketError(err: unknown): boolean {
  return SOCKET_CODES.has(asDriver(err).code ?? '');
}

export function asDriver(err: unknown): DriverError {
  return (err && typeof err === 'object' ? err : {}) as DriverError;
}

/** First line of the driver's message, passwords redacted: safe to show. */
export function driverText(err: unknown): string {
  const e = asDriver(err);
  return redactUrl(e.sqlMessage ?? e.message ?? String(err)).split('\n')[0]!;
}
