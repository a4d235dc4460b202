/**
 * Test hook: `BILLETTIGUE_TEST_PAUSE_AT=<phase>` makes a backup or restore stop at a known point
 * so a test can kill it (`kill -9`), interrupt it (SIGINT) or change the database under it.
 * When the phase is reached the process writes `billettigue-paused <phase> <pid>` on stderr and
 * waits; it continues once the file named by `BILLETTIGUE_TEST_RESUME_FILE` exists (it waits
 * forever when that variable is unset). Several phases may be given, comma-separated.
 * Phases: backup:snapshot (transaction open, nothing read), backup:data (first table read),
 * restore:load (staging created, first table loaded), restore:swap (staging verified, just
 * before the swap), restore:commit (PostgreSQL: inside the swap's transaction, every table moved,
 * before COMMIT), restore:swapped (just after the swap, before the final checks), mutate (a
 * mutating command connected, its schema checked, before its transaction starts: a barrier that
 * lets a test start many writers at the same instant), mutate:commit (its work done inside the
 * transaction, before COMMIT: a test can write the same rows elsewhere meanwhile), seed:load (seed
 * demo: the plan made, --fresh done, no row loaded), seed:table (seed demo: a table committed; other
 * lanes keep loading), archive:commit (maintenance archive: a batch copied and deleted inside its
 * transaction, before COMMIT), archive:batch (maintenance archive: a batch committed, the next not
 * started).
 * Unset in production: `pauseAt` is then a no-op.
 */
import { existsSync } from 'node:fs';

export type PausePhase = 'backup:snapshot' | 'backup:data' | 'restore:load' | 'restore:swap' | 'restore:commit' | 'restore:swapped' | 'mutate' | 'mutate:commit' | 'seed:load' | 'seed:table' | 'archive:commit' | 'archive:batch';

export async function pauseAt(phase: PausePhase, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const wanted = env.BILLETTIGUE_TEST_PAUSE_AT;
  if (!wanted || !wanted.split(',').map((s) => s.trim()).includes(phase)) return;
  process.stderr.write(`billettigue-paused ${phase} ${process.pid}\n`);
  const resume = env.BILLETTIGUE_TEST_RESUME_FILE;
  for (;;) {
    if (resume && existsSync(resume)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}
