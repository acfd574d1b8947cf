import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './cli-io.ts';

export const DEFAULT_URL = 'http://127.0.0.1:5000';

/** What `vreg login` saves: the server and the token that works there. */
export interface SavedLogin {
  url: string;
  token: string;
}

/** An absolute http(s) URL. No zod here: importing it would cost every command a noticeable share of its start-up. */
function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return false;
  try {
    return new URL(value).host !== '';
  } catch {
    return false;
  }
}

function isSavedLogin(value: unknown): value is SavedLogin {
  const v = value as Partial<SavedLogin> | null;
  return typeof v === 'object' && v !== null && isHttpUrl(v.url) && typeof v.token === 'string' && v.token !== '';
}

/** The server and token a command uses. */
export interface CliConfig {
  readonly url: string;
  readonly token: string;
}

/** `$XDG_CONFIG_HOME/vreg/config.json`, else `~/.config/vreg/config.json`. */
export function configFilePath(env: Record<string, string | undefined>): string {
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ''
      ? env.XDG_CONFIG_HOME
      : join(env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir(), '.config');
  return join(base, 'vreg', 'config.json');
}

/** The saved login, or undefined when there is none. @throws UsageError when the file is not one vreg wrote. */
export async function readSavedLogin(path: string): Promise<SavedLogin | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!isSavedLogin(json)) throw new UsageError(`${path} is not a vreg login (run vreg login again, or vreg logout)`);
  return { url: json.url, token: json.token };
}

/** Writes the login readable by its owner only (0600, directory 0700), replacing any other atomically. */
export async function saveLogin(path: string, login: SavedLogin): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  // Created 0600 so the token is never readable by others, not even for a moment.
  await writeFile(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Removes the saved login; false when there was none. */
export async function removeSavedLogin(path: string): Promise<boolean> {
  const existed = (await readSavedLogin(path).catch(() => 'broken')) !== undefined;
  await rm(path, { force: true });
  return existed;
}

/** A URL given on the command line or in VREG_URL. @throws UsageError */
export function checkUrl(url: string, where: string): string {
  if (!isHttpUrl(url)) throw new UsageError(`${where} must be an http or https URL, not ${JSON.stringify(url)}`);
  return url.replace(/\/+$/, '');
}

/**
 * VREG_URL and VREG_TOKEN override the saved login, each on its own: a token
 * never belongs on a command line (it would show in `ps`).
 * @throws UsageError when no token is known.
 */
export function resolveCliConfig(env: Record<string, string | undefined>, saved: SavedLogin | undefined): CliConfig {
  const url = env.VREG_URL !== undefined && env.VREG_URL !== '' ? checkUrl(env.VREG_URL, 'VREG_URL') : (saved?.url ?? DEFAULT_URL);
  // The saved token goes only to the server it was saved for, never to another VREG_URL.
  const token = env.VREG_TOKEN !== undefined && env.VREG_TOKEN !== '' ? env.VREG_TOKEN : saved?.url === url ? saved.token : undefined;
  if (token === undefined) throw new UsageError('not logged in: run `vreg login --url URL` (or set VREG_URL and VREG_TOKEN)');
  return { url, token };
}
