/**
 * `billettigue db`: create, migrate, rollback, status, seed, reset, unlock.
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import { Conflict, InvalidInput, Unavailable } from '../domain/errors.js';
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
    .description('create the database if it does not exist (MySQL) or the embedded file (SQLite)')
    .action(action(createDb));

  db.command('migrate')
    .description('apply every pending migration')
    .option('--dry-run', 'list the migrations that would be applied, change nothing')
    .action(action(migrate));

  db.command('rollback')
    .description('revert the last batch of migrations, N migrations, or all of them')
    .option('--step <n>', 'revert this many migrations', parsePositiveInt('--step'))
    .option('--all', 'revert every migration (leaves only knex\'s own tables)')
    .option('--dry-run', 'list the migrations that would be reverted, change nothing')
    .action(action(rollbackCmd));

  db.command('status')
    .description('applied and pending migrations, with dates')
    .action(action(status));

  db.command('seed')
    .description('insert the default roles (idempotent) and, with an email, a first admin account')
    .option('--admin-email <email>', 'email of the admin account to create (or ADMIN_EMAIL)')
    .option('--admin-first-name <name>', 'first name of the admin', 'Admin')
    .option('--admin-last-name <name>', 'last name of the admin', 'Billettigue')
    .option('--password-stdin', 'read the admin password from the first line of stdin')
    .option('--generate-password', 'generate the admin password and print it once')
    .option('--dry-run', 'show what would be inserted, then roll back')
    .action(action(seed));

  db.command('reset')
    .description('drop every table, migrate again and seed the roles (destructive: asks first)')
    .option('--dry-run', 'say what would happen and change nothing')
    .action(action(reset));

  db.command('unlock')
    .description('clear a migration lock left by a killed process (only when no migration runs)')
    .action(action(unlock));

  registerAdopt(db);
}

async function createDb(ctx: Ctx): Promise<void> {
  const target = ctx.target();
  if (target.kind === 'sqlite') {
    const { existsSync } = await import('node:fs');
    const existed = existsSync(target.filename);
    await ctx.db({ schema: false });
    ctx.ui.success(existed ? `${target.display} already exists` : `created ${target.display}`);
    if (ctx.ui.json) ctx.ui.printJson({ target: target.display, created: !existed });
    return;
  }
  if (!target.database) throw new InvalidInput('no database name in the target: add it to the URL (mysql://…/name) or set DB_NAME');
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(target.database)) {
    throw new InvalidInput(`database name "${target.database}" is not allowed: use letters, digits, _ $ -`);
  }
  const knex = await ctx.db({ schema: false, noDatabase: true });
  const { rawRows } = await import('../db/dialect.js');
  const before = await rawRows(knex, 'select schema_name from information_schema.schemata where schema_name = ?', [target.database]);
  await knex.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [target.database]);
  const created = before.length === 0;
  ctx.ui.success(created ? `created database ${target.database} on ${target.display}` : `database ${target.database} already exists on ${target.display}`);
  if (ctx.ui.json) ctx.ui.printJson({ target: target.display, database: target.database, created });
}

async function migrate(ctx: Ctx): Promise<void> {
  const knex = await ctx.db({ schema: false });
  const { migrateLatest, migrationStatus, schemaOwner, ADOPT_HINT } = await import('../db/migrator.js');
  ctx.ui.info(`target: ${ctx.target().display}`);
  if ((await schemaOwner(knex)) === 'platform') throw new Conflict(`db migrate would create tables that already exist: ${ADOPT_HINT}`, { code: 'not_adopted' });
  // DDL commits as it runs on MySQL: a dry run cannot apply-and-roll-back, so it lists instead.
  const applied = ctx.dryRun
    ? (await migrationStatus(knex)).migrations.filter((m) => !m.applied).map((m) => m.name)
    : await migrateLatest(knex);
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

async function rollbackCmd(ctx: Ctx, opts: { step?: number; all?: boolean }): Promise<void> {
  if (opts.step !== undefined && opts.all) throw new InvalidInput('choose one of --step N and --all');
  const knex = await ctx.db({ schema: false });
  const { rollback, migrationStatus, rollbackPlan, refuseBelowBaseline, schemaOwner, ADOPT_HINT } = await import('../db/migrator.js');
  ctx.ui.info(`target: ${ctx.target().display}`);
  if ((await schemaOwner(knex)) === 'platform') throw new Unavailable(ADOPT_HINT, { code: 'not_adopted' });
  if (ctx.dryRun) {
    const would = rollbackPlan(await migrationStatus(knex), opts);
    await refuseBelowBaseline(knex, would);
    if (ctx.ui.json) return ctx.ui.printJson({ target: ctx.target().display, dry_run: true, would_revert: would });
    for (const name of would) ctx.ui.info(`  would revert ${name}`);
    ctx.ui.info(`dry run: ${would.length} migration(s) would be reverted; nothing changed`);
    return;
  }
  const reverted = await rollback(knex, opts);
  if (ctx.ui.json) return ctx.ui.printJson({ target: ctx.target().display, reverted });
  if (reverted.length === 0) ctx.ui.success('nothing to roll back');
  else {
    for (const name of reverted) ctx.ui.info(`  reverted ${name}`);
    ctx.ui.success(`reverted ${reverted.length} migration${reverted.length > 1 ? 's' : ''}`);
  }
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
    { header: 'batch', value: (r) => r.batch ?? '' },
    { header: 'applied at (UTC)', value: (r) => r.applied_at ?? '' },
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

interface SeedOpts {
  adminEmail?: string;
  adminFirstName: string;
  adminLastName: string;
  passwordStdin?: boolean;
  generatePassword?: boolean;
}

async function seed(ctx: Ctx, opts: SeedOpts): Promise<void> {
  const { normalizeEmail, requireText } = await import('../domain/validate.js');
  const rawEmail = opts.adminEmail ?? ctx.env.ADMIN_EMAIL;
  const email = rawEmail ? normalizeEmail(rawEmail) : undefined;
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

async function reset(ctx: Ctx, opts: { dryRun?: boolean }): Promise<void> {
  const target = ctx.target();
  const knex = await ctx.db({ schema: false });
  const { listTables } = await import('../db/dialect.js');
  const tables = await listTables(knex);
  ctx.ui.info(`target: ${target.display} (${tables.length} tables)`);
  const { schemaOwner, ADOPT_HINT } = await import('../db/migrator.js');
  const owner = await schemaOwner(knex);
  if (owner === 'platform') throw new Unavailable(`db reset would drop the platform app's tables: ${ADOPT_HINT}`, { code: 'not_adopted' });
  if (owner === 'adopted') {
    throw new Conflict("this database was adopted: its tables are the platform app's, not billettigue's to drop; `billettigue db adopt --undo` removes what adoption added", {
      code: 'adopted',
    });
  }
  if (opts.dryRun) {
    ctx.ui.info('dry run: would drop every table, migrate and seed the default roles; nothing changed');
    if (ctx.ui.json) ctx.ui.printJson({ target: target.display, dry_run: true, tables });
    return;
  }
  await ctx.confirmByName(`drop every table of ${target.display} and start over?`);
  const { rollback, migrateLatest, forceUnlock } = await import('../db/migrator.js');
  const { dropAllTables } = await import('../db/admin.js');
  await forceUnlock(knex).catch(() => undefined);
  await rollback(knex, { all: true }).catch(() => undefined);
  await dropAllTables(knex);
  const applied = await migrateLatest(knex);
  const { seedRoles } = await import('../../seeds/default.js');
  const roles = await knex.transaction((trx) => seedRoles(trx));
  ctx.ui.success(`reset ${target.display}: ${applied.length} migrations applied, roles ${roles.join(', ')}`);
  if (ctx.ui.json) ctx.ui.printJson({ target: target.display, applied, roles_created: roles });
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
  await ctx.confirm('clear the migration lock? only do this when no migration is running');
  await forceUnlock(knex);
  ctx.ui.success('migration lock cleared');
  if (ctx.ui.json) ctx.ui.printJson({ was_locked: true });
}
