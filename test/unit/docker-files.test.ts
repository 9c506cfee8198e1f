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
    expect(published).toEqual(['127.0.0.1:1883:1883', '127.0.0.1:8080:8080']);
  });

  it('runs the service as a role that is not the superuser, created by the mounted init script', () => {
    const superuser = /POSTGRES_USER: (\S+)/.exec(compose)?.[1];
    const serviceUser = /DATABASE_URL: postgres:\/\/([^:]+):/.exec(compose)?.[1];
    expect(superuser).toBe('postgres');
    expect(serviceUser).toBe('vitalink');
    expect(compose).toContain('./docker/postgres-init:/docker-entrypoint-initdb.d:ro');
    const init = read('docker/postgres-init/10-vitalink-role.sh');
    expect(init).toMatch(/CREATE ROLE vitalink LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE/);
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
