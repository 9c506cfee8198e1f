/**
 * French and English, chosen from the browser's language (navigator.languages):
 * a small dictionary, no library. Dates and numbers are formatted by Intl with
 * the browser's locale (format.ts).
 *
 * The labels of each vocabulary (reading types, alert rules and severities,
 * indicator keys, rejection reasons) are keyed by its type from src/domain, so a
 * member added there without its labels in both languages does not compile.
 */
import type { AlertStatus } from '../../src/domain/alerts/lifecycle.ts';
import type { AlertSeverity, RuleKey } from '../../src/domain/alerts/rules.ts';
import type { IndicatorKey } from '../../src/domain/indicators/indicator-keys.ts';
import type { Programme } from '../../src/domain/programmes.ts';
import type { ReadingType } from '../../src/domain/reading-types.ts';
import type { RejectionReason } from '../../src/domain/rejection-reasons.ts';
import type { DeviceTransport } from '../../src/domain/device-transports.ts';

export type Lang = 'en' | 'fr';

function browserLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return ['en'];
  return navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
}

function pickLang(): { lang: Lang; locale: string } {
  for (const tag of browserLanguages()) {
    const l = tag.toLowerCase();
    if (l.startsWith('fr')) return { lang: 'fr', locale: tag };
    if (l.startsWith('en')) return { lang: 'en', locale: tag };
  }
  return { lang: 'en', locale: 'en' };
}

const picked = pickLang();
export const lang: Lang = picked.lang;
/** The BCP 47 tag Intl formats with: the browser's own (en-US, en-GB, fr-FR, fr-CA, ...). */
export const locale: string = picked.locale;

