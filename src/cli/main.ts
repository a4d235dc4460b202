/**
 * The CLI's single entry and single exit point: parse, run, catch once, map the error to an exit
 * code (PRODUCT.md), close the connection. Nothing else in the program exits.
 */
import { Command, CommanderError } from 'commander';
import { AppError, EXIT, Interrupted, InvalidInput } from '../domain/errors.js';
import { isKnownZone } from '../domain/dates.js';
import { redactUrl } from '../db/config.js';
import { translateDbError } from '../db/errors.js';
import { GROUPS } from './groups.js';
import { ExitWith, currentContext } from './context.js';
import { Ui, colorAllowed } from './ui.js';

const EXAMPLES = `
Examples:
  $ billettigue db migrate && billettigue db seed --admin-email admin@example.fr --generate-password
  $ billettigue accounts list --locked --search dupont
  $ billettigue accounts show jean.dupont@example.fr
  $ billettigue --db mysql://root@127.0.0.1:3306/billettigue doctor
  $ DATABASE_URL=mysql://app:***@db:3306/billettigue billettigue backup --dir ./backups

Database (highest priority first): --db URL, DATABASE_URL, DB_CLIENT/DB_HOST/DB_PORT/DB_NAME/
DB_USER/DB_PASSWORD (environment or ./.env), else the embedded file ./billettigue.sqlite3.
Exit codes: 0 ok, 1 unexpected, 2 bad usage/input, 3 not found, 4 conflict, 5 database
unreachable/misconfigured, 6 integrity failure, 130 interrupted.`;

/** Options that take a value, to find the group name in argv without parsing. */
const GLOBAL_WITH_VALUE = new Set(['--db', '-o', '--output', '--columns']);

function invokedGroup(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    if (a === 'help') return args[i + 1];
    return a;
  }
  return undefined;
}

export async function buildProgram(args: string[], errorUi: () => Ui, options: { all?: boolean } = {}): Promise<Command> {
  const program = new Command('billettigue')
    .description('Administration tool of the Billettigue platform (trajets, reservations, envois, backups).')
    .option('-V, --version', 'print the version, build, Node and (with a target) the server version: same as `billettigue version`')
    .option('--db <url>', 'database URL: mysql://user:pass@host:3306/name, postgres://user:pass@host:5432/name or sqlite:path/file.sqlite3')
    .option('--json', 'machine-readable output: one JSON document on stdout, errors as JSON on stderr (same as -o json)')
    .option('-o, --output <format>', 'table (default on a terminal), tsv (default when piped), csv or json')
    .option('--wide', 'tables: every column, nothing truncated')
    .option('--columns <list>', 'tables, tsv, csv: only these columns, in this order (e.g. id,email,status)')
    .option('--no-headers', 'tables, tsv, csv: no header row')
    .option('--no-pager', 'never page long output (also BILLETTIGUE_PAGER=cat)')
    .option('--utc', 'show times in UTC (default: this machine\'s zone, or BILLETTIGUE_TZ); days in --since/--date are then UTC days')
    .option('-y, --yes', 'answer yes to confirmations (required without a terminal)')
    .option('--no-color', 'disable colors (also NO_COLOR=1)')
    .option('-q, --quiet', 'only print results and errors')
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false)
    .addHelpText('after', EXAMPLES);

  // Every verb's help lists the global flags too.
  program.configureHelp({ showGlobalOptions: true });
  program.exitOverride();
  program.configureOutput({
    writeOut: (s) => process.stdout.write(s),
    writeErr: (s) => process.stderr.write(s),
    // Commander's messages become the contract's one-line `error: …` (or JSON with --json).
    outputError: (s) => {
      const line = s.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ').trim();
      errorUi().error('usage', line);
    },
  });

  const wanted = invokedGroup(args);
  for (const [name, group] of Object.entries(GROUPS)) {
    const cmd = program.command(name).description(group.description);
    cmd.exitOverride();
    cmd.showSuggestionAfterError(true);
    if (name === wanted || options.all) {
      (await group.load()).register(cmd);
      addAliases(cmd);
    }
  }
  // Sub-commands inherit the error/exit handling of their parent when created after it.
  return program;
}

/**
 * The same verbs everywhere (create/delete; the old names stay as aliases) and the short forms
 * people type in gh and kubectl: ls, get, rm.
 */
const RENAMES: Record<string, { name?: string; aliases: string[] }> = {
  list: { aliases: ['ls'] },
  show: { aliases: ['get'] },
  delete: { aliases: ['rm'] },
  add: { name: 'create', aliases: ['add'] },
  remove: { name: 'delete', aliases: ['remove', 'rm'] },
};

function addAliases(group: Command): void {
  for (const verb of group.commands) {
    const r = RENAMES[verb.name()];
    if (!r) continue;
    if (r.name && group.commands.some((c) => c.name() === r.name)) continue;
    if (r.name) verb.name(r.name);
    const taken = new Set(group.commands.flatMap((c) => [c.name(), ...c.aliases()]));
    for (const a of r.aliases) if (!taken.has(a) || verb.aliases().includes(a)) verb.alias(a);
  }
}

