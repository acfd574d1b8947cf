/** Where the CLI writes, reads and what time it is: injectable so tests run it in process. */
export interface CliIo {
  /** Results (stdout): what a script captures. A newline is added. */
  out(text: string): void;
  /** Messages for people (stderr). A newline is added. */
  err(text: string): void;
  /** Raw text to stderr, no newline added: the `\r`-redrawn progress line. */
  errRaw(text: string): void;
  /** Whether stderr is a terminal: a live progress bar there, one line per change otherwise. */
  readonly errIsTty: boolean;
  /** All of stdin (`--token-stdin`, `--password-stdin`). */
  readStdin(): Promise<string>;
  /** Asks on the terminal without echoing (`vreg login`); undefined when stdin is not a terminal. */
  readonly readSecret: ((prompt: string) => Promise<string>) | undefined;
  /** What to say if the user interrupts (Ctrl-C) now; undefined: nothing. */
  setInterruptNote(note: string | undefined): void;
  /** Waits between two polls of a job. */
  sleep(ms: number): Promise<void>;
  now(): Date;
}

/** A mistake in the command line: exit code 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Something the server did that means failure (a failed job, a failed test): exit code 1 with the message. */
export class CommandFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailedError';
  }
}
