import { readFile, stat } from 'node:fs/promises';
import tls from 'node:tls';
import type { Logger } from '../logger.ts';

/**
 * The TLS files of the service (certificate, key, device CA bundle, CRL), read
 * at start and re-read when one of them changes on disk, so that a rotated
 * certificate (Let's Encrypt renewing every 60 days) or an updated CRL reaches
 * new connections without a restart (README, "Security", "Certificate rotation").
 *
 * Each file is named by the variable that points at it, so that a problem names
 * the setting. Changes are found by polling each file's modification time, size
 * and inode every `intervalMs` (`stat` follows symlinks, so certbot's
 * `live/` links to `archive/` files are seen; fs.watch misses a file replaced by
 * a rename). On a change every file is read again and every consumer's options
 * are built and checked with `tls.createSecureContext`; only if all of them hold
 * (a certificate and its key that match, PEM that parses) is the new material
 * handed to the consumers (`tls.Server#setSecureContext`), otherwise it is
 * logged and the previous material stays in use. Connections already open keep
 * the context they were made with.
 */

export type TlsFiles = Readonly<Record<string, string>>;
export type TlsContents = Readonly<Record<string, Buffer>>;

/** A listener that takes the material: how it builds its options, and how it applies them. */
export interface TlsConsumer {
  readonly build: (files: TlsContents) => tls.SecureContextOptions;
  readonly apply: (options: tls.SecureContextOptions) => void;
}

export class TlsMaterialError extends Error {}

interface Stamp {
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
}

const sameStamp = (a: Stamp | undefined, b: Stamp | undefined) =>
  !!a && !!b && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;

export class TlsMaterial {
  readonly #files: TlsFiles;
  readonly #log: Logger;
  readonly #onReload: (outcome: 'loaded' | 'failed') => void;
  readonly #consumers: TlsConsumer[] = [];
  #contents: TlsContents = {};
  #stamps = new Map<string, Stamp>();
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;

  constructor(files: TlsFiles, log: Logger, onReload: (outcome: 'loaded' | 'failed') => void = () => {}) {
    this.#files = files;
    this.#log = log;
    this.#onReload = onReload;
  }

  /** Reads every file once; a file that cannot be read is an error naming its variable. */
  async load(): Promise<void> {
    const { contents, stamps } = await this.#read();
    this.#contents = contents;
    this.#stamps = stamps;
  }

  /**
   * Checks that the files read make one TLS configuration (the key is the
   * certificate's, every file is PEM) before any listener uses them.
   */
  assertUsable(build: (files: TlsContents) => tls.SecureContextOptions): void {
    try {
      tls.createSecureContext(build(this.#contents));
    } catch (err) {
      throw new TlsMaterialError(
        `the TLS files (${this.#describe()}) do not make a usable TLS configuration: ${(err as Error).message}; check that TLS_KEY_FILE is the key of TLS_CERT_FILE and that every file is PEM`,
      );
    }
  }

  /** The contents read last that every consumer accepted. */
  get contents(): TlsContents {
    return this.#contents;
  }

  /**
   * Registers a listener and returns its options for the current material; a
   * certificate and key that do not go together are an error here, at start.
   */
  use(consumer: TlsConsumer): tls.SecureContextOptions {
    this.assertUsable(consumer.build);
    this.#consumers.push(consumer);
    return consumer.build(this.#contents);
  }

  /** Starts checking the files for changes every `intervalMs`. */
  watch(intervalMs: number): void {
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check for changes (what the timer runs); resolves once a reload it started is done. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    let stamps: Map<string, Stamp>;
    try {
      stamps = await this.#stat();
    } catch (err) {
      // A file briefly missing while it is replaced: the next check sees the new one.
      this.#log.debug({ code: (err as NodeJS.ErrnoException).code }, 'tls file not readable, checked again later');
      return;
    }
    if ([...stamps].every(([name, s]) => sameStamp(s, this.#stamps.get(name)))) return;
    // Remembered whatever comes of it: a broken pair is reported once, not at every check.
    this.#stamps = stamps;
    let contents: TlsContents;
    let built: tls.SecureContextOptions[];
    try {
      ({ contents } = await this.#read());
      built = this.#consumers.map((c) => c.build(contents));
      for (const options of built) tls.createSecureContext(options);
    } catch (err) {
      this.#onReload('failed');
      this.#log.error(
        { files: Object.keys(this.#files), error: (err as Error).message },
        'tls files changed but are not usable, keeping the previous certificate',
      );
      return;
    }
    this.#contents = contents;
    this.#consumers.forEach((c, i) => c.apply(built[i]!));
    this.#onReload('loaded');
    this.#log.info({ files: Object.keys(this.#files) }, 'tls files reloaded');
  }

  async #stat(): Promise<Map<string, Stamp>> {
    const stamps = new Map<string, Stamp>();
    for (const [name, file] of Object.entries(this.#files)) {
      const s = await stat(file);
      stamps.set(name, { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino });
    }
    return stamps;
  }

  async #read(): Promise<{ contents: TlsContents; stamps: Map<string, Stamp> }> {
    const contents: Record<string, Buffer> = {};
    const stamps = new Map<string, Stamp>();
    for (const [name, file] of Object.entries(this.#files)) {
      try {
        const s = await stat(file);
        stamps.set(name, { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino });
        contents[name] = await readFile(file);
      } catch (err) {
        throw new TlsMaterialError(
          `${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path and that the service's user may read it`,
        );
      }
    }
    return { contents, stamps };
  }

  #describe(): string {
    return Object.keys(this.#files).join(', ');
  }
}
