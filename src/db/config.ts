/**
 * Where the database is. Resolution order (PRODUCT.md), highest first:
 *   1. `--db URL`
 *   2. `DATABASE_URL` (environment, then ./.env)
 *   3. the seed's variables DB_CLIENT DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD (environment, then ./.env)
 *   4. the embedded SQLite file ./billettigue.sqlite3
 * Nothing here ever puts a password in a string meant for people: use `target.display`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { Unavailable } from '../domain/errors.js';
import { editDistance } from './text.js';

export type DbKind = 'mysql' | 'sqlite' | 'postgres';
/** Every engine, in the order a stock dump's shape is tried. */
export const ENGINE_KINDS: readonly DbKind[] = ['mysql', 'postgres', 'sqlite'];

export interface MysqlTarget {
  kind: 'mysql';
  host: string;
  port: number;
  user: string;
  password: string;
  /** May be empty for server-level commands; most commands need it. */
  database: string;
  source: TargetSource;
  display: string;
}

export interface PostgresTarget {
  kind: 'postgres';
  host: string;
  port: number;
  user: string;
  password: string;
  /** May be empty for server-level commands; most commands need it. */
  database: string;
  source: TargetSource;
  display: string;
  /**
   * A schema searched before the session's search_path (a restore's staging copy, where the
   * newer migrations of an older backup run). Unset: the server's search_path as it is.
   */
  schema?: string;
}

export interface SqliteTarget {
  kind: 'sqlite';
  /** Absolute path of the database file. */
  filename: string;
  source: TargetSource;
  display: string;
}

/** An engine reached over the network, holding several databases. */
export type ServerTarget = MysqlTarget | PostgresTarget;
export type DbTarget = MysqlTarget | PostgresTarget | SqliteTarget;
export type TargetSource = '--db' | 'DATABASE_URL' | 'DB_* variables' | 'default';

export const DEFAULT_SQLITE_FILE = 'billettigue.sqlite3';

const DB_VARS = ['DB_CLIENT', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'] as const;
const MYSQL_CLIENTS = new Set(['mysql', 'mysql2', 'mariadb']);
const POSTGRES_CLIENTS = new Set(['postgres', 'postgresql', 'pg']);
const SQLITE_CLIENTS = new Set(['sqlite', 'sqlite3', 'better-sqlite3']);

export type ServerKind = ServerTarget['kind'];
export const DEFAULT_PORTS: Record<ServerKind, number> = { mysql: 3306, postgres: 5432 };
const DEFAULT_USERS: Record<ServerKind, string> = { mysql: 'root', postgres: 'postgres' };
/** How people write each server engine in a URL scheme and in DB_CLIENT. */
export const URL_SCHEMES: Record<ServerKind, string> = { mysql: 'mysql', postgres: 'postgres' };

function serverKindOf(client: string): ServerKind | undefined {
  if (MYSQL_CLIENTS.has(client)) return 'mysql';
  if (POSTGRES_CLIENTS.has(client)) return 'postgres';
  return undefined;
}

/** Targets whose engine was guessed (DB_* variables without DB_CLIENT): the server may be asked. */
const inferred = new WeakSet<DbTarget>();

/** Was this target's engine guessed from the port (no DB_CLIENT)? Then `src/db/probe.ts` may settle it. */
export function clientInferred(target: DbTarget): target is ServerTarget {
  return inferred.has(target);
}

/**
 * Without DB_CLIENT the port decides first (5432 is PostgreSQL's, anything else MySQL's, as
 * before PostgreSQL was supported); the CLI then asks the server which protocol it speaks
 * (src/db/probe.ts) and follows its answer.
 */
function inferredKind(port: string | undefined): ServerKind {
  return port?.trim() === String(DEFAULT_PORTS.postgres) ? 'postgres' : 'mysql';
}

export interface ResolveOptions {
  dbFlag?: string;
  /** Without DB_CLIENT: the engine the server answered with (src/db/probe.ts) instead of the port's guess. */
  answered?: ServerKind;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function resolveTarget(options: ResolveOptions = {}): DbTarget {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.dbFlag !== undefined && options.dbFlag !== '') {
    return parseDatabaseUrl(options.dbFlag, '--db', cwd);
  }
  const dotenv = readDotEnv(cwd);
  const get = (name: string): string | undefined => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    return dotenv[name];
  };
  const url = get('DATABASE_URL');
  if (url !== undefined && url !== '') return parseDatabaseUrl(url, 'DATABASE_URL', cwd);

  if (DB_VARS.some((name) => get(name) !== undefined)) {
    const client = get('DB_CLIENT')?.toLowerCase();
    if (client !== undefined && SQLITE_CLIENTS.has(client)) {
      const name = get('DB_NAME') ?? DEFAULT_SQLITE_FILE;
      return sqliteTarget(path.resolve(cwd, name), 'DB_* variables');
    }
    const kind = client === undefined ? (options.answered ?? inferredKind(get('DB_PORT'))) : serverKindOf(client);
    if (!kind) {
      throw new Unavailable(
        `DB_CLIENT=${client} is not supported: use mysql (also for MariaDB), postgres or sqlite`,
        { code: 'bad_config' },
      );
    }
    const port = parsePort(get('DB_PORT') ?? String(DEFAULT_PORTS[kind]), 'DB_PORT');
    const target = serverTarget(
      kind,
      {
        host: get('DB_HOST') ?? '127.0.0.1',
        port,
        user: get('DB_USER') ?? DEFAULT_USERS[kind],
        password: get('DB_PASSWORD') ?? '',
        database: get('DB_NAME') ?? '',
      },
      'DB_* variables',
    );
    if (client === undefined) inferred.add(target);
    return target;
  }
  return sqliteTarget(path.resolve(cwd, DEFAULT_SQLITE_FILE), 'default');
}

