/**
 * What every command gets: global options, the UI, settings, the actor, a lazily opened database,
 * the transaction/dry-run/audit plumbing and the confirmation and password helpers.
 * Commands use `action(fn)` to get one; src/cli/main.ts closes it whatever happens.
 */
import os from 'node:os';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { clientInferred, databaseName, resolveTarget, type DbTarget } from '../db/config.js';
import { InvalidInput, Unavailable } from '../domain/errors.js';
import { parseDayOrInstant } from '../domain/dates.js';
import { loadSettings, type Settings } from '../domain/settings.js';
import { actorFromEnv } from '../domain/audit.js';
import { OUTPUT_FORMATS, Ui, colorAllowed, type OutputFormat } from './ui.js';

export interface GlobalOptions {
  db?: string;
  json?: boolean;
  output?: string;
  wide?: boolean;
  columns?: string;
  headers?: boolean;
  pager?: boolean;
  yes?: boolean;
  color?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
}

export interface DbOptions {
  /** Check that every migration is applied (default true). `db` commands pass false. */
  schema?: boolean;
  /** Connect to the server without selecting a database (MySQL `db create`). */
  noDatabase?: boolean;
  /** May create the SQLite file (`db create`, `db migrate`); every other command refuses to. */
  create?: boolean;
}

/** Thrown inside a transaction to roll back a dry run; carries the would-be result out. */
class DryRunRollback<T> extends Error {
  constructor(readonly result: T) {
    super('dry run');
  }
}

export class Ctx {
  readonly opts: GlobalOptions;
  readonly ui: Ui;
  readonly settings: Settings;
  readonly actor: string;
  readonly env: NodeJS.ProcessEnv;
  private knex?: Knex;
  private resolved?: DbTarget;
  /** Extra resources (e.g. a second connection) closed with the context. */
  private closers: Array<() => Promise<void>> = [];
  private closing?: Promise<void>;

  constructor(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env) {
    this.opts = opts;
    this.env = env;
    this.ui = new Ui({
      json: Boolean(opts.json),
      quiet: Boolean(opts.quiet),
      color: colorAllowed(opts.color, env, process.stderr),
      format: outputFormat(opts),
      wide: opts.wide,
      columns: opts.columns === undefined ? undefined : parseColumnList(opts.columns),
      headers: opts.headers,
      pager: opts.pager,
      env,
    });
    this.settings = loadSettings(env);
    this.actor = actorFromEnv(env, () => os.userInfo().username);
  }

  get yes(): boolean {
    return Boolean(this.opts.yes);
  }

  get dryRun(): boolean {
    return Boolean(this.opts.dryRun);
  }

  /** The database this command acts on (resolution order of PRODUCT.md). */
  target(): DbTarget {
    this.resolved ??= resolveTarget({ dbFlag: this.opts.db, env: this.env });
    return this.resolved;
  }

  /** How the engine was chosen when DB_CLIENT is absent (for doctor), once `settleTarget` ran. */
  inference?: string;

  /**
   * DB_* variables without DB_CLIENT: asks the server which protocol it speaks (src/db/probe.ts,
   * one short exchange, no login) and follows its answer, so the seed's .env reaches its
   * PostgreSQL on 5432 and a MySQL on any port. Runs before the command; a configuration error is
   * left for the command to report.
   */
  async settleTarget(): Promise<void> {
    let t: DbTarget;
    try {
      t = this.target();
    } catch {
      return;
    }
    if (!clientInferred(t)) return;
    const { probeProtocol } = await import('../db/probe.js');
    const { engineFor } = await import('../db/engines/index.js');
    const answer = await probeProtocol(t.host, t.port);
    if (answer === 'mysql' || answer === 'postgres') {
      if (answer !== t.kind) this.resolved = resolveTarget({ dbFlag: this.opts.db, env: this.env, answered: answer });
      this.inference = `no DB_CLIENT: ${engineFor(answer).label} answered at ${t.host}:${t.port}`;
    } else {
      this.inference = `no DB_CLIENT: no server answered the probe at ${t.host}:${t.port}, guessed ${engineFor(t.kind).label} from the port; set DB_CLIENT=mysql or DB_CLIENT=postgres`;
    }
  }

  /** Opens (once) and returns the connection; checks the schema is current unless told not to. */
  async db(options: DbOptions = {}): Promise<Knex> {
    if (!this.knex) {
      const t = this.target();
      if (t.kind === 'sqlite' && !options.create) {
        const { existsSync } = await import('node:fs');
        // Opening a missing file would create an empty database in whatever folder this runs.
        if (!existsSync(t.filename)) {
          throw new Unavailable(
            `no database at ${t.display} (${t.filename}, resolved from ${t.source === 'default' ? 'the default: no --db, DATABASE_URL or DB_* set' : t.source}): point at yours with --db URL or DATABASE_URL, or create this one with \`billettigue db migrate\``,
            { code: 'database_missing' },
          );
        }
      }
      const { connect } = await import('../db/connection.js');
      this.knex = await connect(this.target(), { noDatabase: options.noDatabase });
      if (options.schema !== false) {
        const { requireCurrentSchema } = await import('../db/migrator.js');
        await requireCurrentSchema(this.knex);
      }
    }
    return this.knex;
  }

