/**
 * Archiving finished records (`maintenance archive`) and bringing one back (`archive restore`).
 *
 * What moves, and when it is "older than" the cutoff:
 * - a reservation whose status is final (completed, cancelled, refunded) and whose trajet departed
 *   before the cutoff (trajets.departure_time < cutoff), with its paiement;
 * - an envoi whose status is final (delivered, cancelled) and whose last change is before the cutoff
 *   (envois.updated_at < cutoff: the moment it reached its final status), with all its colis.
 * Final reservations hold no seats, so the seats invariant is untouched; trajets, comptes and the
 * rest stay live.
 *
 * How (crash-safe): batches of at most `batchSize` parent records; each batch is ONE transaction
 * that locks the parents (FOR UPDATE where the engine has row locks), copies parents then children into *_archive with
 * `archived_at`, deletes children then parents, and writes its audit row. A crash rolls the open
 * batch back entirely: nothing is lost (a row is deleted only in the transaction that copied it)
 * and nothing is duplicated (a row is copied only in the transaction that deletes it). Re-running
 * picks up whatever is still live and qualifies.
 */
import type { Knex } from 'knex';
import { forUpdate } from '../db/dialect.js';
import { isDuplicateKey, translateDbError } from '../db/errors.js';
import { retryOnConflict } from '../db/retry.js';
import { isoOrNull, toDbTime } from '../db/values.js';
import { writeAudit } from './audit.js';
import { parseDayOrInstant } from './dates.js';
import { Conflict, InvalidInput, NotFound } from './errors.js';

type Db = Knex | Knex.Transaction;

export const ARCHIVED_RESERVATION_STATUSES = ['completed', 'cancelled', 'refunded'] as const;
export const ARCHIVED_ENVOI_STATUSES = ['delivered', 'cancelled'] as const;

/** Columns copied verbatim (the live table's columns; the archive adds `archived_at`). */
export const ARCHIVED_COLUMNS = {
  reservations: [
    'id',
    'reservation_date',
    'passenger_first_name',
    'passenger_last_name',
    'phone_number',
    'status',
    'seats_reserved',
    'refundable_option',
    'refund_supplement_amount',
    'total_amount',
    'trajet_id',
    'compte_id',
    'created_at',
    'updated_at',
  ],
  paiements: ['id', 'amount', 'status', 'payment_date', 'reservation_id', 'created_at', 'updated_at'],
  envois: [
    'id',
    'description',
    'status',
    'expediteur_id',
    'recipient_name',
    'recipient_phone',
    'transporteur_id',
    'compte_id',
    'created_at',
    'updated_at',
  ],
  colis: ['id', 'description', 'weight', 'dimensions', 'shipping_cost', 'status', 'envoi_id', 'created_at', 'updated_at'],
} as const;

type LiveTable = keyof typeof ARCHIVED_COLUMNS;

// ---- durations ------------------------------------------------------------------------------

const UNITS: Record<string, string> = { d: 'days', w: 'weeks', mo: 'months', y: 'years' };

/**
 * `--older-than`: a duration back from `now` (`90d`, `6w`, `18mo`, `2y`; months and years are
 * calendar ones, clamped to the end of a shorter month) or an absolute date (YYYY-MM-DD, midnight
 * UTC, or ISO 8601). The cutoff must be in the past.
 */
