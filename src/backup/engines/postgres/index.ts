/**
 * PostgreSQL backup side: dump (locked tables, one REPEATABLE READ snapshot, COPY TO STDOUT),
 * restore (staging schema, COPY FROM STDIN, verify, one transaction of ALTER TABLE … SET SCHEMA),
 * undo, the advisory-lock restore lock and leftovers (helper schemas in the target database).
 */
import type { DbTarget, PostgresTarget } from '../../../db/config.js';
import { helperDatabase, helperOf, restoreLockName, STAGING_PREFIX, VERIFY_PREFIX, type Leftover } from '../../../db/leftovers.js';
import { Conflict, InvalidInput } from '../../../domain/errors.js';
import type { BackupEngine } from '../types.js';
import { cannotCreateSchema, closeQuietly, createHelperSchema, openPg, q, qi, rows, type PgSession } from './conn.js';
import { MAINTENANCE_DB } from '../../../db/engines/postgres/index.js';

const lockDatabase = MAINTENANCE_DB;

function asPg(target: DbTarget): PostgresTarget {
  if (target.kind !== 'postgres') throw new Error(`not a PostgreSQL target: ${target.display}`);
  return target;
}

async function withSession<T>(target: PostgresTarget, fn: (conn: PgSession) => Promise<T>, database?: string | null): Promise<T> {
  const conn = await openPg(target, { database, application: 'billettigue' });
  try {
    return await fn(conn);
  } finally {
    await closeQuietly(conn);
  }
}

/**
 * The restore lock of a database: an advisory lock keyed (hash of 'billettigue', hash of the
 * lock name), taken in the server's maintenance database (advisory locks belong to the database
 * of the session, and the target may not exist yet: a restore creates it).
 */
const LOCK_SQL_KEY = "hashtext('billettigue'), hashtext($1)";

/** A session on the target database, or null when that database does not exist (yet). */
async function sessionIfExists<T>(target: PostgresTarget, fn: (conn: PgSession) => Promise<T>, otherwise: T): Promise<T> {
  try {
    return await withSession(target, fn);
  } catch (err) {
    if ((err as { code?: string }).code === 'database_missing') return otherwise;
    throw err;
  }
}

