/** One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1). */
export interface AuthChallenge {
  /** Auth scheme, lower-cased: `bearer`, `basic`, … */
  scheme: string;
  /** Auth parameters, names lower-cased, quoted values unescaped (`realm`, `service`, `scope`, `error`). */
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), when the challenge used it instead of parameters. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;
const SPACE = /[ \t]/;

/**
 * Parses `WWW-Authenticate` into its challenges, in order. Tolerant by
 * design: several challenges in one header or in repeated headers, quoted
 * values holding commas or escaped quotes, spaces around `=`, unquoted
 * values, any scheme case. Garbage it cannot read is skipped, never thrown.
 *
 * @example
 * parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')
 * // [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } }]
 */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  if (typeof header !== 'string') return header.flatMap((h) => parseWwwAuthenticate(h));
  return new ChallengeParser(header).parse();
}

/** Cursor over one header value. */
class ChallengeParser {
  #pos = 0;

  constructor(private readonly text: string) {}

  parse(): AuthChallenge[] {
    const challenges: AuthChallenge[] = [];
    let current: AuthChallenge | undefined;
    for (;;) {
      this.#skip(/[ \t,]/);
      if (this.#pos >= this.text.length) return challenges;
      const name = this.#token();
      if (name === '') {
        this.#pos++; // not a token character: skip it rather than give up
        continue;
      }
      this.#skip(SPACE);
      if (current !== undefined && this.#peek() === '=') {
        this.#pos++;
        this.#skip(SPACE);
        const value = this.#peek() === '"' ? this.#quoted() : this.#token();
        const key = name.toLowerCase();
        // A repeated parameter is invalid; keep the first, as most clients do.
        if (!Object.hasOwn(current.params, key)) current.params[key] = value;
        continue;
      }
      // A token not followed by `=` starts the next challenge.
      current = { scheme: name.toLowerCase(), params: Object.create(null) as Record<string, string> };
      challenges.push(current);
      const token68 = this.#token68();
      if (token68 !== undefined) current.token68 = token68;
    }
  }

  #peek(): string | undefined {
    return this.text[this.#pos];
  }

  #skip(chars: RegExp): void {
    while (this.#pos < this.text.length && chars.test(this.text[this.#pos] ?? '')) this.#pos++;
  }

  #token(): string {
    const start = this.#pos;
    this.#skip(TCHAR);
    return this.text.slice(start, this.#pos);
  }

  /** A token68 stands alone: it is followed by a comma or the end, never by a value. */
  #token68(): string | undefined {
    const rest = this.text.slice(this.#pos);
    const match = TOKEN68.exec(rest);
    if (match === null) return undefined;
    const after = rest.slice(match[0].length).trimStart();
    if (after !== '' && !after.startsWith(',')) return undefined;
    this.#pos += match[0].length;
    return match[0];
  }

  /** A quoted-string with backslash escapes; an unterminated one runs to the end. */
  #quoted(): string {
    this.#pos++; // opening quote
    let value = '';
    while (this.#pos < this.text.length) {
      const ch = this.text[this.#pos++];
      if (ch === '"') return value;
      if (ch === '\\' && this.#pos < this.text.length) value += this.text[this.#pos++];
      else value += ch;
    }
    return value;
  }
}
