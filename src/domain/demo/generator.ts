/**
 * The demo platform, row by row. Every table is a generator that writes its rows, in id order, to a
 * `RowSink` (src/db/bulk.ts) and yields every few thousand rows, so any volume streams in constant
 * memory. Rows are pure functions of (seed, index): see rng.ts.
 *
 * The rules of docs/rules.md hold by construction:
 * - one profile per compte, chosen by its role; lower-case unique emails at the demo domain;
 *   E.164 phones; lockout consistent with the threshold of the settings;
 * - trajets in the past are completed or cancelled, future ones active or suspended (a few
 *   cancelled); `available_seats = seats_count − seats of pending/confirmed reservations`;
 * - reservation/paiement status pairs from the table of rules.md and consistent with their trajet
 *   (a completed trajet has no pending or confirmed reservation); amounts from money.ts with the
 *   refund rate of the settings; one paiement per reservation, `amount = total_amount`;
 * - envois carried by `colis`/`mixte` carriers, trajets by `passagers`/`mixte` ones, all active;
 *   colis statuses follow their envoi's (rules.md table); shipping costs from money.ts;
 * - one zone per (city, transporteur); revoked tokens (the database derives their hash or index).
 * Timestamps never pass the reference time and never precede what they depend on (a reservation
 * is made after its trajet is published and after its account exists).
 */
import type { RowSink, BulkJob } from '../../db/bulk.js';
import { colisShippingCents, refundSupplementCents, reservationTotalCents } from '../money.js';
import type {
  ColisStatus,
  CompanyType,
  CompteStatus,
  EnvoiStatus,
  PaiementStatus,
  ReservationStatus,
  ServiceFrequency,
  TrajetStatus,
  ZoneType,
} from '../../db/schema.js';
import { CITIES, distanceTable } from './cities.js';
import { buildPools, slug, type NamePools } from './pools.js';
import { DEMO_EMAIL_DOMAIN, type DemoPlan } from './plan.js';
import { Rng, cumulative, seedWords } from './rng.js';
import { COLIS_KINDS, COMPANY_PATTERNS, ENVOI_DESCRIPTIONS, MEETING_POINTS, TOKEN_REASONS } from './words.js';

/** The tables the generator fills, in load order (parents first). */
export const DEMO_TABLES = [
  'comptes',
  'utilisateurs',
  'transporteurs',
  'administrateurs',
  'zones_desservies',
  'trajets',
  'reservations',
  'paiements',
  'envois',
  'colis',
  'revoked_tokens',
] as const;
export type DemoTable = (typeof DEMO_TABLES)[number];

/** Each table's parents by foreign key: a table is loaded only once all of them are committed. */
export const DEMO_PARENTS: Record<DemoTable, readonly DemoTable[]> = {
  comptes: [],
  utilisateurs: ['comptes'],
  transporteurs: ['comptes'],
  administrateurs: ['comptes'],
  zones_desservies: ['transporteurs'],
  trajets: ['transporteurs'],
  reservations: ['trajets', 'comptes'],
  paiements: ['reservations'],
  envois: ['utilisateurs', 'transporteurs', 'comptes'],
  colis: ['envois'],
  revoked_tokens: ['comptes'],
};

export const DEMO_COLUMNS: Record<DemoTable, readonly string[]> = {
  comptes: [
    'id', 'email', 'password_hash', 'status', 'email_verified', 'phone_verified', 'last_login', 'login_attempts',
    'failed_logins', 'last_failed_login', 'account_locked', 'password_changed_at', 'role_id', 'created_at', 'updated_at',
  ],
  utilisateurs: ['id', 'last_name', 'first_name', 'phone_number', 'compte_id', 'created_at', 'updated_at'],
  transporteurs: ['id', 'phone_number', 'company_name', 'company_type', 'compte_id', 'created_at', 'updated_at'],
  administrateurs: ['id', 'last_name', 'first_name', 'compte_id', 'created_at', 'updated_at'],
  zones_desservies: [
    'id', 'city_name', 'region', 'zone_type', 'service_frequency', 'max_weight_capacity', 'transporteur_id', 'created_at', 'updated_at',
  ],
  trajets: [
    'id', 'departure_city', 'arrival_city', 'departure_time', 'price', 'seats_count', 'available_seats', 'status',
    'accepts_packages', 'max_package_weight', 'departure_point', 'arrival_point', 'transporteur_id', 'created_at', 'updated_at',
  ],
  reservations: [
    'id', 'reservation_date', 'passenger_first_name', 'passenger_last_name', 'phone_number', 'status', 'seats_reserved',
    'refundable_option', 'refund_supplement_amount', 'total_amount', 'trajet_id', 'compte_id', 'created_at', 'updated_at',
  ],
  paiements: ['id', 'amount', 'status', 'payment_date', 'reservation_id', 'created_at', 'updated_at'],
  envois: [
    'id', 'description', 'status', 'expediteur_id', 'recipient_name', 'recipient_phone', 'transporteur_id', 'compte_id', 'created_at', 'updated_at',
  ],
  colis: ['id', 'description', 'weight', 'dimensions', 'shipping_cost', 'status', 'envoi_id', 'created_at', 'updated_at'],
  revoked_tokens: ['id', 'token', 'user_id', 'revoked_at', 'expires_at', 'reason'],
};

export interface DemoSettings {
  refundRateBp: number;
  colisBaseCents: number;
  colisPerKgCents: number;
  lockoutThreshold: number;
}

export interface DemoInput {
  plan: DemoPlan;
  randomSeed: string;
  /** Every timestamp is at or before this instant (and derived from it, never from the clock). */
  reference: Date;
  settings: DemoSettings;
  passwordHash: string;
  roleIds: { admin: number; user: number; transporteur: number };
  /** Largest id already used per table (0 on an empty database): generated ids follow it. */
  offsets: Record<DemoTable, number>;
}

// Streams: one per kind of row, so that drawing more for one kind never shifts another.
const S = {
  admin: 1,
  carrier: 2,
  zone: 3,
  user: 4,
  userStatus: 5,
  userAccount: 6,
  trajet: 7,
  trajetCapacity: 8,
  envoi: 10,
  colisCount: 11,
  colis: 12,
  token: 13,
  carrierAccount: 14,
  adminAccount: 15,
  reservationUser: 16,
  passenger: 17,
  recipient: 18,
  utilisateur: 19,
} as const;

