/**
 * `billettigue db adopt [--dry-run] [--undo]`: take over a database the platform app built
 * (report, refusal with the list of what is missing, confirmation, safety backup, additive
 * changes recorded with their inverses), and give it back exactly (`--undo`). docs/platform.md.
 */
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { action, type Ctx } from './context.js';
import { Conflict } from '../domain/errors.js';
import type { AdoptionPlan, TableReport } from '../db/adopt/plan.js';

interface AdoptOpts {
  undo?: boolean;
  dir?: string;
}

export function register(db: Command): void {
  db.command('adopt')
    .description("take over a database the platform app built: report, then additive changes only (undo with --undo)")
    .option('--dry-run', 'print the report and the exact DDL, change nothing')
    .option('--undo', 'remove exactly what adoption added (the app\'s tables as they were)')
    .option('--dir <dir>', 'folder of the safety backup taken first (default ./backups)')
    .addHelpText(
      'after',
      `
The platform app (Sequelize) built this database and keeps writing it. Adoption compares it, table
by table and column by column, with what billettigue expects, and refuses (exit 4, nothing
changed) when a seed table or column is missing or of an incompatible type. Otherwise, after a
confirmation (type the database name on a terminal; --yes otherwise) and a safety backup
(safety_backup_<time>), it only adds: billettigue's own tables (audit_log, archives), missing
indexes, the revoked-token lookup, each CHECK the existing rows satisfy (rows that break one are
listed and that CHECK is skipped), and knex's migration tables with the current migrations marked
applied. No row is modified. Every change and its inverse is recorded in ${'billettigue_adoption'}.

Examples:
  $ billettigue db adopt --dry-run            # the report and the DDL; nothing changes
  $ billettigue db adopt                      # asks for the database name, backs up, adopts
  $ billettigue db adopt --yes --json
  $ billettigue db adopt --undo --yes         # the app's tables exactly as before adoption`,
    )
    .action(action<AdoptOpts>(adopt));
}

function dirOf(opts: AdoptOpts): string {
  return opts.dir ?? 'backups';
}

