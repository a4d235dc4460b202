/**
 * Ctrl-C: exit 130, one line on stderr, nothing written. Also: `| head -1` closing the pipe early.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { BIN } from './helpers/cli.js';

/**
 * Resolves once the process has been asleep, using no CPU, for `quietMs` in a row (Linux:
 * /proc/PID/stat): after start-up, blocked on its stdin. A fixed delay raced Node's own start-up
 * on a loaded 2-core CI machine (the signal met Node's default handler before the launcher ran:
 * killed, no exit code). A process starved of CPU is runnable (R), not asleep, so it never passes.
 */
async function untilBlocked(pid: number, quietMs = 400, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let quietSince = 0;
  let lastCpu = -1;
  for (;;) {
    // Fields after the command name in parentheses: state is the 1st, utime/stime the 12th/13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = Number(fields[11]) + Number(fields[12]);
    const now = Date.now();
    if (fields[0] === 'S' && cpu === lastCpu) {
      if (quietSince === 0) quietSince = now;
      if (now - quietSince >= quietMs) return;
    } else quietSince = 0;
    lastCpu = cpu;
    if (now > until) throw new Error(`process ${pid} never settled (state ${fields[0]})`);
    await new Promise((r) => setTimeout(r, 50));
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
    // stdin stays open: the command is blocked reading the password when the signal comes.
    await untilBlocked(child.pid!);
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
