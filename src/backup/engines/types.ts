/**
 * What every engine's backup side provides (src/backup/engines/<engine>/index.ts), and the shapes
 * its restore reports. The orchestrators (dump.ts, restore.ts, verify.ts, lock.ts) only talk to this.
 */
import type { DbKind, DbTarget } from '../../db/config.js';
import type { Leftover } from '../../db/leftovers.js';
import type { DumpHooks, DumpResultBase } from '../dump-types.js';
import type { GzipWriter } from '../gzip-pool.js';
import type { Manifest } from '../manifest.js';

export interface LoadedTable {
  name: string;
  rows: number;
  sha256: string | null;
  auto_increment: number | null;
  /** True when rows and SHA-256 (and AUTO_INCREMENT) match the manifest. */
  verified: boolean;
}

export interface RestoreHooks {
  onStep?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
  /** Registers what to do if the process is interrupted before the restore finishes. */
  onAbort?: (fn: () => Promise<void>) => void;
}

export interface RestoreReport {
  staging: string;
  undo: string | null;
  tables: LoadedTable[];
  method: string;
  migrations: string[];
  migrationsApplied: string[];
  swapped: boolean;
  /** How the swapped-in tables were checked after the swap. */
  postSwapCheck: string;
  /** Live tables that were not in the backup and moved out with the rest (full restores). */
  movedAside: string[];
}

export interface UndoReport {
  from: string;
  /** Where what was live went (null when nothing was live: there is nothing to redo). */
  keptAs: string | null;
  tables: string[];
}

/** What a restore needs from the orchestrator (src/backup/restore.ts), whatever the engine. */
export interface EngineRestoreOptions {
  target: DbTarget;
  file: string;
  manifest: Manifest | null;
  dryRun: boolean;
  jobs?: number;
  hooks: RestoreHooks;
  /**
   * With the migrations the loaded copy holds: refuses ones unknown to this build (throws), and
   * applies the missing ones to the staging copy (a database, schema or file; not on a dry run).
   * Returns the migrations applied.
   */
  migrateUp: (applied: string[], staging: string) => Promise<string[]>;
  /** The restore lock held by the caller: checked again just before the swap. */
  lock?: RestoreLock;
}

export interface RestoreLock {
  release(): Promise<void>;
  /** Throws a Conflict when the lock is no longer this process's (a cluster lock taken over). */
  assertHeld?(): Promise<void>;
  /** Said to the user once taken (a stale cluster lock taken over from a dead owner). */
  notice?: string;
}

export interface LockOptions {
  /** What takes it, for whoever finds it taken: "restore" (default), "restore --undo", "db adopt"… */
  purpose?: string;
  /** Who (the audit actor). */
  actor?: string;
  /** The lock to take (default: the restore lock of the target's database; a deep verify's own). */
  name?: string;
}

export interface BackupEngine {
  readonly kind: DbKind;
  /** The stock tool whose plain dumps `restore` accepts (for messages). */
  readonly stockDumpTool: string;
  /**
   * How the head of a file without manifest shows it is this engine's stock dump: `sure` patterns
   * (a tool's banner) are tried for every engine before the `likely` ones (syntax only it uses).
   */
  readonly stockDumpSigns: { sure: RegExp; likely?: RegExp };

  /** Streams one consistent snapshot of the target into the writer. */
  dump(target: DbTarget, writer: GzipWriter, hooks: DumpHooks): Promise<DumpResultBase>;
  /** Loads into staging, verifies, swaps in atomically (or only checks, with dryRun). */
  restore(o: EngineRestoreOptions): Promise<RestoreReport>;
  /** Puts back what the last restore replaced. */
  undo(target: DbTarget, checkMigrations: (applied: string[]) => void, hooks: RestoreHooks, lock?: RestoreLock): Promise<UndoReport>;
  /** Name of what `restore --undo` would put back, or null. */
  describeUndo(target: DbTarget): Promise<string | null>;
  /** Does the live database hold any table (is a safety backup worth taking)? */
  liveHasTables(target: DbTarget): Promise<boolean>;
  /** Refuses (exit 5, naming what to grant) a restore this user could not carry out; nothing is changed. */
  checkRestoreRights?(target: DbTarget): Promise<void>;
  /** Restoring into a database that does not exist yet: create it (true when created). */
  ensureDatabase(target: DbTarget): Promise<boolean>;
  /** The same target pointing at a staging copy (a database name or a file path). */
  stagingTarget(target: DbTarget, staging: string): DbTarget;
  /** Loads the file into a scratch copy and returns the tables whose rows and hashes match. */
  deepVerify(file: string, manifest: Manifest, target: DbTarget | undefined, onStep?: (message: string) => void): Promise<Set<string>>;
  /** One restore (or adoption) at a time per database, on every node of a cluster. */
  acquireRestoreLock(target: DbTarget, options?: LockOptions): Promise<RestoreLock>;
  /** Staging copies, scratch databases and stale locks an interrupted restore or verify left. */
  listLeftovers(target: DbTarget, options: { holdingLock?: boolean }): Promise<Leftover[]>;
  /** Removes the given database-side leftovers (files are removed by the caller); returns what went. */
  cleanLeftovers(target: DbTarget, leftovers: Leftover[]): Promise<string[]>;
}
