/**
 * The backup side of each engine, loaded only by the commands that need it (backup, restore,
 * verify --deep, doctor's leftovers).
 */
import type { DbKind } from '../../db/config.js';
import type { BackupEngine } from './types.js';

export type { BackupEngine, EngineRestoreOptions, LoadedTable, LockOptions, RestoreHooks, RestoreLock, RestoreReport, UndoReport } from './types.js';

export async function backupEngine(kind: DbKind): Promise<BackupEngine> {
  switch (kind) {
    case 'mysql':
      return (await import('./mysql/index.js')).mysqlBackup;
    case 'sqlite':
      return (await import('./sqlite/index.js')).sqliteBackup;
    case 'postgres':
      return (await import('./postgres/index.js')).postgresBackup;
  }
}
