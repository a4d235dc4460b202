/**
 * PostgreSQL 13+ through node-postgres (knex's `pg` client).
 * - Sessions in UTC (`SET TIME ZONE 'UTC'` on every connection). DATETIMEs come back as
 *   'YYYY-MM-DD HH:MM:SS' strings in UTC, for `timestamp` and `timestamptz` alike (a Sequelize-built
 *   database uses TIMESTAMP WITH TIME ZONE); NUMERIC as exact strings; int8 (COUNT, SUM of
 *   integers) as numbers while they are safe integers, as mysql2 does with supportBigNumbers.
 * - Errors are classified by SQLSTATE, never by message.
 */
import type { Knex } from 'knex';
import { AppError, Unavailable } from '../../../domain/errors.js';
import type { DbTarget, PostgresTarget } from '../../config.js';
import { asDriver, driverText, isSocketError } from '../driver-error.js';
import type { ConnectOptions, DoctorCheck, DriverErrorClass, Engine } from '../types.js';

/** The database a server-level connection (db create) opens: every cluster has it. */
export const MAINTENANCE_DB = 'postgres';

/** Type OIDs (pg_type) whose text form billettigue parses itself. */
const OID = { int8: 20, date: 1082, timestamp: 1114, timestamptz: 1184 } as const;

interface PgRawConnection {
  query(sql: string, cb: (err: Error | null) => void): void;
}

interface PgResult<T> {
  rows: T[];
}

function asPostgres(target: DbTarget): PostgresTarget {
  if (target.kind !== 'postgres') throw new Error(`not a PostgreSQL target: ${target.display}`);
  return target;
}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff][+00]' (session in UTC) → 'YYYY-MM-DD HH:MM:SS', the form every engine returns. */
function dbTime(text: string): string {
  return text.length >= 19 ? text.slice(0, 19) : text;
}

function int8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** Per-connection type parsers (node-postgres `types`): nothing global is changed. */
const typeParsers = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (format === 'binary') return (v) => v;
    switch (oid) {
      case OID.timestamp:
      case OID.timestamptz:
        return dbTime;
      case OID.int8:
        return int8;
      case OID.date:
        return (v) => v;
      default:
        return defaultParser(oid);
    }
  },
};

let pgTypes: { getTypeParser(oid: number, format?: string): (value: string) => unknown } | undefined;

function defaultParser(oid: number): (value: string) => unknown {
  return pgTypes ? pgTypes.getTypeParser(oid, 'text') : (v: string) => v;
}

/** node-postgres connection settings (also for the backup side's raw connections). */
export async function postgresConnection(target: PostgresTarget, options: ConnectOptions = {}): Promise<Record<string, unknown>> {
  pgTypes ??= ((await import('pg')).default as unknown as { types: typeof pgTypes }).types;
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: options.noDatabase || !target.database ? MAINTENANCE_DB : target.database,
    application_name: 'billettigue',
    connectionTimeoutMillis: 10_000,
    types: typeParsers,
  };
}

async function rawRows<T>(knex: Knex | Knex.Transaction, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = (await knex.raw(sql, bindings as Knex.RawBinding[])) as PgResult<T>;
  return result.rows;
}

/**
 * Accent- and case-insensitive matching: `bt_fold(text)`, an IMMUTABLE SQL function created by the
 * first migration, so expression indexes (trajets' route, zones' city) serve `bt_fold(col) = bt_fold(?)`.
 * Its body is the JavaScript foldText (src/db/text.ts) — NFD, combining marks removed, lower case,
 * trimmed — and, when the `unaccent` extension can be created (it is trusted since PostgreSQL 13:
 * any user allowed to CREATE in the database may), unaccent on top of it, which also folds
 * ligatures and letters without a decomposition (œ → oe, ß → ss, ø → o), as MySQL's
 * utf8mb4_unicode_ci does. Without it (extension missing, no privilege) the NFD form is a correct
 * fallback: every accent that decomposes still folds. `doctor` says which one the database uses.
 */
export const FOLD_FUNCTION = 'bt_fold';