const en = {
  appName: 'Vitalink',
  skipToContent: 'Skip to content',
  navPatients: 'Patients',
  navOps: 'Operations',
  navDevices: 'Devices',
  devicesTitle: 'Devices',
  devicesIntro:
    'How each device sends its readings and when it last reached the service (written every 10 s, so up to 10 s behind).',
  colPatientNow: 'Patient now',
  colTransport: 'Sends via',
  colLastContact: 'Last contact',
  colLastStored: 'Last reading stored',
  deviceEnabled: 'enabled',
  deviceDisabled: 'disabled',
  transportUnknown: 'not seen yet',
  noDevices: 'No device yet: provision one with vitalink devices add.',
  devicesTruncated: 'The first {n} devices are shown.',
  neededAdmin: 'administrator',
  signOut: 'Sign out',
  signedInAs: 'Signed in as {role}',
  signedInPatients: '{n} patients',
  signedInPatient: '1 patient',
  roleAdmin: 'administrator',
  roleOperator: 'operator',
  roleClinician: 'clinician',
  loading: 'Loading…',
  retry: 'Try again',
  networkError: 'The service did not answer. Check that it is running, then try again.',
  genericError: 'The service refused the request: {message}',
  notFound: 'Not found: {what}.',
  forbidden: 'This view needs a token with the {needed} role; yours has the {role} role.',
  neededClinician: 'clinician',
  neededClinicianOrAdmin: 'clinician or administrator',
  neededOperatorOrAdmin: 'operator or administrator',
  unknownPage: 'There is no page at {path}.',
  goHome: 'Go to the start page',

  // login
  loginTitle: 'Sign in to Vitalink',
  loginIntro: 'Enter your API token. It is kept in this tab only, until you sign out or close the tab.',
  tokenLabel: 'API token',
  tokenHelp:
    'An administrator creates one with: vitalink tokens create --role clinician --practitioner ID (or --patients …)',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  tokenRequired: 'Enter a token.',
  tokenRefused: 'This token is unknown or revoked. Check it, or ask an administrator for a new one.',
  sessionEnded: 'The service refused your token (it may have been revoked). Sign in again.',
  signedOut: 'You are signed out.',
  // sign-in with OpenID Connect (README, "Sign-in")
  signInWith: 'Sign in with {label}',
  signInWithHelp: 'For health professionals: your practitioner account, your care teams’ patients.',
  orWithToken: 'Or with an API token',
  signedInName: 'Signed in: {name}',
  sessionExpired: 'Your session has ended (expired, signed out or revoked). Sign in again.',

  // patient list
  patientsTitle: 'Patients',
  filterLabel: 'Filter by name or id',
  filterPlaceholder: 'Name or id',
  onlyOpenAlerts: 'Only patients with open alerts',
  colPatient: 'Patient',
  colTimeZone: 'Time zone',
  colAlerts: 'Open alerts',
  colLastReading: 'Last reading',
  colAdherence: 'Adherence (30 d)',
  sortBy: 'Sort by {column}',
  noPatients: 'No patient matches.',
  noPatientsAtAll: 'No patient yet.',
  pageOf: 'Page {page} of {pages}',
  patientCount: '{n} patients',
  patientCountOne: '1 patient',
  previousPage: 'Previous page',
  nextPage: 'Next page',
  truncatedPatients: 'Only the first {n} patients are listed.',
  noAlerts: 'none',
  never: 'never',
  adherenceValue: '{n} / 30 days',
  adherenceLow: 'below the usual 16-day bar',
  pageSize: 'Rows per page',

  // patient page
  backToList: 'All patients',
  patientId: 'Id',
  timeZone: 'Time zone',
  lastReading: 'Last reading',
  sections: 'Sections',
  sectionCharts: 'Readings',
  sectionGlucose: 'Glucose',
  sectionIndicators: 'Indicators',
  sectionAlerts: 'Alerts',
  sectionThresholds: 'Alert thresholds',
  rangeLabel: 'Range',
  range24h: '24 h',
  range7d: '7 days',
  range14d: '14 days',
  range30d: '30 days',
  range90d: '90 days',
  rawPoints: 'each reading',
  dailyBands: 'daily min–max band and mean',
  noReadingsInRange: 'No reading in this range.',
  noReadingTypes: 'No reading in the last 90 days.',
  truncatedReadings: 'Only the latest {n} readings are drawn.',
  chartSummaryRaw: '{type}, {range}: {n} readings from {min} to {max} {unit}, mean {mean}.',
  chartSummaryDaily: '{type}, {range}: daily values over {days} days, from {min} to {max} {unit}, mean {mean}.',
  chartSummaryBp:
    '{type}, {range}: {n} readings, systolic {sysMin} to {sysMax}, diastolic {diaMin} to {diaMax} {unit}.',
  chartSummaryEmpty: '{type}, {range}: no reading.',
  chartThresholds: 'Threshold lines: {list}.',
  seriesValue: 'Value',
  seriesMean: 'Daily mean',
  seriesMin: 'Daily min',
  seriesMax: 'Daily max',
  seriesSystolic: 'Systolic',
  seriesDiastolic: 'Diastolic',
  seriesSystolicMean: 'Systolic, daily mean',
  seriesDiastolicMean: 'Diastolic, daily mean',
  seriesDailyTotal: 'Daily total',
  seriesTime: 'Time',
  seriesDay: 'Day',
  thresholdSeries: 'Threshold: {rule} {value}',

  // glucose
  glucoseTitle: 'Glucose',
  tirTitle: 'Time in ranges',
  tirWindow: 'Last 14 days, {n} CGM readings ({from} – {to})',
  tirVeryHigh: 'Very high',
  tirHigh: 'High',
  tirInRange: 'In range',
  tirLow: 'Low',
  tirVeryLow: 'Very low',
  tirTarget: 'target {target}',
  tirNone: 'No CGM indicators yet.',
  tirAria: 'Time in ranges: {list}.',
  agpTitle: 'Ambulatory glucose profile',
  agpWindow: 'Last 14 days ({days} calendar days with readings), {n} CGM readings, by time of day in {tz}',
  agpNone: 'No CGM reading in the last 14 days: no profile.',
  agpAria:
    'Ambulatory glucose profile over the last 14 days: median from {minMedian} to {maxMedian} mg/dL by time of day; bands of the 25th–75th and 5th–95th percentiles.',
  agpMedian: 'Median',
  agpP5: '5th percentile',
  agpP25: '25th percentile',
  agpP75: '75th percentile',
  agpP95: '95th percentile',
  agpTargetLow: 'Target 70',
  agpTargetHigh: 'Target 180',
  agpTimeOfDay: 'Time of day',

  // indicators
  indicatorsTitle: 'Indicators',
  colIndicator: 'Indicator',
  colValue: 'Value',
  colWindow: 'Window',
  colN: 'n',
  colStatus: 'Data',
  sufficient: 'sufficient',
  insufficient: 'insufficient data',
  noIndicators: 'No indicator computed yet.',
  unmeasured: 'Indicators without any reading in their window ({n}), all insufficient',
  yes: 'yes',
  no: 'no',
  groupGlucose: 'Glucose (CGM)',
  groupBp: 'Blood pressure',
  groupWeight: 'Weight',
  groupSpo2: 'SpO2',
  groupHr: 'Heart rate',
  groupTemp: 'Temperature',
  groupAdherence: 'Adherence',
  groupOther: 'Other',
  adherenceDaysValue: '{n} / 30 days',

  // alerts
  alertsTitle: 'Alerts',
  noAlertsForPatient: 'No alert.',
  colRule: 'Rule',
  colSeverity: 'Severity',
  colAlertStatus: 'Status',
  colOpened: 'Opened',
  colThreshold: 'Threshold',
  colActions: 'Action',
  acknowledge: 'Acknowledge',
  acknowledging: 'Acknowledging…',
  acknowledgeLabel: 'Acknowledge the {rule} alert opened {at}',
  acknowledged: 'The {rule} alert is acknowledged.',
  acknowledgedResolved: 'The {rule} alert is acknowledged and resolved: its condition had cleared.',
  acknowledgedAt: 'acknowledged {at}',
  resolvedAt: 'resolved {at}',
  readingsBehind: '{n} readings',
  readingsBehindOne: '1 reading',
  showClosed: 'Show acknowledged and resolved alerts',

  // thresholds
  thresholdsTitle: 'Alert thresholds',
  thresholdsIntro: 'Thresholds in force for this patient. A custom value replaces the default for this patient only.',
  defaultValue: 'default {value}',
  custom: 'custom',
  byDefault: 'default',
  save: 'Save',
  saving: 'Saving…',
  resetDefault: 'Reset to default',
  saved: 'Saved: {rule} is now {value}.',
  resetDone: 'Reset: {rule} is back to its default ({value}).',
  enterNumber: 'Enter a number.',
  systolic: 'Systolic',
  diastolic: 'Diastolic',

  // ops
  opsTitle: 'Live ingestion',
  readingsPerSecond: 'Readings per second',
  lastSecond: 'last second',
  lastMinute: 'last minute (mean)',
  last15Minutes: 'last 15 minutes (mean)',
  throughputChart: 'Readings per second, last 2 minutes',
  throughputAria: 'Readings per second over the last {s} seconds: now {now}, peak {peak}.',
  ackLatency: 'PUBACK latency',
  ackLatencyHelp: 'publish → PUBACK, latest {n} messages',
  queue: 'Queue',
  queueRows: 'readings',
  queueBytes: 'bytes',
  queueWaiting: 'messages waiting',
  connectedDevices: 'Connected devices',
  batches: 'Batches',
  batchRows: 'rows per batch (p50)',
  commitP50: 'commit p50',
  commitP99: 'commit p99',
  aggregationLag: 'Aggregation lag',
  aggregationLastRun: 'last run {at}',
  aggregationNeverRan: 'not run yet',
  notifications: 'Notifications',
  notificationsDead: 'dead letters',
  notificationsPending: 'waiting',
  health: 'Health',
  healthDatabase: 'Database',
  healthBroker: 'MQTT broker',
  healthUp: 'reachable',
  healthDown: 'unreachable',
  healthUnknown: 'unknown',
  rejectionsByReason: 'Rejections by reason (since start)',
  noRejections: 'No rejection since the service started.',
  latestRejections: 'Latest rejections',
  colReason: 'Reason',
  colCount: 'Count',
  colDevice: 'Device',
  colReadingId: 'Reading id',
  colDetail: 'Detail',
  colReceived: 'Received',
  updatedAt: 'Updated {at}',
  paused: 'Paused while this tab is hidden.',
  pollFailing: 'The figures are not updating: {message} Retrying every second.',
  listeners: 'Listeners',
  instancesTitle: 'Instances',
  instancesTotal: '{live} live · {rps} readings/s (last minute) · {devices} devices connected · {rows} readings queued',
  instancesUnavailable: 'The other instances cannot be read (database unreachable): this instance only.',
  colInstance: 'Instance',
  colState: 'State',
  colRateMinute: 'readings/s (1 min)',
  colAckP99: 'PUBACK p99',
  colQueued: 'readings queued',
  colReported: 'Reported',
  instanceThis: 'this one',
  instanceLive: 'live',
  instanceSilent: 'silent',
  seconds: '{n} s',
  ms: '{n} ms',
  // worklist (README, "Care teams")
  navWorklist: 'Worklist',
  worklistTitle: 'Worklist',
  worklistIntro: 'The patients of your teams, those with open alerts first: most urgent, then waiting longest.',
  offDuty: 'Team off duty until {until} ({team}).',
  offDutyDetail:
    'Alerts that open until then are read when the team is back on duty. This is not emergency care: patients call 15.',
  onDuty: 'On duty: {teams}.',
  teamFilter: 'Team',
  allTeams: 'All teams',
  colProgramme: 'Programme',
  colWaiting: 'Waiting since',
  worklistEmpty: 'No patient is enrolled with your teams now.',
  worklistNone: 'No patient matches.',
  worklistTruncated: 'Showing the {shown} most urgent of {total} patients.',
  worklistUpdated: 'Updated {at}',
  refresh: 'Refresh',
  signedInPractitioner: '{name}',
  none: '—',
} as const;

