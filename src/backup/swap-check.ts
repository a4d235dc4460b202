/**
 * What a swap may move, decided from what was verified, never from what happens to be there.
 *
 * A restore swaps a staging copy in; `restore --undo` swaps an undo set back. Both used to build
 * their move list from whatever tables they found at swap time: a staging database emptied by
 * hand (or by another session's `--clean-leftovers`) during a restore "swapped 0 tables in" after
 * moving every live table out, and an empty undo set left by a killed swap "put back 0 tables".
 * The rules here, shared by every engine (src/backup/engines/<engine>/restore.ts):
 *   - the staging copy is checked against the manifest once loaded (every table present and
 *     verified, nothing unexpected unless migrations added it), and its tables and row counts are
 *     recorded (`expectedStaging`);
 *   - just before the swap it is counted again and must be exactly that record
 *     (`assertUnchanged`), else nothing is swapped and the restore fails with exit 6;
 *   - an undo set records the tables it is meant to hold (`UNDO_CONTENTS`, written before the
 *     swap that fills it); it can be put back only when it holds exactly those (`undoProblems`):
 *     an empty or partial set is a leftover, never a candidate for `--undo`.
 */
import { IntegrityError } from '../domain/errors.js';
import type { LoadedTable } from './engines/types.js';
import type { Manifest } from './manifest.js';

/** Table of an undo set (MySQL database, PostgreSQL schema) naming the tables the swap moved into it. */
export const UNDO_CONTENTS = 'bt_undo_contents';

/** Table name → row count. */
export type TableCounts = Map<string, number>;

function listed(label: string, names: string[]): string {
  return names.length ? `${label}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ` and ${names.length - 8} more` : ''}` : '';
}

/**
 * The staging copy, as loaded and verified, must be the backup: every manifest table present and
 * verified (rows and SHA-256 against the manifest), no other table unless migrations were applied
 * to the copy (they create tables). Returns what the swap will move in: the tables with their row
 * counts now, the reference for the check just before the swap.
 */
export function expectedStaging(manifest: Manifest | null, loaded: LoadedTable[], counted: TableCounts, migrationsApplied: string[]): TableCounts {
  if (manifest) {
    const want = new Set(manifest.tables.map((t) => t.name));
    const missing = [...want].filter((t) => !counted.has(t));
    const unexpected = migrationsApplied.length ? [] : [...counted.keys()].filter((t) => !want.has(t));
    const unverified = manifest.tables.filter((t) => {
      const got = loaded.find((x) => x.name === t.name);
      return counted.has(t.name) && (!got || !got.verified || got.rows !== t.rows || got.sha256 !== t.sha256);
    });
    // Row counts can be compared directly only when no migration ran on the copy.
    const recount = migrationsApplied.length ? [] : manifest.tables.filter((t) => counted.has(t.name) && counted.get(t.name) !== t.rows);
    const problems = [
      listed('missing', missing),
      listed('unexpected', unexpected),
      listed('not matching the manifest', [...new Set([...unverified, ...recount].map((t) => t.name))]),
    ].filter(Boolean);
    if (problems.length) {
      throw new IntegrityError(`the staging copy is not the backup (${problems.join('; ')}): nothing was swapped`, { code: 'verify_mismatch' });
    }
  }
  return new Map(counted);
}

/** What differs between the verified record and what is there now (empty: identical). */
/**
 * Which live tables a swap moves out: a full backup replaces the whole live set (a live table it
 * does not hold is moved aside with the rest, and reported); a --tables backup only the tables it
 * holds. The same rule on every server engine.
 */
export function swapSets(manifest: Manifest | null, stagingTables: string[], liveTables: string[]): { full: boolean; moveOut: string[]; movedAside: string[] } {
  const full = !manifest || manifest.scope === 'full';
  return {
    full,
    moveOut: full ? liveTables : liveTables.filter((t) => stagingTables.includes(t)),
    movedAside: full ? liveTables.filter((t) => !stagingTables.includes(t)) : [],
  };
}

export function differences(expected: TableCounts, found: TableCounts): string[] {
  const missing = [...expected.keys()].filter((t) => !found.has(t));
  const extra = [...found.keys()].filter((t) => !expected.has(t));
  const rows = [...expected].filter(([t, n]) => found.has(t) && found.get(t) !== n).map(([t, n]) => `${t} ${found.get(t)} rows, ${n} verified`);
  return [listed('missing', missing), listed('unexpected', extra), listed('rows changed', rows)].filter(Boolean);
}

/**
 * The last check before a swap: `what` (the staging copy, named) must still be exactly what was
 * verified. Throws an IntegrityError (exit 6) naming the differences; nothing has been swapped.
 */
export function assertUnchanged(expected: TableCounts, found: TableCounts, what: string): void {
  const diff = differences(expected, found);
  if (diff.length) {
    throw new IntegrityError(`${what} changed after it was verified (${diff.join('; ')}): nothing was swapped, the live database is as it was`, {
      code: 'staging_changed',
    });
  }
}

/**
 * Why an undo set cannot be put back (empty: it can). `recorded` is the table list written into
 * the set before its swap (null for a set made before that record existed: then any non-empty set
 * counts, as the swap that filled it was atomic); `present` the tables it holds now.
 */
export function undoProblems(recorded: string[] | null, present: string[]): string[] {
  if (recorded === null) return present.length ? [] : ['it holds no table'];
  if (recorded.length === 0) return ['it records no table'];
  const have = new Set(present);
  const want = new Set(recorded);
  const missing = recorded.filter((t) => !have.has(t));
  const extra = present.filter((t) => !want.has(t));
  if (missing.length === recorded.length) return [`it holds none of its ${recorded.length} tables (its swap never happened)`];
  return [listed('missing', missing), listed('unexpected', extra)].filter(Boolean);
}

export interface UndoCandidate {
  name: string;
  problems: string[];
}

/**
 * The undo set `restore --undo` puts back: the newest complete one (an incomplete newer one is a
 * failed swap's, which changed nothing live). Null when there is none at all; an IntegrityError
 * (exit 6) when every set is incomplete.
 */
export function pickUndo(newestFirst: UndoCandidate[]): string | null {
  const ok = newestFirst.find((c) => c.problems.length === 0);
  if (ok) return ok.name;
  const bad = newestFirst[0];
  if (!bad) return null;
  throw new IntegrityError(
    `the kept copy ${bad.name} is incomplete (${bad.problems.join('; ')}): it cannot be put back, nothing was changed; \`billettigue restore --clean-leftovers --yes\` removes it`,
    { code: 'undo_incomplete' },
  );
}
