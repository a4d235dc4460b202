/**
 * The manifest written beside every backup (`<file>.json`): what the backup holds and how to
 * check it. It never contains a password (only the target's display form and host).
 * `manifest_sha256` is the SHA-256 of the manifest itself (without that field and without
 * `verification`, which `backup verify` updates), so an edited manifest is detected.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ENGINE_KINDS, type DbKind } from '../db/config.js';
import { IntegrityError } from '../domain/errors.js';

export const MANIFEST_FORMAT = 'billettigue-backup';
export const MANIFEST_VERSION = 1;

export interface ManifestTable {
  name: string;
  rows: number;
  /** SHA-256 of the table's canonical rows in primary-key order (src/backup/canonical.ts). */
  sha256: string;
  columns: string[];
  primary_key: string[];
  /** Next AUTO_INCREMENT value (MySQL) / sqlite_sequence value (SQLite), null when none. */
  auto_increment: number | null;
  /** Byte range of the table's INSERT statements in the compressed file (whole gzip members). */
  data_offset: number;
  data_length: number;
  /** How a restore loads it: LOAD DATA from the INSERT text, or the statements themselves. */
  load: 'load-data' | 'statements';
}

export interface Verification {
  at: string;
  deep: boolean;
  ok: boolean;
  message: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  format_version: number;
  tool: { name: 'billettigue'; version: string };
  kind: DbKind;
  server_version: string;
  database: { name: string; host: string | null; display: string };
  /** "full": every base table; "tables": only those chosen with --tables. */
  scope: 'full' | 'tables';
  snapshot: string;
  migrations: string[];
  tables: ManifestTable[];
  file: { name: string; size: number; sha256: string; compression: 'gzip'; header_length: number; footer_offset: number };
  started_at: string;
  finished_at: string;
  duration_ms: number;
  manifest_sha256: string;
  verification?: Verification;
}

export function manifestPathOf(file: string): string {
  return `${file}.json`;
}

/** The self-checksum: every field except `manifest_sha256` and `verification`, in order. */
export function manifestDigest(m: Omit<Manifest, 'manifest_sha256'> & { manifest_sha256?: string }): string {
  const { manifest_sha256: _s, verification: _v, ...rest } = m;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

export function sealManifest(m: Omit<Manifest, 'manifest_sha256'>): Manifest {
  return { ...m, manifest_sha256: manifestDigest(m) };
}

export function serializeManifest(m: Manifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

/** Reads a manifest, or null when there is none. Throws IntegrityError when it is unusable. */
export function readManifest(file: string): Manifest | null {
  const p = manifestPathOf(file);
  if (!existsSync(p)) return null;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
  } catch (err) {
    throw new IntegrityError(`manifest ${p} is not valid JSON (${(err as Error).message}): it was damaged or edited`, { code: 'manifest_invalid' });
  }
  checkManifestShape(m, p);
  if (manifestDigest(m) !== m.manifest_sha256) {
    throw new IntegrityError(`manifest ${p} does not match its own checksum: it was edited or damaged after the backup`, { code: 'manifest_edited' });
  }
  return m;
}

function checkManifestShape(m: Manifest, p: string): void {
  const bad = (what: string) =>
    new IntegrityError(`manifest ${p} is not a billettigue manifest (${what})`, { code: 'manifest_invalid' });
  if (!m || typeof m !== 'object') throw bad('not an object');
  if (m.format !== MANIFEST_FORMAT) throw bad('unknown format');
  if (typeof m.format_version !== 'number' || m.format_version > MANIFEST_VERSION) {
    throw new IntegrityError(`manifest ${p} has format version ${String(m.format_version)}, newer than this build knows (${MANIFEST_VERSION}): upgrade billettigue`, { code: 'manifest_newer' });
  }
  if (!ENGINE_KINDS.includes(m.kind)) throw bad('unknown database kind');
  if (!Array.isArray(m.tables) || !Array.isArray(m.migrations)) throw bad('tables or migrations missing');
  if (!m.file || typeof m.file.sha256 !== 'string' || typeof m.file.size !== 'number') throw bad('file section missing');
  if (typeof m.manifest_sha256 !== 'string') throw bad('manifest_sha256 missing');
  for (const t of m.tables) {
    if (typeof t.name !== 'string' || typeof t.rows !== 'number' || typeof t.sha256 !== 'string') throw bad(`table entry ${String(t?.name)}`);
  }
}

export function totalRows(m: Manifest): number {
  return m.tables.reduce((n, t) => n + t.rows, 0);
}
