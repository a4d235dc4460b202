/**
 * Loads a backup into a PostgreSQL schema that is not the live one (a restore's staging schema or
 * the scratch schema of `backup verify --deep`), fast, and checks it.
 *
 * Our backups (with a manifest): the pre-data of the header creates the sequences and the bare
 * tables (columns, NOT NULL, CHECKs); then a pool of sessions works through a queue, biggest
 * tables first: each table's rows stream from its own byte range of the file (whole gzip members)
 * into `COPY … FROM STDIN (FREEZE)` in the transaction that truncated it (frozen rows: no hint-bit
 * writes when they are read back); once loaded, its primary key, unique constraints and indexes
 * are built (a sorted build each, several at once: CREATE INDEX takes a SHARE lock, a primary key
 * is attached to its finished index with `ADD CONSTRAINT … USING INDEX`), and its rows are read
 * back in primary-key order, hashed in the canonical form and compared with the manifest. Foreign
 * keys come last: added NOT VALID, then validated side by side; setval puts every sequence where
 * the backup had it (and past max(id) in any case).
 *
 * Stock pg_dump plain files (no manifest): statements run in order on one session, COPY blocks
 * stream into COPY FROM STDIN, relations are created in the staging schema (the dump's schema
 * name is rewritten where it qualifies a relation the dump creates); PostgreSQL checks every
 * constraint as the dump adds it. Each table is then hashed (nothing to compare it with).
 */
import os from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { PostgresTarget } from '../../../db/config.js';
import { Conflict, IntegrityError } from '../../../domain/errors.js';
import type { Manifest, ManifestTable } from '../../manifest.js';
import { openDecompressed, readSection } from '../../reader.js';
import { pauseAt } from '../../pause.js';
import { copyStreams } from '../../../db/engines/postgres/copy.js';
import type { LoadedTable } from '../types.js';
import { closeQuietly, destroy, openPg, q, qi, ql, rows, type PgSession } from './conn.js';
import { describePgTables, parseObjects, parsePostData, PRE_OBJECTS_END, type PgObject, type PgTableSpec, type PostStatement } from './catalog.js';
import { pgMigrations, readPgTable } from './dump.js';

export interface PgLoadResult {
  tables: LoadedTable[];
  method: string;
  migrations: string[];
  created: string[];
}

export interface PgLoadOptions {
  target: PostgresTarget;
  /** The schema to load into (exists, empty). */
  schema: string;
  /** The live schema: searched after the staging one (functions and extensions live there). */
  live: string;
  file: string;
  manifest: Manifest | null;
  jobs?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  onStep?: (message: string) => void;
  onWarning?: (message: string) => void;
  onConnection?: (conn: PgSession) => void;
  /**
   * Filled with the DROP statements of what the load had to create in the live database
   * (extensions, functions the tables rely on, when missing): the caller runs them if the restore
   * does not go through (and after a dry run or a deep verify), so that nothing changes.
   */
  created: string[];
  /**
   * A foreign key towards a table the backup does not hold (a --tables backup): `refuse` it
   * (a restore: exit 4, restoring those tables alone would break it) or `skip` it (deep verify).
   */
  outsideForeignKeys?: 'refuse' | 'skip';
}

/** Sessions working at once: the server overlaps one table's COPY with another's index builds. */
export function defaultPgJobs(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(2, Math.min(4, n + 1));
}

/** Index builds sort in memory up to this much per session (the server's default is 64 MB). */
const MAINTENANCE_WORK_MEM = '256MB';

export async function openLoadSession(o: PgLoadOptions): Promise<PgSession> {
  const conn = await openPg(o.target, { application: 'billettigue restore' });
  o.onConnection?.(conn);
  await q(conn, `SELECT pg_catalog.set_config('search_path', ${ql(`${qi(o.schema)}, ${qi(o.live)}`)}, false)`);
  // The swap's commit is synchronous and comes after these in the WAL: flushing it flushes them.
  await q(conn, `SET synchronous_commit = off; SET maintenance_work_mem = '${MAINTENANCE_WORK_MEM}'; SET lock_timeout = 0`);
  return conn;
}

