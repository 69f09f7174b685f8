// RFC 4180 encoding of formatted rows: the one place that knows csv-stringify's options.
import { stringify } from 'csv-stringify/sync';

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
  if (records.length === 0) return '';
  return stringify(records as string[][], {
    delimiter: dialect.delimiter,
    record_delimiter: CRLF,
    // With a custom record delimiter csv-stringify stops quoting a lone \n or \r by default,
    // which a reader (and Excel) would split into two records.
    quote_record_delimiter: true,
    eof: true,
  });
}

// The header line without its record delimiter, as it appears at the top of a file.
export function headerLine(columns: readonly string[], dialect: CsvDialect): string {
  return encodeRecords([columns], dialect).slice(0, -CRLF.length);
}

// A new file's first bytes: BOM, header, CRLF.
export function fileHead(columns: readonly string[], dialect: CsvDialect): string {
  return BOM + headerLine(columns, dialect) + CRLF;
}