export type MessageKey = keyof typeof en;

const fr: Record<MessageKey, string> = {
  appName: 'Vitalink',
  skipToContent: 'Aller au contenu',
  navPatients: 'Patients',
  navOps: 'Exploitation',
  navDevices: 'Appareils',
  devicesTitle: 'Appareils',
  devicesIntro:
    'Comment chaque appareil envoie ses mesures et quand il a joint le service pour la dernière fois (écrit toutes les 10 s, donc jusqu’à 10 s de retard).',
  colPatientNow: 'Patient actuel',
  colTransport: 'Envoie par',
  colLastContact: 'Dernier contact',
  colLastStored: 'Dernière mesure enregistrée',
  deviceEnabled: 'activé',
  deviceDisabled: 'désactivé',
  transportUnknown: 'pas encore vu',
  noDevices: 'Aucun appareil : enregistrez-en un avec vitalink devices add.',
  devicesTruncated: 'Les {n} premiers appareils sont affichés.',
  neededAdmin: 'administrateur',
  signOut: 'Se déconnecter',
  signedInAs: 'Connecté en tant que {role}',
  signedInPatients: '{n} patients',
  signedInPatient: '1 patient',
  roleAdmin: 'administrateur',
  roleOperator: 'opérateur',
  roleClinician: 'clinicien',
  loading: 'Chargement…',
  retry: 'Réessayer',
  networkError: 'Le service ne répond pas. Vérifiez qu’il fonctionne, puis réessayez.',
  genericError: 'Le service a refusé la requête : {message}',
  notFound: 'Introuvable : {what}.',
  forbidden: 'Cette vue demande un jeton du rôle {needed} ; le vôtre a le rôle {role}.',
  neededClinician: 'clinicien',
  neededClinicianOrAdmin: 'clinicien ou administrateur',
  neededOperatorOrAdmin: 'opérateur ou administrateur',
  unknownPage: 'Il n’y a pas de page à l’adresse {path}.',
  goHome: 'Aller à la page d’accueil',

  loginTitle: 'Connexion à Vitalink',
  loginIntro:
    'Saisissez votre jeton d’API. Il n’est conservé que dans cet onglet, jusqu’à la déconnexion ou la fermeture de l’onglet.',
  tokenLabel: 'Jeton d’API',
  tokenHelp:
    'Un administrateur en crée un avec : vitalink tokens create --role clinician --practitioner ID (ou --patients …)',
  signIn: 'Se connecter',
  signingIn: 'Connexion…',
  tokenRequired: 'Saisissez un jeton.',
  tokenRefused: 'Ce jeton est inconnu ou révoqué. Vérifiez-le, ou demandez-en un nouveau à un administrateur.',
  sessionEnded: 'Le service a refusé votre jeton (il a peut-être été révoqué). Reconnectez-vous.',
  signedOut: 'Vous êtes déconnecté.',
  signInWith: 'Se connecter avec {label}',
  signInWithHelp:
    'Pour les professionnels de santé : votre compte de professionnel, les patients de vos équipes de soins.',
  orWithToken: 'Ou avec un jeton d’API',
  signedInName: 'Connecté : {name}',
  sessionExpired: 'Votre session a pris fin (expirée, déconnectée ou révoquée). Reconnectez-vous.',

  patientsTitle: 'Patients',
  filterLabel: 'Filtrer par nom ou identifiant',
  filterPlaceholder: 'Nom ou identifiant',
  onlyOpenAlerts: 'Seulement les patients avec des alertes ouvertes',
  colPatient: 'Patient',
  colTimeZone: 'Fuseau horaire',
  colAlerts: 'Alertes ouvertes',
  colLastReading: 'Dernière mesure',
  colAdherence: 'Observance (30 j)',
  sortBy: 'Trier par {column}',
  noPatients: 'Aucun patient ne correspond.',
  noPatientsAtAll: 'Aucun patient pour l’instant.',
  pageOf: 'Page {page} sur {pages}',
  patientCount: '{n} patients',
  patientCountOne: '1 patient',
  previousPage: 'Page précédente',
  nextPage: 'Page suivante',
  truncatedPatients: 'Seuls les {n} premiers patients sont listés.',
  noAlerts: 'aucune',
  never: 'jamais',
  adherenceValue: '{n} / 30 jours',
  adherenceLow: 'sous le seuil habituel de 16 jours',
  pageSize: 'Lignes par page',

  backToList: 'Tous les patients',
  patientId: 'Identifiant',
  timeZone: 'Fuseau horaire',
  lastReading: 'Dernière mesure',
  sections: 'Sections',
  sectionCharts: 'Mesures',
  sectionGlucose: 'Glucose',
  sectionIndicators: 'Indicateurs',
  sectionAlerts: 'Alertes',
  sectionThresholds: 'Seuils d’alerte',
  rangeLabel: 'Période',
  range24h: '24 h',
  range7d: '7 jours',
  range14d: '14 jours',
  range30d: '30 jours',
  range90d: '90 jours',
  rawPoints: 'chaque mesure',
  dailyBands: 'bande min–max et moyenne par jour',
  noReadingsInRange: 'Aucune mesure sur cette période.',
  noReadingTypes: 'Aucune mesure ces 90 derniers jours.',
  truncatedReadings: 'Seules les {n} dernières mesures sont tracées.',
  chartSummaryRaw: '{type}, {range} : {n} mesures de {min} à {max} {unit}, moyenne {mean}.',
  chartSummaryDaily:
    '{type}, {range} : valeurs quotidiennes sur {days} jours, de {min} à {max} {unit}, moyenne {mean}.',
  chartSummaryBp:
    '{type}, {range} : {n} mesures, systolique de {sysMin} à {sysMax}, diastolique de {diaMin} à {diaMax} {unit}.',
  chartSummaryEmpty: '{type}, {range} : aucune mesure.',
  chartThresholds: 'Lignes de seuil : {list}.',
  seriesValue: 'Valeur',
  seriesMean: 'Moyenne du jour',
  seriesMin: 'Min du jour',
  seriesMax: 'Max du jour',
  seriesSystolic: 'Systolique',
  seriesDiastolic: 'Diastolique',
  seriesSystolicMean: 'Systolique, moyenne du jour',
  seriesDiastolicMean: 'Diastolique, moyenne du jour',
  seriesDailyTotal: 'Total du jour',
  seriesTime: 'Heure',
  seriesDay: 'Jour',
  thresholdSeries: 'Seuil : {rule} {value}',

  glucoseTitle: 'Glucose',
  tirTitle: 'Temps dans les cibles',
  tirWindow: '14 derniers jours, {n} mesures du capteur ({from} – {to})',
  tirVeryHigh: 'Très élevé',
  tirHigh: 'Élevé',
  tirInRange: 'Dans la cible',
  tirLow: 'Bas',
  tirVeryLow: 'Très bas',
  tirTarget: 'objectif {target}',
  tirNone: 'Pas encore d’indicateur du capteur de glucose.',
  tirAria: 'Temps dans les cibles : {list}.',
  agpTitle: 'Profil glycémique ambulatoire (AGP)',
  agpWindow:
    '14 derniers jours ({days} jours calendaires avec mesures), {n} mesures du capteur, par heure de la journée ({tz})',
  agpNone: 'Aucune mesure du capteur ces 14 derniers jours : pas de profil.',
  agpAria:
    'Profil glycémique ambulatoire des 14 derniers jours : médiane de {minMedian} à {maxMedian} mg/dL selon l’heure ; bandes des 25e–75e et 5e–95e percentiles.',
  agpMedian: 'Médiane',
  agpP5: '5e percentile',
  agpP25: '25e percentile',
  agpP75: '75e percentile',
  agpP95: '95e percentile',
  agpTargetLow: 'Cible 70',
  agpTargetHigh: 'Cible 180',
  agpTimeOfDay: 'Heure de la journée',

  indicatorsTitle: 'Indicateurs',
  colIndicator: 'Indicateur',
  colValue: 'Valeur',
  colWindow: 'Fenêtre',
  colN: 'n',
  colStatus: 'Données',
  sufficient: 'suffisantes',
  insufficient: 'données insuffisantes',
  noIndicators: 'Aucun indicateur calculé pour l’instant.',
  unmeasured: 'Indicateurs sans aucune mesure dans leur fenêtre ({n}), tous insuffisants',
  yes: 'oui',
  no: 'non',
  groupGlucose: 'Glucose (capteur)',
  groupBp: 'Pression artérielle',
  groupWeight: 'Poids',
  groupSpo2: 'SpO2',
  groupHr: 'Fréquence cardiaque',
  groupTemp: 'Température',
  groupAdherence: 'Observance',
  groupOther: 'Autres',
  adherenceDaysValue: '{n} / 30 jours',

  alertsTitle: 'Alertes',
  noAlertsForPatient: 'Aucune alerte.',
  colRule: 'Règle',
  colSeverity: 'Gravité',
  colAlertStatus: 'État',
  colOpened: 'Ouverte',
  colThreshold: 'Seuil',
  colActions: 'Action',
  acknowledge: 'Acquitter',
  acknowledging: 'Acquittement…',
  acknowledgeLabel: 'Acquitter l’alerte {rule} ouverte le {at}',
  acknowledged: 'L’alerte {rule} est acquittée.',
  acknowledgedResolved: 'L’alerte {rule} est acquittée et résolue : sa condition avait cessé.',
  acknowledgedAt: 'acquittée le {at}',
  resolvedAt: 'résolue le {at}',
  readingsBehind: '{n} mesures',
  readingsBehindOne: '1 mesure',
  showClosed: 'Afficher les alertes acquittées et résolues',

  thresholdsTitle: 'Seuils d’alerte',
  thresholdsIntro:
    'Seuils en vigueur pour ce patient. Une valeur personnalisée remplace la valeur par défaut pour ce patient seulement.',
  defaultValue: 'par défaut {value}',
  custom: 'personnalisé',
  byDefault: 'par défaut',
  save: 'Enregistrer',
  saving: 'Enregistrement…',
  resetDefault: 'Revenir au défaut',
  saved: 'Enregistré : {rule} vaut maintenant {value}.',
  resetDone: 'Rétabli : {rule} revient à sa valeur par défaut ({value}).',
  enterNumber: 'Saisissez un nombre.',
  systolic: 'Systolique',
  diastolic: 'Diastolique',

  opsTitle: 'Ingestion en direct',
  readingsPerSecond: 'Mesures par seconde',
  lastSecond: 'dernière seconde',
  lastMinute: 'dernière minute (moyenne)',
  last15Minutes: '15 dernières minutes (moyenne)',
  throughputChart: 'Mesures par seconde, 2 dernières minutes',
  throughputAria: 'Mesures par seconde sur les {s} dernières secondes : maintenant {now}, pic {peak}.',
  ackLatency: 'Latence du PUBACK',
  ackLatencyHelp: 'publication → PUBACK, {n} derniers messages',
  queue: 'File d’attente',
  queueRows: 'mesures',
  queueBytes: 'octets',
  queueWaiting: 'messages en attente',
  connectedDevices: 'Appareils connectés',
  batches: 'Lots',
  batchRows: 'lignes par lot (p50)',
  commitP50: 'commit p50',
  commitP99: 'commit p99',
  aggregationLag: 'Retard d’agrégation',
  aggregationLastRun: 'dernier passage {at}',
  aggregationNeverRan: 'pas encore passé',
  notifications: 'Notifications',
  notificationsDead: 'en échec définitif',
  notificationsPending: 'en attente',
  health: 'Santé',
  healthDatabase: 'Base de données',
  healthBroker: 'Broker MQTT',
  healthUp: 'joignable',
  healthDown: 'injoignable',
  healthUnknown: 'inconnu',
  rejectionsByReason: 'Rejets par motif (depuis le démarrage)',
  noRejections: 'Aucun rejet depuis le démarrage du service.',
  latestRejections: 'Derniers rejets',
  colReason: 'Motif',
  colCount: 'Nombre',
  colDevice: 'Appareil',
  colReadingId: 'Identifiant de mesure',
  colDetail: 'Détail',
  colReceived: 'Reçu',
  updatedAt: 'Mis à jour à {at}',
  paused: 'En pause tant que cet onglet est masqué.',
  pollFailing: 'Les chiffres ne se mettent plus à jour : {message} Nouvel essai chaque seconde.',
  listeners: 'Écoutes',
  instancesTitle: 'Instances',
  instancesTotal:
    '{live} en service · {rps} mesures/s (dernière minute) · {devices} appareils connectés · {rows} mesures en file',
  instancesUnavailable:
    'Les autres instances sont illisibles (base de données injoignable) : cette instance seulement.',
  colInstance: 'Instance',
  colState: 'État',
  colRateMinute: 'mesures/s (1 min)',
  colAckP99: 'PUBACK p99',
  colQueued: 'mesures en file',
  colReported: 'Signalée',
  instanceThis: 'celle-ci',
  instanceLive: 'en service',
  instanceSilent: 'muette',
  seconds: '{n} s',
  ms: '{n} ms',
  // worklist
  navWorklist: 'Liste de travail',
  worklistTitle: 'Liste de travail',
  worklistIntro:
    'Les patients de vos équipes, ceux qui ont des alertes ouvertes d’abord : les plus urgentes, puis celles qui attendent depuis le plus longtemps.',
  offDuty: 'Équipe hors service jusqu’à {until} ({team}).',
  offDutyDetail:
    'Les alertes qui s’ouvrent d’ici là seront lues à la reprise du service. Ce n’est pas une prise en charge d’urgence : les patients appellent le 15.',
  onDuty: 'En service : {teams}.',
  teamFilter: 'Équipe',
  allTeams: 'Toutes les équipes',
  colProgramme: 'Programme',
  colWaiting: 'En attente depuis',
  worklistEmpty: 'Aucun patient n’est inclus auprès de vos équipes en ce moment.',
  worklistNone: 'Aucun patient ne correspond.',
  worklistTruncated: 'Les {shown} patients les plus urgents sur {total}.',
  worklistUpdated: 'Mis à jour {at}',
  refresh: 'Actualiser',
  signedInPractitioner: '{name}',
  none: '—',
};