/** Translates what a load can meet into the product's errors (exit 4 / 6). */
export function translatePgLoadError(err: unknown, table: string): unknown {
  const e = err as { code?: string; message?: string; detail?: string };
  const why = `${e.message ?? ''}${e.detail ? ` (${e.detail})` : ''}`;
  if (e?.code === '23505') return new Conflict(`the backup violates a unique key of table ${table}: ${why}; nothing was changed`, { code: 'duplicate_in_backup', cause: err });
  if (e?.code === '23503') return new IntegrityError(`the backup violates a foreign key of table ${table}: ${why}; nothing was changed`, { code: 'orphans_in_backup', cause: err });
  if (e?.code === '23514' || e?.code === '23502') return new IntegrityError(`the backup violates a constraint of table ${table}: ${why}; nothing was changed`, { code: 'check_in_backup', cause: err });
  if (typeof e?.code === 'string' && /^22/.test(e.code)) return new IntegrityError(`table ${table}: the backup's rows did not load (${why}); nothing was changed`, { code: 'load_failed', cause: err });
  return err;
}

/** The functions of the live schema (oids), to tell which a statement created. */
async function liveFunctions(conn: PgSession, live: string): Promise<Set<string>> {
  const r = await rows<{ oid: string }>(conn, 'SELECT p.oid::text AS oid FROM pg_proc p WHERE p.pronamespace = to_regnamespace($1)', [qi(live)]);
  return new Set(r.map((x) => x.oid));
}

/** DROP statements of the functions created since `before`. */
async function dropsOfNewFunctions(conn: PgSession, live: string, before: Set<string>): Promise<string[]> {
  const r = await rows<{ oid: string; drop: string }>(
    conn,
    "SELECT p.oid::text AS oid, format('DROP FUNCTION IF EXISTS %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS drop FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.pronamespace = to_regnamespace($1)",
    [qi(live)],
  );
  return r.filter((x) => !before.has(x.oid)).map((x) => x.drop);
}

/**
 * An extension of the backup: created when the database lacks it (recorded for undoing).
 * Extensions are database-wide: one already there is the one the tables will use.
 */
async function ensureExtension(conn: PgSession, o: PgLoadOptions, name: string, sql: string): Promise<void> {
  const [have] = await rows<{ n: string }>(conn, 'SELECT count(*)::text AS n FROM pg_extension WHERE extname = $1', [name]);
  if (Number(have?.n)) return;
  await q(conn, sql);
  o.created.push(`DROP EXTENSION IF EXISTS ${qi(name)}`);
}

/**
 * The extensions and functions of our backup's header, created only where missing: the live
 * database's own functions stay as they are (its indexes are built on them).
 */
export async function ensureObjects(conn: PgSession, o: PgLoadOptions, objects: PgObject[]): Promise<void> {
  for (const x of objects) {
    if (x.kind === 'extension') await ensureExtension(conn, o, x.name, x.sql);
    else {
      const [have] = await rows<{ ok: boolean }>(conn, 'SELECT to_regprocedure($1) IS NOT NULL AS ok', [x.name]);
      if (have?.ok) continue;
      const before = await liveFunctions(conn, o.live);
      await q(conn, x.sql);
      o.created.push(...(await dropsOfNewFunctions(conn, o.live, before)));
    }
  }
}

/** Runs the DROP statements of what a load created in the live database (last first), quietly. */
export async function dropCreated(target: PostgresTarget, created: string[]): Promise<void> {
  if (created.length === 0) return;
  let conn: PgSession | undefined;
  try {
    conn = await openPg(target, { application: 'billettigue restore cleanup' });
    for (const sql of [...created].reverse()) await q(conn, sql).catch(() => undefined);
  } catch {
    /* best effort: the objects are harmless and the next restore finds them present */
  } finally {
    await closeQuietly(conn);
  }
}

