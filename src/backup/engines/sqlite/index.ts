/**
 * SQLite backup side: dump (one read transaction), restore (a staging file beside the live one,
 * verified, renamed over it), undo, a lock file holding the owner's pid, and leftover files.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DbTarget, SqliteTarget } from '../../../db/config.js';
import { lockOwner, pidAlive, sqliteLockFile, STAGING_PREFIX, type Leftover } from '../../../db/leftovers.js';
import { Conflict } from '../../../domain/errors.js';
import { removeQuietly } from '../../files.js';
import type { BackupEngine } from '../types.js';

function asSqlite(target: DbTarget): SqliteTarget {
  if (target.kind !== 'sqlite') throw new Error(`not a SQLite target: ${target.display}`);
  return target;
}

export const sqliteBackup: BackupEngine = {
  kind: 'sqlite',
  stockDumpTool: 'sqlite3',

  stockDumpSigns: { sure: /^(PRAGMA foreign_keys|BEGIN TRANSACTION)/m },

  async dump(target, writer, hooks) {
    const { dumpSqlite } = await import('./dump.js');
    return dumpSqlite(asSqlite(target), writer, hooks);
  },

  async restore(o) {
    const { restoreSqlite } = await import('./restore.js');
    return restoreSqlite({ ...o, target: asSqlite(o.target) });
  },

  async undo(target, checkMigrations, hooks) {
    const { undoSqlite } = await import('./restore.js');
    return undoSqlite(asSqlite(target), checkMigrations, hooks);
  },

  async describeUndo(target) {
    const { findUndoSqlite } = await import('./restore.js');
    const f = await findUndoSqlite(asSqlite(target).filename);
    return f ? path.basename(f) : null;
  },

  async liveHasTables(target) {
    const t = asSqlite(target);
    if (!existsSync(t.filename)) return false;
    const { openSqlite } = await import('./dump.js');
    const db = await openSqlite(t.filename, { readonly: true });
    try {
      return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 1").get());
    } finally {
      db.close();
    }
  },

  // The restore writes the file itself.
  ensureDatabase: async () => false,

  stagingTarget: (target, staging) => ({ ...asSqlite(target), filename: staging, display: `sqlite:${staging}` }),

  async deepVerify(file, manifest, _target, onStep) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-verify-'));
    try {
      const { buildSqlite, verifySqlite } = await import('./restore.js');
      onStep?.('loading into a scratch SQLite file');
      const db = await buildSqlite(path.join(dir, 'scratch.sqlite3'), file, manifest, {});
      try {
        const r = await verifySqlite(db, manifest);
        return new Set(r.filter((x) => x.verified).map((x) => x.name));
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  // An exclusive-create lock file beside the database holding the owner's pid; a lock whose
  // process is gone is stale (its restore was killed) and taken over.
  async acquireRestoreLock(target) {
    const t = asSqlite(target);
    const file = sqliteLockFile(t.filename);
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
        closeSync(fd);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = lockOwner(file);
        if (attempt === 0 && !pidAlive(owner)) {
          removeQuietly(file);
          continue;
        }
        throw new Conflict(`another restore of ${t.display} is running (pid ${Number.isNaN(owner) ? '?' : owner}, lock ${file}): wait for it to finish`, {
          code: 'restore_running',
        });
      }
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        if (lockOwner(file) === process.pid) removeQuietly(file);
      },
    };
  },

  async listLeftovers(target, options) {
    const t = asSqlite(target);
    const dir = path.dirname(t.filename);
    const base = path.basename(t.filename);
    const lock = sqliteLockFile(t.filename);
    const lockAlive = !options.holdingLock && existsSync(lock) && pidAlive(lockOwner(lock));
    const found: Leftover[] = [];
    if (!existsSync(dir) || lockAlive) return found;
    for (const f of readdirSync(dir)) {
      if (!f.startsWith(`${base}.`)) continue;
      const rest = f.slice(base.length + 1);
      const staleLock = rest === 'bt_restore.lock' && !options.holdingLock;
      if (rest.startsWith(STAGING_PREFIX) || rest.startsWith('bt_old_') || staleLock) found.push({ kind: 'file', name: f, path: path.join(dir, f) });
    }
    // A kept file that is damaged or empty (a copy cut short) would put back nothing.
    const { undoCandidatesSqlite } = await import('./restore.js');
    for (const u of await undoCandidatesSqlite(t.filename)) if (u.problems.length) found.push({ kind: 'file', name: u.name, path: path.join(dir, u.name) });
    return found;
  },

  // Everything SQLite leaves is a file, removed by the caller.
  cleanLeftovers: async () => [],
};