export function parseCutoff(raw: string, now: Date = new Date()): Date {
  const v = raw.trim().toLowerCase();
  const m = /^(\d{1,4})\s*(d|w|mo|y)$/.exec(v);
  let cutoff: Date;
  if (m) {
    const n = Number(m[1]);
    if (n < 1) throw new InvalidInput(`--older-than "${raw}": the duration must be at least 1 ${UNITS[m[2]!]}`, { code: 'invalid_duration' });
    const unit = m[2]!;
    if (unit === 'd' || unit === 'w') {
      cutoff = new Date(now.getTime() - n * (unit === 'w' ? 7 : 1) * 86_400_000);
    } else {
      const months = unit === 'y' ? n * 12 : n;
      cutoff = subtractMonths(now, months);
    }
  } else if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    // A date: the one parser of every group (a real calendar day of the display zone, or a time).
    cutoff = parseDayOrInstant(raw, '--older-than', 'start', now);
  } else {
    throw new InvalidInput(
      `--older-than "${raw}" is not a duration: use a number and a unit, d (days), w (weeks), mo (months) or y (years), e.g. 90d, 6w, 18mo, 2y — or a date, e.g. 2024-06-01`,
      { code: 'invalid_duration' },
    );
  }
  if (Number.isNaN(cutoff.getTime()) || cutoff.getUTCFullYear() < 1000) {
    throw new InvalidInput(`--older-than "${raw}" gives no valid date`, { code: 'invalid_duration' });
  }
  if (cutoff.getTime() > now.getTime()) {
    throw new InvalidInput(`--older-than "${raw}": the cutoff ${cutoff.toISOString()} is in the future: archiving only takes records older than a past date`, {
      code: 'cutoff_in_future',
    });
  }
  return cutoff;
}

