// A tiny ustar writer: enough to build container image layers (regular
// files, directories, symlinks) with deterministic bytes. POSIX.1-1988 ustar
// header layout; names longer than 100 bytes use the 155-byte prefix field.

const BLOCK = 512;

/** Default mtime of every entry (2024-01-01T00:00:00Z) so layers are reproducible. */
export const FIXED_MTIME = 1704067200;

/**
 * @typedef {{ type: 'dir', path: string, mode?: number }
 *   | { type: 'file', path: string, mode?: number, data: Buffer | string }
 *   | { type: 'symlink', path: string, target: string }} TarEntry
 */

function octal(value, width) {
  // width - 1 octal digits, NUL terminated.
  const s = value.toString(8).padStart(width - 1, '0');
  if (s.length > width - 1) throw new Error(`tar: ${value} does not fit ${width} bytes`);
  return s + '\0';
}

function writeString(buf, offset, width, str) {
  const bytes = Buffer.from(str, 'utf8');
  if (bytes.length > width) throw new Error(`tar: "${str}" longer than ${width} bytes`);
  bytes.copy(buf, offset);
}

function splitName(path) {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  // Split at a slash so that name <= 100 and prefix <= 155 bytes.
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(name) <= 100 && Buffer.byteLength(prefix) <= 155 && name) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function header({ path, mode, size, typeflag, linkname = '', mtime }) {
  const h = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitName(path);
  writeString(h, 0, 100, name);
  writeString(h, 100, 8, octal(mode, 8));
  writeString(h, 108, 8, octal(0, 8)); // uid
  writeString(h, 116, 8, octal(0, 8)); // gid
  writeString(h, 124, 12, octal(size, 12));
  writeString(h, 136, 12, octal(mtime, 12));
  h.fill(0x20, 148, 156); // checksum counts as spaces while summing
  writeString(h, 156, 1, typeflag);
  writeString(h, 157, 100, linkname);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeString(h, 329, 8, octal(0, 8)); // devmajor
  writeString(h, 337, 8, octal(0, 8)); // devminor
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  // Six octal digits, NUL, space: the form GNU and BSD tar both write.
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/**
 * Serialises entries, in the order given, as an uncompressed tar archive
 * ending in the two zero blocks. Paths are relative ("bin/sh"); directories
 * get a trailing slash.
 * @param {TarEntry[]} entries
 * @param {{ mtime?: number }} [options]
 * @returns {Buffer}
 */
export function tar(entries, { mtime = FIXED_MTIME } = {}) {
  const parts = [];
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (e.type === 'dir') {
      const p = path.endsWith('/') ? path : `${path}/`;
      parts.push(header({ path: p, mode: e.mode ?? 0o755, size: 0, typeflag: '5', mtime }));
    } else if (e.type === 'symlink') {
      parts.push(header({ path, mode: 0o777, size: 0, typeflag: '2', linkname: e.target, mtime }));
    } else if (e.type === 'file') {
      const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, 'utf8');
      parts.push(header({ path, mode: e.mode ?? 0o644, size: data.length, typeflag: '0', mtime }));
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    } else {
      throw new Error(`tar: unknown entry type ${e.type}`);
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}