async function adopt(ctx: Ctx, opts: AdoptOpts): Promise<void> {
  const target = ctx.target();
  const knex = await ctx.db({ schema: false });
  ctx.ui.info(`target: ${target.display}`);
  if (opts.undo) return undo(ctx, knex, opts);
  const { schemaOwner, knownMigrations } = await import('../db/migrator.js');
  const owner = await schemaOwner(knex);
  if (owner === 'billettigue') throw new Conflict("this database is billettigue's already (its migrations built it): nothing to adopt", { code: 'already_billettigue' });
  if (owner === 'empty') throw new Conflict("nothing to adopt: none of the seed's tables are here; build the schema with `billettigue db migrate`", { code: 'nothing_to_adopt' });
  if (owner === 'adopted') {
    const { adoptionRecord } = await import('../db/adopt/run.js');
    const rec = await adoptionRecord(knex);
    throw new Conflict(
      rec?.complete
        ? `this database was adopted already (${rec.baseline.adopted_at}): nothing to do; \`billettigue db adopt --undo\` removes what adoption added`
        : 'an adoption of this database was interrupted: run `billettigue db adopt --undo` to remove what it did, then adopt again',
      { code: 'already_adopted' },
    );
  }
  const { planAdoption } = await import('../db/adopt/plan.js');
  const { recordTableSql, applyAdoption, baselineStep } = await import('../db/adopt/run.js');
  const { opStatements } = await import('../db/adopt/ops.js');
  let plan = await planAdoption(knex);
  /** Every change of a plan with the exact statements it runs (the baseline last). */
  const ddl = async (p: AdoptionPlan) =>
    Promise.all(
      [...p.steps, baselineStep(knex, knownMigrations())].map(async (s) => ({ kind: s.kind, table: s.table, summary: s.summary, sql: await opStatements(knex, s.forward) })),
    );
  const planned = await ddl(plan);

  if (ctx.ui.json && (ctx.dryRun || plan.blockers.length)) {
    ctx.ui.printJson({ target: target.display, dry_run: ctx.dryRun, adopted: false, ...planJson(plan), changes: planned });
  } else if (!ctx.ui.json) {
    renderReport(ctx, plan);
  }
  if (plan.blockers.length) {
    throw new Conflict(`cannot adopt ${target.display}: ${plan.blockers.join('; ')}. Nothing was changed`, {
      code: 'adoption_refused',
      details: { blockers: plan.blockers },
    });
  }
  for (const w of plan.warnings) ctx.ui.warn(w);
  if (ctx.dryRun) {
    if (!ctx.ui.json) {
      ctx.ui.line('');
      ctx.ui.line('DDL, in order (each change is recorded with its inverse in billettigue_adoption):');
      for (const s of [{ summary: 'the adoption record', sql: recordTableSql(knex) }, ...planned]) {
        ctx.ui.line(`-- ${s.summary}`);
        for (const sql of s.sql) ctx.ui.line(`${sql};`);
      }
    }
    ctx.ui.info(`dry run: ${planned.length} change(s) would be made; nothing changed`);
    return;
  }

  await ctx.confirmByName(`adopt ${target.display}: ${planned.length} additive change(s), no row modified?`);
  const { acquireRestoreLock } = await import('../backup/lock.js');
  const lock = await acquireRestoreLock(target, { purpose: 'db adopt', actor: ctx.actor });
  let safety: string;
  let steps;
  let changes;
  try {
    // Again under the lock: rows may have changed since the report (a CHECK may no longer hold).
    plan = await planAdoption(knex);
    if (plan.blockers.length) throw new Conflict(`cannot adopt ${target.display}: ${plan.blockers.join('; ')}. Nothing was changed`, { code: 'adoption_refused' });
    changes = await ddl(plan);
    const { takeSafetyBackup } = await import('./safety.js');
    safety = await takeSafetyBackup(ctx, dirOf(opts));
    const { toolVersion } = await import('../version.js');
    const spinner = await ctx.ui.spinner('adopting…');
    try {
      steps = await applyAdoption(knex, plan, {
        baseline: { migrations: knownMigrations(), actor: ctx.actor, safety_backup: safety, tool_version: toolVersion() },
        onStep: (done, total, s) => (spinner.text = `adopting… ${done}/${total}: ${s.summary}`),
      });
    } finally {
      spinner.stop();
    }
    const { writeAudit } = await import('../domain/audit.js');
    await knex.transaction((trx) =>
      writeAudit(trx, { actor: ctx.actor, action: 'db.adopt', targetType: 'database', targetId: target.display, after: { changes: steps.length, safety_backup: safety, warnings: plan.warnings.length } }),
    );
  } finally {
    await lock.release();
  }
  if (ctx.ui.json) {
    ctx.ui.printJson({ target: target.display, dry_run: false, adopted: true, safety_backup: safety, ...planJson(plan), changes });
    return;
  }
  ctx.ui.success(`adopted ${target.display}: ${steps.length} change(s) made, no row modified; \`billettigue db adopt --undo\` removes them`);
}

async function undo(ctx: Ctx, knex: Knex, opts: AdoptOpts): Promise<void> {
  const target = ctx.target();
  const { checkUndo, undoAdoption, adoptionRecord } = await import('../db/adopt/run.js');
  const check = await checkUndo(knex);
  const rec = await adoptionRecord(knex);
  if (!ctx.ui.json) {
    ctx.ui.line(`adopted ${check.baseline.adopted_at || '(interrupted)'}; ${check.changes} change(s) to remove, newest first:`);
    for (const c of [...(rec?.changes ?? [])].reverse()) ctx.ui.line(`  - ${c.summary}${c.state === 'done' ? '' : ' (interrupted)'}`);
  }
  for (const k of check.kept) ctx.ui.warn(k);
  if (ctx.dryRun) {
    if (ctx.ui.json) ctx.ui.printJson({ target: target.display, dry_run: true, undone: false, changes: rec?.changes ?? [] });
    ctx.ui.info('dry run: nothing changed');
    return;
  }
  await ctx.confirmByName(`remove everything adoption added to ${target.display} (audit_log and the archive tables included)?`);
  const { acquireRestoreLock } = await import('../backup/lock.js');
  const lock = await acquireRestoreLock(target, { purpose: 'db adopt --undo', actor: ctx.actor });
  let safety: string;
  let n: number;
  try {
    await checkUndo(knex);
    // It keeps the audit log, which goes with audit_log.
    const { takeSafetyBackup } = await import('./safety.js');
    safety = await takeSafetyBackup(ctx, dirOf(opts));
    n = await undoAdoption(knex);
  } finally {
    await lock.release();
  }
  if (ctx.ui.json) return ctx.ui.printJson({ target: target.display, dry_run: false, undone: true, changes_removed: n, safety_backup: safety, changes: rec?.changes ?? [] });
  ctx.ui.success(`adoption undone: ${n} change(s) removed; the platform app's tables are as they were before adoption`);
}

