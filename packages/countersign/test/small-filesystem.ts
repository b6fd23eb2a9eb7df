/**
 * A size-limited filesystem of the test's own (tmpfs), to fill up on purpose; and the filler that does it.
 * Mounting needs root (or CAP_SYS_ADMIN); where that is missing the test says so and is skipped.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFilesystem {
  dir: string;
  /** Writes a filler file until the filesystem refuses (ENOSPC); returns the bytes written. */
  fill(): number;
  /** Deletes the filler: the space comes back. */
  free(): void;
  unmount(): void;
}

function mount(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** Why a tmpfs cannot be mounted here, or null when it can (tried once, on a throwaway mount point). */
export function smallFilesystemUnavailable(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'cs-tmpfs-probe-'));
  try {
    mount(dir, '64k');
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  } finally {
    rmdirSync(dir);
  }
}

export function mountSmallFilesystem(size: string): SmallFilesystem {
  const dir = mkdtempSync(join(tmpdir(), 'cs-tmpfs-'));
  mount(dir, size);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 1);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e;
        // The last partial page: tmpfs may take a few more bytes than one 64 KiB chunk.
        try {
          for (;;) written += writeSync(fd, chunk.subarray(0, 512));
        } catch {
          // full
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmdirSync(dir);
    },
  };
}
