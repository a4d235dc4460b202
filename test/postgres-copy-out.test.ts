/**
 * copy-out.ts: COPY … TO STDOUT read straight off the socket (the backup's and the restore
 * read-back's reader), against the real server: the same bytes as node-postgres' own copy
 * stream whatever the socket's chunk boundaries cut (headers included), an error in the middle
 * of the copy, a consumer that fails, and the session usable afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresServerUrl, testedKinds } from './helpers/db.js';
import { parseDatabaseUrl, type PostgresTarget } from '../src/db/config.js';
import { closeQuietly, openPg, type PgSession } from '../src/backup/engines/postgres/conn.js';
import { copyOut } from '../src/backup/engines/postgres/copy-out.js';
import { copyStreams } from '../src/db/engines/postgres/copy.js';

const pg = testedKinds().includes('postgres');

/** Rows of every size from 1 byte to ~70 kB (past a socket read), escapes and multibyte text included. */
const ROWS_SQL = `COPY (SELECT x, repeat(chr(233) || E'\\t\\\\', (x * 7919) % 40) || repeat('y', CASE WHEN x % 997 = 0 THEN 70000 ELSE x % 300 END), NULLIF(x % 5, 0) FROM generate_series(1, 30000) x ORDER BY x) TO STDOUT`;

describe.runIf(pg)('COPY TO read off the socket', () => {
  let conn: PgSession;
  beforeAll(async () => {
    conn = await openPg(parseDatabaseUrl(`${postgresServerUrl()}/postgres`, '--db') as PostgresTarget);
  });
  afterAll(async () => closeQuietly(conn));

  async function viaStreams(sql: string): Promise<Buffer> {
    const { to } = await copyStreams();
    const parts: Buffer[] = [];
    for await (const c of conn.query(to(sql)) as AsyncIterable<Buffer>) parts.push(Buffer.from(c));
    return Buffer.concat(parts);
  }

  it('gives exactly the COPY text node-postgres gives, and the row count, with a slow consumer', async () => {
    const want = await viaStreams(ROWS_SQL);
    const parts: Buffer[] = [];
    let calls = 0;
    const rows = await copyOut(conn, ROWS_SQL, async (buf, start, end) => {
      parts.push(Buffer.from(buf.subarray(start, end)));
      // Back-pressure: the socket is not read while the consumer waits.
      if (++calls % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    });
    expect(rows).toBe(30000);
    expect(calls).toBeGreaterThan(10);
    expect(Buffer.concat(parts).equals(want)).toBe(true);
    // The session goes on as usual.
    expect((await conn.query('SELECT 41 + 1 AS n')).rows).toEqual([{ n: 42 }]);
  });

  it("a server error in the middle of the copy rejects with the server's error; the session stays usable", async () => {
    let got = 0;
    const err = await copyOut(conn, 'COPY (SELECT 1 / (5000 - x) FROM generate_series(1, 20000) x) TO STDOUT', (_b, s, e) => {
      got += e - s;
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '22012' });
    expect(got).toBeGreaterThan(0);
    expect((await conn.query('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });

  it('a consumer that throws rejects the copy with its error and closes the session (never half-read)', async () => {
    const other = await openPg(parseDatabaseUrl(`${postgresServerUrl()}/postgres`, '--db') as PostgresTarget);
    try {
      const boom = new Error('disk full');
      await expect(
        copyOut(other, ROWS_SQL, () => {
          throw boom;
        }),
      ).rejects.toBe(boom);
      await expect(other.query('SELECT 1')).rejects.toThrow();
    } finally {
      await closeQuietly(other);
    }
  });
});
