/**
 * `billettigue accounts`: find, inspect and fix user accounts.
 * Each verb parses its flags, calls src/domain/accounts.ts and renders; every change runs in one
 * transaction with its audit row (ctx.mutate + writeAudit).
 */
import type { Command } from 'commander';
import { action, parseDateOption, parsePositiveInt, type Ctx } from './context.js';
import type { AccountChange, AccountSummary, ProfileInput, StatusVerb, Unverified } from '../domain/accounts.js';
import { InvalidInput } from '../domain/errors.js';
import { displayTime, zoned } from './ui.js';

const UNVERIFIED_VALUES = ['any', 'email', 'phone'];

export function register(accounts: Command): void {
  accounts.addHelpText(
    'after',
    `
Accounts are addressed by id or email. Every change takes --dry-run and --reason, and is written
to the audit log (billettigue audit list --target compte:ID).

Examples:
  $ billettigue accounts list --locked --search dupont
  $ billettigue accounts show jean.dupont@example.fr
  $ billettigue accounts unlock jean.dupont@example.fr --reason "called support, identity checked"
  $ billettigue accounts reset-password jean.dupont@example.fr --generate-password
  $ billettigue accounts create --role user --email a@b.fr --first-name Ana --last-name Roy --phone "06 12 34 56 78" --generate-password`,
  );

  accounts
    .command('list')
    .description('accounts matching filters, one page at a time (keyset: --after the last id shown)')
    .option('--role <role>', 'only this role (name or id)')
    .option('--status <status>', 'only this status: active, inactive, suspended, deleted')
    .option('--locked', 'only locked accounts')
    .option('--unverified [what]', 'only accounts whose email or phone is not verified (what: any, email, phone; default any)')
    .option('--search <text>', 'words found in the email, first/last name, phone or company name')
    .option('--created-since <date>', 'created at or after this date (YYYY-MM-DD or ISO 8601)', parseDateOption('--created-since'))
    .option('--sort <field>', 'id, email, created_at, last_login or failed_logins, optionally :asc or :desc', 'id')
    .option('--limit <n>', 'page size, 1 to 10000', parsePositiveInt('--limit', 10000), 50)
    .option('--after <id>', 'next page: the id of the last account of the previous page', parsePositiveInt('--after'))
    .addHelpText(
      'after',
      `
Examples:
  $ billettigue accounts list --locked --search dupont
  $ billettigue accounts list --status suspended --limit 50 --after 1200
  $ billettigue accounts list --role transporteur --sort last_login:desc --json`,
    )
    .action(action(list));

  accounts
    .command('show')
    .description('one account on one screen: role, profile, login security (why it cannot log in), activity, tokens, audit')
    .argument('<account>', 'account id or email')
    .addHelpText('after', '\nExample:\n  $ billettigue accounts show jean.dupont@example.fr')
    .action(action(show));

  accounts
    .command('create')
    .description('create an account and its profile (utilisateur, transporteur or administrateur, by role)')
    .requiredOption('--role <role>', 'user, transporteur, admin, or a custom role (profile utilisateur)')
    .requiredOption('--email <email>', 'email address (stored trimmed and lower-cased)')
    .option('--first-name <name>', 'first name (user, admin)')
    .option('--last-name <name>', 'last name (user, admin)')
    .option('--phone <phone>', 'phone, E.164 or French format (user, transporteur)')
    .option('--company-name <name>', 'company name (transporteur, optional)')
    .option('--company-type <type>', 'mixte, passagers or colis (transporteur, default mixte)')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--generate-password', 'generate a password and print it once')
    .option('--reason <text>', 'why, stored in the audit log')
    .option('--dry-run', 'validate and show the account, then roll back')
    .addHelpText(
      'after',
      `
Without --password-stdin or --generate-password, the password is asked twice on the terminal.
Examples:
  $ billettigue accounts create --role user --email ana@example.fr --first-name Ana --last-name Roy --phone 0612345678 --generate-password
  $ printf %s "$PW" | billettigue accounts create --role transporteur --email fret@example.fr --phone +33611223344 --company-name "Fret Express" --company-type colis --password-stdin
  $ billettigue accounts create --role admin --email root@example.fr --first-name Root --last-name Admin`,
    )
    .action(action(create));

  const simple: Array<[string, string, (ctx: Ctx, opts: ChangeOpts, args: string[]) => Promise<void>]> = [
    ['lock', 'lock the account (it cannot log in until unlocked)', (c, o, a) => lockCmd(c, o, a, true)],
    ['unlock', 'unlock the account and reset its consecutive failed-login counter', (c, o, a) => lockCmd(c, o, a, false)],
    ['suspend', 'suspend the account (asks first; not the last active admin)', (c, o, a) => statusCmd(c, o, a, 'suspend')],
    ['activate', 'make an inactive or suspended account active again', (c, o, a) => statusCmd(c, o, a, 'activate')],
    ['deactivate', 'make the account inactive (not the last active admin)', (c, o, a) => statusCmd(c, o, a, 'deactivate')],
  ];
  for (const [verb, description, fn] of simple) {
    accounts
      .command(verb)
      .description(description)
      .argument('<account>', 'account id or email')
      .option('--reason <text>', 'why, stored in the audit log')
      .option('--dry-run', 'show what would change, then roll back')
      .addHelpText('after', `\nExample:\n  $ billettigue accounts ${verb} jean.dupont@example.fr --reason "ticket 4521"`)
      .action(action((c, o: ChangeOpts, a) => unlessAlready(c, () => fn(c, o, a))));
  }

  accounts
    .command('delete')
    .description('mark the account deleted (soft); --hard removes the row when nothing references it (asks first)')
    .argument('<account>', 'account id or email')
    .option('--hard', 'remove the row, its profile, zones and revoked tokens; refused while reservations, envois or trajets reference it')
    .option('--reason <text>', 'why, stored in the audit log')
    .option('--dry-run', 'show what would change, then roll back')
    .addHelpText(
      'after',
      `
Examples:
  $ billettigue accounts delete spam@example.fr --reason "spam account" --yes
  $ billettigue accounts delete 42 --hard --dry-run`,
    )
    .action(action(deleteCmd));

  accounts
    .command('reset-password')
    .description('set a new password: records password_changed_at, unlocks, resets the login counters')
    .argument('<account>', 'account id or email')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--generate-password', 'generate a password and print it once')
    .option('--reason <text>', 'why, stored in the audit log')
    .option('--dry-run', 'show what would change, then roll back')
    .addHelpText(
      'after',
      `
Examples:
  $ billettigue accounts reset-password jean.dupont@example.fr --generate-password
  $ printf %s "$PW" | billettigue accounts reset-password 42 --password-stdin`,
    )
    .action(action(resetPasswordCmd));

  for (const [verb, value] of [
    ['verify', true],
    ['unverify', false],
  ] as const) {
    accounts
      .command(verb)
      .description(`mark the email and/or phone as ${value ? 'verified' : 'not verified'}`)
      .argument('<account>', 'account id or email')
      .option('--email', `${verb} the email address`)
      .option('--phone', `${verb} the phone number`)
      .option('--reason <text>', 'why, stored in the audit log')
      .option('--dry-run', 'show what would change, then roll back')
      .addHelpText('after', `\nExample:\n  $ billettigue accounts ${verb} jean.dupont@example.fr --email --phone`)
      .action(action((c, o: VerifyOpts, a) => unlessAlready(c, () => verifyCmd(c, o, a, value))));
  }

  accounts
    .command('set-role')
    .description('give the account another role, moving its profile when the role needs another one (asks first)')
    .argument('<account>', 'account id or email')
    .argument('<role>', 'the new role (name or id)')
    .option('--first-name <name>', 'first name (to user or admin; default: from the old profile)')
    .option('--last-name <name>', 'last name (to user or admin; default: from the old profile)')
    .option('--phone <phone>', 'phone (to user or transporteur; default: from the old profile)')
    .option('--company-name <name>', 'company name (to transporteur)')
    .option('--company-type <type>', 'mixte, passagers or colis (to transporteur, default mixte)')
    .option('--reason <text>', 'why, stored in the audit log')
    .option('--dry-run', 'show what would change, then roll back')
    .addHelpText(
      'after',
      `
Refused (exit 4) when the old profile still has envois, trajets or zones, or when it would remove
the last active admin.
Examples:
  $ billettigue accounts set-role ana@example.fr transporteur --company-name "Ana Trans" --company-type passagers
  $ billettigue accounts set-role 42 admin --yes`,
    )
    .action(action((c, o: ProfileOpts & ChangeOpts, a) => unlessAlready(c, () => setRoleCmd(c, o, a))));
}

