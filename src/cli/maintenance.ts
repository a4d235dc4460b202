/**
 * `billettigue maintenance`: purge-tokens, archive (and archive restore), check.
 * Made for scheduled use: no prompt without a TTY (destructive steps then need --yes), --quiet,
 * meaningful exit codes (check: 0 clean, 6 violations).
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import { IntegrityError, InvalidInput } from '../domain/errors.js';
import { displayTime, formatCount, zoned } from './ui.js';

export function register(m: Command): void {
  m.addHelpText(
    'after',
    `
Examples:
  $ billettigue maintenance purge-tokens                      # cron: expired revoked tokens
  $ billettigue maintenance archive --older-than 18mo --dry-run
  $ billettigue maintenance archive --older-than 2y --yes --batch-size 2000
  $ billettigue maintenance archive restore --id reservation:4211
  $ billettigue maintenance check --json > check.json || echo "violations (exit $?)"`,
  );

  m.command('purge-tokens')
    .description('delete revoked tokens whose JWT has expired, in batches; prints the count')
    .option('--batch-size <n>', 'rows deleted per transaction', parsePositiveInt('--batch-size', 100_000), 5000)
    .option('--dry-run', 'count what would be deleted; change nothing')
    .addHelpText('after', `
Expired = expires_at before now (UTC). Each batch is its own short transaction; one audit row
(maintenance.purge-tokens) records the count.
Examples:
  $ billettigue maintenance purge-tokens --dry-run
  $ billettigue -q maintenance purge-tokens --json`)
    .action(action(purgeTokensCmd));

  const archive = m
    .command('archive')
    .description('move finished reservations (with paiements) and envois (with colis) older than a cutoff into *_archive tables')
    .option('--older-than <duration>', 'cutoff back from now: 90d, 6w, 18mo, 2y (or a date: 2024-06-01)')
    .option('--batch-size <n>', 'records per transaction (each batch: copy, then delete)', parsePositiveInt('--batch-size', 10_000), 1000)
    .option('--dry-run', 'print what would move; change nothing')
    .addHelpText('after', `
What moves:
  reservations completed/cancelled/refunded whose trajet departed before the cutoff, with their
  paiement; envois delivered/cancelled whose last change (updated_at) is before the cutoff, with
  their colis. Trajets, accounts and everything live stay. Each batch is one transaction (copy
  into the archive, then delete): an interruption loses and duplicates nothing; run it again to
  continue. Needs --yes without a terminal.
Examples:
  $ billettigue maintenance archive --older-than 18mo --dry-run
  $ billettigue maintenance archive --older-than 2y --yes
  $ billettigue maintenance archive restore --id envoi:77`)
    .action(action(archiveCmd));

  archive
    .command('restore')
    .description('bring one archived reservation (with its paiement) or envoi (with its colis) back')
    .requiredOption('--id <type:id>', 'the archived record: reservation:ID or envoi:ID')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--dry-run', 'show what would come back; change nothing')
    .addHelpText('after', `
The record comes back under its own id, with its status; the trajet, account, sender and carrier it
points to must still exist (exit 4 otherwise).
Examples:
  $ billettigue maintenance archive restore --id reservation:4211 --reason "customer dispute"
  $ billettigue maintenance archive restore --id envoi:77 --json`)
    .action(action(restoreCmd));

  m.command('check')
    .description('verify every invariant of the data rules over the whole database (exit 0 clean, 6 violations)')
    .option('--limit <n>', 'violations listed per rule (all are counted)', parsePositiveInt('--limit', 100_000), 100)
    .option('--rule <code...>', 'only these rules (see --list-rules)')
    .option('--list-rules', 'print the rules and exit')
    .option('--strict-pricing', 'pricing differences fail the check too (exit 6), not only warn')
    .addHelpText('after', `
Integrity rules (exit 6 when violated): seats, one paiement per reservation with amount = total,
allowed (reservation, paiement) statuses, no live reservation on a completed or cancelled trajet,
envoi/colis statuses, one profile per account matching its role, total = price × seats +
supplement, the CHECK ranges, and the same over the archive tables.
Pricing rules (warnings, exit 0, unless --strict-pricing): refund supplements and colis shipping
costs recomputed with the CURRENT settings (BILLETTIGUE_REFUND_RATE, BILLETTIGUE_COLIS_BASE,
BILLETTIGUE_COLIS_PER_KG); the platform app may price with its own. Each rule is one set-based query.
Examples:
  $ billettigue maintenance check
  $ billettigue maintenance check --strict-pricing
  $ billettigue maintenance check --rule trajet_seats_mismatch --limit 1000 --json
  $ billettigue maintenance check --list-rules`)
    .action(action(checkCmd));
}

// ---- purge-tokens -----------------------------------------------------------------------------

async function purgeTokensCmd(ctx: Ctx, opts: { batchSize: number }): Promise<void> {
  const db = await ctx.db();
  const { purgeTokens } = await import('../domain/maintenance.js');
  ctx.announceTarget();
  const spinner = await ctx.ui.spinner('purging expired revoked tokens…');
  const result = await purgeTokens(db, {
    actor: ctx.actor,
    batchSize: opts.batchSize,
    dryRun: ctx.dryRun,
    onBatch: (n) => (spinner.text = `purging expired revoked tokens… ${formatCount(n)} deleted`),
  });
  spinner.stop();
  if (ctx.ui.json) {
    ctx.ui.printJson({ dry_run: result.dryRun, expired_before: result.expiredBefore.toISOString(), [result.dryRun ? 'would_delete' : 'deleted']: result.count });
    return;
  }
  ctx.ui.line(
    result.dryRun
      ? `${result.count} expired revoked token${result.count === 1 ? '' : 's'} would be deleted (dry run: nothing changed)`
      : `${result.count} expired revoked token${result.count === 1 ? '' : 's'} deleted`,
  );
}

// ---- archive ----------------------------------------------------------------------------------

async function archiveCmd(ctx: Ctx, opts: { olderThan?: string; batchSize: number }): Promise<void> {
  const { parseCutoff, planArchive, archiveOlderThan } = await import('../domain/archive.js');
  const { pauseAt } = await import('../backup/pause.js');
  if (opts.olderThan === undefined) {
    throw new InvalidInput('archive needs --older-than DURATION (e.g. 18mo, 2y, 90d, 6w), or the `restore` verb');
  }
  const cutoff = parseCutoff(opts.olderThan);
  const db = await ctx.db();
  ctx.announceTarget();
  const plan = await planArchive(db, cutoff);
  const summary = (verb: string) =>
    `${verb} ${plan.reservations} reservation(s) with ${plan.paiements} paiement(s) and ${plan.envois} envoi(s) with ${plan.colis} colis, older than ${cutoff.toISOString()}`;
  if (ctx.dryRun) {
    if (ctx.ui.json) {
      ctx.ui.printJson({ dry_run: true, cutoff: cutoff.toISOString(), would_move: planJson(plan) });
      return;
    }
    await ctx.ui.list(
      [
        { table: 'reservations', rows: plan.reservations },
        { table: 'paiements', rows: plan.paiements },
        { table: 'envois', rows: plan.envois },
        { table: 'colis', rows: plan.colis },
      ],
      [
        { header: 'table', value: (r) => r.table },
        { header: 'rows to archive', value: (r) => r.rows, align: 'right' },
      ],
    );
    ctx.ui.info(`dry run: ${summary('would move')}; nothing changed`);
    return;
  }
  await ctx.confirm(`${summary('move')} into the archive tables?`);
  const progress = ctx.ui.progress('archiving', plan.reservations + plan.envois);
  const started = Date.now();
  const totals = await archiveOlderThan(db, {
    cutoff,
    batchSize: opts.batchSize,
    actor: ctx.actor,
    onBatch: async (t) => {
      progress.update(t.reservations + t.envois);
      await pauseAt('archive:batch');
    },
    beforeCommit: () => pauseAt('archive:commit'),
  });
  progress.done();
  const seconds = (Date.now() - started) / 1000;
  if (ctx.ui.json) {
    ctx.ui.printJson({
      dry_run: false,
      cutoff: cutoff.toISOString(),
      moved: { reservations: totals.reservations, paiements: totals.paiements, envois: totals.envois, colis: totals.colis },
      batches: totals.batches,
      seconds: Math.round(seconds * 100) / 100,
    });
    return;
  }
  ctx.ui.line(
    `archived ${totals.reservations} reservation(s) with ${totals.paiements} paiement(s) and ${totals.envois} envoi(s) with ${totals.colis} colis ` +
      `in ${totals.batches} batch(es), ${seconds.toFixed(1)} s (cutoff ${cutoff.toISOString()})`,
  );
}

function planJson(p: { reservations: number; paiements: number; envois: number; colis: number }) {
  return { reservations: p.reservations, paiements: p.paiements, envois: p.envois, colis: p.colis };
}

async function restoreCmd(ctx: Ctx, opts: { id: string; reason?: string }): Promise<void> {
  const { parseArchiveRef, restoreArchived } = await import('../domain/archive.js');
  const ref = parseArchiveRef(opts.id);
  await ctx.db();
  ctx.announceTarget();
  const r = await ctx.mutate((trx) => restoreArchived(trx, ref, ctx.actor, opts.reason));
  const json = {
    type: r.type,
    id: r.id,
    status: r.status,
    archived_at: r.archivedAt,
    [r.type === 'reservation' ? 'paiement_ids' : 'colis_ids']: r.children,
    dry_run: ctx.dryRun,
  };
  if (ctx.ui.json) return ctx.ui.printJson(json);
  await ctx.ui.record({
    record: `${r.type} ${r.id}`,
    status: r.status,
    [zoned('archived at')]: displayTime(r.archivedAt),
    [r.type === 'reservation' ? 'paiement' : 'colis']: r.children.join(', ') || '(none)',
  });
  if (!ctx.dryRun) ctx.ui.success(`restored ${r.type} ${r.id} with ${r.children.length} ${r.type === 'reservation' ? 'paiement' : 'colis'} from the archive`);
}

// ---- check ------------------------------------------------------------------------------------

/** 1000 basis points → "10", 750 → "7.5". */
function pct(bp: number): string {
  return (bp / 100).toString();
}

