/**
 * Every `docs/…` reference the product makes resolves: the code, the proto, the benches, the Python client, deploy/
 * and the README cite `docs/<file>.md <label>` (labels such as §3, A5, A13/A14, A5–A12, C10, E4, G1, B) or link
 * `docs/<file>.md`; each cited file must exist and each label must be a heading of it.
 *
 * Heading → label rule (the one definition): a Markdown heading's first token, without a trailing `.` or `:`, and
 * without a leading `§`, is its label. `## 0. Notation` answers to §0 (and 0), `### A5. Top eigenvalue` to A5,
 * `## B. What logits alone give` to B and §B, `## 3. Wire contract` to §3, `## G1. …` to G1. A citation's label is
 * compared after dropping its `§`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where citations are looked for (repository-relative; git's view: tracked and untracked, not ignored). */
const SCANNED = ['src', 'proto', 'bench', 'clients/python/src', 'deploy', 'README.md', 'docs'];

/** One label: an optional §, then a capital letter with up to two digits, or one or two digits. */
const LABEL = String.raw`§?(?:[A-Z]\d{0,2}|\d{1,2})`;
/** `docs/<file>.md`, then optionally a list of labels joined by `/`, `,`, `–` or `-` (ranges). */
const CITATION = new RegExp(String.raw`docs/([A-Za-z0-9_-]+)\.md(?:[ \u00a0]+(${LABEL}(?:\s*(?:[/–-]|,\s*)${LABEL})*)(?![\w.]\w))?`, 'g');

export interface Citation {
  file: string;
  labels: string[];
  /** Where it was found, `path:line`. */
  at: string;
  text: string;
}

const bare = (label: string) => label.replace(/^§/, '');

/** A range A5–A12 (same letter) expands to A5, A6, …, A12; anything else stays as written. */
function expand(list: string): string[] {
  const out: string[] = [];
  const parts = list.split(/\s*(?:\/|,\s*)\s*/);
  for (const part of parts) {
    const range = /^(§?)([A-Z]?)(\d+)\s*[–-]\s*§?([A-Z]?)(\d+)$/.exec(part);
    if (range && range[2] === range[4] && Number(range[3]) < Number(range[5])) {
      for (let i = Number(range[3]); i <= Number(range[5]); i++) out.push(`${range[2]}${i}`);
    } else {
      for (const p of part.split(/\s*[–-]\s*/)) out.push(bare(p));
    }
  }
  return out.map(bare);
}

/** Citations in one text. */
export function findCitations(text: string, path = '<text>'): Citation[] {
  const out: Citation[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const m of line.matchAll(CITATION)) {
      out.push({ file: m[1], labels: m[2] ? expand(m[2]) : [], at: `${path}:${i + 1}`, text: m[0] });
    }
  });
  return out;
}

/** Labels of a Markdown document, by the heading rule above (fenced code blocks skipped). */
export function headingLabels(markdown: string): Set<string> {
  const labels = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(\S+)/.exec(line);
    if (m) labels.add(bare(m[1].replace(/[.:]+$/, '')));
  }
  return labels;
}

/** Problems with a set of citations against documents (file name without .md → Markdown text, absent = missing). */
export function checkCitations(citations: readonly Citation[], docs: (file: string) => string | undefined): string[] {
  const problems: string[] = [];
  const cache = new Map<string, Set<string> | undefined>();
  for (const c of citations) {
    if (!cache.has(c.file)) {
      const text = docs(c.file);
      cache.set(c.file, text === undefined ? undefined : headingLabels(text));
    }
    const labels = cache.get(c.file);
    if (!labels) {
      problems.push(`${c.at}: docs/${c.file}.md does not exist ("${c.text}")`);
      continue;
    }
    for (const label of c.labels) {
      if (!labels.has(label)) problems.push(`${c.at}: docs/${c.file}.md has no heading labelled ${label} ("${c.text}")`);
    }
  }
  return problems;
}

function repoDocs(file: string): string | undefined {
  const path = join(ROOT, 'docs', `${file}.md`);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

function scannedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...SCANNED], { cwd: ROOT, encoding: 'utf8' });
  return [...new Set(out.split('\0').filter(Boolean))].filter((p) => existsSync(join(ROOT, p)));
}