// ---- rendering helpers -----------------------------------------------------------------------

const when = displayTime;

function verified(a: AccountSummary): string {
  const v = [a.email_verified ? 'email' : '', a.phone_verified ? 'phone' : ''].filter(Boolean).join('+');
  return v || '-';
}

function reasonOf(opts: { reason?: string }): string | null {
  const r = opts.reason?.trim();
  if (opts.reason !== undefined && !r) throw new InvalidInput('--reason is empty: say why, or leave it out');
  return r || null;
}

function describeChange(before: Record<string, unknown>, after: Record<string, unknown>): string {
  return Object.keys(after)
    .map((k) => (k in before ? `${k} ${String(before[k])} → ${String(after[k])}` : `${k} ${String(after[k])}`))
    .join(', ');
}

const PAST: Record<string, string> = {
  lock: 'locked',
  unlock: 'unlocked',
  suspend: 'suspended',
  activate: 'activated',
  deactivate: 'deactivated',
  delete: 'deleted',
  verify: 'verified',
  unverify: 'unverified',
  'reset the password of': 'reset the password of',
  'change the role of': 'changed the role of',
};

/** A change already in place (unlock an unlocked account) is not an error: say so, exit 0. */
async function unlessAlready(ctx: Ctx, run: () => Promise<void>): Promise<void> {
  const { NoChange } = await import('../domain/errors.js');
  try {
    await run();
  } catch (err) {
    if (!(err instanceof NoChange)) throw err;
    if (ctx.ui.json) return ctx.ui.printJson({ changed: false, message: err.message, ...err.details, dry_run: ctx.dryRun });
    ctx.ui.success(`nothing to do: ${err.message}`);
  }
}

