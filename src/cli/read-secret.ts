import { UsageError } from './cli-io.ts';

/**
 * Reads one line from a terminal without echoing it (the token at `vreg
 * login`): raw mode, backspace edits, Enter ends, Ctrl-C or Ctrl-D cancels.
 */
export function readSecretFromTerminal(stdin: NodeJS.ReadStream, echo: NodeJS.WriteStream, prompt: string): Promise<string> {
  echo.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      echo.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          reject(new UsageError('login cancelled'));
          return;
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}
