/**
 * Backup files on disk: names, the 0700 folder, 0600 files, temp → fsync → rename publishing,
 * finding a backup by name, `latest` or path, and listing a folder.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { InvalidInput, NotFound, Unavailable } from '../domain/errors.js';
import { DEFAULT_BACKUP_DIR, TEMP_MARKER, pidAlive } from '../db/leftovers.js';
import { manifestPathOf, readManifest, type Manifest } from './manifest.js';
import type { DbTarget } from '../db/config.js';

export { DEFAULT_BACKUP_DIR };
export const BACKUP_PREFIX = 'billettigue_backup_';
export const SAFETY_PREFIX = 'safety_backup_';

/** UTC timestamp usable in a file name on every OS: 2026-11-25T08-30-00-000Z. */
export function fileTimestamp(d = new Date()): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

export function defaultBackupName(prefix = BACKUP_PREFIX, d = new Date()): string {
  return `${prefix}${fileTimestamp(d)}`;
}

/** `--name NAME`: a plain file name (no folders), `.sql.gz` added when missing. */
export function backupFileName(name: string): string {
  const n = name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/.test(n)) {
    throw new InvalidInput(`--name "${name}" is not allowed: use letters, digits, . _ - (no folders; at most 150 characters)`);
  }
  return n.endsWith('.sql.gz') ? n : `${n}.sql.gz`;
}

/** Creates the backup folder 0700 (and tightens an existing one we own to 0700). */
export function ensureBackupDir(dir: string): string {
  const abs = path.resolve(dir);
  // Not recursive when the parent exists: a recursive mkdir reports EROFS as ENOENT.
  if (!existsSync(abs)) mkdirSync(abs, { recursive: !existsSync(path.dirname(abs)), mode: 0o700 });
  else if (!statSync(abs).isDirectory()) throw new InvalidInput(`--dir ${dir} exists and is not a folder`);
  if (process.platform !== 'win32') {
    try {
      chmodSync(abs, 0o700);
    } catch {
      /* not ours: leave it */
    }
  }
  return abs;
}

export function tempPathFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}${TEMP_MARKER}${process.pid}-${randomBytes(3).toString('hex')}`);
}

/**
 * Writes a small file's content into a temp file (0600) beside `finalPath` and fsyncs it; returns
 * the temp path, to be renamed by the caller. A failed write (a full disk) removes the temp file.
 */
export function writeTempFile(finalPath: string, content: string): string {
  const tmp = tempPathFor(finalPath);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const buf = Buffer.from(content, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    removeQuietly(tmp);
    throw err;
  }
  closeSync(fd);
  return tmp;
}

/** Writes a small file atomically: temp (0600) → fsync → rename. */
export function writeFileAtomic(finalPath: string, content: string): void {
  const tmp = writeTempFile(finalPath, content);
  try {
    renameSync(tmp, finalPath);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  fsyncDir(path.dirname(finalPath));
}

/**
 * A file system error while writing in `dir` (a full disk, a read-only mount, a folder we may not
 * write in) as a one-line typed error, exit 5 (the backup folder is unusable, as a database can
 * be unreachable); anything else unchanged. `done` says what is true now.
 */
export function translateFsError(err: unknown, dir: string, done = 'nothing was published (temp files removed)'): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new Unavailable(`no space left on the device of ${dir}: ${done}; free some space or use another --dir`, { code: 'no_space', cause: err });
  }
  if (code === 'EROFS') {
    return new Unavailable(`${dir} is on a read-only file system: ${done}; use another --dir`, { code: 'read_only', cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new Unavailable(`not allowed to write in ${dir} (${code}): ${done}; fix the folder's permissions or use another --dir`, { code: 'permission_denied', cause: err });
  }
  return err;
}

/** Makes a rename durable (no-op where folders cannot be opened, e.g. Windows). */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

export function removeQuietly(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    /* gone already */
  }
}

/**
 * What interrupted backups left in `dir` (full paths): temp files whose process is gone, and
 * manifests whose data file never appeared (a backup killed between publishing its manifest and
 * its data file, a minute ago or more: the data file is the backup's commit point).
 */
export function strayTempFiles(dir: string): string[] {
  const abs = path.resolve(dir);
  if (!existsSync(abs)) return [];
  const names = readdirSync(abs);
  const temps = names
    .filter((f) => f.startsWith('.') && f.includes(TEMP_MARKER))
    .filter((f) => {
      const pid = Number(new RegExp(`${TEMP_MARKER.replace('.', '\\.')}(\\d+)-`).exec(f)?.[1]);
      return !(pid > 0 && pid !== process.pid && pidAlive(pid));
    });
  const orphans = names.filter((f) => {
    if (f.startsWith('.') || !/\.sql(\.gz)?\.json$/.test(f) || names.includes(f.slice(0, -5))) return false;
    return Date.now() - statSync(path.join(abs, f)).mtimeMs > 60_000;
  });
  return [...temps, ...orphans].map((f) => path.join(abs, f));
}

