/** The tests' view of the shared child-process harness (simulators/harness/service-process.ts). */
import * as harness from '../../simulators/harness/service-process.ts';

export { MAIN, ROOT } from '../../simulators/harness/service-process.ts';
export type { ServiceProcess } from '../../simulators/harness/service-process.ts';

/** Starts `vitalink serve` as a user would, and resolves once it logs its ports. */
export function startService(
  env: harness.ChildEnv,
  timeoutMs = 60_000,
  options: harness.ProcessOptions = {},
): Promise<harness.ServiceProcess> {
  return harness.startService(env, { timeoutMs, ...options });
}

/** Runs a `vitalink` command to completion. */
export function runCli(
  args: string[],
  env: harness.ChildEnv,
  options: harness.ProcessOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return harness.runCli(args, env, options);
}