const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, fr };

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const template = dictionaries[lang][key] ?? en[key];
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

type Labels<K extends string = string> = Readonly<Record<K, { en: string; fr: string }>>;

/** The label of a key the API sent; a key this dashboard does not know is shown as is. */
function label(table: Labels, key: string): string {
  return Object.hasOwn(table, key) ? table[key][lang] : key;
}

const readingTypes: Labels<ReadingType> = {
  heart_rate: { en: 'Heart rate', fr: 'Fréquence cardiaque' },
  spo2: { en: 'SpO2', fr: 'SpO2' },
  blood_pressure: { en: 'Blood pressure', fr: 'Pression artérielle' },
  body_weight: { en: 'Weight', fr: 'Poids' },
  body_temperature: { en: 'Temperature', fr: 'Température' },
  blood_glucose: { en: 'Glucose (meter)', fr: 'Glycémie (lecteur)' },
  cgm_glucose: { en: 'Glucose (CGM)', fr: 'Glucose (capteur)' },
  respiratory_rate: { en: 'Respiratory rate', fr: 'Fréquence respiratoire' },
  steps: { en: 'Steps', fr: 'Pas' },
};

const rules: Labels<RuleKey> = {
  spo2_low: { en: 'Low SpO2', fr: 'SpO2 basse' },
  weight_gain: { en: 'Weight gain', fr: 'Prise de poids' },
  bp_high: { en: 'High blood pressure', fr: 'Pression artérielle élevée' },
  fever: { en: 'Fever', fr: 'Fièvre' },
  hypoglycemia: { en: 'Hypoglycaemia', fr: 'Hypoglycémie' },
  hyperglycemia: { en: 'Hyperglycaemia', fr: 'Hyperglycémie' },
  tachycardia: { en: 'Tachycardia', fr: 'Tachycardie' },
  bradycardia: { en: 'Bradycardia', fr: 'Bradycardie' },
  no_data: { en: 'No data', fr: 'Absence de données' },
};

