/**
 * Applying an adoption plan, and undoing it. Every change is recorded in the adoption table with
 * its exact inverse before it runs (state `applying`) and marked `done` after; `--undo` runs the
 * inverses newest first and deletes each record as it goes, then the table itself, so an
 * interrupted undo can simply be run again. An adoption that fails half-way undoes what it did and
 * reports the error: the database is as it was.
 * Where DDL is transactional (SQLite, PostgreSQL) each change runs in one transaction with its record; where
 * it commits as it runs (MySQL/MariaDB) the record is written first, marked done after.
 */
import type { Knex } from 'knex';
import { insertId, listTables } from '../dialect.js';
import { engineOf } from '../engines/index.js';
import { toDbTime } from '../values.js';
import { ADOPTION_TABLE, ARCHIVE_TABLES } from '../schema.js';
import { Conflict } from '../../domain/errors.js';
import { isLockWaitTimeout } from '../errors.js';
import { adoptEngine } from './engine.js';
import { runOp, type Op } from './ops.js';
import type { AdoptionPlan, Step } from './plan.js';

type Db = Knex | Knex.Transaction;

interface RecordRow {
  id: number;
  kind: string;
  table_name: string;
  summary: string;
  forward_json: string;
  inverse_json: string;
  state: 'applying' | 'done';
  applied_at: string;
}

export interface Baseline {
  adopted_at: string;
  migrations: string[];
  actor: string;
  safety_backup: string | null;
  tool_version: string;
}

/** The DDL of the adoption table, as knex writes it for this engine. */
export function recordTableSql(knex: Knex): string[] {
  return knex.schema
    .createTable(ADOPTION_TABLE, (t) => {
      engineOf(knex).tableOptions(t);
      t.increments('id');
      t.string('kind', 20).notNullable();
      t.string('table_name', 64).notNullable();
      t.text('summary').notNullable();
      t.text('forward_json', 'mediumtext').notNullable();
      t.text('inverse_json', 'mediumtext').notNullable();
      t.string('state', 10).notNullable();
      t.datetime('applied_at').notNullable();
    })
    .toSQL()
    .map((q) => q.sql);
}

/** The baseline: knex's migration tables, as knex creates them, with every current migration applied. */
export function baselineStep(knex: Knex, migrations: string[], now = new Date()): Step {
  const q = (n: string) => engineOf(knex).quoteIdent(n);
  const create = [
    ...knex.schema
      .createTable('knex_migrations', (t) => {
        t.increments();
        t.string('name');
        t.integer('batch');
        t.timestamp('migration_time');
      })
      .toSQL()
      .map((x) => x.sql),
    ...knex.schema
      .createTable('knex_migrations_lock', (t) => {
        t.increments('index').primary();
        t.integer('is_locked');
      })
      .toSQL()
      .map((x) => x.sql),
  ];
  const at = toDbTime(now);
  const rows = migrations.map((m) => knex('knex_migrations').insert({ name: m, batch: 1, migration_time: at }).toQuery());
  return {
    kind: 'baseline',
    table: 'knex_migrations',
    summary: `baseline: knex_migrations with the ${migrations.length} current migrations marked applied (batch 1)`,
    forward: { sql: [...create, knex('knex_migrations_lock').insert({ is_locked: 0 }).toQuery(), ...rows] },
    inverse: { sql: [`DROP TABLE ${q('knex_migrations_lock')}`, `DROP TABLE ${q('knex_migrations')}`] },
  };
}

/** The adoption record of this database: its baseline and changes (null when not adopted). */
export interface AdoptionRecord {
  baseline: Baseline;
  /** False when an adoption was interrupted (a killed process): `--undo` cleans it up. */
  complete: boolean;
  changes: Array<{ kind: string; table: string; summary: string; state: string }>;
}

export async function adoptionRecord(db: Db): Promise<AdoptionRecord | null> {
  if (!(await listTables(db)).includes(ADOPTION_TABLE)) return null;
  const rows = (await db(ADOPTION_TABLE).orderBy('id')) as RecordRow[];
  // No head row: the process died right after creating the table; --undo drops it.
  const head = rows.find((r) => r.kind === 'adopted');
  const none: Baseline = { adopted_at: '', migrations: [], actor: '', safety_backup: null, tool_version: '' };
  return {
    baseline: head ? (JSON.parse(head.forward_json) as Baseline) : none,
    complete: head?.state === 'done',
    changes: rows.filter((r) => r.kind !== 'adopted').map((r) => ({ kind: r.kind, table: r.table_name, summary: r.summary, state: r.state })),
  };
}

async function record(db: Db, kind: string, table: string, summary: string, forward: unknown, inverse: unknown): Promise<number> {
  return insertId(db(ADOPTION_TABLE).insert({
    kind,
    table_name: table,
    summary,
    forward_json: JSON.stringify(forward),
    inverse_json: JSON.stringify(inverse),
    state: 'applying',
    applied_at: toDbTime(new Date()),
  }));
}

export interface ApplyOptions {
  baseline: Omit<Baseline, 'adopted_at'>;
  onStep?: (done: number, total: number, step: Step) => void;
}

