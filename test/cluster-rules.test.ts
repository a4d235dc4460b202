/**
 * The pure parts of the cluster rules, without a cluster: cutting a table's INSERT text into
 * bounded runs between rows (never inside a quoted value), splitting one INSERT into several, and
 * the conflict retry (patient on a cluster, exit 4 "busy" when the retries run out).
 */
import { describe, expect, it } from 'vitest';
import { rowRuns, splitInsert } from '../src/backup/engines/mysql/load.js';
import { GALERA_RETRY } from '../src/db/engines/mysql/galera.js';
import { SERVER_RETRY } from '../src/db/engines/retry.js';
import { retryOnConflict } from '../src/db/retry.js';
import { createKnex } from '../src/db/connection.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { Conflict } from '../src/domain/errors.js';

const ROWS = [
  "(1,'plain',NULL)",
  "(2,'),(',12.50)",
  "(3,'it\\'s \\\\ ) done',-1)",
  "(4,X'2928',0)",
  "(5,'`)',1)",
  "(6,'line\\nbreak ( )',2)",
];
const STMT = `INSERT INTO \`t\` VALUES ${ROWS.join(',')};\n`;

async function collect(chunks: Iterable<Buffer>, bytes: number): Promise<string[]> {
  const out: string[] = [];
  for await (const run of rowRuns(chunks, bytes)) out.push(Buffer.concat(run).toString());
  return out;
}

/** Every byte as its own chunk: cuts must not depend on where the reads end. */
function bytewise(s: string): Buffer[] {
  return [...Buffer.from(s)].map((b) => Buffer.from([b]));
}

describe('rowRuns: a table INSERT text in runs between rows', () => {
  it('one row per run with a tiny bound, cut only after a row, never inside quotes', async () => {
    for (const chunks of [[Buffer.from(STMT)], bytewise(STMT)]) {
      const runs = await collect(chunks, 1);
      expect(runs).toHaveLength(ROWS.length);
      expect(runs.map((r) => r.slice(r.indexOf('(')))).toEqual(ROWS);
      // Nothing lost: the runs and the tail after the last row make up the text.
      expect(runs.join('') + ';\n').toBe(STMT);
    }
  });

  it('runs of about the bound hold whole rows; a bound above the text gives one run', async () => {
    const runs = await collect([Buffer.from(STMT.repeat(3))], 60);
    expect(runs.length).toBeGreaterThan(3);
    // Each ends with a row (the last one with the statement's end too).
    for (const r of runs) expect(r).toMatch(/\)(;\n)?$/);
    expect(runs.join('')).toBe(STMT.repeat(3));
    expect(await collect([Buffer.from(STMT)], 1 << 20)).toEqual([STMT]);
  });
});

describe('splitInsert: one INSERT as several under a bound', () => {
  it('keeps the column list and cuts between rows', async () => {
    const prefix = 'INSERT INTO `t` (`id`,`v`,`n`) VALUES ';
    const stmt = Buffer.from(prefix + ROWS.join(','));
    const parts = (await splitInsert(stmt, prefix.length + 20)).map((b) => b.toString());
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.startsWith(prefix + '(')).toBe(true);
    expect(parts.map((p) => p.slice(prefix.length)).join(',')).toBe(ROWS.join(','));
    expect((await splitInsert(stmt, 1 << 20)).map(String)).toEqual([stmt.toString()]);
  });
});

describe('conflict retries', () => {
  const deadlock = Object.assign(new Error('Deadlock found'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' });

  it('a cluster waits up to about 20 s in all, never more than 1 s at a time', () => {
    const most = Array.from({ length: GALERA_RETRY.retries }, (_, i) => Math.min(1000, 15 * 1.5 ** i));
    expect(most.reduce((a, b) => a + b, 0)).toBeGreaterThan(15_000);
    for (let n = 1; n <= GALERA_RETRY.retries; n++) expect(GALERA_RETRY.delayMs(n)).toBeLessThanOrEqual(1000);
    expect(GALERA_RETRY.busyMessage(31)).toMatch(/^the cluster is busy: .*31 attempts.*retry$/);
    expect(SERVER_RETRY.busyMessage(6)).toMatch(/^the database is busy: /);
  });

  it('retries a lost conflict from the start, then says busy (exit 4); other errors pass at once', async () => {
    const knex = await createKnex(parseDatabaseUrl('mysql://root@127.0.0.1:1/none', '--db'));
    try {
      let calls = 0;
      const flaky = () => (++calls < 3 ? Promise.reject(deadlock) : Promise.resolve('done'));
      expect(await retryOnConflict(knex, flaky, {})).toBe('done');
      expect(calls).toBe(3);

      calls = 0;
      const always = () => (++calls, Promise.reject(deadlock));
      const busy = await retryOnConflict(knex, always, {}).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(Conflict);
      expect(busy).toMatchObject({ code: 'busy', exitCode: 4, message: expect.stringMatching(/busy.*6 attempts/) });
      expect(calls).toBe(SERVER_RETRY.retries + 1);

      calls = 0;
      await retryOnConflict(knex, always, { BILLETTIGUE_CONFLICT_RETRIES: '0' }).catch(() => undefined);
      expect(calls).toBe(1);
      await expect(retryOnConflict(knex, always, { BILLETTIGUE_CONFLICT_RETRIES: 'many' })).rejects.toThrow(/BILLETTIGUE_CONFLICT_RETRIES=many is invalid/);

      const other = new Error('boom');
      calls = 0;
      await expect(retryOnConflict(knex, () => (++calls, Promise.reject(other)), {})).rejects.toBe(other);
      expect(calls).toBe(1);
    } finally {
      await knex.destroy();
    }
  });
});
