/**
 * MySQL/MariaDB restore: staging database → verify → one multi-table RENAME TABLE → check.
 *
 * DDL commits as it goes, so a restore cannot be one transaction. Instead the backup is loaded
 * into a staging database beside the live one (bt_restore_<db>_<stamp>) and verified there
 * (rows and SHA-256 of every table against the manifest). Then ONE `RENAME TABLE` moves every
 * live table into bt_undo_<db>_<stamp> and every staging table into the live database: MySQL
 * executes a multi-table RENAME atomically, so the live database is, at any instant, entirely
 * the old one or entirely the restored one (kill -9, Ctrl-C, a full disk included). Foreign keys
 * follow renamed tables: a parent moved to another database drags its children's references with
 * it, which is why every table moves at once (and why a partial backup is refused when its tables
 * are referenced by, or reference, tables it does not contain). Constraint names are per schema:
 * the live ones leave with their tables before the staging ones arrive.
 * The replaced tables stay in bt_undo_… until the next restore, for `restore --undo`.
 */
import type { MysqlTarget } from '../../../db/config.js';
import { helperDatabase, helperOf, isLeftoverName, STAGING_PREFIX, UNDO_PREFIX } from '../../../db/leftovers.js';
import { Conflict, IntegrityError, NotFound } from '../../../domain/errors.js';
import { closeQuietly, openMysql, quoteId, rows, run, type RawConnection } from './conn.js';
import { loadBackupMysql, loadDumpMysql } from './load.js';
import type { EngineRestoreOptions, RestoreHooks, RestoreLock, RestoreReport, UndoReport } from '../types.js';
import { rulesOf } from './rules.js';
import { pauseAt } from '../../pause.js';
import { assertUnchanged, expectedStaging, pickUndo, UNDO_CONTENTS, undoProblems, type TableCounts, type UndoCandidate, swapSets } from '../../swap-check.js';

export type MysqlRestoreOptions = EngineRestoreOptions & { target: MysqlTarget };

async function baseTables(conn: RawConnection, database: string): Promise<string[]> {
  const r = await rows<{ name: string }>(
    conn,
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
    [database],
  );
  return r.map((x) => x.name);
}

/** Row counts of a database's base tables (helper tables such as an undo set's record left out). */
async function countTables(conn: RawConnection, database: string): Promise<TableCounts> {
  const out: TableCounts = new Map();
  for (const t of await baseTables(conn, database)) {
    if (t === UNDO_CONTENTS) continue;
    const [c] = await rows<{ n: number | string }>(conn, `SELECT COUNT(*) AS n FROM ${quoteId(database)}.${quoteId(t)}`);
    out.set(t, Number(c?.n));
  }
  return out;
}

/**
 * Creates an undo database recording the tables about to be moved into it, before the RENAME
 * that moves them: a RENAME that never happens (killed, refused) leaves a set that says so.
 */
async function createUndoSet(conn: RawConnection, name: string, like: string, tables: string[]): Promise<void> {
  await createLike(conn, name, like);
  await run(conn, `CREATE TABLE ${quoteId(name)}.${quoteId(UNDO_CONTENTS)} (name VARCHAR(64) NOT NULL PRIMARY KEY) ENGINE=InnoDB`);
  await run(conn, `INSERT INTO ${quoteId(name)}.${quoteId(UNDO_CONTENTS)} (name) VALUES ${tables.map(() => '(?)').join(', ')}`, tables);
}

/** The tables an undo set holds and the ones it recorded (null: a set made before the record). */
async function undoContents(conn: RawConnection, name: string): Promise<{ present: string[]; recorded: string[] | null }> {
  const all = await baseTables(conn, name);
  const recorded = all.includes(UNDO_CONTENTS)
    ? (await rows<{ name: string }>(conn, `SELECT name FROM ${quoteId(name)}.${quoteId(UNDO_CONTENTS)} ORDER BY name`)).map((r) => r.name)
    : null;
  return { present: all.filter((t) => t !== UNDO_CONTENTS), recorded };
}

