/**
 * `billettigue restore`: the steps that do not depend on the database kind.
 *   prepareRestore   verify the file before anything (exit 6), refuse newer migrations (exit 4),
 *                    recognise stock dumps (restorable, unverifiable: a warning)
 *   runRestore       load + verify in staging, migrate the staging copy up when the backup is
 *                    older than this build, swap atomically (src/backup/engines/<engine>/)
 *   undoRestore      put back what the last restore replaced
 *   cleanLeftovers   drop what interrupted restores left behind
 * The CLI (src/cli/restore.ts) adds the lock, the confirmation, the safety backup and the output.
 */
import path from 'node:path';
import { ENGINE_KINDS, type DbKind, type DbTarget } from '../db/config.js';
import { engineFor } from '../db/engines/index.js';
import type { Leftover } from '../db/leftovers.js';
import { Conflict, InvalidInput } from '../domain/errors.js';
import { backupEngine, type RestoreHooks, type RestoreLock, type RestoreReport, type UndoReport } from './engines/index.js';
import type { Manifest } from './manifest.js';
import { gzipIntegrity, isGzipFile, readHead } from './reader.js';
import { checkFileAgainstManifest } from './verify.js';
import { removeQuietly } from './files.js';
import { existsSync } from 'node:fs';

export interface PreparedRestore {
  file: string;
  manifest: Manifest | null;
  /** A stock dump (mysqldump/mariadb-dump, sqlite3 …): restorable, but nothing to verify it against. */
  stock: boolean;
  kind: DbKind;
  warnings: string[];
  /** Migrations this build has and the backup does not (applied to the staging copy). */
  behind: string[];
}

/** Known migrations of this build vs a backup's: unknown ones refuse the restore (exit 4). */
export async function migrationCheck(applied: string[]): Promise<{ unknown: string[]; behind: string[] }> {
  const { knownMigrations } = await import('../db/migrator.js');
  const known = knownMigrations();
  const set = new Set(applied);
  return {
    unknown: applied.filter((m) => !known.includes(m)),
    behind: applied.length === 0 ? [] : known.filter((m) => !set.has(m)),
  };
}

export function refuseUnknown(unknown: string[]): void {
  if (unknown.length) {
    throw new Conflict(
      `the backup was taken with migrations this build does not know (${unknown.join(', ')}): restoring it would leave a database this version cannot manage; upgrade billettigue first`,
      { code: 'backup_newer' },
    );
  }
}

const BACKUP_HEADER = /^-- billettigue backup \(format \d+\) of ([a-z]+):/m;

/** Which engine wrote this file: our own header names it; a stock dump is recognised by its shape. */
async function detectKind(head: string): Promise<DbKind | null> {
  const ours = BACKUP_HEADER.exec(head)?.[1];
  if (ours && ENGINE_KINDS.includes(ours as DbKind)) return ours as DbKind;
  const engines = await Promise.all(ENGINE_KINDS.map((k) => backupEngine(k)));
  return (engines.find((e) => e.stockDumpSigns.sure.test(head)) ?? engines.find((e) => e.stockDumpSigns.likely?.test(head)))?.kind ?? null;
}