const MIN = 60;
const HOUR = 3600;
const DAY = 86400;
const YEAR = 365 * DAY;
const MAX_SEATS = 50;
/** Yield to the loader after this many rows (it flushes the sink then). */
const YIELD_EVERY = 1000;

type LiveReservation = { status: ReservationStatus; pay: PaiementStatus };

/** A person as indexes into the name pools (strings are looked up when written). */
interface Person {
  female: boolean;
  first: number;
  last: number;
  phone: string;
}

interface Carrier {
  index: number;
  type: CompanyType;
  status: CompteStatus;
  createdAt: number;
  home: number;
  company: string;
  phone: string;
  email: string;
  zones: Array<{ city: number; type: ZoneType; freq: ServiceFrequency | null; cap: number | null; createdAt: number; updatedAt: number }>;
  pickups: number[];
  drops: number[];
}

/** Scratch record of one trajet and its reservations, reused across trajets. */
interface TrajetScratch {
  carrier: Carrier;
  dep: number;
  arr: number;
  departure: number;
  createdAt: number;
  updatedAt: number;
  priceCents: number;
  seats: number;
  available: number;
  status: TrajetStatus;
  acceptsPackages: boolean;
  maxPackageWeight: number | null;
  depPoint: string | null;
  arrPoint: string | null;
  n: number;
  r: ResScratch[];
}

interface ResScratch {
  date: number;
  seats: number;
  refundable: boolean;
  status: ReservationStatus;
  pay: PaiementStatus;
  payDate: number;
  updatedAt: number;
  payUpdatedAt: number;
  user: number; // -1 = guest
  supplement: number;
  total: number;
}

interface EnvoiScratch {
  createdAt: number;
  updatedAt: number;
  status: EnvoiStatus;
  /** Cancelled from accepted (colis packaged) rather than from pending. */
  cancelledAfterAccept: boolean;
  acceptedAt: number;
  transitAt: number;
  deliveredAt: number;
  user: number;
  carrier: Carrier;
  colis: number;
}

