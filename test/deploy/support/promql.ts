/**
 * PromQL through Prometheus' official parser (@prometheus-io/lezer-promql, the grammar the Prometheus UI uses):
 * syntax errors, the metric each vector selector names, its label matchers, and the labels of by/without/on/
 * ignoring/group_* clauses.
 */
import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface Selector {
  /** Metric name (`foo{…}` or `{__name__="foo"}`); undefined for a selector by labels only. */
  metric: string | undefined;
  /** Label names of the matchers, `__name__` excluded. */
  labels: string[];
  /** Label values of equality matchers (`label="value"`). */
  equals: Map<string, string>;
  text: string;
}

export interface ParsedPromQL {
  expr: string;
  /** One entry per error node: the offset and the text around it. */
  errors: string[];
  selectors: Selector[];
  groupingLabels: string[];
}

function unquote(literal: string): string {
  // PromQL strings: "…", '…' (Go escapes) or `…` (raw). JSON.parse handles the double-quoted form.
  if (literal.startsWith('`')) return literal.slice(1, -1);
  if (literal.startsWith("'")) return JSON.parse(`"${literal.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string;
  return JSON.parse(literal) as string;
}

function childrenNamed(node: SyntaxNode, name: string): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.name === name) out.push(c);
  return out;
}

export function parsePromQL(expr: string): ParsedPromQL {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) {
        errors.push(`syntax error at offset ${ref.from}: …${expr.slice(Math.max(0, ref.from - 20), ref.from)}⚠${expr.slice(ref.from, ref.from + 20)}…`);
        return;
      }
      if (ref.name === 'GroupingLabels') {
        const node = ref.node;
        for (const l of childrenNamed(node, 'LabelName')) groupingLabels.push(text(l));
        for (const q of childrenNamed(node, 'QuotedLabelName')) groupingLabels.push(unquote(text(q)));
        return;
      }
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const id = childrenNamed(node, 'Identifier')[0];
      let metric = id ? text(id) : undefined;
      const labels: string[] = [];
      const equals = new Map<string, string>();
      for (const matchers of childrenNamed(node, 'LabelMatchers')) {
        for (let m = matchers.firstChild; m; m = m.nextSibling) {
          if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
          const nameNode = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
          const op = m.getChild('MatchOp');
          const value = childrenNamed(m, 'StringLiteral').at(-1);
          if (!nameNode || !op || !value) {
            // A quoted metric name alone ({"foo"}) is a name, not a matcher.
            if (m.name === 'QuotedLabelMatcher' && !op) metric = unquote(text(m.getChild('StringLiteral') ?? m));
            continue;
          }
          const name = nameNode.name === 'QuotedLabelName' ? unquote(text(nameNode)) : text(nameNode);
          const v = unquote(text(value));
          if (name === '__name__') {
            if (text(op) === '=') metric = v;
            continue;
          }
          labels.push(name);
          if (text(op) === '=') equals.set(name, v);
        }
      }
      selectors.push({ metric, labels, equals, text: text(node) });
    },
  });
  return { expr, errors, selectors, groupingLabels };
}

/**
 * Replaces Grafana's template variables so the query is plain PromQL: interval variables become `interval`,
 * every other `$var`, `${var}`, `${var:fmt}` or `[[var]]` becomes `.*` (they only appear inside `=~"…"`
 * matchers in our dashboards; a variable elsewhere then fails to parse, which is the point).
 */
export function substituteGrafanaVariables(expr: string, interval = '5m'): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, interval)
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::[^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z_][A-Za-z0-9_]*\]\]/g, '.*');
}
