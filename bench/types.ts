/**
 * Contract between `npm run bench` (bench/run.ts) and each benchmark file `bench/<name>.bench.ts`.
 * A benchmark makes its own data, measures, and returns rows for the results table/JSON.
 */
export interface BenchResult {
  /** What was measured, e.g. "accounts show <email> (query)". */
  name: string;
  value: number;
  unit: string;
  /** The target in words, e.g. "< 50 ms". */
  target?: string;
  /** Whether the target is met (undefined: figure only). */
  ok?: boolean;
  /** Side-by-side comparisons are reported as ratios (ours / theirs). */
  ratio?: number;
  note?: string;
}

export interface BenchContext {
  /** Server URL without database, e.g. mysql://root@127.0.0.1:3306 (BENCH_MYSQL_URL). */
  mysqlUrl: string;
  /** PostgreSQL server URL without database, e.g. postgres://postgres@127.0.0.1:5432 (BENCH_PG_URL). */
  pgUrl: string;
  /** A scratch folder for files (removed afterwards). */
  scratchDir: string;
  /** "small" for a quick run (BENCH_SIZE=small), "full" for the issues' sizes. */
  size: 'small' | 'full';
  log(message: string): void;
}

export interface BenchModule {
  title: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}