export const postgresBackup: BackupEngine = {
  kind: 'postgres',
  stockDumpTool: 'pg_dump (plain format)',

  stockDumpSigns: { sure: /^-- PostgreSQL database dump/m, likely: /^COPY [^\n]* FROM stdin;$|^SET standard_conforming_strings = /m },

  async dump(target, writer, hooks) {
    const { dumpPostgres } = await import('./dump.js');
    return dumpPostgres(asPg(target), writer, hooks);
  },

  async restore(o) {
    const { restorePostgres } = await import('./restore.js');
    return restorePostgres({ ...o, target: asPg(o.target) });
  },

  async undo(target, checkMigrations, hooks, lock) {
    const { undoPostgres } = await import('./restore.js');
    return undoPostgres(asPg(target), checkMigrations, hooks, lock);
  },

  async describeUndo(target) {
    const { findUndoPg } = await import('./restore.js');
    const t = asPg(target);
    return sessionIfExists(t, (conn) => findUndoPg(conn, t.database), null);
  },

  async liveHasTables(target) {
    const t = asPg(target);
    const { liveSchema } = await import('./dump.js');
    const { listPgTables } = await import('./catalog.js');
    return sessionIfExists(t, async (conn) => (await listPgTables(conn, await liveSchema(conn))).length > 0, false);
  },

  async checkRestoreRights(target) {
    const t = asPg(target);
    // The staging copy is a schema of the database (a database that does not exist yet is created, and owned).
    const may = await sessionIfExists(t, async (conn) => (await rows<{ ok: boolean }>(conn, "SELECT has_database_privilege(current_database(), 'CREATE') AS ok"))[0]!.ok, true);
    if (!may) throw cannotCreateSchema(t, 'a restore');
  },

  async ensureDatabase(target) {
    const t = asPg(target);
    if (!t.database) throw new InvalidInput('no database name in the target: add it to the URL (postgres://…/name) or set DB_NAME');
    const { engineFor } = await import('../../../db/engines/index.js');
    return engineFor('postgres').createDatabase(t);
  },

  // The staging copy is a schema of the same database: the same target, searched first.
  stagingTarget: (target, staging) => ({ ...asPg(target), schema: staging }),

  async deepVerify(file, manifest, target, onStep) {
    if (!target || target.kind !== 'postgres') {
      throw new InvalidInput(
        '--deep on a PostgreSQL backup needs a PostgreSQL database to load it into: pass --db postgres://user@host:5432/name (a scratch schema is created in it and dropped)',
      );
    }
    const scratch = helperDatabase(VERIFY_PREFIX, target.database || 'postgres');
    const { dropCreated, loadBackupPg } = await import('./load.js');
    const { dropHelperSchema } = await import('./restore.js');
    const { liveSchema } = await import('./dump.js');
    const admin = await openPg(target, { application: 'billettigue verify' });
    const created: string[] = [];
    try {
      const live = await liveSchema(admin);
      await createHelperSchema(admin, target, scratch, 'backup verify --deep');
      onStep?.(`loading into scratch schema ${scratch}`);
      const r = await loadBackupPg({ target, schema: scratch, live, file, manifest, onStep, outsideForeignKeys: 'skip', created });
      return new Set(r.tables.filter((x) => x.verified).map((x) => x.name));
    } finally {
      await closeQuietly(admin);
      await dropHelperSchema(target, scratch);
      // A deep verify changes nothing: what it had to create for the scratch copy goes too.
      await dropCreated(target, created);
    }
  },

  // An advisory lock on a dedicated session: the server releases it when the session dies, so a
  // killed restore never leaves it held.
  async acquireRestoreLock(target) {
    const t = asPg(target);
    const conn = await openPg(t, { database: null, application: 'billettigue restore lock' });
    const name = restoreLockName(t.database);
    const [r] = await rows<{ got: boolean }>(conn, `SELECT pg_try_advisory_lock(${LOCK_SQL_KEY}) AS got`, [name]);
    if (!r?.got) {
      await closeQuietly(conn);
      throw new Conflict(`another restore of ${t.display} is running (advisory lock ${name} is held): wait for it to finish`, { code: 'restore_running' });
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await q(conn, `SELECT pg_advisory_unlock(${LOCK_SQL_KEY})`, [name]).catch(() => undefined);
        await closeQuietly(conn);
      },
    };
  },

  async listLeftovers(target, options) {
    const t = asPg(target);
    if (!t.database) return [];
    return sessionIfExists(t, async (conn) => {
      if (!options.holdingLock) {
        const [lock] = await rows<{ held: boolean }>(
          conn,
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = $2)
                            AND classid = hashtext('billettigue')::oid AND objid = hashtext($1)::oid AND objsubid = 2) AS held`,
          [restoreLockName(t.database), lockDatabase],
        );
        if (lock?.held) return []; // a restore is running: its staging schema is not a leftover
      }
      const found: Leftover[] = [];
      const schemas = await rows<{ name: string }>(conn, "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'bt\\_restore\\_%' OR nspname LIKE 'bt\\_verify\\_%' ORDER BY nspname");
      for (const s of schemas) {
        if (helperOf(s.name, STAGING_PREFIX, t.database) || helperOf(s.name, VERIFY_PREFIX, t.database)) found.push({ kind: 'schema', name: s.name });
      }
      // An undo schema that does not hold what it records would put back nothing (or part).
      const { undoCandidatesPg } = await import('./restore.js');
      for (const u of await undoCandidatesPg(conn, t.database)) if (u.problems.length) found.push({ kind: 'schema', name: u.name });
      return found;
    }, []);
  },

  async cleanLeftovers(target, leftovers) {
    const t = asPg(target);
    const things = leftovers.filter((l) => l.kind === 'schema');
    if (things.length === 0) return [];
    return withSession(t, async (conn) => {
      const cleaned: string[] = [];
      await q(conn, "SET lock_timeout = '30s'");
      for (const l of things) {
        await q(conn, `DROP SCHEMA IF EXISTS ${qi(l.name)} CASCADE`);
        cleaned.push(`schema ${l.name}`);
      }
      return cleaned;
    });
  },
};
