import { existsSync } from 'node:fs';
import type { Command } from './cli/command.ts';
import { UsageError } from './cli/output.ts';
import { AppError, PortUnavailableError } from './errors.ts';

/**
 * The `vitalink` command: a table of commands, each module imported only when its
 * command runs, so that `serve` never loads the development tools (simulators/)
 * and `--help` or an admin command loads neither fastify nor aedes.
 */
interface Entry {
  readonly summary: string;
  load(): Promise<Command>;
  /** A development tool: it needs simulators/, present in a clone of the repository only. */
  readonly tool?: boolean;
}

const COMMANDS: Record<string, Entry> = {
  serve: {
    summary: 'broker + ingestion + aggregation jobs + HTTP API and dashboard, until SIGINT/SIGTERM',
    load: () => import('./cli/serve.command.ts').then((m) => m.serve),
  },
  migrate: {
    summary: 'applies pending database migrations and exits',
    load: () => import('./cli/migrate.command.ts').then((m) => m.migrate),
  },
  'patients add': {
    summary: 'creates a patient',
    load: () => import('./cli/patients.command.ts').then((m) => m.patientsAdd),
  },
  'patients set-identity': {
    summary: "sets a patient's identity: birth traits, INS and identity status",
    load: () => import('./cli/patients.command.ts').then((m) => m.patientsSetIdentity),
  },
  'patients identity': {
    summary: "shows a patient's identity: INS, identity status, birth traits",
    load: () => import('./cli/patients.command.ts').then((m) => m.patientsIdentity),
  },
  'devices add': {
    summary: 'provisions a device; prints its secret once',
    load: () => import('./cli/devices.command.ts').then((m) => m.devicesAdd),
  },
  'devices assign': {
    summary: 'records an assignment of a device to a patient',
    load: () => import('./cli/devices.command.ts').then((m) => m.devicesAssign),
  },
  'devices list': {
    summary: 'lists devices with their state',
    load: () => import('./cli/devices.command.ts').then((m) => m.devicesList),
  },
  'devices show': {
    summary: 'shows one device and its state',
    load: () => import('./cli/devices.command.ts').then((m) => m.devicesShow),
  },
  'devices disable': {
    summary: 'disables a device and closes its live session',
    load: () => import('./cli/devices.command.ts').then((m) => m.devicesDisable),
  },
  'devices enable': {
    summary: 'enables a disabled device again',
    load: () => import('./cli/devices.command.ts').then((m) => m.devicesEnable),
  },
  'devices rotate-secret': {
    summary: 'gives a device a new secret; prints it once',
    load: () => import('./cli/devices.command.ts').then((m) => m.devicesRotateSecret),
  },
  'devices token create': {
    summary: 'prints once a device token (HTTPS readings of that device only)',
    load: () => import('./cli/device-tokens.command.ts').then((m) => m.deviceTokensCreate),
  },
  'devices token list': {
    summary: "lists a device's tokens with their state",
    load: () => import('./cli/device-tokens.command.ts').then((m) => m.deviceTokensList),
  },
  'devices token revoke': {
    summary: 'revokes a device token',
    load: () => import('./cli/device-tokens.command.ts').then((m) => m.deviceTokensRevoke),
  },
  'nightscout enable': {
    summary: "prints once the upload secret of a patient's Nightscout-style CGM app",
    load: () => import('./cli/nightscout.command.ts').then((m) => m.nightscoutEnable),
  },
  'rejections reprocess': {
    summary: 're-runs rejected readings through validation',
    load: () => import('./cli/rejections.command.ts').then((m) => m.rejectionsReprocess),
  },
  // Issue #15 item 4: feeding Mon espace santé.
  'export mes': {
    summary: 'prints the ANS feeding bundles of a patient for Mon espace santé (NDJSON), without sending them',
    load: () => import('./cli/mes.command.ts').then((m) => m.exportMes),
  },
  'mes pushes': {
    summary: 'what was sent to Mon espace santé for a patient, when, and the answer',
    load: () => import('./cli/mes.command.ts').then((m) => m.mesPushes),
  },
  'mes replay': {
    summary: 'sends refused or dead Mon espace santé pushes again (once the cause is fixed)',
    load: () => import('./cli/mes.command.ts').then((m) => m.mesReplay),
  },
  'audit export': {
    summary: "prints every audit row about one patient, oldest first (a patient's access request)",
    load: () => import('./cli/audit.command.ts').then((m) => m.auditExport),
  },
  // Issue #14, items 6-7 (alerts' history, the monthly activity report).
  'alerts history': {
    summary: 'everything that happened to an alert: who, when, what',
    load: () => import('./cli/alerts.command.ts').then((m) => m.alertsHistory),
  },
  'report activity': {
    summary: 'the monthly activity report of a care team (--json, --csv)',
    load: () => import('./cli/report.command.ts').then((m) => m.reportActivity),
  },
  retention: {
    summary: 'applies the retention policy and says what it removed',
    load: () => import('./cli/retention.command.ts').then((m) => m.retention),
  },
  'sessions revoke': {
    summary: "ends every sign-in session of a practitioner (the dashboard's cookie)",
    load: () => import('./cli/sessions.command.ts').then((m) => m.sessionsRevoke),
  },
  'tokens create': {
    summary: 'prints an API token once',
    load: () => import('./cli/tokens.command.ts').then((m) => m.tokensCreate),
  },
  'tokens list': {
    summary: 'lists API tokens with their state',
    load: () => import('./cli/tokens.command.ts').then((m) => m.tokensList),
  },
  'tokens revoke': {
    summary: 'revokes an API token',
    load: () => import('./cli/tokens.command.ts').then((m) => m.tokensRevoke),
  },
  'practitioners add': {
    summary: 'adds a health professional',
    load: () => import('./cli/practitioners.command.ts').then((m) => m.practitionersAdd),
  },
  'practitioners list': {
    summary: 'lists practitioners',
    load: () => import('./cli/practitioners.command.ts').then((m) => m.practitionersList),
  },
  'practitioners show': {
    summary: 'shows a practitioner and their teams',
    load: () => import('./cli/practitioners.command.ts').then((m) => m.practitionersShow),
  },
  'teams add': {
    summary: 'adds a care team',
    load: () => import('./cli/teams.command.ts').then((m) => m.teamsAdd),
  },
  'teams list': {
    summary: 'lists care teams with whether each is on duty now',
    load: () => import('./cli/teams.command.ts').then((m) => m.teamsList),
  },
  'teams show': {
    summary: 'shows a care team, its duty now and its members',
    load: () => import('./cli/teams.command.ts').then((m) => m.teamsShow),
  },
  'teams add-member': {
    summary: 'adds a practitioner to a care team',
    load: () => import('./cli/teams.command.ts').then((m) => m.teamsAddMember),
  },
  'teams remove-member': {
    summary: 'removes a practitioner from a care team',
    load: () => import('./cli/teams.command.ts').then((m) => m.teamsRemoveMember),
  },
  'teams set-hours': {
    summary: "sets a care team's service hours (and time zone)",
    load: () => import('./cli/teams.command.ts').then((m) => m.teamsSetHours),
  },
  enrol: {
    summary: 'enrols a patient in a monitoring programme followed by a team',
    load: () => import('./cli/enrolments.command.ts').then((m) => m.enrolCommand),
  },
  'enrolments list': {
    summary: 'lists enrolments, by team or patient',
    load: () => import('./cli/enrolments.command.ts').then((m) => m.enrolmentsList),
  },
  'enrolments show': {
    summary: 'shows one enrolment',
    load: () => import('./cli/enrolments.command.ts').then((m) => m.enrolmentsShow),
  },
  'enrolments end': {
    summary: 'ends an enrolment',
    load: () => import('./cli/enrolments.command.ts').then((m) => m.enrolmentsEnd),
  },
  'keys status': {
    summary: 'how many device secrets and API tokens are under each secret key',
    load: () => import('./cli/keys.command.ts').then((m) => m.keysStatus),
  },
  'keys forget-database-key': {
    summary: 'removes the secret key kept in the database, once nothing is under it',
    load: () => import('./cli/keys.command.ts').then((m) => m.keysForgetDatabaseKey),
  },
  'notifications add': {
    summary: "adds where a team's alerts are sent (a webhook or an e-mail address)",
    load: () => import('./cli/notifications.command.ts').then((m) => m.notificationsAdd),
  },
  'notifications list': {
    summary: "lists where teams' alerts are sent",
    load: () => import('./cli/notifications.command.ts').then((m) => m.notificationsList),
  },
  'notifications remove': {
    summary: 'removes a notification channel',
    load: () => import('./cli/notifications.command.ts').then((m) => m.notificationsRemove),
  },
  'notifications dead-letters': {
    summary: 'lists notifications that failed for good (dead letters)',
    load: () => import('./cli/notifications.command.ts').then((m) => m.notificationsDeadLetters),
  },
  'notifications replay': {
    summary: 'sends dead letters again (one by id, or all)',
    load: () => import('./cli/notifications.command.ts').then((m) => m.notificationsReplay),
  },
  simulate: {
    summary: 'device simulators against a running service (development tool)',
    load: () => import('./cli/simulate.command.ts').then((m) => m.simulate),
    tool: true,
  },
  bench: {
    summary: 'the load benchmark (development tool)',
    load: () => import('./cli/bench.command.ts').then((m) => m.bench),
    tool: true,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'vitalink: remote patient monitoring ingestion service',
    '',
    'Usage:',
    ...Object.entries(COMMANDS).map(([name, e]) => `  vitalink ${name.padEnd(width)}  ${e.summary}`),
    '',
    '`vitalink <command> --help` shows the options of a command. Most commands print',
    'their result as one JSON object with --json.',
    '',
    'Configuration comes from the environment (DATABASE_URL, VITALINK_DATA_DIR, MQTT_PORT,',
    'HTTP_PORT, ...): see the README.',
  ].join('\n');
}

