/**
 * `billettigue restore`: the steps that do not depend on the database kind.
 *   prepareRestore   verify the file before anything (exit 6), refuse newer migrations (exit 4),
 *                    recognise stock dumps (restorable, unverifiable: a warning)
 *   runRestore       load + verify in staging, migrate the staging copy up when the backup is
 *                    older than this build, swap atomically (mysql-restore / sqlite-restore)
 *   undoRestore      put back what the last restore replaced
 *   cleanLeftovers   drop what interrupted restores left behind
 * The CLI (src/cli/restore.ts) adds the lock, the confirmation, the safety backup and the output.
 */
import path from 'node:path';
import type { DbTarget, MysqlTarget } from '../db/config.js';
import type { Leftover } from '../db/leftovers.js';
import { Conflict, InvalidInput } from '../domain/errors.js';
import type { Manifest } from './manifest.js';
import type { RestoreHooks, RestoreReport, UndoReport } from './mysql-restore.js';
import { gzipIntegrity, isGzipFile, readHead } from './reader.js';
import { checkFileAgainstManifest } from './verify.js';
import { removeQuietly } from './files.js';
import { existsSync } from 'node:fs';

export interface PreparedRestore {
  file: string;
  manifest: Manifest | null;
  /** A stock mysqldump/mariadb-dump/sqlite3 dump: restorable, but nothing to verify it against. */
  stock: boolean;
  kind: 'mysql' | 'sqlite';
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

function detectKind(head: string): 'mysql' | 'sqlite' | null {
  if (/^-- (MySQL|MariaDB) dump|^\/\*M?!\d+|^-- billettigue backup \(format \d+\) of mysql:/m.test(head)) return 'mysql';
  if (/^(PRAGMA foreign_keys|BEGIN TRANSACTION)|^-- billettigue backup \(format \d+\) of sqlite:/m.test(head)) return 'sqlite';
  if (/ENGINE=|AUTO_INCREMENT|`/.test(head)) return 'mysql';
  return null;
}

export async function prepareRestore(file: string, target: DbTarget): Promise<PreparedRestore> {
  const warnings: string[] = [];
  let manifest: Manifest | null = null;
  let stock = false;
  let kind: 'mysql' | 'sqlite';
  const hasManifest = existsSync(`${file}.json`);
  const head = await readHead(file).catch(() => '');
  if (hasManifest || head.startsWith('-- billettigue backup')) {
    manifest = (await checkFileAgainstManifest(file)).manifest;
    kind = manifest.kind;
  } else {
    stock = true;
    if (isGzipFile(file)) await gzipIntegrity(file, 16);
    const k = detectKind(head);
    if (!k) throw new InvalidInput(`${path.basename(file)} is neither a billettigue backup nor a mysqldump/mariadb-dump or sqlite3 dump`);
    kind = k;
    warnings.push(`${path.basename(file)} has no manifest (a stock ${kind === 'mysql' ? 'mysqldump/mariadb-dump' : 'sqlite3'} dump?): it cannot be verified against anything; rows are counted and foreign keys checked`);
  }
  if (kind !== target.kind) {
    throw new InvalidInput(`this is a ${kind === 'mysql' ? 'MySQL/MariaDB' : 'SQLite'} backup and the target ${target.display} is ${target.kind === 'mysql' ? 'MySQL/MariaDB' : 'SQLite'}: restore it into the same kind of database`);
  }
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
}

async function migrateStaging(target: DbTarget, at: string): Promise<string[]> {
  const { createKnex } = await import('../db/connection.js');
  const { migrateLatest } = await import('../db/migrator.js');
  const { withDatabase } = await import('../db/config.js');
  const t: DbTarget = target.kind === 'mysql' ? withDatabase(target, at) : { ...target, filename: at, display: `sqlite:${at}` };
  const knex = await createKnex(t);
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
  const checkMigrations = (applied: string[]): string[] => {
    refuseUnknown(applied.filter((m) => !known.includes(m)));
    if (applied.length === 0) return [];
    return known.filter((m) => !applied.includes(m));
  };
  if (target.kind === 'mysql') {
    await ensureMysqlDatabase(target);
    const { restoreMysql } = await import('./mysql-restore.js');
    return restoreMysql({
      target,
      file: p.file,
      manifest: p.manifest,
      dryRun: o.dryRun,
      jobs: o.jobs,
      hooks: o.hooks,
      checkMigrations,
      migrate: (db) => migrateStaging(target, db),
    });
  }
  const { restoreSqlite } = await import('./sqlite-restore.js');
  return restoreSqlite({
    target,
    file: p.file,
    manifest: p.manifest,
    dryRun: o.dryRun,
    hooks: o.hooks,
    checkMigrations,
    migrate: (f) => migrateStaging(target, f),
  });
}

/** Restoring into a database that does not exist yet (a new server): create it. */
export async function ensureMysqlDatabase(target: MysqlTarget): Promise<boolean> {
  if (!target.database) throw new InvalidInput('no database name in the target: add it to the URL (mysql://…/name) or set DB_NAME');
  const { openMysql, rows, run, closeQuietly, quoteId } = await import('./mysql-conn.js');
  const conn = await openMysql(target, null);
  try {
    const r = await rows<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?', [target.database]);
    if (r[0]?.n) return false;
    await run(conn, `CREATE DATABASE ${quoteId(target.database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    return true;
  } finally {
    await closeQuietly(conn);
  }
}

/** Does the live database hold any table (is a safety backup worth taking)? */
export async function liveHasTables(target: DbTarget): Promise<boolean> {
  if (target.kind === 'sqlite') {
    if (!existsSync(target.filename)) return false;
    const { openSqlite } = await import('./sqlite-dump.js');
    const db = await openSqlite(target.filename, { readonly: true });
    try {
      return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 1").get());
    } finally {
      db.close();
    }
  }
  const { openMysql, rows, closeQuietly } = await import('./mysql-conn.js');
  const conn = await openMysql(target, null);
  try {
    const r = await rows<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", [target.database]);
    return Number(r[0]?.n) > 0;
  } finally {
    await closeQuietly(conn);
  }
}

export async function undoRestore(target: DbTarget, hooks: RestoreHooks): Promise<UndoReport> {
  const { knownMigrations } = await import('../db/migrator.js');
  const known = knownMigrations();
  const sync = (applied: string[]) => refuseUnknown(applied.filter((m) => !known.includes(m)));
  if (target.kind === 'mysql') {
    const { undoMysql } = await import('./mysql-restore.js');
    return undoMysql(target, sync, hooks);
  }
  const { undoSqlite } = await import('./sqlite-restore.js');
  return undoSqlite(target, sync, hooks);
}

/** What `restore --undo` would put back (null when nothing is kept). */
export async function describeUndo(target: DbTarget): Promise<string | null> {
  if (target.kind === 'sqlite') {
    const { findUndoSqlite } = await import('./sqlite-restore.js');
    const f = findUndoSqlite(target.filename);
    return f ? path.basename(f) : null;
  }
  const { openMysql, closeQuietly } = await import('./mysql-conn.js');
  const { findUndoMysql } = await import('./mysql-restore.js');
  const conn = await openMysql(target, null);
  try {
    return await findUndoMysql(conn, target.database);
  } finally {
    await closeQuietly(conn);
  }
}

export async function cleanLeftovers(target: DbTarget, leftovers: Leftover[]): Promise<string[]> {
  const cleaned: string[] = [];
  for (const l of leftovers) {
    if (l.kind === 'file' && l.path) {
      removeQuietly(l.path);
      if (!existsSync(l.path)) cleaned.push(`file ${l.name}`);
    }
  }
  const dbThings = leftovers.filter((l) => l.kind !== 'file');
  if (dbThings.length && target.kind === 'mysql') {
    const { openMysql, run, closeQuietly, quoteId } = await import('./mysql-conn.js');
    const conn = await openMysql(target, null);
    try {
      await run(conn, 'SET SESSION FOREIGN_KEY_CHECKS = 0');
      for (const l of dbThings) {
        if (l.kind === 'database') await run(conn, `DROP DATABASE IF EXISTS ${quoteId(l.name)}`);
        else await run(conn, `DROP TABLE IF EXISTS ${quoteId(target.database)}.${quoteId(l.name)}`);
        cleaned.push(`${l.kind} ${l.name}`);
      }
    } finally {
      await closeQuietly(conn);
    }
  }
  return cleaned;
}
