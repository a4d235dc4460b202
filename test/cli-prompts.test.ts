/**
 * Prompts on a terminal (issue 16), typed through a pseudo-terminal: the hidden password prompt
 * asks again after a typo (up to three times); a confirmation prompt names the target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from './helpers/db.js';
import { spawnTty } from './helpers/tty.js';
import { insertAccount } from './helpers/bookings.js';
import { stripAnsi } from '../src/cli/ui.js';

/** Runs a command on a terminal and answers each prompt (matched after the previous answer). */
async function converse(args: string[], url: string, script: Array<[RegExp, string]>): Promise<{ code: number | null; output: string }> {
  const child = spawnTty(args, { url, cols: 100, env: { BILLETTIGUE_BCRYPT_COST: '4', NO_COLOR: '1' } });
  let output = '';
  let from = 0;
  let step = 0;
  const onData = () => {
    if (step >= script.length) return;
    const [prompt, answer] = script[step]!;
    const rest = stripAnsi(output.slice(from));
    if (!prompt.test(rest)) return;
    step++;
    from = output.length;
    setTimeout(() => child.stdin.write(answer), 100);
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    onData();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  return { code, output: stripAnsi(output).replace(/\r/g, '') };
}

describe('prompts on a terminal (SQLite)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb('sqlite');
    await insertAccount(db.knex, 'ana@example.fr');
  });
  afterAll(async () => db?.drop());

  it('a password typo is asked again (too short, then the two differ), the third try counts', async () => {
    const r = await converse(['accounts', 'reset-password', 'ana@example.fr'], db.url, [
      [/new password:/, 'short\r'],
      [/try again \(2 attempts left\)[\s\S]*new password:/, 'longenough12\r'],
      [/repeat the password:/, 'different12\r'],
      [/try again \(1 attempt left\)[\s\S]*new password:/, 'longenough12\r'],
      [/repeat the password:/, 'longenough12\r'],
    ]);
    expect(r.output).toMatch(/the password is too short/);
    expect(r.output).toMatch(/the two passwords differ: try again/);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/target: sqlite:/);
  });

  it('three typos: exit 2, nothing changed', async () => {
    const before = (await db.knex('comptes').where({ email: 'ana@example.fr' }).first('password_hash')) as { password_hash: string };
    const r = await converse(['accounts', 'reset-password', 'ana@example.fr'], db.url, [
      [/new password:/, 'short\r'],
      [/try again \(2 attempts left\)[\s\S]*new password:/, 'short\r'],
      [/try again \(1 attempt left\)[\s\S]*new password:/, 'short\r'],
    ]);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toMatch(/error: the password is too short.*\(3 attempts\): nothing was changed/);
    expect(await db.knex('comptes').where({ email: 'ana@example.fr' }).first('password_hash')).toEqual(before);
  });

  it('the typed-name confirmation names the target (SQLite too) and refuses another name', async () => {
    const r = await converse(['db', 'reset', '--dir', db.dir], db.url, [[/type the database name \(test\.sqlite3\) to confirm:/, 'nope\r']]);
    expect(r.output).toMatch(/target: sqlite:.*test\.sqlite3/);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/error: the name typed does not match: nothing was changed/);
  });
});
