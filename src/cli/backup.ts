/**
 * `billettigue backup`: take a backup (the group command itself), `backup list`,
 * `backup verify <name|latest|path> [--deep]`, `backup prune --keep N [--dry-run]`.
 * Reference: docs/backup.md.
 */
import type { Command } from 'commander';
import { action, parseNonNegativeInt, parsePositiveInt, type Ctx } from './context.js';
import { InvalidInput, Unavailable } from '../domain/errors.js';
import { displayTime, formatCount, zoned, type Progress } from './ui.js';

interface BackupOpts {
  dir?: string;
  name?: string;
  tables?: string;
}

function dirOf(ctx: Ctx, opts: { dir?: string }): string {
  return opts.dir ?? (ctx.opts as { dir?: string }).dir ?? 'backups';
}

export function register(cmd: Command): void {
  cmd
    .option('--dir <dir>', 'backup folder, default ./backups (created 0700)')
    .option('--name <name>', 'file name (default billettigue_backup_<UTC timestamp>); .sql.gz is added')
    .option('--tables <t1,t2>', 'only these tables (default: every table of the database)')
    .addHelpText(
      'after',
      `
Takes a consistent, compressed, checksummed backup: <dir>/<name>.sql.gz and its manifest
<name>.sql.gz.json (row counts and SHA-256 per table, file SHA-256, migrations; never a password).
Files are 0600 in a 0700 folder. The MySQL file is plain SQL: \`gunzip < FILE | mariadb DB\` loads it.

Examples:
  $ billettigue backup                                   # into ./backups
  $ billettigue backup --dir /var/backups/billettigue --name before-migration
  $ billettigue backup list                              # this database's backups (--all: every one)
  $ billettigue backup verify latest --deep
  $ billettigue backup prune --keep 14 --dry-run
  $ billettigue restore latest                           # see \`billettigue restore --help\``,
    )
    .action(action<BackupOpts>(takeBackupCmd));

  // `backup create` does what `backup` alone does (create, like every other group).
  cmd
    .command('create')
    .description('take a backup (same as `billettigue backup`)')
    .option('--dir <dir>', 'backup folder, default ./backups (created 0700)')
    .option('--name <name>', 'file name (default billettigue_backup_<UTC timestamp>); .sql.gz is added')
    .option('--tables <t1,t2>', 'only these tables (default: every table of the database)')
    .addHelpText('after', `
Examples:
  $ billettigue backup create
  $ billettigue backup create --dir /var/backups/billettigue --name before-migration`)
    .action(action<BackupOpts>(takeBackupCmd));

  cmd
    .command('list')
    .description('backups of the target database, newest first: name, regular or safety, date, size, rows, verified?')
    .option('--dir <dir>', 'backup folder (default ./backups)')
    .option('--all', 'every database\'s backups in the folder, with the database each came from')
    .addHelpText('after', `\nExamples:\n  $ billettigue backup list\n  $ billettigue backup ls --json`)
    .action(action<{ dir?: string; all?: boolean }>(listCmd));

  cmd
    .command('clean')
    .description('remove the temp files interrupted backups left in the folder (never a finished backup)')
    .option('--dir <dir>', 'backup folder (default ./backups)')
    .option('--dry-run', 'list them, remove nothing')
    .addHelpText('after', `
A temp file is ".<name>.sql.gz.tmp-<pid>-<random>"; only those whose process is gone are removed.
Examples:
  $ billettigue backup clean --dry-run
  $ billettigue backup clean --dir /var/backups/billettigue`)
    .action(action<{ dir?: string }>(cleanCmd));

  cmd
    .command('verify')
    .description('check a backup: gzip integrity, file SHA-256, manifest; --deep loads it into a scratch database')
    .argument('<backup>', 'a name from `backup list`, `latest`, or a path')
    .option('--dir <dir>', 'backup folder (default ./backups)')
    .option('--deep', 'load into a scratch database and compare every table with the manifest, then drop it')
    .addHelpText('after', `
Exit code 6 when the backup does not verify.
Examples:
  $ billettigue backup verify latest
  $ billettigue backup verify ./backups/billettigue_backup_2026-11-25T08-30-00-000Z.sql.gz --deep`)
    .action(action<{ dir?: string; deep?: boolean }>(verifyCmd));

  cmd
    .command('prune')
    .description('delete old backups of the target database, keeping the N newest (never the newest one) and the newest safety backups')
    .requiredOption('--keep <n>', 'how many of the newest regular backups to keep (at least 1; safety backups do not count)', parsePositiveInt('--keep'))
    .option('--keep-safety <n>', `how many of the newest safety backups to keep (default ${3})`, parseNonNegativeInt('--keep-safety'))
    .option('--all', 'prune every database\'s backups in the folder, each by the same rule')
    .option('--dir <dir>', 'backup folder (default ./backups)')
    .option('--dry-run', 'list what would be deleted and delete nothing')
    .addHelpText('after', `
Examples:
  $ billettigue backup prune --keep 7 --dry-run
  $ billettigue backup prune --keep 7 --yes        # from cron
  $ billettigue backup prune --keep 7 --keep-safety 1 --all --yes
A file whose manifest is missing or unreadable is never deleted (its database is unknown).`)
    .action(action<PruneOpts>(pruneCmd));
}

