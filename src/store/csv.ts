// RFC 4180 encoding of formatted rows. Hand-written rather than csv-stringify: the rule is
// four lines, and csv-stringify cost ~0.5 ms of CPU per polled host (measured by
// bench/poll.ts); test/store/csv.test.ts checks the bytes against csv-stringify.

// Field delimiter: ',' by default, ';' where Excel's list separator is ';' (decimal-comma locales).
export type Delimiter = ',' | ';' | '\t';

// How the files are encoded; the record delimiter is always CRLF (RFC 4180, Excel's own).
export interface CsvDialect {
  readonly delimiter: Delimiter;
}

// Excel only detects UTF-8 (rather than the ANSI code page) when the file starts with a BOM.
export const BOM = '\uFEFF';

// RFC 4180 record delimiter.
export const CRLF = '\r\n';

// Encodes records, each terminated by CRLF; '' for no records.
export function encodeRecords(records: readonly (readonly string[])[], dialect: CsvDialect): string {
  const needsQuotes = dialect.delimiter === ',' ? /[",\r\n]/ : dialect.delimiter === ';' ? /[";\r\n]/ : /["\t\r\n]/;
  // A lone CR or LF must be quoted too, or a reader (and Excel) splits the record.
  const cell = (field: string | undefined): string => {
    const text = field ?? '';
    return needsQuotes.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  // Joined, not concatenated: `+=` keeps every piece alive in a tree of string fragments until the
  // text is written (about 70 MB for one 10,000-host cycle's process rows); join builds each line flat.
  const lines = records.map((record) => record.map(cell).join(dialect.delimiter));
  return lines.length === 0 ? '' : lines.join(CRLF) + CRLF;
}

// The header line without its record delimiter, as it appears at the top of a file.
export function headerLine(columns: readonly string[], dialect: CsvDialect): string {
  return encodeRecords([columns], dialect).slice(0, -CRLF.length);
}

// A new file's first bytes: BOM, header, CRLF.
export function fileHead(columns: readonly string[], dialect: CsvDialect): string {
  return BOM + headerLine(columns, dialect) + CRLF;
}
