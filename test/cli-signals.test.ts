/**
 * Ctrl-C: exit 130, one line on stderr, nothing written. Also: `| head -1` closing the pipe early.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { BIN } from './helpers/cli.js';

/**
 * Resolves once the process catches SIGINT (Linux: bit 2 of SigCgt in /proc/PID/status), i.e. once
 * the launcher runs. A fixed delay raced Node's own start-up on a loaded 2-core CI machine: the
 * signal then met Node's default action (killed, no exit code) before any code of ours ran.
 */
async function untilCatchingSigint(pid: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (caught && (BigInt(`0x${caught}`) & 2n) !== 0n) return;
    if (Date.now() > until) throw new Error(`process ${pid} never installed a SIGINT handler`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(testedKinds())('signals on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
  });
  afterAll(async () => db?.drop());

  it('SIGINT while the command waits: exit 130, nothing changed', async () => {
    const before = await snapshot(db.knex, ['comptes', 'administrateurs', 'audit_log']);
    const child = spawn(process.execPath, [BIN, 'db', 'seed', '--admin-email', 'sig@example.fr', '--password-stdin'], {
      env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // stdin stays open: the command is blocked reading the password when the signal comes (or
    // still starting, which must end the same way).
    await untilCatchingSigint(child.pid!);
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stderr.trim()).toMatch(/^error: interrupted/);
    expect(await snapshot(db.knex, ['comptes', 'administrateurs', 'audit_log'])).toEqual(before);
  });

  it('a closed pipe is not an error', async () => {
    const child = spawn(`"${process.execPath}" "${BIN}" db status | head -1`, {
      shell: true,
      env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|at /);
  });
});
