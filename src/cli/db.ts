/**
 * `billettigue db`: create, migrate, rollback, status, seed, reset, unlock.
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import { Conflict, InvalidInput, Unavailable } from '../domain/errors.js';
import { displayTime, formatCount, zoned } from './ui.js';
import { register as registerAdopt } from './db-adopt.js';

export function register(db: Command): void {
  db.addHelpText(
    'after',
    `
Examples:
  $ billettigue db create                      # MySQL: CREATE DATABASE IF NOT EXISTS (utf8mb4)
  $ billettigue db migrate
  $ billettigue db status --json
  $ billettigue db rollback --step 1
  $ ADMIN_EMAIL=admin@example.fr billettigue db seed --generate-password
  $ billettigue db reset --yes                 # drop every table, migrate, seed the roles
  $ billettigue db adopt --dry-run             # the platform app built the database: take it over`,
  );

  db.command('create')
    .description('create the database if it does not exist (MySQL, PostgreSQL) or the embedded file (SQLite)')
    .addHelpText('after', `\nExamples:\n  $ billettigue db create\n  $ billettigue --db mysql://root@127.0.0.1:3306/billettigue db create`)
    .action(action(createDb));

  db.command('migrate')
    .description('apply every pending migration')
    .option('--dry-run', 'list the migrations that would be applied, change nothing (PostgreSQL, SQLite: they run, then roll back)')
    .addHelpText('after', `\nExamples:\n  $ billettigue db migrate\n  $ billettigue db migrate --dry-run`)
    .action(action(migrate));

  db.command('rollback')
    .description('revert the last batch of migrations, N migrations, or all of them (asks before dropping rows)')
    .option('--step <n>', 'revert this many migrations', parsePositiveInt('--step'))
    .option('--all', 'revert every migration (leaves only knex\'s own tables)')
    .option('--dir <dir>', 'where the safety backup goes (default ./backups)')
    .option('--no-safety-backup', 'do not back up the database before dropping tables')
    .option('--dry-run', 'list the migrations and the tables (with their rows) that would go, change nothing')
    .addHelpText('after', `
Before dropping a table that holds rows it shows what will be lost (tables and row counts), asks
(type the database name on a terminal; --yes without one, else exit 2) and takes a safety backup.
Examples:
  $ billettigue db rollback --dry-run
  $ billettigue db rollback --step 1 --yes
  $ billettigue db rollback --all --yes --no-safety-backup     # a scratch database`)
    .action(action(rollbackCmd));

  db.command('status')
    .description('applied and pending migrations, with dates')
    .addHelpText('after', `\nExamples:\n  $ billettigue db status\n  $ billettigue db status --json`)
    .action(action(status));

  db.command('seed')
    .description('insert the default roles (idempotent) and, with an email or a password option, a first admin account')
    .option('--admin-email <email>', `email of the admin account to create (or ADMIN_EMAIL; default ${DEFAULT_ADMIN_EMAIL} with a password option)`)
    .option('--admin-first-name <name>', 'first name of the admin', 'Admin')
    .option('--admin-last-name <name>', 'last name of the admin', 'Billettigue')
    .option('--password-stdin', 'read the admin password from the first line of stdin')
    .option('--generate-password', 'generate the admin password and print it once')
    .option('--dry-run', 'show what would be inserted, then roll back')
    .addHelpText(
      'after',
      `\nWithout an email or a password option it inserts the roles only. A password option without an
email creates the admin ${DEFAULT_ADMIN_EMAIL} (the seed's "comptes administrateur" seeder);
an admin that already exists is left unchanged.\n\nExamples:\n  $ billettigue db seed\n  $ billettigue db seed --generate-password\n  $ billettigue db seed --admin-email admin@example.fr --generate-password`,
    )
    .action(action(seed));

  db.command('reset')
    .description('drop every table, migrate again and seed the roles (destructive: asks first)')
    .option('--dir <dir>', 'where the safety backup goes (default ./backups)')
    .option('--no-safety-backup', 'do not back up the database before dropping it')
    .option('--dry-run', 'list the tables (with their rows) that would be dropped, change nothing')
    .addHelpText('after', `
Shows what will be lost, asks (type the database name on a terminal; --yes without one, else
exit 2) and takes a safety backup first.
Examples:
  $ billettigue db reset --dry-run
  $ billettigue db reset --yes`)
    .action(action(reset));

  db.command('unlock')
    .description('clear a migration lock left by a killed process (only when no migration runs)')
    .addHelpText('after', `\nExample:\n  $ billettigue db unlock --yes`)
    .action(action(unlock));

  registerAdopt(db);
}

async function createDb(ctx: Ctx): Promise<void> {
  const target = ctx.target();
  const { engineFor } = await import('../db/engines/index.js');
  const engine = engineFor(target.kind);
  if (engine.server) {
    if (!('database' in target) || !target.database) throw new InvalidInput('no database name in the target: add it to the URL (…://host/name) or set DB_NAME');
    if (!/^[A-Za-z0-9_$-]{1,64}$/.test(target.database)) {
      throw new InvalidInput(`database name "${target.database}" is not allowed: use letters, digits, _ $ -`);
    }
  }
  const created = await engine.createDatabase(target);
  ctx.ui.success(created ? `created ${target.display}` : `${target.display} already exists`);
  if (ctx.ui.json) ctx.ui.printJson({ target: target.display, created });
}

async function migrate(ctx: Ctx): Promise<void> {
  const knex = await ctx.db({ schema: false, create: !ctx.dryRun });
  const { dryRunLatest, migrateLatest, migrationStatus, schemaOwner, ADOPT_HINT } = await import('../db/migrator.js');
  ctx.announceTarget();
  if ((await schemaOwner(knex)) === 'platform') throw new Conflict(`db migrate would create tables that already exist: ${ADOPT_HINT}`, { code: 'not_adopted' });
  // Where DDL is transactional the dry run applies every pending migration and rolls back; MySQL
  // commits DDL as it runs, so there it lists what would be applied.
  const { engineOf } = await import('../db/engines/index.js');
  const applied = !ctx.dryRun
    ? await migrateLatest(knex)
    : engineOf(knex).transactionalDdl
      ? await dryRunLatest(knex)
      : (await migrationStatus(knex)).migrations.filter((m) => !m.applied).map((m) => m.name);
  if (ctx.dryRun) {
    if (ctx.ui.json) return ctx.ui.printJson({ target: ctx.target().display, dry_run: true, would_apply: applied });
    for (const name of applied) ctx.ui.info(`  would apply ${name}`);
    ctx.ui.info(`dry run: ${applied.length} migration(s) would be applied; nothing changed`);
    return;
  }
  if (ctx.ui.json) return ctx.ui.printJson({ target: ctx.target().display, applied });
  if (applied.length === 0) ctx.ui.success('already up to date');
  else {
    for (const name of applied) ctx.ui.info(`  applied ${name}`);
    ctx.ui.success(`applied ${applied.length} migration${applied.length > 1 ? 's' : ''}`);
  }
}

interface RollbackOpts {
  step?: number;
  all?: boolean;
  dir?: string;
  safetyBackup: boolean;
}

async function rollbackCmd(ctx: Ctx, opts: RollbackOpts): Promise<void> {
  if (opts.step !== undefined && opts.all) throw new InvalidInput('choose one of --step N and --all');
  const knex = await ctx.db({ schema: false });
  const { rollback, refuseIfLocked, refuseBelowBaseline, schemaOwner, ADOPT_HINT } = await import('../db/migrator.js');
  const { planRollback } = await import('../db/rollback-plan.js');
  if ((await schemaOwner(knex)) === 'platform') throw new Unavailable(ADOPT_HINT, { code: 'not_adopted' });
  // A held lock is refused before anything is asked (exit 4 with the command that clears it).
  if (!ctx.dryRun) await refuseIfLocked(knex);
  const plan = await planRollback(knex, opts);
  // On an adopted database the baseline migrations never built the app's tables (exit 4).
  await refuseBelowBaseline(knex, plan.migrations);
  ctx.announceTarget();
  if (plan.migrations.length === 0) {
    if (ctx.ui.json) return ctx.ui.printJson({ target: ctx.target().display, dry_run: ctx.dryRun, reverted: [], tables: [] });
    ctx.ui.success('nothing to roll back: no migration is applied');
    return;
  }
  const { describeLosses, takeSafetyBackup } = await import('./safety.js');
  const what = `revert ${plural(plan.migrations.length, 'migration')}`;
  describeLosses(ctx, `${ctx.dryRun ? 'would ' : 'will '}${what}:`, plan.migrations, plan.tables);
  if (ctx.dryRun) {
    if (ctx.ui.json) return ctx.ui.printJson({ target: ctx.target().display, dry_run: true, would_revert: plan.migrations, tables: plan.tables, rows: plan.rows });
    ctx.ui.info(`dry run: nothing changed`);
    return;
  }
  let safety: string | null = null;
  if (plan.rows > 0) {
    await ctx.confirmByName(`${what} of ${ctx.target().display}, dropping ${plural(plan.tables.length, 'table')} that hold ${formatCount(plan.rows)} rows?`);
    if (opts.safetyBackup) safety = await takeSafetyBackup(ctx, opts.dir);
    else ctx.ui.warn('no safety backup (--no-safety-backup): the dropped rows cannot be brought back');
  }
  const reverted = await rollback(knex, opts);
  if (ctx.ui.json) return ctx.ui.printJson({ target: ctx.target().display, reverted, dropped_tables: plan.tables, safety_backup: safety });
  for (const name of reverted) ctx.ui.info(`  reverted ${name}`);
  ctx.ui.success(`reverted ${plural(reverted.length, 'migration')}${plan.tables.length ? `, dropped ${plural(plan.tables.length, 'table')} (${formatCount(plan.rows)} rows)` : ''}`);
  if (safety) ctx.ui.info(`safety backup: ${safety} (\`billettigue restore ${safety} --yes\` brings it back)`);
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

async function status(ctx: Ctx): Promise<void> {
  const knex = await ctx.db({ schema: false });
  const { migrationStatus, schemaOwner, ADOPT_HINT } = await import('../db/migrator.js');
  const owner = await schemaOwner(knex);
  if (owner === 'platform') throw new Unavailable(ADOPT_HINT, { code: 'not_adopted' });
  const s = await migrationStatus(knex);
  const { adoptionRecord } = await import('../db/adopt/run.js');
  const adopted = owner === 'adopted' ? await adoptionRecord(knex) : null;
  const rows = s.migrations.map((m) => ({
    name: m.name,
    status: m.applied ? 'applied' : 'pending',
    batch: m.batch,
    applied_at: m.appliedAt,
  }));
  if (ctx.ui.json) {
    return ctx.ui.printJson({
      target: ctx.target().display,
      migrations: rows,
      pending: s.pending,
      unknown: s.unknown,
      locked: s.locked,
      adopted: adopted ? { at: adopted.baseline.adopted_at, complete: adopted.complete, baseline: adopted.baseline.migrations, changes: adopted.changes.length } : null,
    });
  }
  ctx.ui.info(`target: ${ctx.target().display}`);
  await ctx.ui.list(rows, [
    { header: 'migration', value: (r) => r.name },
    { header: 'status', value: (r) => (r.status === 'applied' ? ctx.ui.green('applied') : ctx.ui.red('pending')) },
    { header: 'batch', value: (r) => r.batch ?? '', kind: 'id' },
    { header: zoned('applied at'), key: 'applied_at', value: (r) => displayTime(r.applied_at) },
  ]);
  for (const name of s.unknown) ctx.ui.warn(`applied migration ${name} is unknown to this build (newer database?)`);
  if (s.locked) ctx.ui.warn('the migration lock is held: if no migration is running, clear it with `billettigue db unlock --yes`');
  if (adopted) {
    ctx.ui.info(
      adopted.complete
        ? `adopted ${adopted.baseline.adopted_at}: the platform app built the tables; ${adopted.baseline.migrations.length} migrations are its baseline (not rolled back); \`db adopt --undo\` removes adoption's ${adopted.changes.length} change(s)`
        : 'an adoption was interrupted: `billettigue db adopt --undo` removes what it did',
    );
  }
  ctx.ui.info(s.pending === 0 ? 'up to date' : `${s.pending} pending: run \`billettigue db migrate\``);
}

/** The first admin's email when a password option comes without one. */
export const DEFAULT_ADMIN_EMAIL = 'admin@billettigue.local';