async function renderChange(ctx: Ctx, verb: string, change: AccountChange, extra: Record<string, unknown> = {}): Promise<void> {
  const a = change.account;
  if (ctx.ui.json) {
    ctx.ui.printJson({ account: a, before: change.before, after: change.after, ...extra, dry_run: ctx.dryRun });
    return;
  }
  const done = ctx.dryRun ? `would ${verb}` : (PAST[verb] ?? verb);
  ctx.ui.success(`${done} account ${a.email} (id ${a.id}): ${describeChange(change.before, change.after)}`);
}

// ---- list / show -----------------------------------------------------------------------------

interface ListOpts {
  role?: string;
  status?: string;
  locked?: boolean;
  unverified?: boolean | string;
  search?: string;
  createdSince?: Date;
  sort: string;
  limit: number;
  after?: number;
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  const { listAccounts, parseSort } = await import('../domain/accounts.js');
  let unverified: Unverified | undefined;
  if (opts.unverified !== undefined) {
    const v = opts.unverified === true ? 'any' : String(opts.unverified).toLowerCase();
    if (!UNVERIFIED_VALUES.includes(v)) throw new InvalidInput(`--unverified "${String(opts.unverified)}" is not allowed: use any, email or phone`);
    unverified = v as Unverified;
  }
  const sort = parseSort(opts.sort);
  const rows = await listAccounts(await ctx.db(), {
    role: opts.role,
    status: opts.status,
    locked: opts.locked,
    unverified,
    search: opts.search,
    createdSince: opts.createdSince,
    sort,
    limit: opts.limit,
    after: opts.after,
  });
  await ctx.ui.list(
    rows,
    [
      { header: 'id', value: (r) => r.id, align: 'right' },
      { header: 'email', value: (r) => r.email },
      { header: 'role', value: (r) => r.role },
      { header: 'name / company', key: 'name', value: (r) => r.name ?? '' },
      { header: 'status', value: (r) => (r.status === 'active' ? r.status : ctx.ui.red(r.status)) },
      { header: 'locked', value: (r) => (r.account_locked ? ctx.ui.red('locked') : '') },
      { header: 'verified', value: (r) => verified(r), wide: true },
      { header: 'failed', key: 'failed_logins', value: (r) => r.failed_logins, align: 'right' },
      { header: zoned('last login'), key: 'last_login', value: (r) => when(r.last_login), wide: true },
    ],
    rows,
    { limit: opts.limit, cursor: (r) => r.id },
  );
}

