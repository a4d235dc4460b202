/**
 * `COPY … TO STDOUT` read straight off the session's socket, for the backup and the read-back
 * hashes of a restore.
 *
 * pg-copy-streams (what `COPY … FROM STDIN` still uses) copies every CopyData message out of the
 * socket's chunks into a list, then concatenates the list into a new buffer per chunk, and hands
 * it on through a Readable: on a 1M-row backup that was about a fifth of the process's CPU, on a
 * two-core machine that also runs the server and gzip. Here the socket's own chunks are reused:
 * the 5-byte message headers are squeezed out in place (the payloads moved left over them, one
 * memmove per row), and the consumer gets one contiguous range of COPY text per socket read.
 * Back-pressure is the socket's: nothing more is read while the consumer's promise is pending.
 *
 * Protocol (frontend/backend v3): after the Query, the server sends CopyOutResponse ('H'), then
 * CopyData ('d') messages — one row each for the text format — then CopyDone ('c'), then
 * CommandComplete ('C', "COPY n") and ReadyForQuery ('Z'). An ErrorResponse ('E') may come at
 * any point. As pg-copy-streams does, the socket is taken from node-postgres' parser for the
 * copy and given back (with every unread byte) at CopyDone or at an error, so node-postgres
 * handles CommandComplete, ErrorResponse and ReadyForQuery itself and calls this query's
 * handlers; notices and parameter changes in between are skipped.
 */
import type { PgSession } from './conn.js';

const CopyData = 0x64; // 'd'
const CopyDone = 0x63; // 'c'
const ErrorResponse = 0x45; // 'E'

/** Receives COPY text: `buf[start, end)` is only valid until the returned promise (if any) settles. */
export type CopyOutSink = (buf: Buffer, start: number, end: number) => void | Promise<void>;

interface PgConnection {
  /** The session's socket (a net.Socket), in the part of its interface used here. */
  stream: {
    read(): Buffer | null;
    listeners(event: 'data'): Array<(b: Buffer) => void>;
    on(event: 'data', fn: (b: Buffer) => void): unknown;
    on(event: 'readable' | 'end' | 'close', fn: () => void): unknown;
    removeListener(event: string, fn: (...args: never[]) => void): unknown;
    pause(): unknown;
    resume(): unknown;
    destroy(): void;
    readonly destroyed: boolean;
    readonly readableEnded: boolean;
  };
  query(text: string): void;
}

/** Runs `sql` (a COPY … TO STDOUT) on `conn`; resolves with the row count the server reports. */
export function copyOut(conn: PgSession, sql: string, sink: CopyOutSink): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let rowCount = -1;
    let failed: Error | undefined;
    const query = {
      submit(connection: PgConnection) {
        pump(connection, sql, sink).catch((err: Error) => {
          // The consumer failed (the backup's writer): the session is unusable mid-copy.
          failed ??= err;
          connection.stream.destroy();
          reject(err);
        });
      },
      handleCommandComplete(msg: { text?: string }) {
        const m = /^COPY (\d+)/.exec(msg?.text ?? '');
        if (m) rowCount = Number(m[1]);
      },
      handleError(err: Error) {
        failed ??= err;
        reject(err);
      },
      handleReadyForQuery() {
        if (!failed) resolve(rowCount);
      },
    };
    (conn as unknown as { query(q: typeof query): void }).query(query);
  });
}

async function pump(connection: PgConnection, sql: string, sink: CopyOutSink): Promise<void> {
  const stream = connection.stream;
  const listeners = stream.listeners('data');
  if (listeners.length !== 1) throw new Error(`COPY TO: the session's socket has ${listeners.length} data listeners, expected node-postgres' one`);
  const parser = listeners[0]!;
  stream.removeListener('data', parser);
  stream.pause();
  let wake: (() => void) | null = null;
  const onReadable = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onEnd = () => onReadable();
  stream.on('readable', onReadable);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  const detach = (rest: Buffer | null) => {
    stream.removeListener('readable', onReadable);
    stream.removeListener('end', onEnd);
    stream.removeListener('close', onEnd);
    stream.on('data', parser);
    if (rest && rest.length) parser(rest);
    process.nextTick(() => stream.resume());
  };
  connection.query(sql);

  // Parser state across socket chunks.
  const head = Buffer.alloc(5);
  let headLen = 0; // bytes of the current message header read so far
  let code = 0;
  let left = 0; // payload bytes of the current message still to come
  for (;;) {
    const chunk = stream.read();
    if (chunk === null) {
      if (stream.destroyed || stream.readableEnded) {
        // The socket's own error (ECONNRESET…) when there is one, else node-postgres' words for a
        // closed connection: either way a lost connection (exit 5), not an unexpected failure.
        const errored = (stream as { errored?: Error | null }).errored;
        throw errored ?? new Error('Connection terminated unexpectedly during COPY TO');
      }
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    let i = 0;
    let w = 0; // end of the COPY text squeezed to the chunk's start
    const n = chunk.length;
    let stop = -1; // where node-postgres takes over (CopyDone's or an error's first byte)
    while (i < n) {
      if (left === 0 && headLen < 5) {
        if (headLen === 0 && n - i >= 5) {
          code = chunk[i]!;
          if (code === ErrorResponse) {
            stop = i;
            break;
          }
          left = chunk.readUInt32BE(i + 1) - 4;
          i += 5;
        } else {
          // A header cut by the chunk boundary.
          if (headLen === 0 && chunk[i] === ErrorResponse) {
            stop = i;
            break;
          }
          head[headLen++] = chunk[i++]!;
          if (headLen < 5) continue;
          code = head[0]!;
          left = head.readUInt32BE(1) - 4;
        }
        headLen = 0;
        if (code === CopyDone) {
          // Give node-postgres the CopyDone itself (it ignores it) and all that follows.
          stop = i - 5 >= 0 ? i - 5 : -2;
          break;
        }
        continue;
      }
      const take = Math.min(left, n - i);
      if (code === CopyData) {
        if (w !== i) chunk.copyWithin(w, i, i + take);
        w += take;
      }
      i += take;
      left -= take;
      if (left === 0) headLen = 0;
    }
    if (w > 0) {
      const r = sink(chunk, 0, w);
      if (r) await r;
    }
    if (stop === -2) {
      // CopyDone's header was split across chunks: hand node-postgres a rebuilt one.
      detach(Buffer.concat([Buffer.from([CopyDone, 0, 0, 0, 4]), chunk.subarray(i)]));
      return;
    }
    if (stop >= 0) {
      detach(chunk.subarray(stop));
      return;
    }
  }
}
