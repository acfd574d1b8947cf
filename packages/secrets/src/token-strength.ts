/** Characters a bearer secret should have at least: 32 random base64url characters carry 192 bits, 32 hex ones 128. */
export const STRONG_TOKEN_MIN_LENGTH = 32;
/** Fewest distinct characters: 32 random hex characters have fewer than 8 distinct ones with a probability of 3.5e-8 (fewer than 10: 1e-4). */
export const STRONG_TOKEN_MIN_DISTINCT = 8;
/**
 * Bits what is left of a token must still estimate once well-known words
 * and typed runs are cut out: its length times the Shannon entropy of its
 * own character frequencies (an underestimate for random tokens: 32 random
 * hex characters estimate about 115 bits).
 */
export const STRONG_TOKEN_MIN_BITS = 64;

/** Words people put in secrets they chose by hand; each is cut out before the rest is measured. */
const WEAK_WORDS = [
  'password',
  'passwd',
  'secret',
  'admin',
  'token',
  'changeme',
  'letmein',
  'welcome',
  'qwerty',
  'azerty',
  'default',
  'example',
  'test',
  'vreg',
  'registry',
  'docker',
  'root',
  'master',
  'dragon',
  'monkey',
];

/** Keyboard rows: walking along one is typing, not randomness. */
const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

/** True when `b` follows `a` in a run a person types: the same character, the next or previous one, or its neighbour on a keyboard row. */
function follows(a: string, b: string, step: number): boolean {
  if (b.charCodeAt(0) - a.charCodeAt(0) === step) return true;
  return KEYBOARD_ROWS.some((row) => {
    const i = row.indexOf(a);
    return i >= 0 && step !== 0 && row[i + step] === b;
  });
}

/** Cuts out runs of four or more equal, consecutive or keyboard-adjacent characters (aaaa, 1234, dcba, asdf). */
function withoutRuns(text: string): string {
  const chars = [...text];
  let out = '';
  let i = 0;
  while (i < chars.length) {
    let longest = 1;
    for (const step of [0, 1, -1]) {
      let end = i + 1;
      while (end < chars.length && follows(chars[end - 1] as string, chars[end] as string, step)) end += 1;
      longest = Math.max(longest, end - i);
    }
    if (longest >= 4) i += longest;
    else {
      out += chars[i];
      i += 1;
    }
  }
  return out;
}

/** Length times the Shannon entropy of the character frequencies, in bits. */
export function estimatedBits(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  const n = [...text].length;
  let perChar = 0;
  for (const count of counts.values()) perChar -= (count / n) * Math.log2(count / n);
  return n * perChar;
}

/**
 * Why a bearer secret an operator chose (VREG_ADMIN_TOKEN) looks weak;
 * empty when it looks like the output of a random generator. A heuristic:
 * it catches short, repetitive, keyboard and dictionary-made tokens, not
 * every guessable one. The rule, in order:
 * 1. at least 32 characters;
 * 2. at least 8 distinct characters;
 * 3. with well-known words (password, admin, secret...) and runs of four
 *    or more equal, consecutive or keyboard-adjacent characters (aaaa,
 *    1234, dcba, asdf) cut out, what remains still estimates 64 bits
 *    (`estimatedBits`).
 * The reasons never quote the token.
 */
export function tokenWeaknesses(token: string): string[] {
  const reasons: string[] = [];
  const length = [...token].length;
  if (length < STRONG_TOKEN_MIN_LENGTH) reasons.push(`it has ${length} characters, fewer than ${STRONG_TOKEN_MIN_LENGTH}`);
  const distinct = new Set(token).size;
  if (distinct < STRONG_TOKEN_MIN_DISTINCT)
    reasons.push(`it uses ${distinct} distinct characters, fewer than ${STRONG_TOKEN_MIN_DISTINCT}`);
  let rest = token.toLowerCase();
  const words = WEAK_WORDS.filter((w) => rest.includes(w));
  for (const word of words) rest = rest.split(word).join('');
  rest = withoutRuns(rest);
  const restLength = [...rest].length;
  const bits = Math.floor(estimatedBits(rest));
  if (bits < STRONG_TOKEN_MIN_BITS)
    reasons.push(
      `without well-known words${words.length > 0 ? ` (${words.length} found)` : ''} and runs of equal, consecutive or keyboard-adjacent characters ` +
        `it has ${restLength} characters estimating ${bits} bits of randomness, fewer than ${STRONG_TOKEN_MIN_BITS}`,
    );
  return reasons;
}
