// The store's one error type: the data dir cannot be written, so the run cannot record anything.

// A data-dir failure (EACCES, ENOSPC, EROFS, ...) with the path and the OS reason; the CLI exits 1 on it.
export class StoreError extends Error {
  override readonly name = 'StoreError';
  /** The file or directory the operation failed on. */
  readonly path: string;
  /** The OS error code (EACCES, ENOSPC, ...), when there is one. */
  readonly code: string | undefined;

  constructor(message: string, filePath: string, code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.path = filePath;
    this.code = code;
  }
}

// True when `error` is a Node system error carrying `code`.
export function hasErrorCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}

// The code of a Node system error, or undefined for anything else.
export function errorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
