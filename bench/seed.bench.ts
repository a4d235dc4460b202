/**
 * `seed demo` throughput, measured the way a developer runs it: the real binary, in a child
 * process, on fresh databases it creates (and drops).
 *
 * - MariaDB, `--scale medium` (≈ 1M rows; BENCH_SIZE=small: small): rows/s overall (wall clock,
 *   start-up and the bcrypt hash included) and of the load alone; peak memory of the process;
 *   with the default two connections, and again on one (the like-for-like comparison).
 * - The ceiling, in the same run: the very same rows written as TSV files beforehand, then loaded
 *   with LOAD DATA LOCAL INFILE (one statement per table, nothing else) into another fresh
 *   database; the ratio seed/ceiling is reported.
 * - The INSERT fallback (BILLETTIGUE_SEED_LOADER=insert) against the same ceiling, for reference.
 * - SQLite, same scale.
 * - BENCH_SEED_LARGE=1 adds `--scale large` (≈ 10M rows) on MariaDB for the memory target.
 * Invariants of the seeded MariaDB database are checked after timing.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { CHUNK_ROWS, ParamsSink, TsvSink, openBulkLoader, type BulkJob, type RowSink } from '../src/db/bulk.js';
import { checkInvariants } from '../src/domain/demo/checks.js';
import { DEMO_COLUMNS, DEMO_TABLES, DemoGenerator, type DemoTable } from '../src/domain/demo/generator.js';
import { DEFAULT_RANDOM_SEED, DEFAULT_REFERENCE, DEMO_PASSWORD, makePlan, type Scale } from '../src/domain/demo/plan.js';
import { demoPasswordHash } from '../src/domain/demo/seed.js';
import { loadSettings } from '../src/domain/settings.js';
import { seedRoles } from '../seeds/default.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../../bin/billettigue');
const MAXRSS_HOOK = pathToFileURL(path.join(here, 'support', 'maxrss.js')).href;

interface SeedJson {
  loader: string;
  connections: number;
  total_rows: number;
  seconds: number;
  rows_per_second: number;
}

interface CliRun {
  json: SeedJson;
  wallSeconds: number;
  maxRssBytes: number;
}

/** Runs the real CLI in a child process and returns its JSON, wall time and peak memory. */
async function runCli(args: string[], env: Record<string, string>, scratch: string): Promise<CliRun> {
  const rssFile = path.join(scratch, `maxrss-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', MAXRSS_HOOK, BIN, '--json', ...args], {
      env: { ...process.env, NO_COLOR: '1', BENCH_MAXRSS_FILE: rssFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`billettigue ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').pop()}`);
  const maxRssBytes = Number(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile, { force: true });
  return { json: JSON.parse(stdout) as SeedJson, wallSeconds, maxRssBytes };
}

async function freshMysql(server: string, name: string, migrate: boolean): Promise<{ url: string; knex: Knex | null }> {
  const admin = await connect(parseDatabaseUrl(server, '--db'), { noDatabase: true });
  await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
  await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
  await admin.destroy();
  const url = `${server}/${name}`;
  if (!migrate) return { url, knex: null };
  const knex = await connect(parseDatabaseUrl(url, '--db'));
  await migrateLatest(knex);
  await knex.transaction((trx) => seedRoles(trx));
  return { url, knex };
}

async function migrateOnly(url: string): Promise<void> {
  const knex = await connect(parseDatabaseUrl(url, '--db'));
  try {
    await migrateLatest(knex);
    await knex.transaction((trx) => seedRoles(trx));
  } finally {
    await knex.destroy();
  }
}

async function dropMysql(server: string, name: string): Promise<void> {
  const admin = await connect(parseDatabaseUrl(server, '--db'), { noDatabase: true });
  await admin.raw('DROP DATABASE IF EXISTS ??', [name]).catch(() => undefined);
  await admin.destroy();
}

/** Writes every demo table as a TSV file (not timed): the input of the LOAD DATA ceiling. */
async function writeTsvFiles(dir: string, scale: Scale, roleIds: { admin: number; user: number; transporteur: number }): Promise<Array<{ table: DemoTable; file: string; rows: number }>> {
  const settings = loadSettings(process.env);
  const gen = demoGenerator(scale, roleIds, await demoPasswordHash(DEMO_PASSWORD, settings.bcryptCost, DEFAULT_RANDOM_SEED));
  mkdirSync(dir, { recursive: true });
  const out: Array<{ table: DemoTable; file: string; rows: number }> = [];
  for (const table of DEMO_TABLES) {
    const file = path.join(dir, `${table}.tsv`);
    const sink = new TsvSink();
    const parts: string[] = [];
    let rows = 0;
    writeFileSync(file, '');
    const flush = () => {
      const c = sink.take();
      rows += c.rows;
      parts.push(c.text);
      if (parts.length >= 50) writeFileSync(file, parts.splice(0).join(''), { flag: 'a' });
    };
    for (const _ of gen.produce(table, sink)) flush();
    flush();
    writeFileSync(file, parts.join(''), { flag: 'a' });
    out.push({ table, file, rows });
  }
  return out;
}

interface RawConn {
  query(o: { sql: string; infileStreamFactory?: () => NodeJS.ReadableStream }, cb: (e: Error | null, r: unknown) => void): void;
}

/** LOAD DATA LOCAL INFILE of each file, one statement per table; returns the seconds spent loading. */
async function loadFiles(knex: Knex, files: Array<{ table: DemoTable; file: string; rows: number }>): Promise<number> {
  const client = knex.client as unknown as { acquireConnection(): Promise<RawConn>; releaseConnection(c: RawConn): Promise<void> };
  const conn = await client.acquireConnection();
  const q = (sql: string, file?: string) =>
    new Promise<{ affectedRows: number; warningStatus: number }>((resolve, reject) =>
      conn.query({ sql, ...(file ? { infileStreamFactory: () => createReadStream(file) } : {}) }, (e, r) => (e ? reject(e) : resolve(r as { affectedRows: number; warningStatus: number }))),
    );
  try {
    const t0 = performance.now();
    for (const f of files) {
      const cols = DEMO_COLUMNS[f.table].map((c) => `\`${c}\``).join(', ');
      const r = await q(
        `LOAD DATA LOCAL INFILE 'f' INTO TABLE \`${f.table}\` CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${cols})`,
        f.file,
      );
      if (r.affectedRows !== f.rows || r.warningStatus) throw new Error(`ceiling: ${f.table} loaded ${r.affectedRows}/${f.rows} rows, ${r.warningStatus} warnings`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await client.releaseConnection(conn);
  }
}

function demoGenerator(scale: Scale, roleIds: { admin: number; user: number; transporteur: number }, passwordHash: string): DemoGenerator {
  return new DemoGenerator({
    plan: makePlan(scale),
    randomSeed: DEFAULT_RANDOM_SEED,
    reference: DEFAULT_REFERENCE,
    settings: loadSettings(process.env),
    passwordHash,
    roleIds,
    offsets: Object.fromEntries(DEMO_TABLES.map((t) => [t, 0])) as Record<DemoTable, number>,
  });
}

/**
 * The SQLite ceiling: each table's rows generated into memory first (not timed), then inserted by
 * the seed's own SQLite loader (same statements, same transactions). Returns rows and seconds.
 */
async function sqliteCeiling(file: string, scale: Scale): Promise<{ rows: number; seconds: number }> {
  const knex = await connect(parseDatabaseUrl(`sqlite:${file}`, '--db'));
  try {
    await migrateLatest(knex);
    await knex.transaction((trx) => seedRoles(trx));
    const roles = (await knex('roles').select('id', 'name')) as Array<{ id: number; name: string }>;
    const id = (n: string) => roles.find((r) => r.name === n)!.id;
    const settings = loadSettings(process.env);
    const gen = demoGenerator(scale, { admin: id('admin'), user: id('user'), transporteur: id('transporteur') }, await demoPasswordHash(DEMO_PASSWORD, settings.bcryptCost, DEFAULT_RANDOM_SEED));
    const loader = await openBulkLoader(knex);
    let rows = 0;
    let seconds = 0;
    try {
      for (const table of DEMO_TABLES) {
        const mem = new ParamsSink();
        for (const _ of gen.produce(table, mem));
        const values = mem.values;
        const n = mem.pending;
        const width = DEMO_COLUMNS[table].length;
        const job: BulkJob = {
          table,
          columns: DEMO_COLUMNS[table],
          rows: n,
          *produce(sink: RowSink) {
            const ps = sink as ParamsSink;
            for (let i = 0; i < n; i += CHUNK_ROWS) {
              const j = Math.min(n, i + CHUNK_ROWS);
              ps.values = values.slice(i * width, j * width);
              ps.pending = j - i;
              yield;
            }
          },
        };
        const t0 = performance.now();
        rows += await loader.load(job);
        seconds += (performance.now() - t0) / 1000;
      }
    } finally {
      await loader.close();
    }
    return { rows, seconds };
  } finally {
    await knex.destroy();
  }
}

const MB = 1024 * 1024;

const bench: BenchModule = {
  title: 'seed demo: generation + bulk load (MariaDB vs its LOAD DATA ceiling, SQLite, memory)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const scale: Scale = ctx.size === 'small' ? 'small' : 'medium';
    const server = ctx.mysqlUrl;
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const names = {
      seed: `bt_bench_seed_${tag}`,
      one: `bt_bench_one_${tag}`,
      ceil: `bt_bench_ceil_${tag}`,
      ins: `bt_bench_ins_${tag}`,
      large: `bt_bench_large_${tag}`,
    };
    const full = scale === 'medium';
    const results: BenchResult[] = [];
    const opened: Knex[] = [];
    try {
      // 1. The seed as a developer runs it (the binary migrates nothing: the database is migrated).
      const seedDb = await freshMysql(server, names.seed, true);
      opened.push(seedDb.knex!);
      ctx.log(`MariaDB: seed demo --scale ${scale}`);
      const ours = await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: seedDb.url }, ctx.scratchDir);
      const rows = ours.json.total_rows;
      const overall = rows / ours.wallSeconds;
      results.push({
        name: `MariaDB seed demo --scale ${scale} (${ours.json.loader}, ${ours.json.connections} connections), overall wall clock`,
        value: overall,
        unit: 'rows/s',
        target: full ? '>= 100000 rows/s' : undefined,
        ok: full ? overall >= 100_000 : undefined,
        note: `${rows} rows in ${ours.wallSeconds.toFixed(2)} s incl. start-up and bcrypt`,
      });
      results.push({ name: 'MariaDB seed demo, generation + load phase only', value: ours.json.rows_per_second, unit: 'rows/s', note: `${ours.json.seconds} s` });
      results.push({
        name: `MariaDB seed demo --scale ${scale}, peak memory`,
        value: ours.maxRssBytes / MB,
        unit: 'MB',
        target: '< 300 MB',
        ok: ours.maxRssBytes < 300 * MB,
      });

      // 2. The ceiling: the same rows, prepared as files, loaded by LOAD DATA alone.
      const roles = (await seedDb.knex!('roles').select('id', 'name')) as Array<{ id: number; name: string }>;
      const roleId = (n: string) => roles.find((r) => r.name === n)!.id;
      ctx.log('writing the same rows as TSV files (not timed)');
      const files = await writeTsvFiles(path.join(ctx.scratchDir, 'tsv'), scale, { admin: roleId('admin'), user: roleId('user'), transporteur: roleId('transporteur') });
      const fileRows = files.reduce((n, f) => n + f.rows, 0);
      if (fileRows !== rows) throw new Error(`the TSV files hold ${fileRows} rows, the seed wrote ${rows}`);
      const ceilDb = await freshMysql(server, names.ceil, true);
      opened.push(ceilDb.knex!);
      ctx.log('LOAD DATA LOCAL INFILE of the files (ceiling)');
      const ceilSeconds = await loadFiles(ceilDb.knex!, files);
      const ceiling = rows / ceilSeconds;
      rmSync(path.join(ctx.scratchDir, 'tsv'), { recursive: true, force: true });
      results.push({ name: 'LOAD DATA LOCAL INFILE of the same rows from TSV files (ceiling)', value: ceiling, unit: 'rows/s', note: `${ceilSeconds.toFixed(2)} s, files prepared beforehand` });
      const ratio = overall / ceiling;
      results.push({
        name: `seed demo (default, ${ours.json.connections} connections, overall) / LOAD DATA ceiling`,
        value: ratio,
        unit: '×',
        ratio,
        target: full ? '>= 0.8' : undefined,
        ok: full ? ratio >= 0.8 : undefined,
      });

      // Like for like: the seed on one connection, as the ceiling.
      const oneDb = await freshMysql(server, names.one, false);
      await migrateOnly(oneDb.url);
      ctx.log('MariaDB: seed demo on one connection (BILLETTIGUE_SEED_LANES=1)');
      const one = await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: oneDb.url, BILLETTIGUE_SEED_LANES: '1' }, ctx.scratchDir);
      const oneRate = one.json.total_rows / one.wallSeconds;
      results.push({ name: 'MariaDB seed demo on one connection, overall', value: oneRate, unit: 'rows/s', ratio: oneRate / ceiling, note: 'ratio vs the LOAD DATA ceiling (same single stream)' });
      await dropMysql(server, names.one);

      // 3. The INSERT fallback, for reference.
      const insDb = await freshMysql(server, names.ins, true);
      opened.push(insDb.knex!);
      ctx.log('MariaDB: seed demo with the INSERT fallback');
      const ins = await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: insDb.url, BILLETTIGUE_SEED_LOADER: 'insert' }, ctx.scratchDir);
      const insRate = ins.json.total_rows / ins.wallSeconds;
      results.push({ name: 'MariaDB seed demo, multi-row INSERT fallback, overall', value: insRate, unit: 'rows/s', ratio: insRate / ceiling, note: 'ratio vs the LOAD DATA ceiling' });

      // 4. Invariants of what was seeded (after timing).
      const checks = await checkInvariants(seedDb.knex!, loadSettings(process.env), { reference: DEFAULT_REFERENCE });
      const broken = checks.filter((c) => c.violations > 0);
      results.push({
        name: `invariants of the MariaDB ${scale} seed (${checks.length} checks)`,
        value: broken.reduce((n, c) => n + c.violations, 0),
        unit: 'violations',
        target: '0',
        ok: broken.length === 0,
        note: broken.map((c) => c.name).join('; ') || undefined,
      });
      for (const k of opened.splice(0)) await k.destroy();
      for (const n of [names.seed, names.ceil, names.ins]) await dropMysql(server, n);

      // 5. SQLite.
      const file = path.join(ctx.scratchDir, 'seed-bench.sqlite3');
      const sqlite = await connect(parseDatabaseUrl(`sqlite:${file}`, '--db'));
      await migrateLatest(sqlite);
      await sqlite.transaction((trx) => seedRoles(trx));
      await sqlite.destroy();
      ctx.log(`SQLite: seed demo --scale ${scale}`);
      const lite = await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: `sqlite:${file}` }, ctx.scratchDir);
      const liteRate = lite.json.total_rows / lite.wallSeconds;
      results.push({
        name: `SQLite seed demo --scale ${scale}, overall wall clock`,
        value: liteRate,
        unit: 'rows/s',
        target: full ? '>= 150000 rows/s' : undefined,
        ok: full ? liteRate >= 150_000 : undefined,
        note: `${lite.json.total_rows} rows in ${lite.wallSeconds.toFixed(2)} s; load phase ${lite.json.rows_per_second} rows/s; peak ${Math.round(lite.maxRssBytes / MB)} MB`,
      });
      rmSync(file, { force: true });
      ctx.log('SQLite: the same rows pre-generated in memory, inserted by the same loader (ceiling)');
      const liteCeil = await sqliteCeiling(path.join(ctx.scratchDir, 'ceiling.sqlite3'), scale);
      const liteCeilRate = liteCeil.rows / liteCeil.seconds;
      results.push({
        name: 'SQLite insert ceiling (rows generated beforehand, same statements)',
        value: liteCeilRate,
        unit: 'rows/s',
        note: `${liteCeil.seconds.toFixed(2)} s: what the indexes cost, without generation`,
      });
      results.push({ name: 'SQLite seed demo (overall) / SQLite insert ceiling', value: liteRate / liteCeilRate, unit: '×', ratio: liteRate / liteCeilRate });

      // 6. Large, on request: memory must stay flat.
      if (process.env.BENCH_SEED_LARGE === '1') {
        const largeDb = await freshMysql(server, names.large, true);
        await largeDb.knex!.destroy();
        ctx.log('MariaDB: seed demo --scale large');
        const large = await runCli(['seed', 'demo', '--scale', 'large'], { DATABASE_URL: largeDb.url }, ctx.scratchDir);
        results.push({
          name: 'MariaDB seed demo --scale large, overall wall clock',
          value: large.json.total_rows / large.wallSeconds,
          unit: 'rows/s',
          note: `${large.json.total_rows} rows in ${large.wallSeconds.toFixed(1)} s`,
        });
        results.push({ name: 'MariaDB seed demo --scale large, peak memory', value: large.maxRssBytes / MB, unit: 'MB', target: '< 300 MB', ok: large.maxRssBytes < 300 * MB });
        await dropMysql(server, names.large);
      }
      return results;
    } finally {
      for (const k of opened) await k.destroy().catch(() => undefined);
      for (const n of Object.values(names)) await dropMysql(server, n).catch(() => undefined);
    }
  },
};

export default bench;
