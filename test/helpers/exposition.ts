// A strict reader of the Prometheus text format for tests: every sample with its label values
// unescaped, and the checks Prometheus makes at scrape time that promtool's linter does not
// (a family's samples contiguous, no series twice, no sample timestamps).

// One sample line, read back.
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

// An exposition read back.
export interface ParsedExposition {
  readonly samples: readonly ParsedSample[];
  /** HELP text per family, unescaped. */
  readonly help: ReadonlyMap<string, string>;
  readonly types: ReadonlyMap<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Parses `text`; throws naming the line on anything the format does not allow. */
export function parseExposition(text: string): ParsedExposition {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition does not end with a line feed');
  const samples: ParsedSample[] = [];
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line.slice(0, 120))})`;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (kind === 'HELP') help.set(name, rest.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)));
      else types.set(name, rest);
      return;
    }
    // Other comments and empty lines are allowed and ignored.
    if (line.startsWith('#') || line === '') return;
    const name = NAME.exec(line)?.[0];
    if (name === undefined) throw new Error(`${where}: no metric name`);
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === '{') {
      pos += 1;
      while (line[pos] !== '}') {
        const labelName = NAME.exec(line.slice(pos))?.[0];
        if (labelName === undefined || line[pos + labelName.length] !== '=' || line[pos + labelName.length + 1] !== '"') throw new Error(`${where}: bad label at ${pos}`);
        pos += labelName.length + 2;
        let value = '';
        for (;;) {
          const c = line[pos];
          if (c === undefined) throw new Error(`${where}: unterminated label value`);
          pos += 1;
          if (c === '"') break;
          if (c === '\\') {
            const e = line[pos];
            pos += 1;
            if (e === 'n') value += '\n';
            else if (e === '\\' || e === '"') value += e;
            else throw new Error(`${where}: unknown escape \\${e ?? ''}`);
          } else value += c;
        }
        if (labelName in labels) throw new Error(`${where}: label ${labelName} twice`);
        labels[labelName] = value;
        if (line[pos] === ',') pos += 1;
        else if (line[pos] !== '}') throw new Error(`${where}: expected , or } at ${pos}`);
      }
      pos += 1;
    }
    const rest = line.slice(pos).split(' ');
    if (rest[0] !== '' || rest.length !== 2) throw new Error(`${where}: expected one space and a value (and no timestamp)`);
    const raw = rest[1]!;
    // Go's ParseFloat reads these whatever their case (prom-client writes "Nan").
    const word = raw.toLowerCase();
    const value = word === 'nan' ? NaN : word === '+inf' || word === 'inf' ? Infinity : word === '-inf' ? -Infinity : Number(raw);
    if (raw === '' || (Number.isNaN(value) && word !== 'nan')) throw new Error(`${where}: bad value`);
    const family = familyOf(name, types);
    if (family !== current) {
      if (closed.has(family)) throw new Error(`${where}: samples of ${family} are not contiguous`);
      if (current !== null) closed.add(current);
      current = family;
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series`);
    seen.add(key);
    samples.push({ name, labels, value });
  });
  return { samples, help, types };
}

function familyOf(name: string, types: ReadonlyMap<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && types.get(base) === 'histogram') return base;
  }
  return name;
}

/** The samples of `name` whose labels include `match`. */
export function samplesOf(parsed: ParsedExposition, name: string, match: Record<string, string> = {}): ParsedSample[] {
  return parsed.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
