/**
 * The one date parser of every group (`--since`, `--date`, `--between`, `--created-since`,
 * `--expired-before`, `--older-than DATE`, `--now`, `--departure`…), so that "a day" means the same
 * thing everywhere and an impossible date (2026-02-30) is refused, never rolled over.
 *
 * A calendar day is a day of the display time zone: the machine's (TZ), or UTC with `--utc`, or
 * BILLETTIGUE_TZ (src/cli/main.ts sets TZ from them before anything runs), the zone the tables show
 * times in. A caller may pass another zone (seed demo's `--now` uses UTC days, so the same flags
 * give the same rows on every machine). JSON always carries ISO 8601 UTC.
 */
import { InvalidInput } from './errors.js';

/** A half-open time range [start, end). */
export interface TimeRange {
  start: Date;
  end: Date;
}

const DAY_FORMAT = 'YYYY-MM-DD (a calendar day in the display time zone), today, tomorrow or yesterday';
const INSTANT_FORMAT = 'ISO 8601 with a time zone, e.g. 2026-11-26T08:30:00+01:00 or 2026-11-26T07:30:00Z';

/** The display time zone's name, for headers and messages ("Europe/Paris", "UTC"). */
export function localZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local time';
}

function validYmd(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

function ambiguousHint(raw: string): string | undefined {
  if (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(raw.trim())) return 'is ambiguous (day/month or month/day?)';
  return undefined;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of `zone` from UTC at instant `t`, in ms (Paris in winter: +3,600,000). */
function zoneOffset(zone: string, t: number): number {
  let f = offsetFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return wall - Math.floor(t / 1000) * 1000;
}

/** The instant whose wall time in `zone` is y-m-d h:mi:s (DST-safe; days past the month's end roll on). */
export function wallTime(zone: string | undefined, y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date {
  if (zone === undefined) return new Date(y, m - 1, d, h, mi, s, ms);
  const guess = Date.UTC(y, m - 1, d, h, mi, s, ms);
  let t = guess - zoneOffset(zone, guess);
  t = guess - zoneOffset(zone, t);
  return new Date(t);
}

/** Today's y-m-d in `zone` (undefined: the display zone). */
function todayIn(zone: string | undefined, now: Date): [number, number, number] {
  if (zone === undefined) return [now.getFullYear(), now.getMonth() + 1, now.getDate()];
  const shifted = new Date(now.getTime() + zoneOffset(zone, now.getTime()));
  return [shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate()];
}

/**
 * `--date DAY`: a calendar day → [its midnight, the next midnight) in the display zone (or `zone`).
 * Accepts YYYY-MM-DD, `today`, `tomorrow`, `yesterday`. Anything else (including 25/11/2026, which
 * is ambiguous, and 2026-02-30, which does not exist) is an InvalidInput showing the format.
 */
export function parseDay(raw: string, field = '--date', now: Date = new Date(), zone?: string): TimeRange {
  const v = raw.trim().toLowerCase();
  const rel = { yesterday: -1, today: 0, tomorrow: 1 }[v];
  let y: number, m: number, d: number;
  if (rel !== undefined) {
    [y, m, d] = todayIn(zone, now);
    d += rel;
  } else {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    if (!match || !validYmd(Number(match[1]), Number(match[2]), Number(match[3]))) {
      const why = ambiguousHint(raw) ?? (match ? 'is not a real calendar day' : 'is not a day');
      throw new InvalidInput(`${field} "${raw}" ${why}: use ${DAY_FORMAT}`, { code: 'invalid_date' });
    }
    [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  }
  return { start: wallTime(zone, y, m, d), end: wallTime(zone, y, m, d + 1) };
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * An exact instant: ISO 8601 with a date, a time and a zone (Z or ±HH:MM). Without a zone it is
 * refused as ambiguous, unless `wallClock` says to read it in the display zone (filters).
 */
export function parseInstant(raw: string, field: string, options: { wallClock?: boolean; zone?: string } = {}): Date {
  const v = raw.trim();
  const m = INSTANT.exec(v);
  if (!m) {
    const why = ambiguousHint(v) ?? (/^\d{4}-\d{2}-\d{2}$/.test(v) ? 'is a day, not a time' : 'is not a date and time');
    throw new InvalidInput(`${field} "${raw}" ${why}: use ${INSTANT_FORMAT}`, { code: 'invalid_date' });
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (!zone && !options.wallClock) {
    throw new InvalidInput(`${field} "${raw}" is ambiguous (no time zone): use ${INSTANT_FORMAT}`, { code: 'invalid_date' });
  }
  const zoneOk = !zone || zone.toUpperCase() === 'Z' || (Number(zone.slice(1, 3)) <= 14 && Number(zone.slice(-2)) < 60);
  if (!validYmd(Number(y), Number(mo), Number(d)) || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59 || !zoneOk) {
    throw new InvalidInput(`${field} "${raw}" is not a real date and time: use ${INSTANT_FORMAT}`, { code: 'invalid_date' });
  }
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  if (!zone) return wallTime(options.zone, Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  const normalizedZone = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${normalizedZone}`);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidInput(`${field} "${raw}" is not a date and time: use ${INSTANT_FORMAT}`, { code: 'invalid_date' });
  }
  return date;
}

/**
 * A bound given as a day or as an instant: a day means its start (`edge: 'start'`) or the start
 * of the next day (`edge: 'end'`, so that "between A and B" includes all of day B). A time
 * without a zone is a wall time of the display zone.
 */
export function parseDayOrInstant(raw: string, field: string, edge: 'start' | 'end', now: Date = new Date(), zone?: string): Date {
  const v = raw.trim();
  if (/[Tt ]\d{2}:\d{2}/.test(v)) return parseInstant(v, field, { wallClock: true, zone });
  try {
    const day = parseDay(v, field, now, zone);
    return edge === 'start' ? day.start : day.end;
  } catch (err) {
    if (err instanceof InvalidInput) {
      throw new InvalidInput(`${err.message.replace(/: use .*$/, '')}: use ${DAY_FORMAT}, or ${INSTANT_FORMAT}`, { code: 'invalid_date' });
    }
    throw err;
  }
}

/** `--between A B` → [A, B) with B a day counted whole. */
export function parseBetween(values: readonly string[], field = '--between', now: Date = new Date()): TimeRange {
  if (values.length !== 2) {
    throw new InvalidInput(`${field} takes two values, a start and an end (e.g. ${field} 2026-11-25 2026-11-30), got ${values.length}`, {
      code: 'invalid_date',
    });
  }
  const start = parseDayOrInstant(values[0]!, `${field} start`, 'start', now);
  const end = parseDayOrInstant(values[1]!, `${field} end`, 'end', now);
  if (end.getTime() <= start.getTime()) {
    throw new InvalidInput(`${field}: the end (${values[1]}) is not after the start (${values[0]})`, { code: 'invalid_date' });
  }
  return { start, end };
}

/** ISO UTC → "2026-11-26 08:30" in the display time zone (tables, show screens). */
export function displayTime(iso: string | Date | null | undefined): string {
  if (!iso) return '';
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Whether `zone` is a time zone this Node knows (BILLETTIGUE_TZ). */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
