/**
 * `backup verify`: is this file exactly the backup its manifest describes?
 *   manifest     present, well-formed, matching its own checksum (an edited manifest fails)
 *   file         size and SHA-256 as recorded (a flipped byte or a truncated file fails)
 *   gzip         every member decompresses with a correct CRC and length
 *   trailer      the per-table rows/SHA-256 written inside the file equal the manifest's
 *   --deep       loaded into a scratch database (MySQL: bt_verify_<db>_<stamp> on the target
 *                server; SQLite: a temp file) whose every table's rows, SHA-256 and
 *                AUTO_INCREMENT are compared with the manifest, then dropped
 * Any failure is an IntegrityError (exit 6). The outcome is recorded in the manifest's
 * `verification` field (outside its checksum) for `backup list`.
 */
import path from 'node:path';
import type { DbKind, DbTarget } from '../db/config.js';
import { IntegrityError } from '../domain/errors.js';
import { writeFileAtomic } from './files.js';
import { manifestPathOf, readManifest, serializeManifest, type Manifest } from './manifest.js';
import { fileSha256, gzipIntegrity, parseTrailer, readHead } from './reader.js';

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyReport {
  file: string;
  manifest: string;
  ok: boolean;
  deep: boolean;
  kind: DbKind;
  rows: number;
  tables: Array<{ name: string; rows: number; sha256: string; verified: boolean }>;
  checks: VerifyCheck[];
}

/** Manifest + size + SHA-256: what restore checks before touching anything (cheap). */
export async function checkFileAgainstManifest(file: string): Promise<{ manifest: Manifest; checks: VerifyCheck[] }> {
  const checks: VerifyCheck[] = [];
  const manifest = readManifest(file);
  if (!manifest) {
    const head = await readHead(file).catch(() => '');
    const ours = head.startsWith('-- billettigue backup');
    throw new IntegrityError(
      `${manifestPathOf(file)} is missing: ${ours ? 'this billettigue backup' : 'the file'} cannot be verified (an interrupted backup publishes the file before its manifest)`,
      { code: 'manifest_missing' },
    );
  }
  checks.push({ name: 'manifest', ok: true, detail: `format ${manifest.format_version}, self-checksum ok` });
  const { size, sha256 } = await fileSha256(file);
  if (size !== manifest.file.size) {
    throw new IntegrityError(`${file} is ${size} bytes, the manifest says ${manifest.file.size}: the file is truncated or was changed`, { code: 'size_mismatch' });
  }
  if (sha256 !== manifest.file.sha256) {
    throw new IntegrityError(`${file} does not match the SHA-256 of its manifest: the file is damaged or was changed`, { code: 'sha256_mismatch' });
  }
  checks.push({ name: 'file sha-256', ok: true, detail: `${sha256.slice(0, 16)}… (${size} bytes)` });
  return { manifest, checks };
}

export interface VerifyOptions {
  deep: boolean;
  /** Where --deep loads a MySQL backup (a MySQL server). */
  target?: DbTarget;
  onStep?: (step: string) => void;
  /** Do not write the outcome into the manifest. */
  noRecord?: boolean;
}

export async function verifyBackup(file: string, o: VerifyOptions): Promise<VerifyReport> {
  let manifest: Manifest | null = null;
  try {
    o.onStep?.('checking the manifest and the file SHA-256');
    const first = await checkFileAgainstManifest(file);
    manifest = first.manifest;
    const checks = first.checks;

    o.onStep?.('decompressing (gzip integrity)');
    const { bytes, tail } = await gzipIntegrity(file);
    checks.push({ name: 'gzip', ok: true, detail: `${bytes} bytes of SQL, every member intact` });
    const trailer = parseTrailer(tail);
    const want = manifest.tables.map((t) => [t.name, t.rows, t.sha256]);
    if (!trailer || JSON.stringify(trailer) !== JSON.stringify(want)) {
      throw new IntegrityError(`the tables listed inside ${path.basename(file)} do not match its manifest (row counts or SHA-256 differ)`, { code: 'trailer_mismatch' });
    }
    checks.push({ name: 'manifest tables', ok: true, detail: `${manifest.tables.length} tables, rows and SHA-256 as written in the file` });

    let verifiedTables = new Set<string>();
    if (o.deep) {
      verifiedTables = await deepVerify(file, manifest, o);
      checks.push({ name: 'deep', ok: true, detail: `loaded into a scratch database: every table's rows and SHA-256 match` });
    }
    if (!o.noRecord) record(file, manifest, { ok: true, deep: o.deep, message: 'ok' });
    return report(file, manifest, true, o.deep, checks, verifiedTables);
  } catch (err) {
    if (manifest && !o.noRecord && err instanceof IntegrityError) record(file, manifest, { ok: false, deep: o.deep, message: err.message });
    throw err;
  }
}

function report(file: string, m: Manifest, ok: boolean, deep: boolean, checks: VerifyCheck[], verified: Set<string>): VerifyReport {
  return {
    file,
    manifest: manifestPathOf(file),
    ok,
    deep,
    kind: m.kind,
    rows: m.tables.reduce((n, t) => n + t.rows, 0),
    tables: m.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256, verified: verified.has(t.name) })),
    checks,
  };
}

function record(file: string, m: Manifest, v: { ok: boolean; deep: boolean; message: string }): void {
  try {
    writeFileAtomic(manifestPathOf(file), serializeManifest({ ...m, verification: { at: new Date().toISOString(), ...v } }));
  } catch {
    /* a read-only backup folder: the verification result is still printed */
  }
}

async function deepVerify(file: string, m: Manifest, o: VerifyOptions): Promise<Set<string>> {
  const { backupEngine } = await import('./engines/index.js');
  return (await backupEngine(m.kind)).deepVerify(file, m, o.target, o.onStep);
}