const ruleHelp: Labels<RuleKey> = {
  spo2_low: { en: 'any SpO2 reading at or below', fr: 'toute mesure de SpO2 inférieure ou égale à' },
  weight_gain: { en: 'weight gain within 72 h above', fr: 'prise de poids en 72 h supérieure à' },
  bp_high: {
    en: 'one reading at or above (systolic or diastolic)',
    fr: 'une mesure supérieure ou égale (systolique ou diastolique)',
  },
  fever: { en: 'a temperature at or above', fr: 'une température supérieure ou égale à' },
  hypoglycemia: { en: 'a glucose reading (meter or CGM) below', fr: 'une glycémie (lecteur ou capteur) inférieure à' },
  hyperglycemia: { en: 'glucose above, 2 readings in a row', fr: 'glucose supérieur à, 2 mesures de suite' },
  tachycardia: {
    en: 'heart rate above, 2 readings in a row',
    fr: 'fréquence cardiaque supérieure à, 2 mesures de suite',
  },
  bradycardia: {
    en: 'heart rate below, 2 readings in a row',
    fr: 'fréquence cardiaque inférieure à, 2 mesures de suite',
  },
  no_data: { en: 'no reading of an expected type for', fr: 'aucune mesure d’un type attendu pendant' },
};

const severities: Labels<AlertSeverity> = {
  critical: { en: 'critical', fr: 'critique' },
  high: { en: 'high', fr: 'élevée' },
  moderate: { en: 'moderate', fr: 'modérée' },
  low: { en: 'low', fr: 'faible' },
};

