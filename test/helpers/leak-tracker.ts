/** Something a test opened that must be closed: an MQTT client, a pg client or pool. */
export interface Closable {
  /** What it is, for the failure message (an id, never a secret). */
  readonly what: string;
  isOpen(): boolean;
  close(): Promise<void>;
}

/**
 * The leak check after each test (conventions.md, "Tests": a check after each
 * test fails the test that leaked a client or a pool).
 *
 * States: between tests (what is tracked belongs to the file: opened in
 * beforeAll, it lives until afterAll) and inside a test (what is tracked belongs
 * to that test). At the end of a test, what the test opened and left open is a
 * leak, unless it was opened as `released` (the fixture closes it for the test,
 * as with the device clients of `connectDevice`). Leaks are closed as well as
 * reported, so that one leak fails one test and not the tests after it.
 */
export class LeakTracker {
  readonly #file = new Set<Closable>();
  readonly #test = new Set<Closable>();
  readonly #released = new Set<Closable>();
  #inTest = false;

  get inTest(): boolean {
    return this.#inTest;
  }

  beginTest(): void {
    this.#inTest = true;
  }

  /**
   * Tracks `resource` in the current scope. `released`: the tracker closes it at
   * the end of its scope, and it is not a leak.
   */
  track<T extends Closable>(resource: T, options: { released?: boolean } = {}): T {
    (this.#inTest ? this.#test : this.#file).add(resource);
    if (options.released) this.#released.add(resource);
    return resource;
  }

  /** Ends the test: closes what it opened, and returns what it left open without a release (its leaks). */
  async endTest(): Promise<string[]> {
    this.#inTest = false;
    const opened = [...this.#test];
    this.#test.clear();
    const leaks = opened.filter((r) => r.isOpen() && !this.#released.has(r)).map((r) => r.what);
    await closeEach(opened);
    for (const r of opened) this.#released.delete(r);
    return leaks;
  }

  /** Closes what the file opened, newest first (teardown mirrors start-up). */
  async closeAll(): Promise<void> {
    const opened = [...this.#file].reverse();
    this.#file.clear();
    this.#released.clear();
    for (const r of opened) if (r.isOpen()) await r.close().catch(() => {});
  }
}

async function closeEach(resources: Closable[]): Promise<void> {
  await Promise.all(resources.filter((r) => r.isOpen()).map((r) => r.close().catch(() => {})));
}

/** A message for the test that leaked. */
export function describeLeaks(leaks: string[]): string {
  return `this test left ${leaks.length} client(s) open: ${leaks.join(', ')} (close them, or open them in beforeAll)`;
}
