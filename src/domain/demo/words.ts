/**
 * French vocabulary of the demo platform that faker has no category for: what people send, where
 * carriers pick passengers up, how carriers name their companies. Faker (pools.ts) brings the
 * names of people and streets; these lists bring the platform's own words.
 */

/**
 * First names common in France across generations (INSEE). Faker's French list is mostly saints'
 * names ("Adalbaude", "Scholastique"): real, but a platform full of them would look odd, so these
 * carry most of the weight and faker's add the long tail.
 */
export const COMMON_FIRST_NAMES_F = [
  'Marie', 'Nathalie', 'Isabelle', 'Sylvie', 'Catherine', 'Sophie', 'Christine', 'Valérie', 'Sandrine', 'Céline',
  'Julie', 'Camille', 'Emma', 'Léa', 'Manon', 'Chloé', 'Inès', 'Jade', 'Louise', 'Alice',
  'Sarah', 'Laura', 'Pauline', 'Marion', 'Aurélie', 'Stéphanie', 'Émilie', 'Anne', 'Claire', 'Hélène',
  'Élodie', 'Charlotte', 'Mathilde', 'Lucie', 'Juliette', 'Clara', 'Zoé', 'Anaïs', 'Océane', 'Margaux',
  'Mélanie', 'Virginie', 'Caroline', 'Agnès', 'Martine', 'Françoise', 'Monique', 'Brigitte', 'Nicole', 'Patricia',
  'Lina', 'Rose', 'Ambre', 'Mila', 'Anna', 'Eva', 'Lola', 'Léna', 'Yasmine', 'Nadia',
];

export const COMMON_FIRST_NAMES_M = [
  'Jean', 'Pierre', 'Michel', 'Philippe', 'Alain', 'Nicolas', 'Christophe', 'Patrick', 'Laurent', 'Frédéric',
  'Stéphane', 'David', 'Julien', 'Sébastien', 'Thomas', 'Maxime', 'Alexandre', 'Antoine', 'Florian', 'Guillaume',
  'Lucas', 'Hugo', 'Louis', 'Gabriel', 'Arthur', 'Jules', 'Léo', 'Raphaël', 'Adam', 'Nathan',
  'Romain', 'Vincent', 'Olivier', 'François', 'Éric', 'Thierry', 'Bruno', 'Pascal', 'Didier', 'Daniel',
  'Mathieu', 'Benoît', 'Damien', 'Jérôme', 'Yannick', 'Kevin', 'Quentin', 'Clément', 'Paul', 'Victor',
  'Mohamed', 'Karim', 'Mehdi', 'Yanis', 'Rayan', 'Ethan', 'Noah', 'Tom', 'Théo', 'Enzo',
];

/** Where a trip starts or ends, `%s` being the city. */
export const MEETING_POINTS = [
  'Gare SNCF de %s',
  'Gare routière de %s',
  'Parking de la gare, %s',
  'Place de la Mairie, %s',
  'Centre commercial, %s',
  'Aire de covoiturage, sortie %s',
  'Parvis de la cathédrale, %s',
  'Arrêt de tram Hôtel de Ville, %s',
  'Campus universitaire, %s',
  'Aéroport de %s',
];

/** What a colis can be: description, weight range (hundredths of kg), typical dimensions (cm). */
export interface ColisKind {
  description: string;
  minWeight: number;
  maxWeight: number;
  dims: [number, number, number];
}

export const COLIS_KINDS: readonly ColisKind[] = [
  { description: 'Enveloppe de documents', minWeight: 5, maxWeight: 50, dims: [32, 23, 1] },
  { description: 'Enveloppe matelassée', minWeight: 10, maxWeight: 80, dims: [35, 25, 3] },
  { description: 'Petit carton', minWeight: 50, maxWeight: 300, dims: [30, 20, 15] },
  { description: 'Carton de livres', minWeight: 500, maxWeight: 1500, dims: [40, 30, 30] },
  { description: 'Carton de vaisselle emballée', minWeight: 400, maxWeight: 1200, dims: [50, 40, 40] },
  { description: 'Carton de vêtements', minWeight: 200, maxWeight: 800, dims: [60, 40, 40] },
  { description: 'Valise', minWeight: 800, maxWeight: 2300, dims: [70, 45, 28] },
  { description: 'Sac de voyage', minWeight: 400, maxWeight: 1500, dims: [60, 30, 30] },
  { description: 'Vélo démonté', minWeight: 1000, maxWeight: 1800, dims: [140, 80, 25] },
  { description: 'Colis alimentaire', minWeight: 200, maxWeight: 1000, dims: [40, 30, 20] },
  { description: 'Pièces automobiles', minWeight: 300, maxWeight: 2500, dims: [50, 40, 30] },
  { description: 'Matériel informatique', minWeight: 150, maxWeight: 900, dims: [55, 40, 20] },
  { description: 'Petit meuble en kit', minWeight: 1200, maxWeight: 3000, dims: [120, 60, 15] },
  { description: 'Instrument de musique', minWeight: 300, maxWeight: 1200, dims: [110, 40, 15] },
  { description: 'Tableau encadré', minWeight: 200, maxWeight: 900, dims: [80, 60, 8] },
  { description: 'Jouets', minWeight: 100, maxWeight: 600, dims: [40, 30, 25] },
];

/** Envoi descriptions; `%s` is a first name when present. */
export const ENVOI_DESCRIPTIONS = [
  'Cadeau d’anniversaire pour %s',
  'Affaires oubliées chez %s',
  'Déménagement étudiant',
  'Documents administratifs',
  'Documents notariés à signer',
  'Vêtements et chaussures',
  'Livres et manuels scolaires',
  'Colis de Noël pour %s',
  'Matériel de camping',
  'Retour de prêt à %s',
  'Produits du terroir',
  'Pièces détachées pour atelier',
  'Matériel photo',
  'Vente entre particuliers',
  'Envoi professionnel urgent',
  'Affaires de bébé pour %s',
  'Équipement sportif',
  'Vaisselle de famille',
];

/** How carriers name their companies; `%s` is a surname or a city. */
export const COMPANY_PATTERNS = [
  'Transports %s',
  '%s Express',
  'Cars %s',
  'Navettes %s',
  '%s Logistique',
  'Taxi %s',
  'Courses %s',
  '%s Mobilité',
  'Voyages %s',
  '%s Livraisons',
];

export const TOKEN_REASONS = ['logout', 'logout', 'logout', 'logout', 'logout', 'logout', 'password_change', 'password_change', 'account_suspended', 'admin_revocation'];
