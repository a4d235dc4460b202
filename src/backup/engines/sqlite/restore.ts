/**
 * SQLite restore: build the restored database in a file beside the live one
 * (<file>.bt_restore_<stamp>), verify it, then rename it over the live file.
 *
 * rename() replaces a file atomically, so the path holds either the old or the new database.
 * The -wal/-shm files belong to a database, not to a path: a stale -wal replayed onto the new
 * file would corrupt it. So before the swap the live database is switched out of WAL mode
 * (which checkpoints and deletes its -wal; refused while another process has it open), held
 * with an exclusive lock, hard-linked to <file>.bt_undo_<stamp> (kept for `restore --undo`),
 * and only then replaced; leftover -wal/-shm/-journal files of the path are removed.
 * Other processes that had the file open keep seeing the old one: stop them first.
 */
import { chmodSync, copyFileSync, existsSync, fsyncSync, linkSync, openSync, closeSync, readdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteTarget } from '../../../db/config.js';
import { stamp, STAGING_PREFIX, UNDO_PREFIX } from '../../../db/leftovers.js';
import { Conflict, IntegrityError, NotFound } from '../../../domain/errors.js';
import { fsyncDir, removeQuietly } from '../../files.js';
import type { Manifest } from '../../manifest.js';
import type { EngineRestoreOptions, LoadedTable, RestoreHooks, RestoreReport, UndoReport } from '../types.js';
import { pauseAt } from '../../pause.js';
import { assertUnchanged, expectedStaging, pickUndo, type TableCounts, type UndoCandidate } from '../../swap-check.js';
import { openDecompressed, readSection } from '../../reader.js';
import { classifyStatement, splitStatements } from '../../sql-split.js';
import { describeSqliteTables, hashSqliteTable, openSqlite, sqliteIdent, sqliteMigrations, sqliteSequences } from './dump.js';

export type SqliteRestoreOptions = EngineRestoreOptions & { target: SqliteTarget };

const SIDE_FILES = ['-wal', '-shm', '-journal'];

function removeWithSideFiles(p: string): void {
  removeQuietly(p);
  for (const s of SIDE_FILES) removeQuietly(p + s);
}

async function execLines(db: BetterSqlite3.Database, chunks: AsyncIterable<Buffer>, onBytes?: (n: number) => void): Promise<void> {
  // Cut on the last newline byte of what has arrived, so no UTF-8 character is ever split;
  // only the partial last line is carried over (copied: small).
  let rest: Buffer = Buffer.alloc(0);
  for await (const c of chunks) {
    onBytes?.(c.length);
    const cut = c.lastIndexOf(0x0a);
    if (cut < 0) {
      rest = Buffer.concat([rest, c]);
      continue;
    }
    // The carried-over bytes may end inside a character: join bytes before decoding.
    db.exec(rest.length ? Buffer.concat([rest, c.subarray(0, cut + 1)]).toString('utf8') : c.toString('utf8', 0, cut + 1));
    rest = Buffer.from(c.subarray(cut + 1));
  }
  const tail = rest.toString('utf8');
  if (tail.trim()) db.exec(tail);
}

/**
 * Loads a backup (ours: by sections; a plain sqlite3 .dump: statement by statement) into
 * `filename`. With `base` (a partial backup), the file starts as a copy of that database and
 * only the backup's tables are replaced.
 */
