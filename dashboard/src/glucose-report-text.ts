/**
 * The words of the printable glucose report (views/glucose-report.tsx), in English
 * and French, in the browser's language as the rest of the dashboard (i18n.ts).
 */
import type { RangeKey } from '../../src/domain/glucose-report.ts';
import { lang } from './i18n.ts';

const en = {
  link: 'Glucose report (AGP), printable',
  title: 'AGP report: continuous glucose monitoring',
  patient: 'Patient: {name}',
  timeZone: 'Time zone: {tz}',
  back: 'Back to the patient',
  print: 'Print',
  downloadPdf: 'Download PDF',
  days: 'Period',
  daysOption: '{n} days',
  statsTitle: 'Glucose statistics and targets',
  period: '{from} – {to}',
  nDays: '{n} days',
  sensorActive: 'Time CGM active',
  readings: 'CGM readings',
  targetsTitle: 'Ranges and targets for type 1 or type 2 diabetes',
  rangesCol: 'Glucose ranges',
  targetsCol: 'Targets: % of readings (time per day)',
  tInRange: 'Target range 70–180 mg/dL',
  tBelow70: 'Below 70 mg/dL',
  tBelow54: 'Below 54 mg/dL',
  tAbove180: 'Above 180 mg/dL',
  tAbove250: 'Above 250 mg/dL',
  greater: 'Greater than {p} ({time})',
  less: 'Less than {p} ({time})',
  fivePercent: 'Each 5% increase in time in range (70–180 mg/dL) is clinically beneficial.',
  mean: 'Mean glucose',
  gmi: 'Glucose management indicator (GMI)',
  cv: 'Glucose variability (CV)',
  cvNote: 'Defined as the coefficient of variation; target 36% or lower',
  insufficient: 'Insufficient data: the sensor was active less than 70% of the period.',
  tirTitle: 'Time in ranges',
  goal: 'Goal {op}{p}',
  agpTitle: 'Ambulatory glucose profile (AGP)',
  agpNote:
    'The readings of the period folded onto one day: median (50%), 25–75% and 5–95% of the readings by time of day.',
  agpNone: 'No CGM reading in this period.',
  agpAria: 'Ambulatory glucose profile of {n} readings: median from {min} to {max} mg/dL by time of day.',
  dailyTitle: 'Daily glucose profiles',
  dailyNote: 'Each daily profile runs from midnight to midnight in the patient’s time zone; band 70–180 mg/dL.',
  dailyAria: '{date}: {n} readings',
  noReadings: 'no readings',
  sourceIndicators: 'Statistics: the patient’s CGM indicators computed {at}.',
  sourceReadings: 'Statistics: computed over the readings of the period.',
  references:
    'Targets: Battelino et al., Diabetes Care 2019;42:1593. GMI: Bergenstal et al., Diabetes Care 2018;41:2275.',
  veryHigh: 'Very high',
  high: 'High',
  inRange: 'Target range',
  low: 'Low',
  veryLow: 'Very low',
};

type Key = keyof typeof en;

const fr: Record<Key, string> = {
  link: 'Rapport glycémique (AGP), à imprimer',
  title: 'Rapport AGP : mesure continue du glucose',
  patient: 'Patient : {name}',
  timeZone: 'Fuseau horaire : {tz}',
  back: 'Retour au patient',
  print: 'Imprimer',
  downloadPdf: 'Télécharger le PDF',
  days: 'Période',
  daysOption: '{n} jours',
  statsTitle: 'Statistiques glycémiques et objectifs',
  period: '{from} – {to}',
  nDays: '{n} jours',
  sensorActive: 'Temps de port du capteur',
  readings: 'Mesures du capteur',
  targetsTitle: 'Plages et objectifs pour le diabète de type 1 ou 2',
  rangesCol: 'Plages de glucose',
  targetsCol: 'Objectifs : % des mesures (durée par jour)',
  tInRange: 'Plage cible 70–180 mg/dL',
  tBelow70: 'Sous 70 mg/dL',
  tBelow54: 'Sous 54 mg/dL',
  tAbove180: 'Au-dessus de 180 mg/dL',
  tAbove250: 'Au-dessus de 250 mg/dL',
  greater: 'Plus de {p} ({time})',
  less: 'Moins de {p} ({time})',
  fivePercent: 'Chaque gain de 5 % de temps dans la cible (70–180 mg/dL) est cliniquement bénéfique.',
  mean: 'Glucose moyen',
  gmi: 'Indicateur de gestion du glucose (GMI)',
  cv: 'Variabilité glycémique (CV)',
  cvNote: 'Coefficient de variation ; objectif 36 % ou moins',
  insufficient: 'Données insuffisantes : le capteur a été actif moins de 70 % de la période.',
  tirTitle: 'Temps dans les plages',
  goal: 'Objectif {op}{p}',
  agpTitle: 'Profil glycémique ambulatoire (AGP)',
  agpNote:
    'Les mesures de la période ramenées sur une journée : médiane (50 %), 25–75 % et 5–95 % des mesures selon l’heure.',
  agpNone: 'Aucune mesure du capteur sur cette période.',
  agpAria: 'Profil glycémique ambulatoire de {n} mesures : médiane de {min} à {max} mg/dL selon l’heure.',
  dailyTitle: 'Profils glycémiques quotidiens',
  dailyNote: 'Chaque profil va de minuit à minuit, heure du patient ; bande 70–180 mg/dL.',
  dailyAria: '{date} : {n} mesures',
  noReadings: 'aucune mesure',
  sourceIndicators: 'Statistiques : indicateurs du capteur du patient calculés le {at}.',
  sourceReadings: 'Statistiques : calculées sur les mesures de la période.',
  references:
    'Objectifs : Battelino et al., Diabetes Care 2019;42:1593. GMI : Bergenstal et al., Diabetes Care 2018;41:2275.',
  veryHigh: 'Très élevé',
  high: 'Élevé',
  inRange: 'Plage cible',
  low: 'Bas',
  veryLow: 'Très bas',
};

export function rt(key: Key, vars?: Record<string, string | number>): string {
  const template = (lang === 'fr' ? fr : en)[key];
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export const RANGE_TEXT: Record<RangeKey, Key> = {
  very_high: 'veryHigh',
  high: 'high',
  in_range: 'inRange',
  low: 'low',
  very_low: 'veryLow',
};