/** The header without its database objects (those are created apart, only where missing). */
function withoutObjects(header: string): string {
  const start = header.search(/^-- pre (extension|function) /m);
  const end = header.indexOf(`\n${PRE_OBJECTS_END}\n`);
  return start < 0 || end < 0 ? header : header.slice(0, start) + header.slice(end + PRE_OBJECTS_END.length + 2);
}

/** `PRIMARY KEY (a, b)` / `UNIQUE (a)` with plain columns: built as an index first (SHARE lock). */
const SIMPLE_KEY = /^ALTER TABLE ONLY ("(?:[^"]|"")+") ADD CONSTRAINT ("(?:[^"]|"")+") (PRIMARY KEY|UNIQUE) (\((?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)(?:, (?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*))*\))$/;

/** The statements that build one post-data key: index first, then the constraint on it. */
export function keyStatements(sql: string): string[] {
  const m = SIMPLE_KEY.exec(sql);
  if (!m) return [sql];
  const [, table, name, kind, cols] = m;
  return [`CREATE UNIQUE INDEX ${name} ON ONLY ${table} USING btree ${cols}`, `ALTER TABLE ONLY ${table} ADD CONSTRAINT ${name} ${kind} USING INDEX ${name}`];
}

interface Task {
  table: string;
  weight: number;
  /** Lower runs first among tasks of the same table. */
  order: number;
  run(conn: PgSession): Promise<void>;
}

/** A queue of tasks drained by a pool of sessions, biggest tables first; a task may add more. */
class TaskPool {
  private readonly ready: Task[] = [];
  private running = 0;
  private failure: unknown = null;
  private waiters: Array<() => void> = [];

  add(t: Task): void {
    this.ready.push(t);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private next(): Task | undefined {
    if (this.ready.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.ready.length; i++) {
      const a = this.ready[i]!;
      const b = this.ready[best]!;
      if (a.weight > b.weight || (a.weight === b.weight && a.order < b.order)) best = i;
    }
    return this.ready.splice(best, 1)[0];
  }

  async run(conns: PgSession[]): Promise<void> {
    await Promise.all(
      conns.map(async (conn) => {
        for (;;) {
          if (this.failure) return;
          const t = this.next();
          if (!t) {
            if (this.running === 0) return this.wake();
            await new Promise<void>((r) => this.waiters.push(r));
            continue;
          }
          this.running++;
          try {
            await t.run(conn);
          } catch (err) {
            if (!this.failure) {
              this.failure = err;
              // The other sessions' work is moot: cut them off (their transactions roll back).
              for (const c of conns) if (c !== conn) destroy(c);
            }
          } finally {
            this.running--;
            this.wake();
          }
        }
      }),
    );
    if (this.failure) throw this.failure;
  }
}

/** Loads a table's byte range with COPY FROM STDIN, frozen, in the transaction that truncated it. */
async function copyIn(conn: PgSession, o: PgLoadOptions, t: ManifestTable, onBytes: (n: number) => void): Promise<number> {
  const { from } = await copyStreams();
  await q(conn, 'BEGIN');
  try {
    await q(conn, `TRUNCATE ONLY ${qi(t.name)}`);
    const sink = conn.query(from(`COPY ${qi(t.name)} (${t.columns.map(qi).join(', ')}) FROM STDIN (FREEZE)`));
    await pipeline(openDecompressed(o.file, { start: t.data_offset, length: t.data_length, onBytes }), sink);
    await q(conn, 'COMMIT');
    return (sink as unknown as { rowCount: number }).rowCount;
  } catch (err) {
    await q(conn, 'ROLLBACK').catch(() => undefined);
    throw translatePgLoadError(err, t.name);
  }
}

/** Next value of every owned sequence of the schema's tables (what nextval would return). */
export async function sequencePositions(conn: PgSession, specs: PgTableSpec[]): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  for (const t of specs) {
    const s = t.sequences.find((x) => t.primaryKey.includes(x.column)) ?? t.sequences[0];
    if (!s) {
      out.set(t.name, null);
      continue;
    }
    const [r] = await rows<{ last: string; called: boolean; inc: string }>(
      conn,
      `SELECT last_value::text AS last, is_called AS called, (SELECT seqincrement::text FROM pg_sequence WHERE seqrelid = ${ql(qi(s.name))}::regclass) AS inc FROM ${qi(s.name)}`,
    );
    out.set(t.name, r!.called ? Number(r!.last) + Number(r!.inc) : Number(r!.last));
  }
  return out;
}

/**
 * Moves every owned sequence past the largest value of its column (explicit ids were loaded; the
 * next insert must not collide). Returns the sequences moved.
 */
export async function sequencesPastMax(conn: PgSession, specs: PgTableSpec[]): Promise<string[]> {
  const moved: string[] = [];
  for (const t of specs) {
    for (const s of t.sequences) {
      const [r] = await rows<{ moved: boolean }>(
        conn,
        `WITH m AS (SELECT max(${qi(s.column)})::bigint AS top FROM ${qi(t.name)}),
              cur AS (SELECT last_value, is_called FROM ${qi(s.name)})
         SELECT CASE WHEN m.top IS NOT NULL AND (m.top > cur.last_value OR (m.top = cur.last_value AND NOT cur.is_called))
                     THEN setval(${ql(qi(s.name))}, m.top, true) IS NOT NULL ELSE false END AS moved
           FROM m, cur`,
      );
      if (r?.moved) moved.push(s.name);
    }
  }
  return moved;
}

/** The table a post-data FOREIGN KEY statement references (unquoted), or null. */
export function referencedTable(sql: string): string | null {
  const m = /\bREFERENCES\s+(?:(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\.)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)/.exec(sql);
  if (!m) return null;
  const t = m[1]!;
  return t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t.toLowerCase();
}

/** Our backups: parallel per-table loading by byte range, verified against the manifest. */
export async function loadBackupPg(o: PgLoadOptions): Promise<PgLoadResult> {
  const m = o.manifest!;
  const control = await openLoadSession(o);
  const conns: PgSession[] = [];
  try {
    o.onStep?.('creating tables');
    const header = (await readSection(o.file, 0, m.file.header_length)).toString('utf8');
    await ensureObjects(control, o, parseObjects(header));
    await q(control, withoutObjects(header));
    const footer = (await readSection(o.file, m.file.footer_offset, m.file.size - m.file.footer_offset)).toString('utf8');
    const post = parsePostData(footer);
    const specs = new Map((await describePgTables(control, o.schema)).map((s) => [s.name, s]));
    for (const t of m.tables) {
      if (!specs.has(t.name)) throw new IntegrityError(`the backup has no CREATE TABLE for ${t.name}: the file does not match its manifest`, { code: 'file_mismatch' });
    }
    const total = m.tables.reduce((n, t) => n + t.data_length, 0);
    let done = 0;
    const onBytes = (n: number) => {
      done += n;
      o.onProgress?.(done, total);
    };
    const jobs = Math.max(1, Math.min(o.jobs ?? defaultPgJobs(), 8));
    for (let i = 0; i < jobs; i++) conns.push(await openLoadSession(o));
    o.onStep?.(`loading ${m.tables.length} tables on ${jobs} sessions`);
    const results = new Map<string, LoadedTable>();
    let loadedOne = false;
    const pool = new TaskPool();
    for (const t of m.tables) {
      const spec = specs.get(t.name)!;
      // Hash with the manifest's order and the staging table's column types.
      const hashSpec = { name: t.name, primaryKey: t.primary_key, columns: t.columns.map((c) => ({ name: c, code: spec.columns.find((x) => x.name === c)?.code ?? 4 })) };
      const mine = post.filter((p) => p.table === t.name);
      const keys = mine.filter((p) => p.kind === 'key');
      const indexes = mine.filter((p) => p.kind === 'index');
      const weight = t.data_length;
      const hash: Task = {
        table: t.name,
        weight,
        order: 3,
        async run(conn) {
          const h = await readPgTable(conn, hashSpec);
          if (h.rows !== t.rows || h.sha256 !== t.sha256) {
            throw new IntegrityError(
              `table ${t.name} does not match the manifest after loading (${h.rows} rows, expected ${t.rows}${h.rows === t.rows ? '; SHA-256 differs' : ''}): the backup is not what its manifest describes; nothing was changed`,
              { code: 'verify_mismatch' },
            );
          }
          results.set(t.name, { name: t.name, rows: h.rows, sha256: h.sha256, auto_increment: null, verified: true });
        },
      };
      // The primary key first (the hash reads in its order), then the rest side by side.
      const pk = keys.find((k) => / PRIMARY KEY /.test(k.sql)) ?? null;
      const rest = [...keys.filter((k) => k !== pk), ...indexes];
      const build = (p: PostStatement, order: number): Task => ({
        table: t.name,
        weight,
        order,
        async run(conn) {
          try {
            for (const sql of p.kind === 'key' ? keyStatements(p.sql) : [p.sql]) await q(conn, sql);
          } catch (err) {
            throw translatePgLoadError(err, t.name);
          }
        },
      });
      pool.add({
        table: t.name,
        weight,
        order: 0,
        async run(conn) {
          if (t.rows > 0 && t.data_length > 0) {
            const n = await copyIn(conn, o, t, onBytes);
            if (n !== t.rows) throw new IntegrityError(`table ${t.name}: ${n} rows loaded, the manifest says ${t.rows}; nothing was changed`, { code: 'verify_mismatch' });
          }
          if (!loadedOne) {
            loadedOne = true;
            await pauseAt('restore:load');
          }
          for (const r of rest) pool.add(build(r, 2));
          if (pk) {
            const pkTask = build(pk, 1);
            pool.add({ ...pkTask, run: async (c) => (await pkTask.run(c), pool.add(hash)) });
          } else pool.add(hash);
        },
      });
    }
    await pool.run(conns);

    // Foreign keys: added without a check (instant), then validated side by side.
    const inBackup = new Set(m.tables.map((t) => t.name));
    const outside = post.filter((p) => p.kind === 'foreign-key' && !inBackup.has(referencedTable(p.sql) ?? p.table));
    if (outside.length && o.outsideForeignKeys !== 'skip') {
      throw new Conflict(
        `this backup holds only some tables (--tables) and foreign keys link them to tables it does not hold (${outside.map((f) => `${f.table} → ${referencedTable(f.sql)}`).join(', ')}): restoring them alone would break those keys; restore a full backup instead`,
        { code: 'partial_foreign_keys' },
      );
    }
    const fks = post.filter((p) => p.kind === 'foreign-key' && !outside.includes(p));
    if (fks.length) {
      o.onStep?.(`checking ${fks.length} foreign keys`);
      const validations = new TaskPool();
      for (const f of fks) {
        try {
          await q(control, `${f.sql} NOT VALID`);
        } catch (err) {
          throw translatePgLoadError(err, f.table);
        }
        const name = /ADD CONSTRAINT ("(?:[^"]|"")+")/.exec(f.sql)?.[1];
        if (name) {
          const table = specs.get(f.table)!;
          validations.add({
            table: f.table,
            weight: m.tables.find((x) => x.name === f.table)?.data_length ?? 0,
            order: 0,
            async run(conn) {
              try {
                await q(conn, `ALTER TABLE ONLY ${qi(table.name)} VALIDATE CONSTRAINT ${name}`);
              } catch (err) {
                throw translatePgLoadError(err, f.table);
              }
            },
          });
        }
      }
      await validations.run(conns);
    }
    for (const p of post.filter((x) => x.kind === 'setval')) await q(control, p.sql);
    const loadedSpecs = await describePgTables(control, o.schema);
    const positions = await sequencePositions(control, loadedSpecs);
    for (const t of m.tables) {
      const r = results.get(t.name)!;
      r.auto_increment = positions.get(t.name) ?? null;
      if (t.auto_increment !== null && r.auto_increment !== t.auto_increment) {
        throw new IntegrityError(`table ${t.name}: its sequence is at ${r.auto_increment} after loading, ${t.auto_increment} in the manifest`, { code: 'verify_mismatch' });
      }
    }
    const moved = await sequencesPastMax(control, loadedSpecs);
    if (moved.length) o.onWarning?.(`sequences behind their column's largest value were moved past it: ${moved.join(', ')}`);
    return {
      tables: m.tables.map((t) => results.get(t.name)!),
      method: 'copy',
      migrations: await pgMigrations(control, o.schema),
      created: m.tables.map((t) => t.name),
    };
  } finally {
    for (const c of conns) await closeQuietly(c);
    await closeQuietly(control);
  }
}

