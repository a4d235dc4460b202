/**
 * Runs the real binary in a pseudo-terminal of a given width, through util-linux `script`
 * (`stty cols N` inside it), as a person in tmux would: stdout and stderr are the terminal.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN } from './cli.js';

export interface TtyRun {
  code: number | null;
  /** Everything the terminal showed (stdout and stderr), CR removed, colors kept. */
  output: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface TtyOptions {
  url?: string;
  cols?: number;
  rows?: number;
  env?: Record<string, string | undefined>;
  /** false: stderr goes to /dev/null (only the result is on the terminal). */
  stderr?: boolean;
}

export function spawnTty(args: string[], options: TtyOptions = {}): ChildProcessWithoutNullStreams {
  const cmd = `stty cols ${options.cols ?? 80} rows ${options.rows ?? 50}; exec ${shellQuote(process.execPath)} ${shellQuote(BIN)} ${args.map(shellQuote).join(' ')}${options.stderr === false ? ' 2>/dev/null' : ''}`;
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: options.url, BILLETTIGUE_ACTOR: 'test-runner', TERM: 'xterm', ...options.env };
  delete env.NO_COLOR;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return spawn('script', ['-qfec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function runTty(args: string[], options: TtyOptions = {}): Promise<TtyRun> {
  return new Promise((resolve, reject) => {
    const child = spawnTty(args, options);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r/g, '') });
    });
  });
}

/** The pid of the process `script` runs (its only child). */
export function childOf(pid: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}
