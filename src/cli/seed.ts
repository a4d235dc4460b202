/**
 * `billettigue seed demo`: a realistic platform at any volume, reproducible from a seed.
 * Flags → a plan (src/domain/demo/plan.ts); refusals and confirmations here; the generation and
 * the bulk load in src/domain/demo and src/db/bulk.ts. See docs/seed.md.
 */
import type { Command } from 'commander';
import { action, parseNonNegativeInt, parsePositiveInt, type Ctx } from './context.js';
import { Conflict, InvalidInput } from '../domain/errors.js';
import { formatCount, type Progress } from './ui.js';

export function register(seed: Command): void {
  seed.addHelpText(
    'after',
    `
Examples:
  $ billettigue seed demo --scale tiny                 # ~1k rows, the README's first command
  $ billettigue seed demo --scale small --random-seed 7
  $ billettigue --db mysql://root@127.0.0.1:3306/billettigue seed demo --scale medium --fresh --yes
  $ billettigue seed demo --accounts 500 --trajets 200 --reservations 600 --envois 0`,
  );

  seed
    .command('demo')
    .description('generate a coherent demo platform (accounts, carriers, trajets, reservations, envois, tokens)')
    .option('--scale <scale>', 'tiny (~1k rows), small (~50k), medium (~1M) or large (~10M)', parseScale, 'small')
    .option('--accounts <n>', 'end-user accounts (role user), each with its profile', parsePositiveInt('--accounts'))
    .option('--transporteurs <n>', 'carriers (with their companies and service zones)', parseNonNegativeInt('--transporteurs'))
    .option('--trajets <n>', 'passenger trips', parseNonNegativeInt('--trajets'))
    .option('--reservations <n>', 'reservations, each with its paiement', parseNonNegativeInt('--reservations'))
    .option('--envois <n>', 'parcel shipments (1 to 5 colis each)', parseNonNegativeInt('--envois'))
    .option('--random-seed <s>', 'any text; the same seed gives the same database (default "1")')
    .option('--now <date>', 'reference time the data is generated around: YYYY-MM-DD, an ISO time, or "today" (default 2026-11-25)')
    .option('--fresh', 'empty the data tables first (asks; --yes without a terminal; takes a safety backup)')
    .option('--dir <dir>', 'where the safety backup of --fresh goes (default ./backups)')
    .option('--no-safety-backup', 'with --fresh: do not back up the rows it empties')
    .option('--dry-run', 'check the database and show the plan; write nothing')
    .addHelpText(
      'after',
      `
Demo accounts have emails at @demo.billettigue.test and share one password, printed at the end
(never in production mode: NODE_ENV or BILLETTIGUE_ENV = production, where seeding needs --yes and
the password is random and not shown). A database holding other accounts is refused unless --yes;
one already holding demo data needs --fresh, which asks, then takes a safety backup
(safety_backup_<time> in --dir; restore it with \`billettigue restore FILE\`) before emptying anything.
The same --random-seed and --now give the same rows.
MySQL/MariaDB loads with LOAD DATA LOCAL INFILE when the server allows it, multi-row INSERTs
otherwise (BILLETTIGUE_SEED_LOADER=insert forces them); PostgreSQL with COPY FROM STDIN; SQLite
with prepared multi-row INSERTs.

Examples:
  $ billettigue seed demo --scale tiny
  $ billettigue seed demo --scale small --random-seed 42 --now today
  $ billettigue seed demo --scale medium --fresh --yes --json`,
    )
    .action(action(demo));
}

const SCALES = ['tiny', 'small', 'medium', 'large'] as const;
type Scale = (typeof SCALES)[number];

function parseScale(value: string): Scale {
  const v = value.trim().toLowerCase();
  if ((SCALES as readonly string[]).includes(v)) return v as Scale;
  throw new InvalidInput(`--scale "${value}" is not a scale: use one of ${SCALES.join(', ')}`);
}

interface DemoOpts {
  scale: Scale;
  accounts?: number;
  transporteurs?: number;
  trajets?: number;
  reservations?: number;
  envois?: number;
  randomSeed?: string;
  now?: string;
  fresh?: boolean;
  dir?: string;
  safetyBackup: boolean;
  dryRun?: boolean;
}