  private interruptText?: () => string | undefined;

  /** What Ctrl-C leaves, said after the closers ran (default: the transaction was rolled back). */
  onInterrupt(describe: () => string | undefined): void {
    this.interruptText = describe;
  }

  interruptMessage(): string | undefined {
    const own = this.interruptText?.();
    if (own) return own;
    if (this.mutating === 'running') return 'interrupted: the change in progress was rolled back; nothing was written';
    if (this.mutating === 'done') return 'interrupted after the change was saved';
    return 'interrupted: nothing was changed';
  }

  private mutating?: 'running' | 'done';

  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** Runs the closers and closes the database; a second call waits for the first one to end. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ui.stopSpinners();
      this.ui.abort();
      for (const fn of this.closers.splice(0)) await fn().catch(() => undefined);
      const k = this.knex;
      this.knex = undefined;
      if (k) await k.destroy().catch(() => undefined);
    })();
    return this.closing;
  }

  /**
   * Runs a mutation in one transaction. With --dry-run the work is done, then rolled back, and the
   * would-be result returned. A transaction that loses a conflict (deadlock; on a cluster, a write
   * on another node) is rolled back whole and retried from the start as the engine says
   * (src/db/retry.ts); when the retries run out it is a Conflict (exit 4, "busy, retry").
   * Driver constraint errors are translated. `fn` must send every query through the `trx` it is given.
   */
  async mutate<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const db = await this.db();
    const { isConnectionLost, lostConnection, translateDbError } = await import('../db/errors.js');
    const { retryOnConflict } = await import('../db/retry.js');
    const { pauseAt } = await import('../backup/pause.js');
    await pauseAt('mutate');
    // Set once the work is done and knex sends COMMIT: a connection lost then leaves the outcome open.
    let committing = false;
    try {
      const result = await retryOnConflict(db, () => {
        this.mutating = 'running';
        committing = false;
        return db.transaction(async (trx) => {
          const r = await fn(trx);
          await pauseAt('mutate:commit');
          if (this.dryRun) throw new DryRunRollback(r);
          committing = true;
          return r;
        });
      });
      this.mutating = 'done';
      // Named once the change is made (a refused change stays a one-line error).
      this.announceTarget();
      return result;
    } catch (err) {
      this.mutating = undefined;
      if (err instanceof DryRunRollback) {
        this.announceTarget();
        this.ui.info('dry run: the changes were rolled back; nothing was written');
        return err.result as T;
      }
      if (isConnectionLost(err)) throw lostConnection(err, { inTransaction: true, duringCommit: committing });
      throw translateDbError(err);
    }
  }

  /**
   * Asks for confirmation of a destructive step. --yes (or --dry-run) skips it; without a TTY and
   * without --yes it fails fast naming --yes — it never waits for input that cannot come.
   */
  async confirm(question: string): Promise<void> {
    if (this.yes || this.dryRun) return;
    this.refuseWithoutTty(question);
    this.announceTarget(true);
    const { confirm } = await import('@inquirer/prompts');
    const ok = await confirm({ message: question, default: false }, { output: process.stderr });
    if (!ok) throw new InvalidInput('cancelled: nothing was changed', { code: 'cancelled' });
  }

  private refuseWithoutTty(question: string): void {
    if (process.stdin.isTTY) return;
    throw new InvalidInput(
      `${question.replace(/\?$/, '')} (target: ${this.target().display}): confirmation needed, and stdin is not a terminal: re-run with --yes`,
      { code: 'confirmation_required' },
    );
  }

  /**
   * The confirmation of what drops or replaces data: on a terminal, type the database name (every
   * engine: the SQLite file's name too); without one, --yes; else exit 2.
   */
  async confirmByName(question: string): Promise<void> {
    if (this.yes || this.dryRun) return;
    this.refuseWithoutTty(question);
    const name = databaseName(this.target());
    this.announceTarget(true);
    this.ui.info(question);
    const { input } = await import('@inquirer/prompts');
    const typed = await input({ message: `type the database name (${name}) to confirm:` }, { output: process.stderr });
    if (typed.trim() !== name) throw new InvalidInput('the name typed does not match: nothing was changed', { code: 'cancelled' });
  }

  private announced = false;

  /**
   * `target: …` on stderr, once per command, before anything changes (PRODUCT.md: the target is
   * always visible). `force` shows it even with --quiet: a prompt must name what it acts on.
   */
  announceTarget(force = false): void {
    if (this.announced) return;
    if (this.ui.quiet && !force) return;
    this.announced = true;
    this.ui.note(`target: ${this.target().display}`);
  }

  /**
   * The password of a create/reset: --password-stdin (first line of stdin), --generate-password
   * (printed once by the caller), or a hidden prompt with confirmation on a TTY. Never argv.
   */
  async obtainPassword(o: { passwordStdin?: boolean; generatePassword?: boolean }): Promise<{ password: string; generated: boolean }> {
    const { validatePassword, generatePassword } = await import('../domain/passwords.js');
    if (o.passwordStdin && o.generatePassword) {
      throw new InvalidInput('choose one of --password-stdin and --generate-password');
    }
    if (o.generatePassword) return { password: generatePassword(), generated: true };
    let password: string;
    if (o.passwordStdin) {
      password = await readStdinLine();
      if (password === '') throw new InvalidInput('--password-stdin: stdin was empty: pipe the password in, e.g. `printf %s "$PW" | billettigue …`');
    } else {
      if (!process.stdin.isTTY) {
        throw new InvalidInput('no password source: stdin is not a terminal: use --password-stdin or --generate-password');
      }
      const { password: prompt } = await import('@inquirer/prompts');
      // A typo at a hidden prompt is easy: ask again, up to three times.
      for (let attempt = 1; ; attempt++) {
        try {
          password = await prompt({ message: 'new password:', mask: '*' }, { output: process.stderr });
          validatePassword(password, this.settings.passwordMinLength);
          const again = await prompt({ message: 'repeat the password:', mask: '*' }, { output: process.stderr });
          if (again !== password) throw new InvalidInput('the two passwords differ');
          break;
        } catch (err) {
          if (!(err instanceof InvalidInput)) throw err;
          if (attempt >= 3) throw new InvalidInput(`${err.message} (3 attempts): nothing was changed`);
          this.ui.warn(`${err.message}: try again (${3 - attempt} attempt${3 - attempt === 1 ? '' : 's'} left)`);
        }
      }
    }
    validatePassword(password, this.settings.passwordMinLength);
    return { password, generated: false };
  }
}