async function show(ctx: Ctx, _opts: unknown, [ref]: string[]): Promise<void> {
  const { showAccount } = await import('../domain/accounts.js');
  const d = await showAccount(await ctx.db(), ref!, ctx.settings);
  if (ctx.ui.json) return ctx.ui.printJson(d);
  const a = d.account;
  const s = d.security;
  await ctx.ui.record(
    {
      id: a.id,
      email: a.email,
      role: d.role.name,
      status: a.status === 'active' ? a.status : ctx.ui.red(a.status),
      'email verified': a.email_verified,
      'phone verified': a.phone_verified,
      [zoned('created')]: when(a.created_at),
      [zoned('updated')]: when(a.updated_at),
    },
    d,
    `account ${a.id}`,
  );
  ctx.ui.line('');
  await ctx.ui.record(
    {
      'can log in': s.can_log_in ? ctx.ui.green('yes') : ctx.ui.red(`no: ${s.blocked_by.join('; ')}`),
      locked: s.account_locked ? ctx.ui.red(`yes: ${s.lock_reason}`) : 'no',
      'failed logins (consecutive)': `${s.failed_logins} (locks at ${s.lockout_threshold})`,
      'login attempts': s.login_attempts,
      [zoned('last failed login')]: when(s.last_failed_login),
      [zoned('last login')]: when(s.last_login),
      [zoned('password changed')]: when(s.password_changed_at),
    },
    d,
    'login security',
  );
  ctx.ui.line('');
  if (d.profile) {
    const { table, id, ...fields } = d.profile;
    const shown: Record<string, unknown> = { table, id };
    for (const [k, v] of Object.entries(fields)) shown[k.replace(/_/g, ' ')] = k.endsWith('_at') ? when(v as string) : v;
    await ctx.ui.record(shown, d, 'profile');
  } else {
    ctx.ui.line(ctx.ui.bold('profile') + '\n' + ctx.ui.red('  none: this account has no profile row (run `billettigue accounts set-role` to repair it)'));
  }
  if (d.role.name === 'transporteur' || d.zones.length > 0) {
    await ctx.ui.section('zones desservies', d.zones, [
      { header: 'id', value: (z) => z.id, align: 'right' },
      { header: 'city', value: (z) => z.city_name },
      { header: 'region', value: (z) => z.region ?? '' },
      { header: 'type', value: (z) => z.zone_type },
      { header: 'frequency', value: (z) => z.service_frequency ?? '' },
      { header: 'max kg', value: (z) => z.max_weight_capacity ?? '', align: 'right' },
    ]);
  }
  ctx.ui.line('');
  await ctx.ui.record(
    {
      reservations: d.activity.reservations,
      'envois (sent)': d.activity.envois,
      ...(d.role.name === 'transporteur' ? { trajets: d.activity.trajets, 'envois (carried)': d.activity.envois_carried } : {}),
      'revoked tokens': `${d.tokens.revoked} (${d.tokens.not_yet_expired} not yet expired)`,
    },
    d,
    'activity',
  );
  await ctx.ui.section('recent audit entries', d.recent_audit, [
    { header: 'id', value: (r) => r.id, align: 'right' },
    { header: zoned('when'), key: 'when', value: (r) => when(r.created_at) },
    { header: 'actor', value: (r) => r.actor },
    { header: 'action', value: (r) => r.action },
    { header: 'reason', value: (r) => r.reason ?? '' },
  ]);
}

// ---- create / reset-password -----------------------------------------------------------------

interface ProfileOpts {
  firstName?: string;
  lastName?: string;
  phone?: string;
  companyName?: string;
  companyType?: string;
}

function profileInput(o: ProfileOpts): ProfileInput {
  return { firstName: o.firstName, lastName: o.lastName, phone: o.phone, companyName: o.companyName, companyType: o.companyType };
}

interface CreateOpts extends ProfileOpts {
  role: string;
  email: string;
  passwordStdin?: boolean;
  generatePassword?: boolean;
  reason?: string;
}

/** The one time a generated password is shown: stdout, so it can be captured. */
function printGenerated(ctx: Ctx, email: string, password: { password: string; generated: boolean }): void {
  if (!password.generated || ctx.dryRun || ctx.ui.json) return;
  ctx.ui.line(`generated password for ${email}: ${password.password}`);
  ctx.ui.warn('store it now: it is not saved anywhere and will not be shown again');
}

