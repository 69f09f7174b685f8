// The manual cannot rot silently: every relative link in README.md and docs/*.md must point to an
// existing file and, when it names one, an existing heading of that file (GitHub's anchor rules).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// dist/test/docs.test.js -> the repository root (fileURLToPath: the checkout may live in a path with spaces).
const REPO = fileURLToPath(new URL('../../', import.meta.url));

// A link as written: where it is and what it points to.
interface Link {
  readonly line: number;
  readonly target: string;
}

// Lines outside fenced code blocks, with their 1-based numbers; inline code spans blanked out.
function proseLines(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | null = null;
  markdown.split('\n').forEach((raw, i) => {
    const opener = /^\s*(```+|~~~+)/.exec(raw);
    if (opener !== null) {
      const mark = opener[1] ?? '';
      if (fence === null) fence = mark;
      else if (mark.startsWith(fence)) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text: raw });
  });
  return out;
}

// Inline links `[text](target)` (and images), plus reference definitions `[name]: target`.
function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  for (const { line, text } of proseLines(markdown)) {
    const prose = text.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length));
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line, target: m[1] ?? '' });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose);
    if (def !== null) links.push({ line, target: def[1] ?? '' });
  }
  return links;
}

/** GitHub's heading anchor: lower case, punctuation and symbols dropped, spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
    .replace(/`([^`]*)`/g, '$1') // code spans keep their content
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

// Every anchor a markdown file's headings make; repeated headings get -1, -2, … as on GitHub.
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const m = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (m === null) continue;
    const base = slug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The broken relative links of one markdown file, as `file:line: message` lines. */
export function brokenLinks(file: string, markdown: string, readTarget: (path: string) => string | null): string[] {
  const problems: string[] = [];
  const where = (line: number): string => `${relative(REPO, file) || file}:${line}`;
  for (const { line, target } of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // http:, mailto:, …
    const hash = target.indexOf('#');
    const pathPart = decodeURI(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
    const path = pathPart === '' ? file : resolve(dirname(file), pathPart);
    const text = readTarget(path);
    if (text === null) {
      problems.push(`${where(line)}: link to ${target}: ${relative(REPO, path)} does not exist`);
      continue;
    }
    if (anchor !== null && anchor !== '' && path.endsWith('.md') && !anchorsOf(text).has(anchor)) {
      problems.push(`${where(line)}: link to ${target}: ${relative(REPO, path)} has no heading with anchor #${anchor}`);
    }
  }
  return problems;
}

// Reads a link target: a file's text, '' for a directory, null when nothing is there.
function readTarget(path: string): string | null {
  if (!existsSync(path)) return null;
  return statSync(path).isDirectory() ? '' : readFileSync(path, 'utf8');
}

describe('documentation links', () => {
  it('every relative link in README.md and docs/*.md points to an existing file and heading', () => {
    const files = [join(REPO, 'README.md'), ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(REPO, 'docs', f))];
    assert.ok(files.length > 1, 'docs/ holds the manual pages');
    const problems = files.flatMap((file) => brokenLinks(file, readFileSync(file, 'utf8'), readTarget));
    assert.deepEqual(problems, []);
  });

  it('makes anchors the way GitHub does', () => {
    assert.equal(slug('Options of `fleetpoll poll`'), 'options-of-fleetpoll-poll');
    assert.equal(slug('WinRM targets (`transport=winrm`)'), 'winrm-targets-transportwinrm');
    assert.equal(slug('Hashed known_hosts lines'), 'hashed-known_hosts-lines');
    assert.equal(slug('What the Windows probe measures, and how'), 'what-the-windows-probe-measures-and-how');
    assert.equal(slug('One poll at a time: the run lock'), 'one-poll-at-a-time-the-run-lock');
    assert.equal(slug('`log.csv` and `recentlog.csv`'), 'logcsv-and-recentlogcsv');
  });

  it('reports a missing file, a missing heading and repeated headings, and skips code and URLs', () => {
    const file = join(REPO, 'docs', 'example.md');
    const pages: Record<string, string> = {
      [join(REPO, 'docs', 'other.md')]: '# Other\n\n## Setup\n\n## Setup\n',
    };
    const markdown = [
      '# Example',
      'See [other](other.md#setup), [again](other.md#setup-1) and [here](#example).',
      'Broken: [gone](missing.md) and [no such heading](other.md#install).',
      'Not links: `[x](nowhere.md)` and [site](https://example.com/a.md).',
      '```',
      '[y](nowhere-either.md)',
      '```',
    ].join('\n');
    const problems = brokenLinks(file, markdown, (path) => (path === file ? markdown : (pages[path] ?? null)));
    assert.deepEqual(problems, [
      'docs/example.md:3: link to missing.md: docs/missing.md does not exist',
      'docs/example.md:3: link to other.md#install: docs/other.md has no heading with anchor #install',
    ]);
  });
});
