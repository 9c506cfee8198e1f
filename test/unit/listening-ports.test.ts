/** A listen() that fails after the start's port check (a port taken in between) names its setting too. */
import { describe, expect, it } from 'vitest';
import { PortUnavailableError } from '../../src/errors.ts';
import { listenFailure, portProblem } from '../../src/listening-ports.ts';

const ports = [
  { variable: 'MQTT_PORT', port: 1883 },
  { variable: 'HTTP_PORT', port: 8080 },
] as const;

const errno = (code: string, port: number) => Object.assign(new Error(`listen ${code}`), { code, port });

describe('listenFailure', () => {
  it('turns EADDRINUSE on a configured port into the one line naming its variable', () => {
    const error = listenFailure(errno('EADDRINUSE', 8080), ports, '127.0.0.1');
    expect(error).toBeInstanceOf(PortUnavailableError);
    expect((error as PortUnavailableError).variable).toBe('HTTP_PORT');
    expect((error as Error).message).toBe(
      'port 8080 (HTTP_PORT) on 127.0.0.1 is already in use by another program: stop that program, or give HTTP_PORT another port, e.g. `HTTP_PORT=8081 npm start`',
    );
  });

  it('says why a privileged port is refused', () => {
    expect(portProblem('MQTT_PORT', 883, '0.0.0.0', 'EACCES')).toContain('ports below 1024 need privileges');
  });

  it('leaves other failures as they are', () => {
    const other = errno('EADDRNOTAVAIL', 1883);
    expect(listenFailure(other, ports, '10.9.9.9')).toBe(other);
    const unknownPort = errno('EADDRINUSE', 9999);
    expect(listenFailure(unknownPort, ports, '127.0.0.1')).toBe(unknownPort);
  });
});
