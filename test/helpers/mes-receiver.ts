import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A mock of Mon espace santé's feeding endpoint: a real HTTP server that applies the
 * receiver's rules as the ANS "Mesures de santé" IG documents them (page
 * Le-flux-d-alimentation-des-mesures.md, ansforge/IG-fhir-mesures-de-sante; rules 1–8
 * of french-interop.md) and answers as it documents: a transaction-response Bundle,
 * 200 with per entry "201 Created" (or "200 OK" for a Device that already exists) and
 * a location; 401 for an unknown access token; 409 when the token's OID conflicts
 * with the editor's OID registered at the receiver; 422 with an OperationOutcome per
 * refused resource; 403 when the patient is not the one the token allows, or has
 * not consented. Written from the IG, not from Vitalink's builder, so that the
 * builder is checked against it.
 */

export interface MesIssue {
  severity: 'error';
  code: 'invalid' | 'not-supported' | 'value' | 'incomplete';
  diagnostics: string;
}

export interface ReceivedBundle {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
  /** The Observation's location when stored. */
  location?: string;
}

export interface MesReceiverOptions {
  /** The editor's OID registered at the receiver (meta.source must be under it). */
  editorOid: string;
  /** Access tokens accepted, each with the OID it was issued for (a different root: 409). */
  tokens: Record<string, string>;
  /** Patients (INS values) the tokens may write for, with their consent. */
  patients: Record<string, { consent: boolean }>;
}