export interface BackupEntry {
  name: string;
  file: string;
  size: number;
  /** The backup's time: the manifest's finish time, else the file's modification time. */
  date: Date;
  manifest: Manifest | null;
  /** Why the manifest could not be used (edited, invalid), when it exists but is bad. */
  manifestError?: string;
  safety: boolean;
}

function isBackupFile(f: string): boolean {
  return !f.startsWith('.') && (f.endsWith('.sql.gz') || f.endsWith('.sql'));
}

/** Every backup file of a folder, newest first (files without a usable manifest included). */
export function listBackups(dir: string): BackupEntry[] {
  const abs = path.resolve(dir);
  if (!existsSync(abs)) return [];
  const out: BackupEntry[] = [];
  for (const f of readdirSync(abs)) {
    if (!isBackupFile(f)) continue;
    const file = path.join(abs, f);
    const st = statSync(file);
    if (!st.isFile()) continue;
    let manifest: Manifest | null = null;
    let manifestError: string | undefined;
    try {
      manifest = readManifest(file);
    } catch (err) {
      manifestError = (err as Error).message;
    }
    const date = manifest ? new Date(manifest.finished_at) : st.mtime;
    out.push({ name: f, file, size: st.size, date, manifest, manifestError, safety: f.startsWith(SAFETY_PREFIX) });
  }
  return out.sort((a, b) => b.date.getTime() - a.date.getTime() || b.name.localeCompare(a.name));
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function sameHost(a: string, b: string): boolean {
  const split = (h: string) => {
    const m = /^(.*):(\d+)$/.exec(h);
    return m ? { host: m[1]!, port: m[2]! } : { host: h, port: '' };
  };
  const x = split(a);
  const y = split(b);
  if (x.port && y.port && x.port !== y.port) return false;
  return x.host === y.host || (LOOPBACK.has(x.host) && LOOPBACK.has(y.host));
}

/**
 * Whether a backup was taken from `target`: same engine, same database name and (servers) the
 * same host and port, loopback names counted as one; SQLite: the same file (the manifest shows an
 * absolute path for a file outside the folder the backup was taken from, else a relative one, for
 * which the file name is compared). Unknown (null) for a file without a usable manifest.
 */
export function backupOf(entry: Pick<BackupEntry, 'manifest'>, target: DbTarget): boolean | null {
  const m = entry.manifest;
  if (!m) return null;
  if (m.kind !== target.kind) return false;
  if (target.kind === 'sqlite') {
    const shown = m.database.display.replace(/^sqlite:/, '');
    if (path.isAbsolute(shown)) return path.resolve(shown) === path.resolve(target.filename);
    return m.database.name === path.basename(target.filename);
  }
  const t = target as { host: string; port: number; database: string };
  return m.database.name === t.database && (m.database.host === null || sameHost(m.database.host, `${t.host}:${t.port}`));
}

/** The person-readable name of the database a backup came from. */
export function sourceOf(entry: Pick<BackupEntry, 'manifest'>): string {
  return entry.manifest ? entry.manifest.database.display : 'unknown (no manifest)';
}

/**
 * `<name|latest|path>` → the backup file. A path (has a separator or exists as given) is taken
 * as is; a name is looked up in the folder with or without `.sql.gz`; `latest` is the newest
 * backup of the folder that has a manifest, safety backups excluded (a restore of "latest"
 * must not pick the copy a previous restore took of what it replaced), and, given a target, taken
 * from that target's database (never another database's latest).
 */
export function resolveBackup(ref: string, dir: string, target?: DbTarget): string {
  const r = ref.trim();
  if (r === '') throw new InvalidInput('name the backup: a name from `billettigue backup list`, `latest`, or a path');
  if (r === 'latest') {
    const all = listBackups(dir).filter((e) => e.manifest && !e.safety);
    const entries = target ? all.filter((e) => backupOf(e, target)) : all;
    if (entries.length === 0) {
      const others = all.length - entries.length;
      throw new NotFound(
        target
          ? `no backup of ${target.display} in ${path.resolve(dir)}${others ? ` (${others} of other databases: \`billettigue backup list --all\`; restore one by name)` : ''}: take one with \`billettigue backup\``
          : `no backup with a manifest in ${path.resolve(dir)}: take one with \`billettigue backup\` or pass a path`,
      );
    }
    return entries[0]!.file;
  }
  const candidates = r.includes('/') || r.includes('\\') || path.isAbsolute(r)
    ? [path.resolve(r)]
    : [path.resolve(r), path.resolve(dir, r), path.resolve(dir, `${r}.sql.gz`), path.resolve(dir, `${r}.gz`)];
  for (const c of candidates) {
    if (existsSync(c) && statSync(c).isFile()) return c.endsWith('.json') && existsSync(c.slice(0, -5)) ? c.slice(0, -5) : c;
  }
  throw new NotFound(`backup "${r}" not found (looked in ${path.resolve(dir)}): see \`billettigue backup list --dir ${dir}\``);
}

export { manifestPathOf };
