/** Where the CLI writes and what time it is: injectable so tests run it in process. */
export interface CliIo {
  /** Results (stdout): what a script captures. */
  out(text: string): void;
  /** Messages for people (stderr). */
  err(text: string): void;
  now(): Date;
}

/** A mistake in the command line: exit code 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
