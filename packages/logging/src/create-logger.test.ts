import { describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.ts';

describe('createLogger', () => {
  it('blanks credentials wherever a caller puts them', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', name: 'test', destination: { write: (line: string) => void lines.push(line) } });
    const secrets = ['Bearer eyJhbGciOiJFZERTQSJ9.x.y', 'Basic YWxpY2U6dnJlZ2F0X3NlY3JldA==', 'pw-1', 'vregat_secret', 'v1.sealed'];
    logger.info({ req: { headers: { authorization: secrets[0], 'proxy-authorization': secrets[1] } } }, 'request');
    logger.info({ upstream: { password: secrets[2], headers: { authorization: secrets[1] } } }, 'upstream');
    logger.info({ form: { refresh_token: secrets[3], access_token: secrets[0] }, token: secrets[3] }, 'form');
    logger.info({ request: { sealedToken: secrets[4] }, passwordSealed: secrets[4] }, 'bus');
    const text = lines.join('');
    expect(lines).toHaveLength(4);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});
