/**
 * `billettigue restore <name|latest|path>`: verified, confirmed, safety-backed-up, atomic,
 * verified again, undoable. Also `restore --undo` and `restore --clean-leftovers`.
 * Reference: docs/backup.md.
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import { InvalidInput } from '../domain/errors.js';
import { displayTime, formatCount, type Progress } from './ui.js';
import { localZoneName } from '../domain/dates.js';

interface RestoreOpts {
  dir?: string;
  safetyBackup: boolean;
  undo?: boolean;
  cleanLeftovers?: boolean;
  dryRun?: boolean;
  jobs?: number;
}

export function register(cmd: Command): void {
  cmd
    .argument('[backup]', 'a name from `backup list`, `latest`, or a path (also a stock mysqldump/mariadb-dump, pg_dump plain or sqlite3 .dump file, .sql or .sql.gz)')
    .option('--dir <dir>', 'backup folder (default ./backups): where names and `latest` are looked up and the safety backup goes')
    .option('--no-safety-backup', 'do not back up the current database first')
    .option('--undo', 'put back what the last restore replaced (while it is kept)')
    .option('--clean-leftovers', 'drop what interrupted restores left behind (staging databases, temp files)')
    .option('--jobs <n>', 'sessions loading tables at once (MySQL, PostgreSQL; default: cores + 1, between 2 and 4)', parsePositiveInt('--jobs', 16))
    .option('--dry-run', 'verify, load into a staging copy and check it, then drop it: the database is not touched')
    .addHelpText(
      'after',
      `
Steps: verify the file (exit 6 if corrupt, truncated or not matching its manifest; nothing is
touched) → refuse backups newer than this build (exit 4) → show target and backup, confirm (on a
terminal, type the database name; otherwise --yes) → safety backup safety_backup_<time> → load
into a staging copy and verify every table → swap it in atomically (MySQL: one RENAME TABLE;
PostgreSQL: one transaction moving the tables between schemas; SQLite: rename of the file) → check
→ summary. The replaced tables are kept for --undo until the next restore. A second restore of
the same database at the same time fails at once (exit 4), on any node of a Galera cluster too,
naming the first (docs/cluster.md).

Examples:
  $ billettigue restore latest
  $ billettigue restore billettigue_backup_2026-11-25T08-30-00-000Z --yes
  $ billettigue restore ./dump-from-mariadb-dump.sql.gz --yes      # stock dump: restored, not verifiable
  $ billettigue restore ./pg_dump-no-owner.sql --yes              # pg_dump --no-owner (plain format)
  $ billettigue restore latest --dry-run                           # rehearsal: load and check only
  $ billettigue restore --undo --yes
  $ billettigue restore --clean-leftovers --yes`,
    )
    .action(action<RestoreOpts>(restoreCmd));
}

function dirOf(opts: RestoreOpts): string {
  return opts.dir ?? 'backups';
}

async function restoreCmd(ctx: Ctx, opts: RestoreOpts, args: string[]): Promise<void> {
  const modes = [opts.undo, opts.cleanLeftovers, args.length > 0].filter(Boolean).length;
  if (modes > 1) throw new InvalidInput('choose one: a backup to restore, --undo, or --clean-leftovers');
  if (opts.cleanLeftovers) return cleanCmd(ctx, opts);
  if (opts.undo) return undoCmd(ctx, opts);
  if (args.length === 0) throw new InvalidInput('name the backup to restore: a name from `billettigue backup list`, `latest`, or a path');
  const target = ctx.target();
  const { resolveBackup } = await import('../backup/files.js');
  const { acquireRestoreLock } = await import('../backup/lock.js');
  const restore = await import('../backup/restore.js');
  const file = resolveBackup(args[0]!, dirOf(opts), target);

  const lock = await acquireRestoreLock(target, { purpose: 'restore', actor: ctx.actor });
  if (lock.notice) ctx.ui.warn(lock.notice);
  // On Ctrl-C (or at the end): first undo what an unfinished restore started, then unlock.
  const aborts: Array<() => Promise<void>> = [];
  ctx.onClose(async () => {
    for (const fn of aborts.splice(0).reverse()) await fn().catch(() => undefined);
    await lock.release();
  });

  const spinner = await ctx.ui.spinner('verifying the backup');
  let prepared;
  try {
    prepared = await restore.prepareRestore(file, target);
  } finally {
    spinner.stop();
  }
  for (const w of prepared.warnings) ctx.ui.warn(w);
  const m = prepared.manifest;

  await handleLeftovers(ctx, opts, 'before restoring');

  // What is about to happen, for the person who confirms it.
  const rows = m ? m.tables.reduce((n, t) => n + t.rows, 0) : null;
  ctx.announceTarget(true);
  ctx.ui.info(`backup:  ${file}`);
  if (m) {
    ctx.ui.info(`taken:   ${displayTime(m.finished_at)} ${localZoneName()} from ${m.database.display} (${m.server_version}), ${m.scope === 'full' ? 'every table' : `only ${m.tables.map((t) => t.name).join(', ')}`}`);
    ctx.ui.info(`content: ${m.tables.length} tables, ${formatCount(rows!)} rows (${m.tables.filter((t) => t.rows > 0).map((t) => `${t.name} ${formatCount(t.rows)}`).join(', ')})`);
    ctx.ui.info('verified: manifest checksum and file SHA-256 ok');
  }
  if (prepared.behind.length) {
    ctx.ui.warn(
      `the backup is older than this build (${prepared.behind.length} migration${prepared.behind.length > 1 ? 's' : ''} behind: ${prepared.behind.join(', ')}): they are applied to the restored copy before it is swapped in, so the database comes back at this build's schema`,
    );
  }
  // A backup of another database: say so with both names, and ask even a scripted run (--yes).
  const { backupOf } = await import('../backup/files.js');
  const foreign = m !== null && backupOf({ manifest: m }, target) === false;
  if (foreign) ctx.ui.warn(`this backup was taken from ${m.database.display}, not from ${target.display}`);
  if (!ctx.dryRun) {
    await ctx.confirmByName(
      `replace ${m && m.scope === 'tables' ? `the tables ${m.tables.map((t) => t.name).join(', ')}` : 'every table'} of ${target.display} with this backup${foreign ? ` of ANOTHER database, ${m.database.display}` : ''}?`,
    );
  }

  // Safety backup of what is there now.
  let safety: string | null = null;
  if (!ctx.dryRun && opts.safetyBackup && (await restore.liveHasTables(target))) {
    const { takeBackup } = await import('../backup/dump.js');
    const { SAFETY_PREFIX } = await import('../backup/files.js');
    ctx.ui.info('taking a safety backup of the current database…');
    const s = await takeBackup(target, { dir: dirOf(opts), prefix: SAFETY_PREFIX, onWarning: (w) => ctx.ui.warn(w), onAbort: (fn) => aborts.push(fn) });
    safety = s.file;
    ctx.ui.success(`safety backup: ${s.file}`);
  } else if (!ctx.dryRun && !opts.safetyBackup) {
    ctx.ui.warn('no safety backup (--no-safety-backup): the replaced tables are only kept for `restore --undo`');
  }

  // Steps as lines on stderr; the load as a progress bar (compressed MiB read) on a terminal.
  let progress: Progress | undefined;
  const started = Date.now();
  const report = await restore
    .runRestore(prepared, target, {
      dryRun: ctx.dryRun,
      jobs: opts.jobs,
      lock,
      hooks: {
        onStep: (s) => {
          progress?.done();
          progress = undefined;
          ctx.ui.info(s);
        },
        onProgress: (done, total) => {
          progress ??= ctx.ui.progress('loading (MiB)', Math.max(1, Math.round(total / 1048576)));
          progress.update(Math.round(done / 1048576));
        },
        onWarning: (w) => ctx.ui.warn(w),
        onAbort: (fn) => aborts.push(fn),
      },
    })
    .finally(() => progress?.done());
  const seconds = (Date.now() - started) / 1000;

  if (report.swapped) await auditRestore(ctx, 'restore.run', { file, safety_backup: safety, tables: report.tables.length, undo: report.undo });

  const tables = report.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256, verified: t.verified }));
  if (ctx.ui.json) {
    ctx.ui.printJson({
      target: target.display,
      file,
      dry_run: ctx.dryRun,
      swapped: report.swapped,
      verified: Boolean(m),
      stock_dump: prepared.stock,
      method: report.method,
      safety_backup: safety,
      undo: report.undo,
      migrations_applied: report.migrationsApplied,
      moved_aside: report.movedAside,
      post_swap_check: report.postSwapCheck,
      tables,
      rows: tables.reduce((n, t) => n + t.rows, 0),
      duration_ms: Math.round(seconds * 1000),
    });
    return;
  }
  await ctx.ui.list(tables, [
    { header: 'table', value: (t) => t.name },
    { header: 'rows', value: (t) => t.rows, align: 'right' },
    { header: 'sha-256', value: (t) => (t.sha256 ? `${t.sha256.slice(0, 16)}…` : '') },
    { header: 'verified', value: (t) => (t.verified ? ctx.ui.green('yes') : prepared.stock ? 'no manifest' : ctx.ui.red('no')) },
  ]);
  if (report.movedAside.length) ctx.ui.info(`tables not in the backup, moved aside with the rest: ${report.movedAside.join(', ')}`);
  if (report.migrationsApplied.length) ctx.ui.info(`migrations applied to the restored copy: ${report.migrationsApplied.join(', ')}`);
  if (report.method === 'statements') ctx.ui.info('loaded with INSERT statements (LOAD DATA LOCAL INFILE unavailable)');
  if (ctx.dryRun) {
    ctx.ui.success(`dry run: the backup loads and ${m ? 'matches its manifest' : 'loads cleanly'} (${seconds.toFixed(1)} s); the staging copy was dropped, ${target.display} was not touched`);
    return;
  }
  ctx.ui.info(`after the swap: ${report.postSwapCheck}`);
  ctx.ui.success(
    `restored ${target.display} from ${file} in ${seconds.toFixed(1)} s: ${tables.length} tables, ${formatCount(tables.reduce((n, t) => n + t.rows, 0))} rows${m ? ', every table verified against the manifest' : ' (stock dump: not verifiable)'}`,
  );
  if (safety) ctx.ui.info(`safety backup: ${safety}`);
  if (report.undo) ctx.ui.info(`the replaced tables are kept as ${report.undo}: \`billettigue restore --undo\` puts them back`);
}

async function auditRestore(ctx: Ctx, actionName: string, after: Record<string, unknown>): Promise<void> {
  const { connect } = await import('../db/connection.js');
  const { writeAudit } = await import('../domain/audit.js');
  const target = ctx.target();
  const knex = await connect(target);
  try {
    await knex.transaction((trx) =>
      writeAudit(trx, { actor: ctx.actor, action: actionName, targetType: 'database', targetId: target.display, after }),
    );
  } catch {
    ctx.ui.warn('the restored database has no audit_log table: the restore was not recorded there');
  } finally {
    await knex.destroy();
  }
}

async function handleLeftovers(ctx: Ctx, opts: RestoreOpts, when: string): Promise<void> {
  const target = ctx.target();
  const { listRestoreLeftovers } = await import('../backup/leftovers.js');
  const { cleanLeftovers } = await import('../backup/restore.js');
  const leftovers = await listRestoreLeftovers(target, dirOf(opts), { holdingLock: true });
  if (leftovers.length === 0) return;
  ctx.ui.warn(`an interrupted restore left: ${leftovers.map((l) => `${l.kind} ${l.name}`).join(', ')}`);
  if (ctx.dryRun) return;
  if (!ctx.yes) {
    await ctx.confirm(`remove them ${when}?`);
  }
  const cleaned = await cleanLeftovers(target, leftovers);
  ctx.ui.success(`cleaned: ${cleaned.join(', ')}`);
}

async function cleanCmd(ctx: Ctx, opts: RestoreOpts): Promise<void> {
  const target = ctx.target();
  const { acquireRestoreLock } = await import('../backup/lock.js');
  const lock = await acquireRestoreLock(target, { purpose: 'restore --clean-leftovers', actor: ctx.actor });
  ctx.onClose(() => lock.release());
  if (lock.notice) ctx.ui.warn(lock.notice);
  const { listRestoreLeftovers } = await import('../backup/leftovers.js');
  const { cleanLeftovers } = await import('../backup/restore.js');
  const leftovers = await listRestoreLeftovers(target, dirOf(opts), { holdingLock: true });
  if (leftovers.length === 0) {
    ctx.ui.success(`no leftovers of an interrupted restore for ${target.display}`);
    if (ctx.ui.json) ctx.ui.printJson({ target: target.display, leftovers: [], cleaned: [] });
    return;
  }
  const names = leftovers.map((l) => `${l.kind} ${l.name}`);
  if (ctx.dryRun) {
    ctx.ui.info(`dry run: would remove ${names.join(', ')}`);
    if (ctx.ui.json) ctx.ui.printJson({ target: target.display, leftovers: names, cleaned: [], dry_run: true });
    return;
  }
  await ctx.confirm(`remove ${names.join(', ')}?`);
  const cleaned = await cleanLeftovers(target, leftovers);
  if (ctx.ui.json) return ctx.ui.printJson({ target: target.display, leftovers: names, cleaned });
  for (const c of cleaned) ctx.ui.line(c);
  ctx.ui.success(`removed ${cleaned.length} leftover${cleaned.length === 1 ? '' : 's'}`);
}

async function undoCmd(ctx: Ctx, _opts: RestoreOpts): Promise<void> {
  const target = ctx.target();
  const { acquireRestoreLock } = await import('../backup/lock.js');
  const lock = await acquireRestoreLock(target, { purpose: 'restore --undo', actor: ctx.actor });
  ctx.onClose(() => lock.release());
  if (lock.notice) ctx.ui.warn(lock.notice);
  const { describeUndo, undoRestore } = await import('../backup/restore.js');
  const kept = await describeUndo(target);
  if (!kept) {
    const { NotFound } = await import('../domain/errors.js');
    throw new NotFound(`nothing to undo for ${target.display}: no previous tables are kept (a restore keeps them until the next restore)`);
  }
  ctx.announceTarget();
  ctx.ui.info(`puts back: ${kept} (what the last restore replaced); what is live now is kept in its place, so --undo again redoes`);
  if (ctx.dryRun) {
    ctx.ui.info('dry run: nothing was swapped');
    if (ctx.ui.json) ctx.ui.printJson({ target: target.display, dry_run: true, from: kept });
    return;
  }
  await ctx.confirmByName(`swap the previous tables of ${target.display} back in?`);
  const r = await undoRestore(target, { onStep: (s) => ctx.ui.info(s), onWarning: (w) => ctx.ui.warn(w) }, lock);
  await auditRestore(ctx, 'restore.undo', { from: r.from, kept_as: r.keptAs, tables: r.tables.length });
  if (ctx.ui.json) return ctx.ui.printJson({ target: target.display, from: r.from, kept_as: r.keptAs, tables: r.tables });
  ctx.ui.success(`put back ${r.tables.length} tables from ${r.from}; ${r.keptAs ? `what was live is kept as ${r.keptAs}` : 'nothing was live (nothing to redo)'}`);
}
