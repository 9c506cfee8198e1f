import { beforeAll } from 'vitest';
import { type ApiResponse, type CallOptions, type ServiceContext, type Token, useTestService } from '../fixture.ts';

/** The bootstrap admin token (VITALINK_ADMIN_TOKEN) of the API tests. */
export const ADMIN_TOKEN = 'bootstrap-admin-token-for-the-api-tests';

export interface ApiTest {
  readonly t: ServiceContext;
  /** The callers, from beforeAll on. */
  readonly who: {
    admin: Token;
    operator: Token;
    /** Clinician of p-own-1 and p-own-2. */
    clinician: Token;
    /** Clinician of p-other only. */
    otherClinician: Token;
  };
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
  get(path: string, token: string | null): Promise<ApiResponse>;
}

/**
 * The clinician/operator HTTP API (interfaces.md, "HTTP") as the api-*.test.ts
 * files see it: the service with the bootstrap admin token and a fast
 * aggregation job, patients p-own-1, p-own-2 and p-other, and a token per role;
 * `env` adds to the service's environment.
 */
export function useApiTest(env: Record<string, string> = {}): ApiTest {
  const t = useTestService({ adminToken: ADMIN_TOKEN, env: { VITALINK_AGGREGATION_INTERVAL_MS: '100', ...env } });
  const who = {} as ApiTest['who'];
  beforeAll(async () => {
    for (const id of ['p-own-1', 'p-own-2', 'p-other']) await t.addPatient(id);
    who.admin = await t.createToken('admin');
    who.operator = await t.createToken('operator');
    who.clinician = await t.createToken('clinician', ['p-own-1', 'p-own-2']);
    who.otherClinician = await t.createToken('clinician', ['p-other']);
  });
  return {
    t,
    who,
    call: (method, path, options) => t.api.call(method, path, options),
    get: (path, token) => t.api.get(path, { token }),
  };
}