/** CREATE FUNCTION bt_fold: accents removed (NFD) in a UTF8 database, then unaccent from `unaccent` (its schema) when there. */
export function foldFunctionSql(utf8: boolean, unaccent: string | null): string {
  // normalize() needs a UTF8 database; lower() alone is still case-insensitive elsewhere.
  let body = utf8 ? "regexp_replace(normalize($1, NFD), '[\u0300-\u036f]', '', 'g')" : '$1';
  if (unaccent) {
    const q = postgresEngine.quoteIdent(unaccent);
    body = `${q}.unaccent('${q}.unaccent'::regdictionary, ${body})`;
  }
  return `CREATE OR REPLACE FUNCTION ${FOLD_FUNCTION}(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fold$ SELECT btrim(lower(${body})) $fold$`;
}

export async function isUtf8(knex: Knex | Knex.Transaction): Promise<boolean> {
  const [enc] = await rawRows<{ encoding: string }>(knex, "select current_setting('server_encoding') as encoding");
  return enc?.encoding === 'UTF8';
}

async function createFoldFunction(knex: Knex | Knex.Transaction): Promise<void> {
  await knex.raw(foldFunctionSql(await isUtf8(knex), await unaccentSchema(knex)));
}

/** The schema holding the unaccent extension (null: not installed). */
export async function installedUnaccent(knex: Knex | Knex.Transaction): Promise<string | null> {
  const rows = await rawRows<{ schema: string }>(knex, "select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'unaccent'");
  return rows[0]?.schema ?? null;
}

/** The schema holding the unaccent extension, creating it when allowed; null when it cannot be had. */
async function unaccentSchema(knex: Knex | Knex.Transaction): Promise<string | null> {
  const installed = () => installedUnaccent(knex);
  const have = await installed();
  if (have) return have;
  const available = await rawRows(knex, "select 1 from pg_available_extensions where name = 'unaccent'");
  if (available.length === 0) return null;
  // A failed statement aborts the surrounding transaction (the migration's): try under a savepoint.
  const inTrx = (knex as Knex.Transaction).isTransaction === true;
  if (inTrx) await knex.raw('SAVEPOINT bt_unaccent');
  try {
    await knex.raw('CREATE EXTENSION IF NOT EXISTS unaccent');
    if (inTrx) await knex.raw('RELEASE SAVEPOINT bt_unaccent');
  } catch {
    if (inTrx) await knex.raw('ROLLBACK TO SAVEPOINT bt_unaccent');
    return null;
  }
  return installed();
}

/** The body of this schema's bt_fold(), null when it does not exist. */
async function foldingSource(knex: Knex): Promise<string | null> {
  const rows = await rawRows<{ src: string }>(
    knex,
    `select p.prosrc as src from pg_proc p where p.proname = '${FOLD_FUNCTION}' and p.pronamespace = to_regnamespace(current_schema())`,
  );
  return rows[0]?.src ?? null;
}

/** The extensions doctor reports whether installed or not: the text-search tools of PostgreSQL. */
const SEARCH_EXTENSIONS = ['unaccent', 'citext', 'pg_trgm'] as const;

/** The oldest server billettigue supports (normalize(), trusted unaccent, DROP DATABASE … FORCE). */
export const MIN_SERVER_VERSION = 130000;

interface ServerFacts {
  version_num: number;
  version: string;
  time_zone: string;
  default_time_zone: string;
  encoding: string;
  collation: string;
  ctype: string;
}

export interface ExtensionFacts {
  name: string;
  default_version: string | null;
  installed_version: string | null;
  schema: string | null;
}

export function versionCheck(versionNum: number, version: string): DoctorCheck {
  const short = version.split(' ')[0]!;
  return versionNum >= MIN_SERVER_VERSION
    ? { name: 'server version', ok: true, detail: `${short} (PostgreSQL 13 or later is required)` }
    : {
        name: 'server version',
        ok: false,
        detail: `${short}: billettigue needs PostgreSQL 13 or later (normalize(), trusted extensions, DROP DATABASE … WITH (FORCE)): upgrade the server`,
      };
}

function encodingCheck(s: ServerFacts): DoctorCheck {
  const where = `collation ${s.collation}, ctype ${s.ctype}`;
  return s.encoding === 'UTF8'
    ? { name: 'encoding', ok: true, detail: `UTF8, ${where}` }
    : {
        name: 'encoding',
        ok: false,
        detail: `${s.encoding}, ${where}: the database must be UTF8 (\`billettigue db create\` makes one from template0 with ENCODING 'UTF8'; then restore a backup into it)`,
      };
}

