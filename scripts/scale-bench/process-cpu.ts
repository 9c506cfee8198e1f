/**
 * CPU time of processes on this machine, from /proc/<pid>/schedstat (nanoseconds on
 * a CPU; Linux only): the service's process, and the PostgreSQL backends serving its
 * connections when the server runs on this machine. No privileges, no extension.
 */
import { readFileSync } from 'node:fs';

function cpuNs(pid: number): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is, on this machine, a PostgreSQL backend connected to `database`:
 * its process title ("postgres: 15/main: user database host(port) state") names it.
 * A server in a container reports pids of another namespace, which this rules out.
 */
export function isBackendOf(pid: number, database: string): boolean {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return title.startsWith('postgres') && title.includes(` ${database} `);
  } catch {
    return false;
  }
}

/**
 * CPU time of a set of processes that may change while it is measured (a pool
 * opening and closing connections): each process counts from its first sample, or
 * from its start when it first appears after the first sample, to its last sample.
 * CPU used between a process' last sample and its exit is missed: sample often.
 */
export class CpuMeter {
  readonly #first = new Map<number, number>();
  readonly #last = new Map<number, number>();
  #samples = 0;

  sample(pids: readonly number[]): void {
    for (const pid of pids) {
      const ns = cpuNs(pid);
      if (ns === undefined) continue;
      if (!this.#first.has(pid)) this.#first.set(pid, this.#samples === 0 ? ns : 0);
      this.#last.set(pid, ns);
    }
    this.#samples++;
  }

  /** Processes seen at least once. */
  get processes(): number {
    return this.#first.size;
  }

  seconds(): number {
    let ns = 0;
    for (const [pid, first] of this.#first) ns += (this.#last.get(pid) ?? first) - first;
    return ns / 1e9;
  }
}