/** Every undo database of `live`, newest first, with why it could not be put back. */
export async function undoCandidatesMysql(conn: RawConnection, live: string): Promise<UndoCandidate[]> {
  const dbs = await rows<{ name: string }>(conn, "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'bt\\_undo\\_%' ORDER BY schema_name DESC");
  const out: UndoCandidate[] = [];
  for (const d of dbs.map((x) => x.name).filter((n) => helperOf(n, UNDO_PREFIX, live))) {
    const c = await undoContents(conn, d);
    out.push({ name: d, problems: undoProblems(c.recorded, c.present) });
  }
  return out;
}

async function createLike(conn: RawConnection, name: string, like: string): Promise<void> {
  const [s] = await rows<{ cs: string; co: string }>(
    conn,
    'SELECT default_character_set_name AS cs, default_collation_name AS co FROM information_schema.schemata WHERE schema_name = ?',
    [like],
  );
  const cs = s?.cs ?? 'utf8mb4';
  const co = s?.co ?? 'utf8mb4_unicode_ci';
  await run(conn, `CREATE DATABASE ${quoteId(name)} CHARACTER SET ${cs} COLLATE ${co}`);
}

async function dropDatabase(conn: RawConnection, name: string): Promise<void> {
  await run(conn, 'SET SESSION FOREIGN_KEY_CHECKS = 0');
  await run(conn, `DROP DATABASE IF EXISTS ${quoteId(name)}`);
}

/** Drops a helper database on a fresh connection, bounded in time (cleanup after a failure). */
export async function dropHelper(target: MysqlTarget, name: string, timeoutMs = 30_000): Promise<boolean> {
  let conn: RawConnection | undefined;
  try {
    conn = await openMysql(target, null);
    const c = conn;
    await Promise.race([dropDatabase(c, name), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs))]);
    return true;
  } catch {
    return false;
  } finally {
    await closeQuietly(conn);
  }
}

async function triggersOn(conn: RawConnection, database: string, tables: string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const r = await rows<{ name: string; tbl: string }>(
    conn,
    'SELECT trigger_name AS name, event_object_table AS tbl FROM information_schema.triggers WHERE trigger_schema = ?',
    [database],
  );
  return r.filter((t) => tables.includes(t.tbl)).map((t) => `${t.name} on ${t.tbl}`);
}

/** Foreign keys between the restored tables and live tables that stay: a partial swap would break them. */
async function crossReferences(conn: RawConnection, live: string, staging: string, restored: string[]): Promise<string[]> {
  const set = new Set(restored);
  const out: string[] = [];
  const liveFks = await rows<{ t: string; r: string; c: string }>(
    conn,
    'SELECT table_name AS t, referenced_table_name AS r, constraint_name AS c FROM information_schema.referential_constraints WHERE constraint_schema = ?',
    [live],
  );
  for (const f of liveFks) if (set.has(f.r) && !set.has(f.t)) out.push(`${f.t} → ${f.r} (${f.c})`);
  const stagingFks = await rows<{ t: string; r: string; c: string }>(
    conn,
    'SELECT table_name AS t, referenced_table_name AS r, constraint_name AS c FROM information_schema.referential_constraints WHERE constraint_schema = ?',
    [staging],
  );
  for (const f of stagingFks) if (!set.has(f.r)) out.push(`${f.t} → ${f.r} (${f.c})`);
  return out;
}

/** InnoDB table ids of a database's tables (a RENAME keeps them): null when not readable. */
async function tableIds(conn: RawConnection, database: string): Promise<Map<string, string> | null> {
  if (!/^[A-Za-z0-9_]+$/.test(database)) return null;
  for (const view of ['INNODB_SYS_TABLES', 'INNODB_TABLES']) {
    try {
      const r = await rows<{ name: string; id: string | number }>(
        conn,
        `SELECT name AS name, table_id AS id FROM information_schema.${view} WHERE name LIKE ?`,
        [`${database}/%`],
      );
      return new Map(r.map((x) => [x.name.slice(database.length + 1), String(x.id)]));
    } catch {
      /* not available on this server */
    }
  }
  return null;
}

