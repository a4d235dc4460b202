/**
 * Hostile values for the fuzzing of every mutating verb (test/faults/fuzz.test.ts) and the
 * impossible dates every date flag must refuse. Each value has a name so a failure says which one.
 */

/**
 * Calendar days and times that do not exist: every date flag refuses them (exit 2), none rolls over
 * (JavaScript's Date reads 2026-02-30 as 2026-03-02). A day and a time form; the parser's own
 * tests go through the rest of the calendar.
 */
export const IMPOSSIBLE_DATES = ['2026-02-30', '2025-02-29T10:00:00Z'];

/** What a slot (a flag's value or an argument) holds, from its placeholder: decides which values hit it. */
export type SlotType = 'ref' | 'number' | 'text' | 'date' | 'path';

const REF = new Set(['id', 'account', 'role', 'backup', 'type:id', 'trajet', 'envoi']);
const NUMBER = new Set(['n', 'amount', 'kg', 'f', 'step']);
const PATH = new Set(['dir', 'path', 'file']);

export function slotType(placeholder: string): SlotType {
  if (REF.has(placeholder)) return 'ref';
  if (NUMBER.has(placeholder)) return 'number';
  if (DATE_SLOTS.has(placeholder)) return 'date';
  if (PATH.has(placeholder)) return 'path';
  return 'text';
}

const DATE_SLOTS = new Set(['date', 'day', 'time', 'duration', 'start-and-end']);

export interface Hostile {
  name: string;
  value: string;
}

const h = (name: string, value: string): Hostile => ({ name, value });

export const EMPTY = h('empty', '');
export const LONG = h('10 KB', 'x'.repeat(10 * 1024));
export const EMOJI = h('emoji', 'Zoé 🚌🎫 👩‍👩‍👧');
export const RTL = h('RTL', 'مرحبا \u202Eevil\u202C שלום');
export const COMBINING = h('combining accents', 'Zoe\u0301 Ame\u0301lie\u0300\u0301');
export const SQLI = h('SQL injection', "x'); DROP TABLE comptes; --");
export const SQLI_OR = h('SQL injection OR', "1' OR '1'='1");
export const NAN = h('NaN', 'NaN');
export const INF = h('1e309', '1e309');
export const NEG = h('-1', '-1');
export const ZERO = h('0', '0');
export const HUGE = h('huge id', '9999999999999999999');
export const COMMA_MONEY = h('comma money', '12,50');
export const THREE_DECIMALS = h('3 decimals', '12.345');
export const BAD_DATE = h('impossible date', '2026-02-30');

const VALUES_PATH = [EMPTY, LONG, SQLI, EMOJI];

/** The values each kind of slot receives (argv cannot carry a NUL byte: files and stdin do, below). */
export const VALUES: Record<SlotType, Hostile[]> = {
  ref: [EMPTY, SQLI_OR, NEG, ZERO, HUGE, NAN, LONG, EMOJI, INF],
  number: [EMPTY, NAN, INF, NEG, HUGE, COMMA_MONEY, THREE_DECIMALS, SQLI, ZERO],
  text: [EMPTY, LONG, EMOJI, RTL, COMBINING, SQLI],
  date: [EMPTY, BAD_DATE, NAN, SQLI, HUGE],
  path: VALUES_PATH,
};

/**
 * Values a slot of this type may accept (exit 0): text is free (a name with an emoji is a name;
 * SQLite has no length limit), and so is a path (any string names a file; a dry run creates none);
 * a number may be 0, a weight with 3 decimals or a French "12,50". Everything else must be refused
 * with 2, 3 or 4.
 */
export const MAY_ACCEPT: Record<SlotType, ReadonlySet<Hostile>> = {
  ref: new Set(),
  number: new Set([ZERO, THREE_DECIMALS, COMMA_MONEY]),
  text: new Set([EMPTY, LONG, EMOJI, RTL, COMBINING, SQLI]),
  date: new Set(),
  path: new Set(VALUES_PATH),
};

/** Text with a NUL byte, given where a NUL can come in: stdin and files. */
export const NUL_TEXT = 'Zo\u0000é';