function repoCitations(): Citation[] {
  const all: Citation[] = [];
  for (const path of scannedFiles()) {
    const buf = readFileSync(join(ROOT, path));
    if (buf.includes(0)) continue; // binary
    all.push(...findCitations(buf.toString('utf8'), path));
  }
  return all;
}

describe('docs/ citations', () => {
  it('reads labels from headings by the one rule', () => {
    const labels = headingLabels([
      '# Title', '## 0. Notation', '### A5. Top eigenvalue', '## B. What logits give', '## §3 Wire', '#### C10. Catapult',
      '```', '## X9. inside a code block', '```',
    ].join('\n'));
    for (const l of ['0', 'A5', 'B', '3', 'C10']) expect(labels.has(l), l).toBe(true);
    expect(labels.has('X9')).toBe(false);
  });

  it('parses the citation forms the code uses', () => {
    const c = findCitations([
      'see docs/science.md A5 (the GN sharpness)',
      'docs/science.md §0, A0; proto',
      'docs/science.md A13/A14 parameters',
      'docs/science.md A5–A7.',
      'docs/design.md §6, docs/science.md A0',
      'docs/science.md B: spike only',
      'docs/science.md example A',
      '[errors](docs/errors.md)',
      'docs/sources.md 3).',
      'docs/science.md A8. The full kernel',
    ].join('\n'));
    expect(c.map((x) => `${x.file}:${x.labels.join(',')}`)).toEqual([
      'science:A5', 'science:0,A0', 'science:A13,A14', 'science:A5,A6,A7', 'design:6', 'science:A0', 'science:B',
      'science:', 'errors:', 'sources:3', 'science:A8',
    ]);
  });

  it('rejects a fabricated citation: a missing label and a missing file', () => {
    const docs = (file: string) => (file === 'science' ? '## 0. Notation\n### A5. Sharpness\n' : undefined);
    expect(checkCitations(findCitations('ok docs/science.md A5 and §0: docs/science.md §0'), docs)).toEqual([]);
    expect(checkCitations(findCitations('bad docs/science.md A99 here'), docs)).toEqual([
      '<text>:1: docs/science.md has no heading labelled A99 ("docs/science.md A99")',
    ]);
    expect(checkCitations(findCitations('docs/science.md A4–A5'), docs)).toHaveLength(1);
    expect(checkCitations(findCitations('see docs/nowhere.md'), docs)).toEqual(['<text>:1: docs/nowhere.md does not exist ("docs/nowhere.md")']);
    // …and against the real docs/science.md:
    expect(checkCitations(findCitations('docs/science.md A99'), repoDocs)).toHaveLength(1);
  });

  it('finds the citations of src/, proto/, bench/, the Python client, deploy/ and the README', () => {
    const citations = repoCitations();
    const where = new Set(citations.map((c) => c.at.split('/')[0].split(':')[0]));
    for (const top of ['src', 'proto', 'README.md']) expect(where.has(top), top).toBe(true);
    expect(citations.length).toBeGreaterThan(100);
  });

  it('every cited docs/ file exists and every cited label is a heading in it', () => {
    expect(checkCitations(repoCitations(), repoDocs)).toEqual([]);
  });

  it('docs/metrics.md lists every metric src/metrics/sidecarMetrics.ts defines', () => {
    const source = readFileSync(join(ROOT, 'src/metrics/sidecarMetrics.ts'), 'utf8');
    const names = [
      ...source.matchAll(/\b(?:perRun|diag)\(\s*'([a-z0-9_]+)'/g),
      ...source.matchAll(/name:\s*`\$\{p\}([a-z0-9_]+)`/g),
    ].map((m) => `ntk_sidecar_${m[1]}`);
    expect(names.length).toBeGreaterThan(40);
    const doc = repoDocs('metrics') ?? '';
    expect(names.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });

  it('nothing refers to the private spec any more', () => {
    const needle = ['shared', 'spec'].join('/');
    let hits = '';
    try {
      hits = execFileSync('git', ['grep', '-n', '-F', needle], { cwd: ROOT, encoding: 'utf8' });
    } catch (e) {
      // git grep exits 1 when nothing matches.
      if ((e as { status?: number }).status !== 1) throw e;
    }
    expect(hits).toBe('');
  });
});
