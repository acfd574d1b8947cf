/**
 * Globs of pull policies, compiled to anchored regular expressions. Image
 * patterns follow the path shape of repository names: `*` and `?` stay
 * inside one path component, `**` crosses them (`org/**` is every
 * repository under `org/`, `**` alone every repository, and a leading
 * `**\/` also matches at the top: `**\/cache` matches `cache`). Tag
 * patterns have no components: `*` is any run of characters.
 */
export type Glob = (value: string) => boolean;

const cache = new Map<string, RegExp>();
/** Compiled patterns kept; policies hold at most a few hundred. */
const CACHE_MAX = 10_000;

/** A matcher for an image pattern (validated with `imagePatternProblem` first). */
export function imageGlob(pattern: string): Glob {
  const re = compiled(`i:${pattern}`, () => imagePatternSource(pattern));
  return (value) => re.test(value);
}

/** A matcher for a tag pattern. */
export function tagGlob(pattern: string): Glob {
  const re = compiled(`t:${pattern}`, () => [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escape(c))).join(''));
  return (value) => re.test(value);
}

/** Why an image pattern is not usable, or undefined when it is (the charset is checked by the schema). */
export function imagePatternProblem(pattern: string): string | undefined {
  if (pattern.startsWith('/') || pattern.endsWith('/')) return `image pattern ${JSON.stringify(pattern)} starts or ends with /`;
  if (pattern.includes('//')) return `image pattern ${JSON.stringify(pattern)} has an empty path component`;
  if (/\*\*\*/.test(pattern)) return `image pattern ${JSON.stringify(pattern)} has *** (use * or **)`;
  for (const part of pattern.split('/')) {
    if (part.includes('**') && part !== '**')
      return `image pattern ${JSON.stringify(pattern)}: ** must be a whole path component (org/**, **/name)`;
  }
  return undefined;
}

function imagePatternSource(pattern: string): string {
  const parts = pattern.split('/');
  let out = '';
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === '**') {
      // `**/` at any place: zero or more whole components; a final `**`: one or more characters of anything.
      out += last ? '.+' : '(?:[^/]+/)*';
      return;
    }
    out += [...part].map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : escape(c))).join('');
    if (!last) out += '/';
  });
  return out;
}

function compiled(key: string, source: () => string): RegExp {
  let re = cache.get(key);
  if (re === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear();
    re = new RegExp(`^${source()}$`);
    cache.set(key, re);
  }
  return re;
}

function escape(c: string): string {
  return /[.\\+^$()[\]{}|-]/.test(c) ? `\\${c}` : c;
}
