/**
 * kill -9 at each phase of a mutating verb, of `maintenance archive` and of `seed demo`
 * (BILLETTIGUE_TEST_PAUSE_AT stops the process at a known point; the test then SIGKILLs it: no
 * handler runs, the connection or the SQLite file is simply dropped). Afterwards the database is
 * exactly the old state or exactly the new one (per-table checksums) — for the batched commands,
 * per batch or per table, as docs/reliability.md says —, `maintenance check` finds nothing, and the
 * next run succeeds.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { DEMO_TABLES } from '../../src/domain/demo/generator.js';
import { createTrajet } from '../../src/domain/trajets.js';
import { start } from '../backup-fixtures.js';
import { hoursFromNow, insertCarrier } from '../helpers/bookings.js';
import { run, runJson } from '../helpers/cli.js';
import { createTestDb, tableChecksums, testedKinds, type TestDb } from '../helpers/db.js';

/** Starts the command paused at `phase`, kills it with SIGKILL there. */
async function killAt(db: TestDb, args: string[], phase: string): Promise<void> {
  const p = start(args, { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: phase, BILLETTIGUE_BCRYPT_COST: '4' } });
  await p.waitFor(new RegExp(`billettigue-paused ${phase}`));
  p.child.kill('SIGKILL');
  const { signal } = await p.exited;
  expect(signal).toBe('SIGKILL');
}

async function expectCheckClean(db: TestDb): Promise<void> {
  const r = await run(['maintenance', 'check'], { url: db.url });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
}

async function ids(knex: Knex, table: string): Promise<number[]> {
  return ((await knex(table).select('id').orderBy('id')) as Array<{ id: number | string }>).map((r) => Number(r.id));
}

function pick<T extends Record<string, string>>(all: T, tables: readonly string[]): Record<string, string> {
  return Object.fromEntries(tables.map((t) => [t, all[t]!]));
}

describe.each(testedKinds())('kill -9 at every phase on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
  });
  afterAll(async () => db?.drop());

  it.each(['mutate', 'mutate:commit'])('reservations create killed at %s: exactly the old state; the next booking succeeds', async (phase) => {
    const carrier = await insertCarrier(db.knex);
    const trajet = (await createTrajet(db.knex, { transporteur: carrier.compteId, from: 'Paris', to: 'Lyon', departure: hoursFromNow(48), priceCents: 1990, seats: 4 })).id;
    const book = ['reservations', 'create', '--trajet', String(trajet), '--first-name', 'Ana', '--last-name', 'Lopes', '--phone', '0612345678', '--seats', '2'];
    const before = await tableChecksums(db.knex);
    await killAt(db, book, phase);
    expect(await tableChecksums(db.knex)).toEqual(before);
    await expectCheckClean(db);
    const again = await run(book, { url: db.url });
    expect(again.code, again.stderr).toBe(0);
    expect(((await db.knex('trajets').where({ id: trajet }).first('available_seats')) as { available_seats: number }).available_seats).toBe(2);
  });

  describe('seed demo and maintenance archive', () => {
    let reference: Record<string, string>;
    beforeAll(async () => {
      // The same seed uninterrupted, elsewhere: the "exactly new" state (the generator is deterministic).
      const ref = await createTestDb(kind);
      try {
        const r = await run(['seed', 'demo', '--scale', 'tiny', '-q'], { url: ref.url, timeoutMs: 120_000 });
        expect(r.code, r.stderr).toBe(0);
        reference = pick(await tableChecksums(ref.knex), DEMO_TABLES);
      } finally {
        await ref.drop();
      }
    }, 180_000);

    it('seed demo killed before its first row, then after its first table: old, then refused without --fresh, then exactly the reference', async () => {
      const fresh = await createTestDb(kind);
      try {
        const seed = ['seed', 'demo', '--scale', 'tiny', '-q'];
        const before = await tableChecksums(fresh.knex);
        await killAt(fresh, seed, 'seed:load');
        // seed:load comes after the roles are made sure of, which were there already.
        expect(await tableChecksums(fresh.knex)).toEqual(before);

        await killAt(fresh, seed, 'seed:table');
        const partial = pick(await tableChecksums(fresh.knex), DEMO_TABLES);
        expect(partial).not.toEqual(reference);
        if (kind === 'sqlite') {
          // One transaction per table on SQLite: each table is empty or whole, never half loaded.
          for (const t of DEMO_TABLES) expect([`0:${emptyHash()}`, reference[t]], t).toContain(partial[t]);
        }
        const plain = await run(seed, { url: fresh.url });
        expect(plain.code, plain.stderr).toBe(4);
        expect(plain.stderr).toMatch(/--fresh/);

        const redo = await run([...seed, '--fresh', '--yes'], { url: fresh.url, timeoutMs: 120_000 });
        expect(redo.code, redo.stderr).toBe(0);
        expect(pick(await tableChecksums(fresh.knex), DEMO_TABLES)).toEqual(reference);
        await expectCheckClean(fresh);
      } finally {
        await fresh.drop();
      }
    }, 180_000);

    it('maintenance archive killed inside a batch (old state), then between batches (every record live or archived, once), then finished', async () => {
      const seeded = await run(['seed', 'demo', '--scale', 'tiny', '-q', '--yes'], { url: db.url, timeoutMs: 120_000 });
      expect(seeded.code, seeded.stderr).toBe(0);
      const archive = ['maintenance', 'archive', '--older-than', '30d', '--yes'];
      const plan = (await runJson<{ would_move: { reservations: number; envois: number } }>([...archive, '--dry-run'], { url: db.url })).data.would_move;
      expect(plan.reservations).toBeGreaterThan(40);
      const reservations = await ids(db.knex, 'reservations');
      const envois = await ids(db.knex, 'envois');

      const before = await tableChecksums(db.knex);
      await killAt(db, [...archive, '--batch-size', '10000'], 'archive:commit');
      expect(await tableChecksums(db.knex)).toEqual(before);

      await killAt(db, [...archive, '--batch-size', '20'], 'archive:batch');
      const liveR = await ids(db.knex, 'reservations');
      const archivedR = await ids(db.knex, 'reservations_archive');
      expect(archivedR).toHaveLength(20);
      expect([...liveR, ...archivedR].sort((a, b) => a - b)).toEqual(reservations);
      expect(await ids(db.knex, 'paiements_archive')).toHaveLength(20);
      expect(await ids(db.knex, 'envois')).toEqual(envois);
      await expectCheckClean(db);

      const finish = await runJson<{ moved: { reservations: number; envois: number } }>(archive, { url: db.url });
      expect(finish.code, finish.stderr).toBe(0);
      expect(finish.data.moved.reservations).toBe(plan.reservations - 20);
      expect(finish.data.moved.envois).toBe(plan.envois);
      expect((await ids(db.knex, 'reservations_archive')).length + (await ids(db.knex, 'reservations')).length).toBe(reservations.length);
      expect((await ids(db.knex, 'envois_archive')).length).toBe(plan.envois);
      await expectCheckClean(db);
    }, 180_000);
  });
});

/** The checksum tableChecksums gives an empty table (its row count, then the hash of nothing). */
function emptyHash(): string {
  return createHash('sha256').update('').digest('hex').slice(0, 16);
}
