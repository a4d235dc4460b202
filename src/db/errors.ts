/**
 * Driver errors → typed errors. Raw driver messages can carry SQL and, for connection failures,
 * the connection config; they never reach the user untranslated.
 */
import type { DbTarget } from './config.js';
import { AppError, Conflict, InvalidInput, Unavailable } from '../domain/errors.js';
import { driverText } from './engines/driver-error.js';
import { ENGINES, engineFor, type DriverErrorClass } from './engines/index.js';

/** Which kind of driver error this is, asked of every engine (their error shapes do not overlap). */
function classOf(err: unknown): DriverErrorClass | null {
  for (const e of ENGINES) {
    const c = e.classifyError(err);
    if (c) return c;
  }
  return null;
}

export function isDeadlock(err: unknown): boolean {
  return classOf(err) === 'deadlock';
}

export function isLockWaitTimeout(err: unknown): boolean {
  return classOf(err) === 'lock_wait_timeout';
}

export function isDuplicateKey(err: unknown): boolean {
  return classOf(err) === 'duplicate';
}

export function isForeignKeyViolation(err: unknown): boolean {
  return classOf(err) === 'foreign_key';
}

export function isCheckViolation(err: unknown): boolean {
  return classOf(err) === 'check';
}

export function isNotNullViolation(err: unknown): boolean {
  return classOf(err) === 'not_null';
}

/**
 * A value the column cannot hold: MySQL/MariaDB in strict mode refuse it (1264 out of range for a
 * DECIMAL/INT, 1406 too long for a VARCHAR); SQLite has no such limit and stores it.
 */
export function isOutOfRange(err: unknown): boolean {
  return classOf(err) === 'out_of_range';
}

/** Unknown table / no such table: usually the schema is not migrated. */
export function isMissingTable(err: unknown): boolean {
  return classOf(err) === 'missing_table';
}

/** Connection-time failures: unreachable server, bad credentials, missing database. */
export function translateConnectError(err: unknown, target: DbTarget): AppError {
  return engineFor(target.kind).translateConnectError(err, target);
}

/**
 * Translates a constraint error raised by a statement. `what` names the thing being written
 * ("zone for Orléans / transporteur 3") so the message says which rule refused it.
 */
export function translateDbError(err: unknown, what?: string): unknown {
  if (err instanceof AppError) return err;
  const prefix = what ? `${what}: ` : '';
  if (isDuplicateKey(err)) {
    return new Conflict(`${prefix}already exists (unique constraint: ${driverText(err)})`, {
      cause: err,
      code: 'duplicate',
    });
  }
  if (isForeignKeyViolation(err)) {
    return new Conflict(`${prefix}refused by a foreign key (a referenced row is missing or still in use)`, {
      cause: err,
      code: 'foreign_key',
    });
  }
  if (isCheckViolation(err)) {
    return new InvalidInput(`${prefix}refused by a CHECK constraint of the database (${driverText(err)})`, {
      cause: err,
      code: 'check_violation',
    });
  }
  if (isNotNullViolation(err)) {
    return new InvalidInput(`${prefix}a required value is missing (${driverText(err)})`, {
      cause: err,
      code: 'not_null',
    });
  }
  if (isOutOfRange(err)) {
    return new InvalidInput(`${prefix}a value does not fit its column (${driverText(err)}): use a smaller value`, {
      cause: err,
      code: 'out_of_range',
    });
  }
  if (classOf(err) === 'bad_character') {
    return new InvalidInput(`${prefix}a text value holds a character the database cannot store (${driverText(err).replace(/^.* - /, '')}): remove it (a NUL byte, for one)`, {
      cause: err,
      code: 'bad_character',
    });
  }
  if (classOf(err) === 'bad_value') {
    return new InvalidInput(`${prefix}the column's type refuses this value (${driverText(err).replace(/^.* - /, '')}): an enumerated type of the platform app lacks it (docs/platform.md, PostgreSQL)`, {
      cause: err,
      code: 'bad_value',
    });
  }
  if (classOf(err) === 'not_ready') return nodeNotReady(err);
  if (isConnectionLost(err)) return lostConnection(err);
  if (isMissingTable(err)) {
    return new Unavailable('the database schema is missing tables: run `billettigue db migrate`', {
      cause: err,
      code: 'schema_missing',
    });
  }
  return err;
}

/** A cluster node that refuses work (outside the primary component, joining): exit 5, never a crash. */
export function nodeNotReady(err: unknown): Unavailable {
  return new Unavailable(
    `this database node refuses queries for now (${driverText(err)}): it is not a synced member of its cluster's primary component; use another node, and see \`billettigue doctor\``,
    { cause: err, code: 'node_not_ready' },
  );
}

export function isNodeNotReady(err: unknown): boolean {
  return classOf(err) === 'not_ready';
}

/** The connection died under a statement, or before one was sent (driver errors classified by the engines). */
export function isConnectionLost(err: unknown): boolean {
  const c = classOf(err);
  return c === 'connection' || c === 'connection_closed';
}

/**
 * A connection that died inside a transaction. The server rolls an open transaction back when its
 * session ends, so the change was not made — unless the connection died while COMMIT itself was on
 * the wire (`duringCommit`, and the driver had sent it): then only the database can say.
 * Outside a transaction (`inTransaction` false) nothing is claimed about a change.
 */
export function lostConnection(err: unknown, o: { inTransaction?: boolean; duringCommit?: boolean } = {}): Unavailable {
  const unsent = classOf(err) === 'connection_closed';
  const outcome = !o.inTransaction
    ? 'check that the database server is up and reachable, then retry'
    : o.duringCommit && !unsent
      ? 'it died while the change was being committed: it may or may not have been saved; look before retrying'
      : 'the server rolled the transaction back: the change was not made; retry once the server is reachable';
  // knex puts the statement before the driver's words ("COMMIT; - Connection terminated"): keep the words.
  const reason = driverText(err).replace(/^.* - /, '');
  return new Unavailable(`the connection to the database was lost (${reason}): ${outcome}`, { cause: err, code: 'connection_lost' });
}
