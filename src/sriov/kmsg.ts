import * as fs from 'fs';
import * as path from 'path';

/** Returns the kernel log's most recent messages, oldest first, without the kmsg record prefix. */
export type KernelLogReader = () => string[];

const MAX_BYTES = 4 << 20;

/**
 * Reads `<root>/dev/kmsg` (the same ring buffer dmesg prints) without blocking. On a host each
 * read(2) returns one record and EAGAIN marks the end; a test's plain file is read to EOF.
 * Unreadable (no permission, no file) → empty: diagnoses then fall back to their generic advice.
 */
export function kmsgReader(root = '/', keep = 300): KernelLogReader {
  return () => {
    let fd: number;
    try {
      fd = fs.openSync(path.join(root, 'dev/kmsg'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch {
      return [];
    }
    const chunks: string[] = [];
    const buf = Buffer.alloc(8192);
    let total = 0;
    try {
      for (;;) {
        let n: number;
        try {
          n = fs.readSync(fd, buf, 0, buf.length, null);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EPIPE') continue; // records overwritten while reading: skip ahead
          break; // EAGAIN: end of the buffer
        }
        if (n <= 0) break;
        let s = buf.toString('utf8', 0, n);
        if (!s.endsWith('\n')) s += '\n';
        chunks.push(s);
        total += n;
        if (total > MAX_BYTES) break;
      }
    } finally {
      fs.closeSync(fd);
    }
    return parseKmsg(chunks.join('')).slice(-keep);
  };
}

/** `6,1234,5678,-;pci 0000:01:00.0: ...` → `pci 0000:01:00.0: ...`; continuation lines dropped. */
export function parseKmsg(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const semi = line.indexOf(';');
    out.push(semi >= 0 && /^\d+,\d+,\d+/.test(line) ? line.slice(semi + 1) : line);
  }
  return out;
}
