/**
 * Envois (parcel shipments) and the rules of their colis: the two state machines of docs/rules.md,
 * how moving an envoi moves its colis, who may send and carry, and the shipping cost.
 *
 * Locking order, shared with src/domain/colis.ts so that concurrent commands never deadlock on each
 * other: the envoi row first (SELECT … FOR UPDATE), then its colis rows.
 */
import type { Knex } from 'knex';
import { COLIS_STATUSES, type ColisStatus, type EnvoiStatus } from '../db/schema.js';
import type { ColisRow, CompteRow, EnvoiRow, TransporteurRow, UtilisateurRow } from '../db/rows.js';
import { centsToDecimal, isoOrNull, toCents, toDbTime } from '../db/values.js';
import { insertId, sumCentsSql } from '../db/dialect.js';
import { Conflict, InvalidInput, NotFound } from './errors.js';
import { findTransporteur, findUtilisateur } from './lookup.js';
import { colisShippingCents, parseWeight } from './money.js';
import { normalizePhone, parseId, requireText } from './validate.js';

type Db = Knex | Knex.Transaction;

// ---- the state machines (docs/rules.md) ----------------------------------------------------

/** Allowed envoi status changes: pending → accepted → in_transit → delivered; cancel before in_transit. */
export const ENVOI_TRANSITIONS: Record<EnvoiStatus, readonly EnvoiStatus[]> = {
  pending: ['accepted', 'cancelled'],
  accepted: ['in_transit', 'cancelled'],
  in_transit: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** Allowed colis status changes. A colis can be lost once the carrier has it (packaged or shipped). */
export const COLIS_TRANSITIONS: Record<ColisStatus, readonly ColisStatus[]> = {
  pending: ['packaged'],
  packaged: ['shipped', 'lost'],
  shipped: ['delivered', 'lost'],
  delivered: [],
  lost: [],
};

/** What moving an envoi to a status does to its colis; null: they stay as they are. Lost colis stay lost. */
export const COLIS_TARGET_OF_ENVOI: Record<EnvoiStatus, ColisStatus | null> = {
  pending: null,
  accepted: 'packaged',
  in_transit: 'shipped',
  delivered: 'delivered',
  cancelled: null,
};

/** The colis statuses consistent with each envoi status (for checks: `maintenance check`, tests). */
export const COLIS_STATUSES_OF_ENVOI: Record<EnvoiStatus, readonly ColisStatus[]> = {
  pending: ['pending'],
  accepted: ['packaged', 'lost'],
  in_transit: ['shipped', 'lost'],
  delivered: ['delivered', 'lost'],
  cancelled: ['pending', 'packaged', 'lost'],
};

/** The CLI verbs that move an envoi, and where each one takes it. */
export const ENVOI_VERBS = {
  accept: 'accepted',
  ship: 'in_transit',
  deliver: 'delivered',
  cancel: 'cancelled',
} as const satisfies Record<string, EnvoiStatus>;
export type EnvoiVerb = keyof typeof ENVOI_VERBS;

export function canMoveEnvoi(from: EnvoiStatus, to: EnvoiStatus): boolean {
  return ENVOI_TRANSITIONS[from]?.includes(to) ?? false;
}

export function canMoveColis(from: ColisStatus, to: ColisStatus): boolean {
  return COLIS_TRANSITIONS[from]?.includes(to) ?? false;
}

function sourcesOf<S extends string>(table: Record<S, readonly S[]>, to: S): S[] {
  return (Object.keys(table) as S[]).filter((s) => table[s].includes(to));
}

/** "envoi 5 is delivered (final): it cannot be shipped (ship works from accepted)". */
function refuseEnvoiMove(id: number, from: EnvoiStatus, to: EnvoiStatus): Conflict {
  const verb = (Object.keys(ENVOI_VERBS) as EnvoiVerb[]).find((v) => ENVOI_VERBS[v] === to);
  const final = ENVOI_TRANSITIONS[from].length === 0 ? ' (final)' : '';
  const sources = sourcesOf(ENVOI_TRANSITIONS, to);
  const what = verb ? `${verb} works` : `${to} is reachable`;
  const where = sources.length > 0 ? `${what} only from ${sources.join(' or ')}` : `no status leads back to ${to}`;
  return new Conflict(
    `envoi ${id} is ${from}${final}: it cannot become ${to} (${where})`,
    { code: 'forbidden_transition', details: { envoi_id: id, current: from, wanted: to } },
  );
}

// ---- input parsing --------------------------------------------------------------------------

export interface ColisInput {
  description: string;
  /** Hundredths of a kg (DECIMAL(8,2)). */
  weight: number;
  /** Normalised "LxlxH" in cm, or null. */
  dimensions: string | null;
}

const DIM_NUMBER = String.raw`(\d{1,4}(?:[.,]\d)?)`;
const DIM_SEP = String.raw`\s*[xX×*]\s*`;
const DIMENSIONS_RE = new RegExp(`^${DIM_NUMBER}${DIM_SEP}${DIM_NUMBER}${DIM_SEP}${DIM_NUMBER}\\s*(?:cm)?$`, 'i');

/**
 * Dimensions "L x l x H" in centimetres: "30x20x10", "30 x 20 x 10", "30X20X10", "30×20×10cm",
 * "12.5x20x10" (at most one decimal: millimetres). Each must be > 0. Stored normalised: "30x20x10",
 * "12.5x20x10".
 */
export function parseDimensions(raw: string, field = 'dimensions'): string {
  const m = DIMENSIONS_RE.exec(raw.trim());
  if (!m) {
    throw new InvalidInput(
      `${field} "${raw}" is not L x l x H in centimetres: use three numbers separated by x, e.g. 30x20x10 or 12.5x20x10`,
      { code: 'invalid_dimensions' },
    );
  }
  const tenths = [m[1]!, m[2]!, m[3]!].map((n) => {
    const [int, dec = '0'] = n.replace(',', '.').split('.');
    return Number(int) * 10 + Number(dec);
  });
  if (tenths.some((t) => t <= 0)) {
    throw new InvalidInput(`${field} "${raw}": every dimension must be greater than 0 cm`, { code: 'invalid_dimensions' });
  }
  return tenths.map((t) => (t % 10 === 0 ? String(t / 10) : `${Math.floor(t / 10)}.${t % 10}`)).join('x');
}

const WEIGHT_LIKE = /^\s*\d+(?:[.,]\d*)?\s*$/;

/**
 * One `--colis "description:weight[:LxlxH]"`. The description may itself contain ':': the weight
 * and the dimensions are read from the end. `index` is 1-based, for the error messages.
 */
export function parseColisSpec(raw: string, index: number): ColisInput {
  const label = `--colis entry ${index}`;
  const parts = raw.split(':');
  if (parts.length < 2) {
    throw new InvalidInput(
      `${label} ("${raw}"): expected "description:weight[:LxlxH]", e.g. "Livres:2.5:30x20x10"`,
      { code: 'invalid_colis', details: { entry: index } },
    );
  }
  const last = parts[parts.length - 1]!;
  const beforeLast = parts[parts.length - 2]!;
  const hasDimensions = parts.length >= 3 && (/[xX×*]/.test(last) || WEIGHT_LIKE.test(beforeLast));
  const dimensionsRaw = hasDimensions ? last : undefined;
  const weightRaw = hasDimensions ? beforeLast : last;
  const description = parts.slice(0, hasDimensions ? -2 : -1).join(':');
  return colisInput({ description, weight: weightRaw, dimensions: dimensionsRaw }, label, index);
}

function colisInput(
  e: { description: unknown; weight: unknown; dimensions?: unknown },
  label: string,
  index: number,
): ColisInput {
  const details = { details: { entry: index } };
  try {
    if (e.description !== undefined && typeof e.description !== 'string') {
      throw new InvalidInput(`${label}: description must be a text`, { code: 'invalid_colis' });
    }
    const description = requireText(e.description as string | undefined, `${label}: description`);
    if (e.weight === undefined || e.weight === null || e.weight === '') {
      throw new InvalidInput(`${label}: weight is required (kilograms, e.g. 2.5)`, { code: 'invalid_weight' });
    }
    if (typeof e.weight !== 'string' && typeof e.weight !== 'number') {
      throw new InvalidInput(`${label}: weight must be a number of kilograms, e.g. 2.5`, { code: 'invalid_weight' });
    }
    const weight = parseWeight(e.weight, `${label}: weight`);
    let dimensions: string | null = null;
    if (e.dimensions !== undefined && e.dimensions !== null) {
      if (typeof e.dimensions !== 'string') {
        throw new InvalidInput(`${label}: dimensions must be a text like "30x20x10"`, { code: 'invalid_dimensions' });
      }
      dimensions = parseDimensions(e.dimensions, `${label}: dimensions`);
    }
    return { description, weight, dimensions };
  } catch (err) {
    // Every message names the entry; the JSON error also carries it as a field.
    if (err instanceof InvalidInput && !err.details) {
      throw new InvalidInput(err.message, { code: err.code, ...details });
    }
    throw err;
  }
}

const COLIS_FILE_FIELDS = ['description', 'weight', 'dimensions'];

/** A `--colis-file`: a JSON array of {description, weight, dimensions?}. */
export function parseColisFile(text: string, label = '--colis-file'): ColisInput[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new InvalidInput(`${label}: not valid JSON (${(err as Error).message})`, { code: 'invalid_colis_file' });
  }
  if (!Array.isArray(data)) {
    throw new InvalidInput(`${label}: expected a JSON array of {"description", "weight", "dimensions"} objects`, {
      code: 'invalid_colis_file',
    });
  }
  return data.map((entry: unknown, i) => {
    const index = i + 1;
    const where = `${label} entry ${index}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new InvalidInput(`${where}: expected an object like {"description": "Livres", "weight": 2.5}`, {
        code: 'invalid_colis',
        details: { entry: index },
      });
    }
    const unknown = Object.keys(entry).filter((k) => !COLIS_FILE_FIELDS.includes(k));
    if (unknown.length > 0) {
      throw new InvalidInput(`${where}: unknown field "${unknown[0]}" (the fields are ${COLIS_FILE_FIELDS.join(', ')})`, {
        code: 'invalid_colis',
        details: { entry: index, field: unknown[0] },
      });
    }
    const e = entry as Record<string, unknown>;
    return colisInput({ description: e.description, weight: e.weight, dimensions: e.dimensions }, where, index);
  });
}

// ---- views (JSON-ready, snake_case, money and weights as exact strings) --------------------

export interface ColisView {
  id: number;
  envoi_id: number;
  description: string;
  /** kg, "2.50". */
  weight: string;
  /** "LxlxH" in cm. */
  dimensions: string | null;
  shipping_cost: string;
  status: ColisStatus;
  created_at: string | null;
  updated_at: string | null;
}

export function colisView(r: ColisRow): ColisView {
  return {
    id: r.id,
    envoi_id: r.envoi_id,
    description: r.description,
    weight: centsToDecimal(toCents(r.weight)),
    dimensions: r.dimensions,
    shipping_cost: centsToDecimal(toCents(r.shipping_cost)),
    status: r.status,
    created_at: isoOrNull(r.created_at),
    updated_at: isoOrNull(r.updated_at),
  };
}

export interface StatusTotal {
  colis: number;
  weight: string;
  shipping_cost: string;
}

/**
 * Totals of an envoi. `colis`, `weight` and `shipping_cost` count every colis of the envoi, lost
 * ones included: they are what was handed over and charged. `by_status` splits them (delivered vs
 * lost, …), every status always present.
 */
export interface EnvoiTotals extends StatusTotal {
  by_status: Record<ColisStatus, StatusTotal>;
}

export function totalsOf(colis: readonly ColisRow[]): EnvoiTotals {
  const acc = Object.fromEntries(COLIS_STATUSES.map((s) => [s, { n: 0, w: 0, c: 0 }])) as Record<
    ColisStatus,
    { n: number; w: number; c: number }
  >;
  let n = 0;
  let w = 0;
  let c = 0;
  for (const r of colis) {
    const wr = toCents(r.weight);
    const cr = toCents(r.shipping_cost);
    const a = acc[r.status];
    a.n += 1;
    a.w += wr;
    a.c += cr;
    n += 1;
    w += wr;
    c += cr;
  }
  const view = (x: { n: number; w: number; c: number }): StatusTotal => ({
    colis: x.n,
    weight: centsToDecimal(x.w),
    shipping_cost: centsToDecimal(x.c),
  });
  return {
    ...view({ n, w, c }),
    by_status: Object.fromEntries(COLIS_STATUSES.map((s) => [s, view(acc[s])])) as Record<ColisStatus, StatusTotal>,
  };
}

export interface EnvoiDetail {
  id: number;
  status: EnvoiStatus;
  description: string;
  expediteur: {
    id: number;
    compte_id: number;
    email: string;
    first_name: string;
    last_name: string;
    phone_number: string;
  };
  compte_id: number;
  recipient_name: string;
  recipient_phone: string;
  transporteur: {
    id: number;
    compte_id: number;
    email: string;
    company_name: string | null;
    company_type: string;
  };
  colis: ColisView[];
  totals: EnvoiTotals;
  created_at: string | null;
  updated_at: string | null;
}

/** One envoi with its parties, every colis and the totals. */
export async function getEnvoi(db: Db, idRef: number | string): Promise<EnvoiDetail> {
  const id = parseId(idRef, 'envoi');
  const e = (await db<EnvoiRow>('envois').where({ id }).first()) as EnvoiRow | undefined;
  if (!e) throw new NotFound(`no envoi with id ${id}`, { code: 'envoi_not_found' });
  const u = (await db<UtilisateurRow>('utilisateurs').where({ id: e.expediteur_id }).first()) as UtilisateurRow;
  const uc = (await db<CompteRow>('comptes').where({ id: u.compte_id }).first('email')) as Pick<CompteRow, 'email'>;
  const t = (await db<TransporteurRow>('transporteurs').where({ id: e.transporteur_id }).first()) as TransporteurRow;
  const tc = (await db<CompteRow>('comptes').where({ id: t.compte_id }).first('email')) as Pick<CompteRow, 'email'>;
  const colis = (await db<ColisRow>('colis').where({ envoi_id: id }).orderBy('id')) as ColisRow[];
  return {
    id: e.id,
    status: e.status,
    description: e.description,
    expediteur: {
      id: u.id,
      compte_id: u.compte_id,
      email: uc.email,
      first_name: u.first_name,
      last_name: u.last_name,
      phone_number: u.phone_number,
    },
    compte_id: e.compte_id,
    recipient_name: e.recipient_name,
    recipient_phone: e.recipient_phone,
    transporteur: {
      id: t.id,
      compte_id: t.compte_id,
      email: tc.email,
      company_name: t.company_name,
      company_type: t.company_type,
    },
    colis: colis.map(colisView),
    totals: totalsOf(colis),
    created_at: isoOrNull(e.created_at),
    updated_at: isoOrNull(e.updated_at),
  };
}

// ---- who may send and carry -----------------------------------------------------------------

/** The sender: an existing utilisateur whose compte is active. */
export async function requireExpediteur(db: Db, ref: string): Promise<UtilisateurRow & { compte: CompteRow }> {
  const u = await findUtilisateur(db, ref);
  if (u.compte.status !== 'active') {
    throw new InvalidInput(
      `expediteur ${u.id} (${u.compte.email}) cannot send envois: the account is ${u.compte.status}, only active utilisateurs can`,
      { code: 'expediteur_inactive', details: { utilisateur_id: u.id, status: u.compte.status } },
    );
  }
  return u;
}

/** The carrier: an existing transporteur whose compte is active and whose company_type carries parcels. */
export async function requireColisCarrier(db: Db, ref: string): Promise<TransporteurRow & { compte: CompteRow }> {
  const t = await findTransporteur(db, ref);
  const name = `transporteur ${t.id} (${t.company_name ?? t.compte.email})`;
  if (t.compte.status !== 'active') {
    throw new InvalidInput(`${name} cannot carry envois: its account is ${t.compte.status}, only active transporteurs can`, {
      code: 'transporteur_inactive',
      details: { transporteur_id: t.id, status: t.compte.status },
    });
  }
  if (t.company_type !== 'colis' && t.company_type !== 'mixte') {
    throw new InvalidInput(
      `${name} does not carry parcels (company_type ${t.company_type}): choose a transporteur of type colis or mixte, e.g. from \`billettigue zones list --city <city>\``,
      { code: 'transporteur_no_colis', details: { transporteur_id: t.id, company_type: t.company_type } },
    );
  }
  return t;
}

