/**
 * MySQL 8 / MariaDB 10.11+ through mysql2.
 * - Sessions in UTC on both sides (`timezone: 'Z'` and time_zone '+00:00') with a strict sql_mode;
 *   DECIMALs and DATETIMEs come back as strings (exact money, the same shape SQLite returns).
 * - Tables InnoDB, utf8mb4_unicode_ci: comparisons fold case and accents and keep indexes usable.
 */
import type { Knex } from 'knex';
import { AppError, Unavailable } from '../../../domain/errors.js';
import type { DbTarget, MysqlTarget } from '../../config.js';
import type { ConnectOptions, DoctorCheck, DriverErrorClass, Engine } from '../types.js';
import { SERVER_RETRY } from '../retry.js';
import { asDriver, driverText, isSocketError } from '../driver-error.js';
import { GALERA_RETRY, galeraDoctorChecks, isNodeNotReady, poolIsGalera, prepareSession, trackPool } from './galera.js';
import type { Connection } from 'mysql2';

export const SESSION_SQL_MODE =
  'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_IN_DATE,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION';

/** Collation of the databases and tables billettigue creates. */
export const MYSQL_COLLATION = 'utf8mb4_unicode_ci';

/** mysql2 connection options (also used by the backup side's raw connections). */
export function mysqlConnection(target: MysqlTarget, options: ConnectOptions = {}): Record<string, unknown> {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    ...(options.noDatabase || !target.database ? {} : { database: target.database }),
    charset: 'utf8mb4',
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    decimalNumbers: false,
    connectTimeout: 10000,
  };
}

function asMysql(target: DbTarget): MysqlTarget {
  if (target.kind !== 'mysql') throw new Error(`not a MySQL target: ${target.display}`);
  return target;
}

async function rawRows<T>(knex: Knex | Knex.Transaction, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = (await knex.raw(sql, bindings as Knex.RawBinding[])) as [T[]];
  return result[0];
}

