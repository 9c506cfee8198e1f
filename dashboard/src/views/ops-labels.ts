/**
 * The operator view's labels for its latency windows, history, devices and storage,
 * in the dashboard's two languages (the language is i18n.ts's choice).
 */
import { lang } from '../i18n.ts';

const en = {
  latencyWindows: 'PUBACK latency, by window',
  lastMinuteWindow: 'last minute',
  lastFiveMinutesWindow: 'last 5 minutes',
  noMessagesIn: 'no messages in the {window}',
  messagesIn: '{n} messages in the {window}',
  latencyAccuracy: 'publish → PUBACK on this instance; percentiles within 7.5 %, max exact',
  commitIn: 'batch commit p99 {value} over the {window}',
  historyTitle: 'Last 15 minutes',
  historyStored: 'readings stored per minute',
  historyAckP50: 'PUBACK p50 (ms)',
  historyAckP99: 'PUBACK p99 (ms)',
  historyAria:
    'Readings stored per minute and PUBACK latency over the last 15 minutes on this instance: {stored} readings in all, the highest p99 {p99}.',
  historyNote: "this instance's memory, minute by minute (the current minute is still running)",
  storageTitle: 'Storage',
  databaseSize: 'database',
  partitionsTitle: 'Readings, by month',
  colMonth: 'month',
  colSize: 'size',
  colRowsEstimate: 'rows (estimate)',
  largestTables: 'Largest tables',
  colTable: 'table',
  notAnalysed: 'not yet analysed',
  storageNote: "PostgreSQL's catalog: sizes on disk with indexes, row counts as the planner estimates them",
  opsDevicesTitle: 'Devices',
  colConnected: 'connected',
  colLastContact: 'last contact',
  colLastReading: 'last reading',
  colLastRejection: 'last rejection',
  colRejections24h: 'rejections, 24 h',
  connectedHere: 'here',
  notConnected: 'no',
  noOpsDevices: 'No devices yet.',
  opsDevicesMore: 'the first {n} devices by id',
};

const fr: typeof en = {
  latencyWindows: 'Latence du PUBACK, par fenêtre',
  lastMinuteWindow: 'dernière minute',
  lastFiveMinutesWindow: '5 dernières minutes',
  noMessagesIn: 'aucun message dans la {window}',
  messagesIn: '{n} messages dans la {window}',
  latencyAccuracy: 'publication → PUBACK sur cette instance ; centiles à 7,5 % près, max exact',
  commitIn: 'p99 de validation des lots {value} sur la {window}',
  historyTitle: '15 dernières minutes',
  historyStored: 'mesures enregistrées par minute',
  historyAckP50: 'PUBACK p50 (ms)',
  historyAckP99: 'PUBACK p99 (ms)',
  historyAria:
    'Mesures enregistrées par minute et latence du PUBACK sur les 15 dernières minutes de cette instance : {stored} mesures en tout, p99 le plus haut {p99}.',
  historyNote: 'mémoire de cette instance, minute par minute (la minute en cours n’est pas finie)',
  storageTitle: 'Stockage',
  databaseSize: 'base de données',
  partitionsTitle: 'Mesures, par mois',
  colMonth: 'mois',
  colSize: 'taille',
  colRowsEstimate: 'lignes (estimation)',
  largestTables: 'Tables les plus grandes',
  colTable: 'table',
  notAnalysed: 'pas encore analysée',
  storageNote:
    'catalogue de PostgreSQL : tailles sur disque avec les index, lignes selon l’estimation du planificateur',
  opsDevicesTitle: 'Appareils',
  colConnected: 'connecté',
  colLastContact: 'dernier contact',
  colLastReading: 'dernière mesure',
  colLastRejection: 'dernier rejet',
  colRejections24h: 'rejets, 24 h',
  connectedHere: 'ici',
  notConnected: 'non',
  noOpsDevices: 'Aucun appareil pour l’instant.',
  opsDevicesMore: 'les {n} premiers appareils par identifiant',
};

export type OpsLabel = keyof typeof en;

export function opsT(key: OpsLabel, vars?: Record<string, string | number>): string {
  const template = (lang === 'fr' ? fr : en)[key];
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(vars?.[name] ?? `{${name}}`));
}