function subtractMonths(d: Date, months: number): Date {
  const y = d.getUTCFullYear();
  const mIndex = d.getUTCMonth() - months;
  const targetY = y + Math.floor(mIndex / 12);
  const targetM = ((mIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetY, targetM + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(targetY, targetM, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()),
  );
}

// ---- what qualifies -------------------------------------------------------------------------------

function reservationsQuery(db: Db, cutoff: string): Knex.QueryBuilder {
  return db('reservations as r')
    .join('trajets as t', 't.id', 'r.trajet_id')
    .whereIn('r.status', ARCHIVED_RESERVATION_STATUSES as unknown as string[])
    .where('t.departure_time', '<', cutoff);
}

function envoisQuery(db: Db, cutoff: string): Knex.QueryBuilder {
  return db('envois as e')
    .whereIn('e.status', ARCHIVED_ENVOI_STATUSES as unknown as string[])
    .where('e.updated_at', '<', cutoff);
}

export interface ArchivePlan {
  cutoff: Date;
  reservations: number;
  paiements: number;
  envois: number;
  colis: number;
}

/** What an archive run would move (read-only; `--dry-run` and the confirmation use it). */
export async function planArchive(db: Db, cutoff: Date): Promise<ArchivePlan> {
  const c = toDbTime(cutoff);
  const count = async (qb: Knex.QueryBuilder) => Number(((await qb.count({ n: '*' }).first()) as { n: number | string }).n);
  const [reservations, paiements, envois, colis] = await Promise.all([
    count(reservationsQuery(db, c)),
    count(reservationsQuery(db, c).join('paiements as p', 'p.reservation_id', 'r.id')),
    count(envoisQuery(db, c)),
    count(envoisQuery(db, c).join('colis as c', 'c.envoi_id', 'e.id')),
  ]);
  return { cutoff, reservations, paiements, envois, colis };
}

// ---- moving -----------------------------------------------------------------------------------------

/** INSERT INTO <table>_archive (cols…, archived_at) SELECT cols…, ? FROM <table> WHERE <column> IN (ids). */
async function copy(trx: Knex.Transaction, table: LiveTable, whereColumn: string, ids: number[], archivedAt: string): Promise<void> {
  const cols = ARCHIVED_COLUMNS[table];
  const colList = cols.map(() => '??').join(', ');
  await trx.raw(`insert into ?? (${colList}, ??) select ${colList}, ? from ?? where ?? in (${ids.map(() => '?').join(', ')})`, [
    `${table}_archive`,
    ...cols,
    'archived_at',
    ...cols,
    archivedAt,
    table,
    whereColumn,
    ...ids,
  ]);
}

export interface BatchResult {
  reservations: number;
  paiements: number;
  envois: number;
  colis: number;
  /** First and last id moved (null when this batch moved nothing). */
  firstId: number | null;
  lastId: number | null;
  /** Where the next batch starts (last id examined). */
  cursor: number;
  /** Nothing left to examine after this batch. */
  exhausted: boolean;
}

/**
 * Moves one batch of reservations (with their paiements) in the given transaction.
 * Walks the final reservations by primary key from `afterId` (at most `batchSize`, locked), and
 * moves those whose trajet departed before the cutoff. Walking by id keeps every batch cheap: a
 * single query joining trajets would let the optimizer start from the trajets' departure index and
 * sort every qualifying reservation again for each batch (measured: 100–500 ms per batch at 400k
 * reservations, against a few ms).
 */
export async function archiveReservationBatch(trx: Knex.Transaction, cutoff: Date, batchSize: number, archivedAt: Date, afterId = 0): Promise<BatchResult> {
  const scan = trx('reservations')
    .whereIn('status', ARCHIVED_RESERVATION_STATUSES as unknown as string[])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(batchSize);
  forUpdate(scan);
  const window = ((await scan.pluck('id')) as Array<number | string>).map(Number);
  const cursor = window.length ? window[window.length - 1]! : afterId;
  const exhausted = window.length < batchSize;
  const none = { reservations: 0, paiements: 0, envois: 0, colis: 0, firstId: null, lastId: null, cursor, exhausted };
  if (window.length === 0) return none;
  const ids = (
    (await trx('reservations as r')
      .join('trajets as t', 't.id', 'r.trajet_id')
      .whereIn('r.id', window)
      .where('t.departure_time', '<', toDbTime(cutoff))
      .orderBy('r.id')
      .pluck('r.id')) as Array<number | string>
  ).map(Number);
  if (ids.length === 0) return none;
  const at = toDbTime(archivedAt);
  await copy(trx, 'reservations', 'id', ids, at);
  await copy(trx, 'paiements', 'reservation_id', ids, at);
  const paiements = await trx('paiements').whereIn('reservation_id', ids).del();
  const reservations = await trx('reservations').whereIn('id', ids).del();
  if (reservations !== ids.length) throw new Conflict(`archive: expected to move ${ids.length} reservations, moved ${reservations}: rolled back, re-run`);
  return { reservations, paiements, envois: 0, colis: 0, firstId: ids[0]!, lastId: ids[ids.length - 1]!, cursor, exhausted };
}

/** Moves one batch of envois (with their colis) in the given transaction. */
export async function archiveEnvoiBatch(trx: Knex.Transaction, cutoff: Date, batchSize: number, archivedAt: Date, afterId = 0): Promise<BatchResult> {
  const qb = envoisQuery(trx, toDbTime(cutoff)).where('e.id', '>', afterId).orderBy('e.id').limit(batchSize);
  forUpdate(qb);
  const ids = ((await qb.pluck('e.id')) as Array<number | string>).map(Number);
  const cursor = ids.length ? ids[ids.length - 1]! : afterId;
  const exhausted = ids.length < batchSize;
  if (ids.length === 0) return { reservations: 0, paiements: 0, envois: 0, colis: 0, firstId: null, lastId: null, cursor, exhausted };
  const at = toDbTime(archivedAt);
  await copy(trx, 'envois', 'id', ids, at);
  await copy(trx, 'colis', 'envoi_id', ids, at);
  const colis = await trx('colis').whereIn('envoi_id', ids).del();
  const envois = await trx('envois').whereIn('id', ids).del();
  if (envois !== ids.length) throw new Conflict(`archive: expected to move ${ids.length} envois, moved ${envois}: rolled back, re-run`);
  return { reservations: 0, paiements: 0, envois, colis, firstId: ids[0]!, lastId: ids[ids.length - 1]!, cursor, exhausted };
}

export interface ArchiveOptions {
  cutoff: Date;
  /** Parent records per transaction (1..10000). */
  batchSize: number;
  actor: string;
  /** The moment written to archived_at (default: now). */
  archivedAt?: Date;
  /** After each committed batch, with the totals so far. */
  onBatch?: (totals: ArchiveTotals) => Promise<void> | void;
  /**
   * Test hook: called inside each batch's transaction after the copy and delete, before commit.
   * Throwing there simulates a crash mid-batch.
   */
  beforeCommit?: (kind: 'reservations' | 'envois', batch: BatchResult) => Promise<void> | void;
}

export interface ArchiveTotals {
  reservations: number;
  paiements: number;
  envois: number;
  colis: number;
  batches: number;
}

/** Runs one batch in its own transaction, retried from the start when it loses a conflict. */
async function inTransaction<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  try {
    return await retryOnConflict(db, () => db.transaction(fn));
  } catch (err) {
    throw translateDbError(err, 'archive batch');
  }
}

