/**
 * `billettigue backup`: take a backup (the group command itself), `backup list`,
 * `backup verify <name|latest|path> [--deep]`, `backup prune --keep N [--dry-run]`.
 * Reference: docs/backup.md.
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
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
  $ billettigue backup list
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
    .description('backups of the folder, newest first: name, date, size, rows, migrations, verified?')
    .option('--dir <dir>', 'backup folder (default ./backups)')
    .addHelpText('after', `\nExamples:\n  $ billettigue backup list\n  $ billettigue backup ls --json`)
    .action(action<{ dir?: string }>(listCmd));

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
    .description('delete old backups, keeping the N newest (never the newest one)')
    .requiredOption('--keep <n>', 'how many of the newest backups to keep (at least 1)', parsePositiveInt('--keep'))
    .option('--dir <dir>', 'backup folder (default ./backups)')
    .option('--dry-run', 'list what would be deleted and delete nothing')
    .addHelpText('after', `
Examples:
  $ billettigue backup prune --keep 7 --dry-run
  $ billettigue backup prune --keep 7 --yes        # from cron`)
    .action(action<{ keep: number; dir?: string; dryRun?: boolean }>(pruneCmd));
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
  ctx.ui.info(`backing up ${target.display}`);
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

async function listCmd(ctx: Ctx, opts: { dir?: string }): Promise<void> {
  const { listBackups } = await import('../backup/files.js');
  const dir = dirOf(ctx, opts);
  const entries = listBackups(dir);
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
  if (!ctx.ui.json) ctx.ui.info(`folder: ${dir}`);
  await ctx.ui.list(
    rows,
    [
      { header: 'name', value: (r) => r.name },
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

async function pruneCmd(ctx: Ctx, opts: { keep: number; dir?: string; dryRun?: boolean }): Promise<void> {
  const { planPrune, applyPrune } = await import('../backup/prune.js');
  const dir = dirOf(ctx, opts);
  const plan = planPrune(dir, opts.keep);
  const out = plan.remove.map((e) => ({ name: e.name, created_at: e.date.toISOString(), size_bytes: e.size }));
  if (plan.remove.length === 0) {
    ctx.ui.success(`nothing to prune: ${plan.keep.length} backup${plan.keep.length === 1 ? '' : 's'} in ${dir}, keeping ${opts.keep}`);
    if (ctx.ui.json) ctx.ui.printJson({ dry_run: Boolean(opts.dryRun), kept: plan.keep.map((e) => e.name), deleted: [] });
    return;
  }
  if (opts.dryRun) {
    ctx.ui.info(`dry run: would delete ${plan.remove.length} backup${plan.remove.length === 1 ? '' : 's'} (keeping ${plan.keep.length}):`);
    if (ctx.ui.json) return ctx.ui.printJson({ dry_run: true, kept: plan.keep.map((e) => e.name), deleted: out });
    for (const e of plan.remove) ctx.ui.line(e.name);
    return;
  }
  await ctx.confirm(`delete ${plan.remove.length} backup${plan.remove.length === 1 ? '' : 's'} from ${dir} (keeping the ${plan.keep.length} newest)?`);
  applyPrune(plan);
  if (ctx.ui.json) return ctx.ui.printJson({ dry_run: false, kept: plan.keep.map((e) => e.name), deleted: out });
  for (const e of plan.remove) ctx.ui.line(e.name);
  ctx.ui.success(`deleted ${plan.remove.length} backup${plan.remove.length === 1 ? '' : 's'}, kept ${plan.keep.length}`);
}