interface SeedOpts {
  adminEmail?: string;
  adminFirstName: string;
  adminLastName: string;
  passwordStdin?: boolean;
  generatePassword?: boolean;
}

async function seed(ctx: Ctx, opts: SeedOpts): Promise<void> {
  const { normalizeEmail, requireText } = await import('../domain/validate.js');
  // A password option is a request for the first admin: without an email it gets the default
  // one (the seed's seeders include "comptes administrateur"), said on stderr.
  const wantsAdmin = Boolean(opts.generatePassword || opts.passwordStdin);
  const rawEmail = opts.adminEmail ?? ctx.env.ADMIN_EMAIL ?? (wantsAdmin ? DEFAULT_ADMIN_EMAIL : undefined);
  const email = rawEmail ? normalizeEmail(rawEmail) : undefined;
  if (wantsAdmin && opts.adminEmail === undefined && ctx.env.ADMIN_EMAIL === undefined) {
    ctx.ui.info(`no --admin-email (or ADMIN_EMAIL): the admin account is ${DEFAULT_ADMIN_EMAIL}`);
  }
  const firstName = requireText(opts.adminFirstName, '--admin-first-name');
  const lastName = requireText(opts.adminLastName, '--admin-last-name');
  const knex = await ctx.db();
  const { seedRoles, seedAdmin } = await import('../../seeds/default.js');
  const exists = email ? Boolean(await knex('comptes').where({ email }).first('id')) : false;
  let password: { password: string; generated: boolean } | undefined;
  if (email && !exists) password = await ctx.obtainPassword(opts);
  const { hashPassword } = await import('../domain/passwords.js');
  const passwordHash = password ? await hashPassword(password.password, ctx.settings.bcryptCost) : undefined;
  const { writeAudit } = await import('../domain/audit.js');

  const result = await ctx.mutate(async (trx) => {
    const roles = await seedRoles(trx);
    let adminId: number | null = null;
    if (email && passwordHash) {
      adminId = await seedAdmin(trx, { email, passwordHash, firstName, lastName });
      await writeAudit(trx, { actor: ctx.actor, action: 'db.seed.admin', targetType: 'compte', targetId: adminId, after: { email, role: 'admin' } });
    }
    if (roles.length > 0) await writeAudit(trx, { actor: ctx.actor, action: 'db.seed.roles', targetType: 'role', after: { created: roles } });
    return { roles_created: roles, admin_id: adminId };
  });

  if (ctx.ui.json) {
    ctx.ui.printJson({
      ...result,
      admin_email: email ?? null,
      admin_existed: exists,
      dry_run: ctx.dryRun,
      ...(password?.generated && !ctx.dryRun ? { generated_password: password.password } : {}),
    });
  } else {
    ctx.ui.success(result.roles_created.length ? `roles created: ${result.roles_created.join(', ')}` : 'default roles already present');
    if (email && exists) ctx.ui.info(`admin ${email} already exists: left unchanged`);
    if (result.admin_id) ctx.ui.success(`admin account ${email} created (id ${result.admin_id})`);
    if (!email) ctx.ui.info('no admin account created: pass --admin-email or set ADMIN_EMAIL');
    if (password?.generated && !ctx.dryRun) {
      // The only time this password is ever shown: on stdout, so it can be captured.
      ctx.ui.line(`generated password for ${email}: ${password.password}`);
      ctx.ui.warn('store it now: it is not saved anywhere and will not be shown again');
    }
  }
}

