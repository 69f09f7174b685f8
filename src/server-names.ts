// The one order of server names everywhere fleetpoll lists servers: CSV files, alert mail, the report.

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
// ASCII letters fold to lower case; hostnames are ASCII, and anything else keeps its code unit.
const folded = (code: number): number => (code >= 65 && code <= 90 ? code + 32 : code);

// The same order for bare names (rows carried over from an earlier snapshot): numbers inside names compare
// by value, so web2 sorts before web10 as an admin scanning the sheet expects, and letters ignore case.
// Hand-written rather than an Intl.Collator: building one costs ~8 ms of ICU start-up in every run, and
// its order would vary with the ICU data Node was built with.
export function compareServerNames(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      // Compare the digit runs by value: skip leading zeros, then the longer run is larger, else the first difference.
      while (a.charCodeAt(i) === 48 && isDigit(a.charCodeAt(i + 1))) i += 1;
      while (b.charCodeAt(j) === 48 && isDigit(b.charCodeAt(j + 1))) j += 1;
      let endA = i;
      let endB = j;
      while (isDigit(a.charCodeAt(endA))) endA += 1;
      while (isDigit(b.charCodeAt(endB))) endB += 1;
      if (endA - i !== endB - j) return endA - i - (endB - j);
      for (; i < endA; i += 1, j += 1) {
        const d = a.charCodeAt(i) - b.charCodeAt(j);
        if (d !== 0) return d;
      }
      continue;
    }
    const d = folded(ca) - folded(cb);
    if (d !== 0) return d;
    i += 1;
    j += 1;
  }
  const byLength = a.length - i - (b.length - j);
  if (byLength !== 0) return byLength;
  return compareCodeUnits(a, b);
}

// Plain code-unit order, for texts with no numbers to read (error causes, addresses, ISO dates). Unlike
// localeCompare it needs no ICU collator, which costs ~8 ms to set up in the run that first sorts.
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
