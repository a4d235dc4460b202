/**
 * Names of what a restore creates beside the live database. Finding the ones an interrupted
 * restore, deep verify or backup left behind is src/backup/leftovers.ts (reported by doctor and by
 * `restore`, cleaned by `billettigue restore --clean-leftovers --yes`).
 *
 * MySQL (databases on the same server, tied to the live database by name, or by a hash of it when
 * the name would pass MySQL's 64-character limit):
 *   bt_restore_<db>_<stamp>   staging database a restore loads into       (leftover when no restore runs)
 *   bt_verify_<db>_<stamp>    scratch database of `backup verify --deep`  (leftover when no restore runs)
 *   bt_undo_<db>_<stamp>      the tables the last restore replaced, kept for `restore --undo` (a leftover only when incomplete: src/backup/swap-check.ts)
 * SQLite (files beside the database file):
 *   <file>.bt_restore_<stamp>[-journal|-wal|-shm]   staging file (leftover)
 *   <file>.bt_restore.lock                          restore lock, leftover when its process is gone
 *   <file>.bt_undo_<stamp>                          the replaced file, for `restore --undo` (leftover when damaged or empty)
 * Backups: `.NAME.tmp-PID-RAND` temp files in the backup folder (leftover when PID is gone).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const STAGING_PREFIX = 'bt_restore_';
export const VERIFY_PREFIX = 'bt_verify_';
export const UNDO_PREFIX = 'bt_undo_';
/** Prefixes of anything a restore creates; tables named so are never backed up. */
export const LEFTOVER_PREFIXES = [STAGING_PREFIX, VERIFY_PREFIX, UNDO_PREFIX, 'bt_old_'];
export const TEMP_MARKER = '.tmp-';
export const DEFAULT_BACKUP_DIR = 'backups';

/** The live database's part of the helper names (the name itself, or a short hash when long). */
export function dbTag(database: string): string {
  const plain = /^[A-Za-z0-9_$]+$/.test(database) && database.length <= 32;
  return plain ? database : `h${createHash('sha256').update(database).digest('hex').slice(0, 12)}`;
}

/** 20261125083000 + 4 hex: sortable and unique enough next to the restore lock. */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14) + Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
}

export function helperDatabase(prefix: string, database: string, at = new Date()): string {
  return `${prefix}${dbTag(database)}_${stamp(at)}`;
}

/** Does this helper database belong to `database`? */
export function helperOf(name: string, prefix: string, database: string): boolean {
  if (!name.startsWith(prefix)) return false;
  const rest = name.slice(prefix.length);
  const tag = dbTag(database);
  return rest.startsWith(`${tag}_`) && /^\d{14}[0-9a-f]{4}$/.test(rest.slice(tag.length + 1));
}

export function isLeftoverName(name: string): boolean {
  return LEFTOVER_PREFIXES.some((p) => name.startsWith(p));
}

export function restoreLockName(database: string): string {
  return `billettigue_restore:${database}`.slice(0, 64);
}

/**
 * The lock a deep verify holds on its scratch database while it runs (at most 61 characters:
 * GET_LOCK names stop at 64): `--clean-leftovers` and a restore's cleanup, on any node, leave a
 * scratch database alone while its lock is held.
 */
export function verifyLockName(scratch: string): string {
  return `bt_verify:${scratch.startsWith(VERIFY_PREFIX) ? scratch.slice(VERIFY_PREFIX.length) : scratch}`.slice(0, 64);
}

export function sqliteLockFile(filename: string): string {
  return `${filename}.bt_restore.lock`;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pid written in a SQLite restore lock file (NaN when unreadable). */
export function lockOwner(lockFile: string): number {
  try {
    return Number(readFileSync(lockFile, 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return NaN;
  }
}

export interface Leftover {
  kind: 'database' | 'schema' | 'table' | 'file';
  name: string;
  /** Absolute path for files. */
  path?: string;
}