/** Reads stdin to the end and returns its first line (without the line ending). */
export async function readStdinLine(): Promise<string> {
  const text = await readStdin();
  return text.split(/\r?\n/)[0] ?? '';
}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new InvalidInput('expected input on stdin (a pipe or a file), but stdin is a terminal');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** -o/--output (and --json, its synonym for json). */
function outputFormat(opts: GlobalOptions): OutputFormat | undefined {
  if (opts.output === undefined) return opts.json ? 'json' : undefined;
  const f = opts.output.trim().toLowerCase();
  if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) {
    throw new InvalidInput(`-o/--output "${opts.output}" is not a format: use ${OUTPUT_FORMATS.join(', ')}`);
  }
  if (opts.json && f !== 'json') throw new InvalidInput(`--json and -o ${f} disagree: choose one`);
  return f as OutputFormat;
}

function parseColumnList(value: string): string[] {
  const list = value.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
  if (list.length === 0) throw new InvalidInput('--columns: name at least one column, e.g. --columns id,email');
  return list;
}

/**
 * An answer given as an exit status, like `grep -q` (e.g. `tokens check`: 1 = not revoked): the
 * answer is already on stdout, so no `error:` line is printed.
 */
export class ExitWith extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

let current: Ctx | undefined;

/** The context of the running command, for main.ts to close (and for SIGINT). */
export function currentContext(): Ctx | undefined {
  return current;
}

/**
 * Wraps a command's handler: builds the context from the global + verb options and hands the
 * handler (ctx, verb options, positional arguments).
 */
export function action<O = Record<string, unknown>>(
  fn: (ctx: Ctx, opts: O, args: string[]) => Promise<void>,
): (...all: unknown[]) => Promise<void> {
  return async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const globals = cmd.optsWithGlobals() as GlobalOptions;
    const ctx = new Ctx(globals);
    current = ctx;
    await ctx.ui.init();
    await ctx.settleTarget();
    const positional = all.slice(0, -2).flatMap((a) => (Array.isArray(a) ? (a as string[]) : a === undefined ? [] : [String(a)]));
    await fn(ctx, cmd.opts() as O, positional);
  };
}

// ---- option parsers shared by commands ------------------------------------------------------

export function parsePositiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidInput(`${name} must be a whole number from 1 to ${max}, got "${value}"`);
    }
    return n;
  };
}

export function parseNonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidInput(`${name} must be a whole number >= 0, got "${value}"`);
    }
    return n;
  };
}

/**
 * Every option that takes a date (`--since`, `--created-since`, `--expired-before`…): a calendar
 * day of the display time zone (its start), today/yesterday/tomorrow, or an ISO 8601 time (a time
 * without a zone is read in the display zone). One parser for every group: src/domain/dates.ts.
 */
export function parseDateOption(name: string) {
  return (value: string): Date => parseDayOrInstant(value, name, 'start');
}
