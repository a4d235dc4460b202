/**
 * What the platform app does all day, through its Sequelize models (test/platform/models.ts):
 * register accounts (compte + profile in one transaction, bcrypt), offer trajets, book and pay
 * (guests included), ship envois of colis, count failed logins until the lock, log out (a revoked
 * token) and check revocation on every request. Its pricing is its own: the test decides whether it
 * matches billettigue's settings.
 */
import { createHmac } from 'node:crypto';
import bcrypt from 'bcrypt';
import { Op, type Model } from 'sequelize';
import type { Platform } from './models.js';

export interface AppPricing {
  /** Refundable supplement, % of price × seats. */
  refundRatePct: number;
  colisBaseCents: number;
  colisPerKgCents: number;
}

/** billettigue's defaults (BILLETTIGUE_REFUND_RATE, BILLETTIGUE_COLIS_BASE, BILLETTIGUE_COLIS_PER_KG). */
export const SAME_PRICING: AppPricing = { refundRatePct: 10, colisBaseCents: 500, colisPerKgCents: 150 };

const SECRET = 'platform-secret';
const LOCK_AFTER = 5;

type Row = Model & Record<string, unknown>;

function cents(v: unknown): number {
  const [i, f = ''] = String(v).split('.');
  return Number(i) * 100 + Number(f.padEnd(2, '0').slice(0, 2));
}

function money(c: number): string {
  return `${Math.trunc(c / 100)}.${String(c % 100).padStart(2, '0')}`;
}

