// A fast, byte-offset-exact RFC 4180 record scanner for the history CSVs, reading a file from any record boundary.
// Chunks are decoded as latin1 so a character index is a byte offset (the checkpoint needs bytes) and cells
// are handed over as positions, not strings: numbers are parsed in place (see cells.ts), text is re-decoded
// as UTF-8 only where it is kept. Memory is one chunk buffer and its string, whatever the file size.
import type { FileHandle } from 'node:fs/promises';

// Below V8's large-object size (128 KB), so each chunk's string dies young in a cheap scavenge; multi-MB
// chunks land in large-object space, freed only by full GCs, and cost tens of MB of peak RSS.
const CHUNK_BYTES = 96 * 1024;
// A quoted cell that never closes would otherwise swallow the rest of the file.
const MAX_RECORD_BYTES = 1024 * 1024;
// Enough for any header line we write, with room for columns a user added.
const HEADER_PROBE_BYTES = 64 * 1024;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const BOM_BYTES = [0xef, 0xbb, 0xbf];

// The header of a history file: column names, the delimiter it was written with, and where rows start.
export interface CsvHeader {
  readonly columns: readonly string[];
  readonly delimiter: string;
  /** Byte offset just after the header's line end. */
  readonly endOffset: number;
}

// Where a scan starts and what it may consume.
export interface ScanOptions {
  /** Byte offset of a record boundary (the end of the header, or a checkpoint). */
  readonly start: number;
  readonly delimiter: string;
  /** Highest field index the caller reads; later fields are counted, not located. */
  readonly lastField: number;
  /** Physical line number (1-based) of the record at `start`, for messages. */
  readonly firstLine: number;
  /** The file is complete (an archive): a last record without line end still counts. */
  readonly final: boolean;
  /** Stop at the first record boundary after this many bytes (bounded catch-up); default: no bound. */
  readonly maxBytes?: number | undefined;
}

// Where a scan ended: resume there next time.
export interface ScanResult {
  /** Byte offset after the last complete record consumed. */
  readonly endOffset: number;
  /** Physical line number of the next record. */
  readonly nextLine: number;
  readonly records: number;
  /** True when maxBytes stopped the scan before the end of the file. */
  readonly truncated: boolean;
}

// One record: cell i is text.slice(starts[i], ends[i]) for i <= lastField (latin1; see utf8Text).
// The arrays are reused between calls; `fieldCount` is the record's real number of cells.
export interface RawRecord {
  text: string;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  fieldCount: number;
  line: number;
}

// Receives each record; it must not keep `record` (it is reused).
export type RecordSink = (record: RawRecord) => void;

// Called for a record that cannot be split (an unclosed quote longer than MAX_RECORD_BYTES).
export type BrokenSink = (line: number, reason: string) => void;

// Reads and parses the header line; null for an empty file or one without a complete first line.
export async function readHeader(handle: FileHandle): Promise<CsvHeader | null> {
  const probe = Buffer.alloc(HEADER_PROBE_BYTES);
  const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
  const head = probe.subarray(0, bytesRead);
  const newline = head.indexOf(LF);
  if (newline === -1) return null;
  const bom = BOM_BYTES.every((b, i) => head[i] === b) ? 3 : 0;
  const line = head.toString('utf8', bom, head[newline - 1] === CR ? newline - 1 : newline);
  const delimiter = detectDelimiter(line);
  return { columns: splitLine(line, delimiter).map((c) => c.trim()), delimiter, endOffset: newline + 1 };
}

// The cells of one complete line (a header), quotes handled as for rows.
function splitLine(line: string, delimiter: string): string[] {
  const maxFields = line.length + 1;
  const record: RawRecord = { text: '', starts: new Int32Array(maxFields), ends: new Int32Array(maxFields), fieldCount: 0, line: 1 };
  let cells: string[] = [];
  const parser = new ChunkParser(delimiter.charCodeAt(0), maxFields - 1, record, (r) => {
    cells = [];
    for (let i = 0; i < r.fieldCount; i += 1) cells.push(r.text.slice(r.starts[i], r.ends[i]));
  });
  parser.parse(`${line}\n`, 0, Infinity);
  return cells;
}

