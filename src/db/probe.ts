/**
 * Which protocol a server speaks, asked in one short TCP exchange, without logging in:
 * - a MySQL/MariaDB server speaks first: its greeting (protocol 10, or an error packet) arrives as
 *   soon as the connection is accepted;
 * - a PostgreSQL server waits for the client. We send a CancelRequest for no backend (pid 0): the
 *   server answers nothing and closes the connection, and logs nothing at its default log level
 *   (an SSLRequest would make an SSL-enabled server log the aborted handshake).
 * So: greeting bytes → MySQL; closed without a byte → PostgreSQL; anything else, or silence until
 * the deadline → unknown. Used to infer the client when DB_CLIENT is absent, and to turn a
 * connection to a server of the other protocol into one clear error within ~1 s instead of a
 * driver timeout.
 */
import net from 'node:net';
import type { ServerKind } from './config.js';

export type ProbeAnswer = ServerKind | 'unknown' | 'unreachable';

/** How long a probe may take in all: well under the ~2 s a wrong guess may cost. */
export const PROBE_TIMEOUT_MS = 1200;

const CANCEL_REQUEST = (() => {
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(80877102, 4); // CancelRequest code
  return b; // pid 0, key 0: matches no backend
})();

/** A MySQL packet header (3-byte length, sequence 0) followed by protocol 10 or an error packet. */
function looksLikeMysqlGreeting(b: Buffer): boolean {
  return b.length >= 5 && b[3] === 0 && (b[4] === 0x0a || b[4] === 0xff) && b.readUIntLE(0, 3) === b.length - 4;
}

export function probeProtocol(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host, port });
    const done = (answer: ProbeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => socket.write(CANCEL_REQUEST));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= received.readUIntLE(0, 3) + 4) {
        done(looksLikeMysqlGreeting(received.subarray(0, received.readUIntLE(0, 3) + 4)) ? 'mysql' : 'unknown');
      }
    });
    socket.on('end', () => done(received.length === 0 ? 'postgres' : 'unknown'));
    socket.on('close', () => done(received.length === 0 ? 'postgres' : 'unknown'));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (received.length === 0 && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT'].includes(err.code ?? '')) done('unreachable');
      else done('unknown');
    });
  });
}
