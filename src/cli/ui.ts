/**
 * The one object that writes to the terminal (after Ghost-CLI's UI): results to stdout (a table or
 * one JSON document), everything else to stderr. Colors only when allowed (NO_COLOR, --no-color,
 * TERM=dumb, not a TTY); spinners and progress bars only when stderr is a TTY.
 */
import type { Ora } from 'ora';

export interface UiOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
}

export interface Column<T> {
  header: string;
  /** Cell text for people. */
  value: (row: T) => unknown;
  align?: 'left' | 'right';
}

type Paint = (s: string) => string;
const plain: Paint = (s) => s;

export interface Progress {
  tick(n?: number): void;
  update(done: number): void;
  done(message?: string): void;
  /** Prints a line above the bar (e.g. a finished step) and redraws the bar. */
  note?(message: string): void;
}

export class Ui {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  private spinners = new Set<Ora>();
  private paint: { red: Paint; yellow: Paint; green: Paint; dim: Paint; bold: Paint } = {
    red: plain,
    yellow: plain,
    green: plain,
    dim: plain,
    bold: plain,
  };

  constructor(opts: UiOptions, stdout = process.stdout, stderr = process.stderr) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.color = opts.color;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Loads chalk only when colors will be used (keeps start-up light). */
  async init(): Promise<void> {
    if (!this.color) return;
    const { Chalk } = await import('chalk');
    const chalk = new Chalk({ level: 1 });
    this.paint = { red: chalk.red, yellow: chalk.yellow, green: chalk.green, dim: chalk.dim, bold: chalk.bold };
  }

  get interactive(): boolean {
    return Boolean(this.stderr.isTTY) && !this.quiet && !this.json;
  }

  // ---- results (stdout) -------------------------------------------------------------------

  /** Writes one JSON document to stdout. */
  printJson(data: unknown): void {
    this.stdout.write(JSON.stringify(data, null, 2) + '\n');
  }

  /**
   * A list: with --json the array of `jsonRows`, else a table with the given columns.
   * `jsonRows` are the stable snake_case records; `columns` are for people.
   */
  async list<T>(rows: T[], columns: Column<T>[], jsonRows: unknown[] = rows): Promise<void> {
    if (this.json) return this.printJson(jsonRows);
    if (rows.length === 0) {
      this.info('(no rows)');
      return;
    }
    this.stdout.write((await this.renderTable(rows, columns)) + '\n');
  }

  private async renderTable<T>(rows: T[], columns: Column<T>[]): Promise<string> {
    const { default: Table } = await import('cli-table3');
    const table = new Table({
      head: columns.map((c) => c.header),
      style: { head: this.color ? ['cyan'] : [], border: this.color ? ['grey'] : [] },
      colAligns: columns.map((c) => c.align ?? 'left'),
    });
    for (const row of rows) table.push(columns.map((c) => cell(c.value(row))));
    return table.toString();
  }

  /** One record: with --json the object, else a two-column table (sections allowed). */
  async record(data: Record<string, unknown>, json: unknown = data, title?: string): Promise<void> {
    if (this.json) return this.printJson(json);
    const { default: Table } = await import('cli-table3');
    const table = new Table({ style: { head: [], border: this.color ? ['grey'] : [] } });
    for (const [k, v] of Object.entries(data)) table.push({ [k]: cell(v) });
    if (title) this.stdout.write(this.paint.bold(title) + '\n');
    this.stdout.write(table.toString() + '\n');
  }

  /** A titled table inside a multi-part screen (show commands); nothing with --json. */
  async section<T>(title: string, rows: T[], columns: Column<T>[]): Promise<void> {
    if (this.json) return;
    this.stdout.write('\n' + this.paint.bold(title) + '\n');
    if (rows.length === 0) {
      this.stdout.write(this.paint.dim('  (none)') + '\n');
      return;
    }
    this.stdout.write((await this.renderTable(rows, columns)) + '\n');
  }

  /** A plain line of result text on stdout (for people; suppressed with --json). */
  line(text: string): void {
    if (!this.json) this.stdout.write(text + '\n');
  }

  // ---- messages (stderr) ------------------------------------------------------------------