/** What is installed (every extension, with its version and schema) and which search tools the server offers. */
export function extensionsCheck(ext: readonly ExtensionFacts[]): DoctorCheck {
  const installed = ext.filter((e) => e.installed_version).map((e) => `${e.name} ${e.installed_version}${e.schema && e.schema !== 'public' && e.schema !== 'pg_catalog' ? ` (${e.schema})` : ''}`);
  const available = SEARCH_EXTENSIONS.filter((n) => ext.some((e) => e.name === n && !e.installed_version && e.default_version));
  const missing = SEARCH_EXTENSIONS.filter((n) => !ext.some((e) => e.name === n));
  const parts = [`installed: ${installed.join(', ') || 'none'}`];
  if (available.length) parts.push(`available: ${available.join(', ')}`);
  if (missing.length) parts.push(`not on the server: ${missing.join(', ')} (the postgresql-contrib package)`);
  return { name: 'extensions', ok: true, info: true, detail: parts.join('; ') };
}

/** Which accent folding bt_fold() does, and whether what it needs is there. */
export function foldingCheck(src: string | null, ext: readonly ExtensionFacts[]): DoctorCheck {
  const name = 'accent folding';
  if (src === null) return { name, ok: false, detail: `no ${FOLD_FUNCTION}() function: run \`billettigue db migrate\`` };
  const unaccent = ext.find((e) => e.name === 'unaccent');
  if (/unaccent/.test(src)) {
    if (!unaccent?.installed_version) {
      return {
        name,
        ok: false,
        detail: `${FOLD_FUNCTION}() calls the unaccent extension, which is no longer installed: city matching and account search fail until \`CREATE EXTENSION unaccent\` is run in this database`,
      };
    }
    return { name, ok: true, detail: 'unaccent extension + Unicode NFD (œ → oe, ß → ss, as MySQL)' };
  }
  if (!/normalize/.test(src)) return { name, ok: false, detail: `${FOLD_FUNCTION}() folds case only (the database is not UTF8): accents are not ignored` };
  const why = unaccent?.installed_version
    ? 'bt_fold() was made before unaccent was installed'
    : unaccent?.default_version
      ? 'unaccent is available but this user could not create it (it needs CREATE on the database)'
      : 'unaccent is not on the server (the postgresql-contrib package)';
  return { name, ok: true, detail: `fallback: Unicode NFD (œ æ ß ø ł stay as they are): ${why}; to switch, see docs/postgres.md` };
}

const SQLSTATE: Record<string, DriverErrorClass> = {
  '40001': 'deadlock', // serialization_failure: retried like a deadlock
  '40P01': 'deadlock',
  '55P03': 'lock_wait_timeout',
  '23505': 'duplicate',
  '23503': 'foreign_key',
  '23514': 'check',
  '23502': 'not_null',
  '22003': 'out_of_range',
  '22001': 'out_of_range',
  '42P01': 'missing_table',
  '22021': 'bad_character', // character_not_in_repertoire: a NUL byte in text
  '22P05': 'bad_character', // untranslatable_character
  '22P02': 'bad_value', // invalid_text_representation: a label the app's enum type lacks
  '57P01': 'connection',
  '57P02': 'connection',
  '57P03': 'connection',
};