/** HS256 JWT the way the app signs them: the account in `id` (not `sub`). */
export function signJwt(payload: Record<string, unknown>): string {
  const b = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const body = `${b({ alg: 'HS256', typ: 'JWT' })}.${b(payload)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

export class PlatformApp {
  constructor(
    readonly m: Platform,
    readonly pricing: AppPricing = SAME_PRICING,
  ) {}

  private async roleId(name: string): Promise<number> {
    const [role] = await this.m.Role.findOrCreate({ where: { name }, defaults: { name, description: null } });
    return role.get('id') as number;
  }

  /** Registration: the compte and its profile in one transaction; the password hashed with bcrypt. */
  async register(kind: 'user' | 'transporteur' | 'admin', email: string, password: string, profile: Record<string, unknown>): Promise<{ compteId: number; profileId: number }> {
    const roleId = await this.roleId(kind);
    const password_hash = await bcrypt.hash(password, 4);
    return this.m.sequelize.transaction(async (transaction) => {
      const compte = await this.m.Compte.create({ email, password_hash, role_id: roleId, password_changed_at: new Date() }, { transaction });
      const Profile = kind === 'user' ? this.m.Utilisateur : kind === 'transporteur' ? this.m.Transporteur : this.m.Administrateur;
      const p = await Profile.create({ ...profile, compte_id: compte.get('id') }, { transaction });
      return { compteId: compte.get('id') as number, profileId: p.get('id') as number };
    });
  }

  /** Login: bcrypt compare; failures counted, the account locked at the threshold. Returns a JWT or null. */
  async login(email: string, password: string): Promise<string | null> {
    const c = (await this.m.Compte.findOne({ where: { email } })) as Row | null;
    if (!c) return null;
    if (c.get('account_locked')) return null;
    if (!(await bcrypt.compare(password, c.get('password_hash') as string))) {
      const failed = (c.get('failed_logins') as number) + 1;
      await c.update({
        failed_logins: failed,
        login_attempts: (c.get('login_attempts') as number) + 1,
        last_failed_login: new Date(),
        account_locked: failed >= LOCK_AFTER,
      });
      return null;
    }
    await c.update({ failed_logins: 0, last_login: new Date() });
    const now = Math.floor(Date.now() / 1000);
    return signJwt({ id: c.get('id'), email, iat: now, exp: now + 3600 });
  }

  /** Logout: the token is revoked (RevokedToken.create with the seed's columns only). */
  async logout(token: string): Promise<void> {
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { id: number; exp: number };
    await this.m.RevokedToken.create({ token, user_id: payload.id, expires_at: new Date(payload.exp * 1000), reason: 'logout' });
  }

  /** Every request: is this token revoked? */
  async isRevoked(token: string): Promise<boolean> {
    return (await this.m.RevokedToken.findOne({ where: { token } })) !== null;
  }

  async createTrajet(transporteurId: number, from: string, to: string, departure: Date, price: string, seats: number): Promise<number> {
    const t = await this.m.Trajet.create({
      departure_city: from,
      arrival_city: to,
      departure_time: departure,
      price,
      seats_count: seats,
      available_seats: seats,
      transporteur_id: transporteurId,
    });
    return t.get('id') as number;
  }

  /** Booking: seats taken on the trajet, the reservation and its pending paiement, one transaction. */
  async book(trajetId: number, passenger: { first: string; last: string; phone: string }, seats: number, refundable: boolean, compteId: number | null): Promise<{ reservationId: number; paiementId: number }> {
    return this.m.sequelize.transaction(async (transaction) => {
      const trajet = (await this.m.Trajet.findByPk(trajetId, { transaction, lock: transaction.LOCK.UPDATE })) as Row;
      const free = trajet.get('available_seats') as number;
      if (free < seats) throw new Error('not enough seats');
      await trajet.update({ available_seats: free - seats }, { transaction });
      const base = cents(trajet.get('price')) * seats;
      const supplement = refundable ? Math.round((base * this.pricing.refundRatePct) / 100) : 0;
      const r = await this.m.Reservation.create(
        {
          passenger_first_name: passenger.first,
          passenger_last_name: passenger.last,
          phone_number: passenger.phone,
          seats_reserved: seats,
          refundable_option: refundable,
          refund_supplement_amount: money(supplement),
          total_amount: money(base + supplement),
          trajet_id: trajetId,
          compte_id: compteId,
        },
        { transaction },
      );
      const p = await this.m.Paiement.create({ amount: money(base + supplement), reservation_id: r.get('id') }, { transaction });
      return { reservationId: r.get('id') as number, paiementId: p.get('id') as number };
    });
  }

  /** Payment accepted: paiement completed, reservation confirmed. */
  async pay(reservationId: number): Promise<void> {
    await this.m.sequelize.transaction(async (transaction) => {
      await this.m.Paiement.update({ status: 'completed', payment_date: new Date() }, { where: { reservation_id: reservationId }, transaction });
      await this.m.Reservation.update({ status: 'confirmed' }, { where: { id: reservationId }, transaction });
    });
  }

  /** An envoi and its colis (weights in kg, as strings), costs by the app's own formula. */
  async ship(expediteurId: number, compteId: number, transporteurId: number, colis: Array<{ description: string; weight: string }>): Promise<number> {
    return this.m.sequelize.transaction(async (transaction) => {
      const e = await this.m.Envoi.create(
        { description: 'Colis de la semaine', expediteur_id: expediteurId, compte_id: compteId, transporteur_id: transporteurId, recipient_name: 'Marie Curie', recipient_phone: '06 11 22 33 44' },
        { transaction },
      );
      for (const c of colis) {
        const w = cents(c.weight);
        const cost = this.pricing.colisBaseCents + Math.round((w * this.pricing.colisPerKgCents) / 100);
        await this.m.Colis.create({ ...c, shipping_cost: money(cost), envoi_id: e.get('id') }, { transaction });
      }
      return e.get('id') as number;
    });
  }

  /** The seed's own example queries, with their aliases. */
  async seedQueries(transporteurId: number): Promise<{ user: Row | null; trajets: Row[] }> {
    const { Utilisateur, Compte, Role, Trajet, Reservation } = this.m;
    const user = (await Utilisateur.findOne({ include: [{ model: Compte, as: 'compte', include: [{ model: Role, as: 'role' }] }] })) as Row | null;
    const trajets = (await Trajet.findAll({ where: { transporteur_id: transporteurId }, include: [{ model: Reservation, as: 'reservations' }] })) as Row[];
    return { user, trajets };
  }

  /** Purge of the app's side: tokens that expired. */
  async expiredTokens(): Promise<number> {
    return this.m.RevokedToken.count({ where: { expires_at: { [Op.lt]: new Date() } } });
  }
}
