import { readFile } from 'node:fs/promises';
import { mesStatusOutcome } from '../domain/mes-feed.ts';
import type { MesPushSettings } from '../config.ts';

/** The outcome of one POST of a feeding bundle. `answer`: what the receiver said, for the record (no patient data of ours). */
export type MesSendResult =
  | { outcome: 'sent'; status: number; answer: string; location: string | null; deviceLocation: string | null }
  | { outcome: 'retry' | 'refused'; status: number | null; answer: string };

/** Idempotency key header sent with each bundle: the push's id, the same on every attempt. */
export const MES_IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * POSTs one feeding bundle (a FHIR transaction) to VITALINK_MES_URL with the access
 * token of VITALINK_MES_TOKEN_FILE (read at each attempt), and reads the answer: a
 * transaction-response Bundle whose entries give each resource's status and
 * location, or an error with an OperationOutcome (README, "Feeding Mon espace
 * santé"). Redirects are not followed.
 */
export async function sendMesBundle(
  settings: MesPushSettings,
  bundle: unknown,
  idempotencyKey: string,
): Promise<MesSendResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/fhir+json',
    accept: 'application/fhir+json',
    'user-agent': 'Vitalink-MES/1',
    [MES_IDEMPOTENCY_HEADER]: idempotencyKey,
  };
  if (settings.tokenFile) {
    let token: string;
    try {
      token = (await readFile(settings.tokenFile, 'utf8')).trim();
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      return {
        outcome: 'retry',
        status: null,
        answer: `cannot read VITALINK_MES_TOKEN_FILE (${code}): check the path`,
      };
    }
    headers[settings.authHeader.toLowerCase()] =
      settings.authHeader.toLowerCase() === 'authorization' ? `Bearer ${token}` : token;
  }
  let response: Response;
  try {
    response = await fetch(settings.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.timeoutMs),
      headers,
      body: JSON.stringify(bundle),
    });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return {
        outcome: 'retry',
        status: null,
        answer: `no answer within ${settings.timeoutMs} ms (VITALINK_MES_TIMEOUT_MS)`,
      };
    }
    const cause = (error as { cause?: { code?: string } }).cause;
    return {
      outcome: 'retry',
      status: null,
      answer: `could not reach VITALINK_MES_URL (${cause?.code ?? 'network error'})`,
    };
  }
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const status = response.status;
  const outcome = mesStatusOutcome(status);
  if (outcome === 'sent') {
    const entries = ((body as { entry?: { response?: { status?: string; location?: string } }[] })?.entry ?? []).map(
      (e) => e.response ?? {},
    );
    const location = entries.find((e) => e.location?.startsWith('Observation/'))?.location ?? null;
    const deviceLocation = entries.find((e) => e.location?.startsWith('Device/'))?.location ?? null;
    const statuses = entries.map((e) => e.status ?? '?').join(', ');
    return { outcome, status, answer: `HTTP ${status}: ${statuses || 'no entries'}`, location, deviceLocation };
  }
  const diagnostics = diagnosticsOf(body);
  const hint =
    status === 401
      ? ': the access token was refused, renew VITALINK_MES_TOKEN_FILE'
      : status === 409
        ? ': check VITALINK_MES_EDITOR_OID against the OID the token was issued for'
        : status >= 300 && status < 400
          ? ': redirects are not followed, give the final URL in VITALINK_MES_URL'
          : '';
  return { outcome, status, answer: `HTTP ${status}${diagnostics ? `: ${diagnostics}` : ''}${hint}` };
}

/** The diagnostics of an OperationOutcome, or of those in a transaction-response's entries. */
function diagnosticsOf(body: unknown): string {
  type Outcome = { resourceType?: string; issue?: { code?: string; diagnostics?: string }[] };
  const outcomes: Outcome[] = [];
  const b = body as (Outcome & { entry?: { response?: { outcome?: Outcome } }[] }) | undefined;
  if (b?.resourceType === 'OperationOutcome') outcomes.push(b);
  for (const e of b?.entry ?? []) if (e.response?.outcome) outcomes.push(e.response.outcome);
  return outcomes
    .flatMap((o) => o.issue ?? [])
    .map((i) => `${i.code ?? 'error'}: ${i.diagnostics ?? ''}`.trim())
    .join('; ')
    .slice(0, 2000);
}