// ---- create ---------------------------------------------------------------------------------

export interface ColisRates {
  baseCents: number;
  perKgCents: number;
}

export interface CreateEnvoiInput {
  /** utilisateur id or account email. */
  expediteur: string;
  /** transporteur id or account email. */
  transporteur: string;
  description: string | undefined;
  recipientName: string | undefined;
  recipientPhone: string | undefined;
  colis: ColisInput[];
}

/** Rows per multi-row INSERT of colis. */
const INSERT_CHUNK = 500;

/** The envoi and all its colis, in the transaction given; returns the envoi as `getEnvoi` shows it. */
export async function createEnvoi(trx: Db, input: CreateEnvoiInput, rates: ColisRates): Promise<EnvoiDetail> {
  const description = requireText(input.description, '--description');
  const recipientName = requireText(input.recipientName, '--recipient-name');
  const recipientPhone = normalizePhone(requireText(input.recipientPhone, '--recipient-phone'), '--recipient-phone');
  if (input.colis.length === 0) {
    throw new InvalidInput('an envoi needs at least one colis: give --colis "description:weight[:LxlxH]" or --colis-file', {
      code: 'no_colis',
    });
  }
  const expediteur = await requireExpediteur(trx, input.expediteur);
  const transporteur = await requireColisCarrier(trx, input.transporteur);
  const now = toDbTime(new Date());
  const id = await insertId(trx('envois').insert({
    description,
    status: 'pending',
    expediteur_id: expediteur.id,
    recipient_name: recipientName,
    recipient_phone: recipientPhone,
    transporteur_id: transporteur.id,
    compte_id: expediteur.compte_id,
    created_at: now,
    updated_at: now,
  }));
  const rows = input.colis.map((c) => ({
    description: c.description,
    weight: centsToDecimal(c.weight),
    dimensions: c.dimensions,
    shipping_cost: centsToDecimal(colisShippingCents(c.weight, rates.baseCents, rates.perKgCents)),
    status: 'pending',
    envoi_id: id!,
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx('colis').insert(rows.slice(i, i + INSERT_CHUNK));
  return getEnvoi(trx, id!);
}

// ---- status changes -------------------------------------------------------------------------

export interface EnvoiMove {
  from: EnvoiStatus;
  to: EnvoiStatus;
  /** How many colis moved, by their new status (e.g. { shipped: 2 }). */
  colisMoved: Partial<Record<ColisStatus, number>>;
  /** Colis left as they were because they are lost. */
  colisLost: number;
  envoi: EnvoiDetail;
}

/**
 * Read-only check that an envoi exists and may move to `to` (for asking a confirmation only when the
 * move is possible); `moveEnvoi` checks again under lock.
 */
export async function checkEnvoiMove(db: Db, idRef: number | string, to: EnvoiStatus): Promise<EnvoiStatus> {
  const id = parseId(idRef, 'envoi');
  const envoi = (await db<EnvoiRow>('envois').where({ id }).first('status')) as Pick<EnvoiRow, 'status'> | undefined;
  if (!envoi) throw new NotFound(`no envoi with id ${id}`, { code: 'envoi_not_found' });
  if (!canMoveEnvoi(envoi.status, to)) throw refuseEnvoiMove(id, envoi.status, to);
  return envoi.status;
}

/**
 * Moves an envoi along its state machine and its colis with it (lost colis stay lost).
 * Locks the envoi, then its colis; the UPDATE re-checks the old status in its WHERE.
 */
export async function moveEnvoi(trx: Db, idRef: number | string, to: EnvoiStatus): Promise<EnvoiMove> {
  const id = parseId(idRef, 'envoi');
  const envoi = (await trx<EnvoiRow>('envois').where({ id }).forUpdate().first()) as EnvoiRow | undefined;
  if (!envoi) throw new NotFound(`no envoi with id ${id}`, { code: 'envoi_not_found' });
  const from = envoi.status;
  if (!canMoveEnvoi(from, to)) throw refuseEnvoiMove(id, from, to);

  const colis = (await trx<ColisRow>('colis').where({ envoi_id: id }).forUpdate().select('id', 'status')) as Array<
    Pick<ColisRow, 'id' | 'status'>
  >;
  const target = COLIS_TARGET_OF_ENVOI[to];
  const moves = new Map<ColisStatus, number[]>();
  let lost = 0;
  for (const c of colis) {
    if (c.status === 'lost') {
      lost += 1;
      continue;
    }
    if (target === null || c.status === target) continue;
    if (!canMoveColis(c.status, target)) {
      throw new Conflict(
        `colis ${c.id} of envoi ${id} is ${c.status}, which cannot become ${target}: the envoi's colis are inconsistent with its status ${from}; nothing was changed (see \`billettigue maintenance check\`)`,
        { code: 'inconsistent_colis', details: { envoi_id: id, colis_id: c.id, colis_status: c.status } },
      );
    }
    const list = moves.get(c.status) ?? [];
    list.push(c.id);
    moves.set(c.status, list);
  }

  const now = toDbTime(new Date());
  const changed = await trx('envois').where({ id, status: from }).update({ status: to, updated_at: now });
  if (changed !== 1) {
    throw new Conflict(`envoi ${id} changed while it was being updated: run the command again`, { code: 'concurrent_change' });
  }
  const colisMoved: Partial<Record<ColisStatus, number>> = {};
  for (const [fromStatus, ids] of moves) {
    for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
      const chunk = ids.slice(i, i + INSERT_CHUNK);
      const n = await trx('colis').whereIn('id', chunk).where({ status: fromStatus }).update({ status: target!, updated_at: now });
      if (n !== chunk.length) {
        throw new Conflict(`colis of envoi ${id} changed while it was being updated: run the command again`, {
          code: 'concurrent_change',
        });
      }
    }
    colisMoved[target!] = (colisMoved[target!] ?? 0) + ids.length;
  }
  return { from, to, colisMoved, colisLost: lost, envoi: await getEnvoi(trx, id) };
}

// ---- list -----------------------------------------------------------------------------------

export const ENVOI_SORTS = ['id', '-id'] as const;
export type EnvoiSort = (typeof ENVOI_SORTS)[number];

export interface EnvoiQuery {
  status?: EnvoiStatus;
  /** transporteur id or account email. */
  transporteur?: string;
  /** utilisateur id or account email. */
  expediteur?: string;
  /** Created at or after. */
  since?: Date;
  limit: number;
  /** Keyset: rows after this id in the sort order. */
  after?: number;
  /** `id` oldest first, `-id` newest first (default). */
  sort?: EnvoiSort;
}

export interface EnvoiSummary {
  id: number;
  status: EnvoiStatus;
  description: string;
  expediteur_id: number;
  expediteur_email: string;
  expediteur_name: string;
  compte_id: number;
  recipient_name: string;
  recipient_phone: string;
  transporteur_id: number;
  transporteur_name: string;
  /** The carrier's account email (what `--transporteur` and `accounts show` take). */
  transporteur_email: string;
  colis_count: number;
  lost_count: number;
  total_weight: string;
  total_shipping_cost: string;
  created_at: string | null;
  updated_at: string | null;
}

export async function listEnvois(db: Db, q: EnvoiQuery): Promise<EnvoiSummary[]> {
  const sort = q.sort ?? '-id';
  const qb = db('envois as e')
    .join('utilisateurs as u', 'u.id', 'e.expediteur_id')
    .join('comptes as uc', 'uc.id', 'u.compte_id')
    .join('transporteurs as t', 't.id', 'e.transporteur_id')
    .join('comptes as tc', 'tc.id', 't.compte_id')
    .select(
      'e.*',
      'uc.email as expediteur_email',
      'u.first_name as expediteur_first_name',
      'u.last_name as expediteur_last_name',
      't.company_name as transporteur_company',
      'tc.email as transporteur_email',
    )
    .orderBy('e.id', sort === 'id' ? 'asc' : 'desc')
    .limit(q.limit);
  if (q.status) qb.where('e.status', q.status);
  if (q.transporteur) qb.where('e.transporteur_id', (await findTransporteur(db, q.transporteur)).id);
  if (q.expediteur) qb.where('e.expediteur_id', (await findUtilisateur(db, q.expediteur)).id);
  if (q.since) qb.where('e.created_at', '>=', toDbTime(q.since));
  if (q.after) qb.where('e.id', sort === 'id' ? '>' : '<', q.after);
  const rows = (await qb) as Array<
    EnvoiRow & {
      expediteur_email: string;
      expediteur_first_name: string;
      expediteur_last_name: string;
      transporteur_company: string | null;
      transporteur_email: string;
    }
  >;
  const sums = await colisSums(db, rows.map((r) => r.id));
  return rows.map((r) => {
    const s = sums.get(r.id) ?? { n: 0, lost: 0, w: 0, c: 0 };
    return {
      id: r.id,
      status: r.status,
      description: r.description,
      expediteur_id: r.expediteur_id,
      expediteur_email: r.expediteur_email,
      expediteur_name: `${r.expediteur_first_name} ${r.expediteur_last_name}`,
      compte_id: r.compte_id,
      recipient_name: r.recipient_name,
      recipient_phone: r.recipient_phone,
      transporteur_id: r.transporteur_id,
      transporteur_name: r.transporteur_company ?? r.transporteur_email,
      transporteur_email: r.transporteur_email,
      colis_count: s.n,
      lost_count: s.lost,
      total_weight: centsToDecimal(s.w),
      total_shipping_cost: centsToDecimal(s.c),
      created_at: isoOrNull(r.created_at),
      updated_at: isoOrNull(r.updated_at),
    };
  });
}

/** Per envoi: colis count, lost count, weight (hundredths of kg) and cost (cents), summed exactly in SQL. */
async function colisSums(db: Db, ids: number[]): Promise<Map<number, { n: number; lost: number; w: number; c: number }>> {
  const out = new Map<number, { n: number; lost: number; w: number; c: number }>();
  if (ids.length === 0) return out;
  const rows = (await db('colis')
    .whereIn('envoi_id', ids)
    .groupBy('envoi_id')
    .select('envoi_id')
    .count({ n: '*' })
    .select(db.raw("SUM(CASE WHEN status = 'lost' THEN 1 ELSE 0 END) as lost"))
    .select(sumCentsSql(db, 'weight').wrap('(', ') as w'), sumCentsSql(db, 'shipping_cost').wrap('(', ') as c'))) as Array<{
    envoi_id: number;
    n: number | string;
    lost: number | string | null;
    w: number | string;
    c: number | string;
  }>;
  for (const r of rows) {
    out.set(Number(r.envoi_id), {
      n: Number(r.n),
      lost: Number(r.lost ?? 0),
      w: Math.round(Number(r.w)),
      c: Math.round(Number(r.c)),
    });
  }
  return out;
}