function renameList(pairs: Array<[string, string, string, string]>): string {
  return pairs.map(([fromDb, fromT, toDb, toT]) => `${quoteId(fromDb)}.${quoteId(fromT)} TO ${quoteId(toDb)}.${quoteId(toT)}`).join(', ');
}

function translateRenameError(err: unknown): unknown {
  const e = err as { errno?: number; sqlMessage?: string };
  if (e?.errno === 1205 || e?.errno === 4031) {
    return new Conflict('the live tables stayed locked by other sessions (long transactions?) for 30 s: nothing was swapped; retry when they are done', { code: 'tables_busy', cause: err });
  }
  if (e?.errno === 1146) {
    // A table of the move list vanished between the last check and the RENAME: MySQL refused the
    // whole statement, so nothing moved.
    return new IntegrityError(`a table to swap disappeared just before the swap (${e.sqlMessage ?? 'no such table'}): nothing was swapped, the live database is as it was`, {
      code: 'staging_changed',
      cause: err,
    });
  }
  if (e?.errno === 1435) {
    return new Conflict('a table has triggers, which MySQL cannot move between databases: drop the triggers first', { code: 'triggers', cause: err });
  }
  return err;
}

export async function restoreMysql(o: MysqlRestoreOptions): Promise<RestoreReport> {
  const live = o.target.database;
  const admin = await openMysql(o.target, null);
  const staging = helperDatabase(STAGING_PREFIX, live);
  let undo: string | null = null;
  let swapping: Promise<unknown> | null = null;
  let swapped = false;
  let finished = false;
  const loaders: RawConnection[] = [];
  o.hooks.onAbort?.(async () => {
    if (finished) return;
    for (const c of loaders) c.destroy();
    if (swapping) await swapping.catch(() => undefined);
    await dropHelper(o.target, staging);
    if (!swapped && undo) await dropHelper(o.target, undo);
  });
  try {
    await createLike(admin, staging, live);
    o.hooks.onStep?.(`loading into staging database ${staging}`);
    const load = await (o.manifest ? loadBackupMysql : loadDumpMysql)({
      target: o.target,
      database: staging,
      file: o.file,
      manifest: o.manifest,
      jobs: o.jobs,
      onProgress: o.hooks.onProgress,
      onStep: o.hooks.onStep,
      onWarning: o.hooks.onWarning,
      onConnection: (c) => loaders.push(c),
    });
    const migrationsApplied = await o.migrateUp(load.migrations, staging);
    // What the swap moves in: the verified tables, never whatever the staging database holds then.
    const expected = expectedStaging(o.manifest, load.tables, await countTables(admin, staging), migrationsApplied);
    const stagingTables = [...expected.keys()];
    const liveTables = (await baseTables(admin, live)).filter((t) => !isLeftoverName(t));
    const { full, moveOut, movedAside } = swapSets(o.manifest, stagingTables, liveTables);
    if (!full) {
      const cross = await crossReferences(admin, live, staging, stagingTables);
      if (cross.length) {
        throw new Conflict(
          `this backup holds only some tables (--tables) and foreign keys link them to tables it does not hold (${cross.slice(0, 4).join(', ')}): restoring them alone would break those keys; restore a full backup instead`,
          { code: 'partial_foreign_keys' },
        );
      }
    }
    const trig = [...(await triggersOn(admin, live, moveOut)), ...(await triggersOn(admin, staging, stagingTables))];
    if (trig.length) {
      throw new Conflict(`tables with triggers cannot be swapped atomically (MySQL cannot move them between databases): ${trig.join(', ')}; drop the triggers first`, { code: 'triggers' });
    }
    if (o.dryRun) {
      await dropDatabase(admin, staging);
      finished = true;
      return { staging, undo: null, tables: load.tables, method: load.method, migrations: load.migrations, migrationsApplied, swapped: false, postSwapCheck: 'dry run: nothing swapped', movedAside };
    }
    await pauseAt('restore:swap');
    // A cluster: wait until no transaction is open in the live database on any node (the RENAME
    // would abort them there), and make sure the lock is still ours.
    await rulesOf(admin).beforeSwap(admin, o.target, live, o.hooks.onStep, o.hooks.onWarning);
    await o.lock?.assertHeld?.();
    // The second line of defence after the restore lock: the staging database must still be
    // exactly what was verified (someone may have dropped or changed it meanwhile).
    assertUnchanged(expected, await countTables(admin, staging), `the staging database ${staging}`);
    if (moveOut.length) {
      undo = helperDatabase(UNDO_PREFIX, live);
      await createUndoSet(admin, undo, live, moveOut);
    }
    const before = await tableIds(admin, staging);
    const pairs: Array<[string, string, string, string]> = [
      ...(undo ? moveOut.map((t): [string, string, string, string] => [live, t, undo!, t]) : []),
      ...stagingTables.map((t): [string, string, string, string] => [staging, t, live, t]),
    ];
    o.hooks.onStep?.(`swapping ${stagingTables.length} tables in (one RENAME TABLE)`);
    await run(admin, 'SET SESSION lock_wait_timeout = 30');
    swapping = run(admin, `RENAME TABLE ${renameList(pairs)}`);
    try {
      await swapping;
    } catch (err) {
      throw translateRenameError(err);
    }
    swapped = true;
    await pauseAt('restore:swapped');

    // The live tables must now be exactly the verified staging ones.
    let postSwapCheck: string;
    const after = before ? await tableIds(admin, live) : null;
    const nowLive = await baseTables(admin, live);
    const problems: string[] = [];
    for (const t of stagingTables) if (!nowLive.includes(t)) problems.push(`${t} missing`);
    if (undo) {
      const kept = await undoContents(admin, undo);
      problems.push(...undoProblems(kept.recorded, kept.present).map((p) => `the undo copy ${undo}: ${p}`));
    }
    if (before && after) {
      for (const t of stagingTables) if (before.get(t) !== after.get(t)) problems.push(`${t} is not the verified table`);
      postSwapCheck = 'every live table is the verified staging table (same InnoDB table id)';
    } else {
      for (const [t, n] of expected) {
        if (!nowLive.includes(t)) continue;
        const [c] = await rows<{ n: number }>(admin, `SELECT COUNT(*) AS n FROM ${quoteId(live)}.${quoteId(t)}`);
        if (Number(c?.n) < n) problems.push(`${t} has ${c?.n} rows, expected ${n}`);
      }
      postSwapCheck = 'row counts of the live tables';
    }
    if (problems.length) {
      // Put the previous tables back (the same RENAME, reversed) and say so.
      const back = pairs.map(([a, b, c, d]): [string, string, string, string] => [c, d, a, b]).reverse();
      const restoredOrder = [...back.filter(([, , to]) => to === staging), ...back.filter(([, , to]) => to === live)];
      await run(admin, `RENAME TABLE ${renameList(restoredOrder)}`);
      swapped = false;
      throw new IntegrityError(`the swapped-in tables failed the final check (${problems.join('; ')}): the previous tables were put back`, { code: 'post_swap_mismatch' });
    }
    await dropDatabase(admin, staging);
    // Only the last restore can be undone: older undo copies of this database go.
    const dbs = await rows<{ name: string }>(admin, "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'bt\\_undo\\_%'");
    for (const d of dbs) if (d.name !== undo && helperOf(d.name, UNDO_PREFIX, live)) await dropDatabase(admin, d.name);
    finished = true;
    return { staging, undo, tables: load.tables, method: load.method, migrations: load.migrations, migrationsApplied, swapped: true, postSwapCheck, movedAside };
  } catch (err) {
    if (!swapped) {
      for (const c of loaders) c.destroy();
      o.hooks.onStep?.('cleaning up the staging database');
      await dropDatabase(admin, staging).catch(() => dropHelper(o.target, staging));
      if (undo) await dropDatabase(admin, undo).catch(() => dropHelper(o.target, undo!));
      finished = true;
    }
    throw err;
  } finally {
    await closeQuietly(admin);
  }
}

