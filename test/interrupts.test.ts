/**
 * Interrupts tell the truth (issue 16): Ctrl-C in `seed demo --fresh` says exactly what the
 * tables hold now (the counts in the message are the database's) and how to finish; in `backup`
 * it says no backup was written and leaves no temp file.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, tableCounts, type TestDb } from './helpers/db.js';
import { run } from './helpers/cli.js';
import { start } from './backup-fixtures.js';
import { DEMO_TABLES } from '../src/domain/demo/generator.js';

describe('interrupts (SQLite)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb('sqlite');
    const r = await run(['seed', 'demo', '--scale', 'tiny'], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => db?.drop());

  it('Ctrl-C in seed demo --fresh: the message lists what was kept (as the database says) and the command that finishes', async () => {
    // cwd: the safety backup of --fresh goes to ./backups.
    const p = start(['seed', 'demo', '--scale', 'small', '--fresh', '--yes'], { url: db.url, cwd: db.dir });
    await p.waitFor(/^loader: /m);
    p.child.kill('SIGINT');
    const exit = await p.exited;
    expect(exit.code, p.stderr()).toBe(130);
    const message = p.stderr().split('\n').find((l) => l.startsWith('error: interrupted'))!;
    expect(message).toBeDefined();
    expect(message).not.toMatch(/the open transaction was rolled back$/);
    expect(message).toMatch(/the data tables were emptied \([\d,]+ rows removed, saved in \S+\/backups\/safety_backup_\S+\.sql\.gz\)/);
    expect(message).toMatch(/, or put the old rows back with `billettigue restore \S+safety_backup_\S+`$/);
    expect(message).toContain('finish with `billettigue seed demo --scale small --fresh --yes`');
    const counts = await tableCounts(db.knex, DEMO_TABLES);
    for (const [table, n] of Object.entries(counts)) {
      if (n > 0) expect(message, table).toContain(`${table} ${n.toLocaleString('en')}`);
      else expect(message, table).toMatch(new RegExp(`empty: [a-z_, ]*\\b${table}\\b`));
    }
    // And the command it names does finish the job.
    const again = await run(['seed', 'demo', '--scale', 'tiny', '--fresh', '--yes', '--no-safety-backup'], { url: db.url });
    expect(again.code, again.stderr).toBe(0);
  }, 120_000);

  it('Ctrl-C in backup: no backup, no temp file, and the message says so', async () => {
    const dir = path.join(db.dir, 'ctrl-c');
    const p = start(['backup', '--dir', dir], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'backup:data' } });
    await p.waitFor(/billettigue-paused backup:data/);
    p.child.kill('SIGINT');
    const exit = await p.exited;
    expect(exit.code).toBe(130);
    expect(p.stderr()).toMatch(/^error: interrupted: no backup was written \(the unfinished temp file was removed\)/m);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
