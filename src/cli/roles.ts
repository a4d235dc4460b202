/** `billettigue roles`: list, show, create, update, delete. */
import type { Command } from 'commander';
import { action, type Ctx } from './context.js';
import type { RoleRecord } from '../domain/roles.js';
import { displayTime, zoned } from './ui.js';

export function register(roles: Command): void {
  roles.addHelpText(
    'after',
    `
The default roles admin, user and transporteur cannot be renamed or deleted (an account's profile
table follows its role: admin → administrateurs, transporteur → transporteurs, any other →
utilisateurs). A role in use cannot be deleted.

Examples:
  $ billettigue roles list
  $ billettigue roles create support --description "Support agents"
  $ billettigue roles update support --description "Support agents (level 1)"
  $ billettigue roles delete support --yes`,
  );

  roles.command('list').description('every role with its number of accounts').addHelpText('after', `\nExamples:\n  $ billettigue roles list\n  $ billettigue roles ls --json`).action(action(list));

  roles
    .command('show')
    .description('one role: description, profile table, accounts by status')
    .argument('<role>', 'role name or id')
    .addHelpText('after', '\nExample:\n  $ billettigue roles show transporteur')
    .action(action(show));

  roles
    .command('create')
    .description('create a custom role (its accounts get a utilisateur profile)')
    .argument('<name>', '2–50 lower-case letters, digits, "_" or "-", starting with a letter')
    .option('--description <text>', 'what the role is for')
    .option('--dry-run', 'validate, then roll back')
    .addHelpText('after', '\nExample:\n  $ billettigue roles create support --description "Support agents"')
    .action(action(create));

  roles
    .command('update')
    .description("rename a custom role or change a role's description")
    .argument('<role>', 'role name or id')
    .option('--name <name>', 'new name (custom roles only)')
    .option('--description <text>', 'new description ("" clears it)')
    .option('--dry-run', 'show what would change, then roll back')
    .addHelpText('after', '\nExample:\n  $ billettigue roles update support --name support_l1')
    .action(action(update));

  roles
    .command('delete')
    .description('delete a custom role no account uses (asks first)')
    .argument('<role>', 'role name or id')
    .option('--dry-run', 'check, then roll back')
    .addHelpText('after', '\nExample:\n  $ billettigue roles delete support --yes')
    .action(action(remove));
}

function columns(ctx: Ctx) {
  return [
    { header: 'id', value: (r: RoleRecord) => r.id, align: 'right' as const },
    { header: 'name', value: (r: RoleRecord) => (r.is_default ? ctx.ui.bold(r.name) : r.name) },
    { header: 'accounts', value: (r: RoleRecord) => r.accounts, align: 'right' as const },
    { header: 'profile', value: (r: RoleRecord) => r.profile },
    { header: 'default', value: (r: RoleRecord) => (r.is_default ? 'yes' : '') },
    { header: 'description', value: (r: RoleRecord) => r.description ?? '' },
  ];
}

async function list(ctx: Ctx): Promise<void> {
  const { listRoles } = await import('../domain/roles.js');
  await ctx.ui.list(await listRoles(await ctx.db()), columns(ctx));
}

async function show(ctx: Ctx, _opts: unknown, [ref]: string[]): Promise<void> {
  const { showRole } = await import('../domain/roles.js');
  const r = await showRole(await ctx.db(), ref!);
  await ctx.ui.record(
    {
      id: r.id,
      name: r.name,
      description: r.description ?? '',
      default: r.is_default,
      'profile table': `${r.profile}s`,
      accounts: r.accounts,
      ...Object.fromEntries(Object.entries(r.accounts_by_status).map(([s, n]) => [`  ${s}`, n])),
      [zoned('created')]: displayTime(r.created_at),
      [zoned('updated')]: displayTime(r.updated_at),
    },
    r,
    `role ${r.name}`,
  );
}

async function create(ctx: Ctx, opts: { description?: string }, [name]: string[]): Promise<void> {
  const { createRole } = await import('../domain/roles.js');
  const { writeAudit } = await import('../domain/audit.js');
  const role = await ctx.mutate(async (trx) => {
    const r = await createRole(trx, { name: name!, description: opts.description });
    await writeAudit(trx, { actor: ctx.actor, action: 'roles.create', targetType: 'role', targetId: r.id, after: { name: r.name, description: r.description } });
    return r;
  });
  if (ctx.ui.json) return ctx.ui.printJson({ role, dry_run: ctx.dryRun });
  ctx.ui.success(`${ctx.dryRun ? 'would create' : 'created'} role ${role.name} (id ${role.id})`);
}

async function update(ctx: Ctx, opts: { name?: string; description?: string }, [ref]: string[]): Promise<void> {
  const { updateRole } = await import('../domain/roles.js');
  const { writeAudit } = await import('../domain/audit.js');
  const change = await ctx.mutate(async (trx) => {
    const ch = await updateRole(trx, ref!, { name: opts.name, description: opts.description });
    await writeAudit(trx, { actor: ctx.actor, action: 'roles.update', targetType: 'role', targetId: ch.role.id, before: ch.before, after: ch.after });
    return ch;
  });
  if (ctx.ui.json) return ctx.ui.printJson({ ...change, dry_run: ctx.dryRun });
  ctx.ui.success(`${ctx.dryRun ? 'would update' : 'updated'} role ${change.before.name}${change.after.name !== change.before.name ? ` → ${change.after.name}` : ''}`);
}

async function remove(ctx: Ctx, _opts: unknown, [ref]: string[]): Promise<void> {
  const { deleteRole, findRole, DEFAULT_ROLE_NAMES } = await import('../domain/roles.js');
  const { writeAudit } = await import('../domain/audit.js');
  const r = await findRole(await ctx.db(), ref!);
  // Refusals (default role, role in use) come from the transaction, before any question.
  if (!DEFAULT_ROLE_NAMES.includes(r.name)) await ctx.confirm(`delete role ${r.name} (id ${r.id})?`);
  const role = await ctx.mutate(async (trx) => {
    const deleted = await deleteRole(trx, ref!);
    await writeAudit(trx, { actor: ctx.actor, action: 'roles.delete', targetType: 'role', targetId: deleted.id, before: { name: deleted.name, description: deleted.description } });
    return deleted;
  });
  if (ctx.ui.json) return ctx.ui.printJson({ role, dry_run: ctx.dryRun });
  ctx.ui.success(`${ctx.dryRun ? 'would delete' : 'deleted'} role ${role.name}`);
}
