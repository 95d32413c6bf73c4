/**
 * Where a diagnostic starts, found two ways: the `yaml` document, which keeps the position of
 * every node (the reference, what locate() uses), and a cheap second reading by js-yaml
 * (LoadedDocument.startOf), which orders a fleet's thousands of target warnings without
 * parsing each file again with `yaml`. For every path into every document of a corpus — the
 * bundled definitions, every fixture, hand-written corner cases and generated files — plus
 * paths that miss (an absent key, an index past the end, a step below a scalar), startOf()
 * either declines or gives exactly the reference start.
 *
 *   LOCATE_SEED=<int> LOCATE_RUNS=<n>: another seed, more generated cases (default 20261128, 400).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Document, isMap, isSeq, type Scalar, visit } from 'yaml';
import { loadFile, type PathSegment } from '../src/compiler/load.ts';
import { locate } from '../src/compiler/lower.ts';
import { ROOT } from './helpers.ts';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every path into a value, plus paths that miss. */
function pathsOf(value: unknown, prefix: PathSegment[] = [], out: PathSegment[][] = []): PathSegment[][] {
  out.push(prefix);
  if (Array.isArray(value)) {
    value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
    out.push([...prefix, value.length]);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
    out.push([...prefix, 'acore-absent-key'], [...prefix, 'acore-absent-key', 'deeper']);
  } else {
    out.push([...prefix, 'below-a-scalar']);
  }
  return out;
}

interface Tally {
  fast: number;
  total: number;
}

/** Compares the two for every path of every document of `text`; counts how often startOf() answered. */
function compare(text: string, tally: Tally = { fast: 0, total: 0 }): Tally {
  const { documents } = loadFile({ path: 'x.yaml', text });
  for (const doc of documents) {
    // Where js-yaml is more lenient than `yaml` (e.g. a quoted scalar's next line not indented
    // enough), the two read different documents and there is no reference position to match.
    if (doc.doc.errors.length > 0 || !isDeepStrictEqual(doc.doc.toJS(), doc.value)) continue;
    for (const path of pathsOf(doc.value)) {
      tally.total++;
      const start = doc.startOf(path);
      if (start === undefined) continue;
      tally.fast++;
      const reference = locate(doc, path).start;
      const fast = doc.lines.position(start);
      if (fast.line !== reference.line || fast.col !== reference.col) {
        expect({ text, path, start: fast }).toEqual({ text, path, start: reference });
      }
    }
  }
  return tally;
}

