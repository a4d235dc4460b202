/**
 * `npm run bench [-- name…]`: runs every bench/*.bench.ts (compiled), prints a table of results
 * with the machine's details, and writes bench/results/<timestamp>.json.
 *   BENCH_SIZE=small|full (default full)   BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306)
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchModule, BenchResult } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

async function main(): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => /\.bench\.js$/.test(f))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  const machine = {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
  };
  console.log(`machine: ${machine.cpus}, ${machine.memory_gib} GiB, node ${machine.node}`);
  const all: Array<BenchResult & { bench: string }> = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { default: BenchModule };
    const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'bt-bench-'));
    const ctx: BenchContext = {
      mysqlUrl: (process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, ''),
      scratchDir,
      size: process.env.BENCH_SIZE === 'small' ? 'small' : 'full',
      log: (m) => console.error(`[${f.replace('.bench.js', '')}] ${m}`),
    };
    console.error(`== ${mod.default.title}`);
    try {
      for (const r of await mod.default.run(ctx)) all.push({ bench: f.replace('.bench.js', ''), ...r });
    } catch (err) {
      all.push({ bench: f.replace('.bench.js', ''), name: 'FAILED', value: NaN, unit: '', note: (err as Error).message, ok: false });
    } finally {
      rmSync(scratchDir, { recursive: true, force: true });
    }
  }
  const rows = all.map((r) => ({
    bench: r.bench,
    measure: r.name,
    value: Number.isFinite(r.value) ? `${round(r.value)} ${r.unit}` : 'n/a',
    ratio: r.ratio === undefined ? '' : round(r.ratio),
    target: r.target ?? '',
    ok: r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
    note: r.note ?? '',
  }));
  console.table(rows);
  const outDir = path.resolve(here, '../../bench/results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, size: process.env.BENCH_SIZE ?? 'full', results: all }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
  if (all.some((r) => r.ok === false)) process.exitCode = 1;
}

function round(n: number): number {
  return Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 100) / 100;
}

void main();
