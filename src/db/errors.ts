/**
 * Driver errors → typed errors. Raw driver messages can carry SQL and, for connection failures,
 * the connection config; they never reach the user untranslated.
 */
import type { DbTarget } from './config.js';
import { redactUrl } from './config.js';
import { AppError, Conflict, InvalidInput, Unavailable } from '../domain/errors.js';

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  sqlMessage?: string;
}

function asDriver(err: unknown): DriverError {
  return (err && typeof err === 'object' ? err : {}) as DriverError;
}

export function isDeadlock(err: unknown): boolean {
  const e = asDriver(err);
  // SQLITE_BUSY_SNAPSHOT: a WAL transaction that read before another process committed cannot
  // upgrade to a writer (the busy timeout does not apply); only a retry from the start succeeds.
  return e.errno === 1213 || e.code === 'ER_LOCK_DEADLOCK' || e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_BUSY_SNAPSHOT';
}

export function isLockWaitTimeout(err: unknown): boolean {
  const e = asDriver(err);
  return e.errno === 1205 || e.code === 'ER_LOCK_WAIT_TIMEOUT';
}

export function isDuplicateKey(err: unknown): boolean {
  const e = asDriver(err);
  return (
    e.errno === 1062 ||
    e.code === 'ER_DUP_ENTRY' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = asDriver(err);
  return (
    e.errno === 1451 ||
    e.errno === 1452 ||
    e.code === 'ER_ROW_IS_REFERENCED_2' ||
    e.code === 'ER_NO_REFERENCED_ROW_2' ||
    e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
  );
}

export function isCheckViolation(err: unknown): boolean {
  const e = asDriver(err);
  // MariaDB 4025 (ER_CONSTRAINT_FAILED), MySQL 3819 (ER_CHECK_CONSTRAINT_VIOLATED).
  return e.errno === 4025 || e.errno === 3819 || e.code === 'SQLITE_CONSTRAINT_CHECK';
}

export function isNotNullViolation(err: unknown): boolean {
  const e = asDriver(err);
  return e.errno === 1048 || e.errno === 1364 || e.code === 'SQLITE_CONSTRAINT_NOTNULL';
}

/**
 * A value the column cannot hold: MySQL/MariaDB in strict mode refuse it (1264 out of range for a
 * DECIMAL/INT, 1406 too long for a VARCHAR); SQLite has no such limit and stores it.
 */
export function isOutOfRange(err: unknown): boolean {
  const e = asDriver(err);
  return e.errno === 1264 || e.errno === 1406 || e.code === 'ER_WARN_DATA_OUT_OF_RANGE' || e.code === 'ER_DATA_TOO_LONG';
}

/** Unknown table / no such table: usually the schema is not migrated. */
export function isMissingTable(err: unknown): boolean {
  const e = asDriver(err);
  return e.errno === 1146 || (e.code === 'SQLITE_ERROR' && /no such table/i.test(e.message ?? ''));
}

function driverText(err: unknown): string {
  const e = asDriver(err);
  return redactUrl(e.sqlMessage ?? e.message ?? String(err)).split('\n')[0]!;
}

/** Connection-time failures: unreachable server, bad credentials, missing database. */
export function translateConnectError(err: unknown, target: DbTarget): AppError {
  if (err instanceof AppError) return err;
  const e = asDriver(err);
  if (target.kind === 'sqlite') {
    return new Unavailable(`cannot open ${target.display}: ${driverText(err)}`, { cause: err });
  }
  const where = `${target.host}:${target.port}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return new Unavailable(
        `cannot reach the MySQL server at ${where} (connection refused): is it running? check --db, DATABASE_URL or DB_HOST/DB_PORT`,
        { cause: err, code: 'unreachable' },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Unavailable(`cannot resolve the MySQL host "${target.host}": check DB_HOST or the URL`, {
        cause: err,
        code: 'unreachable',
      });
    case 'ETIMEDOUT':
      return new Unavailable(`timed out connecting to the MySQL server at ${where}`, {
        cause: err,
        code: 'unreachable',
      });
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return new Unavailable(
        `access denied for user "${target.user}" at ${where}: check the user and password (DB_USER/DB_PASSWORD or the URL)`,
        { cause: err, code: 'access_denied' },
      );
    case 'ER_BAD_DB_ERROR':
      return new Unavailable(
        `database "${target.database}" does not exist on ${where}: create it with \`billettigue db create\``,
        { cause: err, code: 'database_missing' },
      );
    default:
      if (/Knex: Timeout acquiring a connection/i.test(e.message ?? '')) {
        return new Unavailable(`timed out connecting to the MySQL server at ${where}`, {
          cause: err,
          code: 'unreachable',
        });
      }
      return new Unavailable(`cannot connect to ${target.display}: ${driverText(err)}`, { cause: err });
  }
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
  if (isMissingTable(err)) {
    return new Unavailable('the database schema is missing tables: run `billettigue db migrate`', {
      cause: err,
      code: 'schema_missing',
    });
  }
  return err;
}

export function isConnectionError(err: unknown): boolean {
  const e = asDriver(err);
  return (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST'].includes(
      e.code ?? '',
    ) || /Timeout acquiring a connection/i.test(e.message ?? '')
  );
}