describe('startOf() agrees with the yaml document', () => {
  it('on the bundled definitions, where it answers nearly always', () => {
    const tally: Tally = { fast: 0, total: 0 };
    for (const file of yamlFiles(join(ROOT, 'definitions'))) compare(readFileSync(file, 'utf8'), tally);
    expect(tally.total).toBeGreaterThan(90);
    // It declines only for empty values (`github:`) and the like.
    expect(tally.fast / tally.total).toBeGreaterThan(0.9);
  });

  it('on every fixture (valid, invalid and hostile definitions)', () => {
    const tally: Tally = { fast: 0, total: 0 };
    for (const file of yamlFiles(join(ROOT, 'test', 'fixtures'))) compare(readFileSync(file, 'utf8'), tally);
    expect(tally.fast).toBeGreaterThan(1000);
  });

  it('on corner cases: comments, block and quoted scalars, flow collections, tags, anchors, several documents', () => {
    const cases = [
      'a: 1\nb: two\n',
      '# a comment\n\n  # indented comment\na:   x   # trailing\nb:\n  c: "q" # after a quote\n',
      'a: |\n  literal\n  text\nb: >-\n  folded\n  text\nc: |+\n\nd: x\n',
      "a: 'single ''quoted'''\nb: \"double \\\" quoted\"\nc: \"multi\n  line\"\n",
      'a: plain\n  continued\n  lines\nb: 1\n',
      'list:\n- a\n- b: 1\n  c: 2\n- - nested\n  - seq\n-\n- [x, {y: 1}]\n',
      'list:\n  - a\n  -   b\n  - {k: v, l: [1, 2]}\n  - [a, [b, c]]\n',
      'flow: {a: 1, b: [x, y], c: {d: e}}\nseq: [1, "two", \'three\']\n',
      'tagged: !!str 1\nanchored: &a {x: 1}\nkey with spaces: 1\n"quoted key": 2\n? not-divergent-here\n',
      'a: ~\nb: null\nc:\nd: ""\ne: []\nf: {}\n',
      '1: one\ntrue: yes\n0x10: hex\n1.5: float\n',
      '---\na: 1\n---\nb: [1]\n...\n',
      '--- # a document with a marker\nid: x\n---\n- a\n- b\n',
      'a: 1\r\nb:\r\n  c: 2\r\n',
      '\ufeffa: 1\nb: 2\n',
      'a:\n\tb: 1\n',
      'emoji: "🙂🙂"\nafter: x\nünïcödé: ✓\n',
      'deep:\n  a:\n    b:\n      c:\n        - d: [e, {f: g}]\n',
      'a: b: c\n',
      'just a scalar\n',
      '- top\n- level\n- sequence\n',
      'a: &x 1\nb: *x\n',
    ];
    let fast = 0;
    for (const text of cases) fast += compare(text).fast;
    expect(fast).toBeGreaterThan(100);
  });

  it('answers for every path of a document without tags, anchors or empty values', () => {
    // Block and flow collections, sequences of scalars, of mappings and of sequences, every
    // kind of scalar, comments: what definitions are made of. Declining here would send a
    // fleet's warnings back to one `yaml` parse per file.
    const text = [
      '# header',
      'id: team.job',
      'description: |',
      '  two',
      '  lines',
      'trigger:',
      '  cron_expression: "0 3 * * *"   # daily',
      "  timezone: 'UTC'",
      'context:',
      '  - kind: http_get',
      '    url: http://x/',
      '  - {kind: http_get, url: "http://y/"}',
      'rule:',
      '  when:',
      '  - "a == 1"',
      '  - >-',
      '    b == 2',
      'matrix:',
      '  - - 1',
      '    - [2, 3]',
      '',
    ].join('\n');
    const { documents } = loadFile({ path: 'x.yaml', text });
    const declined = pathsOf(documents[0]!.value).filter((path) => documents[0]!.startOf(path) === undefined);
    expect(declined).toEqual([]);
    expect(compare(text).fast).toBeGreaterThan(40);
  });

  it('on generated documents, in every style yaml writes', () => {
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('id', 'a b', '#x', '- y', 'k:', '"q"', "'s'", '1', 'true', 'null', '~'));
    const scalar = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('', ' lead', 'trail ', 'multi\nline', 'a: b', '# not a comment', '*star', '&amp', '!bang', '{x}', '[y]', '---', 'é✓🙂', '\t'),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant(null),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
      list: fc.array(tie('tree'), { maxLength: 4 }),
      map: fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
    }));
    const style = fc.record({
      indent: fc.constantFrom(2, 3, 4),
      indentSeq: fc.boolean(),
      // Collections this deep or deeper are written in flow style ({…}, […]); -1: none.
      flowDepth: fc.constantFrom(-1, 0, 1, 2),
      // Short lines fold long plain and quoted scalars over several lines.
      lineWidth: fc.constantFrom(0, 12, 80),
      defaultStringType: fc.constantFrom<Scalar.Type>('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'),
      defaultKeyType: fc.constantFrom<Scalar.Type | null>(null, 'PLAIN', 'QUOTE_DOUBLE'),
      comment: fc.boolean(),
      documents: fc.integer({ min: 1, max: 2 }),
    });
    let fast = 0;
    fc.assert(
      fc.property(fc.array(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), { minLength: 2, maxLength: 2 }), style, (values, s) => {
        const docs = values.slice(0, s.documents).map((v) => {
          const doc = new Document(v);
          if (s.flowDepth >= 0) {
            const flow = (_: unknown, node: { flow?: boolean }, path: readonly unknown[]) => {
              if (path.filter((p) => isMap(p) || isSeq(p)).length >= s.flowDepth + 1) node.flow = true;
            };
            visit(doc, { Map: flow, Seq: flow });
          }
          const text = doc.toString({ indent: s.indent, indentSeq: s.indentSeq, lineWidth: s.lineWidth, minContentWidth: 0, defaultStringType: s.defaultStringType, defaultKeyType: s.defaultKeyType });
          // Comments between lines, where YAML allows them anywhere: on a line of their own.
          return s.comment ? text.split('\n').map((l, i) => (i % 2 === 1 && l.trim() !== '' ? `# note ${i}\n${l}` : l)).join('\n') : text;
        });
        fast += compare(docs.join('---\n')).fast;
      }),
      { seed: Number(process.env.LOCATE_SEED ?? 20261128), numRuns: Number(process.env.LOCATE_RUNS ?? 400) },
    );
    expect(fast).toBeGreaterThan(1000);
  });
});