const HOUR_WEIGHTS = cumulative([0, 0, 0, 0, 0, 1, 4, 8, 9, 6, 4, 3, 4, 4, 5, 5, 6, 9, 9, 6, 4, 2, 1, 0]);
const SEATS_RESERVED = cumulative([68, 22, 7, 3]);
const COLIS_PER_ENVOI = cumulative([35, 25, 20, 12, 8]);
const PHONE_REGION: Record<string, string> = {
  'Île-de-France': '1',
  Normandie: '2',
  Bretagne: '2',
  'Pays de la Loire': '2',
  'Centre-Val de Loire': '2',
  'Hauts-de-France': '3',
  'Grand Est': '3',
  'Bourgogne-Franche-Comté': '3',
  'Auvergne-Rhône-Alpes': '4',
  "Provence-Alpes-Côte d'Azur": '4',
  Occitanie: '5',
  'Nouvelle-Aquitaine': '5',
};
const JWT_HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export class DemoGenerator {
  readonly plan: DemoPlan;
  private readonly ref: number;
  private readonly settings: DemoSettings;
  private readonly passwordHash: string;
  private readonly roleIds: DemoInput['roleIds'];
  private readonly off: Record<DemoTable, number>;
  private readonly pools: NamePools;
  private readonly dist: Float64Array;
  private readonly cityWeights: number[];
  private readonly carriers: Carrier[];
  private readonly trajetCarriers: Carrier[];
  private readonly envoiCarriers: Carrier[];
  private readonly zoneCount: number;
  private readonly colisTotal: number;
  /** Sum of the trajets' booking weights (reservations are spread in proportion). */
  private readonly weightTotal: number;

  // Independent generators so that nested look-ups never disturb the row being generated.
  // They and the scratch records below are per instance: see fork().
  private readonly words: [number, number, number, number];
  private r: Rng;
  private rl: Rng;
  private rp: Rng;
  private rc: Rng;

  // Timeline (Unix seconds).
  private readonly start: number;
  private readonly userSpan: number;
  private readonly trajetStart: number;
  private readonly trajetSpan: number;
  private readonly envoiStart: number;
  private readonly envoiSpan: number;

  private scratch: TrajetScratch;
  private envoi: EnvoiScratch;
  private person: Person = { female: false, first: 0, last: 0, phone: '' };
  /** Meeting points per city, index for index with MEETING_POINTS. */
  private readonly points: string[][];
  private readonly envoiPatterns: Array<{ before: string; after: string; named: boolean }>;

  constructor(input: DemoInput) {
    this.plan = input.plan;
    this.ref = Math.floor(input.reference.getTime() / 1000);
    this.settings = input.settings;
    this.passwordHash = input.passwordHash;
    this.roleIds = input.roleIds;
    this.off = input.offsets;
    const words = seedWords(input.randomSeed);
    this.words = words;
    this.r = new Rng(words);
    this.rl = new Rng(words);
    this.rp = new Rng(words);
    this.rc = new Rng(words);
    this.pools = buildPools(words[0] & 0x7fffffff);
    this.dist = distanceTable();
    this.points = CITIES.map((c) => MEETING_POINTS.map((p) => p.replace('%s', c.name)));
    this.envoiPatterns = ENVOI_DESCRIPTIONS.map((p) => {
      const at = p.indexOf('%s');
      return at < 0 ? { before: p, after: '', named: false } : { before: p.slice(0, at), after: p.slice(at + 2), named: true };
    });
    this.cityWeights = cumulative(CITIES.map((c) => c.pop));

    this.start = this.ref - 3 * YEAR;
    this.userSpan = 3 * YEAR - DAY;
    this.trajetStart = this.ref - 395 * DAY;
    this.trajetSpan = 395 * DAY - 2 * HOUR;
    this.envoiStart = this.ref - YEAR;
    this.envoiSpan = YEAR - HOUR;

    this.carriers = [];
    for (let t = 0; t < this.plan.transporteurs; t++) this.carriers.push(this.makeCarrier(t));
    this.trajetCarriers = this.carriers.filter((c) => c.status === 'active' && (c.type === 'passagers' || c.type === 'mixte'));
    this.envoiCarriers = this.carriers.filter((c) => c.status === 'active' && (c.type === 'colis' || c.type === 'mixte'));
    this.zoneCount = this.carriers.reduce((n, c) => n + c.zones.length, 0);

    let w = 0;
    for (let i = 0; i < this.plan.trajets; i++) w += this.bookingWeight(i);
    this.weightTotal = w;
    let colis = 0;
    for (let i = 0; i < this.plan.envois; i++) colis += this.colisCount(i);
    this.colisTotal = colis;

    this.scratch = this.newTrajetScratch();
    this.envoi = this.newEnvoiScratch();
  }

  /**
   * A generator sharing this one's precomputed data (pools, carriers, weights) but with its own
   * random streams and scratch records, to produce another table concurrently.
   */
  fork(): DemoGenerator {
    const g = Object.create(this) as DemoGenerator;
    g.r = new Rng(this.words);
    g.rl = new Rng(this.words);
    g.rp = new Rng(this.words);
    g.rc = new Rng(this.words);
    g.person = { female: false, first: 0, last: 0, phone: '' };
    g.scratch = g.newTrajetScratch();
    g.envoi = g.newEnvoiScratch();
    return g;
  }

  private newTrajetScratch(): TrajetScratch {
    return {
      carrier: this.carriers[0]!,
      dep: 0,
      arr: 0,
      departure: 0,
      createdAt: 0,
      updatedAt: 0,
      priceCents: 0,
      seats: 0,
      available: 0,
      status: 'active',
      acceptsPackages: false,
      maxPackageWeight: null,
      depPoint: null,
      arrPoint: null,
      n: 0,
      r: [],
    };
  }

  private newEnvoiScratch(): EnvoiScratch {
    return {
      createdAt: 0,
      updatedAt: 0,
      status: 'pending',
      cancelledAfterAccept: false,
      acceptedAt: 0,
      transitAt: 0,
      deliveredAt: 0,
      user: 0,
      carrier: this.carriers[0]!,
      colis: 0,
    };
  }

  /** Exact number of rows per table. */
  counts(): Record<DemoTable, number> {
    const p = this.plan;
    return {
      comptes: p.admins + p.transporteurs + p.accounts,
      utilisateurs: p.accounts,
      transporteurs: p.transporteurs,
      administrateurs: p.admins,
      zones_desservies: this.zoneCount,
      trajets: p.trajets,
      reservations: p.reservations,
      paiements: p.reservations,
      envois: p.envois,
      colis: this.colisTotal,
      revoked_tokens: p.tokens,
    };
  }

  /** One bulk job per table, in load order; each on its own fork, so jobs may run concurrently. */
  jobs(): BulkJob[] {
    const counts = this.counts();
    return DEMO_TABLES.map((table) => ({
      table,
      columns: DEMO_COLUMNS[table],
      rows: counts[table],
      produce: (sink: RowSink) => this.fork().produce(table, sink),
    }));
  }

  produce(table: DemoTable, sink: RowSink): Generator<void> {
    switch (table) {
      case 'comptes':
        return this.comptes(sink);
      case 'utilisateurs':
        return this.utilisateurs(sink);
      case 'transporteurs':
        return this.transporteurs(sink);
      case 'administrateurs':
        return this.administrateurs(sink);
      case 'zones_desservies':
        return this.zones(sink);
      case 'trajets':
        return this.trajets(sink);
      case 'reservations':
        return this.reservations(sink);
      case 'paiements':
        return this.paiements(sink);
      case 'envois':
        return this.envois(sink);
      case 'colis':
        return this.colis(sink);
      case 'revoked_tokens':
        return this.tokens(sink);
    }
  }

  // ---- ids ----------------------------------------------------------------------------------

  private adminCompteId(a: number): number {
    return this.off.comptes + a + 1;
  }
  private carrierCompteId(t: number): number {
    return this.off.comptes + this.plan.admins + t + 1;
  }
  private userCompteId(k: number): number {
    return this.off.comptes + this.plan.admins + this.plan.transporteurs + k + 1;
  }
  private utilisateurId(k: number): number {
    return this.off.utilisateurs + k + 1;
  }
  private transporteurId(t: number): number {
    return this.off.transporteurs + t + 1;
  }

  // ---- people -------------------------------------------------------------------------------

  /** Random French person (name and mobile) from the given generator. */
  private randomPerson(r: Rng, out: Person): void {
    out.female = r.chance(0.5);
    out.first = Math.floor(r.float() * (out.female ? this.pools.firstF.length : this.pools.firstM.length));
    out.last = Math.floor(r.float() * this.pools.last.length);
    out.phone = mobile(r);
  }

  private firstName(p: Person): string {
    return (p.female ? this.pools.firstF : this.pools.firstM)[p.first]!;
  }

  private lastName(p: Person): string {
    return this.pools.last[p.last]!;
  }

  /** The identity of end user k (pure function of k). */
  private userIdentity(k: number): Person {
    this.randomPerson(this.rl.at(S.user, k), this.person);
    return this.person;
  }

  private userStatus(k: number): CompteStatus {
    if (k === 0) return 'active';
    const x = this.rl.at(S.userStatus, k).float();
    return x < 0.92 ? 'active' : x < 0.96 ? 'inactive' : x < 0.985 ? 'suspended' : 'deleted';
  }

  /** Sign-up time of user k: growth accelerates (more accounts recently), ids follow time. */
  private userCreatedAt(k: number): number {
    return this.start + Math.floor(this.userSpan * Math.pow((k + 0.5) / this.plan.accounts, 1 / 1.6));
  }

  /** How many users had signed up at time t. */
  private usersBefore(t: number): number {
    const U = this.plan.accounts;
    const x = (t - this.start) / this.userSpan;
    if (x <= 0) return this.userCreatedAt(0) <= t ? 1 : 0;
    let n = Math.max(0, Math.min(U, Math.floor(U * Math.pow(Math.min(1, x), 1.6) - 0.5) + 1));
    while (n < U && this.userCreatedAt(n) <= t) n++;
    while (n > 0 && this.userCreatedAt(n - 1) > t) n--;
    return n;
  }

  /** A random active user who existed at time t, or -1 if none. */
  private pickUser(r: Rng, t: number): number {
    const n = this.usersBefore(t);
    if (n === 0) return -1;
    let k = r.int(0, n - 1);
    while (k > 0 && this.userStatus(k) !== 'active') k--;
    return k;
  }

  // ---- carriers and zones (few: kept in memory) -----------------------------------------------

  private makeCarrier(t: number): Carrier {
    const r = this.rc.at(S.carrier, t);
    const T = this.plan.transporteurs;
    const x = r.float();
    const type: CompanyType = t === 0 ? 'mixte' : x < 0.35 ? 'passagers' : x < 0.6 ? 'colis' : 'mixte';
    const y = r.float();
    const status: CompteStatus = t === 0 ? 'active' : y < 0.93 ? 'active' : y < 0.96 ? 'inactive' : y < 0.99 ? 'suspended' : 'deleted';
    const createdAt = this.start + Math.floor((YEAR * (t + r.float())) / T);
    const home = r.weighted(this.cityWeights);
    const homeCity = CITIES[home]!;
    const surname = r.pick(this.pools.last);
    let company: string;
    const style = r.float();
    if (style < 0.35) company = r.pick(this.pools.companies);
    else if (style < 0.8) company = r.pick(COMPANY_PATTERNS).replace('%s', surname);
    else company = r.pick(COMPANY_PATTERNS).replace('%s', homeCity.name);
    if (style >= 0.35 && r.chance(0.5)) company += ' ' + r.pick(this.pools.legalForms);
    const phone = r.chance(0.75) ? `+33${PHONE_REGION[homeCity.region] ?? '1'}${digits8(r)}` : mobile(r);
    const email = `contact.${slug(company).slice(0, 40).replace(/-+$/, '')}.${t}@${DEMO_EMAIL_DOMAIN}`;

    // Zones: the home city, then mostly its neighbours, sometimes a big hub further away.
    const n = CITIES.length;
    const want = Math.min(n, r.int(3, 12));
    const byDistance = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.dist[home * n + a]! - this.dist[home * n + b]! || a - b);
    const chosen = [home];
    const taken = new Set(chosen);
    let cursor = 1;
    while (chosen.length < want) {
      let c: number;
      if (r.chance(0.2)) c = r.weighted(this.cityWeights);
      else {
        while (taken.has(byDistance[cursor]!)) cursor++;
        c = byDistance[Math.min(n - 1, cursor + (r.chance(0.3) ? 1 : 0))]!;
        if (taken.has(c)) c = byDistance[cursor]!;
      }
      if (taken.has(c)) continue;
      taken.add(c);
      chosen.push(c);
    }
    const zones: Carrier['zones'] = chosen.map((city, i) => {
      const zr = this.rl.at(S.zone, t * 16 + i);
      const zt: ZoneType = i < 2 ? 'both' : zr.chance(0.7) ? 'both' : zr.chance(0.5) ? 'pickup_only' : 'delivery_only';
      const f = zr.float();
      const freq: ServiceFrequency | null = f < 0.35 ? 'daily' : f < 0.7 ? 'weekly' : f < 0.8 ? 'monthly' : f < 0.92 ? 'on_demand' : null;
      const cap = type === 'passagers' ? (zr.chance(0.6) ? null : 5000) : zr.int(2, 60) * 5000;
      const zc = createdAt + zr.int(HOUR, 60 * DAY);
      const zu = zr.chance(0.3) ? zc + Math.floor((this.ref - zc) * zr.float()) : zc;
      return { city, type: zt, freq, cap, createdAt: zc, updatedAt: zu };
    });
    return {
      index: t,
      type,
      status,
      createdAt,
      home,
      company,
      phone,
      email,
      zones,
      pickups: zones.filter((z) => z.type !== 'delivery_only').map((z) => z.city),
      drops: zones.filter((z) => z.type !== 'pickup_only').map((z) => z.city),
    };
  }

  // ---- comptes and profiles -------------------------------------------------------------------

  private *comptes(sink: RowSink): Generator<void> {
    const p = this.plan;
    for (let a = 0; a < p.admins; a++) {
      const r = this.r.at(S.adminAccount, a);
      const who = this.adminIdentity(a);
      const email = a === 0 ? `admin@${DEMO_EMAIL_DOMAIN}` : `${slug(who.first)}.${slug(who.last)}.admin${a}@${DEMO_EMAIL_DOMAIN}`;
      this.writeCompte(sink, r, this.adminCompteId(a), email, 'active', this.adminCreatedAt(a), this.roleIds.admin, a === 0);
      if (sink.pending >= YIELD_EVERY) yield;
    }
    for (const c of this.carriers) {
      const r = this.r.at(S.carrierAccount, c.index);
      this.writeCompte(sink, r, this.carrierCompteId(c.index), c.email, c.status, c.createdAt, this.roleIds.transporteur, c.index === 0);
      if (sink.pending >= YIELD_EVERY) yield;
    }
    for (let k = 0; k < p.accounts; k++) {
      const who = this.userIdentity(k);
      const f = (who.female ? this.pools.firstFSlug : this.pools.firstMSlug)[who.first]!;
      const l = this.pools.lastSlug[who.last]!;
      const r = this.r.at(S.userAccount, k);
      // The trailing number is the user's index: emails are unique by construction.
      const style = r.int(0, 4);
      const local = style === 0 ? `${f}.${l}${k}` : style === 1 ? `${f.charAt(0)}${l}${k}` : style === 2 ? `${l}.${f}${k}` : style === 3 ? `${f}${l}${k}` : `${f}_${l}${k}`;
      this.writeCompte(sink, r, this.userCompteId(k), `${local}@${DEMO_EMAIL_DOMAIN}`, this.userStatus(k), this.userCreatedAt(k), this.roleIds.user, k === 0);
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  private adminIdentity(a: number): { first: string; last: string } {
    const r = this.rl.at(S.admin, a);
    const female = r.chance(0.5);
    return { first: r.pick(female ? this.pools.firstF : this.pools.firstM), last: r.pick(this.pools.last) };
  }

  private adminCreatedAt(a: number): number {
    return this.start + Math.min(a * 20 * DAY, 2 * YEAR);
  }

  /** Login history consistent with the lockout rule: locked ⇔ failed_logins ≥ threshold. */
  private writeCompte(sink: RowSink, r: Rng, id: number, email: string, status: CompteStatus, createdAt: number, roleId: number, pristine: boolean): void {
    const ref = this.ref;
    const threshold = this.settings.lockoutThreshold;
    const age = ref - createdAt;
    const neverLogged = !pristine && r.chance(status === 'inactive' ? 0.4 : 0.05);
    let lastLogin: number | null = null;
    let successes = 0;
    if (!neverLogged) {
      const u = r.float();
      lastLogin = status === 'active' ? ref - Math.floor(age * u * u) : ref - Math.floor(age * (0.3 + 0.7 * u));
      lastLogin = Math.max(createdAt, Math.min(ref, lastLogin));
      successes = 1 + Math.floor(Math.min(500, age / (7 * DAY)) * r.float());
    }
    const after = lastLogin ?? createdAt;
    let failed = 0;
    let locked = false;
    let lastFailed: number | null = null;
    let oldFailures = 0;
    if (!pristine && status === 'active' && r.chance(0.015)) {
      locked = true;
      failed = threshold + r.int(0, 3);
      lastFailed = after + Math.floor((ref - after) * r.float());
    } else if (!pristine && threshold > 1 && r.chance(0.12)) {
      failed = r.int(1, threshold - 1);
      lastFailed = after + Math.floor((ref - after) * r.float());
    } else if (!pristine && lastLogin !== null && r.chance(0.2)) {
      oldFailures = r.int(1, 3);
      lastFailed = createdAt + Math.floor((lastLogin - createdAt) * r.float());
    }
    const passwordChanged = r.chance(0.2) ? createdAt + Math.floor(age * r.float()) : createdAt;
    const emailVerified = pristine || r.chance(status === 'active' ? 0.92 : status === 'inactive' ? 0.35 : 0.8);
    const phoneVerified = pristine || r.chance(0.65);
    const updatedAt = Math.max(createdAt, lastLogin ?? 0, lastFailed ?? 0, passwordChanged);
    sink.int(id);
    sink.str(email);
    sink.str(this.passwordHash);
    sink.str(status);
    sink.bool(emailVerified);
    sink.bool(phoneVerified);
    sink.timeOrNull(lastLogin);
    sink.int(successes + failed + oldFailures);
    sink.int(failed);
    sink.timeOrNull(lastFailed);
    sink.bool(locked);
    sink.time(passwordChanged);
    sink.int(roleId);
    sink.time(createdAt);
    sink.time(updatedAt);
    sink.end();
  }

  private *utilisateurs(sink: RowSink): Generator<void> {
    for (let k = 0; k < this.plan.accounts; k++) {
      const who = this.userIdentity(k);
      const createdAt = this.userCreatedAt(k);
      const r = this.r.at(S.utilisateur, k);
      sink.int(this.utilisateurId(k));
      sink.str(this.lastName(who));
      sink.str(this.firstName(who));
      sink.str(who.phone);
      sink.int(this.userCompteId(k));
      sink.time(createdAt);
      sink.time(r.chance(0.25) ? createdAt + Math.floor((this.ref - createdAt) * r.float()) : createdAt);
      sink.end();
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  private *transporteurs(sink: RowSink): Generator<void> {
    for (const c of this.carriers) {
      sink.int(this.transporteurId(c.index));
      sink.str(c.phone);
      sink.str(c.company);
      sink.str(c.type);
      sink.int(this.carrierCompteId(c.index));
      sink.time(c.createdAt);
      sink.time(c.zones.reduce((m, z) => Math.max(m, z.createdAt), c.createdAt));
      sink.end();
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  private *administrateurs(sink: RowSink): Generator<void> {
    for (let a = 0; a < this.plan.admins; a++) {
      const who = this.adminIdentity(a);
      sink.int(this.off.administrateurs + a + 1);
      sink.str(who.last);
      sink.str(who.first);
      sink.int(this.adminCompteId(a));
      sink.time(this.adminCreatedAt(a));
      sink.time(this.adminCreatedAt(a));
      sink.end();
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  private *zones(sink: RowSink): Generator<void> {
    let id = this.off.zones_desservies;
    for (const c of this.carriers) {
      for (const z of c.zones) {
        const city = CITIES[z.city]!;
        sink.int(++id);
        sink.str(city.name);
        sink.str(city.region);
        sink.str(z.type);
        sink.strOrNull(z.freq);
        sink.hundredthsOrNull(z.cap);
        sink.int(this.transporteurId(c.index));
        sink.time(z.createdAt);
        sink.time(z.updatedAt);
        sink.end();
      }
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  // ---- trajets, reservations, paiements -------------------------------------------------------

  /** Capacity-and-popularity weight of trajet i: how many of the reservations it attracts. */
  private bookingWeight(i: number): number {
    const r = this.rl.at(S.trajetCapacity, i);
    return this.capacity(r) * r.int(1, 3);
  }

  private capacity(r: Rng): number {
    const x = r.float();
    return x < 0.45 ? r.int(3, 4) : x < 0.75 ? r.int(5, 8) : x < 0.9 ? r.int(9, 20) : r.int(21, MAX_SEATS);
  }

  /**
   * Walks the trajets in id order, computing each one with its reservations, and calls `emit`.
   * Reservations are spread over trajets in proportion to their booking weights, with the exact
   * total of the plan.
   */
  private *walkTrajets(emit: (t: TrajetScratch, trajetId: number, firstReservation: number) => void, sink: RowSink): Generator<void> {
    const T = this.plan.trajets;
    const R = this.plan.reservations;
    const W = this.weightTotal;
    let acc = 0;
    let assigned = 0;
    let resIndex = 0;
    for (let i = 0; i < T; i++) {
      acc += this.bookingWeight(i);
      const upto = i === T - 1 ? R : Math.min(R, Math.floor((R * acc) / W));
      const k = upto - assigned;
      assigned = upto;
      this.computeTrajet(i, k);
      emit(this.scratch, this.off.trajets + i + 1, resIndex);
      resIndex += k;
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  private computeTrajet(i: number, k: number): void {
    const t = this.scratch;
    const ref = this.ref;
    const cap = this.capacity(this.rl.at(S.trajetCapacity, i));
    const r = this.r.at(S.trajet, i);
    const carrier = r.pick(this.trajetCarriers);
    t.carrier = carrier;
    t.dep = r.pick(carrier.pickups);
    t.arr = r.pick(carrier.drops);
    for (let tries = 0; t.arr === t.dep && tries < 8; tries++) t.arr = r.pick(carrier.drops);
    if (t.arr === t.dep) t.arr = carrier.zones[t.dep === carrier.zones[0]!.city ? 1 : 0]!.city;
    const km = this.dist[t.dep * CITIES.length + t.arr]!;

    // Published at a time that grows denser towards the reference, departing hours to weeks later.
    // (sqrt: publications grow linearly over the year, so recent weeks are the busiest.)
    const slot = (i + r.float()) / this.plan.trajets;
    t.createdAt = this.trajetStart + Math.floor(this.trajetSpan * Math.sqrt(slot));
    const lead = r.chance(0.2) ? r.int(4 * HOUR, 2 * DAY) : r.chance(0.5) ? r.int(2 * DAY, 14 * DAY) : r.int(14 * DAY, 90 * DAY);
    const day = Math.floor((t.createdAt + lead) / DAY) * DAY;
    const minute = r.chance(0.4) ? 0 : r.chance(0.75) ? 15 * r.int(1, 3) : 5 * r.int(1, 11);
    t.departure = day + r.weighted(HOUR_WEIGHTS) * HOUR + minute * MIN;
    if (t.departure < t.createdAt + HOUR) t.departure += DAY;
    const duration = Math.floor((km / 85) * HOUR) + 10 * MIN;
    const arrival = t.departure + duration;

    // Price: a per-km rate by kind of carrier, to the half euro.
    const rate = carrier.type === 'passagers' ? 4.5 + 1.5 * r.float() : 6 + 2.5 * r.float();
    t.priceCents = Math.max(400, Math.round((150 + km * rate) / 50) * 50);
    t.acceptsPackages = carrier.type === 'passagers' ? r.chance(0.2) : r.chance(0.85);
    t.maxPackageWeight = t.acceptsPackages ? r.int(10, 120) * 50 : null;
    t.depPoint = r.chance(0.85) ? r.pick(this.points[t.dep]!) : null;
    t.arrPoint = r.chance(0.8) ? r.pick(this.points[t.arr]!) : null;

    const past = arrival < ref;
    const x = r.float();
    t.status = past ? (x < 0.9 ? 'completed' : 'cancelled') : x < 0.84 ? 'active' : x < 0.91 ? 'suspended' : 'cancelled';
    // When the trajet changed state last (≤ reference).
    let closedAt: number;
    if (t.status === 'completed') closedAt = Math.min(ref, arrival + r.int(30 * MIN, DAY));
    else if (t.status === 'cancelled') closedAt = t.createdAt + Math.floor((Math.min(t.departure, ref) - t.createdAt) * (0.3 + 0.7 * r.float()));
    else if (t.status === 'suspended') closedAt = t.createdAt + Math.floor((ref - t.createdAt) * r.float());
    else closedAt = t.createdAt;

    // Reservations: made after publication, before departure (and before a cancellation).
    const lo = t.createdAt + 5 * MIN;
    const hiBase = Math.min(t.departure - 10 * MIN, ref - MIN, t.status === 'cancelled' ? closedAt - MIN : Infinity);
    const hi = Math.max(lo, hiBase);
    let live = 0;
    let occupied = 0;
    let lastActivity = closedAt;
    t.n = k;
    while (t.r.length < k) t.r.push({ date: 0, seats: 0, refundable: false, status: 'pending', pay: 'pending', payDate: 0, updatedAt: 0, payUpdatedAt: 0, user: -1, supplement: 0, total: 0 });
    for (let j = 0; j < k; j++) {
      const res = t.r[j]!;
      const u = r.float();
      res.date = Math.min(ref, hi - Math.floor((hi - lo) * u * u));
      res.seats = r.weighted(SEATS_RESERVED) + 1;
      res.refundable = r.chance(0.3);
      const pair = this.reservationPair(r, t.status, res.refundable);
      res.status = pair.status;
      res.pay = pair.pay;
      // Seats: never more than 50 in use; a booking that would not fit gave up before paying.
      const uses = res.status === 'pending' || res.status === 'confirmed' || res.status === 'completed' || (t.status === 'cancelled' && res.status === 'refunded');
      if (uses && occupied + res.seats > MAX_SEATS) {
        res.seats = 1;
        if (occupied + 1 > MAX_SEATS) {
          res.status = 'cancelled';
          res.pay = 'failed';
        }
      }
      if (res.status === 'pending' || res.status === 'confirmed' || res.status === 'completed' || (t.status === 'cancelled' && res.status === 'refunded')) occupied += res.seats;
      if (res.status === 'pending' || res.status === 'confirmed') live += res.seats;

      res.user = r.chance(0.85) ? this.pickUser(this.rp.at(S.reservationUser, r.next()), res.date - MIN) : -1;
      res.supplement = refundSupplementCents(t.priceCents, res.seats, res.refundable, this.settings.refundRateBp);
      res.total = reservationTotalCents(t.priceCents, res.seats, res.supplement);

      // Payment a few minutes after booking; later changes at the trajet's closing or on their own.
      res.payDate = res.pay === 'pending' ? res.date : Math.min(ref, res.date + r.int(30, 15 * MIN));
      const ownChange = res.payDate + Math.floor((Math.min(ref, Math.max(res.payDate, t.departure)) - res.payDate) * r.float());
      switch (res.status) {
        case 'pending':
          res.updatedAt = res.date;
          res.payUpdatedAt = res.date;
          break;
        case 'confirmed':
          res.updatedAt = res.payDate;
          res.payUpdatedAt = res.payDate;
          break;
        case 'completed':
          res.updatedAt = Math.max(res.payDate, closedAt);
          res.payUpdatedAt = res.payDate;
          break;
        default: {
          // cancelled or refunded: by the trajet's cancellation, or earlier by the passenger.
          const at = t.status === 'cancelled' && (res.status === 'refunded' || res.pay === 'failed') ? Math.max(res.payDate, closedAt) : Math.min(ref, Math.max(res.payDate, ownChange));
          res.updatedAt = at;
          res.payUpdatedAt = res.pay === 'completed' ? res.payDate : at;
        }
      }
      if (res.updatedAt > lastActivity) lastActivity = res.updatedAt;
    }
    t.seats = Math.min(MAX_SEATS, Math.max(cap, occupied));
    t.available = t.seats - live;
    t.updatedAt = Math.min(ref, Math.max(t.createdAt, lastActivity));
  }

  /** A reservation/paiement status pair allowed by rules.md for a trajet in this state. */
  private reservationPair(r: Rng, trajet: TrajetStatus, refundable: boolean): LiveReservation {
    const x = r.float();
    if (trajet === 'active' || trajet === 'suspended') {
      if (x < 0.15) return { status: 'pending', pay: 'pending' };
      if (x < 0.84) return { status: 'confirmed', pay: 'completed' };
      if (x < 0.91) return { status: 'cancelled', pay: 'failed' };
      return refundable ? { status: 'refunded', pay: 'refunded' } : { status: 'cancelled', pay: 'completed' };
    }
    if (trajet === 'completed') {
      if (x < 0.88) return { status: 'completed', pay: 'completed' };
      if (x < 0.94) return { status: 'cancelled', pay: 'failed' };
      return refundable ? { status: 'refunded', pay: 'refunded' } : { status: 'cancelled', pay: 'completed' };
    }
    // Cancelled trajet: paid bookings were refunded, unpaid ones cancelled, a few had left before.
    if (x < 0.72) return { status: 'refunded', pay: 'refunded' };
    if (x < 0.94) return { status: 'cancelled', pay: 'failed' };
    return refundable ? { status: 'refunded', pay: 'refunded' } : { status: 'cancelled', pay: 'completed' };
  }

  private *trajets(sink: RowSink): Generator<void> {
    yield* this.walkTrajets((t, id) => {
      sink.int(id);
      sink.str(CITIES[t.dep]!.name);
      sink.str(CITIES[t.arr]!.name);
      sink.time(t.departure);
      sink.hundredths(t.priceCents);
      sink.int(t.seats);
      sink.int(t.available);
      sink.str(t.status);
      sink.bool(t.acceptsPackages);
      sink.hundredthsOrNull(t.maxPackageWeight);
      sink.strOrNull(t.depPoint);
      sink.strOrNull(t.arrPoint);
      sink.int(this.transporteurId(t.carrier.index));
      sink.time(t.createdAt);
      sink.time(t.updatedAt);
      sink.end();
    }, sink);
  }

  private *reservations(sink: RowSink): Generator<void> {
    const other: Person = { female: false, first: 0, last: 0, phone: '' };
    yield* this.walkTrajets((t, trajetId, first) => {
      for (let j = 0; j < t.n; j++) {
        const res = t.r[j]!;
        const index = first + j;
        // The account holder travels (4 in 5), or books for someone else; guests are anyone.
        const pr = this.rp.at(S.passenger, index);
        let who = other;
        if (res.user >= 0 && pr.chance(0.8)) who = this.userIdentity(res.user);
        else this.randomPerson(pr, other);
        sink.int(this.off.reservations + index + 1);
        sink.time(res.date);
        sink.str(this.firstName(who));
        sink.str(this.lastName(who));
        sink.str(who.phone);
        sink.str(res.status);
        sink.int(res.seats);
        sink.bool(res.refundable);
        sink.hundredths(res.supplement);
        sink.hundredths(res.total);
        sink.int(trajetId);
        if (res.user >= 0) sink.int(this.userCompteId(res.user));
        else sink.strOrNull(null);
        sink.time(res.date);
        sink.time(res.updatedAt);
        sink.end();
      }
    }, sink);
  }

  private *paiements(sink: RowSink): Generator<void> {
    yield* this.walkTrajets((t, _trajetId, first) => {
      for (let j = 0; j < t.n; j++) {
        const res = t.r[j]!;
        const id = first + j + 1;
        sink.int(this.off.paiements + id);
        sink.hundredths(res.total);
        sink.str(res.pay);
        sink.time(res.payDate);
        sink.int(this.off.reservations + id);
        sink.time(res.date);
        sink.time(res.payUpdatedAt);
        sink.end();
      }
    }, sink);
  }

  // ---- envois and colis -----------------------------------------------------------------------

  private colisCount(i: number): number {
    return this.rl.at(S.colisCount, i).weighted(COLIS_PER_ENVOI) + 1;
  }

  private computeEnvoi(i: number): EnvoiScratch {
    const e = this.envoi;
    const ref = this.ref;
    const r = this.r.at(S.envoi, i);
    const slot = (i + r.float()) / this.plan.envois;
    e.createdAt = this.envoiStart + Math.floor(this.envoiSpan * Math.pow(slot, 1 / 1.3));
    e.user = this.pickUser(r, e.createdAt);
    if (e.user < 0) e.user = 0; // user 0 signed up at the platform's start: always there
    e.carrier = r.pick(this.envoiCarriers);
    e.acceptedAt = e.createdAt + r.int(10 * MIN, DAY);
    e.transitAt = e.acceptedAt + r.int(2 * HOUR, 2 * DAY);
    e.deliveredAt = e.transitAt + r.int(4 * HOUR, 4 * DAY);
    e.cancelledAfterAccept = false;
    const cancel = r.chance(0.11);
    const fromAccepted = r.chance(0.4);
    const cancelAt = fromAccepted ? e.acceptedAt + r.int(HOUR, 2 * DAY) : e.createdAt + r.int(5 * MIN, 2 * DAY);
    if (cancel && cancelAt <= ref && (!fromAccepted || e.acceptedAt <= ref)) {
      e.status = 'cancelled';
      e.cancelledAfterAccept = fromAccepted;
      e.updatedAt = fromAccepted ? Math.min(cancelAt, e.transitAt - MIN) : Math.min(cancelAt, e.acceptedAt - MIN);
      if (e.updatedAt < e.createdAt) e.updatedAt = e.createdAt;
    } else if (e.deliveredAt <= ref) {
      e.status = 'delivered';
      e.updatedAt = e.deliveredAt;
    } else if (e.transitAt <= ref) {
      e.status = 'in_transit';
      e.updatedAt = e.transitAt;
    } else if (e.acceptedAt <= ref) {
      e.status = 'accepted';
      e.updatedAt = e.acceptedAt;
    } else {
      e.status = 'pending';
      e.updatedAt = e.createdAt;
    }
    e.colis = this.colisCount(i);
    return e;
  }

  private *envois(sink: RowSink): Generator<void> {
    const other: Person = { female: false, first: 0, last: 0, phone: '' };
    for (let i = 0; i < this.plan.envois; i++) {
      const e = this.computeEnvoi(i);
      const pr = this.rp.at(S.recipient, i);
      this.randomPerson(pr, other);
      const pattern = pr.pick(this.envoiPatterns);
      const first = this.firstName(other);
      sink.int(this.off.envois + i + 1);
      sink.str(pattern.named ? pattern.before + first + pattern.after : pattern.before);
      sink.str(e.status);
      sink.int(this.utilisateurId(e.user));
      sink.str(first + ' ' + this.lastName(other));
      sink.str(other.phone);
      sink.int(this.transporteurId(e.carrier.index));
      sink.int(this.userCompteId(e.user));
      sink.time(e.createdAt);
      sink.time(e.updatedAt);
      sink.end();
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  private *colis(sink: RowSink): Generator<void> {
    const { colisBaseCents, colisPerKgCents } = this.settings;
    let id = 0;
    for (let i = 0; i < this.plan.envois; i++) {
      const e = this.computeEnvoi(i);
      for (let j = 0; j < e.colis; j++) {
        const r = this.r.at(S.colis, id);
        const kind = r.pick(COLIS_KINDS);
        const weight = r.int(kind.minWeight, kind.maxWeight);
        const dims = r.chance(0.92) ? `${jitter(r, kind.dims[0])}x${jitter(r, kind.dims[1])}x${jitter(r, kind.dims[2])}` : null;
        // Colis follow their envoi (rules.md); a few get lost on the way.
        let status: ColisStatus;
        let updatedAt = e.updatedAt;
        switch (e.status) {
          case 'pending':
            status = 'pending';
            break;
          case 'accepted':
            status = r.chance(0.01) ? 'lost' : 'packaged';
            break;
          case 'in_transit':
            status = r.chance(0.02) ? 'lost' : 'shipped';
            break;
          case 'delivered':
            status = r.chance(0.015) ? 'lost' : 'delivered';
            if (status === 'lost') updatedAt = e.transitAt + Math.floor((e.deliveredAt - e.transitAt) * r.float());
            break;
          case 'cancelled':
            status = e.cancelledAfterAccept ? (r.chance(0.01) ? 'lost' : 'packaged') : 'pending';
            break;
        }
        sink.int(this.off.colis + id + 1);
        sink.str(kind.description);
        sink.hundredths(weight);
        sink.strOrNull(dims);
        sink.hundredths(colisShippingCents(weight, colisBaseCents, colisPerKgCents));
        sink.str(status);
        sink.int(this.off.envois + i + 1);
        sink.time(e.createdAt);
        sink.time(Math.max(e.createdAt, updatedAt));
        sink.end();
        id++;
      }
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }

  // ---- revoked tokens -------------------------------------------------------------------------

  private *tokens(sink: RowSink): Generator<void> {
    const p = this.plan;
    const ref = this.ref;
    for (let i = 0; i < p.tokens; i++) {
      const r = this.r.at(S.token, i);
      const x = r.float();
      let compteId: number;
      let role: string;
      let createdAt: number;
      if (x < 0.03 || p.accounts === 0) {
        const a = r.int(0, p.admins - 1);
        compteId = this.adminCompteId(a);
        role = 'admin';
        createdAt = this.adminCreatedAt(a);
      } else if (x < 0.15 && p.transporteurs > 0) {
        const c = r.pick(this.carriers);
        compteId = this.carrierCompteId(c.index);
        role = 'transporteur';
        createdAt = c.createdAt;
      } else {
        const k = r.int(0, p.accounts - 1);
        compteId = this.userCompteId(k);
        role = 'user';
        createdAt = this.userCreatedAt(k);
      }
      // Access tokens live an hour, refresh tokens a week or a month. About a third were issued
      // recently enough to be still valid when revoked (logout); the rest have expired since.
      const l = r.float();
      const lifetime = l < 0.5 ? HOUR : l < 0.8 ? 7 * DAY : 30 * DAY;
      const from = r.chance(0.35) ? Math.max(createdAt, ref - lifetime + MIN) : createdAt;
      const iat = from + Math.floor((ref - MIN - from) * r.float());
      const exp = iat + lifetime;
      const revokedAt = iat + Math.floor((Math.min(exp, ref) - iat) * r.float());
      const payload = `{"sub":${compteId},"role":"${role}","iat":${iat},"exp":${exp},"jti":"${(this.off.revoked_tokens + i + 1).toString(36)}-${r.hex(6)}"}`;
      let sig = '';
      for (let c = 0; c < 43; c++) sig += B64URL[r.next() & 63];
      const token = `${JWT_HEADER}.${Buffer.from(payload).toString('base64url')}.${sig}`;
      sink.int(this.off.revoked_tokens + i + 1);
      sink.str(token);
      sink.int(compteId);
      sink.time(Math.max(iat, Math.min(revokedAt, ref)));
      sink.time(exp);
      sink.str(r.pick(TOKEN_REASONS));
      sink.end();
      if (sink.pending >= YIELD_EVERY) yield;
    }
  }
}

/** A dimension ±20 %, in whole centimetres. */
function jitter(r: Rng, d: number): number {
  return Math.max(1, Math.round(d * (0.8 + 0.4 * r.float())));
}

function digits8(r: Rng): string {
  return String(r.int(0, 99_999_999)).padStart(8, '0');
}

/** A French mobile number in E.164. */
function mobile(r: Rng): string {
  return (r.chance(0.8) ? '+336' : '+337') + digits8(r);
}
