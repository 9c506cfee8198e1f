/**
 * docker-compose.yml, Dockerfile and .dockerignore, read as text (README, "Docker"):
 * no Docker engine runs the tests, so what can be checked without one is checked here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/service.ts';

const read = (name: string) => readFileSync(path.join(ROOT, name), 'utf8');

describe('docker-compose.yml', () => {
  const compose = read('docker-compose.yml');

  it('publishes every port on the loopback of the host only', () => {
    const published = [...compose.matchAll(/^\s+- '([^']*:\d+)'$/gm)].map((m) => m[1]);
    // The single service's, and HAProxy's in the scale profile (never both running).
    expect(published).toEqual([
      '127.0.0.1:1883:1883',
      '127.0.0.1:8080:8080',
      '127.0.0.1:1883:1883',
      '127.0.0.1:8080:8080',
    ]);
  });

  it('has a scale profile: two named instances behind HAProxy with the shipped configuration, trusting its address', () => {
    const haproxyAddress = /haproxy:[\s\S]*?ipv4_address: (\S+)/.exec(compose)?.[1];
    expect(haproxyAddress).toBe('172.28.0.10');
    expect(compose).toContain('./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect([...compose.matchAll(/VITALINK_INSTANCE_ID: (\S+)/g)].map((m) => m[1])).toEqual([
      'vitalink-a',
      'vitalink-b',
    ]);
    expect([...compose.matchAll(/VITALINK_TRUSTED_PROXIES: (\S+)/g)].map((m) => m[1])).toEqual([
      haproxyAddress,
      haproxyAddress,
    ]);
    expect(compose).toMatch(/- subnet: 172\.28\.0\.0\/24/);
    // The addresses deploy/haproxy.cfg reads, given for the containers.
    for (const name of [
      'VITALINK_A_HOST: vitalink-a',
      'VITALINK_B_HOST: vitalink-b',
      'VITALINK_LB_MQTT_BIND: 0.0.0.0:1883',
    ]) {
      expect(compose).toContain(name);
    }
    expect(read('deploy/haproxy.cfg')).toContain('"${VITALINK_A_HOST}:${VITALINK_A_MQTT_PORT}"');
  });

  it('migrates as an owner role and runs the service as another, neither the superuser, both made by the init script', () => {
    const superuser = /POSTGRES_USER: (\S+)/.exec(compose)?.[1];
    expect(superuser).toBe('postgres');
    // A service's block: from its line at two spaces of indentation to the next such line.
    const service = (name: string) =>
      new RegExp(`^ {2}${name}:\\n(?: {3,}.*\\n|\\s*\\n)*`, 'm').exec(compose)?.[0] ?? '';
    const user = (block: string, variable: string) =>
      new RegExp(`${variable}: postgres:\\/\\/([^:]+):`).exec(block)?.[1];
    const migrate = service('migrate');
    expect(migrate).toContain("command: ['node', 'src/main.ts', 'migrate']");
    expect(user(migrate, 'DATABASE_URL')).toBe('vitalink');
    expect(user(migrate, 'DATABASE_MIGRATION_URL')).toBe('vitalink_owner');
    const vitalink = service('vitalink');
    expect(user(vitalink, 'DATABASE_URL')).toBe('vitalink');
    // The running service never holds the owner's password, and starts after the migrations.
    expect(vitalink).not.toMatch(/^\s+DATABASE_MIGRATION_URL:/m);
    expect(vitalink).toMatch(/migrate:\n\s+condition: service_completed_successfully/);
    expect(compose).toContain('./docker/postgres-init:/docker-entrypoint-initdb.d:ro');
    const init = read('docker/postgres-init/10-vitalink-role.sh');
    expect(init).toMatch(/CREATE ROLE vitalink_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE/);
    expect(init).toMatch(/CREATE ROLE vitalink LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE/);
    expect(init).toContain('ALTER DATABASE :"db" OWNER TO vitalink_owner;');
    // The service's role gets no CREATE: it could not make the objects it is not to own.
    expect(init).not.toMatch(/GRANT[^;]*CREATE[^;]*TO vitalink;/);
  });
});

describe('.dockerignore', () => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps every path the Dockerfile copies from the build context', () => {
    const copied = [...read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'bin', 'src', 'migrations', 'dashboard']));
    for (const source of copied) {
      expect(
        ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`)),
        source,
      ).toEqual([]);
    }
  });

  it('leaves out local state and the development tools the image does not ship', () => {
    expect(ignored).toEqual(
      expect.arrayContaining(['.git', 'node_modules', '.vitalink', 'test-results', 'simulators', 'scripts', 'test']),
    );
  });
});
