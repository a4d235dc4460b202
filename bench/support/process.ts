/** Helpers the benchmarks share: the median, and timing the real binary as a whole process. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/billettigue');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `billettigue --db URL …args` and resolves with its wall time in ms (rejects on a non-zero exit). */
export function runBinary(args: string[], url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, '--db', url, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', DATABASE_URL: undefined },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`billettigue ${args.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve(performance.now() - t0);
    });
  });
}

export interface Timed {
  seconds: number;
  peakMb: number | null;
  code: number | null;
  stderr: string;
  /** Every stderr line with the second it arrived at (from the start): the phases of a command. */
  lines: Array<{ at: number; text: string }>;
}

/** Runs a command (a shell pipeline for the stock tools), timing it and sampling its peak RSS. */
export function timed(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const lines: Timed['lines'] = [];
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      const at = Number(process.hrtime.bigint() - t0) / 1e9;
      const start = stderr.lastIndexOf('\n') + 1;
      stderr += d;
      for (const text of stderr.slice(start).split('\n').slice(0, -1)) lines.push({ at, text });
    });
    let peakKb = 0;
    const status = `/proc/${child.pid}/status`;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* exited */
      }
    };
    const iv = setInterval(sample, 25);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(iv);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ seconds, peakMb: peakKb ? peakKb / 1024 : null, code, stderr, lines });
    });
  });
}

/** The real binary on `url` (DATABASE_URL), timed, with its peak memory. */
export function billettigue(args: string[], url: string): Promise<Timed> {
  return timed(process.execPath, [BIN, ...args], { env: { DATABASE_URL: url, BILLETTIGUE_ACTOR: 'bench' } });
}