async function checkCmd(ctx: Ctx, opts: { limit: number; rule?: string[]; listRules?: boolean; strictPricing?: boolean }): Promise<void> {
  const { checkInvariants, listRules } = await import('../domain/invariants.js');
  const { formatCents } = await import('../domain/money.js');
  const all = listRules();
  if (opts.listRules) {
    await ctx.ui.list(
      all,
      [
        { header: 'rule', value: (r) => r.code },
        { header: 'class', value: (r) => r.class },
        { header: 'table', value: (r) => r.table },
        { header: 'invariant', value: (r) => r.description },
        { header: 'also enforced by', value: (r) => r.alsoEnforcedBy ?? '' },
      ],
      all.map((r) => ({ rule: r.code, class: r.class, table: r.table, description: r.description, also_enforced_by: r.alsoEnforcedBy ?? null })),
    );
    return;
  }
  if (opts.rule) {
    const known = new Set(all.map((r) => r.code));
    const unknown = opts.rule.filter((c) => !known.has(c));
    if (unknown.length > 0) {
      throw new InvalidInput(`unknown rule${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: see \`billettigue maintenance check --list-rules\``);
    }
  }
  const db = await ctx.db();
  ctx.announceTarget();
  const s = ctx.settings;
  const settingsText = `refund rate ${pct(s.refundRateBp)}%, colis ${formatCents(s.colisBaseCents)} + ${formatCents(s.colisPerKgCents)}/kg`;
  const spinner = await ctx.ui.spinner('checking invariants…');
  const report = await checkInvariants(db, s, {
    limit: opts.limit,
    only: opts.rule,
    onRule: (done, total) => (spinner.text = `checking invariants… ${done}/${total}`),
  });
  spinner.stop();
  const strict = Boolean(opts.strictPricing);
  const ofClass = (c: 'integrity' | 'pricing') => report.rules.filter((r) => r.class === c);
  const violations = ofClass('integrity').flatMap((r) => r.violations);
  const pricing = ofClass('pricing').flatMap((r) => r.violations);
  const failing = report.rules.filter((r) => r.count > 0 && (r.class === 'integrity' || strict));
  const failCount = failing.reduce((n, r) => n + r.count, 0);
  const columns = [
    { header: 'rule', value: (v: (typeof violations)[number]) => v.rule },
    { header: 'table', value: (v: (typeof violations)[number]) => v.table },
    { header: 'id', value: (v: (typeof violations)[number]) => v.id, align: 'right' as const },
    { header: 'what is wrong', value: (v: (typeof violations)[number]) => v.detail },
  ];
  const asJson = (v: (typeof violations)[number]) => ({ rule: v.rule, table: v.table, id: v.id, detail: v.detail });
  if (ctx.ui.json) {
    ctx.ui.printJson({
      clean: failCount === 0,
      integrity_clean: report.integrityCount === 0,
      violation_count: report.integrityCount,
      rules_checked: report.rules.length,
      strict_pricing: strict,
      rules: report.rules.map((r) => ({ rule: r.code, class: r.class, table: r.table, description: r.description, violations: r.count })),
      violations: violations.map(asJson),
      pricing: {
        clean: report.pricingCount === 0,
        violation_count: report.pricingCount,
        settings: {
          refund_rate_pct: pct(s.refundRateBp),
          colis_base: formatCents(s.colisBaseCents),
          colis_per_kg: formatCents(s.colisPerKgCents),
          note: 'supplements and shipping costs are checked with these current settings; the platform app may use its own',
        },
        violations: pricing.map(asJson),
      },
      duration_ms: report.durationMs,
    });
  } else {
    if (violations.length > 0) await ctx.ui.list(violations, columns);
    if (pricing.length > 0) {
      ctx.ui.info(`pricing: ${report.pricingCount} amount(s) differ from billettigue's settings (${settingsText})${strict ? '' : ' — warnings only'}`);
      await ctx.ui.list(pricing, columns);
    }
  }
  ctx.ui.info(`amounts checked with the current settings: ${settingsText}`);
  for (const r of report.rules) {
    if (r.count > r.violations.length) ctx.ui.warn(`${r.code}: ${r.count} violations, ${r.violations.length} listed (raise --limit to see more)`);
  }
  if (report.pricingCount > 0 && !strict) {
    const rules = ofClass('pricing').filter((r) => r.count > 0);
    ctx.ui.warn(
      `pricing: ${report.pricingCount} amount(s) differ from the current settings (${rules.map((r) => `${r.code} (${r.count})`).join(', ')}): ` +
        'the platform app may price differently; set BILLETTIGUE_REFUND_RATE / BILLETTIGUE_COLIS_BASE / BILLETTIGUE_COLIS_PER_KG to its values, or use --strict-pricing to fail on them',
    );
  }
  if (failCount === 0) {
    const held = report.rules.filter((r) => r.count === 0).length;
    ctx.ui.success(`${report.pricingCount === 0 ? 'clean' : 'integrity clean'}: ${held} rules hold (${(report.durationMs / 1000).toFixed(2)} s)`);
    return;
  }
  throw new IntegrityError(
    `${failCount} violation${failCount === 1 ? '' : 's'} of ${failing.length} rule${failing.length === 1 ? '' : 's'}: ${failing
      .map((r) => `${r.code} (${r.count})`)
      .join(', ')}`,
    { code: 'invariants_violated' },
  );
}
