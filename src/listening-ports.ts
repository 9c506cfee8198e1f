import net from 'node:net';
import type { Config } from './config.ts';
import { PortUnavailableError } from './errors.ts';

/** A listener's port and the environment variable that sets it. */
export interface ConfiguredPort {
  readonly variable: 'MQTT_PORT' | 'MQTT_TLS_PORT' | 'MQTT_WS_PORT' | 'HTTP_PORT' | 'HTTPS_PORT';
  readonly port: number;
}

/** The listeners `serve` opens, with a fixed port (0 picks a free one and cannot clash). */
export function configuredPorts(config: Config): ConfiguredPort[] {
  const ports: (ConfiguredPort | null)[] = [
    config.mqttPort ? { variable: 'MQTT_PORT', port: config.mqttPort } : null,
    config.tls?.port ? { variable: 'MQTT_TLS_PORT', port: config.tls.port } : null,
    config.wsPort ? { variable: 'MQTT_WS_PORT', port: config.wsPort } : null,
    config.httpPort ? { variable: 'HTTP_PORT', port: config.httpPort } : null,
    config.https?.port ? { variable: 'HTTPS_PORT', port: config.https.port } : null,
  ];
  return ports.filter((p): p is ConfiguredPort => p !== null);
}

/** The one line a person sees when `port` of `variable` cannot be opened for `code`. */
export function portProblem(variable: string, port: number, host: string, code: string | undefined): string {
  const instead = `give ${variable} another port, e.g. \`${variable}=${port < 65535 ? port + 1 : port - 1} npm start\``;
  if (code === 'EACCES') {
    return `port ${port} (${variable}) on ${host} may not be opened by this user (ports below 1024 need privileges): ${instead}`;
  }
  return `port ${port} (${variable}) on ${host} is already in use by another program: stop that program, or ${instead}`;
}

/** The error of a listen() failure, as a PortUnavailableError when it is the port's fault. */
export function listenFailure(error: unknown, ports: readonly ConfiguredPort[], host: string): unknown {
  const e = error as NodeJS.ErrnoException & { port?: number };
  if (e?.code !== 'EADDRINUSE' && e?.code !== 'EACCES') return error;
  const found = ports.find((p) => p.port === e.port);
  if (!found) return error;
  return new PortUnavailableError(found.variable, found.port, portProblem(found.variable, found.port, host, e.code));
}

function tryListen(port: number, host: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/**
 * Before anything is opened (the database, the broker): every fixed port of `serve` is
 * free, and no two settings name the same one. Throws PortUnavailableError, at once,
 * naming the first port that is not. A port taken between this check and the real
 * listen is reported the same way by the listener (listenFailure).
 */
export async function assertPortsAvailable(config: Config): Promise<void> {
  const ports = configuredPorts(config);
  for (const [i, p] of ports.entries()) {
    const same = ports.slice(i + 1).find((q) => q.port === p.port);
    if (same) {
      throw new PortUnavailableError(
        same.variable,
        p.port,
        `${p.variable} and ${same.variable} both name port ${p.port}: give one of them another port`,
      );
    }
  }
  for (const p of ports) {
    const error = await tryListen(p.port, config.host);
    if (error && (error.code === 'EADDRINUSE' || error.code === 'EACCES')) {
      throw new PortUnavailableError(p.variable, p.port, portProblem(p.variable, p.port, config.host, error.code));
    }
    // Any other failure (an address not on this machine, ...) is the real listener's to report.
  }
}