/** `--now`: a date, an ISO time or "today" (midnight UTC, the one use of the clock, on request). */
async function parseReference(raw: string | undefined, fallback: Date): Promise<Date> {
  if (raw === undefined) return fallback;
  if (raw.trim().toLowerCase() === 'today') {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  }
  // UTC days, whatever the display zone: the same --now gives the same rows on every machine.
  const { parseDayOrInstant } = await import('../domain/dates.js');
  const d = parseDayOrInstant(raw, '--now', 'start', new Date(), 'UTC');
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

async function demo(ctx: Ctx, opts: DemoOpts): Promise<void> {
  const plan = await import('../domain/demo/plan.js');
  const { DEMO_TABLES } = await import('../domain/demo/generator.js');
  const domain = await import('../domain/demo/seed.js');
  const { BULK_PATH_LABEL } = await import('../db/bulk.js');
  const { pauseAt } = await import('../backup/pause.js');

  const demoPlan = plan.makePlan(opts.scale, {
    accounts: opts.accounts,
    transporteurs: opts.transporteurs,
    trajets: opts.trajets,
    reservations: opts.reservations,
    envois: opts.envois,
  });
  const randomSeed = opts.randomSeed ?? plan.DEFAULT_RANDOM_SEED;
  if (randomSeed.trim() === '') throw new InvalidInput('--random-seed must not be empty');
  const reference = await parseReference(opts.now, plan.DEFAULT_REFERENCE);
  const loaderEnv = (ctx.env.BILLETTIGUE_SEED_LOADER ?? 'auto').trim().toLowerCase();
  if (!['auto', 'load-data', 'insert'].includes(loaderEnv)) {
    throw new InvalidInput(`BILLETTIGUE_SEED_LOADER=${loaderEnv} is invalid: use auto, load-data or insert`);
  }
  // Colis rates too large for shipping_cost fail here, before anything is emptied or written
  // (otherwise the load would stop at the colis table with its parents already committed).
  const { COLIS_KINDS } = await import('../domain/demo/words.js');
  const { colisShippingCents } = await import('../domain/money.js');
  colisShippingCents(Math.max(...COLIS_KINDS.map((k) => k.maxWeight)), ctx.settings.colisBaseCents, ctx.settings.colisPerKgCents);
  const production = plan.isProductionEnv(ctx.env);
  if (production && !ctx.yes) {
    throw new InvalidInput(
      'refusing to seed demo data in production mode (NODE_ENV or BILLETTIGUE_ENV is "production"): re-run with --yes if this really is a test database (the demo accounts then get a random password that is never shown)',
      { code: 'production' },
    );
  }

  // The one bcrypt hash of the run (a per-row hash would make large seeds crawl), computed in
  // bcrypt's thread pool while the database is inspected.
  const password = production ? (await import('../domain/passwords.js')).generatePassword() : plan.DEMO_PASSWORD;
  const hashing = domain.demoPasswordHash(password, ctx.settings.bcryptCost, randomSeed, production);
  hashing.catch(() => undefined);

  const target = ctx.target();
  const knex = await ctx.db();
  ctx.announceTarget();
  const state = await domain.inspectForDemo(knex);
  const existing = domain.totalRows(state);

  if (!opts.fresh) {
    if (state.demoAccounts > 0) {
      throw new Conflict(
        `${target.display} already holds demo data (${state.demoAccounts} accounts at @${plan.DEMO_EMAIL_DOMAIN}): add --fresh to replace it`,
        { code: 'demo_data_present' },
      );
    }
    if (existing > 0 && !ctx.yes) {
      throw new Conflict(
        `${target.display} holds data that is not demo data (${state.otherAccounts} accounts, ${existing} rows): demo rows would be mixed into it; use an empty database, or re-run with --yes to add them beside it, or --fresh to replace everything`,
        { code: 'non_demo_data' },
      );
    }
  }

  const offsets = opts.fresh ? (Object.fromEntries(DEMO_TABLES.map((t) => [t, 0])) as typeof state.maxIds) : state.maxIds;
  const estimate = Math.round(plan.estimateRows(demoPlan));
  const what = `${formatCount(demoPlan.accounts)} accounts, ${formatCount(demoPlan.transporteurs)} transporteurs, ${formatCount(demoPlan.admins)} admins, ${formatCount(demoPlan.trajets)} trajets, ${formatCount(demoPlan.reservations)} reservations, ${formatCount(demoPlan.envois)} envois (≈ ${formatCount(estimate)} rows)`;

  if (ctx.dryRun) {
    ctx.ui.info(`dry run: would ${opts.fresh && existing > 0 ? `${opts.safetyBackup ? 'take a safety backup, ' : ''}empty ${formatCount(existing)} rows, then ` : ''}generate ${what} with random seed "${randomSeed}" around ${reference.toISOString()}; nothing was written`);
    if (ctx.ui.json) {
      ctx.ui.printJson({
        target: target.display,
        dry_run: true,
        scale: demoPlan.scale,
        random_seed: randomSeed,
        reference_time: reference.toISOString(),
        fresh: Boolean(opts.fresh),
        existing_rows: existing,
        plan: { ...demoPlan, estimated_rows: estimate },
      });
    }
    return;
  }

  let safety: string | null = null;
  if (opts.fresh && existing > 0) {
    const question =
      state.otherAccounts > 0
        ? `empty the 11 data tables of ${target.display} (${existing} rows, including ${state.otherAccounts} accounts that are NOT demo data) and seed demo data?`
        : `empty the 11 data tables of ${target.display} (${existing} rows of demo data) and seed again?`;
    if (state.otherAccounts > 0) await ctx.confirmByName(question);
    else await ctx.confirm(question);
    // Emptying is a destruction like a rollback: the rows go into a safety backup first.
    if (opts.safetyBackup) {
      const { takeSafetyBackup } = await import('./safety.js');
      safety = await takeSafetyBackup(ctx, opts.dir);
    } else ctx.ui.warn('no safety backup (--no-safety-backup): the emptied rows cannot be brought back');
  }

  const passwordHash = await hashing;

  // Ctrl-C (main.ts closes the context): stop loading at once; open batches roll back; what the
  // committed batches kept is counted, so that the message says exactly what is there now.
  const stop = new AbortController();
  let emptied = false;
  const load: { running?: Promise<unknown> } = {};
  let finished = false;
  let kept: Array<[string, number]> | undefined;
  ctx.onClose(async () => {
    stop.abort();
    if (!load.running || finished) return;
    await Promise.race([load.running.catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    try {
      kept = await Promise.all(DEMO_TABLES.map(async (t) => [t, Number(((await knex(t).count({ n: '*' }).first()) as { n: number | string }).n)] as [string, number]));
    } catch {
      kept = undefined;
    }
  });
  ctx.onInterrupt(() => interruptedSeed({ fresh: Boolean(opts.fresh), emptied, existing, started: Boolean(load.running), kept, again: rerunCommand(), safety }));

  if (opts.fresh && existing > 0) {
    await domain.emptyDemoTables(knex);
    emptied = true;
    ctx.ui.info(`emptied the data tables (${formatCount(existing)} rows)`);
  }
  ctx.ui.info(`generating ${what}; random seed "${randomSeed}", reference time ${reference.toISOString()}`);
  // One bar for the whole seed (tables load concurrently on MySQL); a line per finished table.
  let bar: Progress | undefined;
  const progress = new Map<string, number>();
  const lanesEnv = ctx.env.BILLETTIGUE_SEED_LANES;
  const lanes = lanesEnv === undefined || lanesEnv === '' ? undefined : parsePositiveInt('BILLETTIGUE_SEED_LANES', 4)(lanesEnv);
  const run = domain.runDemoSeed(
    knex,
    {
      plan: demoPlan,
      randomSeed,
      reference,
      settings: ctx.settings,
      passwordHash,
      offsets,
      mysqlPath: loaderEnv as 'auto' | 'load-data' | 'insert',
      lanes,
      signal: stop.signal,
    },
    {
      onPlan: async (counts, path) => {
        ctx.ui.info(`loader: ${BULK_PATH_LABEL[path]}`);
        bar = ctx.ui.progress('seeding', Object.values(counts).reduce((a, b) => a + b, 0));
        await pauseAt('seed:load');
      },
      onProgress: (table, done) => {
        progress.set(table, done);
        let sum = 0;
        for (const n of progress.values()) sum += n;
        bar?.update(sum);
      },
      onTableDone: async (table, rows, seconds) => {
        progress.set(table, rows);
        bar?.note?.(`  ${table.padEnd(16)} ${formatCount(rows).padStart(11)} rows  ${seconds.toFixed(2)} s`);
        await pauseAt('seed:table');
      },
    },
  );
  load.running = run;
  const result = await run;
  finished = true;
  bar?.done();
  if (result.fallbackReason) ctx.ui.warn(`LOAD DATA LOCAL INFILE not used: ${result.fallbackReason}; loaded with multi-row INSERTs`);

  const { writeAudit } = await import('../domain/audit.js');
  await knex.transaction((trx) =>
    writeAudit(trx, {
      actor: ctx.actor,
      action: 'seed.demo',
      targetType: 'database',
      targetId: target.display,
      before: { rows: existing, demo_accounts: state.demoAccounts, other_accounts: state.otherAccounts, emptied: Boolean(opts.fresh && existing > 0) },
      after: {
        scale: demoPlan.scale,
        random_seed: randomSeed,
        reference_time: reference.toISOString(),
        loader: result.path,
        connections: result.lanes,
        rows: Object.fromEntries(result.tables.map((t) => [t.table, t.rows])),
        total_rows: result.totalRows,
        seconds: Math.round(result.seconds * 100) / 100,
      },
    }),
  );

  const rate = (rows: number, s: number) => (s > 0 ? Math.round(rows / s) : rows);
  const tables = result.tables.map((t) => ({ table: t.table, rows: t.rows, seconds: round2(t.seconds), rows_per_second: rate(t.rows, t.seconds) }));
  if (ctx.ui.json) {
    ctx.ui.printJson({
      target: target.display,
      scale: demoPlan.scale,
      random_seed: randomSeed,
      reference_time: reference.toISOString(),
      loader: result.path,
      connections: result.lanes,
      fallback_reason: result.fallbackReason,
      fresh: Boolean(opts.fresh),
      safety_backup: safety,
      tables,
      total_rows: result.totalRows,
      seconds: round2(result.seconds),
      rows_per_second: rate(result.totalRows, result.seconds),
      demo_email_domain: plan.DEMO_EMAIL_DOMAIN,
      admin_email: `admin@${plan.DEMO_EMAIL_DOMAIN}`,
      ...(production ? {} : { demo_password: password }),
    });
    return;
  }
  await ctx.ui.list(
    [...tables, { table: 'total', rows: result.totalRows, seconds: round2(result.seconds), rows_per_second: rate(result.totalRows, result.seconds) }],
    [
      { header: 'table', value: (r) => r.table },
      { header: 'rows', value: (r) => r.rows, align: 'right' },
      { header: 'seconds', value: (r) => r.seconds.toFixed(2), align: 'right' },
      { header: 'rows/s', key: 'rows_per_second', value: (r) => r.rows_per_second, align: 'right' },
    ],
  );
  ctx.ui.success(
    `seeded ${formatCount(result.totalRows)} rows in ${result.seconds.toFixed(1)} s with ${result.pathLabel}${result.lanes > 1 ? ` on ${result.lanes} connections` : ''}`,
  );
  if (production) ctx.ui.info('production mode: the demo accounts got a random password that is not shown');
  else ctx.ui.info(`demo accounts (e.g. admin@${plan.DEMO_EMAIL_DOMAIN}) share the password: ${password}`);
  ctx.ui.info('try: billettigue accounts list --limit 10 · billettigue trajets list · billettigue stats');
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The same command with --fresh --yes: how to finish after an interruption. */
function rerunCommand(): string {
  const args = process.argv.slice(2).filter((a) => a !== '--fresh' && a !== '--yes' && a !== '-y');
  return `billettigue ${[...args, '--fresh', '--yes'].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ')}`;
}

/** What an interrupted `seed demo` left, exactly, and how to finish. */
function interruptedSeed(s: { fresh: boolean; emptied: boolean; existing: number; started: boolean; kept?: Array<[string, number]>; again: string; safety: string | null }): string {
  const saved = s.safety ? `, saved in ${s.safety}` : '';
  const orBack = s.safety ? `, or put the old rows back with \`billettigue restore ${s.safety}\`` : '';
  if (!s.started) {
    return s.emptied
      ? `interrupted after emptying the data tables (${formatCount(s.existing)} rows removed${saved}) and before loading anything: the tables are empty; seed again with \`${s.again}\`${orBack}`
      : 'interrupted before anything was written: nothing was changed';
  }
  const before = s.emptied ? `the data tables were emptied (${formatCount(s.existing)} rows removed${saved}), then ` : '';
  if (!s.kept) {
    return `interrupted: ${before}the load stopped part-way (the open batches were rolled back; the committed ones stay): the database holds partial demo data; finish with \`${s.again}\`${orBack}`;
  }
  const loaded = s.kept.filter(([, n]) => n > 0).map(([t, n]) => `${t} ${formatCount(n)}`);
  const empty = s.kept.filter(([, n]) => n === 0).map(([t]) => t);
  return (
    `interrupted: ${before}the load stopped part-way; the open batches were rolled back, the committed ones stay: ` +
    `${loaded.length ? `kept ${loaded.join(', ')}` : 'no row kept'}${empty.length ? `; empty: ${empty.join(', ')}` : ''}. ` +
    `This is partial demo data (\`billettigue maintenance check\` reports it; a plain \`seed demo\` refuses it): finish with \`${s.again}\`${orBack}`
  );
}