  info(message: string): void {
    if (!this.quiet) this.log(message);
  }

  success(message: string): void {
    if (!this.quiet) this.log(this.paint.green(message));
  }

  /** A message on stderr that --quiet does not hide (e.g. the target named beside a prompt). */
  note(message: string): void {
    this.log(message);
  }

  warn(message: string): void {
    this.log(this.paint.yellow(`warning: ${message}`));
  }

  dim(text: string): string {
    return this.paint.dim(text);
  }

  red(text: string): string {
    return this.paint.red(text);
  }

  green(text: string): string {
    return this.paint.green(text);
  }

  bold(text: string): string {
    return this.paint.bold(text);
  }

  /** Error line, as the contract says: `error: …`, or a JSON object with --json. */
  error(code: string, message: string, details?: Record<string, unknown>): void {
    if (this.json) {
      this.stderr.write(JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }) + '\n');
    } else {
      this.stopSpinners();
      this.stderr.write(this.paint.red(`error: ${message}`) + '\n');
    }
  }

  private log(message: string): void {
    const active = [...this.spinners].filter((s) => s.isSpinning);
    for (const s of active) s.stop();
    this.stderr.write(message + '\n');
    for (const s of active) s.start();
  }

  // ---- progress (stderr, TTY only) --------------------------------------------------------

  /** A spinner on a TTY; a no-op object otherwise. */
  async spinner(text: string): Promise<{ text: string; succeed(t?: string): void; fail(t?: string): void; stop(): void }> {
    // ora loops forever on a terminal that reports 0 columns (e.g. `script` without stty cols).
    if (!this.interactive || !(this.stderr.columns > 0)) {
      return { text, succeed: () => undefined, fail: () => undefined, stop: () => undefined };
    }
    const { default: ora } = await import('ora');
    const s = ora({ text, stream: this.stderr, color: 'cyan', isEnabled: true }).start();
    this.spinners.add(s);
    const forget = () => this.spinners.delete(s);
    return {
      get text() {
        return s.text;
      },
      set text(t: string) {
        s.text = t;
      },
      succeed: (t?: string) => (forget(), s.succeed(t)),
      fail: (t?: string) => (forget(), s.fail(t)),
      stop: () => (forget(), s.stop()),
    };
  }

  /**
   * A progress line on a TTY: "label  done/total  pct  rate/s  ETA". Never shows over 100%.
   * A no-op when stderr is not a TTY (cron, pipes).
   */
  progress(label: string, total: number): Progress {
    if (!this.interactive) return { tick: () => undefined, update: () => undefined, done: () => undefined, note: () => undefined };
    const start = Date.now();
    let done = 0;
    let last = 0;
    const render = (force = false) => {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      const shown = Math.min(done, total);
      const pct = total > 0 ? Math.min(100, (shown / total) * 100) : 100;
      const secs = (now - start) / 1000;
      const rate = secs > 0 ? shown / secs : 0;
      const eta = rate > 0 && total > shown ? Math.ceil((total - shown) / rate) : 0;
      this.stderr.write(
        `\r\x1b[2K${label}  ${shown.toLocaleString('en')}/${total.toLocaleString('en')}  ${pct.toFixed(0)}%  ${Math.round(rate).toLocaleString('en')}/s  ETA ${eta}s`,
      );
    };
    return {
      tick: (n = 1) => {
        done += n;
        render();
      },
      update: (d) => {
        done = d;
        render();
      },
      done: (message?: string) => {
        render(true);
        this.stderr.write('\r\x1b[2K' + (message ? message + '\n' : ''));
      },
      note: (message: string) => {
        this.stderr.write('\r\x1b[2K' + message + '\n');
        render(true);
      },
    };
  }

  stopSpinners(): void {
    for (const s of this.spinners) s.stop();
    this.spinners.clear();
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** The one number format for people: grouped thousands (7,653); JSON and TSV keep plain numbers. */
export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

/** Whether colors are allowed on stderr/stdout given flags and environment. */
export function colorAllowed(flag: boolean | undefined, env: NodeJS.ProcessEnv, stream: NodeJS.WriteStream): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}
