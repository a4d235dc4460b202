/**
 * PostgreSQL restore: staging schema → verify → one transaction that moves the tables → check.
 *
 * The backup is loaded into a schema beside the live one, in the same database
 * (bt_restore_<db>_<stamp>), and verified there (rows and SHA-256 of every table against the
 * manifest). Then ONE transaction moves every live table into bt_undo_<db>_<stamp> and every
 * staging table into the live schema (`ALTER TABLE … SET SCHEMA`, which carries the table's
 * indexes, constraints and owned sequences along). DDL is transactional in PostgreSQL: another
 * session sees all the old tables or all the new ones, never a mix, and a restore killed at any
 * point leaves one or the other (an open transaction dies with its session). Foreign keys point
 * at tables, not names: old tables keep referencing old ones, new ones new ones. Index and
 * sequence names are unique per schema, which is why the live tables leave before the staging
 * ones arrive (same transaction, that order). Readers waiting on a table during the swap resolve
 * its name again once the swap commits, so they read the new table.
 * The replaced tables stay in bt_undo_… until the next restore, for `restore --undo`.
 */
import type { PostgresTarget } from '../../../db/config.js';
import { helperDatabase, helperOf, isLeftoverName, STAGING_PREFIX, UNDO_PREFIX } from '../../../db/leftovers.js';
import { Conflict, IntegrityError, NotFound } from '../../../domain/errors.js';
import { pauseAt } from '../../pause.js';
import { assertUnchanged, expectedStaging, pickUndo, UNDO_CONTENTS, undoProblems, type TableCounts, type UndoCandidate, swapSets } from '../../swap-check.js';
import type { EngineRestoreOptions, LoadedTable, RestoreHooks, RestoreLock, RestoreReport, UndoReport } from '../types.js';
import { listPgTables } from './catalog.js';
import { closeQuietly, createHelperSchema, destroy, openPg, q, qi, rows, type PgSession } from './conn.js';
import { liveSchema, pgMigrations } from './dump.js';
import { dropCreated, loadBackupPg, loadDumpPg } from './load.js';

export type PgRestoreOptions = EngineRestoreOptions & { target: PostgresTarget };

/** How long the swap waits for sessions holding the live tables before giving up (exit 4). */
const SWAP_LOCK_TIMEOUT = '30s';

export async function schemaExists(conn: PgSession, name: string): Promise<boolean> {
  const r = await rows<{ n: string }>(conn, 'SELECT count(*)::text AS n FROM pg_namespace WHERE nspname = $1', [name]);
  return Number(r[0]?.n) > 0;
}

/** Drops a helper schema and everything in it, on a fresh session, bounded in time. */
export async function dropHelperSchema(target: PostgresTarget, name: string, timeoutMs = 30_000): Promise<boolean> {
  let conn: PgSession | undefined;
  try {
    conn = await openPg(target, { application: 'billettigue restore cleanup' });
    await q(conn, `SET lock_timeout = '${Math.ceil(timeoutMs / 1000)}s'`);
    await q(conn, `DROP SCHEMA IF EXISTS ${qi(name)} CASCADE`);
    return true;
  } catch {
    return false;
  } finally {
    await closeQuietly(conn);
  }
}

/** Foreign keys between the restored tables and live tables that stay: a partial swap would break them. */
async function crossReferences(conn: PgSession, live: string, staging: string, restored: string[]): Promise<string[]> {
  const r = await rows<{ t: string; tn: string; r: string; rn: string; c: string }>(
    conn,
    `SELECT c.relname AS t, n.nspname AS tn, rc.relname AS r, rn.nspname AS rn, k.conname AS c
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class rc ON rc.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE k.contype = 'f' AND (n.nspname = ANY($1) OR rn.nspname = ANY($1))`,
    [[live, staging]],
  );
  const set = new Set(restored);
  const out: string[] = [];
  for (const f of r) {
    // Live tables that stay, referencing (or referenced by) a table being replaced.
    if (f.tn === live && f.rn === live && (set.has(f.r) !== set.has(f.t))) out.push(`${f.t} → ${f.r} (${f.c})`);
    if (f.tn === staging && f.rn !== staging) out.push(`${f.t} → ${f.r} (${f.c})`);
  }
  return out;
}

/** Views and other objects of other schemas that depend on the tables (they would follow the old ones). */
async function dependents(conn: PgSession, live: string, tables: string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const r = await rows<{ what: string }>(
    conn,
    `SELECT DISTINCT v.relname || ' (' || CASE v.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE v.relkind::text END || ')' AS what
       FROM pg_depend d
       JOIN pg_rewrite w ON w.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
       JOIN pg_class v ON v.oid = w.ev_class
       JOIN pg_class t ON t.oid = d.refobjid AND d.refclassid = 'pg_class'::regclass
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname = ANY($2) AND v.oid <> t.oid
      ORDER BY 1`,
    [live, tables],
  );
  return r.map((x) => x.what);
}