/** Runs the plan (which must have no blockers). Returns the steps run. */
export async function applyAdoption(knex: Knex, plan: AdoptionPlan, options: ApplyOptions): Promise<Step[]> {
  if (plan.blockers.length) throw new Error('a plan with blockers cannot be applied');
  const steps = [...plan.steps, baselineStep(knex, options.baseline.migrations)];
  for (const sql of recordTableSql(knex)) await knex.raw(sql);
  const baseline: Baseline = { adopted_at: new Date().toISOString(), ...options.baseline };
  await record(knex, 'adopted', '', 'adoption baseline', baseline, null);
  const engine = await adoptEngine(knex);
  let current: Step | undefined;
  try {
    for (const [i, s] of steps.entries()) {
      current = s;
      if (s.kind === 'index' && engine.keyLines) s.inverse = { keys: { table: s.table, lines: await engine.keyLines(knex, s.table) } };
      if (engine.transactionalDdl) {
        const inTransaction = () =>
          knex.transaction(async (trx) => {
            for (const sql of engine.stepSettings ?? []) await trx.raw(sql);
            const id = await record(trx, s.kind, s.table, s.summary, s.forward, s.inverse);
            await runOp(trx, s.forward);
            await trx(ADOPTION_TABLE).where('id', id).update({ state: 'done' });
          });
        await (engine.aroundTransaction ? engine.aroundTransaction(knex, s.forward, inTransaction) : inTransaction());
      } else {
        const id = await record(knex, s.kind, s.table, s.summary, s.forward, s.inverse);
        await runOp(knex, s.forward);
        await knex(ADOPTION_TABLE).where('id', id).update({ state: 'done' });
      }
      options.onStep?.(i + 1, steps.length, s);
    }
    await knex(ADOPTION_TABLE).where('kind', 'adopted').update({ state: 'done' });
  } catch (err) {
    try {
      await undoChanges(knex);
    } catch (undoErr) {
      throw new Conflict(
        `adoption failed (${(err as Error).message}) and undoing it failed too (${(undoErr as Error).message}): run \`billettigue db adopt --undo\` once the cause is fixed`,
        { code: 'adoption_failed', cause: err },
      );
    }
    if (isLockWaitTimeout(err)) {
      throw new Conflict(
        `adoption waited too long for a lock on ${current?.table || 'a table'} (${current?.summary}): a transaction of the platform app holds it. What adoption had done is undone; run it again when the app is quieter`,
        { code: 'adoption_lock_timeout', cause: err },
      );
    }
    throw err;
  }
  return steps;
}

/** Runs every recorded inverse, newest first, then drops the adoption table. */
async function undoChanges(knex: Knex): Promise<number> {
  const rows = (await knex(ADOPTION_TABLE).whereNot('kind', 'adopted').orderBy('id', 'desc')) as RecordRow[];
  const engine = await adoptEngine(knex);
  for (const r of rows) {
    const inverse = JSON.parse(r.inverse_json) as Op;
    if (engine.transactionalDdl) {
      const inTransaction = () =>
        knex.transaction(async (trx) => {
          for (const sql of engine.stepSettings ?? []) await trx.raw(sql);
          await runOp(trx, inverse);
          await trx(ADOPTION_TABLE).where('id', r.id).del();
        });
      await (engine.aroundTransaction ? engine.aroundTransaction(knex, inverse, inTransaction) : inTransaction());
    } else {
      // A change recorded but never run (the process died in between): its inverse finds nothing.
      await runOp(knex, inverse, (err) => r.state === 'applying' && engine.missingObject(err));
      await knex(ADOPTION_TABLE).where('id', r.id).del();
    }
  }
  await knex.raw(`DROP TABLE ${engine.quote(ADOPTION_TABLE)}`);
  return rows.length;
}

export interface UndoCheck {
  baseline: Baseline;
  changes: number;
  /** What undoing will leave in place, and why. */
  kept: string[];
}

/**
 * What `--undo` would remove; refuses (exit 4, nothing changed) when it would lose data or undo
 * migrations run after adoption.
 */
export async function checkUndo(knex: Knex): Promise<UndoCheck> {
  const rec = await adoptionRecord(knex);
  if (!rec) throw new Conflict('this database was not adopted by billettigue: nothing to undo', { code: 'not_adopted' });
  const tables = await listTables(knex);
  if (tables.includes('knex_migrations')) {
    const applied = ((await knex('knex_migrations').pluck('name')) as string[]).map((n) => n.replace(/\.(ts|js)$/, ''));
    const later = applied.filter((n) => !rec.baseline.migrations.includes(n));
    if (later.length) {
      throw new Conflict(
        `migrations were applied after adoption (${later.join(', ')}): roll them back first (\`billettigue db rollback --step ${later.length}\`), then undo the adoption`,
        { code: 'migrations_after_adoption' },
      );
    }
  }
  for (const t of ARCHIVE_TABLES) {
    if (!tables.includes(t)) continue;
    const n = Number(((await knex(t).count({ n: '*' }).first()) as { n: number | string }).n);
    if (n > 0) {
      throw new Conflict(
        `${t} holds ${n} archived record(s), which undoing the adoption would delete with the table: bring them back first (\`billettigue maintenance archive restore --id …\`)`,
        { code: 'archive_not_empty' },
      );
    }
  }
  const kept = rec.changes.some((c) => c.kind === 'function') ? ((await (await adoptEngine(knex)).keptOnUndo?.(knex)) ?? []) : [];
  return { baseline: rec.baseline, changes: rec.changes.length, kept };
}

/** Removes exactly what adoption added. Call checkUndo first. Returns the number of changes undone. */
export async function undoAdoption(knex: Knex): Promise<number> {
  await checkUndo(knex);
  return undoChanges(knex);
}
