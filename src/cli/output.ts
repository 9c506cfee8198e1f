/** How commands print: a human sentence by default, one JSON object with --json. */
export interface Output {
  result(json: unknown, text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    result(value, text) {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
    },
  };
}

/** A command-line mistake: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