/** pg_class oids of a schema's tables: a SET SCHEMA keeps them (the post-swap identity check). */
async function tableOids(conn: PgSession, schema: string): Promise<Map<string, string>> {
  const r = await rows<{ name: string; oid: string }>(
    conn,
    "SELECT c.relname AS name, c.oid::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
    [schema],
  );
  return new Map(r.map((x) => [x.name, x.oid]));
}

/** Row counts of a schema's tables (an undo set's record left out). */
async function countTables(conn: PgSession, schema: string): Promise<TableCounts> {
  const out: TableCounts = new Map();
  for (const t of (await listPgTables(conn, schema)).map((x) => x.name).sort()) {
    const [c] = await rows<{ n: string }>(conn, `SELECT count(*)::text AS n FROM ${qi(schema)}.${qi(t)}`);
    out.set(t, Number(c?.n));
  }
  return out;
}

/** The tables an undo schema holds and the ones it recorded (null: a set made before the record). */
async function undoContents(conn: PgSession, schema: string): Promise<{ present: string[]; recorded: string[] | null }> {
  const all = (await listPgTables(conn, schema)).map((t) => t.name);
  // listPgTables leaves helper names out, the record's among them: look it up by name.
  const [has] = await rows<{ n: string }>(
    conn,
    "SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'",
    [schema, UNDO_CONTENTS],
  );
  const recorded = Number(has?.n) > 0
    ? (await rows<{ name: string }>(conn, `SELECT name FROM ${qi(schema)}.${qi(UNDO_CONTENTS)} ORDER BY name`)).map((r) => r.name)
    : null;
  return { present: all.filter((t) => t !== UNDO_CONTENTS), recorded };
}

/** Every undo schema of `database`, newest first, with why it could not be put back. */
export async function undoCandidatesPg(conn: PgSession, database: string): Promise<UndoCandidate[]> {
  const out: UndoCandidate[] = [];
  for (const s of await undoSchemas(conn, database)) {
    const c = await undoContents(conn, s);
    out.push({ name: s, problems: undoProblems(c.recorded, c.present) });
  }
  return out;
}

function translateSwapError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  if (e?.code === '42P01') {
    return new IntegrityError(`a table to swap disappeared before the swap (${e.message ?? 'no such table'}): nothing was swapped, the live database is as it was`, {
      code: 'staging_changed',
      cause: err,
    });
  }
  if (e?.code === '55P03') {
    return new Conflict(`the live tables stayed in use by other sessions (long transactions?) for ${SWAP_LOCK_TIMEOUT}: nothing was swapped; retry when they are done`, {
      code: 'tables_busy',
      cause: err,
    });
  }
  if (e?.code === '40P01') {
    return new Conflict('another session deadlocked with the swap: nothing was swapped; retry', { code: 'tables_busy', cause: err });
  }
  return err;
}

interface SwapSteps {
  /** Called before the tables are locked (a missing table would fail the LOCK): throw to swap nothing. */
  precheck?: () => Promise<void>;
  /** Called with every table locked, before anything moves: throw to swap nothing. */
  verify?: () => Promise<void>;
  /** Write the undo record (the tables leaving `live`) into the `undo` schema. */
  record?: boolean;
  beforeCommit?: () => Promise<void>;
}

/**
 * Moves tables between schemas in one transaction: `out` leave `live` for `undo` first, then
 * `in` arrive from `from`. Everything or nothing.
 */
async function swapTables(conn: PgSession, live: string, undo: string, out: string[], from: string, incoming: string[], steps: SwapSteps = {}): Promise<void> {
  await q(conn, 'BEGIN');
  try {
    await q(conn, `SET LOCAL lock_timeout = '${SWAP_LOCK_TIMEOUT}'`);
    await steps.precheck?.();
    // Locks first, in one statement and a fixed order: fewer chances of a deadlock halfway.
    const all = [...out.map((t) => `${qi(live)}.${qi(t)}`), ...incoming.map((t) => `${qi(from)}.${qi(t)}`)];
    if (all.length) await q(conn, `LOCK TABLE ${all.join(', ')} IN ACCESS EXCLUSIVE MODE`);
    // With the tables locked nothing can change them until COMMIT: the check holds for the swap.
    await steps.verify?.();
    if (out.length) {
      await q(conn, `CREATE SCHEMA IF NOT EXISTS ${qi(undo)}`);
      if (steps.record) {
        await q(conn, `CREATE TABLE ${qi(undo)}.${qi(UNDO_CONTENTS)} (name text PRIMARY KEY)`);
        await q(conn, `INSERT INTO ${qi(undo)}.${qi(UNDO_CONTENTS)} (name) SELECT unnest($1::text[])`, [out]);
      }
    }
    for (const t of out) await q(conn, `ALTER TABLE ${qi(live)}.${qi(t)} SET SCHEMA ${qi(undo)}`);
    for (const t of incoming) await q(conn, `ALTER TABLE ${qi(from)}.${qi(t)} SET SCHEMA ${qi(live)}`);
    await steps.beforeCommit?.();
    await q(conn, 'COMMIT');
  } catch (err) {
    await q(conn, 'ROLLBACK').catch(() => undefined);
    throw translateSwapError(err);
  }
}

