/**
 * Names and allowed values of the schema, defined once. The migrations build their CHECK
 * constraints from these lists and the domain validates against them, so the two cannot drift.
 */
export const COMPTE_STATUSES = ['active', 'inactive', 'suspended', 'deleted'] as const;
export const COMPANY_TYPES = ['mixte', 'passagers', 'colis'] as const;
export const TRAJET_STATUSES = ['active', 'cancelled', 'completed', 'suspended'] as const;
export const RESERVATION_STATUSES = ['pending', 'confirmed', 'cancelled', 'completed', 'refunded'] as const;
export const PAIEMENT_STATUSES = ['pending', 'completed', 'failed', 'refunded'] as const;
export const ENVOI_STATUSES = ['pending', 'accepted', 'in_transit', 'delivered', 'cancelled'] as const;
export const COLIS_STATUSES = ['pending', 'packaged', 'shipped', 'delivered', 'lost'] as const;
export const ZONE_TYPES = ['pickup_only', 'delivery_only', 'both'] as const;
export const SERVICE_FREQUENCIES = ['daily', 'weekly', 'monthly', 'on_demand'] as const;

export type CompteStatus = (typeof COMPTE_STATUSES)[number];
export type CompanyType = (typeof COMPANY_TYPES)[number];
export type TrajetStatus = (typeof TRAJET_STATUSES)[number];
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];
export type PaiementStatus = (typeof PAIEMENT_STATUSES)[number];
export type EnvoiStatus = (typeof ENVOI_STATUSES)[number];
export type ColisStatus = (typeof COLIS_STATUSES)[number];
export type ZoneType = (typeof ZONE_TYPES)[number];
export type ServiceFrequency = (typeof SERVICE_FREQUENCIES)[number];

export const DEFAULT_ROLES = [
  { name: 'admin', description: 'Administrateur de la plateforme' },
  { name: 'user', description: 'Utilisateur final' },
  { name: 'transporteur', description: 'Prestataire de transport' },
] as const;
export type DefaultRoleName = (typeof DEFAULT_ROLES)[number]['name'];

/** The seed's 12 tables, parents before children (insert order; reverse it to delete). */
export const SEED_TABLES = [
  'roles',
  'comptes',
  'utilisateurs',
  'transporteurs',
  'administrateurs',
  'trajets',
  'reservations',
  'paiements',
  'envois',
  'colis',
  'zones_desservies',
  'revoked_tokens',
] as const;

/**
 * Where `maintenance archive` moves finished reservations/paiements and envois/colis (same columns
 * plus `archived_at`; migration 20261125000600). Parents before children.
 */
export const ARCHIVE_TABLES = ['reservations_archive', 'paiements_archive', 'envois_archive', 'colis_archive'] as const;
export type ArchiveTable = (typeof ARCHIVE_TABLES)[number];

/** Every table the product owns (what backups, doctor and `rollback --all` consider). */
export const PRODUCT_TABLES = [...SEED_TABLES, 'audit_log', ...ARCHIVE_TABLES] as const;
export type ProductTable = (typeof PRODUCT_TABLES)[number];

/**
 * The columns searched accent- and case-insensitively (`whereFolded`): their indexes are on the
 * folded value where the engine folds with a function (PostgreSQL's `bt_fold(column)`, built by
 * the migrations with `folded()`; adoption adds the same indexes).
 */
export const FOLDED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  trajets: ['departure_city', 'arrival_city'],
  zones_desservies: ['city_name'],
};

/** Knex's own bookkeeping tables. */
export const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'] as const;

/**
 * Where `db adopt` records what it added to a database the platform app built (each DDL and its
 * exact inverse, and the baseline), so that `db adopt --undo` removes exactly that.
 */
export const ADOPTION_TABLE = 'billettigue_adoption';
