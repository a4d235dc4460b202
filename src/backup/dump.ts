/**
 * `billettigue backup`: one consistent snapshot → gzip (parallel members) → temp file → fsync;
 * the manifest the same way; then the manifest is renamed into place, and the data file last. A
 * failure or Ctrl-C removes the temp files (and a manifest already renamed): nothing that looks
 * complete is ever left behind, and a data file never appears without its manifest.
 */
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { DbTarget } from '../db/config.js';
import { Conflict, Unavailable } from '../domain/errors.js';
import { driverText } from '../db/engines/driver-error.js';
import { toolVersion } from '../version.js';
import { backupFileName, defaultBackupName, ensureBackupDir, fsyncDir, removeQuietly, tempPathFor, translateFsError, writeTempFile } from './files.js';
import { GzipWriter } from './gzip-pool.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, manifestPathOf, sealManifest, serializeManifest, type Manifest } from './manifest.js';
import type { DumpHooks, DumpResultBase } from './dump-types.js';

export interface BackupOptions extends DumpHooks {
  dir: string;
  /** File name (without folder); default billettigue_backup_<UTC timestamp>. */
  name?: string;
  /** Prefix of the default name (safety backups use `safety_backup_`). */
  prefix?: string;
  workers?: number;
  /** Registers a cleanup to run if the process is interrupted (Ctrl-C). */
  onAbort?: (cleanup: () => Promise<void>) => void;
}

export interface BackupResult {
  file: string;
  manifestFile: string;
  manifest: Manifest;
}

export async function takeBackup(target: DbTarget, options: BackupOptions): Promise<BackupResult> {
  try {
    return await writeBackup(target, options);
  } catch (err) {
    // Writing in the folder failed (full, read-only, forbidden): one line that says so, exit 5.
    throw translateFsError(err, path.resolve(options.dir));
  }
}

async function writeBackup(target: DbTarget, options: BackupOptions): Promise<BackupResult> {
  const dir = ensureBackupDir(options.dir);
  const started = new Date();
  const fileName = options.name ? backupFileName(options.name) : `${defaultBackupName(options.prefix, started)}.sql.gz`;
  const file = path.join(dir, fileName);
  const manifestFile = manifestPathOf(file);
  if (existsSync(file) || existsSync(manifestFile)) {
    throw new Conflict(`${file} already exists: choose another --name (backups are never overwritten)`, { code: 'backup_exists' });
  }
  const tmp = tempPathFor(file);
  const writer = new GzipWriter(tmp, { workers: options.workers });
  let conn: { destroy(): void } | undefined;
  let manifestTmp: string | undefined;
  let manifestPublished = false;
  let published = false;
  const cleanup = async () => {
    if (published) return;
    conn?.destroy();
    await writer.destroy();
    removeQuietly(tmp);
    if (manifestTmp) removeQuietly(manifestTmp);
    if (manifestPublished) removeQuietly(manifestFile);
  };
  options.onAbort?.(cleanup);
  try {
    const hooks: DumpHooks = { ...options, onConnection: (c) => (conn = c) };
    const { backupEngine } = await import('./engines/index.js');
    const result: DumpResultBase = await (await backupEngine(target.kind)).dump(target, writer, hooks);
    const { size, sha256 } = await writer.finish();
    const finished = new Date();
    const header = writer.sections.get('header');
    const footer = writer.sections.get('footer');
    const manifest = sealManifest({
      format: MANIFEST_FORMAT,
      format_version: MANIFEST_VERSION,
      tool: { name: 'billettigue', version: toolVersion() },
      kind: result.kind,
      server_version: result.serverVersion,
      database: result.database,
      scope: options.tables ? 'tables' : 'full',
      snapshot: result.snapshot,
      migrations: result.migrations,
      tables: result.tables.map((t) => {
        const s = writer.sections.get(`data:${t.name}`);
        return { ...t, data_offset: s?.offset ?? 0, data_length: s?.length ?? 0 };
      }),
      file: {
        name: fileName,
        size,
        sha256,
        compression: 'gzip',
        header_length: header?.length ?? 0,
        footer_offset: footer?.offset ?? size,
      },
      started_at: started.toISOString(),
      finished_at: finished.toISOString(),
      duration_ms: finished.getTime() - started.getTime(),
    });
    // Publish: both files complete and fsynced under temp names first; then the manifest, then
    // the data file. The data file's name is the commit point: a backup exists exactly when its
    // data file does, and then its manifest is already there. (A crash between the two renames
    // leaves only a manifest, which lists nothing and `backup clean` removes.)
    manifestTmp = writeTempFile(manifestFile, serializeManifest(manifest));
    renameSync(manifestTmp, manifestFile);
    manifestTmp = undefined;
    manifestPublished = true;
    renameSync(tmp, file);
    published = true;
    fsyncDir(dir);
    return { file, manifestFile, manifest };
  } catch (err) {
    await cleanup();
    const { isConnectionLost } = await import('../db/errors.js');
    if (isConnectionLost(err)) {
      throw new Unavailable(`the connection to the database was lost during the backup (${driverText(err).replace(/^.* - /, '')}): nothing was published; run the backup again`, {
        code: 'connection_lost',
        cause: err,
      });
    }
    throw err;
  }
}