export async function prepareRestore(file: string, target: DbTarget): Promise<PreparedRestore> {
  const warnings: string[] = [];
  let manifest: Manifest | null = null;
  let stock = false;
  let kind: DbKind;
  const hasManifest = existsSync(`${file}.json`);
  const head = await readHead(file).catch(() => '');
  if (hasManifest || head.startsWith('-- billettigue backup')) {
    manifest = (await checkFileAgainstManifest(file)).manifest;
    kind = manifest.kind;
  } else {
    stock = true;
    if (isGzipFile(file)) await gzipIntegrity(file, 16);
    const k = await detectKind(head);
    if (!k) throw new InvalidInput(`${path.basename(file)} is neither a billettigue backup nor a stock dump (${(await Promise.all(ENGINE_KINDS.map(async (x) => (await backupEngine(x)).stockDumpTool))).join(', ')})`);
    kind = k;
    warnings.push(`${path.basename(file)} has no manifest (a stock ${(await backupEngine(kind)).stockDumpTool} dump?): it cannot be verified against anything; rows are counted and foreign keys checked`);
  }
  if (kind !== target.kind) {
    throw new InvalidInput(`this is a ${engineFor(kind).label} backup and the target ${target.display} is ${engineFor(target.kind).label}: restore it into the same kind of database`);
  }
  // A user who could not make the staging copy is told before a safety backup is taken.
  await (await backupEngine(target.kind)).checkRestoreRights?.(target);
  let behind: string[] = [];
  if (manifest) {
    const m = await migrationCheck(manifest.migrations);
    refuseUnknown(m.unknown);
    behind = m.behind;
    if (manifest.migrations.length === 0) warnings.push('the backup has no migration history (knex_migrations): it is restored as it is');
  }
  return { file, manifest, stock, kind, warnings, behind };
}

export interface RunOptions {
  dryRun: boolean;
  jobs?: number;
  hooks: RestoreHooks;
  /** The restore lock the caller holds (checked again just before the swap). */
  lock?: RestoreLock;
}

async function migrateStaging(target: DbTarget, at: string): Promise<string[]> {
  const { createKnex } = await import('../db/connection.js');
  const { migrateLatest } = await import('../db/migrator.js');
  const knex = await createKnex((await backupEngine(target.kind)).stagingTarget(target, at));
  try {
    return await migrateLatest(knex);
  } finally {
    await knex.destroy();
  }
}

export async function runRestore(p: PreparedRestore, target: DbTarget, o: RunOptions): Promise<RestoreReport> {
  const { knownMigrations } = await import('../db/migrator.js');
  const known = knownMigrations();
  // What was loaded decides (a stock dump's migrations are only known once loaded): unknown ones
  // are refused before anything is swapped; missing ones are applied to the staging copy.
  const migrateUp = async (applied: string[], staging: string): Promise<string[]> => {
    refuseUnknown(applied.filter((m) => !known.includes(m)));
    const pending = applied.length === 0 ? [] : known.filter((m) => !applied.includes(m));
    if (pending.length === 0 || o.dryRun) return [];
    o.hooks.onStep?.(`applying ${pending.length} newer migration${pending.length > 1 ? 's' : ''} to the staging copy`);
    return migrateStaging(target, staging);
  };
  const engine = await backupEngine(target.kind);
  await engine.ensureDatabase(target);
  return engine.restore({
    target,
    file: p.file,
    manifest: p.manifest,
    dryRun: o.dryRun,
    jobs: o.jobs,
    hooks: o.hooks,
    migrateUp,
    lock: o.lock,
  });
}

/** Does the live database hold any table (is a safety backup worth taking)? */
export async function liveHasTables(target: DbTarget): Promise<boolean> {
  return (await backupEngine(target.kind)).liveHasTables(target);
}

export async function undoRestore(target: DbTarget, hooks: RestoreHooks, lock?: RestoreLock): Promise<UndoReport> {
  const { knownMigrations } = await import('../db/migrator.js');
  const known = knownMigrations();
  const sync = (applied: string[]) => refuseUnknown(applied.filter((m) => !known.includes(m)));
  return (await backupEngine(target.kind)).undo(target, sync, hooks, lock);
}

/** What `restore --undo` would put back (null when nothing is kept). */
export async function describeUndo(target: DbTarget): Promise<string | null> {
  return (await backupEngine(target.kind)).describeUndo(target);
}

export async function cleanLeftovers(target: DbTarget, leftovers: Leftover[]): Promise<string[]> {
  const cleaned: string[] = [];
  for (const l of leftovers) {
    if (l.kind === 'file' && l.path) {
      removeQuietly(l.path);
      if (!existsSync(l.path)) cleaned.push(`file ${l.name}`);
    }
  }
  cleaned.push(...(await (await backupEngine(target.kind)).cleanLeftovers(target, leftovers)));
  return cleaned;
}
