/**
 * PostgreSQL backup and restore against the stock tools, on the same data, in one run (ratios =
 * ours/theirs), on a medium demo database (`seed demo --scale medium`, ≈ 1M rows; BENCH_SIZE=small:
 * the small scale):
 *   backup   `pg_dump | gzip -1` (plain format)  vs  `billettigue backup`                  (target ≤ 1.0)
 *   restore  `gunzip < dump | psql` into a new database  vs  `billettigue restore` of our file
 *            into a new database (verified, swapped in; no safety backup: nothing to save)  (target ≤ 0.5)
 *   peak memory of both billettigue commands (target < 200 MB; /proc VmHWM)
 *   the CPU (user + system) of each backup side, from GNU time: load-independent, unlike the ratio
 * Each side runs BENCH_REPEAT times (default 3 at full size), alternating, and the best time counts.
 * Where the time of a billettigue restore goes is read from its steps (stderr lines, timed as they
 * arrive); beside it, in the same run, the ceilings that bound it on this machine: psql loading
 * the stock dump's tables with no index or constraint (the rows alone, one session) and the same
 * rows in parallel (COPY of each table's data on as many sessions as the restore uses).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { BIN, billettigue, timed, type Timed } from './support/process.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { defaultPgJobs } from '../src/backup/engines/postgres/load.js';

/**
 * CPU seconds (user + system) of a command and every process it starts, from GNU time's rusage of
 * its children: on a machine shared with other work the wall clock mostly says how busy it was,
 * the CPU what each side costs (the server's share is not in it).
 */
