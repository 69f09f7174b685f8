// The speed index over known_hosts entries: which lines name a host, without trying every line
// (and every hashed line's HMAC) for every host of a large fleet. Same answers as matching the
// entries one by one (known-hosts-format.ts), in the same file order.
import { hashedNameMatches, hostFieldMatches, lookupName, parseHashed, type HashedName, type KnownHostEntry } from './known-hosts-format.js';

// A hashed line with its salt and hash decoded once, not once per lookup.
interface HashedLine extends HashedName {
  readonly entry: KnownHostEntry;
}

// Plain host names index their lines directly; wildcard and negated lines are scanned per lookup.
// A hashed line names exactly one host, but finding which costs an HMAC per line and name: once
// found (or verified from the names a previous run saved), it is indexed like a plain line, so
// only the hashed lines of hosts not yet looked up are tried. Without this a fleet of N hosts
// against N lines costs N^2.
export class KnownHostsIndex {
  private readonly byName = new Map<string, KnownHostEntry[]>();
  private readonly scanned: KnownHostEntry[] = [];
  private unresolved: HashedLine[] = [];
  /** Hashed host field -> the lookup name it hashes, for every hashed line resolved so far. */
  readonly resolved = new Map<string, string>();
  /** Resolutions found by an HMAC scan in this process, as opposed to verified from saved names. */
  scannedResolutions = 0;
  private readonly order = new Map<KnownHostEntry, number>();
  // hostKeyAlgorithms and verify ask for the same host one after the other.
  private readonly memo = new Map<string, KnownHostEntry[]>();

  constructor(entries: readonly KnownHostEntry[]) {
    for (const entry of entries) this.add(entry);
  }

  /** Adds one line: at load, or one accept-new has just written. */
  add(entry: KnownHostEntry): void {
    this.order.set(entry, this.order.size);
    this.memo.clear();
    if (entry.marker === 'cert-authority') return;
    if (entry.patterns.startsWith('|')) {
      const hashed = parseHashed(entry.patterns);
      if (hashed !== null) this.unresolved.push({ entry, ...hashed });
      return;
    }
    const names = entry.patterns.toLowerCase().split(',');
    if (names.some((n) => /[*?!]/.test(n))) {
      this.scanned.push(entry);
      return;
    }
    for (const name of new Set(names)) this.index(name, entry);
  }

  /** Resolves hashed lines to the names a previous run found for them; each pair is checked by its HMAC, so a wrong one is only skipped. */
  seed(names: ReadonlyMap<string, string>): number {
    const verified = this.resolveWhere((line) => names.get(line.entry.patterns));
    this.memo.clear();
    return verified;
  }

  /** Hashed lines not yet resolved to a name. */
  get unresolvedCount(): number {
    return this.unresolved.length;
  }

  /** Entries that name the host, in file order: its exact name's lines and the patterns that match it. */
  named(address: string, port: number): KnownHostEntry[] {
    const name = lookupName(address, port);
    let found = this.memo.get(name);
    if (found === undefined) {
      if (this.unresolved.length > 0) this.scannedResolutions += this.resolveWhere(() => name);
      const direct = this.byName.get(name) ?? [];
      const scanned = this.scanned.filter((e) => hostFieldMatches(e.patterns, name));
      found = scanned.length === 0 ? direct : [...direct, ...scanned].sort(this.byFileOrder);
      this.memo.set(name, found);
    }
    return found;
  }

  // Resolves each unresolved line to the name `candidate` offers for it, when its HMAC confirms that
  // name; returns how many were resolved.
  private resolveWhere(candidate: (line: HashedLine) => string | undefined): number {
    const before = this.unresolved.length;
    this.unresolved = this.unresolved.filter((line) => {
      const name = candidate(line);
      if (name === undefined || !hashedNameMatches(line, name)) return true;
      this.index(name, line.entry);
      this.resolved.set(line.entry.patterns, name);
      return false;
    });
    return before - this.unresolved.length;
  }

  private readonly byFileOrder = (a: KnownHostEntry, b: KnownHostEntry): number => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0);

  // A name's lines stay in file order: a hashed line is indexed when it is resolved, after later plain lines.
  private index(name: string, entry: KnownHostEntry): void {
    const list = this.byName.get(name);
    if (list === undefined) {
      this.byName.set(name, [entry]);
      return;
    }
    list.push(entry);
    if (this.byFileOrder(list[list.length - 2] as KnownHostEntry, entry) > 0) list.sort(this.byFileOrder);
  }
}