/**
 * Archives everything that qualifies, batch after batch (reservations first, then envois); returns
 * the totals. Each batch writes one `maintenance.archive` audit row in its own transaction.
 */
export async function archiveOlderThan(db: Knex, options: ArchiveOptions): Promise<ArchiveTotals> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 10_000) {
    throw new InvalidInput(`--batch-size must be from 1 to 10000, got ${options.batchSize}`);
  }
  const archivedAt = options.archivedAt ?? new Date();
  const totals: ArchiveTotals = { reservations: 0, paiements: 0, envois: 0, colis: 0, batches: 0 };
  for (const kind of ['reservations', 'envois'] as const) {
    // Keyset: each batch starts after the last id examined (ids below it do not qualify or are gone).
    let afterId = 0;
    for (;;) {
      const batch = await inTransaction(db, async (trx) => {
        const b =
          kind === 'reservations'
            ? await archiveReservationBatch(trx, options.cutoff, options.batchSize, archivedAt, afterId)
            : await archiveEnvoiBatch(trx, options.cutoff, options.batchSize, archivedAt, afterId);
        if (b.firstId === null) return b;
        await writeAudit(trx, {
          actor: options.actor,
          action: 'maintenance.archive',
          targetType: kind === 'reservations' ? 'reservation' : 'envoi',
          targetId: null,
          after:
            kind === 'reservations'
              ? { cutoff: options.cutoff.toISOString(), reservations: b.reservations, paiements: b.paiements, first_id: b.firstId, last_id: b.lastId }
              : { cutoff: options.cutoff.toISOString(), envois: b.envois, colis: b.colis, first_id: b.firstId, last_id: b.lastId },
        });
        await options.beforeCommit?.(kind, b);
        return b;
      });
      afterId = batch.cursor;
      if (batch.firstId !== null) {
        totals.reservations += batch.reservations;
        totals.paiements += batch.paiements;
        totals.envois += batch.envois;
        totals.colis += batch.colis;
        totals.batches += 1;
        await options.onBatch?.({ ...totals });
      }
      if (batch.exhausted) break;
    }
  }
  return totals;
}

// ---- restoring one record -------------------------------------------------------------------------

export type ArchiveRef = { type: 'reservation' | 'envoi'; id: number };

/** `--id reservation:42` / `--id envoi:7`. */
export function parseArchiveRef(raw: string): ArchiveRef {
  const m = /^\s*(reservation|envoi)s?\s*:\s*(\d{1,10})\s*$/i.exec(raw);
  if (!m || Number(m[2]) < 1) {
    throw new InvalidInput(`--id "${raw}" is not an archived record: use reservation:ID or envoi:ID, e.g. --id reservation:42`, {
      code: 'invalid_archive_ref',
    });
  }
  return { type: m[1]!.toLowerCase() as ArchiveRef['type'], id: Number(m[2]) };
}

export interface RestoreResult {
  type: ArchiveRef['type'];
  id: number;
  archivedAt: string | null;
  status: string;
  /** Children brought back: the paiement id, or the colis ids. */
  children: number[];
}

async function mustExist(trx: Knex.Transaction, table: string, id: number | null, what: string): Promise<void> {
  if (id === null) return;
  const row = await trx(table).where('id', id).first('id');
  if (!row) throw new Conflict(`cannot restore: ${what} ${id} no longer exists (${table}); the archived record stays archived`, { code: 'restore_parent_missing' });
}

