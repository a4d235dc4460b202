/**
 * Real cities of mainland France with their region (the 2016 regions), coordinates and an
 * approximate population in thousands. Coordinates give road distances (and so prices and
 * durations); population weights how often a city is a carrier's base or a trip's end.
 * Corsica is left out: its trips would need a ferry.
 */
export interface City {
  name: string;
  region: string;
  lat: number;
  lon: number;
  /** Thousands of inhabitants (order of magnitude is what matters). */
  pop: number;
}

const IDF = 'Île-de-France';
const ARA = 'Auvergne-Rhône-Alpes';
const PACA = "Provence-Alpes-Côte d'Azur";
const OCC = 'Occitanie';
const NAQ = 'Nouvelle-Aquitaine';
const HDF = 'Hauts-de-France';
const GE = 'Grand Est';
const PDL = 'Pays de la Loire';
const BRE = 'Bretagne';
const NOR = 'Normandie';
const CVL = 'Centre-Val de Loire';
const BFC = 'Bourgogne-Franche-Comté';

type Row = [string, string, number, number, number];

const ROWS: Row[] = [
  ['Paris', IDF, 48.8566, 2.3522, 2100],
  ['Boulogne-Billancourt', IDF, 48.8397, 2.2399, 121],
  ['Saint-Denis', IDF, 48.9362, 2.3574, 113],
  ['Argenteuil', IDF, 48.9472, 2.2467, 111],
  ['Montreuil', IDF, 48.8638, 2.4485, 111],
  ['Versailles', IDF, 48.8049, 2.1204, 85],
  ['Nanterre', IDF, 48.8924, 2.2071, 96],
  ['Créteil', IDF, 48.7904, 2.4556, 92],
  ['Évry-Courcouronnes', IDF, 48.629, 2.441, 67],
  ['Cergy', IDF, 49.0364, 2.0761, 66],
  ['Meaux', IDF, 48.9601, 2.8788, 55],
  ['Melun', IDF, 48.5421, 2.6554, 41],
  ['Lyon', ARA, 45.764, 4.8357, 522],
  ['Villeurbanne', ARA, 45.7719, 4.8902, 152],
  ['Saint-Étienne', ARA, 45.4397, 4.3872, 173],
  ['Grenoble', ARA, 45.1885, 5.7245, 158],
  ['Clermont-Ferrand', ARA, 45.7772, 3.087, 147],
  ['Annecy', ARA, 45.8992, 6.1294, 130],
  ['Chambéry', ARA, 45.5646, 5.9178, 60],
  ['Valence', ARA, 44.9334, 4.8924, 64],
  ['Bourg-en-Bresse', ARA, 46.2052, 5.2255, 41],
  ['Roanne', ARA, 46.034, 4.0726, 34],
  ['Vichy', ARA, 46.1277, 3.426, 25],
  ['Aurillac', ARA, 44.9264, 2.44, 26],
  ['Le Puy-en-Velay', ARA, 45.0434, 3.8855, 19],
  ['Montélimar', ARA, 44.5581, 4.7509, 40],
  ['Marseille', PACA, 43.2965, 5.3698, 873],
  ['Nice', PACA, 43.7102, 7.262, 342],
  ['Toulon', PACA, 43.1242, 5.928, 180],
  ['Aix-en-Provence', PACA, 43.5297, 5.4474, 147],
  ['Avignon', PACA, 43.9493, 4.8055, 91],
  ['Cannes', PACA, 43.5528, 7.0174, 74],
  ['Antibes', PACA, 43.5808, 7.1251, 73],
  ['Gap', PACA, 44.5594, 6.0786, 40],
  ['Arles', PACA, 43.6768, 4.6303, 51],
  ['Fréjus', PACA, 43.433, 6.737, 54],
  ['Toulouse', OCC, 43.6047, 1.4442, 504],
  ['Montpellier', OCC, 43.6108, 3.8767, 300],
  ['Nîmes', OCC, 43.8367, 4.3601, 148],
  ['Perpignan', OCC, 42.6887, 2.8948, 119],
  ['Béziers', OCC, 43.3442, 3.2158, 79],
  ['Narbonne', OCC, 43.1843, 3.0037, 56],
  ['Albi', OCC, 43.9289, 2.1464, 49],
  ['Carcassonne', OCC, 43.213, 2.3491, 46],
  ['Montauban', OCC, 44.0176, 1.355, 61],
  ['Tarbes', OCC, 43.2328, 0.0781, 42],
  ['Rodez', OCC, 44.3506, 2.575, 25],
  ['Sète', OCC, 43.4028, 3.697, 44],
  ['Auch', OCC, 43.6465, 0.5855, 22],
  ['Cahors', OCC, 44.4475, 1.4419, 20],
  ['Alès', OCC, 44.125, 4.081, 43],
  ['Bordeaux', NAQ, 44.8378, -0.5792, 261],
  ['Limoges', NAQ, 45.8336, 1.2611, 130],
  ['Poitiers', NAQ, 46.5802, 0.3404, 89],
  ['Pau', NAQ, 43.2951, -0.3708, 76],
  ['La Rochelle', NAQ, 46.1603, -1.1511, 77],
  ['Mérignac', NAQ, 44.8386, -0.6436, 72],
  ['Bayonne', NAQ, 43.4929, -1.4748, 52],
  ['Angoulême', NAQ, 45.6484, 0.1562, 42],
  ['Niort', NAQ, 46.3237, -0.4588, 59],
  ['Brive-la-Gaillarde', NAQ, 45.1589, 1.5331, 46],
  ['Périgueux', NAQ, 45.1846, 0.7214, 30],
  ['Biarritz', NAQ, 43.4832, -1.5586, 25],
  ['Agen', NAQ, 44.2033, 0.6163, 33],
  ['Mont-de-Marsan', NAQ, 43.8902, -0.4994, 30],
  ['Lille', HDF, 50.6292, 3.0573, 236],
  ['Amiens', HDF, 49.8941, 2.2958, 134],
  ['Roubaix', HDF, 50.6942, 3.1746, 98],
  ['Tourcoing', HDF, 50.7239, 3.1612, 98],
  ['Dunkerque', HDF, 51.0344, 2.3768, 87],
  ['Calais', HDF, 50.9513, 1.8587, 67],
  ['Beauvais', HDF, 49.4295, 2.0807, 56],
  ['Arras', HDF, 50.291, 2.7775, 41],
  ['Valenciennes', HDF, 50.357, 3.5235, 43],
  ['Boulogne-sur-Mer', HDF, 50.7264, 1.6147, 40],
  ['Compiègne', HDF, 49.4179, 2.8261, 40],
  ['Saint-Quentin', HDF, 49.8465, 3.2876, 53],
  ['Douai', HDF, 50.3714, 3.08, 39],
  ['Strasbourg', GE, 48.5734, 7.7521, 287],
  ['Reims', GE, 49.2583, 4.0317, 181],
  ['Metz', GE, 49.1193, 6.1757, 118],
  ['Mulhouse', GE, 47.7508, 7.3359, 108],
  ['Nancy', GE, 48.6921, 6.1844, 104],
  ['Colmar', GE, 48.0794, 7.3585, 68],
  ['Troyes', GE, 48.2973, 4.0744, 61],
  ['Charleville-Mézières', GE, 49.7621, 4.7263, 46],
  ['Épinal', GE, 48.1724, 6.4496, 32],
  ['Châlons-en-Champagne', GE, 48.9566, 4.3631, 44],
  ['Thionville', GE, 49.3579, 6.1684, 41],
  ['Nantes', PDL, 47.2184, -1.5536, 320],
  ['Angers', PDL, 47.4784, -0.5632, 155],
  ['Le Mans', PDL, 48.0061, 0.1996, 143],
  ['Saint-Nazaire', PDL, 47.2735, -2.2138, 71],
  ['Cholet', PDL, 47.06, -0.8788, 54],
  ['La Roche-sur-Yon', PDL, 46.6705, -1.426, 54],
  ['Laval', PDL, 48.0707, -0.7734, 50],
  ['Saumur', PDL, 47.26, -0.0769, 26],
  ['Rennes', BRE, 48.1173, -1.6778, 222],
  ['Brest', BRE, 48.3904, -4.4861, 139],
  ['Quimper', BRE, 47.996, -4.1024, 63],
  ['Lorient', BRE, 47.7486, -3.37, 57],
  ['Vannes', BRE, 47.6582, -2.7608, 54],
  ['Saint-Malo', BRE, 48.6493, -2.0257, 46],
  ['Saint-Brieuc', BRE, 48.5141, -2.7603, 44],
  ['Le Havre', NOR, 49.4944, 0.1079, 169],
  ['Rouen', NOR, 49.4432, 1.0999, 114],
  ['Caen', NOR, 49.1829, -0.3707, 106],
  ['Cherbourg-en-Cotentin', NOR, 49.6337, -1.6222, 78],
  ['Évreux', NOR, 49.0241, 1.1508, 47],
  ['Dieppe', NOR, 49.9229, 1.0775, 29],
  ['Alençon', NOR, 48.4329, 0.0913, 26],
  ['Tours', CVL, 47.3941, 0.6848, 137],
  ['Orléans', CVL, 47.903, 1.9093, 117],
  ['Bourges', CVL, 47.081, 2.3988, 64],
  ['Blois', CVL, 47.5861, 1.3359, 46],
  ['Chartres', CVL, 48.4439, 1.489, 39],
  ['Châteauroux', CVL, 46.8103, 1.6913, 43],
  ['Dijon', BFC, 47.322, 5.0415, 158],
  ['Besançon', BFC, 47.2378, 6.0241, 119],
  ['Belfort', BFC, 47.638, 6.8628, 47],
  ['Chalon-sur-Saône', BFC, 46.7806, 4.8539, 45],
  ['Auxerre', BFC, 47.7982, 3.5674, 35],
  ['Mâcon', BFC, 46.3069, 4.8287, 34],
  ['Nevers', BFC, 46.99, 3.159, 33],
];

export const CITIES: readonly City[] = ROWS.map(([name, region, lat, lon, pop]) => ({ name, region, lat, lon, pop }));

/** Road distance in km: great-circle distance × 1.25 (roads are not straight). */
export function roadKm(a: City, b: City): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h)) * 1.25;
}

/** Distances between every pair (km, rounded), indexed [i * n + j]. */
export function distanceTable(cities: readonly City[] = CITIES): Float64Array {
  const n = cities.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = i === j ? 0 : Math.round(roadKm(cities[i]!, cities[j]!));
  return out;
}
