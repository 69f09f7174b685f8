// Collects a probe's stdout with a size cap, and notices the protocol's final `end` line.

export type CollectState = 'more' | 'ended' | 'overflow';

// Bounded buffer for untrusted output: memory never exceeds the cap plus one chunk.
export class OutputCollector {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private tail = '';
  state: CollectState = 'more';

  constructor(private readonly maxBytes: number) {}

  /** Adds a chunk; returns the new state. Chunks after 'ended' or 'overflow' are dropped. */
  push(chunk: Buffer): CollectState {
    if (this.state !== 'more') return this.state;
    if (this.bytes + chunk.length > this.maxBytes) {
      this.state = 'overflow';
      this.chunks.length = 0;
      return this.state;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    // The `end` line may be split across chunks, so keep a short tail of what came before.
    this.tail = (this.tail + chunk.toString('latin1', Math.max(0, chunk.length - 8))).slice(-8);
    if (/(^|\n)end\r?\n$/.test(this.tail) && this.bytes >= 4) this.state = 'ended';
    return this.state;
  }

  get size(): number {
    return this.bytes;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

// Small bounded sink for stderr: enough for a useful error message.
export class StderrTail {
  private text = '';
  constructor(private readonly maxChars = 4096) {}
  push(chunk: Buffer): void {
    if (this.text.length < this.maxChars) this.text += chunk.toString('utf8').slice(0, this.maxChars - this.text.length);
  }
  firstLine(): string {
    return this.text.trim().split('\n')[0]?.trim().slice(0, 200) ?? '';
  }
}

/** Human size for messages: 4 MB, 512 kB. */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} kB`;
}
