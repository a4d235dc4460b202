/**
 * The platform's own app, as the seed describes it ("Utilisation avec Sequelize"): the twelve
 * models, underscored, with the seed's validations and associations under the seed's aliases.
 * Tests use it to play the app that writes the same database as billettigue: on a database
 * billettigue created, and on one `sequelize.sync()` built (the platform's "day one").
 *
 * Written as the platform's developers would write it, not after billettigue's schema: no
 * token_hash, no CHECKs, Sequelize's own types (MariaDB: signed INT, VARCHAR(255), TINYINT(1),
 * DATETIME; PostgreSQL: SERIAL, varchar(255), boolean, timestamptz, enum types). MariaDB and
 * PostgreSQL only: Sequelize on SQLite needs the `sqlite3` native package, which this repository
 * does not install (billettigue uses better-sqlite3).
 */
import { DataTypes, Model, Sequelize, type ModelStatic } from 'sequelize';

const COMPTE_STATUSES = ['active', 'inactive', 'suspended', 'deleted'];
const COMPANY_TYPES = ['mixte', 'passagers', 'colis'];
const TRAJET_STATUSES = ['active', 'cancelled', 'completed', 'suspended'];
const RESERVATION_STATUSES = ['pending', 'confirmed', 'cancelled', 'completed', 'refunded'];
const PAIEMENT_STATUSES = ['pending', 'completed', 'failed', 'refunded'];
const ENVOI_STATUSES = ['pending', 'accepted', 'in_transit', 'delivered', 'cancelled'];
const COLIS_STATUSES = ['pending', 'packaged', 'shipped', 'delivered', 'lost'];
const ZONE_TYPES = ['pickup_only', 'delivery_only', 'both'];
const FREQUENCIES = ['daily', 'weekly', 'monthly', 'on_demand'];

export interface Platform {
  sequelize: Sequelize;
  Role: ModelStatic<Model>;
  Compte: ModelStatic<Model>;
  Utilisateur: ModelStatic<Model>;
  Transporteur: ModelStatic<Model>;
  Administrateur: ModelStatic<Model>;
  Trajet: ModelStatic<Model>;
  Reservation: ModelStatic<Model>;
  Paiement: ModelStatic<Model>;
  Envoi: ModelStatic<Model>;
  Colis: ModelStatic<Model>;
  ZonesDesservies: ModelStatic<Model>;
  RevokedToken: ModelStatic<Model>;
}

/** `mysql://…/db` or `postgres://…/db` → a Sequelize instance on it (UTC, quiet). */
export function platformSequelize(url: string): Sequelize {
  const postgres = /^postgres(ql)?:/.test(url);
  return new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
    dialect: postgres ? 'postgres' : 'mysql',
    logging: false,
    timezone: '+00:00',
    pool: { max: 2, min: 0 },
  });
}

/**
 * The app's models. On PostgreSQL the platform's developers declare the statuses and types as
 * `DataTypes.ENUM` (Sequelize makes a type `enum_<table>_<column>` for each), as Sequelize apps
 * on PostgreSQL commonly do; on MySQL/MariaDB they are the seed's VARCHARs with `isIn`.
 */
