/**
 * Reading backup files: whole files or byte ranges made of whole gzip members (a table's data),
 * decompressed as streams; plain `.sql` files are read as they are. Compressed bytes read are
 * reported for progress.
 */
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import path from 'node:path';
import zlib from 'node:zlib';
import { IntegrityError } from '../domain/errors.js';

export function isGzipFile(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const n = readSync(fd, b, 0, 2, 0);
    return n === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

export interface RangeOptions {
  start?: number;
  /** Number of compressed bytes (undefined: to the end). */
  length?: number;
  onBytes?: (n: number) => void;
  highWaterMark?: number;
}

/** Decompressed content of a file or of a member-aligned range of it. */
export function openDecompressed(file: string, o: RangeOptions = {}): Readable {
  const gz = isGzipFile(file);
  const raw = createReadStream(file, {
    start: o.start ?? 0,
    end: o.length === undefined ? undefined : (o.start ?? 0) + o.length - 1,
    highWaterMark: o.highWaterMark ?? 1 << 20,
  });
  if (o.onBytes) raw.on('data', (c: Buffer | string) => o.onBytes!(c.length));
  if (!gz) return raw;
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 18 });
  // zlib's own errors ("incorrect data check", "invalid block type", "unexpected end of file")
  // mean the file is damaged (its manifest may well match: re-sealed, or damaged before it was
  // hashed): every reader of the stream (a restore's load, a deep verify) gets an integrity error
  // (exit 6) instead. zlib reports them through destroy(err).
  const destroy = gunzip.destroy.bind(gunzip);
  gunzip.destroy = (err?: Error) => destroy(err && /^Z_/.test(String((err as NodeJS.ErrnoException).code)) ? damaged(file, err) : err);
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

function damaged(file: string, err: Error): IntegrityError {
  return new IntegrityError(`${path.basename(file)} is damaged: its compressed data does not decompress (${err.message}), although its manifest matches; nothing was changed. Use another backup`, {
    code: 'gzip_corrupt',
    cause: err,
  });
}

/** Reads a small section completely (the header of our backups). */
export async function readSection(file: string, start: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const c of openDecompressed(file, { start, length })) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** SHA-256 and size of a file (streamed). */
export async function fileSha256(file: string): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}

/**
 * Decompresses the whole file to check gzip integrity (CRC and length of every member; a
 * truncated file fails) and returns the last `tailBytes` bytes of the content (the trailer).
 */
export async function gzipIntegrity(file: string, tailBytes = 1 << 16): Promise<{ bytes: number; tail: string }> {
  let bytes = 0;
  let tail: Buffer = Buffer.alloc(0);
  try {
    for await (const c of openDecompressed(file)) {
      const b = c as Buffer;
      bytes += b.length;
      tail = b.length >= tailBytes ? b.subarray(b.length - tailBytes) : Buffer.concat([tail, b]).subarray(-tailBytes);
      tail = Buffer.from(tail);
    }
  } catch (err) {
    throw new IntegrityError(`${file} is not a valid gzip file (${(err as Error).message}): it is truncated or damaged`, { code: 'gzip_corrupt', cause: err });
  }
  return { bytes, tail: tail.toString('utf8') };
}

/** The `-- billettigue-trailer [...]` line of a backup's content (null when absent). */
export function parseTrailer(tail: string): Array<[string, number, string]> | null {
  const m = /-- billettigue-trailer (\[.*\])\s*\n/.exec(tail);
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as Array<[string, number, string]>;
  } catch {
    return null;
  }
}

/** First bytes of the (decompressed) content: to tell our backups from stock dumps. */
export async function readHead(file: string, bytes = 4096): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  const s = openDecompressed(file, { highWaterMark: 1 << 16 });
  try {
    for await (const c of s) {
      parts.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= bytes) break;
    }
  } catch {
    /* a damaged file: the head so far is enough to classify it */
  } finally {
    s.destroy();
  }
  return Buffer.concat(parts).toString('utf8', 0, Math.min(n, bytes));
}