async function reset(ctx: Ctx, opts: { dir?: string; safetyBackup: boolean }): Promise<void> {
  const target = ctx.target();
  const knex = await ctx.db({ schema: false });
  const { listTables } = await import('../db/dialect.js');
  const { schemaOwner, ADOPT_HINT } = await import('../db/migrator.js');
  const owner = await schemaOwner(knex);
  if (owner === 'platform') throw new Unavailable(`db reset would drop the platform app's tables: ${ADOPT_HINT}`, { code: 'not_adopted' });
  if (owner === 'adopted') {
    throw new Conflict("this database was adopted: its tables are the platform app's, not billettigue's to drop; `billettigue db adopt --undo` removes what adoption added", {
      code: 'adopted',
    });
  }
  const { countRows } = await import('../db/rollback-plan.js');
  const { describeLosses, takeSafetyBackup } = await import('./safety.js');
  const losses = await countRows(knex, await listTables(knex));
  const rows = losses.reduce((n, t) => n + t.rows, 0);
  ctx.announceTarget();
  describeLosses(ctx, `${ctx.dryRun ? 'would' : 'will'} drop every table, migrate again and seed the default roles:`, [], losses);
  if (ctx.dryRun) {
    ctx.ui.info('dry run: nothing changed');
    if (ctx.ui.json) ctx.ui.printJson({ target: target.display, dry_run: true, tables: losses, rows });
    return;
  }
  let safety: string | null = null;
  if (rows > 0) {
    await ctx.confirmByName(`drop every table of ${target.display} (${formatCount(rows)} rows) and start over?`);
    if (opts.safetyBackup) safety = await takeSafetyBackup(ctx, opts.dir);
    else ctx.ui.warn('no safety backup (--no-safety-backup): the dropped rows cannot be brought back');
  }
  const { rollback, migrateLatest, forceUnlock } = await import('../db/migrator.js');
  const { dropAllTables } = await import('../db/admin.js');
  await forceUnlock(knex).catch(() => undefined);
  await rollback(knex, { all: true }).catch(() => undefined);
  await dropAllTables(knex);
  const applied = await migrateLatest(knex);
  const { seedRoles } = await import('../../seeds/default.js');
  const roles = await knex.transaction((trx) => seedRoles(trx));
  ctx.ui.success(`reset ${target.display}: ${applied.length} migrations applied, roles ${roles.join(', ')}`);
  if (safety) ctx.ui.info(`safety backup: ${safety}`);
  if (ctx.ui.json) ctx.ui.printJson({ target: target.display, applied, roles_created: roles, dropped_tables: losses, safety_backup: safety });
}

async function unlock(ctx: Ctx): Promise<void> {
  const knex = await ctx.db({ schema: false });
  const { migrationStatus, forceUnlock } = await import('../db/migrator.js');
  const s = await migrationStatus(knex);
  if (!s.locked) {
    ctx.ui.success('the migration lock is not held: nothing to do');
    if (ctx.ui.json) ctx.ui.printJson({ was_locked: false });
    return;
  }
  ctx.announceTarget();
  await ctx.confirm('clear the migration lock? only do this when no migration is running');
  await forceUnlock(knex);
  ctx.ui.success('migration lock cleared');
  if (ctx.ui.json) ctx.ui.printJson({ was_locked: true });
}