const statuses: Labels<AlertStatus> = {
  open: { en: 'open', fr: 'ouverte' },
  acknowledged: { en: 'acknowledged', fr: 'acquittée' },
  resolved: { en: 'resolved', fr: 'résolue' },
};

const indicators: Labels<IndicatorKey> = {
  cgm_mean: { en: 'Mean glucose', fr: 'Glucose moyen' },
  gmi: { en: 'GMI (glucose management indicator)', fr: 'GMI (indicateur de gestion du glucose)' },
  glucose_cv: { en: 'Glucose variability (CV, target ≤ 36 %)', fr: 'Variabilité glycémique (CV, cible ≤ 36 %)' },
  tir_70_180: { en: 'Time in range 70–180 mg/dL', fr: 'Temps dans la cible 70–180 mg/dL' },
  tbr_70: { en: 'Time below 70 mg/dL', fr: 'Temps sous 70 mg/dL' },
  tbr_54: { en: 'Time below 54 mg/dL', fr: 'Temps sous 54 mg/dL' },
  tar_180: { en: 'Time above 180 mg/dL', fr: 'Temps au-dessus de 180 mg/dL' },
  tar_250: { en: 'Time above 250 mg/dL', fr: 'Temps au-dessus de 250 mg/dL' },
  sensor_active: { en: 'Sensor active', fr: 'Capteur actif' },
  bp_mean_systolic: { en: 'Home BP mean, systolic', fr: 'PA moyenne à domicile, systolique' },
  bp_mean_diastolic: { en: 'Home BP mean, diastolic', fr: 'PA moyenne à domicile, diastolique' },
  bp_above_threshold: { en: 'Home BP above 135/85', fr: 'PA à domicile au-dessus de 135/85' },
  weight_change_72h: { en: 'Weight change, 72 h', fr: 'Variation de poids, 72 h' },
  weight_change_7d: { en: 'Weight change, 7 days', fr: 'Variation de poids, 7 jours' },
  spo2_min: { en: 'SpO2 minimum', fr: 'SpO2 minimale' },
  spo2_mean: { en: 'SpO2 mean', fr: 'SpO2 moyenne' },
  spo2_below_90: { en: 'SpO2 readings below 90 %', fr: 'Mesures de SpO2 sous 90 %' },
  hr_min: { en: 'Heart rate minimum', fr: 'Fréquence cardiaque minimale' },
  hr_mean: { en: 'Heart rate mean', fr: 'Fréquence cardiaque moyenne' },
  hr_max: { en: 'Heart rate maximum', fr: 'Fréquence cardiaque maximale' },
  temp_max: { en: 'Temperature maximum', fr: 'Température maximale' },
  adherence_days: { en: 'Days with a reading', fr: 'Jours avec une mesure' },
};

