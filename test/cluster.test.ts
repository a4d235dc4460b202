/**
 * billettigue on a three-node MariaDB Galera cluster (test/cluster/galera.sh: 127.0.0.1:3311-3313),
 * the issue's tests: bookings spread over the nodes, causal backups, one restore lock for the whole
 * cluster, leftovers of a running restore left alone, no DDL beside our own readers, bounded write
 * sets, the swap waiting for open transactions, doctor on a node cut off from the cluster.
 * The cluster is started here unless it is up already, and stopped afterwards if this file started
 * it; two test runs on one machine take turns (holdCluster). Skipped, saying why, only when galera
 * is not installed (or BT_TEST_DB=sqlite asks for no MariaDB at all).
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Sequelize } from 'sequelize';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCluster, galeraMissing, holdCluster, nodeServer, stopCluster } from '../bench/support/cluster.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { rawRows } from '../src/db/dialect.js';
import { dbTag } from '../src/db/leftovers.js';
import { SEED_TABLES } from '../src/db/schema.js';
import { bookingInvariantViolations } from '../src/domain/reservations.js';
import { createTrajet } from '../src/domain/trajets.js';
import { start, type Running } from './backup-fixtures.js';
import { hoursFromNow, insertCarrier } from './helpers/bookings.js';
import { run, runJson } from './helpers/cli.js';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import type { PlatformApp } from './platform/app.js';
import { platformDb } from './platform/db.js';
import { snapshotTables } from './platform/snapshot.js';

const missing = galeraMissing() ?? (testedKinds().includes('mysql') ? null : 'BT_TEST_DB=sqlite: no MariaDB wanted');
if (missing) console.warn(`cluster tests skipped: ${missing}`);

/** node i's URL for a database. */
const url = (i: number, database: string) => `${nodeServer(i)}/${database}`;
const nameOf = (db: TestDb) => (db.target.kind === 'mysql' ? db.target.database : '');

async function onNode<T>(i: number, database: string, fn: (knex: Knex) => Promise<T>): Promise<T> {
  const knex = await connect(parseDatabaseUrl(url(i, database), '--db'));
  try {
    return await fn(knex);
  } finally {
    await knex.destroy();
  }
}

/** A plain connection to node i (no billettigue session settings: no causal reads). */
function rawNode(i: number, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port: 3311 + i, user: 'root', database, dateStrings: true });
}

async function helpersOn(i: number, database: string): Promise<string[]> {
  const c = await rawNode(i);
  try {
    // Causal: a DROP DATABASE through another node has returned there before this node applied it.
    await c.query('SET SESSION wsrep_sync_wait = 1');
    const [r] = (await c.query('SELECT schema_name AS n FROM information_schema.schemata')) as unknown as [Array<{ n: string }>];
    return r.map((x) => x.n).filter((n) => /^bt_(restore|undo|verify)_/.test(n) && n.includes(`_${dbTag(database)}_`)).sort();
  } finally {
    await c.end();
  }
}

async function dropHelpersOn(database: string): Promise<void> {
  const c = await rawNode(0);
  try {
    for (const n of await helpersOn(0, database)) await c.query(`DROP DATABASE IF EXISTS \`${n}\``);
  } finally {
    await c.end();
  }
}

/** Row counts of every product table of a database on node i. */
async function counts(i: number, database: string): Promise<Record<string, number>> {
  return onNode(i, database, async (knex) => {
    const tables = await rawRows<{ n: string }>(knex, "SELECT table_name AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name");
    const out: Record<string, number> = {};
    for (const { n } of tables) out[n] = Number((await rawRows<{ c: number }>(knex, `SELECT COUNT(*) AS c FROM \`${n}\``))[0]!.c);
    return out;
  });
}