/**
 * `help accounts list` is `accounts list --help`; `--version`/`-V` is the `version` command.
 */
function rewriteArgs(args: string[]): string[] {
  const words = args.filter((a) => !a.startsWith('-'));
  if (args[0] === 'help' && words.length >= 2) return [...args.slice(1), '--help'];
  const v = args.findIndex((a) => a === '--version' || a === '-V');
  if (v >= 0 && words.length === 0) return ['version', ...args.filter((_, i) => i !== v)];
  return args;
}

function fallbackUi(args: string[]): Ui {
  const o = args.indexOf('-o') >= 0 ? args[args.indexOf('-o') + 1] : args.find((a) => a.startsWith('--output='))?.slice(9);
  return new Ui({
    json: args.includes('--json') || o === 'json' || args[args.indexOf('--output') + 1] === 'json',
    quiet: args.includes('-q') || args.includes('--quiet'),
    color: colorAllowed(args.includes('--no-color') ? false : undefined, process.env, process.stderr),
  });
}

/** Maps any error to an exit code, printing one line (no stack unless BILLETTIGUE_DEBUG=1). */
export function reportError(error: unknown, ui: Ui): number {
  const debug = process.env.BILLETTIGUE_DEBUG === '1';
  // A driver error no command translated (a refused node, a constraint) still gets its exit code.
  const err = translateDbError(error);
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    // Commander already printed its message through outputError.
    return err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
  }
  if (err instanceof ExitWith) return err.exitCode;
  if (err instanceof AppError) {
    if (debug && err.stack) process.stderr.write(redactUrl(err.stack) + '\n');
    ui.error(err.code, redactUrl(err.message), err.details);
    return err.exitCode;
  }
  const e = err as { code?: string; message?: string; stack?: string; name?: string };
  if (e?.name === 'ExitPromptError') {
    ui.error('interrupted', 'interrupted at a prompt: nothing was changed');
    return EXIT.interrupted;
  }
  if (['ECONNREFUSED', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ETIMEDOUT'].includes(e?.code ?? '')) {
    ui.error('unavailable', `lost the database connection (${e.code}): is the server running?`);
    return EXIT.unavailable;
  }
  if (debug && e?.stack) process.stderr.write(redactUrl(e.stack) + '\n');
  const msg = redactUrl(String(e?.message ?? err)).split('\n')[0];
  ui.error('unexpected', `${msg}${debug ? '' : ' (set BILLETTIGUE_DEBUG=1 for details)'}`);
  return EXIT.failure;
}

/**
 * The display time zone, set as TZ before anything runs so that tables, show screens and the
 * day parser (src/domain/dates.ts) all use it: --utc, else BILLETTIGUE_TZ, else the machine's.
 */
function setDisplayZone(args: string[]): string | null {
  const wanted = args.includes('--utc') ? 'UTC' : process.env.BILLETTIGUE_TZ?.trim();
  if (!wanted) return null;
  if (!isKnownZone(wanted)) return `BILLETTIGUE_TZ="${wanted}" is not a time zone: use an IANA name such as Europe/Paris or UTC`;
  process.env.TZ = wanted;
  return null;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const args = rewriteArgs(argv.slice(2));
  argv = [...argv.slice(0, 2), ...args];
  const zoneError = setDisplayZone(args.slice(0, args.includes('--') ? args.indexOf('--') : undefined));
  let ui: Ui | undefined;
  const errorUi = () => (ui ??= currentContext()?.ui ?? fallbackUi(args));

  // A closed pipe (`billettigue … | head -1`) is not an error: stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
  });

  // Ctrl-C: close the connection (the server rolls back the open transaction), exit 130.
  let interrupted = false;
  const onSigint = () => {
    // While the pager shows the result, Ctrl-C belongs to it (less uses it to stop a search).
    if (currentContext()?.ui.pagerRunning) return;
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    const ctx = currentContext();
    ctx?.ui.abort();
    // The command's closers run first (stop a load, remove a temp file, count what was kept), so
    // that the message can say what is true now; then one line, exit 130.
    let reported = false;
    const finish = () => {
      if (!reported) {
        reported = true;
        reportError(new Interrupted(ctx?.interruptMessage()), errorUi());
      }
      process.exit(EXIT.interrupted);
    };
    // Closing waits for a query in flight; do not let a long one hold Ctrl-C hostage. The server
    // rolls back the open transaction when the connection drops anyway.
    setTimeout(finish, 10_000).unref();
    void (ctx ? ctx.close() : Promise.resolve()).finally(finish);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  try {
    if (zoneError) throw new InvalidInput(zoneError);
    const program = await buildProgram(args, errorUi);
    await program.parseAsync(argv);
    if (!interrupted) await currentContext()?.ui.finish();
    return interrupted ? EXIT.interrupted : EXIT.ok;
  } catch (err) {
    // After Ctrl-C the command fails as its connections close: that is the interruption
    // (already reported), not a second error; the exit code stays 130.
    if (interrupted) return EXIT.interrupted;
    return reportError(err, errorUi());
  } finally {
    await currentContext()?.close();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
