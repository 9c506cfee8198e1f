import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './service.ts';
import { freePort } from './free-port.ts';

/** The shipped configuration (README, "Running several instances"). */
export const HAPROXY_CONFIG = path.join(ROOT, 'deploy', 'haproxy.cfg');

export interface Backend {
  readonly mqttPort: number;
  readonly httpPort: number;
}

export interface RunningHaproxy {
  readonly mqttPort: number;
  readonly httpPort: number;
  /** Runs one command of HAProxy's runtime API (the admin socket) and returns its answer. */
  command(line: string): Promise<string>;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * Debian's HAProxy with deploy/haproxy.cfg as shipped, its addresses given by the
 * environment variables the file reads: two instances `a` and `b` on loopback.
 */
export async function startHaproxy(a: Backend, b: Backend): Promise<RunningHaproxy> {
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const adminSocket = path.join(os.tmpdir(), `vitalink-haproxy-${process.pid}-${mqttPort}.sock`);
  let output = '';
  const child: ChildProcess = spawn('haproxy', ['-f', HAPROXY_CONFIG, '-db'], {
    env: {
      ...process.env,
      VITALINK_LB_MQTT_BIND: `127.0.0.1:${mqttPort}`,
      VITALINK_LB_HTTP_BIND: `127.0.0.1:${httpPort}`,
      VITALINK_A_MQTT_PORT: String(a.mqttPort),
      VITALINK_A_HTTP_PORT: String(a.httpPort),
      VITALINK_B_MQTT_PORT: String(b.mqttPort),
      VITALINK_B_HTTP_PORT: String(b.httpPort),
      VITALINK_LB_ADMIN_SOCKET: adminSocket,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError) {
      throw new Error(
        `could not run haproxy (${spawnError.message}): install Debian's package (apt-get install haproxy); .ci/run does`,
      );
    }
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(mqttPort, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not listen: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    mqttPort,
    httpPort,
    output: () => output,
    command: (line) =>
      new Promise((resolve, reject) => {
        let answer = '';
        const s = net.connect(adminSocket, () => s.end(`${line}\n`));
        s.on('data', (d: Buffer) => (answer += d.toString()));
        s.on('end', () => resolve(answer));
        s.on('error', reject);
      }),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
