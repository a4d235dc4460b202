/**
 * `seed demo` on PostgreSQL (COPY FROM STDIN), measured as a developer runs it: the real binary
 * in a child process, on fresh databases it creates and drops.
 * - `--scale medium` (≈ 1M rows; BENCH_SIZE=small: small), overall rows/s (wall clock, start-up
 *   and the bcrypt hash included), with the default two connections and on one; peak memory.
 * - The ceiling, in the same run: the very same rows written as TSV files beforehand (not timed),
 *   then loaded with `COPY … FROM STDIN` from those files, one statement per table on one
 *   session, into another fresh database (same schema, indexes live); the ratio seed/ceiling.
 * - Each of those BENCH_SEED_REPEAT times (3 at full size, 1 at small), interleaved; the best counts.
 */
import { createReadStream, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { runCli, writeTsvFiles, type CliRun } from './seed.bench.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { copyStreams } from '../src/db/engines/postgres/copy.js';
import { DEMO_COLUMNS, type DemoTable } from '../src/domain/demo/generator.js';
import type { Scale } from '../src/domain/demo/plan.js';
import { seedRoles } from '../seeds/default.js';

const MB = 1024 * 1024;

interface PgClient {
  query(q: unknown): unknown;
}

/** COPY FROM STDIN of each file, one statement per table; returns the seconds spent loading. */
async function copyFiles(url: string, files: Array<{ table: DemoTable; file: string; rows: number }>): Promise<number> {
  const knex = await connect(parseDatabaseUrl(url, '--db'));
  const client = knex.client as unknown as { acquireConnection(): Promise<PgClient>; releaseConnection(c: PgClient): Promise<void> };
  const conn = await client.acquireConnection();
  const { from } = await copyStreams();
  try {
    const t0 = performance.now();
    for (const f of files) {
      const cols = DEMO_COLUMNS[f.table].map((c) => `"${c}"`).join(', ');
      const sink = conn.query(from(`COPY "${f.table}" (${cols}) FROM STDIN`)) as NodeJS.WritableStream & { rowCount: number };
      await pipeline(createReadStream(f.file, { highWaterMark: 1 << 20 }), sink);
      if (sink.rowCount !== f.rows) throw new Error(`ceiling: ${f.table} loaded ${sink.rowCount}/${f.rows} rows`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await client.releaseConnection(conn);
    await knex.destroy();
  }
}

const bench: BenchModule = {
  title: 'seed demo on PostgreSQL: COPY FROM STDIN vs COPY of the same rows from files',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const scale: Scale = ctx.size === 'small' ? 'small' : 'medium';
    const full = scale === 'medium';
    const reps = Math.max(1, Number(process.env.BENCH_SEED_REPEAT ?? (full ? 3 : 1)));
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    let serial = 0;
    const admin = await connect(parseDatabaseUrl(ctx.pgUrl, '--db'), { noDatabase: true });
    const made: string[] = [];
    /** A fresh migrated database with the default roles (ids 1-3, as the seed's files assume). */
    const fresh = async (what: string) => {
      const name = `bt_bench_pgseed_${what}_${tag}_${++serial}`;
      await admin.raw("CREATE DATABASE ?? TEMPLATE template0 ENCODING 'UTF8'", [name]);
      made.push(name);
      const url = `${ctx.pgUrl}/${name}`;
      const knex = await connect(parseDatabaseUrl(url, '--db'));
      try {
        await migrateLatest(knex);
        await knex.transaction((trx) => seedRoles(trx));
        const roles = (await knex('roles').select('id', 'name')) as Array<{ id: number; name: string }>;
        const id = (n: string) => roles.find((r) => r.name === n)!.id;
        return { name, url, roles: { admin: id('admin'), user: id('user'), transporteur: id('transporteur') } };
      } finally {
        await knex.destroy();
      }
    };
    const drop = (name: string) => admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    const rate = (r: CliRun) => r.json.total_rows / r.wallSeconds;
    const best = (runs: CliRun[]) => runs.reduce((a, b) => (rate(b) > rate(a) ? b : a));
    const list = (values: number[]) => values.map((v) => Math.round(v).toLocaleString('en')).join(', ');
    const results: BenchResult[] = [];
    try {
      const probe = await fresh('roles');
      await drop(probe.name);
      ctx.log('writing the rows as TSV files for the ceiling (not timed)');
      const files = await writeTsvFiles(path.join(ctx.scratchDir, 'pg-tsv'), scale, probe.roles);
      const fileRows = files.reduce((n, f) => n + f.rows, 0);
      const two: CliRun[] = [];
      const one: CliRun[] = [];
      const ceilings: number[] = [];
      for (let i = 0; i < reps; i++) {
        ctx.log(`PostgreSQL round ${i + 1}/${reps}: seed demo --scale ${scale}, COPY of the files, seed demo on one connection`);
        const a = await fresh('seed');
        two.push(await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: a.url }, ctx.scratchDir));
        await drop(a.name);
        if (two[i]!.json.total_rows !== fileRows) throw new Error(`the TSV files hold ${fileRows} rows, the seed wrote ${two[i]!.json.total_rows}`);
        const c = await fresh('ceil');
        ceilings.push(fileRows / (await copyFiles(c.url, files)));
        await drop(c.name);
        const o = await fresh('one');
        one.push(await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: o.url, BILLETTIGUE_SEED_LANES: '1' }, ctx.scratchDir));
        await drop(o.name);
      }
      rmSync(path.join(ctx.scratchDir, 'pg-tsv'), { recursive: true, force: true });
      const ours = best(two);
      const ceiling = Math.max(...ceilings);
      const ratio = rate(ours) / ceiling;
      results.push({
        name: `PostgreSQL seed demo --scale ${scale} (${ours.json.loader}, ${ours.json.connections} connections), overall wall clock, best of ${reps}`,
        value: rate(ours),
        unit: 'rows/s',
        note: `${ours.json.total_rows} rows in ${ours.wallSeconds.toFixed(2)} s incl. start-up and bcrypt; runs: ${list(two.map(rate))}`,
      });
      results.push({ name: 'PostgreSQL seed demo, generation + load phase only (same run)', value: ours.json.rows_per_second, unit: 'rows/s', note: `${ours.json.seconds} s` });
      results.push({
        name: `COPY FROM STDIN of the same rows from TSV files (ceiling), best of ${reps}`,
        value: ceiling,
        unit: 'rows/s',
        note: `one statement per table on one session, files written beforehand, indexes live; runs: ${list(ceilings)}`,
      });
      results.push({
        name: `PostgreSQL seed demo (default, ${ours.json.connections} connections, overall) / COPY ceiling`,
        value: ratio,
        unit: '×',
        ratio,
        target: full ? '>= 0.8' : undefined,
        ok: full ? ratio >= 0.8 : undefined,
      });
      const single = best(one);
      results.push({
        name: `PostgreSQL seed demo on one connection (like for like), overall, best of ${reps}`,
        value: rate(single),
        unit: 'rows/s',
        ratio: rate(single) / ceiling,
        note: `ratio vs the ceiling; runs: ${list(one.map(rate))}`,
      });
      const peak = Math.max(...two.map((r) => r.maxRssBytes), ...one.map((r) => r.maxRssBytes));
      results.push({ name: `PostgreSQL seed demo --scale ${scale}, peak memory`, value: peak / MB, unit: 'MB', target: '< 200 MB', ok: peak < 200 * MB });
      return results;
    } finally {
      for (const n of made) await drop(n).catch(() => undefined);
      await admin.destroy();
    }
  },
};

export default bench;