export function definePlatform(sequelize: Sequelize): Platform {
  const enums = sequelize.getDialect() === 'postgres';
  const opts = (tableName: string, extra: Record<string, unknown> = {}) => ({ tableName, underscored: true, timestamps: true, ...extra });
  const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
  const fk = (allowNull = false) => ({ type: DataTypes.INTEGER, allowNull });
  const status = (values: string[], defaultValue: string, len?: number) => ({
    type: enums ? DataTypes.ENUM(...values) : len ? DataTypes.STRING(len) : DataTypes.STRING,
    allowNull: false,
    defaultValue,
    validate: { isIn: [values] },
  });
  const text = (allowNull = false) => ({ type: DataTypes.STRING, allowNull, ...(allowNull ? {} : { validate: { notEmpty: true } }) });

  const Role = sequelize.define(
    'Role',
    { id, name: { type: DataTypes.STRING(50), allowNull: false, unique: true }, description: { type: DataTypes.TEXT, allowNull: true } },
    opts('roles'),
  );
  const Compte = sequelize.define(
    'Compte',
    {
      id,
      email: { type: DataTypes.STRING, allowNull: false, unique: true, validate: { isEmail: true } },
      password_hash: { type: DataTypes.STRING, allowNull: false },
      status: status(COMPTE_STATUSES, 'active'),
      email_verified: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      phone_verified: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      last_login: { type: DataTypes.DATE, allowNull: true },
      login_attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      failed_logins: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      last_failed_login: { type: DataTypes.DATE, allowNull: true },
      account_locked: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      password_changed_at: { type: DataTypes.DATE, allowNull: true },
      role_id: fk(),
    },
    opts('comptes'),
  );
  const Utilisateur = sequelize.define(
    'Utilisateur',
    { id, last_name: text(), first_name: text(), phone_number: text(), compte_id: fk() },
    opts('utilisateurs'),
  );
  const Transporteur = sequelize.define(
    'Transporteur',
    {
      id,
      phone_number: text(),
      company_name: text(true),
      company_type: status(COMPANY_TYPES, 'mixte', 100),
      compte_id: fk(),
    },
    opts('transporteurs'),
  );
  const Administrateur = sequelize.define('Administrateur', { id, last_name: text(), first_name: text(), compte_id: fk() }, opts('administrateurs'));
  const Trajet = sequelize.define(
    'Trajet',
    {
      id,
      departure_city: { type: DataTypes.STRING(100), allowNull: false },
      arrival_city: { type: DataTypes.STRING(100), allowNull: false },
      departure_time: { type: DataTypes.DATE, allowNull: false },
      price: { type: DataTypes.DECIMAL(10, 2), allowNull: false, validate: { min: 0 } },
      seats_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1, validate: { min: 1, max: 50 } },
      available_seats: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1, validate: { min: 0 } },
      status: status(TRAJET_STATUSES, 'active', 20),
      accepts_packages: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      max_package_weight: { type: DataTypes.DECIMAL(8, 2), allowNull: true, validate: { min: 0 } },
      departure_point: { type: DataTypes.STRING(200), allowNull: true },
      arrival_point: { type: DataTypes.STRING(200), allowNull: true },
      transporteur_id: fk(),
    },
    opts('trajets'),
  );
  const Reservation = sequelize.define(
    'Reservation',
    {
      id,
      reservation_date: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      passenger_first_name: text(),
      passenger_last_name: text(),
      phone_number: text(),
      status: status(RESERVATION_STATUSES, 'pending'),
      seats_reserved: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1, validate: { min: 1 } },
      refundable_option: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      refund_supplement_amount: { type: DataTypes.DECIMAL(10, 2), allowNull: false, defaultValue: 0.0 },
      total_amount: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      trajet_id: fk(),
      compte_id: fk(true),
    },
    opts('reservations'),
  );
  const Paiement = sequelize.define(
    'Paiement',
    {
      id,
      amount: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      status: status(PAIEMENT_STATUSES, 'pending'),
      payment_date: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      reservation_id: fk(),
    },
    opts('paiements'),
  );
  const Envoi = sequelize.define(
    'Envoi',
    {
      id,
      description: text(),
      status: status(ENVOI_STATUSES, 'pending'),
      expediteur_id: fk(),
      recipient_name: text(),
      recipient_phone: text(),
      transporteur_id: fk(),
      compte_id: fk(),
    },
    opts('envois'),
  );
  const Colis = sequelize.define(
    'Colis',
    {
      id,
      description: text(),
      weight: { type: DataTypes.DECIMAL(8, 2), allowNull: false, validate: { min: 0 } },
      dimensions: { type: DataTypes.STRING, allowNull: true },
      shipping_cost: { type: DataTypes.DECIMAL(10, 2), allowNull: false, validate: { min: 0 } },
      status: status(COLIS_STATUSES, 'pending'),
      envoi_id: fk(),
    },
    opts('colis'),
  );
  const ZonesDesservies = sequelize.define(
    'ZonesDesservies',
    {
      id,
      city_name: { type: DataTypes.STRING(255), allowNull: false },
      region: { type: DataTypes.STRING(255), allowNull: true },
      zone_type: status(ZONE_TYPES, 'both', 50),
      service_frequency: { type: DataTypes.STRING(50), allowNull: true, validate: { isIn: [FREQUENCIES] } },
      max_weight_capacity: { type: DataTypes.DECIMAL(8, 2), allowNull: true, validate: { min: 0 } },
      transporteur_id: fk(),
    },
    opts('zones_desservies', {
      indexes: [{ fields: ['city_name'] }, { fields: ['transporteur_id'] }, { unique: true, fields: ['city_name', 'transporteur_id'] }],
    }),
  );
  const RevokedToken = sequelize.define(
    'RevokedToken',
    {
      id,
      // MariaDB takes UNIQUE on a TEXT column (a hash-based long unique key); MySQL would refuse it.
      token: { type: DataTypes.TEXT, allowNull: false, unique: true },
      user_id: fk(),
      revoked_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      expires_at: { type: DataTypes.DATE, allowNull: false },
      reason: { type: DataTypes.STRING, allowNull: true, defaultValue: 'logout' },
    },
    opts('revoked_tokens', { timestamps: false, indexes: [{ fields: ['user_id'] }, { fields: ['expires_at'] }] }),
  );

  // Associations, with the seed's aliases.
  Role.hasMany(Compte, { as: 'comptes', foreignKey: 'role_id' });
  Compte.belongsTo(Role, { as: 'role', foreignKey: 'role_id' });
  for (const [Profile, alias] of [
    [Utilisateur, 'utilisateur'],
    [Transporteur, 'transporteur'],
    [Administrateur, 'administrateur'],
  ] as const) {
    Compte.hasOne(Profile, { as: alias, foreignKey: 'compte_id' });
    Profile.belongsTo(Compte, { as: 'compte', foreignKey: 'compte_id' });
  }
  Compte.hasMany(Reservation, { as: 'reservations', foreignKey: 'compte_id' });
  Reservation.belongsTo(Compte, { as: 'compte', foreignKey: 'compte_id' });
  Compte.hasMany(Envoi, { as: 'envois', foreignKey: 'compte_id' });
  Envoi.belongsTo(Compte, { as: 'compte', foreignKey: 'compte_id' });
  Compte.hasMany(RevokedToken, { as: 'revokedTokens', foreignKey: 'user_id' });
  RevokedToken.belongsTo(Compte, { as: 'compte', foreignKey: 'user_id' });
  Transporteur.hasMany(Trajet, { as: 'trajets', foreignKey: 'transporteur_id' });
  Trajet.belongsTo(Transporteur, { as: 'transporteur', foreignKey: 'transporteur_id' });
  Transporteur.hasMany(Envoi, { as: 'envois', foreignKey: 'transporteur_id' });
  Envoi.belongsTo(Transporteur, { as: 'transporteur', foreignKey: 'transporteur_id' });
  Transporteur.hasMany(ZonesDesservies, { as: 'zones', foreignKey: 'transporteur_id' });
  ZonesDesservies.belongsTo(Transporteur, { as: 'transporteur', foreignKey: 'transporteur_id' });
  Utilisateur.hasMany(Envoi, { as: 'envois', foreignKey: 'expediteur_id' });
  Envoi.belongsTo(Utilisateur, { as: 'expediteur', foreignKey: 'expediteur_id' });
  Trajet.hasMany(Reservation, { as: 'reservations', foreignKey: 'trajet_id' });
  Reservation.belongsTo(Trajet, { as: 'trajet', foreignKey: 'trajet_id' });
  Reservation.hasOne(Paiement, { as: 'paiement', foreignKey: 'reservation_id' });
  Paiement.belongsTo(Reservation, { as: 'reservation', foreignKey: 'reservation_id' });
  Envoi.hasMany(Colis, { as: 'colis', foreignKey: 'envoi_id' });
  Colis.belongsTo(Envoi, { as: 'envoi', foreignKey: 'envoi_id' });

  return {
    sequelize,
    Role,
    Compte,
    Utilisateur,
    Transporteur,
    Administrateur,
    Trajet,
    Reservation,
    Paiement,
    Envoi,
    Colis,
    ZonesDesservies,
    RevokedToken,
  };
}