export async function restorePostgres(o: PgRestoreOptions): Promise<RestoreReport> {
  const admin = await openPg(o.target, { application: 'billettigue restore' });
  const live = await liveSchema(admin);
  const staging = helperDatabase(STAGING_PREFIX, o.target.database);
  let undo: string | null = null;
  let swapping: Promise<unknown> | null = null;
  let swapped = false;
  let finished = false;
  const loaders: PgSession[] = [];
  /** DROP statements of the extensions and functions the load had to create in the live database. */
  const created: string[] = [];
  o.hooks.onAbort?.(async () => {
    if (finished) return;
    for (const c of loaders) destroy(c);
    if (swapping) await swapping.catch(() => undefined);
    if (!swapped) {
      await dropHelperSchema(o.target, staging);
      await dropCreated(o.target, created);
    }
  });
  try {
    await createHelperSchema(admin, o.target, staging, 'a restore');
    o.hooks.onStep?.(`loading into staging schema ${staging}`);
    const load = await (o.manifest ? loadBackupPg : loadDumpPg)({
      target: o.target,
      schema: staging,
      live,
      file: o.file,
      manifest: o.manifest,
      jobs: o.jobs,
      onProgress: o.hooks.onProgress,
      onStep: o.hooks.onStep,
      onWarning: o.hooks.onWarning,
      onConnection: (c) => loaders.push(c),
      created,
    });
    const migrationsApplied = await o.migrateUp(load.migrations, staging);
    // What the swap moves in: the verified tables, never whatever the staging schema holds then.
    const expected = expectedStaging(o.manifest, load.tables, await countTables(admin, staging), migrationsApplied);
    const stagingTables = [...expected.keys()];
    const liveTables = (await listPgTables(admin, live)).map((t) => t.name).filter((t) => !isLeftoverName(t));
    const { full, moveOut, movedAside } = swapSets(o.manifest, stagingTables, liveTables);
    const cross = await crossReferences(admin, live, staging, full ? liveTables : stagingTables);
    if (cross.length && !full) {
      throw new Conflict(
        `this backup holds only some tables (--tables) and foreign keys link them to tables it does not hold (${cross.slice(0, 4).join(', ')}): restoring them alone would break those keys; restore a full backup instead`,
        { code: 'partial_foreign_keys' },
      );
    }
    const views = await dependents(admin, live, moveOut);
    if (views.length) {
      throw new Conflict(`objects depend on the tables being replaced and would keep pointing at the old ones: ${views.join(', ')}; drop them first (and create them again after the restore)`, {
        code: 'dependent_objects',
      });
    }
    if (o.dryRun) {
      await q(admin, `DROP SCHEMA ${qi(staging)} CASCADE`);
      await dropCreated(o.target, created);
      finished = true;
      return { staging, undo: null, tables: load.tables, method: load.method, migrations: load.migrations, migrationsApplied, swapped: false, postSwapCheck: 'dry run: nothing swapped', movedAside };
    }
    const before = await tableOids(admin, staging);
    await pauseAt('restore:swap');
    await o.lock?.assertHeld?.();
    undo = moveOut.length ? helperDatabase(UNDO_PREFIX, o.target.database) : null;
    o.hooks.onStep?.(`swapping ${stagingTables.length} tables in (one transaction)`);
    swapping = swapTables(admin, live, undo ?? staging, moveOut, staging, stagingTables, {
      // The second line of defence after the restore lock: the staging schema must still be
      // exactly what was verified (someone may have dropped or changed it meanwhile).
      precheck: async () => {
        const now = (await listPgTables(admin, staging)).map((t) => t.name);
        assertUnchanged(expected, new Map(now.map((t) => [t, expected.get(t) ?? -1])), `the staging schema ${staging}`);
      },
      verify: async () => assertUnchanged(expected, await countTables(admin, staging), `the staging schema ${staging}`),
      record: true,
      beforeCommit: () => pauseAt('restore:commit'),
    });
    await swapping;
    swapped = true;
    await pauseAt('restore:swapped');

    // The live tables must now be exactly the verified staging ones (same pg_class oids).
    const after = await tableOids(admin, live);
    const problems = stagingTables.filter((t) => !after.has(t) || after.get(t) !== before.get(t)).map((t) => `${t} is not the verified table`);
    if (undo) {
      const kept = await undoContents(admin, undo);
      problems.push(...undoProblems(kept.recorded, kept.present).map((p) => `the undo copy ${undo}: ${p}`));
    }
    if (problems.length) {
      await swapTables(admin, live, staging, stagingTables, undo ?? staging, moveOut);
      swapped = false;
      throw new IntegrityError(`the swapped-in tables failed the final check (${problems.join('; ')}): the previous tables were put back`, { code: 'post_swap_mismatch' });
    }
    await q(admin, `DROP SCHEMA ${qi(staging)} CASCADE`);
    // Only the last restore can be undone: older undo copies of this database go.
    for (const s of await undoSchemas(admin, o.target.database)) if (s !== undo) await q(admin, `DROP SCHEMA ${qi(s)} CASCADE`);
    finished = true;
    return {
      staging,
      undo,
      tables: load.tables,
      method: load.method,
      migrations: load.migrations,
      migrationsApplied,
      swapped: true,
      postSwapCheck: 'every live table is the verified staging table (same pg_class oid)',
      movedAside,
    };
  } catch (err) {
    if (!swapped) {
      for (const c of loaders) destroy(c);
      o.hooks.onStep?.('cleaning up the staging schema');
      if (!(await dropHelperSchema(o.target, staging))) o.hooks.onWarning?.(`the staging schema ${staging} could not be dropped: \`billettigue restore --clean-leftovers --yes\` removes it`);
      // Swapped back after a failed final check: the undo schema holds only its record.
      if (undo) await dropHelperSchema(o.target, undo);
      await dropCreated(o.target, created);
      finished = true;
    }
    throw err;
  } finally {
    await closeQuietly(admin);
  }
}

