import { chmod, lstat, mkdir, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@vreg/logging';

/** Permission bits of the group and of others: what owner-only takes away. */
const NOT_OWNER = 0o077;

/**
 * Makes the data directory owner-only: 0700 (created so, or made so). What
 * vreg writes inside it is created owner-only (files 0600, directories 0700:
 * the blob store, SQLite and its -wal/-shm, key files). A directory an older
 * vreg made (0755, files 0644) is tightened here once, at start: every
 * directory and file under it loses its group and other bits; symbolic links
 * are left alone. The walk runs only when the directory itself was not 0700
 * yet, so later starts cost one stat. A directory vreg cannot change (owned
 * by another user, a mount that refuses chmod) is logged, not fatal.
 */
export async function secureDataDir(dataDir: string, logger: Logger): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const mode = (await lstat(dataDir)).mode & 0o7777;
  if ((mode & NOT_OWNER) === 0) return;
  try {
    await chmod(dataDir, mode & ~NOT_OWNER);
    const changed = await tightenTree(dataDir);
    logger.info({ dataDir, was: mode.toString(8), changed }, 'data directory made owner-only');
  } catch (err) {
    logger.warn(
      { dataDir, mode: mode.toString(8), code: (err as NodeJS.ErrnoException).code },
      'cannot make the data directory owner-only: its files may be readable by other users',
    );
  }
}

/** Removes group and other bits from everything under `root`; returns how many entries changed. */
async function tightenTree(root: string): Promise<number> {
  let changed = 0;
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for await (const entry of await opendir(dir)) {
      if (!entry.isDirectory() && !entry.isFile()) continue;
      const path = join(dir, entry.name);
      const mode = (await lstat(path)).mode & 0o7777;
      if ((mode & NOT_OWNER) !== 0) {
        await chmod(path, mode & ~NOT_OWNER);
        changed += 1;
      }
      if (entry.isDirectory()) pending.push(path);
    }
  }
  return changed;
}
