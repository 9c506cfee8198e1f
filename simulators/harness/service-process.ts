import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `vitalink` as a user runs it, in a child process: `serve` until stopped, or a
 * one-shot command. Shared by the bench, scripts/ and the tests. Plain Node: it
 * knows the service only by its command line and its JSON log lines.
 */

/** The repository's root, and the command's entry point in it. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'src', 'main.ts');

export interface ServicePorts {
  mqtt: number;
  http: number;
  mqtts?: number;
  mqttWs?: number;
  https?: number;
}

/** Environment for the child: a value `undefined` removes the variable. */
export type ChildEnv = Record<string, string | undefined>;

export interface ProcessOptions {
  /** The entry point to run (default MAIN) and the working directory (default ROOT). */
  readonly main?: string;
  readonly cwd?: string;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly ports: ServicePorts;
  /** Every JSON log line so far (none kept with `keepLogs: false`). */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  /** The last 4000 characters the service wrote to stderr. */
  stderrTail(): string;
  /** SIGTERM (the graceful drain), SIGKILL after `timeoutMs`; resolves to the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartServiceOptions extends ProcessOptions {
  readonly timeoutMs?: number;
  /** Keep every log line in `logs` (default true; a long bench run turns it off). */
  readonly keepLogs?: boolean;
}

/**
 * For the load tools (bench, scale-bench, quick-load), whose devices all connect
 * from 127.0.0.1: the per-address cap and the throttles (README, "Security") would
 * refuse all but 100 of them. Raised unless the environment sets them.
 */
export function loadToolLimits(): ChildEnv {
  const keep = (name: string, value: string) => process.env[name] ?? value;
  return {
    VITALINK_MQTT_MAX_CONNECTIONS: keep('VITALINK_MQTT_MAX_CONNECTIONS', '20000'),
    VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS: keep('VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS', '20000'),
    VITALINK_MQTT_AUTH_FAILURES_PER_ADDRESS: keep('VITALINK_MQTT_AUTH_FAILURES_PER_ADDRESS', '1000000'),
    VITALINK_MQTT_FLAPPING_MAX_CONNECTS: keep('VITALINK_MQTT_FLAPPING_MAX_CONNECTS', '1000000'),
  };
}

function childEnv(env: ChildEnv): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}

/**
 * Starts `vitalink serve` (on loopback, ephemeral ports and info logs unless `env`
 * says otherwise) and resolves on its 'vitalink started' line, with the ports it logs.
 */
export function startService(env: ChildEnv, options: StartServiceOptions = {}): Promise<ServiceProcess> {
  const { timeoutMs = 60_000, keepLogs = true } = options;
  const child = spawn(process.execPath, [options.main ?? MAIN, 'serve'], {
    cwd: options.cwd ?? ROOT,
    env: childEnv({ HOST: '127.0.0.1', MQTT_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (stopTimeoutMs = 60_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not start in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    let buffered = '';
    // stdout is read to the end, so the service never blocks on a full pipe.
    child.stdout!.on('data', (chunk: Buffer) => {
      if (started && !keepLogs) return;
      buffered += chunk.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if (keepLogs) logs.push(entry);
        if (!started && entry.msg === 'vitalink started') {
          started = true;
          clearTimeout(timer);
          resolve({ child, ports: entry.ports as ServicePorts, logs, exited, stderrTail: () => stderr, stop });
          if (!keepLogs) return;
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`the service exited with code ${code} before starting; stderr: ${stderr}`));
    });
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a one-shot `vitalink` command to completion. */
export function runCli(args: string[], env: ChildEnv, options: ProcessOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [options.main ?? MAIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
