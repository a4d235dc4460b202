/**
 * One restore at a time per database; how it is held is the engine's (src/backup/engines/<engine>/):
 * MySQL a GET_LOCK on a dedicated connection, SQLite a lock file holding the owner's pid.
 */
import type { DbTarget } from '../db/config.js';
import { backupEngine, type RestoreLock } from './engines/index.js';

export type { RestoreLock } from './engines/index.js';

export async function acquireRestoreLock(target: DbTarget): Promise<RestoreLock> {
  return (await backupEngine(target.kind)).acquireRestoreLock(target);
}