async function create(ctx: Ctx, opts: CreateOpts): Promise<void> {
  const reason = reasonOf(opts);
  const { prepareAccount, createAccount } = await import('../domain/accounts.js');
  const { hashPassword } = await import('../domain/passwords.js');
  const { writeAudit } = await import('../domain/audit.js');
  // Everything checkable is checked before the password is asked for.
  const prepared = await prepareAccount(await ctx.db(), { email: opts.email, role: opts.role, profile: profileInput(opts) });
  const password = await ctx.obtainPassword(opts);
  const hash = await hashPassword(password.password, ctx.settings.bcryptCost);
  const account = await ctx.mutate(async (trx) => {
    const a = await createAccount(trx, prepared, hash);
    const { kind: _k, ...profile } = prepared.profile;
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'accounts.create',
      targetType: 'compte',
      targetId: a.id,
      reason,
      after: { email: a.email, role: a.role, status: a.status, profile, password: password.generated ? 'generated' : 'set' },
    });
    return a;
  });
  if (ctx.ui.json) {
    ctx.ui.printJson({
      account,
      dry_run: ctx.dryRun,
      ...(password.generated && !ctx.dryRun ? { generated_password: password.password } : {}),
    });
    return;
  }
  await ctx.ui.record(
    { id: account.id, email: account.email, role: account.role, name: account.name ?? '', phone: account.phone_number ?? '', status: account.status },
    account,
    ctx.dryRun ? 'account (dry run: not created)' : 'account created',
  );
  printGenerated(ctx, account.email, password);
}

interface PasswordOpts {
  passwordStdin?: boolean;
  generatePassword?: boolean;
  reason?: string;
}

async function resetPasswordCmd(ctx: Ctx, opts: PasswordOpts, [ref]: string[]): Promise<void> {
  const reason = reasonOf(opts);
  const { assertPasswordResettable, resetPassword } = await import('../domain/accounts.js');
  const { hashPassword } = await import('../domain/passwords.js');
  const { writeAudit } = await import('../domain/audit.js');
  await assertPasswordResettable(await ctx.db(), ref!);
  const password = await ctx.obtainPassword(opts);
  const hash = await hashPassword(password.password, ctx.settings.bcryptCost);
  const change = await ctx.mutate(async (trx) => {
    const ch = await resetPassword(trx, ref!, hash);
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'accounts.reset-password',
      targetType: 'compte',
      targetId: ch.account.id,
      reason,
      before: ch.before,
      after: { ...ch.after, password: password.generated ? 'generated' : 'set' },
    });
    return ch;
  });
  await renderChange(ctx, 'reset the password of', change, password.generated && !ctx.dryRun ? { generated_password: password.password } : {});
  printGenerated(ctx, change.account.email, password);
}

// ---- state changes ---------------------------------------------------------------------------

interface ChangeOpts {
  reason?: string;
}

async function lockCmd(ctx: Ctx, opts: ChangeOpts, [ref]: string[], locked: boolean): Promise<void> {
  const reason = reasonOf(opts);
  const { setLocked } = await import('../domain/accounts.js');
  const { writeAudit } = await import('../domain/audit.js');
  const verb = locked ? 'lock' : 'unlock';
  const change = await ctx.mutate(async (trx) => {
    const ch = await setLocked(trx, ref!, locked);
    await writeAudit(trx, { actor: ctx.actor, action: `accounts.${verb}`, targetType: 'compte', targetId: ch.account.id, reason, before: ch.before, after: ch.after });
    return ch;
  });
  await renderChange(ctx, verb, change);
}

const CONFIRM_VERBS: ReadonlySet<StatusVerb> = new Set(['suspend', 'delete']);

async function statusCmd(ctx: Ctx, opts: ChangeOpts, [ref]: string[], verb: StatusVerb): Promise<void> {
  const reason = reasonOf(opts);
  const { changeStatus, canTransition, STATUS_VERBS, carrierImpact, describeCarrierImpact } = await import('../domain/accounts.js');
  const { findCompte } = await import('../domain/lookup.js');
  const { writeAudit } = await import('../domain/audit.js');
  const c = await findCompte(await ctx.db(), ref!);
  // A carrier leaving the active state: say what it touches, in the question and in --dry-run.
  const impact = STATUS_VERBS[verb] !== 'active' && canTransition(c.status, STATUS_VERBS[verb]) ? await carrierImpact(await ctx.db(), c.id) : null;
  const affects = impact ? `; it is a carrier with ${describeCarrierImpact(impact)}` : '';
  // A refused change fails inside the transaction with its reason; only ask for real ones.
  if (CONFIRM_VERBS.has(verb) && canTransition(c.status, STATUS_VERBS[verb])) await ctx.confirm(`${verb} account ${c.email} (id ${c.id}, ${c.status})${affects}?`);
  const change = await ctx.mutate(async (trx) => {
    const ch = await changeStatus(trx, ref!, verb);
    await writeAudit(trx, { actor: ctx.actor, action: `accounts.${verb}`, targetType: 'compte', targetId: ch.account.id, reason, before: ch.before, after: { ...ch.after, ...(impact ? { carrier: impact } : {}) } });
    return ch;
  });
  await renderChange(ctx, verb, change, impact ? { carrier_impact: impact } : {});
  if (impact && !ctx.ui.json) ctx.ui.info(`${ctx.dryRun ? 'would affect' : 'affects'}: ${describeCarrierImpact(impact)}`);
}

