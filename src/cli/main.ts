/**
 * The CLI's single entry and single exit point: parse, run, catch once, map the error to an exit
 * code (PRODUCT.md), close the connection. Nothing else in the program exits.
 */
import { Command, CommanderError } from 'commander';
import { AppError, EXIT, Interrupted } from '../domain/errors.js';
import { redactUrl } from '../db/config.js';
import { translateDbError } from '../db/errors.js';
import { toolVersion } from '../version.js';
import { GROUPS } from './groups.js';
import { currentContext } from './context.js';
import { Ui, colorAllowed } from './ui.js';

const EXAMPLES = `
Examples:
  $ billettigue db migrate && billettigue db seed --generate-password
  $ billettigue accounts list --locked --search dupont
  $ billettigue accounts show jean.dupont@example.fr
  $ billettigue --db mysql://root@127.0.0.1:3306/billettigue doctor
  $ DATABASE_URL=mysql://app:***@db:3306/billettigue billettigue backup --dir ./backups

Database (highest priority first): --db URL, DATABASE_URL, DB_CLIENT/DB_HOST/DB_PORT/DB_NAME/
DB_USER/DB_PASSWORD (environment or ./.env), else the embedded file ./billettigue.sqlite3.
Exit codes: 0 ok, 1 unexpected, 2 bad usage/input, 3 not found, 4 conflict, 5 database
unreachable/misconfigured, 6 integrity failure, 130 interrupted.`;

/** Options that take a value, to find the group name in argv without parsing. */
const GLOBAL_WITH_VALUE = new Set(['--db']);

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

export async function buildProgram(args: string[], errorUi: () => Ui): Promise<Command> {
  const program = new Command('billettigue')
    .description('Administration tool of the Billettigue platform (trajets, reservations, envois, backups).')
    .version(toolVersion(), '-V, --version', 'print the version')
    .option('--db <url>', 'database URL: mysql://user:pass@host:3306/name or sqlite:path/file.sqlite3')
    .option('--json', 'machine-readable output: one JSON document on stdout, errors as JSON on stderr')
    .option('-y, --yes', 'answer yes to confirmations (required without a terminal)')
    .option('--no-color', 'disable colors (also NO_COLOR=1)')
    .option('-q, --quiet', 'only print results and errors')
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false)
    .addHelpText('after', EXAMPLES);

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
    if (name === wanted) (await group.load()).register(cmd);
  }
  // Sub-commands inherit the error/exit handling of their parent when created after it.
  return program;
}

function fallbackUi(args: string[]): Ui {
  return new Ui({
    json: args.includes('--json'),
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

export async function main(argv: string[] = process.argv): Promise<number> {
  const args = argv.slice(2);
  let ui: Ui | undefined;
  const errorUi = () => (ui ??= currentContext()?.ui ?? fallbackUi(args));

  // A closed pipe (`billettigue … | head -1`) is not an error: stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
  });

  // Ctrl-C: close the connection (the server rolls back the open transaction), exit 130.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    reportError(new Interrupted(), errorUi());
    const ctx = currentContext();
    // Closing waits for a query in flight; do not let a long one hold Ctrl-C hostage. The server
    // rolls back the open transaction when the connection drops anyway.
    setTimeout(() => process.exit(EXIT.interrupted), 3000).unref();
    void (ctx ? ctx.close() : Promise.resolve()).finally(() => process.exit(EXIT.interrupted));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  try {
    const program = await buildProgram(args, errorUi);
    await program.parseAsync(argv);
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
