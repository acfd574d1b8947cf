import type { CliIo } from '../cli-io.ts';

/** A CliIo that keeps what the CLI writes, for tests: stdout lines, stderr lines and raw stderr chunks. */
export interface CapturedIo extends CliIo {
  readonly stdout: string[];
  readonly stderr: string[];
  /** Everything written to stderr in order, raw chunks and lines (with their newline). */
  readonly stderrStream: string[];
  readonly sleeps: number[];
  /** Every note set for an interrupt, in order (undefined when cleared). */
  readonly interruptNotes: Array<string | undefined>;
}

export function captureIo(options: { tty?: boolean; stdin?: string; typed?: string; now?: Date } = {}): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const stderrStream: string[] = [];
  const sleeps: number[] = [];
  const interruptNotes: Array<string | undefined> = [];
  return {
    interruptNotes,
    setInterruptNote: (note) => void interruptNotes.push(note),
    stdout,
    stderr,
    stderrStream,
    sleeps,
    out: (text) => void stdout.push(text),
    err: (text) => {
      stderr.push(text);
      stderrStream.push(`${text}\n`);
    },
    errRaw: (text) => void stderrStream.push(text),
    errIsTty: options.tty === true,
    readStdin: async () => options.stdin ?? '',
    readSecret:
      options.typed === undefined
        ? undefined
        : async (prompt) => {
            stderrStream.push(prompt);
            return options.typed ?? '';
          },
    sleep: async (ms) => void sleeps.push(ms),
    now: () => options.now ?? new Date(),
  };
}