function errorOf(r: { stderr: string }): { code: string; message: string } {
  // The JSON error line, not the last line: the test's pause marker (`billettigue-paused …`) of a
  // retried attempt can land after it on stderr.
  return (JSON.parse(r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as { error: { code: string; message: string } }).error;
}

async function waitSynced(i: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await rawNode(i).catch(() => null);
    if (c) {
      const [r] = (await c.query("SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_size')")) as unknown as [Array<{ Variable_name: string; Value: string }>];
      await c.end();
      const v = Object.fromEntries(r.map((x) => [x.Variable_name, x.Value]));
      if (v.wsrep_local_state_comment === 'Synced' && v.wsrep_cluster_size === '3') return;
    }
    if (Date.now() > deadline) throw new Error(`node ${i + 1} is not back in the cluster after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(Boolean(missing))('on a three-node Galera cluster', () => {
  let release: (() => void) | undefined;
  let started = false;
  beforeAll(async () => {
    release = await holdCluster();
    started = ensureCluster();
  }, 900_000);
  afterAll(() => {
    try {
      if (started) stopCluster();
    } finally {
      release?.();
    }
  }, 180_000);

  describe('bookings spread over the nodes', () => {
    let db: TestDb;
    let carrier: number;
    beforeAll(async () => {
      db = await createTestDb('mysql', { server: nodeServer(0) });
      carrier = (await insertCarrier(db.knex)).id;
    });
    afterAll(async () => db?.drop());

    const newTrajet = async (seats: number) =>
      (await db.knex.transaction((trx) => createTrajet(trx, { transporteur: carrier, from: 'Paris', to: 'Lyon', departure: hoursFromNow(24), priceCents: 1500, seats }))).id;
    const book = (trajet: number, node: number, env: Record<string, string>) =>
      start(['--json', 'reservations', 'create', '--trajet', String(trajet), '--first-name', 'Ana', '--last-name', 'Test', '--phone', '+33612345678'], {
        url: url(node, nameOf(db)),
        env,
        timeoutMs: 170_000,
      });

    it('40 bookings for 10 seats round-robin over three nodes, 3 rounds started at one instant: exactly 10 exit 0, 30 exit 4, never 1; every node agrees', { timeout: 400_000 }, async () => {
      const spawnRound = async (round: number) => {
        const trajet = await newTrajet(10);
        const resume = path.join(db.dir, `go-${round}`);
        return { trajet, resume, buyers: Array.from({ length: 40 }, (_, i) => book(trajet, i % 3, { BILLETTIGUE_TEST_PAUSE_AT: 'mutate', BILLETTIGUE_TEST_RESUME_FILE: resume })) };
      };
      const spawned: Running[] = [];
      let next = spawnRound(0);
      try {
        for (let round = 0; round < 3; round++) {
          const { trajet, resume, buyers } = await next;
          spawned.push(...buyers);
          // Every buyer connected and waiting: they all start their transaction at once.
          await Promise.all(buyers.map((b) => b.waitFor(/billettigue-paused mutate/, 150_000)));
          writeFileSync(resume, '');
          // The next round's buyers start up (and wait at their own barrier) while this round books.
          if (round < 2) next = spawnRound(round + 1);
          const exits = await Promise.all(buyers.map(async (b) => ({ code: (await b.exited).code, stdout: b.stdout(), stderr: b.stderr() })));
          const ok = exits.filter((e) => e.code === 0);
          const refused = exits.filter((e) => e.code === 4);
          expect(exits.filter((e) => e.code !== 0 && e.code !== 4).map((e) => `${e.code}: ${e.stderr}`)).toEqual([]);
          expect(ok.length).toBe(10);
          expect(refused.length).toBe(30);
          for (const r of refused) expect(errorOf(r).code).toBe('not_enough_seats');
          expect(new Set(ok.map((e) => (JSON.parse(e.stdout) as { id: number }).id)).size).toBe(10);
          for (let node = 0; node < 3; node++) {
            await onNode(node, nameOf(db), async (k) => {
              expect(Number(((await k('trajets').where({ id: trajet }).first('available_seats')) as { available_seats: number }).available_seats)).toBe(0);
              expect(Number(((await k('reservations').where({ trajet_id: trajet }).count({ n: '*' }).first()) as { n: number }).n)).toBe(10);
              expect(await bookingInvariantViolations(k)).toEqual([]);
            });
          }
        }
      } finally {
        for (const b of spawned) b.child.kill('SIGKILL');
        await next.then((r) => r.buyers.forEach((b) => b.child.kill('SIGKILL')), () => undefined);
      }
    });

    it('a booking that loses to a write on another node is retried; with no retries left: exit 4 "the cluster is busy", no SQL, nothing written', { timeout: 120_000 }, async () => {
      const trajet = await newTrajet(5);
      const other = await rawNode(1, nameOf(db));
      try {
        for (const retries of ['0', null]) {
          const resume = path.join(db.dir, `commit-${retries}`);
          const env: Record<string, string> = { BILLETTIGUE_TEST_PAUSE_AT: 'mutate:commit', BILLETTIGUE_TEST_RESUME_FILE: resume };
          if (retries !== null) env.BILLETTIGUE_CONFLICT_RETRIES = retries;
          const b = book(trajet, 0, env);
          // Its transaction has taken the seat on node 1 and waits before COMMIT: node 2 writes the same row.
          await b.waitFor(/billettigue-paused mutate:commit/);
          await other.query('UPDATE trajets SET updated_at = updated_at + INTERVAL 1 SECOND WHERE id = ?', [trajet]);
          writeFileSync(resume, '');
          const exit = await b.exited;
          const seats = Number(((await db.knex('trajets').where({ id: trajet }).first('available_seats')) as { available_seats: number }).available_seats);
          const booked = Number(((await db.knex('reservations').where({ trajet_id: trajet }).count({ n: '*' }).first()) as { n: number }).n);
          if (retries === '0') {
            expect(exit.code, b.stderr()).toBe(4);
            const e = errorOf({ stderr: b.stderr() });
            expect(e.code).toBe('busy');
            expect(e.message).toMatch(/^the cluster is busy: .*retry$/);
            expect(b.stderr()).not.toMatch(/update `|insert into|Deadlock found/i);
            expect(b.stdout()).toBe('');
            expect([seats, booked]).toEqual([5, 0]);
          } else {
            expect(exit.code, b.stderr()).toBe(0);
            expect([seats, booked]).toEqual([4, 1]);
          }
        }
      } finally {
        await other.end();
      }
    });
  });

  describe('backups and restores', () => {
    let seeded: TestDb;
    let backupFile: string;
    beforeAll(async () => {
      seeded = await createTestDb('mysql', { server: nodeServer(0) });
    }, 120_000);
    afterAll(async () => {
      await dropHelpersOn(nameOf(seeded)).catch(() => undefined);
      await seeded?.drop();
    });

    it('a backup on node 2 right after a large seed on node 1 holds every row, although node 2 lagged behind', { timeout: 180_000 }, async () => {
      // Node 2 stops applying replicated writes (desynced, so the cluster goes on without it).
      const lag = await rawNode(1);
      let lagging = true;
      const catchUp = async () => {
        if (!lagging) return;
        lagging = false;
        await lag.query('UNLOCK TABLES');
        await lag.query('SET GLOBAL wsrep_desync = OFF');
      };
      try {
        await lag.query('SET GLOBAL wsrep_desync = ON');
        await lag.query('FLUSH TABLES WITH READ LOCK');
        const seed = await run(['seed', 'demo', '--scale', 'small', '--yes'], { url: url(0, nameOf(seeded)), timeoutMs: 150_000 });
        expect(seed.code, seed.stderr).toBe(0);
        const onNode1 = await counts(0, nameOf(seeded));
        expect(onNode1.reservations).toBeGreaterThan(5000);
        const backup = start(['--json', 'backup', '--dir', seeded.dir], { url: url(1, nameOf(seeded)), timeoutMs: 150_000 });
        // Its reads wait for node 2 to apply what node 1 committed; it cannot finish meanwhile.
        const early = await Promise.race([backup.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 2500))]);
        expect(early, backup.stderr()).toBe(false);
        await catchUp();
        expect((await backup.exited).code, backup.stderr()).toBe(0);
        const report = JSON.parse(backup.stdout()) as { file: string; tables: Array<{ name: string; rows: number }> };
        backupFile = report.file;
        expect(Object.fromEntries(report.tables.map((t) => [t.name, t.rows]))).toEqual(onNode1);
      } finally {
        await catchUp();
        await lag.end();
        await waitSynced(1);
      }
    });

    it('loads in bounded write sets: a restore succeeds with wsrep_max_ws_size = 1 MiB though a table holds more', { timeout: 180_000 }, async () => {
      expect(backupFile).toBeTruthy();
      const node1 = await rawNode(0);
      const [[before]] = (await node1.query('SELECT @@GLOBAL.wsrep_max_ws_size AS v')) as unknown as [[{ v: number }]];
      try {
        await node1.query('SET GLOBAL wsrep_max_ws_size = 1048576');
        const r = await run(['--json', 'restore', backupFile, '--yes', '--no-safety-backup', '--dir', seeded.dir], { url: url(0, nameOf(seeded)), timeoutMs: 170_000 });
        expect(r.code, r.stderr).toBe(0);
        expect((JSON.parse(r.stdout) as { swapped: boolean }).swapped).toBe(true);
      } finally {
        await node1.query('SET GLOBAL wsrep_max_ws_size = ?', [before.v]);
        await node1.end();
      }
      const restored = await counts(2, nameOf(seeded));
      const expected = await counts(0, nameOf(seeded));
      expect(restored).toEqual(expected);
      expect(restored.comptes).toBeGreaterThan(5000);
    });
  });

  describe('one restore at a time, cluster-wide', () => {
    let db: TestDb;
    let backupFile: string;
    const restore = (node: number, env: Record<string, string> = {}, extra: string[] = []) =>
      start(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', db.dir, ...extra], { url: url(node, nameOf(db)), env, timeoutMs: 170_000 });
    beforeAll(async () => {
      db = await createTestDb('mysql', { server: nodeServer(0) });
      const seed = await run(['seed', 'demo', '--scale', 'tiny', '--yes'], { url: db.url, timeoutMs: 120_000 });
      expect(seed.code, seed.stderr).toBe(0);
      const b = await runJson<{ file: string }>(['backup', '--dir', db.dir], { url: db.url });
      expect(b.code, b.stderr).toBe(0);
      backupFile = b.data.file;
    }, 180_000);
    afterAll(async () => {
      await dropHelpersOn(nameOf(db)).catch(() => undefined);
      await db?.drop();
    });

    it('two restores at once on node 1 and node 2: one runs, the other exits 4 naming it (pid, host, node)', { timeout: 120_000 }, async () => {
      const resume = path.join(db.dir, 'resume-two');
      const env = { BILLETTIGUE_TEST_PAUSE_AT: 'restore:load', BILLETTIGUE_TEST_RESUME_FILE: resume };
      const both = [restore(0, env), restore(1, env)];
      try {
        const winner = await Promise.any(both.map((p) => p.waitFor(/billettigue-paused restore:load/, 60_000).then(() => p)));
        const loser = both.find((p) => p !== winner)!;
        const lost = await loser.exited;
        expect(lost.code, loser.stderr()).toBe(4);
        expect(loser.stderr()).toMatch(new RegExp(`another restore of .* is running: pid ${winner.child.pid} on \\S+ \\(test-runner\\) through node node${both.indexOf(winner) + 1}, since `));
        writeFileSync(resume, '');
        expect((await winner.exited).code, winner.stderr()).toBe(0);
      } finally {
        writeFileSync(resume, '');
        for (const p of both) p.child.kill('SIGKILL');
      }
    });

    it('a restore paused on node 1 survives --clean-leftovers on node 2 and finishes; doctor on node 3 sees no leftover meanwhile', { timeout: 120_000 }, async () => {
      const resume = path.join(db.dir, 'resume-clean');
      const p = restore(0, { BILLETTIGUE_TEST_PAUSE_AT: 'restore:load', BILLETTIGUE_TEST_RESUME_FILE: resume });
      try {
        await p.waitFor(/billettigue-paused restore:load/);
        const staging = (await helpersOn(1, nameOf(db))).filter((n) => n.startsWith('bt_restore_'));
        expect(staging).toHaveLength(1);
        const clean = await run(['restore', '--clean-leftovers', '--yes', '--dir', db.dir], { url: url(1, nameOf(db)) });
        expect(clean.code, clean.stderr).toBe(4);
        expect(clean.stderr).toContain(`pid ${p.child.pid} on `);
        const doctor = await run(['doctor'], { url: url(2, nameOf(db)), cwd: db.dir });
        expect(doctor.stdout).toMatch(/leftovers\s+none/);
        for (let node = 0; node < 3; node++) expect(await helpersOn(node, nameOf(db))).toEqual(expect.arrayContaining(staging));
        writeFileSync(resume, '');
        expect((await p.exited).code, p.stderr()).toBe(0);
      } finally {
        writeFileSync(resume, '');
      }
      expect(await helpersOn(2, nameOf(db))).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
    });

    it('a deep verify paused on node 1 keeps its scratch database through --clean-leftovers on node 2; killed, its own node cleans it at once', { timeout: 120_000 }, async () => {
      const resume = path.join(db.dir, 'resume-verify');
      const verify = () => start(['backup', 'verify', backupFile, '--deep'], { url: url(0, nameOf(db)), env: { BILLETTIGUE_TEST_PAUSE_AT: 'restore:load', BILLETTIGUE_TEST_RESUME_FILE: resume }, timeoutMs: 110_000 });
      const scratchOn = async (node: number) => (await helpersOn(node, nameOf(db))).filter((n) => n.startsWith('bt_verify_'));
      const v = verify();
      try {
        await v.waitFor(/billettigue-paused restore:load/);
        const scratch = await scratchOn(1);
        expect(scratch).toHaveLength(1);
        const clean = await runJson<{ cleaned: string[] }>(['restore', '--clean-leftovers', '--yes', '--dir', db.dir], { url: url(1, nameOf(db)) });
        expect(clean.code, clean.stderr).toBe(0);
        expect(clean.data.cleaned).toEqual([]);
        for (let node = 0; node < 3; node++) expect(await scratchOn(node)).toEqual(scratch);
        writeFileSync(resume, '');
        expect((await v.exited).code, v.stderr()).toBe(0);
      } finally {
        writeFileSync(resume, '');
      }
      expect(await scratchOn(2)).toEqual([]);
      rmSync(resume);
      const killed = verify();
      await killed.waitFor(/billettigue-paused restore:load/);
      const left = await scratchOn(0);
      killed.child.kill('SIGKILL');
      await killed.exited;
      const clean = await runJson<{ cleaned: string[] }>(['restore', '--clean-leftovers', '--yes', '--dir', db.dir], { url: url(0, nameOf(db)) });
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.data.cleaned).toEqual(left.map((n) => `database ${n}`));
      expect(await scratchOn(1)).toEqual([]);
    });

    it('a killed restore: another node waits for its heartbeat to age; its own node takes the lock over at once and cleans its staging copy', { timeout: 120_000 }, async () => {
      const p = restore(0, { BILLETTIGUE_TEST_PAUSE_AT: 'restore:load' });
      await p.waitFor(/billettigue-paused restore:load/);
      p.child.kill('SIGKILL');
      await p.exited;
      const elsewhere = await run(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', db.dir], { url: url(1, nameOf(db)) });
      expect(elsewhere.code, elsewhere.stderr).toBe(4);
      expect(elsewhere.stderr).toContain(`pid ${p.child.pid} on `);
      const here = await run(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', db.dir], { url: url(0, nameOf(db)) });
      expect(here.code, here.stderr).toBe(0);
      expect(here.stderr).toMatch(new RegExp(`took over the restore lock .* pid ${p.child.pid} .*: its connection to that node is gone`));
      expect(here.stderr).toMatch(/an interrupted restore left: database bt_restore_/);
      expect((await helpersOn(1, nameOf(db))).filter((n) => n.startsWith('bt_restore_'))).toEqual([]);
    });

    it('a lock whose heartbeat stopped longer than BILLETTIGUE_LOCK_TTL ago is taken over from any node; a fresh one is not', { timeout: 60_000 }, async () => {
      const c = await rawNode(2);
      const name = `billettigue_restore:${nameOf(db)}`;
      const fake = (beatSecondsAgo: number) =>
        c.query(
          `REPLACE INTO bt_locks.locks (name, token, purpose, owner_host, owner_pid, owner_user, node, node_id, connection_id, started_at, heartbeat_at)
           VALUES (?, REPEAT('a', 32), 'restore', 'ghost-host', 424242, 'ghost', 'node9', 'ghost-host:3306', 1, UTC_TIMESTAMP(6) - INTERVAL 1 HOUR, UTC_TIMESTAMP(6) - INTERVAL ? SECOND)`,
          [name, beatSecondsAgo],
        );
      try {
        await fake(3);
        const fresh = await run(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', db.dir], { url: url(2, nameOf(db)) });
        expect(fresh.code, fresh.stderr).toBe(4);
        expect(fresh.stderr).toMatch(/is running: pid 424242 on ghost-host \(ghost\) through node node9, since .* last heartbeat \d+ s ago/);
        await fake(600);
        const stale = await run(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', db.dir], { url: url(2, nameOf(db)) });
        expect(stale.code, stale.stderr).toBe(0);
        expect(stale.stderr).toMatch(/took over the restore lock .* pid 424242 on ghost-host .*: no heartbeat for over 60 s/);
        const [rows] = (await c.query('SELECT COUNT(*) AS n FROM bt_locks.locks WHERE name = ?', [name])) as unknown as [Array<{ n: number }>];
        expect(Number(rows[0]!.n)).toBe(0);
      } finally {
        await c.query('DELETE FROM bt_locks.locks WHERE name = ? AND owner_pid = 424242', [name]);
        await c.end();
      }
    });

    it('the swap waits for a transaction open on node 3 in the live database, and refuses (exit 4) rather than abort it', { timeout: 120_000 }, async () => {
      const reader = await rawNode(2, nameOf(db));
      try {
        await reader.query('START TRANSACTION');
        await reader.query('SELECT COUNT(*) FROM trajets');
        const before = await counts(0, nameOf(db));
        const refused = await run(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', db.dir], { url: url(0, nameOf(db)), env: { BILLETTIGUE_SWAP_WAIT: '1' } });
        expect(refused.code, refused.stderr).toBe(4);
        expect(refused.stderr).toMatch(/error: 1 transaction is still open in \S+ after 1 s \(connection \d+ of root@\S+ on 127\.0\.0\.1:3313, open \d+ s\): .*nothing was swapped/);
        expect(await counts(0, nameOf(db))).toEqual(before);
        expect((await helpersOn(0, nameOf(db))).filter((n) => n.startsWith('bt_restore_'))).toEqual([]);
        // Untouched: the reader carries on and commits.
        await reader.query('SELECT COUNT(*) FROM reservations');
        const waiting = restore(0, { BILLETTIGUE_SWAP_WAIT: '60' });
        await waiting.waitFor(/waiting up to 60 s for 1 open transaction in \S+ to end before the swap/);
        await reader.query('COMMIT');
        expect((await waiting.exited).code, waiting.stderr()).toBe(0);
      } finally {
        await reader.end();
      }
    });

    it('restore and verify --deep of tables on the deferred-index path succeed 10 times out of 10 on a node, each verify running beside a restore', { timeout: 300_000 }, async () => {
      // Every table of the tiny seed with 40 rows or more is created without its secondary keys, which are built after its rows.
      const env = { BILLETTIGUE_DEFER_INDEXES_FROM_ROWS: '40' };
      const outcome = (what: string, r: { code: number | null; stderr: string }) => `${what} ${r.code}${r.code ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`;
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        // Side by side (their own databases): each one's index builds, DDL in total order, must not abort the other's readers either.
        const [r, v] = await Promise.all([
          run(['restore', backupFile, '--yes', '--no-safety-backup', '--dir', db.dir], { url: url(1, nameOf(db)), env, timeoutMs: 120_000 }),
          run(['backup', 'verify', backupFile, '--deep'], { url: url(1, nameOf(db)), env, timeoutMs: 120_000 }),
        ]);
        outcomes.push(outcome('restore', r), outcome('verify', v));
        if (i === 0) expect(r.stderr).toMatch(/^secondary indexes after the rows for \d+ tables of 40 rows or more$/m);
      }
      expect(outcomes).toEqual(Array.from({ length: 10 }, () => ['restore 0', 'verify 0']).flat());
    });
  });

  describe('db adopt of a database the platform app built through another node', () => {
    let db: TestDb;
    let app: PlatformApp;
    let seq: Sequelize;
    beforeAll(async () => {
      ({ db, app: app!, seq: seq! } = (await platformDb('mysql', true, nodeServer(1))) as { db: TestDb; app: PlatformApp; seq: Sequelize });
    }, 120_000);
    afterAll(async () => {
      await seq?.close();
      await db?.drop();
    });

    /** LOCK TABLES, UNLOCK TABLES and FLUSH (… WITH READ LOCK) statements run on every node so far. */
    const tableLocks = async () => {
      let n = 0;
      for (let node = 0; node < 3; node++) {
        const c = await rawNode(node);
        try {
          const [r] = (await c.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_lock_tables', 'Com_unlock_tables', 'Com_flush')")) as unknown as [Array<{ Value: string }>];
          n += r.reduce((sum, x) => sum + Number(x.Value), 0);
        } finally {
          await c.end();
        }
      }
      return n;
    };

    it('adopts through node 3 with its safety backup and no table lock, the app keeps writing through node 2, and --undo through node 1 gives the tables back exactly', { timeout: 180_000 }, async () => {
      const original = await onNode(0, nameOf(db), (k) => snapshotTables(k, 'mysql'));
      const locksBefore = await tableLocks();
      const adopt = await run(['db', 'adopt', '--yes'], { url: url(2, nameOf(db)), cwd: db.dir, timeoutMs: 150_000 });
      expect(adopt.code, adopt.stderr).toBe(0);
      const safety = /safety backup: (\S+safety_backup_\S+\.sql\.gz)/.exec(adopt.stderr)?.[1];
      expect(safety && existsSync(safety), adopt.stderr).toBe(true);
      const adopted = await onNode(1, nameOf(db), (k) => snapshotTables(k, 'mysql'));
      for (const t of SEED_TABLES.filter((x) => x !== 'revoked_tokens')) expect(adopted.data[t], t).toBe(original.data[t]);
      expect(adopted.schema.comptes).toMatch(/CONSTRAINT `comptes_status_check` CHECK/);
      // The app, through node 2, writes into the adopted tables; billettigue reads it through node 1 at once (causal reads).
      await app.register('user', 'zoe@example.fr', 'motdepasse-zoe', { first_name: 'Zoé', last_name: 'Petit', phone_number: '0611111111' });
      const shown = await run(['accounts', 'show', 'zoe@example.fr'], { url: url(0, nameOf(db)) });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('zoe@example.fr');
      const before = await onNode(2, nameOf(db), (k) => snapshotTables(k, 'mysql'));
      const undo = await run(['db', 'adopt', '--undo', '--yes'], { url: url(0, nameOf(db)), cwd: db.dir, timeoutMs: 150_000 });
      expect(undo.code, undo.stderr).toBe(0);
      expect(await tableLocks()).toBe(locksBefore);
      for (let node = 0; node < 3; node++) {
        const after = await onNode(node, nameOf(db), (k) => snapshotTables(k, 'mysql'));
        expect(after.schema).toEqual(original.schema);
        for (const t of SEED_TABLES.filter((x) => x !== 'revoked_tokens')) expect(after.data[t], `${t} on node ${node + 1}`).toBe(before.data[t]);
      }
    });
  });

  describe('a node taken out of the cluster', () => {
    let db: TestDb;
    beforeAll(async () => {
      db = await createTestDb('mysql', { server: nodeServer(0) });
    });
    afterAll(async () => db?.drop());

    it('doctor on it exits 5 (non-primary, not Synced); other commands exit 5 with one line; back in the cluster, doctor exits 0', { timeout: 120_000 }, async () => {
      const node3 = await rawNode(2);
      let out: Running | undefined;
      try {
        await node3.query("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
        for (const deadline = Date.now() + 30_000; ; ) {
          const [r] = (await node3.query("SHOW STATUS LIKE 'wsrep_cluster_status'")) as unknown as [Array<{ Value: string }>];
          if (r[0]?.Value !== 'Primary') break;
          if (Date.now() > deadline) throw new Error('node 3 did not leave the cluster');
          await new Promise((r) => setTimeout(r, 200));
        }
        const doctor = await runJson<{ healthy: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> }>(['doctor'], { url: url(2, nameOf(db)), cwd: db.dir });
        expect(doctor.code).toBe(5);
        expect(doctor.data.healthy).toBe(false);
        const check = (n: string) => doctor.data.checks.find((c) => c.name === n);
        expect(check('cluster')).toMatchObject({ ok: false, detail: expect.stringMatching(/non-Primary component of 1 node/) });
        expect(check('node state')).toMatchObject({ ok: false });
        expect(check('node state')!.detail).toMatch(/^node3: (?!Synced)/);
        const list = await run(['trajets', 'list'], { url: url(2, nameOf(db)) });
        expect(list.code).toBe(5);
        expect(list.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: this database node refuses queries for now .*use another node/)]);
      } finally {
        await node3.query("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'").catch(() => undefined);
        await node3.end();
        await out?.exited;
        await waitSynced(2);
      }
      const healthy = await runJson<{ healthy: boolean; checks: Array<{ name: string; detail: string }> }>(['doctor'], { url: url(2, nameOf(db)), cwd: db.dir });
      expect(healthy.code, JSON.stringify(healthy.data)).toBe(0);
      expect(healthy.data.checks.find((c) => c.name === 'cluster')!.detail).toMatch(/of 3 nodes/);
      expect(healthy.data.checks.find((c) => c.name === 'node state')!.detail).toMatch(/Synced/);
    });
  });
});