async function cpuSeconds(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  if (!existsSync('/usr/bin/time')) return null;
  const r = await timed('/usr/bin/time', ['-f', 'bt-rusage %U %S', cmd, ...args], { env });
  const m = /bt-rusage ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`${cmd} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return Number(m[1]) + Number(m[2]);
}

const bench: BenchModule = {
  title: 'PostgreSQL backup/restore vs pg_dump | gzip -1 and gunzip | psql (medium demo database)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    const full = ctx.size === 'full';
    const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? (full ? 3 : 1)));
    const server = new URL(ctx.pgUrl);
    const env = `PGHOST=${server.hostname} PGPORT=${server.port || '5432'} PGUSER=${decodeURIComponent(server.username || 'postgres')}${server.password ? ` PGPASSWORD='${decodeURIComponent(server.password).replace(/'/g, "'\\''")}'` : ''}`;
    const id = Date.now().toString(36);
    const src = `bt_bench_pgbk_${id}`;
    const made: string[] = [];
    const admin = await connect(parseDatabaseUrl(ctx.pgUrl, '--db'), { noDatabase: true });
    const createDb = async (name: string) => {
      await admin.raw("CREATE DATABASE ?? TEMPLATE template0 ENCODING 'UTF8'", [name]);
      made.push(name);
    };
    const dropDb = (name: string) => admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    const must = (what: string, r: Timed) => {
      if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
      return r;
    };
    try {
      // ---- data: the demo platform -----------------------------------------------------------
      const scale = full ? 'medium' : 'small';
      await createDb(src);
      const srcUrl = `${ctx.pgUrl}/${src}`;
      must('db migrate', await billettigue(['db', 'migrate'], srcUrl));
      const seeded = must('seed demo', await billettigue(['seed', 'demo', '--scale', scale, '--yes'], srcUrl));
      const k = await connect(parseDatabaseUrl(srcUrl, '--db'));
      let rows: number;
      let dbBytes: number;
      try {
        await k.raw('VACUUM ANALYZE');
        const r = (await k.raw("SELECT sum(n_live_tup)::bigint AS n, pg_database_size(current_database()) AS b FROM pg_stat_user_tables")) as { rows: Array<{ n: string; b: string }> };
        rows = Number(r.rows[0]!.n);
        dbBytes = Number(r.rows[0]!.b);
      } finally {
        await k.destroy();
      }
      ctx.log(`PostgreSQL data: seed demo --scale ${scale}, ${rows.toLocaleString('en')} rows in ${seeded.seconds.toFixed(1)} s`);
      out.push({ name: `data set (PostgreSQL, seed demo --scale ${scale})`, value: rows, unit: 'rows', note: `database ${(dbBytes / 2 ** 20).toFixed(0)} MiB with indexes` });

      // ---- backup ------------------------------------------------------------------------------
      const stockFile = path.join(ctx.scratchDir, 'pg_dump.sql.gz');
      const dir = path.join(ctx.scratchDir, 'pg-backups');
      let stockBackup = Infinity;
      let oursBackup = Infinity;
      let oursBackupMem = 0;
      let ourFile = '';
      for (let i = 0; i < repeat; i++) {
        // Alternate which side goes first: neither always meets a warmer cache or a busier moment.
        const stock = async () => must('pg_dump | gzip -1', await timed('bash', ['-c', `set -o pipefail; ${env} pg_dump ${src} | gzip -1 > ${stockFile}`]));
        const ours = async () => must('billettigue backup', await billettigue(['backup', '--dir', dir, '--name', `bench-${i}`], srcUrl));
        let s: Timed;
        let o: Timed;
        if (i % 2 === 0) {
          s = await stock();
          o = await ours();
        } else {
          o = await ours();
          s = await stock();
        }
        stockBackup = Math.min(stockBackup, s.seconds);
        oursBackup = Math.min(oursBackup, o.seconds);
        oursBackupMem = Math.max(oursBackupMem, o.peakMb ?? 0);
        ourFile = path.join(dir, `bench-${i}.sql.gz`);
        ctx.log(`backup #${i + 1}: pg_dump | gzip -1 ${s.seconds.toFixed(2)} s, billettigue ${o.seconds.toFixed(2)} s (${(o.peakMb ?? 0).toFixed(0)} MB)${i % 2 ? ', billettigue first' : ''}`);
      }
      // CPU of each side (one more run each, not timed for the wall clock).
      const stockCpu = await cpuSeconds('bash', ['-c', `set -o pipefail; ${env} pg_dump ${src} | gzip -1 > ${stockFile}`]);
      const oursCpu = await cpuSeconds(process.execPath, [BIN, 'backup', '--dir', dir, '--name', 'bench-cpu'], { DATABASE_URL: srcUrl, BILLETTIGUE_ACTOR: 'bench' });
      const mib = (f: string) => statSync(f).size / 2 ** 20;
      out.push({ name: 'backup: pg_dump (plain) | gzip -1', value: stockBackup, unit: 's', note: `${mib(stockFile).toFixed(1)} MiB` });
      out.push({
        name: 'backup: billettigue backup (PostgreSQL)',
        value: oursBackup,
        unit: 's',
        ratio: oursBackup / stockBackup,
        target: '≤ 1.0× pg_dump | gzip -1',
        ok: oursBackup / stockBackup <= 1.0,
        note: `${mib(ourFile).toFixed(1)} MiB, manifest with per-table SHA-256; best of ${repeat}`,
      });
      if (stockCpu !== null && oursCpu !== null) {
        out.push({ name: 'backup: CPU of pg_dump | gzip -1 (client side)', value: stockCpu, unit: 's', note: 'user + system, GNU time' });
        out.push({
          name: 'backup: CPU of billettigue backup (PostgreSQL)',
          value: oursCpu,
          unit: 's',
          ratio: oursCpu / stockCpu,
          note: 'user + system (gzip threads included); the per-table SHA-256 over the canonical rows is work pg_dump does not do',
        });
      }
      out.push({ name: 'backup (PostgreSQL): peak memory', value: oursBackupMem, unit: 'MB', target: '< 200 MB', ok: oursBackupMem > 0 && oursBackupMem < 200 });

      // ---- restore -----------------------------------------------------------------------------
      let stockRestore = Infinity;
      let oursRestore = Infinity;
      let oursRestoreMem = 0;
      let bestSteps: Timed['lines'] = [];
      let bare = Infinity;
      for (let i = 0; i < repeat; i++) {
        const stockDb = `${src}_stock${i}`;
        await createDb(stockDb);
        const s = must('gunzip | psql', await timed('bash', ['-c', `set -o pipefail; gunzip < ${stockFile} | ${env} psql -q -X -v ON_ERROR_STOP=1 -d ${stockDb} > /dev/null`]));
        stockRestore = Math.min(stockRestore, s.seconds);
        await dropDb(stockDb);
        const oursDb = `${src}_ours${i}`;
        made.push(oursDb);
        const o = must('billettigue restore', await billettigue(['restore', ourFile, '--yes', '--no-safety-backup', '--dir', dir], `${ctx.pgUrl}/${oursDb}`));
        if (o.seconds < oursRestore) bestSteps = o.lines;
        oursRestore = Math.min(oursRestore, o.seconds);
        oursRestoreMem = Math.max(oursRestoreMem, o.peakMb ?? 0);
        if (i < repeat - 1) await dropDb(oursDb);
        // Ceiling: the stock dump's rows alone (no keys, indexes or foreign keys), one session.
        const bareDb = `${src}_bare${i}`;
        await createDb(bareDb);
        const b = must('psql, rows only', await timed('bash', ['-c', `set -o pipefail; gunzip < ${stockFile} | sed -n '1,/^-- Name: .*Type: \\(FK \\)\\?CONSTRAINT\\|^-- Name: .*Type: INDEX/p' | ${env} psql -q -X -d ${bareDb} > /dev/null`]));
        bare = Math.min(bare, b.seconds);
        await dropDb(bareDb);
        ctx.log(`restore #${i + 1}: gunzip | psql ${s.seconds.toFixed(2)} s, billettigue ${o.seconds.toFixed(2)} s (${(o.peakMb ?? 0).toFixed(0)} MB), rows alone by psql ${b.seconds.toFixed(2)} s`);
      }
      const restoredUrl = `${ctx.pgUrl}/${src}_ours${repeat - 1}`;
      const rk = await connect(parseDatabaseUrl(restoredUrl, '--db'));
      let restoredRows: number;
      try {
        await rk.raw('ANALYZE');
        const r = (await rk.raw("SELECT sum(n_live_tup)::bigint AS n FROM pg_stat_user_tables")) as { rows: Array<{ n: string }> };
        const audit = (await rk.raw("SELECT count(*) AS n FROM audit_log WHERE action = 'restore.run'")) as { rows: Array<{ n: string }> };
        restoredRows = Number(r.rows[0]!.n) - Number(audit.rows[0]!.n);
      } finally {
        await rk.destroy();
      }
      out.push({ name: 'restore: gunzip < pg_dump file | psql', value: stockRestore, unit: 's' });
      out.push({
        name: 'restore: billettigue restore (PostgreSQL)',
        value: oursRestore,
        unit: 's',
        ratio: oursRestore / stockRestore,
        target: '≤ 0.5× gunzip | psql',
        ok: oursRestore / stockRestore <= 0.5 && Math.abs(restoredRows - rows) <= rows * 0.001,
        note: `verified (rows + SHA-256 per table), swapped in; ≈ ${restoredRows.toLocaleString('en')} rows; ${defaultPgJobs()} sessions; best of ${repeat}`,
      });
      out.push({ name: 'restore (PostgreSQL): peak memory', value: oursRestoreMem, unit: 'MB', target: '< 200 MB', ok: oursRestoreMem > 0 && oursRestoreMem < 200 });
      // Where the restore's time went (its steps, best run).
      const step = (re: RegExp) => bestSteps.find((l) => re.test(l.text))?.at;
      const phases: Array<[string, number | undefined, number | undefined]> = [
        ['start-up, checks, staging schema, DDL', 0, step(/^loading \d+ tables on/)],
        ['rows (COPY), keys, indexes, read back + SHA-256', step(/^loading \d+ tables on/), step(/^checking \d+ foreign keys/)],
        ['foreign keys validated', step(/^checking \d+ foreign keys/), step(/^swapping/)],
        ['swap, checks, audit, exit', step(/^swapping/), oursRestore],
      ];
      const shown = phases.filter(([, a, b]) => a !== undefined && b !== undefined).map(([n, a, b]) => `${n} ${(b! - a!).toFixed(2)} s`);
      out.push({ name: 'restore (PostgreSQL): where the time goes', value: oursRestore, unit: 's', note: shown.join('; ') });
      out.push({
        name: 'ceiling: psql loading the dump\'s rows alone (no keys, indexes, foreign keys; one session)',
        value: bare,
        unit: 's',
        ratio: bare / stockRestore,
        note: 'ratio vs gunzip | psql: what the rows alone cost the server',
      });
    } finally {
      for (const n of made) await dropDb(n).catch(() => undefined);
      await admin.destroy();
    }
    return out;
  },
};

export default bench;