export async function buildSqlite(filename: string, file: string, manifest: Manifest | null, hooks: RestoreHooks, base?: string): Promise<BetterSqlite3.Database> {
  if (base) {
    const src = await openSqlite(base, { readonly: true });
    try {
      await src.backup(filename);
    } finally {
      src.close();
    }
  }
  const db = await openSqlite(filename, { mustExist: false });
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = OFF');
  db.pragma('cache_size = -16384'); // 16 MiB of pages: memory stays flat
  try {
    if (base && manifest) {
      for (const t of manifest.tables) db.exec(`DROP TABLE IF EXISTS ${sqliteIdent(t.name)}`);
    }
    if (manifest) {
      const total = manifest.file.size;
      let done = 0;
      const onBytes = (n: number) => {
        done += n;
        hooks.onProgress?.(done, total);
      };
      db.exec((await readSection(file, 0, manifest.file.header_length)).toString('utf8'));
      let first = true;
      for (const t of manifest.tables) {
        if (t.data_length > 0) await execLines(db, openDecompressed(file, { start: t.data_offset, length: t.data_length, highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>, onBytes);
        if (first) {
          first = false;
          await pauseAt('restore:load');
        }
      }
      db.exec((await readSection(file, manifest.file.footer_offset, manifest.file.size - manifest.file.footer_offset)).toString('utf8'));
    } else {
      for await (const stmt of splitStatements(openDecompressed(file) as AsyncIterable<Buffer>, 'sqlite')) {
        const k = classifyStatement(stmt);
        if (k.kind === 'delimiter' || k.kind === 'use' || k.kind === 'create-database') {
          throw new IntegrityError('this file is not a SQLite dump (it has MySQL-only statements): restore it into a MySQL database', { code: 'wrong_kind' });
        }
        db.exec(stmt.toString('utf8') + ';');
      }
      await pauseAt('restore:load');
    }
    if (db.inTransaction) db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (err instanceof IntegrityError) throw err;
    const e = err as { code?: string; message?: string };
    if (e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE constraint failed/i.test(e?.message ?? '')) {
      throw new Conflict(`the backup violates a unique key (${e.message}): nothing was changed`, { code: 'duplicate_in_backup', cause: err });
    }
    if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_')) {
      throw new IntegrityError(`the backup did not load (${e.message}): nothing was changed`, { code: 'load_failed', cause: err });
    }
    throw err;
  }
  return db;
}

/** Rows/SHA-256 of every table (and the AUTOINCREMENT counters), compared with the manifest. */
export async function verifySqlite(db: BetterSqlite3.Database, manifest: Manifest | null): Promise<LoadedTable[]> {
  const specs = describeSqliteTables(db);
  const seq = sqliteSequences(db);
  const out: LoadedTable[] = [];
  const want = manifest ? new Map(manifest.tables.map((t) => [t.name, t])) : null;
  if (want) {
    const missing = [...want.keys()].filter((n) => !specs.some((s) => s.name === n));
    if (missing.length) throw new IntegrityError(`tables missing after loading: ${missing.join(', ')}: the file does not match its manifest`, { code: 'verify_mismatch' });
  }
  for (const s of specs) {
    const h = await hashSqliteTable(db, s);
    const w = want?.get(s.name);
    if (w && (w.rows !== h.rows || w.sha256 !== h.sha256)) {
      throw new IntegrityError(
        `table ${s.name} does not match the manifest after loading (${h.rows} rows, expected ${w.rows}${h.rows === w.rows ? '; SHA-256 differs' : ''}): nothing was changed`,
        { code: 'verify_mismatch' },
      );
    }
    const ai = seq.get(s.name) ?? null;
    if (w && w.auto_increment !== null && ai !== w.auto_increment) {
      throw new IntegrityError(`table ${s.name}: AUTOINCREMENT counter ${ai} after loading, ${w.auto_increment} in the manifest`, { code: 'verify_mismatch' });
    }
    if (!want || w) out.push({ name: s.name, rows: h.rows, sha256: h.sha256, auto_increment: ai, verified: Boolean(w) });
  }
  const fk = db.pragma('foreign_key_check') as unknown[];
  if (fk.length) throw new IntegrityError(`the backup violates foreign keys (${fk.length} rows reference missing ones): nothing was changed`, { code: 'orphans_in_backup' });
  const ok = db.pragma('quick_check', { simple: true });
  if (ok !== 'ok') throw new IntegrityError(`the restored database fails SQLite's quick_check (${String(ok)})`, { code: 'verify_mismatch' });
  return out;
}

function fsyncFile(p: string): void {
  const fd = openSync(p, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `live` with `replacement` (a closed database file without -wal) atomically; the
 * previous file is kept as `keepAs` (hard link; a copy where links are not possible).
 */
export async function swapSqliteFile(live: string, replacement: string, keepAs: string): Promise<void> {
  if (!existsSync(live)) {
    renameSync(replacement, live);
    fsyncDir(path.dirname(live));
    return;
  }
  // The restored file gets the live file's permissions (a 0600 database holds password hashes).
  chmodSync(replacement, statSync(live).mode & 0o7777);
  const db = await openSqlite(live);
  try {
    db.pragma('busy_timeout = 3000');
    let mode: string;
    try {
      mode = String(db.pragma('journal_mode = DELETE', { simple: true }));
    } catch (err) {
      // SQLITE_BUSY: another connection (an idle one too, in WAL mode) keeps it from leaving WAL.
      if (!/^SQLITE_BUSY|^SQLITE_LOCKED/.test(String((err as { code?: string }).code))) throw err;
      throw new Conflict(`${live} is open in another process (database is locked): stop the application, then restore; nothing was swapped`, { code: 'database_in_use', cause: err });
    }
    if (mode.toLowerCase() === 'wal') {
      throw new Conflict(`${live} is open in another process (it cannot leave WAL mode): stop the application, then restore; nothing was swapped`, { code: 'database_in_use' });
    }
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      throw new Conflict(`${live} is locked by another process: stop the application, then restore`, { code: 'database_in_use', cause: err });
    }
    try {
      linkSync(live, keepAs);
    } catch {
      copyFileSync(live, keepAs);
    }
    renameSync(replacement, live);
    fsyncDir(path.dirname(live));
    db.exec('ROLLBACK');
  } finally {
    db.close();
  }
  // Nothing may be replayed onto the new file: no -wal/-journal of the old one survives.
  for (const s of SIDE_FILES) removeQuietly(live + s);
}

/** Row counts of every table of a database file. */
async function countTables(file: string): Promise<TableCounts> {
  const db = await openSqlite(file, { readonly: true });
  try {
    const out: TableCounts = new Map();
    for (const t of describeSqliteTables(db)) out.set(t.name, Number((db.prepare(`SELECT COUNT(*) AS n FROM ${sqliteIdent(t.name)}`).get() as { n: number }).n));
    return out;
  } finally {
    db.close();
  }
}

/** Why a kept file cannot be put back (empty: it can): unreadable, damaged, or holding no table. */
async function undoFileProblems(file: string): Promise<string[]> {
  try {
    const db = await openSqlite(file, { readonly: true });
    try {
      const ok = String(db.pragma('quick_check', { simple: true }));
      if (ok !== 'ok') return [`it fails quick_check (${ok})`];
      return describeSqliteTables(db).length ? [] : ['it holds no table'];
    } finally {
      db.close();
    }
  } catch (err) {
    return [`it is not a readable database (${(err as Error).message})`];
  }
}

/** Every kept file of `live`, newest first, with why it could not be put back. */
export async function undoCandidatesSqlite(live: string): Promise<UndoCandidate[]> {
  const out: UndoCandidate[] = [];
  for (const f of undoFiles(live).reverse()) out.push({ name: path.basename(f), problems: await undoFileProblems(f) });
  return out;
}

function undoFiles(live: string): string[] {
  const dir = path.dirname(live);
  const base = path.basename(live);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.${UNDO_PREFIX}`) && !SIDE_FILES.some((s) => f.endsWith(s)))
    .sort()
    .map((f) => path.join(dir, f));
}

export async function restoreSqlite(o: SqliteRestoreOptions): Promise<RestoreReport> {
  const live = o.target.filename;
  const staging = `${live}.${STAGING_PREFIX}${stamp()}`;
  let swapped = false;
  let finished = false;
  o.hooks.onAbort?.(async () => {
    if (!finished && !swapped) removeWithSideFiles(staging);
  });
  try {
    o.hooks.onStep?.(`loading into ${path.basename(staging)}`);
    const partial = o.manifest?.scope === 'tables' && existsSync(live);
    let db = await buildSqlite(staging, o.file, o.manifest, o.hooks, partial ? live : undefined);
    let tables: LoadedTable[];
    let migrations: string[];
    try {
      o.hooks.onStep?.('verifying the restored copy');
      tables = await verifySqlite(db, o.manifest);
      migrations = sqliteMigrations(db);
    } finally {
      db.close();
    }
    const migrationsApplied = await o.migrateUp(migrations, staging);
    if (migrationsApplied.length > 0) {
      db = await openSqlite(staging);
      db.pragma('journal_mode = DELETE');
      db.close();
    }
    // What the swap puts live: the verified file as it is now (a partial backup's staging file
    // also holds the live tables it does not replace).
    const counted = await countTables(staging);
    expectedStaging(o.manifest, tables, partial ? new Map([...counted].filter(([t]) => o.manifest!.tables.some((m) => m.name === t))) : counted, migrationsApplied);
    const expected = counted;
    const liveTables = existsSync(live) ? await liveTableNames(live) : [];
    const movedAside = partial ? [] : liveTables.filter((t) => !tables.some((x) => x.name === t));
    if (o.dryRun) {
      removeWithSideFiles(staging);
      finished = true;
      return { staging: path.basename(staging), undo: null, tables, method: 'sql statements', migrations, migrationsApplied, swapped: false, postSwapCheck: 'dry run: nothing swapped', movedAside };
    }
    fsyncFile(staging);
    const ino = statSync(staging).ino;
    await pauseAt('restore:swap');
    // The second line of defence after the restore lock: the staging file must still be the
    // verified one, holding what was verified.
    if (!existsSync(staging) || statSync(staging).ino !== ino) {
      throw new IntegrityError(`the staging file ${path.basename(staging)} was removed or replaced after it was verified: nothing was swapped, the live database is as it was`, {
        code: 'staging_changed',
      });
    }
    assertUnchanged(expected, await countTables(staging), `the staging file ${path.basename(staging)}`);
    const undo = `${live}.${UNDO_PREFIX}${stamp()}`;
    o.hooks.onStep?.('swapping the restored file in (rename)');
    await swapSqliteFile(live, staging, undo);
    swapped = true;
    await pauseAt('restore:swapped');
    if (statSync(live).ino !== ino && process.platform !== 'win32') {
      throw new IntegrityError(`${live} is not the verified file after the swap`, { code: 'post_swap_mismatch' });
    }
    for (const f of undoFiles(live)) if (f !== undo) removeWithSideFiles(f);
    finished = true;
    return {
      staging: path.basename(staging),
      undo: existsSync(undo) ? path.basename(undo) : null,
      tables,
      method: 'sql statements',
      migrations,
      migrationsApplied,
      swapped: true,
      postSwapCheck: 'the live file is the verified file (same inode)',
      movedAside,
    };
  } catch (err) {
    if (!swapped) removeWithSideFiles(staging);
    finished = true;
    throw err;
  }
}

async function liveTableNames(file: string): Promise<string[]> {
  const db = await openSqlite(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
}

/** The newest kept file that can be put back, or null (exit 6 when every one is damaged or empty). */
export async function findUndoSqlite(live: string): Promise<string | null> {
  const name = pickUndo(await undoCandidatesSqlite(live));
  return name === null ? null : path.join(path.dirname(live), name);
}

export async function undoSqlite(target: SqliteTarget, checkMigrations: (m: string[]) => void, hooks: RestoreHooks): Promise<UndoReport> {
  const live = target.filename;
  const from = await findUndoSqlite(live);
  if (!from) throw new NotFound(`nothing to undo: no previous copy of ${target.display} is kept (no ${path.basename(live)}.${UNDO_PREFIX}… file)`);
  const db = await openSqlite(from, { readonly: true });
  let tables: string[];
  try {
    checkMigrations(sqliteMigrations(db));
    tables = describeSqliteTables(db).map((t) => t.name);
  } finally {
    db.close();
  }
  const keptAs = `${live}.${UNDO_PREFIX}${stamp()}`;
  hooks.onStep?.('swapping the previous file back (rename)');
  await swapSqliteFile(live, from, keptAs);
  return { from: path.basename(from), keptAs: path.basename(keptAs), tables };
}

export { sqliteIdent };