/** Undo schemas of `database`, newest first. */
export async function undoSchemas(conn: PgSession, database: string): Promise<string[]> {
  const r = await rows<{ name: string }>(conn, "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'bt\\_undo\\_%' ORDER BY nspname DESC");
  return r.map((x) => x.name).filter((n) => helperOf(n, UNDO_PREFIX, database));
}

/** The newest undo schema that can be put back, or null (exit 6 when every one is incomplete). */
export async function findUndoPg(conn: PgSession, database: string): Promise<string | null> {
  return pickUndo(await undoCandidatesPg(conn, database));
}

/** Swaps the last restore's previous tables back in; what is live now becomes the new undo copy. */
export async function undoPostgres(target: PostgresTarget, checkMigrations: (m: string[]) => void, hooks: RestoreHooks, lock?: RestoreLock): Promise<UndoReport> {
  const admin = await openPg(target, { application: 'billettigue restore --undo' });
  try {
    const live = await liveSchema(admin);
    const from = await findUndoPg(admin, target.database);
    if (!from) throw new NotFound(`nothing to undo: no previous tables of ${target.database} are kept (no ${UNDO_PREFIX}${target.database}_… schema)`);
    checkMigrations(await pgMigrations(admin, from));
    const contents = await undoContents(admin, from);
    const undoTables = contents.recorded ?? contents.present;
    const liveTables = (await listPgTables(admin, live)).map((t) => t.name).filter((t) => !isLeftoverName(t));
    const views = await dependents(admin, live, liveTables);
    if (views.length) throw new Conflict(`objects depend on the live tables: ${views.join(', ')}; drop them first`, { code: 'dependent_objects' });
    const keptAs = liveTables.length ? helperDatabase(UNDO_PREFIX, target.database) : null;
    await lock?.assertHeld?.();
    hooks.onStep?.(`swapping ${undoTables.length} tables back (one transaction)`);
    // Before and under the swap's locks: the set must still hold exactly its recorded tables.
    const stillComplete = async () => {
      const now = await undoContents(admin, from);
      const problems = undoProblems(now.recorded, now.present);
      if (problems.length) throw new IntegrityError(`the kept copy ${from} changed (${problems.join('; ')}): nothing was swapped`, { code: 'undo_incomplete' });
    };
    await swapTables(admin, live, keptAs ?? from, liveTables, from, undoTables, { precheck: stillComplete, verify: stillComplete, record: true });
    await q(admin, `DROP SCHEMA ${qi(from)} CASCADE`);
    return { from, keptAs, tables: undoTables };
  } finally {
    await closeQuietly(admin);
  }
}

export type { LoadedTable };