// ---- rendering -----------------------------------------------------------------------------------

function planJson(plan: AdoptionPlan): Record<string, unknown> {
  return {
    engine: plan.engine,
    blockers: plan.blockers,
    warnings: plan.warnings,
    other_tables: plan.otherTables,
    tables: plan.tables.map((t) => ({
      name: t.name,
      status: t.status,
      collation: t.collation,
      columns: t.columns,
      indexes: t.indexes,
      checks: t.checks,
      foreign_keys: t.foreignKeys,
      notes: t.notes,
    })),
  };
}

const MARK: Record<string, string> = { ok: 'ok', differs: '~', missing: 'MISSING', incompatible: 'INCOMPATIBLE', extra: '+' };

function renderReport(ctx: Ctx, plan: AdoptionPlan): void {
  const line = (s: string) => ctx.ui.line(s);
  for (const t of plan.tables) renderTable(ctx, t);
  if (plan.otherTables.length) line(`other tables (not billettigue's, left alone): ${plan.otherTables.join(', ')}`);
  line('');
  if (plan.blockers.length) {
    line(`adoption refused: ${plan.blockers.length} blocking difference(s):`);
    for (const b of plan.blockers) line(`  - ${b}`);
    return;
  }
  line(`plan: ${plan.steps.length + 1} additive change(s), no row modified:`);
  for (const [i, s] of plan.steps.entries()) line(`  ${i + 1}. ${s.summary}`);
  line(`  ${plan.steps.length + 1}. baseline: knex_migrations with the current migrations marked applied`);
}

function renderTable(ctx: Ctx, t: TableReport): void {
  const line = (s: string) => ctx.ui.line(s);
  if (t.status === 'create') return line(`${t.name}: billettigue's own table, will be created`);
  if (t.status === 'exists') return line(`${t.name}: exists`);
  if (t.status === 'missing') return line(`${t.name}: MISSING (required by the seed)`);
  line(`${t.name}${t.collation ? ` (${t.collation})` : ''}`);
  const w = Math.max(...t.columns.map((c) => c.name.length), 6);
  for (const c of t.columns) {
    const mark = MARK[c.verdict]!.padEnd(12);
    line(`  ${mark} ${c.name.padEnd(w)}  ${c.found ?? `(expected ${c.expected})`}${c.notes.length ? `  — ${c.notes.join('; ')}` : ''}`);
  }
  for (const i of t.indexes) {
    const what = `${i.unique ? 'unique ' : ''}index (${i.columns.join(', ')})`;
    if (i.action === 'none') line(`  ${'ok'.padEnd(12)} ${what}${i.found ? `: ${i.found}` : ''}`);
    else line(`  ${(i.action === 'add' ? 'add' : 'SKIP').padEnd(12)} ${what} as ${i.name}${i.note ? `  — ${i.note}` : ''}`);
  }
  for (const c of t.checks) {
    const v = c.violations;
    if (c.action === 'none') line(`  ${'ok'.padEnd(12)} check ${c.name}${c.note ? `  — ${c.note}` : ''}`);
    else if (c.action === 'add') line(`  ${'add'.padEnd(12)} check ${c.name}: ${c.predicate}`);
    else line(`  ${'SKIP'.padEnd(12)} check ${c.name}: ${c.predicate}  — ${v!.count} row(s) break it: ids ${v!.ids.join(', ')}${v!.count > v!.ids.length ? ', …' : ''}`);
  }
  for (const f of t.foreignKeys) {
    line(`  ${(f.verdict === 'ok' ? 'ok' : '~').padEnd(12)} foreign key (${f.columns.join(', ')}) → ${f.found ?? 'none'}${f.note ? `  — expected ${f.expected}: ${f.note}` : ''}`);
  }
}
