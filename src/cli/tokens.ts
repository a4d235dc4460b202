/**
 * `billettigue tokens`: revoke a JWT, list revoked tokens, check one, purge expired ones.
 * Tokens are read from stdin or --token-file (never argv: a token is a credential) and named in
 * output by their SHA-256 hash only.
 */
import type { Command } from 'commander';
import { ExitWith, action, parseDateOption, parsePositiveInt, readStdin, type Ctx } from './context.js';
import { InvalidInput } from '../domain/errors.js';
import type { TokenRecord } from '../domain/tokens.js';
import { displayTime, formatCount, zoned } from './ui.js';
import { localZoneName } from '../domain/dates.js';

export function register(tokens: Command): void {
  tokens.addHelpText(
    'after',
    `
A token is read from stdin or --token-file, never from the command line (shell history, ps).
Its "exp" is the expiry and its account is the first of the claims sub, id, userId, user_id that
holds an id (BILLETTIGUE_JWT_ACCOUNT_CLAIM=claim[,claim…] to choose); the signature is not checked.

Examples:
  $ printf %s "$JWT" | billettigue tokens revoke --reason "stolen laptop"
  $ billettigue tokens check --token-file ./token.txt -q && echo "refuse this token"
  $ billettigue tokens list --account jean.dupont@example.fr --active
  $ billettigue tokens purge --dry-run`,
  );

  tokens
    .command('revoke')
    .description('revoke a JWT read from stdin or --token-file (exit 4 if it is already revoked)')
    .option('--token-file <path>', 'read the token from this file instead of stdin')
    .option('--reason <text>', 'stored with the revoked token (default "logout")')
    .option('--dry-run', 'decode and check, then roll back')
    .addHelpText('after', '\nExample:\n  $ printf %s "$JWT" | billettigue tokens revoke --reason "password leaked"')
    .action(action(revoke));

  tokens
    .command('list')
    .description('revoked tokens, oldest first (keyset: --after the last id shown)')
    .option('--account <account>', 'only the tokens of this account (id or email)')
    .option('--active', 'only tokens not yet expired (the ones revocation still matters for)')
    .option('--expired', 'only expired tokens (what purge removes)')
    .option('--limit <n>', 'page size, 1 to 10000', parsePositiveInt('--limit', 10000), 50)
    .option('--after <id>', 'next page: the id of the last token of the previous page', parsePositiveInt('--after'))
    .addHelpText('after', '\nExample:\n  $ billettigue tokens list --account 42 --active --json')
    .action(action(list));

  tokens
    .command('check')
    .description('is this token revoked? prints revoked or not revoked; exit 0 when it is, 1 when it is not (like grep -q)')
    .option('--token-file <path>', 'read the token from this file instead of stdin')
    .addHelpText('after', '\nExample:\n  $ printf %s "$JWT" | billettigue tokens check --quiet; echo $?')
    .action(action(check));

  tokens
    .command('purge')
    .description('delete revoked tokens that have expired, in batches; prints the count')
    .option('--expired-before <date>', 'only tokens that expired before this date (not in the future; default now)', parseDateOption('--expired-before'))
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .addHelpText('after', '\nExamples:\n  $ billettigue tokens purge\n  $ billettigue tokens purge --expired-before 2026-01-01 --dry-run')
    .action(action(purge));
}

