/**
 * The backup side of each engine, loaded only by the commands that need it (backup, restore,
 * verify --deep, doctor's leftovers).
 */
import type { DbKind } from '../../db/config.js';
import { Unavailable } from '../../domain/errors.js';
import type { BackupEngine } from './types.js';

export type { BackupEngine, EngineRestoreOptions, LoadedTable, LockOptions, RestoreHooks, RestoreLock, RestoreReport, UndoReport } from './types.js';

export async function backupEngine(kind: DbKind): Promise<BackupEngine> {
  switch (kind) {
    case 'mysql':
      return (await import('./mysql/index.js')).mysqlBackup;
    case 'sqlite':
      return (await import('./sqlite/index.js')).sqliteBackup;
    case 'postgres':
      return postgresNotYet;
  }
}

/** Placeholder until src/backup/engines/postgres/ lands: every operation refuses, nothing is touched. */
const notYet = (): never => {
  throw new Unavailable('backup, restore and verify --deep are not yet available on PostgreSQL', { code: 'not_supported' });
};
const postgresNotYet: BackupEngine = {
  kind: 'postgres',
  stockDumpTool: 'pg_dump',
  stockDumpSigns: { sure: /^-- PostgreSQL database dump/m },
  dump: notYet,
  restore: notYet,
  undo: notYet,
  describeUndo: notYet,
  liveHasTables: notYet,
  ensureDatabase: notYet,
  stagingTarget: notYet,
  deepVerify: notYet,
  acquireRestoreLock: notYet,
  // Nothing of a PostgreSQL restore can be left over yet: doctor asks, and finds none.
  listLeftovers: async () => [],
  cleanLeftovers: notYet,
};