// Our files start with `time<delimiter>`; a file re-saved by a spreadsheet may use any of the three.
function detectDelimiter(line: string): string {
  let best = ',';
  let bestCount = -1;
  for (const candidate of [',', ';', '\t']) {
    const count = line.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

// Decodes latin1-read text back to the UTF-8 it was written as, as a flat string (a slice would keep its
// whole chunk alive in whatever map stores it).
export function utf8Text(latin1: string): string {
  const bytes = Buffer.from(latin1, 'latin1');
  return bytes.toString(/[^\x00-\x7f]/.test(latin1) ? 'utf8' : 'latin1');
}

// Streams the records of `handle` from options.start to the last complete record.
export async function scanRecords(handle: FileHandle, options: ScanOptions, onRecord: RecordSink, onBroken: BrokenSink): Promise<ScanResult> {
  const limit = options.maxBytes === undefined ? Infinity : options.start + options.maxBytes;
  const record: RawRecord = {
    text: '',
    starts: new Int32Array(options.lastField + 1),
    ends: new Int32Array(options.lastField + 1),
    fieldCount: 0,
    line: options.firstLine,
  };
  const parser = new ChunkParser(options.delimiter.charCodeAt(0), options.lastField, record, onRecord);
  // The unconsumed tail of the previous chunk is moved to the front of the buffer, so each chunk is one
  // string (no concatenation) and a record never straddles two strings.
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let carry = 0;
  let base = options.start;
  let readAt = options.start;
  // Inside an overlong line that is being dropped up to its line end.
  let skipping = false;
  // The carried bytes follow a resynchronisation and have not been parsed yet.
  let unparsed = false;

  while (true) {
    let bytesRead = 0;
    if (!unparsed) {
      if (carry > buffer.length / 2) {
        // A long record: grow so every read still brings a useful amount (bounded by MAX_RECORD_BYTES).
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, carry);
        buffer = larger;
      }
      bytesRead = (await handle.read(buffer, carry, buffer.length - carry, readAt)).bytesRead;
      if (bytesRead === 0) break;
      readAt += bytesRead;
    }
    unparsed = false;
    let from = 0;
    const length = carry + bytesRead;
    if (skipping) {
      const newline = buffer.indexOf(LF, carry);
      if (newline === -1 || newline >= length) {
        base += length;
        carry = 0;
        continue;
      }
      skipping = false;
      record.line += 1;
      from = newline + 1;
    }
    const text = buffer.toString('latin1', 0, length);
    const consumed = parser.parse(text, from, limit - base);
    base += consumed;
    if (base >= limit) {
      return { endOffset: base, nextLine: record.line, records: parser.records, truncated: true };
    }
    carry = length - consumed;
    if (carry > MAX_RECORD_BYTES) {
      // An unclosed quote or a line that never ends: report it and resynchronise on the next line end.
      onBroken(record.line, 'a record longer than 1 MB (a quoted cell that is never closed?)');
      const newline = buffer.indexOf(LF, consumed);
      if (newline === -1 || newline >= length) {
        skipping = true;
        base += carry;
        carry = 0;
        continue;
      }
      record.line += 1;
      base += newline + 1 - consumed;
      carry = length - (newline + 1);
      buffer.copy(buffer, 0, newline + 1, length);
      unparsed = carry > 0;
    } else if (carry > 0) {
      buffer.copy(buffer, 0, consumed, length);
    }
  }

  if (options.final && carry > 0 && !skipping) {
    // A complete file may end without a line end: close its last record.
    const text = `${buffer.toString('latin1', 0, carry)}\n`;
    const consumed = parser.parse(text, 0, Infinity);
    if (consumed < text.length) onBroken(record.line, 'the file ends inside a quoted cell');
    base += carry;
  }
  return { endOffset: base, nextLine: record.line, records: parser.records, truncated: false };
}

// Splits records out of one chunk string.
class ChunkParser {
  records = 0;

  constructor(
    private readonly delimiter: number,
    private readonly lastField: number,
    private readonly record: RawRecord,
    private readonly onRecord: RecordSink,
  ) {}

  /** Consumes the complete records of `text` from `from`, stopping past `limit`; returns the index reached. */
  parse(text: string, from: number, limit: number): number {
    const { delimiter, lastField, record } = this;
    const { starts, ends } = record;
    const length = text.length;
    record.text = text;
    let pos = from;
    while (pos < length && pos < limit) {
      // One pass over the line: delimiters, the line end, or a quote (then the careful path).
      let field = 0;
      let fieldStart = pos;
      let i = pos;
      let done = false;
      let quoted = false;
      for (; i < length; i += 1) {
        const c = text.charCodeAt(i);
        if (c === delimiter) {
          if (field <= lastField) {
            starts[field] = fieldStart;
            ends[field] = i;
          }
          field += 1;
          fieldStart = i + 1;
        } else if (c === LF) {
          done = true;
          break;
        } else if (c === QUOTE) {
          quoted = true;
          break;
        }
      }
      if (quoted) {
        const next = this.quotedRecord(text, pos);
        if (next === -1) return pos;
        record.text = text;
        pos = next;
        continue;
      }
      if (!done) return pos;
      const end = i > fieldStart && text.charCodeAt(i - 1) === CR ? i - 1 : i;
      if (field === 0 && end === pos) {
        // A blank line (a spreadsheet may add one at the end): not a record.
        record.line += 1;
        pos = i + 1;
        continue;
      }
      if (field <= lastField) {
        starts[field] = fieldStart;
        ends[field] = end;
      }
      record.fieldCount = field + 1;
      this.onRecord(record);
      this.records += 1;
      record.line += 1;
      pos = i + 1;
    }
    return pos;
  }

  /**
   * One record with quotes, field by field (RFC 4180, lenient like a spreadsheet: a quote inside an
   * unquoted cell is literal, text after a closing quote is kept). Its cells are unescaped into a new
   * string the record points into. Returns the index after the record, or -1 when it is incomplete.
   */
  private quotedRecord(text: string, start: number): number {
    const { delimiter, lastField, record } = this;
    const length = text.length;
    const values: string[] = [];
    let pos = start;
    let lines = 1;
    while (true) {
      let value: string;
      if (text.charCodeAt(pos) === QUOTE) {
        let from = pos + 1;
        value = '';
        while (true) {
          const quote = text.indexOf('"', from);
          if (quote === -1 || quote + 1 >= length) return -1;
          if (text.charCodeAt(quote + 1) === QUOTE) {
            value += text.slice(from, quote + 1);
            from = quote + 2;
            continue;
          }
          value += text.slice(from, quote);
          pos = quote + 1;
          break;
        }
        for (let at = value.indexOf('\n'); at !== -1; at = value.indexOf('\n', at + 1)) lines += 1;
        const stop = nextStop(text, pos, delimiter);
        if (stop === -1) return -1;
        if (stop > pos) value += stripCr(text, pos, stop);
        pos = stop;
      } else {
        const stop = nextStop(text, pos, delimiter);
        if (stop === -1) return -1;
        value = stripCr(text, pos, stop);
        pos = stop;
      }
      values.push(value);
      if (text.charCodeAt(pos) === delimiter) {
        pos += 1;
        continue;
      }
      break;
    }
    let joined = '';
    for (let field = 0; field < values.length && field <= lastField; field += 1) {
      record.starts[field] = joined.length;
      joined += values[field];
      record.ends[field] = joined.length;
    }
    record.text = joined;
    record.fieldCount = values.length;
    this.onRecord(record);
    this.records += 1;
    record.line += lines;
    return pos + 1;
  }
}

// Index of the next delimiter or LF from `pos`, or -1 when there is no line end in the text yet.
function nextStop(text: string, pos: number, delimiter: number): number {
  for (let i = pos; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === delimiter || c === LF) return i;
  }
  return -1;
}

function stripCr(text: string, from: number, to: number): string {
  return to > from && text.charCodeAt(to - 1) === CR && text.charCodeAt(to) === LF ? text.slice(from, to - 1) : text.slice(from, to);
}