/** The token from --token-file or stdin: one token, surrounding whitespace ignored. */
async function readToken(opts: { tokenFile?: string }): Promise<string> {
  let text: string;
  if (opts.tokenFile !== undefined) {
    const { readFile } = await import('node:fs/promises');
    try {
      text = await readFile(opts.tokenFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InvalidInput(`--token-file ${opts.tokenFile}: cannot read it (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
    }
  } else {
    text = await readStdin();
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length > 1) throw new InvalidInput(`one token at a time: the input has ${lines.length} non-empty lines`, { code: 'malformed_token' });
  return lines[0] ?? '';
}

const when = displayTime;

function describe(t: TokenRecord): Record<string, unknown> {
  return {
    id: t.id,
    account: t.email ? `${t.email} (id ${t.user_id})` : t.user_id,
    token: t.token_hash ? `sha256:${t.token_hash.slice(0, 16)}…` : '',
    [zoned('revoked')]: when(t.revoked_at),
    [zoned('expires')]: when(t.expires_at),
    state: t.expired ? 'expired' : 'active',
    reason: t.reason ?? '',
  };
}

async function revoke(ctx: Ctx, opts: { tokenFile?: string; reason?: string }): Promise<void> {
  const token = await readToken(opts);
  const { revokeToken } = await import('../domain/tokens.js');
  const { writeAudit } = await import('../domain/audit.js');
  const rec = await ctx.mutate(async (trx) => {
    const r = await revokeToken(trx, token, { reason: opts.reason, accountClaims: ctx.settings.jwtAccountClaims });
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'tokens.revoke',
      targetType: 'compte',
      targetId: r.user_id,
      reason: r.reason,
      after: { token_id: r.id, token_hash: r.token_hash, expires_at: r.expires_at },
    });
    return r;
  });
  if (rec.expired) ctx.ui.warn(`this token already expired (${rec.expires_at}): it was refused anyway; purge will remove the row`);
  if (ctx.ui.json) return ctx.ui.printJson({ token: rec, dry_run: ctx.dryRun });
  ctx.ui.success(`${ctx.dryRun ? 'would revoke' : 'revoked'} the token of ${rec.email ?? `account ${rec.user_id}`} (expires ${when(rec.expires_at)} ${localZoneName()})`);
}

async function list(ctx: Ctx, opts: { account?: string; active?: boolean; expired?: boolean; limit: number; after?: number }): Promise<void> {
  if (opts.active && opts.expired) throw new InvalidInput('choose one of --active and --expired');
  const { listTokens } = await import('../domain/tokens.js');
  const db = await ctx.db();
  let userId: number | undefined;
  if (opts.account !== undefined) {
    const { findCompte } = await import('../domain/lookup.js');
    userId = (await findCompte(db, opts.account)).id;
  }
  const rows = await listTokens(db, {
    userId,
    state: opts.active ? 'active' : opts.expired ? 'expired' : undefined,
    limit: opts.limit,
    after: opts.after,
  });
  const shown = rows.map(describe);
  await ctx.ui.list(
    shown,
    Object.keys(shown[0] ?? describe({} as TokenRecord)).map((k) => ({ header: k, value: (r: Record<string, unknown>) => r[k], align: k === 'id' ? ('right' as const) : undefined })),
    rows,
    { limit: opts.limit, cursor: (r) => r.id as number },
  );
}

/** The answer on stdout, the status like `grep -q`: 0 revoked, 1 not revoked (2+ for errors). */
async function check(ctx: Ctx, opts: { tokenFile?: string }): Promise<void> {
  const token = await readToken(opts);
  const { checkToken } = await import('../domain/tokens.js');
  const { NotFound } = await import('../domain/errors.js');
  let rec: TokenRecord;
  try {
    rec = await checkToken(await ctx.db(), token);
  } catch (err) {
    if (!(err instanceof NotFound && err.code === 'token_not_revoked')) throw err;
    if (ctx.ui.json) ctx.ui.printJson({ revoked: false });
    else if (!ctx.ui.quiet) ctx.ui.line('not revoked');
    throw new ExitWith(1);
  }
  if (ctx.ui.json) return ctx.ui.printJson({ revoked: true, token: rec });
  if (ctx.ui.quiet) return;
  ctx.ui.line('revoked');
  await ctx.ui.record(describe(rec), rec);
}

async function purge(ctx: Ctx, opts: { expiredBefore?: Date }): Promise<void> {
  const { purgeExpiredTokens, purgeCutoff } = await import('../domain/tokens.js');
  const { writeAudit } = await import('../domain/audit.js');
  const before = purgeCutoff(opts.expiredBefore);
  const db = await ctx.db();
  ctx.announceTarget();
  const spinner = await ctx.ui.spinner('purging expired revoked tokens');
  let deleted: number;
  try {
    deleted = await purgeExpiredTokens(db, {
      before,
      dryRun: ctx.dryRun,
      onBatch: (n) => (spinner.text = `purging expired revoked tokens: ${formatCount(n)} deleted`),
    });
  } finally {
    spinner.stop();
  }
  // The batches commit one by one (short locks); the audit row records the total afterwards.
  if (!ctx.dryRun && deleted > 0) {
    await db.transaction((trx) =>
      writeAudit(trx, { actor: ctx.actor, action: 'tokens.purge', targetType: 'revoked_tokens', after: { deleted, expired_before: before.toISOString() } }),
    );
  }
  if (ctx.ui.json) return ctx.ui.printJson({ deleted, expired_before: before.toISOString(), dry_run: ctx.dryRun });
  ctx.ui.line(`${ctx.dryRun ? 'would delete' : 'deleted'} ${deleted} expired revoked token${deleted === 1 ? '' : 's'} (expired before ${when(before.toISOString())} ${localZoneName()})`);
}
