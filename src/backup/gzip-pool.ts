/**
 * Parallel gzip: each chunk of SQL text is compressed into its own gzip member by zlib on libuv's
 * thread pool (no extra JavaScript isolates: flat, small memory), and members are written in
 * order. Concatenated members are one valid gzip file (RFC 1952 §2.2; `gunzip` and Node's zlib read
 * them as one stream), and a member boundary is where a reader can start decompressing: the
 * manifest records the byte range of every table's data so a restore can load tables in parallel.
 *
 * Memory stays flat: at most `maxInFlight` chunks are being compressed or waiting to be written;
 * the producer waits (`drained()`) when that many are pending.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';

export interface Section {
  /** Offset of the section's first byte in the compressed file. */
  offset: number;
  /** Compressed length (0 for an empty section). */
  length: number;
}

/** Compressions running at once: every core, within libuv's default pool of 4 threads. */
export function defaultWorkers(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, n));
}

export class GzipWriter {
  private readonly fd: number;
  private readonly concurrency: number;
  private readonly fileHash: Hash = createHash('sha256');
  private nextId = 0;
  private nextWrite = 0;
  private readonly finished = new Map<number, Buffer>();
  private readonly tags = new Map<number, string>();
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private failure: Error | undefined;
  private closed = false;
  /** Input buffers whose compression is done, reused for later chunks (no allocation churn). */
  private readonly pool: Buffer[] = [];
  readonly sections = new Map<string, Section>();
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    path: string,
    private readonly options: { workers?: number; level?: number; maxInFlight?: number; mode?: number } = {},
  ) {
    this.fd = openSync(path, 'wx', options.mode ?? 0o600);
    this.concurrency = options.workers ?? defaultWorkers();
  }

  get maxInFlight(): number {
    return this.options.maxInFlight ?? this.concurrency + 1;
  }

  /** True when the producer should wait for `drained()` before pushing more. */
  get full(): boolean {
    return this.inFlight >= this.maxInFlight;
  }

  /** A buffer of at least `size` bytes (a returned input when one is big enough). */
  acquire(size: number): Buffer {
    for (let i = this.pool.length - 1; i >= 0; i--) {
      if (this.pool[i]!.length >= size) return this.pool.splice(i, 1)[0]!;
    }
    return Buffer.allocUnsafeSlow(Math.max(size, 1 << 20));
  }

  /** Queues the filled part of a builder and empties it. */
  pushFrom(chunk: ChunkBuilder, tag: string): void {
    if (chunk.len === 0) return;
    const buf = this.acquire(chunk.len);
    chunk.buf.copy(buf, 0, 0, chunk.len);
    const n = chunk.len;
    chunk.len = 0;
    this.pushExact(buf, n, tag, true);
  }

  /** Queues a chunk (do not modify `buf` until the writer is finished). */
  push(buf: Buffer, tag: string): void {
    this.pushExact(buf, buf.length, tag, false);
  }

  private pushExact(buf: Buffer, n: number, tag: string, reusable: boolean): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('gzip writer already closed');
    if (n === 0) return;
    const id = this.nextId++;
    this.tags.set(id, tag);
    this.inFlight++;
    this.bytesIn += n;
    zlib.gzip(buf.subarray(0, n), { level: this.options.level ?? 1, memLevel: 8, chunkSize: 1 << 17 }, (err, out) => {
      if (reusable && this.pool.length < this.maxInFlight + 1) this.pool.push(buf);
      this.onDone(id, err, out);
    });
  }

  /** Resolves when there is room in the queue again (or at once). */
  drained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.full) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push(() => (this.failure ? reject(this.failure) : resolve())));
  }

  private onDone(id: number, err: Error | null, out: Buffer): void {
    if (err) {
      this.inFlight--;
      return this.fail(new Error(`compression failed: ${err.message}`));
    }
    this.finished.set(id, out);
    try {
      while (this.finished.has(this.nextWrite)) {
        const buf = this.finished.get(this.nextWrite)!;
        this.finished.delete(this.nextWrite);
        const tag = this.tags.get(this.nextWrite)!;
        this.tags.delete(this.nextWrite);
        const s = this.sections.get(tag);
        if (s) s.length += buf.length;
        else this.sections.set(tag, { offset: this.bytesOut, length: buf.length });
        if (!this.closed) writeAll(this.fd, buf);
        this.fileHash.update(buf);
        this.bytesOut += buf.length;
        this.nextWrite++;
        this.inFlight--;
      }
    } catch (e) {
      return this.fail(e as Error);
    }
    this.wake();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  /** Waits for every chunk, fsyncs and closes the file. Returns size and SHA-256 of the file. */
  async finish(): Promise<{ size: number; sha256: string }> {
    while (this.inFlight > 0 && !this.failure) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
    fsyncSync(this.fd);
    await this.destroy();
    return { size: this.bytesOut, sha256: this.fileHash.digest('hex') };
  }

  /** Closes the file (idempotent; on failure pending compressions finish and are dropped). */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * Builds SQL text into large Buffers without intermediate strings: the MySQL rows arrive as
 * bytes and are copied straight in. `take()` hands the filled buffer over (for `GzipWriter.push`).
 */
export class ChunkBuilder {
  buf: Buffer;
  len = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  bytes(b: Buffer | Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  text(s: string): void {
    const max = s.length * 3;
    this.ensure(max);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.len++] = c;
  }

  /** Returns a copy of the content that owns its memory, and empties the builder. */
  take(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    return out;
  }
}
