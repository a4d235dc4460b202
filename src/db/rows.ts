/**
 * Row shapes as they come back from either driver. DATETIMEs are 'YYYY-MM-DD HH:MM:SS' UTC strings
 * (mysql2 `dateStrings`, SQLite text); DECIMALs are strings on MySQL and numbers on SQLite, so read
 * money through `toCents` (src/db/values.ts); booleans are 0/1 on both.
 */
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
} from './schema.js';

export type DbDecimal = string | number;
export type DbBool = number | boolean;
export type DbDateTime = string;

interface Timestamps {
  created_at: DbDateTime;
  updated_at: DbDateTime;
}

export interface RoleRow extends Timestamps {
  id: number;
  name: string;
  description: string | null;
}

export interface CompteRow extends Timestamps {
  id: number;
  email: string;
  password_hash: string;
  status: CompteStatus;
  email_verified: DbBool;
  phone_verified: DbBool;
  last_login: DbDateTime | null;
  login_attempts: number;
  failed_logins: number;
  last_failed_login: DbDateTime | null;
  account_locked: DbBool;
  password_changed_at: DbDateTime | null;
  role_id: number;
}

export interface UtilisateurRow extends Timestamps {
  id: number;
  last_name: string;
  first_name: string;
  phone_number: string;
  compte_id: number;
}

export interface TransporteurRow extends Timestamps {
  id: number;
  phone_number: string;
  company_name: string | null;
  company_type: CompanyType;
  compte_id: number;
}

export interface AdministrateurRow extends Timestamps {
  id: number;
  last_name: string;
  first_name: string;
  compte_id: number;
}

export interface TrajetRow extends Timestamps {
  id: number;
  departure_city: string;
  arrival_city: string;
  departure_time: DbDateTime;
  price: DbDecimal;
  seats_count: number;
  available_seats: number;
  status: TrajetStatus;
  accepts_packages: DbBool;
  max_package_weight: DbDecimal | null;
  departure_point: string | null;
  arrival_point: string | null;
  transporteur_id: number;
}

export interface ReservationRow extends Timestamps {
  id: number;
  reservation_date: DbDateTime;
  passenger_first_name: string;
  passenger_last_name: string;
  phone_number: string;
  status: ReservationStatus;
  seats_reserved: number;
  refundable_option: DbBool;
  refund_supplement_amount: DbDecimal;
  total_amount: DbDecimal;
  trajet_id: number;
  compte_id: number | null;
}

export interface PaiementRow extends Timestamps {
  id: number;
  amount: DbDecimal;
  status: PaiementStatus;
  payment_date: DbDateTime;
  reservation_id: number;
}

export interface EnvoiRow extends Timestamps {
  id: number;
  description: string;
  status: EnvoiStatus;
  expediteur_id: number;
  recipient_name: string;
  recipient_phone: string;
  transporteur_id: number;
  compte_id: number;
}

export interface ColisRow extends Timestamps {
  id: number;
  description: string;
  weight: DbDecimal;
  dimensions: string | null;
  shipping_cost: DbDecimal;
  status: ColisStatus;
  envoi_id: number;
}

export interface ZoneRow extends Timestamps {
  id: number;
  city_name: string;
  region: string | null;
  zone_type: ZoneType;
  service_frequency: ServiceFrequency | null;
  max_weight_capacity: DbDecimal | null;
  transporteur_id: number;
}

/**
 * The seed's columns. MySQL also has token_hash (generated: SHA2(token, 256)); SQLite does not
 * (migration 800): code that needs the hash computes it from `token`.
 */
export interface RevokedTokenRow {
  id: number;
  token: string;
  user_id: number;
  revoked_at: DbDateTime;
  expires_at: DbDateTime;
  reason: string | null;
}

export interface AuditRow {
  id: number;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  reason: string | null;
  before_json: string | null;
  after_json: string | null;
  created_at: DbDateTime;
}
