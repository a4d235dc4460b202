/**
 * `billettigue doctor`: is this target usable? Prints one line per check and exits 0 only when
 * every check passes (5 otherwise: the database is unreachable or misconfigured).
 */
import type { Command } from 'commander';
import { action, type Ctx } from './context.js';
import { Unavailable } from '../domain/errors.js';

export function register(doctor: Command): void {
  doctor
    .description('check the target, connection, server, migrations, schema drift, time zone, sql_mode (MySQL) or encoding, extensions and accent folding (PostgreSQL) and, on a Galera cluster, the node')
    .addHelpText('after', `
Exit code 0 when healthy, 5 when not. On a Galera cluster node: the cluster's size and component,
this node's state (unhealthy unless Synced in the primary component) and wsrep_sync_wait.
On PostgreSQL: the server version (13 or later), time zone, encoding and
collation, the extensions (installed; unaccent, citext, pg_trgm available or
not) and which accent folding bt_fold() does (unaccent, or the Unicode NFD
fallback and why).
Examples:
  $ billettigue doctor
  $ billettigue --db mysql://root@127.0.0.1:3306/billettigue doctor --json
  $ billettigue --db postgres://postgres@localhost:5432/billettigue doctor`)
    .action(action(run));
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Informational checks never make the result unhealthy. */
  info?: boolean;
  /** A warning: shown with the fix, but not unhealthy (e.g. a stray backup temp file). */
  warn?: boolean;
}

async function run(ctx: Ctx): Promise<void> {
  const checks: Check[] = [];
  const target = ctx.target();
  checks.push({ name: 'target', ok: true, detail: `${target.display} (from ${target.source}${ctx.inference ? `; ${ctx.inference}` : ''})`, info: true });
  let knex;
  try {
    knex = await ctx.db({ schema: false });
    checks.push({ name: 'reachable', ok: true, detail: 'connected' });
  } catch (err) {
    checks.push({ name: 'reachable', ok: false, detail: (err as Error).message });
  }
  if (knex) {
    const { serverVersion, listTables, listColumns } = await import('../db/dialect.js');
    const { engineOf } = await import('../db/engines/index.js');
    const { migrationStatus, schemaOwner } = await import('../db/migrator.js');
    const { expectedSchema, compareSchema } = await import('../db/schema-drift.js');
    const { translateDbError } = await import('../db/errors.js');
    // A check whose queries the server refuses (a cluster node cut off from its primary
    // component) becomes a failed line: doctor still reports everything else.
    const attempt = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        const e = translateDbError(err);
        checks.push({ name, ok: false, detail: e instanceof Error ? e.message : String(e) });
      }
    };
    checks.push({ name: 'server', ok: true, detail: await serverVersion(knex), info: true });
    await attempt('migrations', async () => {
      const owner = await schemaOwner(knex);
      const s = await migrationStatus(knex);
      const applied = s.migrations.filter((m) => m.applied).length;
      if (owner === 'platform') {
        checks.push({
          name: 'migrations',
          ok: false,
          detail: "none: the platform app built this database (its tables are here, billettigue's migrations are not): take it over with `billettigue db adopt` (`--dry-run` first)",
        });
      } else {
        checks.push({
          name: 'migrations',
          ok: s.pending === 0 && s.unknown.length === 0,
          detail:
            `${applied}/${s.migrations.length} applied` +
            (s.pending ? `, ${s.pending} pending: run \`billettigue db migrate\`` : '') +
            (s.unknown.length ? `, unknown to this build: ${s.unknown.join(', ')}` : ''),
        });
      }
      if (owner === 'adopted') {
        const { adoptionRecord } = await import('../db/adopt/run.js');
        const rec = await adoptionRecord(knex);
        checks.push({
          name: 'adoption',
          ok: Boolean(rec?.complete),
          info: Boolean(rec?.complete),
          detail: rec?.complete
            ? `adopted ${rec.baseline.adopted_at}: the platform app's tables, ${rec.changes.length} change(s) by billettigue (\`db adopt --undo\` removes them)`
            : 'interrupted: run `billettigue db adopt --undo`, then `billettigue db adopt` again',
        });
      }
      checks.push({
        name: 'migration lock',
        ok: !s.locked,
        detail: s.locked ? 'held: if no migration is running, clear it with `billettigue db unlock --yes`' : 'free',
      });
      if (applied === s.migrations.length) {
        const live = new Map<string, string[]>();
        for (const t of await listTables(knex)) live.set(t, await listColumns(knex, t));
        const { ADOPTION_TABLE } = await import('../db/schema.js');
        // On an adopted database the app's own tables and columns are expected: only what
        // billettigue needs counts.
        const drift = compareSchema(await expectedSchema(), live, (t) => t === ADOPTION_TABLE || owner === 'adopted').filter(
          (f) => owner !== 'adopted' || !/: extra column/.test(f),
        );
        checks.push({
          name: 'schema drift',
          ok: drift.length === 0,
          detail: drift.length === 0 ? 'the live schema matches the migrations' : drift.join('; '),
        });
      }
    });
    await attempt(engineOf(knex).label, async () => {
      checks.push(...(await engineOf(knex).doctorChecks(knex)));
    });
    await attempt('leftovers', async () => {
      const { listRestoreLeftovers } = await import('../backup/leftovers.js');
      const all = await listRestoreLeftovers(target);
      // This database's staging copies and locks make it unhealthy; a temp file an interrupted
      // backup left in the shared folder belongs to no database in particular: a warning.
      const { TEMP_MARKER } = await import('../db/leftovers.js');
      const { basename } = await import('node:path');
      const isTemp = (l: (typeof all)[number]) => l.kind === 'file' && basename(l.name).startsWith('.') && l.name.includes(TEMP_MARKER);
      const own = all.filter((l) => !isTemp(l)).map((l) => `${l.kind} ${l.name}`);
      const files = all.filter(isTemp).map((l) => l.name);
      checks.push({
        name: 'leftovers',
        ok: own.length === 0,
        detail: own.length === 0 ? 'none' : `${own.join(', ')}: clean with \`billettigue restore --clean-leftovers --yes\``,
      });
      if (files.length) {
        checks.push({
          name: 'temp files',
          ok: false,
          warn: true,
          detail: `${files.join(', ')} (left by an interrupted backup or restore): remove with \`billettigue backup clean\``,
        });
      }
    });
  }
  const healthy = checks.every((c) => c.ok || c.info || c.warn);
  if (ctx.ui.json) {
    ctx.ui.printJson({ healthy, target: target.display, checks: checks.map(({ name, ok, detail, warn }) => ({ name, ok, detail, ...(warn ? { warning: true } : {}) })) });
  } else {
    for (const c of checks) {
      const mark = c.info ? ctx.ui.dim('·') : c.ok ? ctx.ui.green('ok') : c.warn ? ctx.ui.yellow('warn') : ctx.ui.red('FAIL');
      ctx.ui.line(`${mark.padEnd(4)} ${c.name.padEnd(15)} ${c.detail}`);
    }
    ctx.ui.line(healthy ? ctx.ui.green('healthy') : ctx.ui.red('unhealthy'));
  }
  if (!healthy) {
    const failed = checks.filter((c) => !c.ok && !c.info && !c.warn).map((c) => c.name);
    throw new Unavailable(`doctor found problems: ${failed.join(', ')}`, { code: 'unhealthy' });
  }
}