const IDENT_RE = '(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)';

function identName(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replace(/""/g, '"') : token.toLowerCase();
}

/** The relation a statement creates: `CREATE TABLE s.t`, `CREATE SEQUENCE s.q` (schema, name). */
export function createdRelation(sql: string): { schema: string | null; name: string } | null {
  const m = new RegExp(`^CREATE\\s+(?:UNLOGGED\\s+)?(?:TABLE|SEQUENCE)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(?:(${IDENT_RE})\\.)?(${IDENT_RE})`, 'i').exec(sql);
  return m ? { schema: m[1] ? identName(m[1]) : null, name: identName(m[2]!) } : null;
}

/**
 * Rewrites `src.rel` (rel one of `relations`) to `dst.rel` outside comments, in identifiers and in
 * the string literals that name a relation (`'src.rel'::regclass`, setval('src.rel', …)).
 * Functions and types of `src` are left alone: they are the live schema's.
 */
export function requalify(sql: string, src: string, dst: string, relations: Set<string>): string {
  const token = new RegExp(`('(?:[^']|'')*')|(--[^\\n]*)|(${IDENT_RE})\\.(${IDENT_RE})`, 'g');
  return sql.replace(token, (all, lit: string | undefined, comment: string | undefined, a: string | undefined, b: string | undefined) => {
    if (comment) return all;
    if (lit) {
      const inner = lit.slice(1, -1).replace(/''/g, "'");
      const m = new RegExp(`^(${IDENT_RE})\\.(${IDENT_RE})$`).exec(inner);
      if (m && identName(m[1]!) === src && relations.has(identName(m[2]!))) return `'${`${qi(dst)}.${m[2]}`.replace(/'/g, "''")}'`;
      return all;
    }
    if (identName(a!) === src && relations.has(identName(b!))) return `${qi(dst)}.${b}`;
    return all;
  });
}

