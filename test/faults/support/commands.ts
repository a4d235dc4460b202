/**
 * The command tree as commander builds it (every group loaded), walked so that the fault tests
 * cover each verb and flag without a hand-kept list: a verb or flag added later is tested
 * automatically (or the test fails asking for a baseline). A verb is mutating when it takes
 * --dry-run (PRODUCT.md: every mutating verb does).
 */
import type { Command } from 'commander';
import { buildProgram } from '../../../src/cli/main.js';
import { Ui } from '../../../src/cli/ui.js';

export interface FlagSpec {
  /** `--created-since` */
  long: string;
  /** `date` for `<date>`; undefined for a boolean flag. */
  placeholder?: string;
  mandatory: boolean;
  variadic: boolean;
}

export interface VerbSpec {
  /** `['accounts', 'create']` */
  path: string[];
  name: string;
  args: Array<{ name: string; required: boolean; variadic: boolean }>;
  flags: FlagSpec[];
  mutating: boolean;
}

function flagOf(o: Command['options'][number]): FlagSpec | null {
  if (!o.long) return null;
  const m = /<([^>]+?)(?:\.\.\.)?>|\[([^\]]+?)(?:\.\.\.)?\]/.exec(o.flags);
  return { long: o.long, placeholder: m ? (m[1] ?? m[2]) : undefined, mandatory: o.mandatory, variadic: o.variadic };
}

export async function commandTree(): Promise<VerbSpec[]> {
  const program = await buildProgram([], () => new Ui({ json: false, quiet: true, color: false }), { all: true });
  const out: VerbSpec[] = [];
  const walk = (cmd: Command, path: string[]) => {
    for (const sub of cmd.commands) {
      const p = [...path, sub.name()];
      // Commander keeps the handler private; a group without its own action is only a namespace.
      if ((sub as unknown as { _actionHandler: unknown })._actionHandler) {
        const flags = sub.options.map(flagOf).filter((f): f is FlagSpec => f !== null);
        out.push({
          path: p,
          name: p.join(' '),
          args: sub.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })),
          flags,
          mutating: flags.some((f) => f.long === '--dry-run'),
        });
      }
      walk(sub, p);
    }
  };
  walk(program, []);
  return out;
}

/** Placeholders of flags that take a date, a time or a duration back from now. */
export const DATE_PLACEHOLDERS = new Set(['date', 'day', 'time', 'duration', 'start-and-end']);

/** Every flag that takes a date: [verb, flag]. */
export async function dateFlags(): Promise<Array<{ verb: VerbSpec; flag: FlagSpec }>> {
  return (await commandTree()).flatMap((verb) => verb.flags.filter((f) => f.placeholder && DATE_PLACEHOLDERS.has(f.placeholder)).map((flag) => ({ verb, flag })));
}