/** The Observation profiles the bundle profile lists (input/fsh/MesBundleFluxAlimentation.fsh), by id and by older name. */
const ALLOWED_PROFILES = new Set([
  'mesures-fr-observation-bmi',
  'mesures-fr-observation-bodyheight',
  'mesures-fr-observation-body-temperature',
  'mesures-fr-observation-body-weight',
  'mesures-fr-observation-bp',
  'mesures-fr-observation-heartrate',
  'mesures-observation-glucose',
  'mesures-observation-head-circumference',
  'mesures-observation-pain-severity',
  'mesures-observation-steps-by-day',
  'mesures-observation-waist-circumference',
  'mesures-fr-observation-oxygen-sat',
  'MesFrObservationBmi',
  'MesFrObservationBodyHeight',
  'MesFrObservationBodyTemperature',
  'MesFrObservationBodyWeight',
  'MesFrObservationBp',
  'MesFrObservationHeartrate',
  'MesObservationGlucose',
  'MesObservationHeadCircumference',
  'MesObservationPainSeverity',
  'MesObservationStepsByDay',
  'MesObservationWaistCircumference',
  'MesFrObservationOxygenSat',
]);
const IF_NONE_EXIST = /^identifier=urn:oid:([0-9]+(?:\.[0-9]+)+)\|([a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Json = Record<string, any>;

const issue = (code: MesIssue['code'], diagnostics: string): MesIssue => ({ severity: 'error', code, diagnostics });
const oidOf = (system: unknown): string | undefined =>
  typeof system === 'string' && system.startsWith('urn:oid:') ? system.slice(8) : undefined;
const under = (oid: string, root: string) => oid === root || oid.startsWith(`${root}.`);

/** The rules on one bundle: the issues that make it refused (empty: accepted). Exposed to test the rules alone. */
export function mesBundleIssues(bundle: unknown, editorOid: string): MesIssue[] {
  const b = bundle as Json;
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle' || !Array.isArray(b.entry)) {
    return [issue('invalid', 'No bundle provided.')];
  }
  if (b.type !== 'transaction') return [issue('invalid', 'Bundle must be of type transaction.')];
  const issues: MesIssue[] = [];
  const entries = b.entry as Json[];
  for (const e of entries) {
    const type = e?.resource?.resourceType;
    const method = e?.request?.method;
    if (!((type === 'Observation' || type === 'Device') && method === 'POST' && e?.request?.url === type)) {
      issues.push(issue('not-supported', `Resource of type ${type} is not acceptable with method ${method}.`));
    }
  }
  // Rule 1: one Observation per bundle.
  const observations = entries.filter((e) => e?.resource?.resourceType === 'Observation');
  const devices = entries.filter((e) => e?.resource?.resourceType === 'Device');
  if (observations.length !== 1) issues.push(issue('invalid', 'Bundle must contains one observation creation (POST)'));
  // Rule 2: one Device, as a conditional create on its identifier.
  if (devices.length !== 1 || typeof devices[0]?.request?.ifNoneExist !== 'string') {
    issues.push(issue('invalid', 'Bundle must contains one conditional creation of a device (POST + ifNoneExist)'));
  }
  if (issues.length > 0) return issues;
  const obsEntry = observations[0]!;
  const devEntry = devices[0]!;
  const o = obsEntry.resource as Json;
  const d = devEntry.resource as Json;
  const match = IF_NONE_EXIST.exec(devEntry.request.ifNoneExist);
  if (!match) {
    issues.push(
      issue('invalid', 'Device request must have a valid IfNoneExist attribute : identifier=urn:oid:<OID>|<DEVICE ID>'),
    );
  } else if (
    !((d.identifier as Json[] | undefined) ?? []).some(
      (i) => i?.system === `urn:oid:${match[1]}` && i?.value === match[2],
    )
  ) {
    issues.push(issue('invalid', 'The Device has no identifier equal to the one of ifNoneExist.'));
  }
  // Rule 3: the Observation names the Device by its uuid.
  const ref = o.device?.reference;
  if (typeof ref !== 'string') {
    issues.push(issue('invalid', 'Observation.device.reference is mandatory.'));
  } else if (!(typeof d.id === 'string' && UUID.test(d.id) && ref === `Device/${d.id}`)) {
    issues.push(
      issue('invalid', 'Observation and device not linked by id (Observation.device.reference <-> Device.id)'),
    );
  }
  // Rule 4: a fullUrl on the Observation entry.
  if (typeof obsEntry.fullUrl !== 'string' || obsEntry.fullUrl === '') {
    issues.push(issue('invalid', 'Observation entry must provide a fullUrl.'));
  }
  // Rule 5: meta.profile on both, the Observation's one of the listed profiles.
  const profiles: unknown[] = o.meta?.profile ?? [];
  if (profiles.length === 0) {
    issues.push(issue('invalid', 'Observation must provide meta.profile value.'));
  } else if (!profiles.some((p) => typeof p === 'string' && ALLOWED_PROFILES.has(p.split('/').pop()!))) {
    issues.push(issue('invalid', `Observation profile ${String(profiles[0])} is not accepted in the feeding bundle.`));
  }
  if (!Array.isArray(d.meta?.profile) || d.meta.profile.length === 0) {
    issues.push(issue('invalid', 'Device must provide meta.profile value.'));
  }
  // Rule 6: meta.source, when sent, under the editor's OID.
  if (o.meta?.source !== undefined) {
    const oid = oidOf(o.meta.source);
    if (oid === undefined || !under(oid, editorOid)) {
      issues.push(
        issue(
          'value',
          `Solution oid contains in Observation.meta.source don't belong to root editor oid (${editorOid}).`,
        ),
      );
    }
  }
  // Rule 7: the patient as an identifier.
  if (typeof o.subject?.identifier?.system !== 'string' || typeof o.subject?.identifier?.value !== 'string') {
    issues.push(issue('invalid', 'Observation.subject.identifier is mandatory.'));
  }
  // Rule 8: a value; no BMI; the moment for blood glucose; the number of days only where allowed.
  const valued = (q: Json | undefined) => typeof q?.value === 'number';
  const components: Json[] = o.component ?? [];
  if (!(valued(o.valueQuantity) || (components.length > 0 && components.every((c) => valued(c.valueQuantity))))) {
    issues.push(issue('value', 'Observation value quantity not provided.'));
  }
  const codes: string[] = (o.code?.coding ?? []).map((c: Json) => c?.code);
  if (codes.includes('39156-5')) issues.push(issue('not-supported', 'Bmi observation cannot be created.'));
  const urls: string[] = (o.extension ?? []).map((x: Json) => String(x?.url));
  const moment = urls.some((u) => /moment-of-measurement$|MomentOfMeasurement$/.test(u));
  const days = urls.some((u) => /number-of-days$|NumberOfDays$/.test(u));
  const bloodGlucose = codes.includes('2345-7');
  const daysAllowed = codes.includes('MED-969') || codes.includes('MED-972');
  if (bloodGlucose && !moment) issues.push(issue('incomplete', 'Observation.extension.moment is mandatory.'));
  if (!bloodGlucose && moment) issues.push(issue('invalid', 'Observation.extension.moment cannot be added.'));
  if (days && !daysAllowed) issues.push(issue('invalid', 'Observation.extension.numberOfDays cannot be added.'));
  if (codes.includes('MED-972') && !days) {
    issues.push(issue('incomplete', 'Observation.extension.numberOfDays is mandatory.'));
  }
  return issues;
}

/** See the file's comment. Stopped and started again on the same port (an outage); `failNext` answers 5xx. */
export class MesReceiver {
  readonly received: ReceivedBundle[] = [];
  /** Devices created, by "oid|value". */
  readonly devices = new Set<string>();
  /** Statuses to answer to the next requests before anything else (e.g. [503, 503]). */
  readonly failNext: number[] = [];
  readonly options: MesReceiverOptions;
  #server: http.Server | undefined;
  #port = 0;
  #seq = 0;

  constructor(options: MesReceiverOptions) {
    this.options = options;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/fhir`;
  }

  /** The bundles stored (answered 200). */
  stored(): ReceivedBundle[] {
    return this.received.filter((r) => r.status === 200);
  }

  /** Answers one request: status and body. Exposed so the rules can be tested without a socket too. */
  answer(
    headers: http.IncomingHttpHeaders,
    body: string,
  ): { status: number; body: Json | undefined; location?: string } {
    const failed = this.failNext.shift();
    if (failed !== undefined) return { status: failed, body: outcome([issue('invalid', 'unavailable')]) };
    const auth = headers.authorization;
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const tokenOid = token === undefined ? undefined : this.options.tokens[token];
    if (tokenOid === undefined) return { status: 401, body: undefined };
    if (!under(tokenOid, this.options.editorOid)) {
      return {
        status: 409,
        body: outcome([
          issue(
            'invalid',
            'OID conflict between the one from id_token and the one in the system -> OID different between id_token and ecosystem',
          ),
        ]),
      };
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse(body);
    } catch {
      bundle = undefined;
    }
    const issues = mesBundleIssues(bundle, this.options.editorOid);
    if (issues.length > 0) {
      return {
        status: 422,
        body: {
          resourceType: 'Bundle',
          type: 'transaction-response',
          entry: [{ response: { status: '422 Unprocessable Entity', outcome: outcome(issues) } }],
        },
      };
    }
    const entries = (bundle as Json).entry as Json[];
    const o = entries.find((e) => e.resource.resourceType === 'Observation')!;
    const d = entries.find((e) => e.resource.resourceType === 'Device')!;
    const patient = this.options.patients[o.resource.subject.identifier.value];
    if (!patient) {
      return { status: 403, body: outcome([issue('invalid', 'idPe requested do not match authorized idPe.')]) };
    }
    if (!patient.consent)
      return { status: 403, body: outcome([issue('invalid', 'Consent not given, access refused.')]) };
    const deviceKey = (d.request.ifNoneExist as string).slice('identifier=urn:oid:'.length);
    const deviceExisted = this.devices.has(deviceKey);
    this.devices.add(deviceKey);
    const location = `Observation/urn:oid:${this.options.editorOid}|obs-${++this.#seq}`;
    return {
      status: 200,
      location,
      body: {
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: [
          { response: { status: '201 Created', location } },
          {
            response: {
              status: deviceExisted ? '200 OK' : '201 Created',
              location: `Device/urn:oid:${deviceKey}`,
            },
          },
        ],
      },
    };
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const answer =
          req.method === 'POST' && req.url === '/fhir'
            ? this.answer(req.headers, body)
            : { status: 404, body: outcome([issue('invalid', 'not found')]) };
        this.received.push({
          headers: req.headers,
          body,
          status: answer.status,
          ...(answer.location ? { location: answer.location } : {}),
        });
        res.writeHead(answer.status, { 'content-type': 'application/fhir+json' });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function outcome(issues: MesIssue[]): Json {
  return { resourceType: 'OperationOutcome', issue: issues };
}