const reasons: Labels<RejectionReason> = {
  invalid_json: { en: 'invalid JSON', fr: 'JSON invalide' },
  invalid_shape: { en: 'invalid message shape', fr: 'message mal formé' },
  invalid_reading: { en: 'invalid reading', fr: 'mesure invalide' },
  unknown_type: { en: 'unknown type', fr: 'type inconnu' },
  unit: { en: 'unit not accepted', fr: 'unité refusée' },
  out_of_range: { en: 'out of range', fr: 'hors plage' },
  future: { en: 'in the future', fr: 'dans le futur' },
  too_old: { en: 'too old', fr: 'trop ancienne' },
  unassigned: { en: 'device unassigned', fr: 'appareil non attribué' },
  conflict: { en: 'conflicting resend', fr: 'renvoi contradictoire' },
};

const transports: Labels<DeviceTransport> = {
  mqtt: { en: 'MQTT', fr: 'MQTT' },
  https: { en: 'HTTPS', fr: 'HTTPS' },
  nightscout: { en: 'Nightscout upload', fr: 'Envoi Nightscout' },
};

/** UCUM codes as stored, written the way a clinician reads them (no conversion). */
const units: Labels = {
  'mm[Hg]': { en: 'mmHg', fr: 'mmHg' },
  Cel: { en: '°C', fr: '°C' },
  '/min': { en: '/min', fr: '/min' },
  '{steps}': { en: 'steps', fr: 'pas' },
  '%': { en: '%', fr: '%' },
  'mg/dL': { en: 'mg/dL', fr: 'mg/dL' },
  kg: { en: 'kg', fr: 'kg' },
  h: { en: 'h', fr: 'h' },
  d: { en: 'days', fr: 'jours' },
  '1': { en: '', fr: '' },
};