/** run in the staging schema, skip, refuse, or create in the live database only when missing. */
type Action = 'run' | 'skip' | 'refuse' | 'extension' | 'function';

/** Statements about billettigue's own helper schemas (an undo copy pg_dump dumped along): not restored. */
const HELPER_SCHEMA = /(?:^|[\s('"])"?bt_(?:undo|restore|verify)_[A-Za-z0-9_]+"?\./;

/** Does this statement concern one of billettigue's helper schemas (bt_undo_…, bt_restore_…)? */
export function aboutHelperSchema(sql: string): boolean {
  return HELPER_SCHEMA.test(sql) || /^CREATE\s+SCHEMA\s+"?bt_(?:undo|restore|verify)_/i.test(sql) || /^ALTER\s+SCHEMA\s+"?bt_(?:undo|restore|verify)_/i.test(sql);
}

/** What a stock dump's statement is to billettigue: run in the staging schema, skip, or refuse. */
export function classifyPgStatement(sql: string): { action: Action; what: string } {
  const s = sql.replace(/\s+/g, ' ').trim();
  const what = s.slice(0, 60);
  if (/^SET (SESSION )?search_path\b/i.test(s) || /^SELECT pg_catalog\.set_config\('search_path'/i.test(s)) return { action: 'skip', what };
  if (/^(SET|RESET) /i.test(s) || /^SELECT pg_catalog\.set_config\(/i.test(s)) return { action: 'run', what };
  if (/^(BEGIN|COMMIT|START TRANSACTION)\b/i.test(s)) return { action: 'skip', what };
  if (/^(ALTER (TABLE|SEQUENCE|INDEX|TYPE|FUNCTION|SCHEMA|EXTENSION)) .* OWNER TO /i.test(s)) return { action: 'skip', what };
  if (/^(GRANT|REVOKE|ALTER DEFAULT PRIVILEGES|SECURITY LABEL|COMMENT ON (EXTENSION|SCHEMA|DATABASE))\b/i.test(s)) return { action: 'skip', what };
  if (/^CREATE (UNLOGGED )?(TABLE|SEQUENCE)\b/i.test(s)) return { action: 'run', what };
  if (/^CREATE (UNIQUE )?INDEX\b/i.test(s)) return { action: 'run', what };
  if (/^ALTER (TABLE|SEQUENCE|INDEX)\b/i.test(s)) return { action: 'run', what };
  if (/^SELECT pg_catalog\.setval\(/i.test(s)) return { action: 'run', what };
  if (/^COMMENT ON (TABLE|COLUMN|INDEX|CONSTRAINT|SEQUENCE)\b/i.test(s)) return { action: 'run', what };
  if (/^CREATE EXTENSION\b/i.test(s)) return { action: 'extension', what };
  if (/^CREATE (OR REPLACE )?(FUNCTION|PROCEDURE)\b/i.test(s)) return { action: 'function', what };
  if (/^COMMENT ON (FUNCTION|PROCEDURE)\b/i.test(s)) return { action: 'skip', what };
  return { action: 'refuse', what };
}

/**
 * A stock pg_dump plain file (or any psql script of that shape): statements in order on one
 * session, relations created in the staging schema, COPY blocks streamed.
 */
export async function loadDumpPg(o: PgLoadOptions): Promise<PgLoadResult> {
  const { readScript } = await import('./script.js');
  const { from } = await copyStreams();
  const { statSync } = await import('node:fs');
  const { InvalidInput } = await import('../../../domain/errors.js');
  const conn = await openLoadSession(o);
  try {
    const total = statSync(o.file).size;
    let done = 0;
    const source = openDecompressed(o.file, {
      onBytes: (n) => {
        done += n;
        o.onProgress?.(done, total);
      },
    }) as AsyncIterable<Buffer>;
    let srcSchema: string | null = null;
    const relations = new Set<string>();
    const created: string[] = [];
    let skippedPrivileges = false;
    let skippedHelpers = false;
    const rewrite = (sql: string) => (srcSchema ? requalify(sql, srcSchema, o.schema, relations) : sql);
    let current = '';
    try {
      for await (const item of readScript(source)) {
        if (item.kind === 'meta') {
          if (/^\\(un)?restrict\b/.test(item.text)) continue;
          if (/^\\(connect|c)\b/.test(item.text)) {
            throw new InvalidInput('the dump connects to a database (\\connect: made with pg_dump --create or pg_dumpall): dump one database without --create');
          }
          throw new InvalidInput(`the dump contains the psql command "${item.text.slice(0, 40)}": billettigue restores plain pg_dump files (tables and their rows)`);
        }
        if (aboutHelperSchema(item.text)) {
          skippedHelpers = true;
          continue;
        }
        if (item.kind === 'copy') {
          const m = new RegExp(`^COPY\\s+(?:(${IDENT_RE})\\.)?(${IDENT_RE})`, 'i').exec(item.text);
          current = m ? identName(m[2]!) : '?';
          const sink = conn.query(from(rewrite(item.text).replace(/\bFROM\s+stdin\b/i, 'FROM STDIN')));
          try {
            await pipeline(item.data, sink);
          } catch (err) {
            throw translatePgLoadError(err, current);
          }
          continue;
        }
        const sql = item.text;
        const rel = createdRelation(sql);
        if (rel) {
          if (rel.schema) {
            if (srcSchema === null) srcSchema = rel.schema;
            else if (srcSchema !== rel.schema) {
              throw new InvalidInput(`the dump holds tables of several schemas (${srcSchema}, ${rel.schema}): dump one schema (pg_dump -n ${srcSchema})`);
            }
          }
          relations.add(rel.name);
          if (/^CREATE\s+(UNLOGGED\s+)?TABLE/i.test(sql)) created.push(rel.name);
        }
        const k = classifyPgStatement(sql);
        if (k.action === 'skip') {
          if (/^(GRANT|REVOKE)/i.test(sql)) skippedPrivileges = true;
          continue;
        }
        if (k.action === 'refuse') {
          throw new InvalidInput(`the dump contains a statement billettigue does not restore ("${k.what}…"): only tables, sequences, indexes, constraints and their rows are restored`);
        }
        if (k.action === 'extension') {
          const name = /^CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)/i.exec(sql)?.[1];
          if (name) await ensureExtension(conn, o, identName(name), sql);
          continue;
        }
        if (k.action === 'function') {
          // The live database's function of the same signature stays (its indexes are built on it).
          const before = await liveFunctions(conn, o.live);
          try {
            await q(conn, sql.replace(/^CREATE\s+OR\s+REPLACE\s+/i, 'CREATE '));
          } catch (err) {
            if ((err as { code?: string }).code === '42723') continue; // duplicate_function
            throw err;
          }
          o.created.push(...(await dropsOfNewFunctions(conn, o.live, before)));
          continue;
        }
        current = rel?.name ?? current;
        try {
          await q(conn, rewrite(sql));
        } catch (err) {
          throw translatePgLoadError(err, current);
        }
      }
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (typeof e?.code === 'string' && !(err instanceof Conflict) && !(err instanceof IntegrityError)) {
        throw new IntegrityError(`the dump did not load (${e.message}): nothing was changed`, { code: 'load_failed', cause: err });
      }
      throw err;
    }
    if (skippedHelpers) o.onWarning?.('the dump holds billettigue helper schemas (bt_undo_…: the tables a restore replaced): they are not restored');
    if (skippedPrivileges) o.onWarning?.('the dump grants privileges (GRANT/REVOKE): they are not restored; grant them again after the restore');
    await pauseAt('restore:load');
    const specs = await describePgTables(conn, o.schema);
    // Foreign keys must stay inside what is restored: the live tables move out at the swap.
    const outside = await rows<{ con: string; tbl: string; ref: string }>(
      conn,
      `SELECT k.conname AS con, c.relname AS tbl, r.relname AS ref FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE k.contype = 'f' AND n.nspname = $1 AND rn.nspname <> $1`,
      [o.schema],
    );
    if (outside.length) {
      throw new Conflict(`the dump's foreign keys reference tables it does not contain (${outside.map((x) => `${x.tbl} → ${x.ref}`).join(', ')}): dump those tables too`, { code: 'partial_foreign_keys' });
    }
    const moved = await sequencesPastMax(conn, specs);
    if (moved.length) o.onWarning?.(`sequences behind their column's largest value were moved past it: ${moved.join(', ')}`);
    const positions = await sequencePositions(conn, specs);
    o.onStep?.('hashing the loaded tables');
    const tables: LoadedTable[] = [];
    for (const s of specs) {
      const h = await readPgTable(conn, s, { schema: o.schema });
      tables.push({ name: s.name, rows: h.rows, sha256: h.sha256, auto_increment: positions.get(s.name) ?? null, verified: false });
    }
    return { tables, method: 'copy', migrations: await pgMigrations(conn, o.schema), created };
  } finally {
    await closeQuietly(conn);
  }
}
