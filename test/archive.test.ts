/**
 * Archiving (domain level, both databases): the right rows move, whole and unchanged, in bounded
 * batches; an interruption mid-run loses and duplicates nothing and a re-run finishes the job;
 * `maintenance check` stays clean; `archive restore` brings one record and its children back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { plantPlatform, type Planted } from './maintenance-fixtures.js';
import { archiveOlderThan, parseArchiveRef, parseCutoff, planArchive, restoreArchived } from '../src/domain/archive.js';
import { checkInvariants } from '../src/domain/invariants.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';
import { listColumns } from '../src/db/dialect.js';
import { Conflict, InvalidInput, NotFound } from '../src/domain/errors.js';

describe('parseCutoff', () => {
  const now = new Date('2026-03-31T12:00:00Z');
  it.each([
    ['90d', '2025-12-31T12:00:00.000Z'],
    ['6w', '2026-02-17T12:00:00.000Z'],
    ['1mo', '2026-02-28T12:00:00.000Z'], // calendar month, clamped to the shorter month
    ['18mo', '2024-09-30T12:00:00.000Z'],
    ['2y', '2024-03-31T12:00:00.000Z'],
    [' 2Y ', '2024-03-31T12:00:00.000Z'],
    ['2024-06-01', '2024-06-01T00:00:00.000Z'],
    ['2024-06-01T08:30:00+02:00', '2024-06-01T06:30:00.000Z'],
  ])('%s → %s', (raw, iso) => {
    expect(parseCutoff(raw, now).toISOString()).toBe(iso);
  });

  it.each(['18x', '18', 'mo', '-3d', '1.5y', '18 months', '', '2024-13-45'])('refuses the unknown format "%s" (exit 2)', (raw) => {
    expect(() => parseCutoff(raw, now)).toThrow(InvalidInput);
    if (raw !== '2024-13-45') expect(() => parseCutoff(raw, now)).toThrow(/not a duration: use .*d \(days\), w \(weeks\), mo \(months\) or y \(years\)/);
  });

  it('refuses a zero duration and a cutoff in the future', () => {
    expect(() => parseCutoff('0d', now)).toThrow(/at least 1/);
    expect(() => parseCutoff('2026-04-01', now)).toThrow(/in the future/);
    expect(() => parseCutoff('9999y', now)).toThrow(InvalidInput);
  });
});

describe('parseArchiveRef', () => {
  it('reads type:id', () => {
    expect(parseArchiveRef('reservation:42')).toEqual({ type: 'reservation', id: 42 });
    expect(parseArchiveRef('Envoi:7')).toEqual({ type: 'envoi', id: 7 });
  });
  it.each(['42', 'trajet:4', 'reservation:', 'reservation:0', 'envoi:x'])('refuses "%s"', (raw) => {
    expect(() => parseArchiveRef(raw)).toThrow(/reservation:ID or envoi:ID/);
  });
});

describe.each(testedKinds())('maintenance archive on %s', (kind) => {
  let db: TestDb;
  let p: Planted;
  let cutoff: Date;
  const before: Record<string, unknown[]> = {};
  const oldPaiements = () => ['rOldCompletedP', 'rOldCancelledFailedP', 'rOldRefundedP', 'rOldKeptP', 'rOldTrajetCancelledP', 'rOldTrajetPendingP'].map((n) => p.ids[n]!);
  const oldColis = () => ['cOldDelivered', 'cOldLost', 'cOldPending'].map((n) => p.ids[n]!);
  const ids = async (table: string) => ((await db.knex(table).orderBy('id').pluck('id')) as number[]).map(Number);
  const sortNum = (a: number[]) => [...a].sort((x, y) => x - y);

  beforeAll(async () => {
    db = await createTestDb(kind);
    p = await plantPlatform(db.knex);
    cutoff = parseCutoff('18mo', p.now);
    for (const t of ['reservations', 'paiements', 'envois', 'colis', 'trajets']) before[t] = await db.knex(t).select('*').orderBy('id');
  });
  afterAll(async () => db?.drop());

  it('the archive tables have the live columns plus archived_at', async () => {
    for (const t of ['reservations', 'paiements', 'envois', 'colis']) {
      expect(await listColumns(db.knex, `${t}_archive`)).toEqual([...(await listColumns(db.knex, t)), 'archived_at']);
    }
  });

  it('plans exactly the finished records older than the cutoff', async () => {
    expect(await planArchive(db.knex, cutoff)).toEqual({ cutoff, reservations: 6, paiements: 6, envois: 2, colis: 3 });
  });

  it('an interruption mid-run loses nothing and duplicates nothing', async () => {
    let batches = 0;
    await expect(
      archiveOlderThan(db.knex, {
        cutoff,
        batchSize: 2,
        actor: 'test',
        beforeCommit: () => {
          if (++batches === 2) throw new Error('simulated crash before the second commit');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    // The first batch (2 reservations) is archived; the second was rolled back entirely.
    const archived = await ids('reservations_archive');
    expect(archived).toEqual(sortNum(p.oldReservations).slice(0, 2));
    const live = await ids('reservations');
    expect(sortNum([...archived, ...live])).toEqual(sortNum((before.reservations as Array<{ id: number }>).map((r) => Number(r.id))));
    expect(archived.filter((id) => live.includes(id))).toEqual([]);
    expect((await ids('paiements_archive')).length).toBe(2);
    expect((await checkInvariants(db.knex, DEFAULT_SETTINGS)).clean).toBe(true);
    // The committed batch has its audit row; the rolled-back one left none.
    expect((await db.knex('audit_log').where('action', 'maintenance.archive')).length).toBe(1);
  });

  it('a re-run finishes the job, in batches of bounded size, one audit row per batch', async () => {
    const auditBefore = Number(((await db.knex('audit_log').count({ n: '*' }).first()) as { n: number }).n);
    const sizes: number[] = [];
    let last = 0;
    const totals = await archiveOlderThan(db.knex, {
      cutoff,
      batchSize: 2,
      actor: 'test',
      onBatch: (t) => {
        sizes.push(t.reservations + t.envois - last);
        last = t.reservations + t.envois;
      },
    });
    expect(totals).toEqual({ reservations: 4, paiements: 4, envois: 2, colis: 3, batches: 3 });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
    const audit = await db.knex('audit_log').where('action', 'maintenance.archive').orderBy('id');
    expect(audit.length).toBe(1 + 3);
    expect(Number(((await db.knex('audit_log').count({ n: '*' }).first()) as { n: number }).n)).toBe(auditBefore + 3);
  });

  it('moved exactly the right rows, unchanged, with archived_at', async () => {
    expect(await ids('reservations_archive')).toEqual(sortNum(p.oldReservations));
    expect(await ids('paiements_archive')).toEqual(sortNum(oldPaiements()));
    expect(await ids('envois_archive')).toEqual(sortNum(p.oldEnvois));
    expect(await ids('colis_archive')).toEqual(sortNum(oldColis()));
    const strip = (rows: Array<Record<string, unknown>>) => rows.map(({ archived_at: _a, ...rest }) => rest);
    const original = (t: string, keep: number[]) => (before[t] as Array<{ id: number }>).filter((r) => keep.includes(Number(r.id)));
    expect(strip(await db.knex('reservations_archive').orderBy('id'))).toEqual(original('reservations', p.oldReservations));
    expect(strip(await db.knex('paiements_archive').orderBy('id'))).toEqual(original('paiements', oldPaiements()));
    expect(strip(await db.knex('envois_archive').orderBy('id'))).toEqual(original('envois', p.oldEnvois));
    expect(strip(await db.knex('colis_archive').orderBy('id'))).toEqual(original('colis', oldColis()));
    for (const r of (await db.knex('reservations_archive').select('archived_at')) as Array<{ archived_at: string }>) {
      expect(r.archived_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    }
    // Everything else is still live; trajets (and so the seats) are untouched.
    expect(await ids('reservations')).toEqual(
      sortNum((before.reservations as Array<{ id: number }>).map((r) => Number(r.id)).filter((id) => !p.oldReservations.includes(id))),
    );
    expect(await db.knex('trajets').select('*').orderBy('id')).toEqual(before.trajets);
    expect((await ids('envois')).length).toBe(4);
  });

  it('check stays clean afterwards, and a second run moves nothing', async () => {
    const report = await checkInvariants(db.knex, DEFAULT_SETTINGS);
    expect(report.rules.filter((r) => r.count > 0).map((r) => r.code)).toEqual([]);
    expect(await planArchive(db.knex, cutoff)).toMatchObject({ reservations: 0, paiements: 0, envois: 0, colis: 0 });
    const totals = await archiveOlderThan(db.knex, { cutoff, batchSize: 100, actor: 'test' });
    expect(totals).toEqual({ reservations: 0, paiements: 0, envois: 0, colis: 0, batches: 0 });
  });

  it('restores one reservation with its paiement, under the same ids', async () => {
    const id = p.ids.rOldKept!;
    const r = await db.knex.transaction((trx) => restoreArchived(trx, { type: 'reservation', id }, 'test', 'dispute'));
    expect(r).toMatchObject({ type: 'reservation', id, status: 'cancelled', children: [p.ids.rOldKeptP] });
    expect(r.archivedAt).toMatch(/Z$/);
    const original = (before.reservations as Array<{ id: number }>).find((x) => Number(x.id) === id);
    expect(await db.knex('reservations').where('id', id).first()).toEqual(original);
    expect(await db.knex('paiements').where('reservation_id', id).first()).toEqual(
      (before.paiements as Array<{ id: number }>).find((x) => Number(x.id) === p.ids.rOldKeptP),
    );
    expect(await db.knex('reservations_archive').where('id', id).first()).toBeUndefined();
    expect(await db.knex('paiements_archive').where('reservation_id', id).first()).toBeUndefined();
    const audit = (await db.knex('audit_log').where('action', 'maintenance.archive.restore').first()) as Record<string, unknown>;
    expect(audit).toMatchObject({ target_type: 'reservation', target_id: String(id), reason: 'dispute', actor: 'test' });
    expect((await checkInvariants(db.knex, DEFAULT_SETTINGS)).clean).toBe(true);
  });

  it('restores one envoi with all its colis', async () => {
    const id = p.ids.eOldDelivered!;
    const r = await db.knex.transaction((trx) => restoreArchived(trx, { type: 'envoi', id }, 'test'));
    expect(r).toMatchObject({ type: 'envoi', id, status: 'delivered', children: sortNum([p.ids.cOldDelivered!, p.ids.cOldLost!]) });
    expect(await ids('colis_archive')).toEqual([p.ids.cOldPending]);
    expect((await db.knex('colis').where('envoi_id', id).pluck('id')).map(Number).sort((a, b) => a - b)).toEqual(r.children);
    expect((await checkInvariants(db.knex, DEFAULT_SETTINGS)).clean).toBe(true);
  });

  it('refuses a live record, an unknown one, and one whose trajet is gone (nothing changes)', async () => {
    await expect(db.knex.transaction((trx) => restoreArchived(trx, { type: 'reservation', id: p.ids.rOldKept! }, 'test'))).rejects.toThrow(
      /reservation \d+ is not archived: it is live/,
    );
    await expect(db.knex.transaction((trx) => restoreArchived(trx, { type: 'envoi', id: 999_999 }, 'test'))).rejects.toThrow(NotFound);
    // The old cancelled trajet has no live reservation left: it can be deleted; its archived
    // reservations then cannot come back (the archive never blocks deleting a live row).
    await db.knex('trajets').where('id', p.ids.tOldCancelled).del();
    const id = p.ids.rOldTrajetPending!;
    const err = await db.knex.transaction((trx) => restoreArchived(trx, { type: 'reservation', id }, 'test')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Conflict);
    expect(String((err as Error).message)).toMatch(/trajet \d+ no longer exists/);
    expect(await db.knex('reservations_archive').where('id', id).first()).toBeDefined();
    expect(await db.knex('reservations').where('id', id).first()).toBeUndefined();
  });
});
