/**
 * MySQL/MariaDB backup side: dump (one consistent snapshot, LOAD DATA-ready rows), restore (staging
 * database, verify, one multi-table RENAME), undo, the GET_LOCK restore lock and leftovers.
 */
import type { DbTarget, MysqlTarget } from '../../../db/config.js';
import { withDatabase } from '../../../db/config.js';
import { helperDatabase, helperOf, restoreLockName, STAGING_PREFIX, VERIFY_PREFIX, verifyLockName, type Leftover } from '../../../db/leftovers.js';
import { InvalidInput } from '../../../domain/errors.js';
import type { BackupEngine } from '../types.js';
import { closeQuietly, openMysql, quoteId, rows, run } from './conn.js';
import { rulesOf } from './rules.js';
import { MYSQL_COLLATION } from '../../../db/engines/mysql/index.js';

function asMysql(target: DbTarget): MysqlTarget {
  if (target.kind !== 'mysql') throw new Error(`not a MySQL target: ${target.display}`);
  return target;
}

async function withAdmin<T>(target: MysqlTarget, fn: (conn: Awaited<ReturnType<typeof openMysql>>) => Promise<T>): Promise<T> {
  const conn = await openMysql(target, null);
  try {
    return await fn(conn);
  } finally {
    await closeQuietly(conn);
  }
}

export const mysqlBackup: BackupEngine = {
  kind: 'mysql',
  stockDumpTool: 'mysqldump/mariadb-dump',

  stockDumpSigns: { sure: /^-- (MySQL|MariaDB) dump|^\/\*M?!\d+/m, likely: /ENGINE=|AUTO_INCREMENT|`/ },

  async dump(target, writer, hooks) {
    const { dumpMysql } = await import('./dump.js');
    return dumpMysql(asMysql(target), writer, hooks);
  },

  async restore(o) {
    const { restoreMysql } = await import('./restore.js');
    return restoreMysql({ ...o, target: asMysql(o.target) });
  },

  async undo(target, checkMigrations, hooks, lock) {
    const { undoMysql } = await import('./restore.js');
    return undoMysql(asMysql(target), checkMigrations, hooks, lock);
  },

  async describeUndo(target) {
    const { findUndoMysql } = await import('./restore.js');
    const t = asMysql(target);
    return withAdmin(t, (conn) => findUndoMysql(conn, t.database));
  },

  async liveHasTables(target) {
    const t = asMysql(target);
    return withAdmin(t, async (conn) => {
      const r = await rows<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", [t.database]);
      return Number(r[0]?.n) > 0;
    });
  },

  async ensureDatabase(target) {
    const t = asMysql(target);
    if (!t.database) throw new InvalidInput('no database name in the target: add it to the URL (mysql://…/name) or set DB_NAME');
    return withAdmin(t, async (conn) => {
      const r = await rows<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?', [t.database]);
      if (r[0]?.n) return false;
      await run(conn, `CREATE DATABASE ${quoteId(t.database)} CHARACTER SET utf8mb4 COLLATE ${MYSQL_COLLATION}`);
      return true;
    });
  },

  stagingTarget: (target, staging) => withDatabase(target, staging),

  async deepVerify(file, manifest, target, onStep) {
    if (!target || target.kind !== 'mysql') {
      throw new InvalidInput('--deep on a MySQL backup needs a MySQL server to load it into: pass --db mysql://user@host:3306/name (a scratch database is created beside it and dropped)');
    }
    const scratch = helperDatabase(VERIFY_PREFIX, target.database || 'server');
    const { loadBackupMysql } = await import('./load.js');
    const { dropHelper } = await import('./restore.js');
    // Held while the scratch database exists: a cleanup of leftovers leaves it alone meanwhile.
    const lockConn = await openMysql(target, null);
    const lock = await rulesOf(lockConn).acquireLock(lockConn, target, { purpose: 'backup verify --deep', name: verifyLockName(scratch) });
    const admin = await openMysql(target, null).catch(async (err: unknown) => {
      await lock.release();
      throw err;
    });
    try {
      await run(admin, `CREATE DATABASE \`${scratch}\` CHARACTER SET utf8mb4 COLLATE ${MYSQL_COLLATION}`);
      onStep?.(`loading into scratch database ${scratch}`);
      const r = await loadBackupMysql({ target, database: scratch, file, manifest, onStep });
      return new Set(r.tables.filter((x) => x.verified).map((x) => x.name));
    } finally {
      await closeQuietly(admin);
      await dropHelper(target, scratch).finally(() => lock.release());
    }
  },

  // On a dedicated connection, which the lock owns: rules.ts (one server), galera.ts (a cluster).
  async acquireRestoreLock(target, options = {}) {
    const t = asMysql(target);
    const conn = await openMysql(t, null);
    return rulesOf(conn).acquireLock(conn, t, options);
  },

  async listLeftovers(target, options) {
    const t = asMysql(target);
    if (!t.database) return [];
    return withAdmin(t, async (conn) => {
      // A restore running (anywhere in a cluster): its staging copy is not a leftover.
      const rules = rulesOf(conn);
      if (!options.holdingLock && (await rules.lockHeld(conn, restoreLockName(t.database)))) return [];
      const found: Leftover[] = [];
      const dbs = await rows<{ name: string }>(
        conn,
        "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'bt\\_restore\\_%' OR schema_name LIKE 'bt\\_verify\\_%' ORDER BY schema_name",
      );
      for (const d of dbs) {
        if (helperOf(d.name, STAGING_PREFIX, t.database)) found.push({ kind: 'database', name: d.name });
        // A deep verify still running (anywhere in a cluster) holds its scratch database's lock.
        else if (helperOf(d.name, VERIFY_PREFIX, t.database) && !(await rules.lockHeld(conn, verifyLockName(d.name)))) found.push({ kind: 'database', name: d.name });
      }
      // An undo set whose swap never filled it (killed, refused) would put back nothing.
      const { undoCandidatesMysql } = await import('./restore.js');
      for (const u of await undoCandidatesMysql(conn, t.database)) if (u.problems.length) found.push({ kind: 'database', name: u.name });
      const tables = await rows<{ name: string }>(
        conn,
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND (table_name LIKE 'bt\\_restore\\_%' OR table_name LIKE 'bt\\_old\\_%' OR table_name LIKE 'bt\\_verify\\_%') ORDER BY table_name",
        [t.database],
      );
      found.push(...tables.map((x) => ({ kind: 'table' as const, name: x.name })));
      return found;
    });
  },

  async cleanLeftovers(target, leftovers) {
    const t = asMysql(target);
    const things = leftovers.filter((l) => l.kind !== 'file');
    if (things.length === 0) return [];
    return withAdmin(t, async (conn) => {
      const cleaned: string[] = [];
      await run(conn, 'SET SESSION FOREIGN_KEY_CHECKS = 0');
      for (const l of things) {
        if (l.kind === 'database') await run(conn, `DROP DATABASE IF EXISTS ${quoteId(l.name)}`);
        else await run(conn, `DROP TABLE IF EXISTS ${quoteId(t.database)}.${quoteId(l.name)}`);
        cleaned.push(`${l.kind} ${l.name}`);
      }
      return cleaned;
    });
  },
};
