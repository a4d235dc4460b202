/**
 * What every fault case asserts, whatever the fault: the documented exit code, exactly one
 * `error:` line on stderr and no stack trace, no secret printed, and the database either exactly
 * as before or exactly the new state (every table's rows, counters and definitions: `dbState`).
 * Shared by the files of test/faults/.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { Knex } from 'knex';
import { expect } from 'vitest';
import { dbState, notRestoreAudit, reconnect, type DbState } from '../../backup-fixtures.js';
import type { TestDb } from '../../helpers/db.js';

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The exit code, one `error:` line matching `message`, no stack, no bcrypt hash or password. */
export function expectFailure(r: Outcome, code: number, message?: RegExp, secrets: string[] = []): void {
  expect(r.code, r.stderr).toBe(code);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  expect(errors, r.stderr).toHaveLength(1);
  if (message) expect(errors[0]).toMatch(message);
  expect(r.stderr, 'a stack trace was printed').not.toMatch(/^\s+at .+[(:]\d+/m);
  for (const out of [r.stdout, r.stderr]) {
    expect(out).not.toMatch(/\$2[aby]\$\d\d\$/);
    for (const s of secrets) expect(out).not.toContain(s);
  }
}

/**
 * Everything in the live database, read on a fresh connection (a SQLite restore replaces the
 * file under an open one). The audit rows restores add, and the audit counter they move, are left
 * out: a restore's result is the backup plus that row.
 */
export async function liveState(db: TestDb): Promise<DbState> {
  return withLive(db, async (k) => {
    const s = await dbState(k, notRestoreAudit);
    delete s.autoIncrement.audit_log;
    return s;
  });
}

/** Files of `dir` that a writer left half-done: `.NAME.tmp-PID-RAND` temp files. */
export function tempFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.includes('.tmp-')) : [];
}

/** Runs `fn` on a connection to the live database: a fresh one where a restore replaces files. */
export async function withLive<T>(db: TestDb, fn: (k: Knex) => Promise<T>): Promise<T> {
  if (db.kind === 'mysql') return fn(db.knex);
  const k = await reconnect(db);
  try {
    return await fn(k);
  } finally {
    await k.destroy();
  }
}

/** Changes the data (rows deleted, updated, added) so that a restore has something to replace. */
export async function breakData(db: TestDb): Promise<void> {
  await withLive(db, async (k) => {
    await k('paiements').where('id', '>', 10).delete();
    await k('comptes').update({ status: 'deleted', updated_at: '2030-01-01 00:00:00' });
    await k('audit_log').insert({ actor: 'vandal', action: 'oops', created_at: '2030-01-01 00:00:00' });
  });
}
