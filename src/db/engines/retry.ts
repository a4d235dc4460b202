/**
 * The conflict retry of one database server (MySQL/MariaDB deadlocks, SQLite busy snapshots): a
 * deadlock there resolves within milliseconds, so a few quick retries with jitter. Engines whose
 * conflicts last longer (a Galera cluster: src/db/engines/mysql/galera.ts) give their own.
 */
import type { ConflictRetry } from './types.js';

export const SERVER_RETRY: ConflictRetry = {
  retries: 5,
  delayMs: (n) => 5 + Math.random() * 20 * n,
  busyMessage: (attempts) => `the database is busy: this transaction kept deadlocking with concurrent ones (${attempts} attempts, each rolled back, nothing was changed); retry`,
};