export const mysqlEngine: Engine = {
  kind: 'mysql',
  label: 'MySQL/MariaDB',
  clients: ['mysql2', 'mysql'],
  server: true,
  transactionalDdl: false,

  knexConfig(target, options, log) {
    const config: Knex.Config = {
      log,
      client: 'mysql2',
      connection: mysqlConnection(asMysql(target), options),
      acquireConnectionTimeout: 15000,
    };
    const pool: NonNullable<Knex.Config['pool']> = {
      min: 0,
      max: options.pool?.max ?? 4,
      afterCreate: (conn: Connection, done: (err: Error | null, conn: unknown) => void) => {
        conn.query(`SET time_zone = '+00:00', sql_mode = '${SESSION_SQL_MODE}'`, (err) => {
          if (err) return done(err, conn);
          prepareSession(conn).then(
            (galera) => {
              cluster.galera = galera;
              done(null, conn);
            },
            (e: Error) => done(e, conn),
          );
        });
      },
    };
    const cluster = trackPool(pool);
    config.pool = pool;
    return config;
  },

  translateConnectError(err, t) {
    if (err instanceof AppError) return err;
    const target = asMysql(t);
    const e = asDriver(err);
    const where = `${target.host}:${target.port}`;
    switch (e.code) {
      case 'ECONNREFUSED':
        return new Unavailable(
          `cannot reach the MySQL server at ${where} (connection refused): is it running? check --db, DATABASE_URL or DB_HOST/DB_PORT`,
          { cause: err, code: 'unreachable' },
        );
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new Unavailable(`cannot resolve the MySQL host "${target.host}": check DB_HOST or the URL`, { cause: err, code: 'unreachable' });
      case 'ETIMEDOUT':
        return new Unavailable(`timed out connecting to the MySQL server at ${where}`, { cause: err, code: 'unreachable' });
      case 'ER_ACCESS_DENIED_ERROR':
      case 'ER_DBACCESS_DENIED_ERROR':
        return new Unavailable(
          `access denied for user "${target.user}" at ${where}: check the user and password (DB_USER/DB_PASSWORD or the URL)`,
          { cause: err, code: 'access_denied' },
        );
      case 'ER_BAD_DB_ERROR':
        return new Unavailable(`database "${target.database}" does not exist on ${where}: create it with \`billettigue db create\``, {
          cause: err,
          code: 'database_missing',
        });
      default:
        if (/Knex: Timeout acquiring a connection/i.test(e.message ?? '')) {
          return new Unavailable(`timed out connecting to the MySQL server at ${where}`, { cause: err, code: 'unreachable' });
        }
        return new Unavailable(`cannot connect to ${target.display}: ${driverText(err)}`, { cause: err });
    }
  },

  classifyError(err): DriverErrorClass | null {
    // By errno, never by mysql2's code name: mysql2 names MariaDB's CHECK failure (4025) after an
    // unrelated MySQL error (ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE).
    const e = asDriver(err);
    switch (e.errno) {
      case 1213:
        return 'deadlock';
      case 1205:
        return 'lock_wait_timeout';
      case 1062:
        return 'duplicate';
      case 1451:
      case 1452:
        return 'foreign_key';
      case 4025: // MariaDB ER_CONSTRAINT_FAILED
      case 3819: // MySQL ER_CHECK_CONSTRAINT_VIOLATED
        return 'check';
      case 1048:
      case 1364:
        return 'not_null';
      case 1264:
      case 1406:
        return 'out_of_range';
      case 1146:
        return 'missing_table';
      case 1053: // ER_SERVER_SHUTDOWN
      case 1927: // MariaDB ER_CONNECTION_KILLED
      case 4031: // MySQL ER_CLIENT_INTERACTION_TIMEOUT
        return 'connection';
    }
    if (isNodeNotReady(e.errno, e.sqlMessage ?? e.message)) return 'not_ready';
    if (['PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR'].includes(e.code ?? '') || isSocketError(err)) return 'connection';
    // A command on a connection already dead: mysql2 refuses to send it and gives no code, only this
    // fatal error ("Can't add new command when connection is in closed state").
    if (e.fatal === true && e.errno === undefined && /closed state/.test(e.message ?? '')) return 'connection_closed';
    return null;
  },

  conflictRetry: (knex) => (poolIsGalera(knex) ? GALERA_RETRY : SERVER_RETRY),

  sumCentsSql: (knex, column) => knex.raw('COALESCE(SUM(??), 0) * 100', [column]),
  // The exact DECIMAL times 100 is integral: a cast is cheaper than ROUND and keeps integer arithmetic.
  centsSql: (expr) => `CAST((${expr}) * 100 AS SIGNED)`,
  intDivSql: (numerator, denominator) => `((${numerator}) DIV (${denominator}))`,
  // The utf8mb4_unicode_ci collation of our tables already folds case and accents, index-friendly.
  whereFolded: (qb, column, value) => qb.where(column, value.trim()) as typeof qb,
  // The UNIQUE index on the generated token_hash: a TEXT column cannot carry one.
  whereToken: (qb, prefix, _token, hash) => qb.where(`${prefix}token_hash`, hash) as typeof qb,
  whereLike: (qb, column, pattern, or) => qb[or ? 'orWhereRaw' : 'whereRaw']("?? like ? escape '!'", [column, pattern]) as typeof qb,
  orderByNullsLow: (qb, column, direction) => qb.orderBy(column, direction) as typeof qb,
  insertId: async (qb) => ((await qb) as number[])[0]!,
  foldedKey: (_knex, column) => column,
  createSchemaFunctions: async () => undefined,
  dropSchemaFunctions: async () => undefined,
  quoteIdent: (name) => `\`${name.replace(/`/g, '``')}\``,
  forUpdate: (qb) => qb.forUpdate() as typeof qb,
  parallelReads: 2,

  async serverVersion(knex) {
    const rows = await rawRows<{ v: string }>(knex, 'select version() as v');
    return rows[0]!.v;
  },

  async listTables(knex) {
    const rows = await rawRows<{ name: string }>(
      knex,
      "select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE' order by table_name",
    );
    return rows.map((r) => r.name);
  },

  async listColumns(knex, table) {
    const rows = await rawRows<{ name: string }>(
      knex,
      // Generated columns are the database's own (token_hash): never written, dumped or compared.
      "select column_name as name from information_schema.columns where table_schema = database() and table_name = ? and extra not like '%GENERATED%' order by ordinal_position",
      [table],
    );
    return rows.map((r) => r.name);
  },

  rawRows,

  async doctorChecks(knex): Promise<DoctorCheck[]> {
    const [s] = await rawRows<Record<string, string>>(
      knex,
      'select @@session.time_zone as time_zone, @@global.time_zone as global_time_zone, @@system_time_zone as system_time_zone, @@session.sql_mode as sql_mode, @@character_set_database as charset, @@collation_database as collation',
    );
    const strict = /STRICT_(TRANS|ALL)_TABLES/.test(s!.sql_mode ?? '');
    return [
      {
        name: 'time zone',
        ok: s!.time_zone === '+00:00',
        detail: `session ${s!.time_zone} (global ${s!.global_time_zone}, system ${s!.system_time_zone})`,
      },
      { name: 'sql_mode', ok: strict, detail: s!.sql_mode || '(empty)' },
      { name: 'charset', ok: true, detail: `${s!.charset} / ${s!.collation}`, info: true },
      ...(await galeraDoctorChecks((sql) => rawRows(knex, sql))),
    ];
  },

  async dropAllTables(knex) {
    const tables = await this.listTables(knex);
    if (tables.length === 0) return;
    // FOREIGN_KEY_CHECKS is per session: pin one connection (DDL commits as it goes anyway).
    await knex.transaction(async (trx) => {
      await trx.raw('SET FOREIGN_KEY_CHECKS = 0');
      try {
        for (const t of tables) await trx.raw('DROP TABLE IF EXISTS ??', [t]);
      } finally {
        await trx.raw('SET FOREIGN_KEY_CHECKS = 1');
      }
    });
  },

  async createDatabase(t) {
    const target = asMysql(t);
    const { connect } = await import('../../connection.js');
    const knex = await connect(target, { noDatabase: true });
    try {
      const before = await rawRows(knex, 'select schema_name from information_schema.schemata where schema_name = ?', [target.database]);
      await knex.raw(`CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE ${MYSQL_COLLATION}`, [target.database]);
      return before.length === 0;
    } finally {
      await knex.destroy();
    }
  },

  tableOptions(t) {
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate(MYSQL_COLLATION);
  },

  bulk: async () => (await import('./bulk.js')).mysqlBulk,
  introspect: async (knex, tables) => (await import('./introspect.js')).introspect(knex, tables),
  adoption: async () => (await import('./adopt.js')).mysqlAdopt,
};