/** Monitoring programmes (src/domain/programmes.ts): the télésurveillance activities' usual names. */
const programmes: Labels<Programme> = {
  heart_failure: { en: 'Heart failure', fr: 'Insuffisance cardiaque' },
  chronic_kidney_failure: { en: 'Chronic kidney failure', fr: 'Insuffisance rénale chronique' },
  chronic_respiratory_failure: { en: 'Chronic respiratory failure', fr: 'Insuffisance respiratoire chronique' },
  diabetes: { en: 'Diabetes', fr: 'Diabète' },
  cardiac_implantable_device: { en: 'Cardiac implantable device', fr: 'Prothèse cardiaque implantable' },
  hypertension: { en: 'Hypertension', fr: 'Hypertension artérielle' },
};

export const programmeLabel = (programme: string) => label(programmes, programme);
export const typeLabel = (type: string) => label(readingTypes, type);
export const ruleLabel = (rule: string) => label(rules, rule);
export const ruleHelpText = (rule: string) => label(ruleHelp, rule);
export const severityLabel = (severity: string) => label(severities, severity);
export const statusLabel = (status: string) => label(statuses, status);
export const reasonLabel = (reason: string) => label(reasons, reason);
export const unitLabel = (unit: string) => label(units, unit);
export const transportLabel = (transport: string) => label(transports, transport);

export function indicatorLabel(key: string): string {
  if (key.startsWith('adherence_days_')) {
    const type = key.slice('adherence_days_'.length);
    return `${label(indicators, 'adherence_days')} (${typeLabel(type)})`;
  }
  return label(indicators, key);
}
