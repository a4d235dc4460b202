/**
 * One restore (or adoption, undo, leftover cleaning) at a time per database; how it is held is the
 * engine's (src/backup/engines/<engine>/): MySQL a GET_LOCK on a dedicated connection, on a Galera
 * cluster a replicated lock row visible to every node (src/backup/engines/mysql/galera.ts), SQLite
 * a lock file holding the owner's pid. Taken: a Conflict (exit 4) naming the owner where known.
 */
import type { DbTarget } from '../db/config.js';
import { backupEngine, type LockOptions, type RestoreLock } from './engines/index.js';

export type { LockOptions, RestoreLock } from './engines/index.js';

export async function acquireRestoreLock(target: DbTarget, options: LockOptions = {}): Promise<RestoreLock> {
  return (await backupEngine(target.kind)).acquireRestoreLock(target, options);
}
