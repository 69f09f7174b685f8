// The run log's file: appended line by line, rotated by size. Rotation keeps the names and the rule
// of winston's File transport with `tailable`, which wrote it before (docs/troubleshooting.md):
// the current file is always fleetpoll.log, older ones fleetpoll1.log (newest) .. fleetpoll<N-1>.log.
import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/** An append-only file rotated once a write brings it to maxSizeBytes or more. */
export class RotatingFile {
  private fd: number | null = null;
  private sizeBytes = 0;

  constructor(
    readonly path: string,
    private readonly maxSizeBytes: number,
    private readonly maxFiles: number,
  ) {}

  /** Appends text; throws the file system's error (the caller decides what a lost line costs). */
  write(text: string): void {
    if (this.fd === null) this.open();
    const bytes = Buffer.from(text, 'utf8');
    writeSync(this.fd as number, bytes);
    this.sizeBytes += bytes.length;
    if (this.sizeBytes >= this.maxSizeBytes) {
      this.close();
      this.rotate();
      // The current file exists again at once, empty.
      this.open();
    }
  }

  /** Closes the file (the next write opens it again). */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }

  private open(): void {
    let size = 0;
    try {
      size = statSync(this.path).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // A file already at the limit (left by an earlier run) is rotated before this run writes to it.
    if (size >= this.maxSizeBytes) {
      this.rotate();
      size = 0;
    }
    this.fd = openSync(this.path, 'a');
    this.sizeBytes = size;
  }

  // fleetpoll<N-2>.log -> fleetpoll<N-1>.log, ..., fleetpoll1.log -> fleetpoll2.log, then fleetpoll.log -> fleetpoll1.log.
  private rotate(): void {
    const ext = extname(this.path);
    const dir = dirname(this.path);
    const stem = basename(this.path, ext);
    const numbered = (n: number): string => join(dir, `${stem}${n}${ext}`);
    for (let n = this.maxFiles - 1; n > 1; n -= 1) {
      if (existsSync(numbered(n - 1))) renameSync(numbered(n - 1), numbered(n));
    }
    renameSync(this.path, numbered(1));
  }
}
