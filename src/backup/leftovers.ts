/**
 * What interrupted restores, deep verifies and backups left behind (names: src/db/leftovers.ts):
 * the engine's staging/scratch copies and stale locks, and backup temp files whose process is gone.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { DbTarget } from '../db/config.js';
import { DEFAULT_BACKUP_DIR, pidAlive, TEMP_MARKER, type Leftover } from '../db/leftovers.js';
import { backupEngine } from './engines/index.js';

/**
 * Structured leftovers of the target. While a restore holds the lock its staging copy is not a
 * leftover, unless the caller is that lock's holder (`holdingLock`: `restore` and
 * `restore --clean-leftovers` take the lock first).
 */
export async function listRestoreLeftovers(target: DbTarget, backupDir = DEFAULT_BACKUP_DIR, options: { holdingLock?: boolean } = {}): Promise<Leftover[]> {
  const found = await (await backupEngine(target.kind)).listLeftovers(target, options);
  const bdir = path.resolve(backupDir);
  if (existsSync(bdir)) {
    for (const f of readdirSync(bdir)) {
      if (!f.startsWith('.') || !f.includes(TEMP_MARKER)) continue;
      const pid = Number(/\.tmp-(\d+)-/.exec(f)?.[1]);
      if (!pidAlive(pid) || pid === process.pid) found.push({ kind: 'file', name: path.join(backupDir, f), path: path.join(bdir, f) });
    }
  }
  return found;
}

/** One line per leftover, for doctor: "database bt_restore_…", "file …". */
export async function findRestoreLeftovers(target: DbTarget, backupDir = DEFAULT_BACKUP_DIR): Promise<string[]> {
  return (await listRestoreLeftovers(target, backupDir)).map((l) => `${l.kind} ${l.name}`);
}
