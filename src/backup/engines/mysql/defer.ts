/**
 * When a table is loaded without its secondary indexes, which are built after its rows (faster
 * on one server; on a cluster the build is DDL that every node's commits wait for: galera.ts).
 */
import { InvalidInput } from '../../../domain/errors.js';

/** Tables with at least this many rows get their secondary indexes and foreign keys after the load. */
export const DEFER_INDEXES_FROM_ROWS = 20_000;

/** BILLETTIGUE_DEFER_INDEXES_FROM_ROWS when set (tests lower it to keep data small), else null. */
export function deferIndexesFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env.BILLETTIGUE_DEFER_INDEXES_FROM_ROWS;
  if (raw === undefined || raw === '') return null;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidInput(`BILLETTIGUE_DEFER_INDEXES_FROM_ROWS=${raw} is invalid: expected a whole number of rows >= 1`);
  }
  return n;
}