function parseTables(s: string | undefined): string[] | undefined {
  if (s === undefined) return undefined;
  const list = [...new Set(s.split(',').map((t) => t.trim()).filter(Boolean))];
  if (list.length === 0) throw new InvalidInput('--tables: name at least one table, e.g. --tables reservations,paiements');
  return list;
}

function mb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function takeBackupCmd(ctx: Ctx, opts: BackupOpts): Promise<void> {
  const target = ctx.target();
  const tables = parseTables(opts.tables);
  if (target.kind === 'sqlite') {
    // Opening a missing SQLite file would create an empty database: say there is nothing instead.
    const { existsSync } = await import('node:fs');
    if (!existsSync(target.filename)) throw new Unavailable(`there is no database at ${target.display}: nothing to back up (check --db or DATABASE_URL)`, { code: 'database_missing' });
  } else {
    await ctx.db({ schema: false }); // a clear error when the server or database is unreachable
  }
  const { takeBackup } = await import('../backup/dump.js');
  ctx.announceTarget();
  ctx.onInterrupt(() => 'interrupted: no backup was written (the unfinished temp file was removed); the database was only read');
  let progress: Progress | undefined;
  const result = await takeBackup(target, {
    dir: dirOf(ctx, opts),
    name: opts.name,
    tables,
    onProgress: (done, total) => {
      progress ??= ctx.ui.progress('rows', Math.max(total, 1));
      progress.update(done);
    },
    onWarning: (m) => ctx.ui.warn(m),
    onAbort: (fn) => ctx.onClose(fn),
  });
  progress?.done();
  const m = result.manifest;
  const rows = m.tables.reduce((n, t) => n + t.rows, 0);
  if (ctx.ui.json) {
    ctx.ui.printJson({
      file: result.file,
      manifest: result.manifestFile,
      target: target.display,
      kind: m.kind,
      tables: m.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256 })),
      rows,
      size_bytes: m.file.size,
      sha256: m.file.sha256,
      migrations: m.migrations.length,
      duration_ms: m.duration_ms,
    });
    return;
  }
  ctx.ui.line(result.file);
  ctx.ui.success(`backup written: ${m.tables.length} tables, ${formatCount(rows)} rows, ${mb(m.file.size)} in ${(m.duration_ms / 1000).toFixed(1)} s`);
  ctx.ui.info(`manifest: ${result.manifestFile}`);
}

async function listCmd(ctx: Ctx, opts: { dir?: string; all?: boolean }): Promise<void> {
  const { listBackups, backupOf, sourceOf } = await import('../backup/files.js');
  const dir = dirOf(ctx, opts);
  const every = listBackups(dir);
  // The target's backups (and files whose database is unknown) unless --all.
  const target = opts.all ? undefined : ctx.target();
  const entries = target ? every.filter((e) => backupOf(e, target) !== false) : every;
  const rows = entries.map((e) => {
    const m = e.manifest;
    const v = m?.verification;
    return {
      name: e.name,
      file: e.file,
      created_at: e.date.toISOString(),
      size_bytes: e.size,
      kind: m?.kind ?? null,
      database: m?.database.display ?? null,
      source: sourceOf(e),
      tables: m ? m.tables.length : null,
      rows: m ? m.tables.reduce((n, t) => n + t.rows, 0) : null,
      migrations: m ? m.migrations.length : null,
      last_migration: m ? (m.migrations[m.migrations.length - 1] ?? null) : null,
      manifest: m ? 'ok' : e.manifestError ? 'invalid' : 'missing',
      safety: e.safety,
      verified: v ? v.ok : null,
      verified_deep: v ? v.deep : null,
      verified_at: v ? v.at : null,
    };
  });
  if (!ctx.ui.json) ctx.ui.info(`folder: ${dir}${target ? `, backups of ${target.display}` : ', every database'}`);
  const hidden = every.length - entries.length;
  if (hidden > 0) ctx.ui.info(`${formatCount(hidden)} backup${hidden === 1 ? '' : 's'} of other databases not shown: add --all`);
  await ctx.ui.list(
    rows,
    [
      { header: 'name', value: (r) => r.name },
      { header: 'type', value: (r) => (r.safety ? 'safety' : 'backup') },
      { header: 'database', value: (r) => r.source, wide: !opts.all },
      { header: zoned('date'), key: 'date', value: (r) => displayTime(r.created_at) },
      { header: 'size', value: (r) => mb(r.size_bytes), align: 'right' },
      { header: 'rows', value: (r) => r.rows, align: 'right' },
      { header: 'migrations', value: (r) => r.migrations, align: 'right' },
      {
        header: 'verified?',
        value: (r) =>
          r.manifest !== 'ok'
            ? ctx.ui.red(`manifest ${r.manifest}`)
            : r.verified === null
              ? 'not yet'
              : r.verified
                ? ctx.ui.green(`${r.verified_deep ? 'deep' : 'yes'} ${String(r.verified_at).slice(0, 10)}`)
                : ctx.ui.red('FAILED'),
      },
    ],
    rows,
  );
}