export const postgresEngine: Engine = {
  kind: 'postgres',
  label: 'PostgreSQL',
  clients: ['pg', 'postgres', 'postgresql'],
  server: true,
  transactionalDdl: true,

  knexConfig(target, options, log) {
    const t = asPostgres(target);
    return {
      log,
      client: 'pg',
      connection: () => postgresConnection(t, options),
      // Every `datetime` of the migrations is timestamptz(0): whole seconds like MySQL's DATETIME.
      defaultDateTimePrecision: 0,
      pool: {
        min: 0,
        max: options.pool?.max ?? 4,
        afterCreate: (conn: PgRawConnection, done: (err: Error | null, conn: unknown) => void) => {
          const first = t.schema ? `; SELECT set_config('search_path', '"${t.schema.replace(/"/g, '""').replace(/'/g, "''")}", ' || current_setting('search_path'), false)` : '';
          conn.query(`SET TIME ZONE 'UTC'${first}`, (err) => done(err, conn));
        },
      },
      acquireConnectionTimeout: 15000,
    };
  },

  translateConnectError(err, t) {
    if (err instanceof AppError) return err;
    const target = asPostgres(t);
    const e = asDriver(err);
    const where = `${target.host}:${target.port}`;
    // A server that asks a password (md5, SCRAM) when none was given: node-postgres' SCRAM code
    // throws a plain Error ("SASL: … client password must be a string"), md5 gets 28P01.
    if (!target.password && (e.code === '28P01' || /^SASL: .*password/.test(e.message ?? ''))) {
      return new Unavailable(
        `the PostgreSQL server at ${where} asks a password for user "${target.user}" and none was given: set DB_PASSWORD or put it in the URL (${target.user}:<password>@${where})`,
        { cause: err, code: 'access_denied' },
      );
    }
    switch (e.code) {
      case 'ECONNREFUSED':
        return new Unavailable(
          `cannot reach the PostgreSQL server at ${where} (connection refused): is it running? check --db, DATABASE_URL or DB_HOST/DB_PORT`,
          { cause: err, code: 'unreachable' },
        );
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new Unavailable(`cannot resolve the PostgreSQL host "${target.host}": check DB_HOST or the URL`, { cause: err, code: 'unreachable' });
      case 'ETIMEDOUT':
        return new Unavailable(`timed out connecting to the PostgreSQL server at ${where}`, { cause: err, code: 'unreachable' });
      case '28P01':
      case '28000':
        return new Unavailable(
          `access denied for user "${target.user}" at ${where}: check the user and password (DB_USER/DB_PASSWORD or the URL)`,
          { cause: err, code: 'access_denied' },
        );
      case '3D000':
        return new Unavailable(`database "${target.database}" does not exist on ${where}: create it with \`billettigue db create\``, {
          cause: err,
          code: 'database_missing',
        });
      case '57P03':
        return new Unavailable(`the PostgreSQL server at ${where} is starting up or shutting down: try again in a moment`, { cause: err, code: 'unreachable' });
      case '53300':
        return new Unavailable(`the PostgreSQL server at ${where} has too many connections: try again later`, { cause: err, code: 'unreachable' });
      default:
        if (/timeout/i.test(e.message ?? '')) {
          return new Unavailable(`timed out connecting to the PostgreSQL server at ${where}`, { cause: err, code: 'unreachable' });
        }
        return new Unavailable(`cannot connect to ${target.display}: ${driverText(err)}`, { cause: err });
    }
  },

  classifyError(err): DriverErrorClass | null {
    const e = asDriver(err) as { code?: string; severity?: unknown; message?: string };
    // Only node-postgres' DatabaseError carries a severity: a Node error code never reads as a SQLSTATE.
    if (typeof e.severity !== 'string' || typeof e.code !== 'string') {
      if (isSocketError(err)) return 'connection';
      // node-postgres' own errors have no code, only these messages (knex prefixes the SQL).
      if (e.code === undefined && /Connection terminated/.test(e.message ?? '')) return 'connection';
      if (e.code === undefined && /(connection error|was closed) and is not queryable/.test(e.message ?? '')) return 'connection_closed';
      return null;
    }
    return SQLSTATE[e.code] ?? (e.code.startsWith('08') ? 'connection' : null);
  },

  sumCentsSql: (knex, column) => knex.raw('CAST(COALESCE(SUM(??), 0) * 100 AS BIGINT)', [column]),
  centsSql: (expr) => `CAST((${expr}) * 100 AS BIGINT)`,
  intDivSql: (numerator, denominator) => `CAST(div(${numerator}, ${denominator}) AS BIGINT)`,
  whereFolded: (qb, column, value) => qb.whereRaw(`${FOLD_FUNCTION}(??) = ${FOLD_FUNCTION}(?)`, [column, value]) as typeof qb,
  whereLike: (qb, column, pattern, or) =>
    qb[or ? 'orWhereRaw' : 'whereRaw'](`${FOLD_FUNCTION}(??) like ${FOLD_FUNCTION}(?) escape '!'`, [column, pattern]) as typeof qb,
  // PostgreSQL puts NULLs last ascending by default.
  orderByNullsLow: (qb, column, direction) => qb.orderByRaw(`?? ${direction} nulls ${direction === 'asc' ? 'first' : 'last'}`, [column]) as typeof qb,
  // The UNIQUE index on the generated token_hash (migration 20261125000800).
  whereToken: (qb, prefix, _token, hash) => qb.where(`${prefix}token_hash`, hash) as typeof qb,
  async insertId(qb) {
    const rows = (await qb.returning('id')) as Array<{ id: number }>;
    return rows[0]!.id;
  },
  foldedKey: (knex, column) => knex.raw(`${FOLD_FUNCTION}(??)`, [column]),
  createSchemaFunctions: (knex) => createFoldFunction(knex),
  async dropSchemaFunctions(knex) {
    await knex.raw(`DROP FUNCTION IF EXISTS ${FOLD_FUNCTION}(text)`);
  },
  quoteIdent: (name) => `"${name.replace(/"/g, '""')}"`,
  forUpdate: (qb) => qb.forUpdate() as typeof qb,
  parallelReads: 2,

  async serverVersion(knex) {
    const rows = await rawRows<{ v: string }>(knex, "select current_setting('server_version') as v");
    return `PostgreSQL ${rows[0]!.v}`;
  },

  async listTables(knex) {
    const rows = await rawRows<{ name: string }>(
      knex,
      "select c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relkind in ('r', 'p') order by c.relname",
    );
    return rows.map((r) => r.name);
  },

  async listColumns(knex, table) {
    const rows = await rawRows<{ name: string }>(
      knex,
      // Generated columns are the database's own (token_hash): never written, dumped or compared.
      "select a.attname as name from pg_catalog.pg_attribute a where a.attrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(?)) and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' order by a.attnum",
      [table],
    );
    return rows.map((r) => r.name);
  },

  rawRows,

  async doctorChecks(knex): Promise<DoctorCheck[]> {
    const [s] = await rawRows<ServerFacts>(
      knex,
      `select current_setting('server_version_num')::int as version_num, current_setting('server_version') as version,
        current_setting('TimeZone') as time_zone, (select reset_val from pg_settings where name = 'TimeZone') as default_time_zone,
        current_setting('server_encoding') as encoding, d.datcollate as collation, d.datctype as ctype
       from pg_database d where d.datname = current_database()`,
    );
    const extensions = await rawRows<ExtensionFacts>(
      knex,
      `select a.name, a.default_version, e.extversion as installed_version, n.nspname as schema
         from pg_available_extensions a left join pg_extension e on e.extname = a.name left join pg_namespace n on n.oid = e.extnamespace
        where a.name in (${SEARCH_EXTENSIONS.map((x) => `'${x}'`).join(', ')}) or e.oid is not null
        order by a.name`,
    );
    return [
      versionCheck(s!.version_num, s!.version),
      {
        name: 'time zone',
        ok: s!.time_zone === 'UTC',
        detail: `session ${s!.time_zone} (server default ${s!.default_time_zone}; billettigue sets UTC on every connection)`,
      },
      encodingCheck(s!),
      extensionsCheck(extensions),
      foldingCheck(await foldingSource(knex), extensions),
    ];
  },

  async dropAllTables(knex) {
    const tables = await this.listTables(knex);
    if (tables.length === 0) return;
    // One statement, CASCADE: foreign keys between them do not matter, and DDL is transactional.
    await knex.raw(`DROP TABLE IF EXISTS ${tables.map((t) => this.quoteIdent(t)).join(', ')} CASCADE`);
  },

  async createDatabase(t) {
    const target = asPostgres(t);
    const { connect } = await import('../../connection.js');
    const knex = await connect(target, { noDatabase: true });
    try {
      const before = await rawRows(knex, 'select 1 from pg_database where datname = ?', [target.database]);
      if (before.length > 0) return false;
      // template0: the encoding can be chosen whatever template1 holds.
      await knex.raw("CREATE DATABASE ?? TEMPLATE template0 ENCODING 'UTF8'", [target.database]);
      return true;
    } finally {
      await knex.destroy();
    }
  },

  tableOptions() {
    /* PostgreSQL tables take no engine or charset options */
  },

  bulk: async () => (await import('./bulk.js')).postgresBulk,
  introspect: async (knex, tables) => (await import('./introspect.js')).introspect(knex, tables),
  adoption: async () => (await import('./adopt.js')).postgresAdopt,
};