async function deleteCmd(ctx: Ctx, opts: ChangeOpts & { hard?: boolean }, args: string[]): Promise<void> {
  if (!opts.hard) return statusCmd(ctx, opts, args, 'delete');
  const reason = reasonOf(opts);
  const ref = args[0]!;
  const { hardDeleteAccount } = await import('../domain/accounts.js');
  const { findCompte } = await import('../domain/lookup.js');
  const { writeAudit } = await import('../domain/audit.js');
  const c = await findCompte(await ctx.db(), ref);
  await ctx.confirm(`permanently remove account ${c.email} (id ${c.id}) and its profile? this cannot be undone`);
  const result = await ctx.mutate(async (trx) => {
    const r = await hardDeleteAccount(trx, ref);
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'accounts.delete',
      targetType: 'compte',
      targetId: r.account.id,
      reason,
      before: { email: r.account.email, role: r.account.role, status: r.account.status },
      after: { hard_deleted: true, removed: r.removed },
    });
    return r;
  });
  if (ctx.ui.json) return ctx.ui.printJson({ ...result, hard: true, dry_run: ctx.dryRun });
  const { zones, revoked_tokens: tokens, profile } = result.removed;
  ctx.ui.success(
    `${ctx.dryRun ? 'would remove' : 'removed'} account ${result.account.email} (id ${result.account.id})` +
      `${profile ? `, its ${profile} row` : ''}${zones ? `, ${zones} zone(s)` : ''}${tokens ? `, ${tokens} revoked token(s)` : ''}`,
  );
}

interface VerifyOpts extends ChangeOpts {
  email?: boolean;
  phone?: boolean;
}

async function verifyCmd(ctx: Ctx, opts: VerifyOpts, [ref]: string[], value: boolean): Promise<void> {
  const reason = reasonOf(opts);
  const verb = value ? 'verify' : 'unverify';
  if (!opts.email && !opts.phone) throw new InvalidInput(`say what to ${verb}: --email and/or --phone`);
  const { setVerified } = await import('../domain/accounts.js');
  const { writeAudit } = await import('../domain/audit.js');
  const change = await ctx.mutate(async (trx) => {
    const ch = await setVerified(trx, ref!, { email: opts.email, phone: opts.phone }, value);
    await writeAudit(trx, { actor: ctx.actor, action: `accounts.${verb}`, targetType: 'compte', targetId: ch.account.id, reason, before: ch.before, after: ch.after });
    return ch;
  });
  await renderChange(ctx, verb, change);
}

async function setRoleCmd(ctx: Ctx, opts: ProfileOpts & ChangeOpts, [ref, roleRef]: string[]): Promise<void> {
  const reason = reasonOf(opts);
  const { setRole } = await import('../domain/accounts.js');
  const { findCompte } = await import('../domain/lookup.js');
  const { findRole } = await import('../domain/roles.js');
  const { writeAudit } = await import('../domain/audit.js');
  const db = await ctx.db();
  const c = await findCompte(db, ref!);
  const role = await findRole(db, roleRef!, { missing: 'invalid', field: 'role' });
  const current = (await db('roles').where('id', c.role_id).first('name')) as { name: string } | undefined;
  if (role.id !== c.role_id && c.status !== 'deleted') {
    await ctx.confirm(`change the role of ${c.email} (id ${c.id}) from ${current?.name ?? '?'} to ${role.name}?`);
  }
  const change = await ctx.mutate(async (trx) => {
    const ch = await setRole(trx, ref!, roleRef!, profileInput(opts));
    await writeAudit(trx, { actor: ctx.actor, action: 'accounts.set-role', targetType: 'compte', targetId: ch.account.id, reason, before: ch.before, after: ch.after });
    return ch;
  });
  await renderChange(ctx, 'change the role of', change);
}