async function copyBack(trx: Knex.Transaction, table: LiveTable, whereColumn: string, id: number): Promise<void> {
  // Through bound values, not INSERT … SELECT: PostgreSQL does not cast the archive's varchar into
  // an enumerated type (an adopted platform's statuses) in an INSERT … SELECT, but it does cast a
  // value sent as a parameter. One record and its children: a few rows.
  const rows = (await trx(`${table}_archive`).where(whereColumn, id).select(ARCHIVED_COLUMNS[table])) as Array<Record<string, unknown>>;
  if (rows.length === 0) return;
  try {
    await trx(table).insert(rows);
  } catch (err) {
    if (isDuplicateKey(err)) {
      throw new Conflict(`cannot restore: a live ${table} row already has the id of the archived one (check with \`billettigue maintenance check\`)`, {
        code: 'restore_duplicate',
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Brings one archived reservation (with its paiement) or envoi (with its colis) back into the live
 * tables, under the same ids, in the given transaction, and writes the audit row. The records it
 * points to (trajet, compte, expediteur, transporteur) must still exist.
 */
export async function restoreArchived(trx: Knex.Transaction, ref: ArchiveRef, actor: string, reason?: string): Promise<RestoreResult> {
  if (ref.type === 'reservation') {
    const r = (await trx('reservations_archive').where('id', ref.id).first()) as
      | { id: number; status: string; trajet_id: number; compte_id: number | null; archived_at: string }
      | undefined;
    if (!r) {
      const live = await trx('reservations').where('id', ref.id).first('id');
      throw new NotFound(live ? `reservation ${ref.id} is not archived: it is live` : `no archived reservation with id ${ref.id}`, {
        code: 'archived_not_found',
      });
    }
    await mustExist(trx, 'trajets', Number(r.trajet_id), 'trajet');
    await mustExist(trx, 'comptes', r.compte_id === null ? null : Number(r.compte_id), 'compte');
    const paiementIds = ((await trx('paiements_archive').where('reservation_id', ref.id).pluck('id')) as Array<number | string>).map(Number);
    await copyBack(trx, 'reservations', 'id', ref.id);
    await copyBack(trx, 'paiements', 'reservation_id', ref.id);
    await trx('paiements_archive').where('reservation_id', ref.id).del();
    await trx('reservations_archive').where('id', ref.id).del();
    const archivedAt = isoOrNull(r.archived_at);
    await writeAudit(trx, {
      actor,
      action: 'maintenance.archive.restore',
      targetType: 'reservation',
      targetId: ref.id,
      reason: reason ?? null,
      before: { archived_at: archivedAt },
      after: { status: r.status, paiements: paiementIds },
    });
    return { type: 'reservation', id: ref.id, archivedAt, status: r.status, children: paiementIds };
  }
  const e = (await trx('envois_archive').where('id', ref.id).first()) as
    | { id: number; status: string; expediteur_id: number; transporteur_id: number; compte_id: number; archived_at: string }
    | undefined;
  if (!e) {
    const live = await trx('envois').where('id', ref.id).first('id');
    throw new NotFound(live ? `envoi ${ref.id} is not archived: it is live` : `no archived envoi with id ${ref.id}`, { code: 'archived_not_found' });
  }
  await mustExist(trx, 'utilisateurs', Number(e.expediteur_id), 'expediteur (utilisateur)');
  await mustExist(trx, 'transporteurs', Number(e.transporteur_id), 'transporteur');
  await mustExist(trx, 'comptes', Number(e.compte_id), 'compte');
  const colisIds = ((await trx('colis_archive').where('envoi_id', ref.id).orderBy('id').pluck('id')) as Array<number | string>).map(Number);
  await copyBack(trx, 'envois', 'id', ref.id);
  await copyBack(trx, 'colis', 'envoi_id', ref.id);
  await trx('colis_archive').where('envoi_id', ref.id).del();
  await trx('envois_archive').where('id', ref.id).del();
  const archivedAt = isoOrNull(e.archived_at);
  await writeAudit(trx, {
    actor,
    action: 'maintenance.archive.restore',
    targetType: 'envoi',
    targetId: ref.id,
    reason: reason ?? null,
    before: { archived_at: archivedAt },
    after: { status: e.status, colis: colisIds },
  });
  return { type: 'envoi', id: ref.id, archivedAt, status: e.status, children: colisIds };
}