const URL_KINDS: Record<string, ServerKind | undefined> = {
  mysql: 'mysql',
  mariadb: 'mysql',
  mysql2: 'mysql',
  postgres: 'postgres',
  postgresql: 'postgres',
};

/**
 * Parses `mysql://user:pass@host:3306/name`, `mariadb://…`, `postgres://user:pass@host:5432/name`
 * (`postgresql://` too), `sqlite:path/file.sqlite3`, `sqlite:///abs/file`.
 */
export function parseDatabaseUrl(raw: string, source: TargetSource, cwd = process.cwd()): DbTarget {
  const schemeMatch = /^([a-z][a-z0-9+.-]*):/i.exec(raw);
  if (!schemeMatch) {
    throw new Unavailable(
      `${source}: "${redactUrl(raw)}" is not a database URL: use mysql://user:pass@host:3306/name, postgres://user:pass@host:5432/name or sqlite:path/file.sqlite3`,
      { code: 'bad_config' },
    );
  }
  const scheme = schemeMatch[1]!.toLowerCase();
  if (scheme === 'sqlite' || scheme === 'sqlite3' || scheme === 'file') {
    let rest = raw.slice(schemeMatch[0].length);
    if (rest.startsWith('//')) rest = rest.slice(2); // sqlite://rel or sqlite:///abs
    if (rest === '') {
      throw new Unavailable(`${source}: the sqlite URL has no file path: use sqlite:path/file.sqlite3`, {
        code: 'bad_config',
      });
    }
    return sqliteTarget(path.resolve(cwd, decodeURIComponent(rest)), source);
  }
  const kind = URL_KINDS[scheme];
  if (kind) {
    const example = `${URL_SCHEMES[kind]}://user:pass@host:${DEFAULT_PORTS[kind]}/name`;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Unavailable(`${source}: "${redactUrl(raw)}" is not a valid URL: use ${example}`, {
        code: 'bad_config',
      });
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return serverTarget(
      kind,
      {
        host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
        port: url.port ? parsePort(url.port, source) : DEFAULT_PORTS[kind],
        user: decodeURIComponent(url.username) || DEFAULT_USERS[kind],
        password: decodeURIComponent(url.password),
        database,
      },
      source,
    );
  }
  throw new Unavailable(
    `${source}: unknown URL scheme "${scheme}:" — use mysql:// (also for MariaDB), postgres:// or sqlite:`,
    { code: 'bad_config' },
  );
}

function parsePort(value: string, source: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Unavailable(`${source}: port "${value}" is not a number between 1 and 65535`, { code: 'bad_config' });
  }
  return n;
}

type ServerFields = Pick<MysqlTarget, 'host' | 'port' | 'user' | 'password' | 'database'>;

/** A server target with its display form (`postgres://user:***@host:5432/db`, never the password). */
export function serverTarget(kind: ServerKind, c: ServerFields, source: TargetSource): ServerTarget {
  const auth = c.password ? `${c.user}:***@` : `${c.user}@`;
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const { host: h, port, user, password, database } = c;
  return { kind, host: h, port, user, password, database, source, display: `${URL_SCHEMES[kind]}://${auth}${host}:${port}/${database}` };
}

function sqliteTarget(filename: string, source: TargetSource): SqliteTarget {
  const rel = path.relative(process.cwd(), filename);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : filename;
  return { kind: 'sqlite', filename, source, display: `sqlite:${shown}` };
}

/** The name a person types to confirm a destructive step: the database, or the SQLite file's name. */
export function databaseName(target: DbTarget): string {
  return target.kind === 'sqlite' ? path.basename(target.filename) : target.database;
}

/** Same target pointing at another database (servers) or file (SQLite). */
export function withDatabase(target: DbTarget, database: string): DbTarget {
  if (target.kind === 'sqlite') return sqliteTarget(path.resolve(path.dirname(target.filename), database), target.source);
  return serverTarget(target.kind, { ...target, database }, target.source);
}



/** Hides the password of any URL-looking text: postgres://user:secret@host → postgres://user:***@host. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@');
}

/**
 * Reads ./.env. A DB_* key that is not one of the seed's variables is almost always a typo that
 * would silently send the command to another database: refuse it and name the likely intent.
 */
export function readDotEnv(cwd: string): Record<string, string> {
  const file = path.join(cwd, '.env');
  if (!existsSync(file)) return {};
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (err) {
    throw new Unavailable(`.env could not be read: ${(err as Error).message}`, { code: 'bad_config' });
  }
  for (const key of Object.keys(parsed)) {
    if (key.startsWith('DB_') && !(DB_VARS as readonly string[]).includes(key)) {
      const guess = closest(key, [...DB_VARS]);
      throw new Unavailable(
        `.env: unknown variable ${key}${guess ? ` (did you mean ${guess}?)` : ''}; known: ${DB_VARS.join(' ')}`,
        { code: 'bad_config' },
      );
    }
  }
  return parsed;
}

/** Levenshtein-nearest candidate within a small distance, for "did you mean" hints. */
export function closest(input: string, candidates: readonly string[], maxDistance = 3): string | undefined {
  let best: string | undefined;
  let bestD = maxDistance + 1;
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}