/** The newest undo database of `live` that can be put back, or null (exit 6 when every one is incomplete). */
export async function findUndoMysql(conn: RawConnection, live: string): Promise<string | null> {
  return pickUndo(await undoCandidatesMysql(conn, live));
}

export async function undoMigrationsMysql(conn: RawConnection, database: string): Promise<string[]> {
  const has = await rows<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'knex_migrations'", [database]);
  if (!has[0]?.n) return [];
  return (await rows<{ name: string }>(conn, `SELECT name FROM ${quoteId(database)}.knex_migrations ORDER BY id`)).map((r) => r.name.replace(/\.(ts|js)$/, ''));
}

/** Swaps the last restore's previous tables back in; what is live now becomes the new undo copy. */
export async function undoMysql(target: MysqlTarget, checkMigrations: (m: string[]) => void, hooks: RestoreHooks, lock?: RestoreLock): Promise<UndoReport> {
  const live = target.database;
  const admin = await openMysql(target, null);
  try {
    const from = await findUndoMysql(admin, live);
    if (!from) throw new NotFound(`nothing to undo: no previous tables of ${live} are kept (no ${UNDO_PREFIX}${live}_… database)`);
    checkMigrations(await undoMigrationsMysql(admin, from));
    const contents = await undoContents(admin, from);
    const undoTables = contents.recorded ?? contents.present;
    const liveTables = (await baseTables(admin, live)).filter((t) => !isLeftoverName(t));
    const trig = [...(await triggersOn(admin, live, liveTables)), ...(await triggersOn(admin, from, undoTables))];
    if (trig.length) throw new Conflict(`tables with triggers cannot be swapped: ${trig.join(', ')}`, { code: 'triggers' });
    await rulesOf(admin).beforeSwap(admin, target, live, hooks.onStep, hooks.onWarning);
    await lock?.assertHeld?.();
    // Checked again right before the swap: the set must still hold exactly its recorded tables.
    const now = await undoContents(admin, from);
    const problems = undoProblems(now.recorded, now.present);
    if (problems.length) throw new IntegrityError(`the kept copy ${from} changed (${problems.join('; ')}): nothing was swapped`, { code: 'undo_incomplete' });
    const keptAs = liveTables.length ? helperDatabase(UNDO_PREFIX, live) : null;
    if (keptAs) await createUndoSet(admin, keptAs, live, liveTables);
    hooks.onStep?.(`swapping ${undoTables.length} tables back (one RENAME TABLE)`);
    await run(admin, 'SET SESSION lock_wait_timeout = 30');
    try {
      await run(
        admin,
        `RENAME TABLE ${renameList([
          ...(keptAs ? liveTables.map((t): [string, string, string, string] => [live, t, keptAs, t]) : []),
          ...undoTables.map((t): [string, string, string, string] => [from, t, live, t]),
        ])}`,
      );
    } catch (err) {
      if (keptAs) await dropDatabase(admin, keptAs).catch(() => undefined);
      throw translateRenameError(err);
    }
    const nowLive = await baseTables(admin, live);
    const absent = undoTables.filter((t) => !nowLive.includes(t));
    if (absent.length) throw new IntegrityError(`after the swap ${absent.join(', ')} are not live: check with \`billettigue doctor\``, { code: 'post_swap_mismatch' });
    await dropDatabase(admin, from);
    return { from, keptAs, tables: undoTables };
  } finally {
    await closeQuietly(admin);
  }
}
