// Cell formatting for the CSV files: units, decimals, UTC times and Excel formula safety.
// Every function returns the final cell text; absent or non-finite values become ''.

export type DecimalSeparator = '.' | ',';

const KB_PER_MB = 1024;
const KB_PER_GB = 1024 * 1024;

// Excel (and LibreOffice, Google Sheets) treat a cell starting with one of these as a formula.
const FORMULA_START = /^[=+\-@\t\r]/;

// Makes host-originated or inventory text safe to open in a spreadsheet: a leading ' stops formula evaluation.
export function neutralise(text: string | null | undefined): string {
  if (text === null || text === undefined) return '';
  return FORMULA_START.test(text) ? `'${text}` : text;
}

// UTC `YYYY-MM-DD HH:MM:SS`, which Excel parses as a date-time in every locale.
export function formatTime(time: Date): string {
  if (Number.isNaN(time.getTime())) return '';
  return time.toISOString().slice(0, 19).replace('T', ' ');
}

// Compact UTC stamp `YYYYMMDD-HHMMSS` for file names (sorts chronologically, no ':' for Windows).
export function fileStamp(time: Date): string {
  return formatTime(time).replace(/-/g, '').replace(' ', '-').replace(/:/g, '');
}

// A number with a fixed number of decimals and the chosen decimal separator.
export function formatFixed(value: number | null | undefined, decimals: number, separator: DecimalSeparator): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const text = value.toFixed(decimals);
  return separator === '.' ? text : text.replace('.', ',');
}

// Cell formatters bound to one decimal separator, so row builders cannot mix locales.
export interface CellFormatter {
  readonly decimalSeparator: DecimalSeparator;
  time(time: Date): string;
  text(text: string | null | undefined): string;
  integer(value: number | null | undefined): string;
  fixed(value: number | null | undefined, decimals: number): string;
  /** RAM and disk sizes: kB in, GB with 2 decimals out. */
  kbAsGb(kb: number | null | undefined): string;
  /** A process's or user's memory: kB in, MB with 1 decimal out. */
  kbAsMb(kb: number | null | undefined): string;
  /** Percentages with 1 decimal. */
  pct(value: number | null | undefined): string;
}

// Builds the formatters for a decimal separator ('.' default; ',' for locales whose Excel expects ';').
export function cellFormatter(decimalSeparator: DecimalSeparator = '.'): CellFormatter {
  const fixed = (value: number | null | undefined, decimals: number): string =>
    formatFixed(value, decimals, decimalSeparator);
  const scaled = (value: number | null | undefined, divisor: number, decimals: number): string =>
    value === null || value === undefined ? '' : fixed(value / divisor, decimals);
  // Every row of a poll has the same time: format it once, not once per row.
  let lastTime = Number.NaN;
  let lastText = '';
  const time = (value: Date): string => {
    const ms = value.getTime();
    if (ms !== lastTime) {
      lastText = formatTime(value);
      lastTime = ms;
    }
    return lastText;
  };
  return {
    decimalSeparator,
    time,
    text: neutralise,
    integer: (value) => fixed(value, 0),
    fixed,
    kbAsGb: (kb) => scaled(kb, KB_PER_GB, 2),
    kbAsMb: (kb) => scaled(kb, KB_PER_MB, 1),
    pct: (value) => fixed(value, 1),
  };
}