async function verifyCmd(ctx: Ctx, ref: { dir?: string; deep?: boolean }, args: string[]): Promise<void> {
  const { resolveBackup } = await import('../backup/files.js');
  const { verifyBackup } = await import('../backup/verify.js');
  const file = resolveBackup(args[0] ?? '', dirOf(ctx, ref));
  const target = ref.deep ? ctx.target() : undefined;
  ctx.ui.info(`verifying ${file}${ref.deep ? ' (deep: loading it into a scratch database)' : ''}`);
  const spinner = await ctx.ui.spinner('verifying');
  try {
    const report = await verifyBackup(file, { deep: Boolean(ref.deep), target, onStep: (s) => (spinner.text = s) });
    spinner.stop();
    if (ctx.ui.json) return ctx.ui.printJson(report);
    for (const c of report.checks) ctx.ui.line(`${c.ok ? ctx.ui.green('ok') : ctx.ui.red('FAIL')}  ${c.name.padEnd(18)} ${c.detail}`);
    ctx.ui.success(`${file} verified${ref.deep ? ' (deep)' : ''}`);
  } finally {
    spinner.stop();
  }
}

interface PruneOpts {
  keep: number;
  keepSafety?: number;
  all?: boolean;
  dir?: string;
  dryRun?: boolean;
}

async function pruneCmd(ctx: Ctx, opts: PruneOpts): Promise<void> {
  const { planPrune, applyPrune, DEFAULT_KEEP_SAFETY } = await import('../backup/prune.js');
  const { sourceOf } = await import('../backup/files.js');
  const dir = dirOf(ctx, opts);
  const target = opts.all ? undefined : ctx.target();
  const keepSafety = opts.keepSafety ?? DEFAULT_KEEP_SAFETY;
  const plan = planPrune(dir, { keep: opts.keep, keepSafety, target });
  const whose = target ? `backups of ${target.display}` : 'backups of every database';
  const out = plan.remove.map((e) => ({ name: e.name, type: e.safety ? 'safety' : 'backup', database: sourceOf(e), created_at: e.date.toISOString(), size_bytes: e.size }));
  const json = (dryRun: boolean, deleted: typeof out) => ({ dry_run: dryRun, target: target?.display ?? null, keep: opts.keep, keep_safety: keepSafety, kept: plan.keep.map((e) => e.name), deleted });
  const rule = `keeping the ${opts.keep} newest backup${opts.keep === 1 ? '' : 's'} and ${keepSafety} newest safety backup${keepSafety === 1 ? '' : 's'}`;
  if (plan.remove.length === 0) {
    ctx.ui.success(`nothing to prune in ${dir}: ${formatCount(plan.keep.length)} ${whose}, ${rule}`);
    if (ctx.ui.json) ctx.ui.printJson(json(Boolean(opts.dryRun), []));
    return;
  }
  const listing = async () =>
    ctx.ui.list(out, [
      { header: 'name', value: (r) => r.name },
      { header: 'type', value: (r) => r.type },
      { header: 'database', value: (r) => r.database, wide: !opts.all },
    ]);
  if (opts.dryRun) {
    ctx.ui.info(`dry run: would delete ${formatCount(plan.remove.length)} of the ${whose} (${rule}):`);
    if (ctx.ui.json) return ctx.ui.printJson(json(true, out));
    await listing();
    return;
  }
  await ctx.confirm(`delete ${formatCount(plan.remove.length)} ${whose} from ${dir} (${rule})?`);
  applyPrune(plan);
  if (ctx.ui.json) return ctx.ui.printJson(json(false, out));
  await listing();
  ctx.ui.success(`deleted ${formatCount(plan.remove.length)} backup${plan.remove.length === 1 ? '' : 's'}, kept ${formatCount(plan.keep.length)}`);
}

async function cleanCmd(ctx: Ctx, opts: { dir?: string }): Promise<void> {
  const { strayTempFiles } = await import('../backup/files.js');
  const dir = dirOf(ctx, opts);
  const stray = strayTempFiles(dir);
  if (ctx.ui.json && (ctx.dryRun || stray.length === 0)) return ctx.ui.printJson({ dir, dry_run: ctx.dryRun, removed: [], found: stray });
  if (stray.length === 0) return ctx.ui.success(`no temp file left in ${dir}`);
  if (ctx.dryRun) {
    for (const f of stray) ctx.ui.line(f);
    ctx.ui.info(`dry run: would remove ${formatCount(stray.length)} temp file${stray.length === 1 ? '' : 's'}`);
    return;
  }
  const { removeQuietly } = await import('../backup/files.js');
  for (const f of stray) removeQuietly(f);
  if (ctx.ui.json) return ctx.ui.printJson({ dir, dry_run: false, removed: stray, found: stray });
  for (const f of stray) ctx.ui.line(f);
  ctx.ui.success(`removed ${formatCount(stray.length)} temp file${stray.length === 1 ? '' : 's'} from ${dir}`);
}