const isHelp = (arg: string) => arg === '--help' || arg === '-h';
/** The AppError codes of a value given on the command line that is not valid: exit code 2. */
const USAGE_CODES: ReadonlySet<string> = new Set(['invalid_input', 'bad_request']);
const hint = (name?: string) =>
  name
    ? `Run \`vitalink ${name} --help\` for its options, \`vitalink --help\` for the commands.`
    : 'Run `vitalink --help` for the commands.';

/** The command named by the first one, two or three words of argv. */
function findCommand(argv: string[]): { name: string; entry: Entry } | undefined {
  for (const words of [3, 2, 1]) {
    const name = argv.slice(0, words).join(' ');
    if (argv.length >= words && Object.hasOwn(COMMANDS, name)) return { name, entry: COMMANDS[name] };
  }
  return undefined;
}

/** simulators/ ships with the repository, not with an installation (Dockerfile). */
function toolsInstalled(): boolean {
  return existsSync(new URL('../simulators/', import.meta.url));
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || isHelp(argv[0]) || argv[0] === 'help') {
    process.stdout.write(`${usage()}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = Object.keys(COMMANDS).filter((name) => name.startsWith(`${argv[0]} `));
    // `vitalink devices --help`: the commands of the group.
    if (group.length > 0 && argv.length === 2 && isHelp(argv[1])) {
      const width = Math.max(...group.map((name) => name.length));
      const lines = group.map((name) => `  vitalink ${name.padEnd(width)}  ${COMMANDS[name].summary}`);
      process.stdout.write(
        `Usage:\n${lines.join('\n')}\n\n\`vitalink ${argv[0]} <command> --help\` shows the options of a command.\n`,
      );
      return 0;
    }
    const words = argv[0].startsWith('-') ? argv[0] : argv.slice(0, group.length > 0 ? 2 : 1).join(' ');
    const known =
      group.length > 0
        ? `; \`vitalink ${argv[0]}\` takes one of: ${[...new Set(group.map((g) => g.split(' ')[1]))].join(', ')}`
        : '';
    process.stderr.write(`vitalink: unknown command "${words}"${known}\n${hint()}\n`);
    return 2;
  }
  const { name, entry } = found;
  const args = argv.slice(name.split(' ').length);
  if (entry.tool && !toolsInstalled()) {
    process.stderr.write(
      `vitalink: \`vitalink ${name}\` is a development tool: it is available from a clone of the repository, ` +
        'not in this installation (no simulators/ folder).\n',
    );
    return 1;
  }
  try {
    const command = await entry.load();
    if (args.some(isHelp)) {
      process.stdout.write(`${await command.help()}\n`);
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`vitalink: ${error.message}\n${hint(name)}\n`);
      return 2;
    }
    // config.ts (zod) is loaded by the commands that need it, not for --help.
    const { ConfigError } = await import('./config.ts');
    if (error instanceof ConfigError) {
      process.stderr.write(`vitalink: ${error.message}\nFix these environment variables and try again.\n`);
      return 2;
    }
    if (error instanceof PortUnavailableError) {
      process.stderr.write(`vitalink: ${error.message}\n`);
      return 2;
    }
    // README, "Commands", exit codes: a value the person gave that is not valid (a role,
    // a time zone, a time, an id, ...) is a usage mistake, 2; what the database refuses or
    // lacks (not found, a conflict) is 1.
    if (error instanceof AppError && USAGE_CODES.has(error.code)) {
      process.stderr.write(`vitalink: ${error.message}\n${hint(name)}\n`);
      return 2;
    }
    if (error instanceof AppError) {
      process.stderr.write(`vitalink: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`vitalink: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vitalink: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
