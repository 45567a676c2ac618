import { dump } from 'js-yaml';

/**
 * Turns one Kubernetes object into a Helm template: the object is dumped as YAML with holes in
 * it, and each hole is then replaced by template text. A hole is a placeholder the YAML dumper
 * leaves alone (plain letters and digits):
 *  - `value(expr)` stands for a scalar: `replicas: H` becomes `replicas: {{ expr }}`;
 *  - `lines(fn)` stands for a map entry (use it as a key, value null) or a list item (use it as
 *    the item): its whole line is replaced by `fn(indent)`, lines of template text at the
 *    indentation the entry would have had.
 * Everything that is not a hole is the object as deploy/ ships it, so the chart's default render
 * is deploy/ (the drift test renders both and compares them).
 */
export class Holes {
  private readonly values = new Map<string, string>();
  private readonly blocks = new Map<string, (indent: string) => string[]>();
  private n = 0;

  value(expr: string): string {
    const key = `HELMHOLE${this.n++}X`;
    this.values.set(key, expr);
    return key;
  }

  lines(fn: (indent: string) => string[]): string {
    const key = `HELMLINES${this.n++}X`;
    this.blocks.set(key, fn);
    return key;
  }

  /** The YAML of `obj` with every hole filled. Throws if a hole did not survive the dump as expected. */
  render(obj: unknown): string {
    const text = dump(obj, { lineWidth: -1, noRefs: true });
    const used = new Set<string>();
    const out: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^(\s*)(- )?(HELMLINES\d+X)(: null)?$/.exec(line);
      if (m) {
        const fn = this.blocks.get(m[3]!);
        if (!fn || (m[2] === undefined) === (m[4] === undefined)) throw new Error(`bad block hole: ${line}`);
        used.add(m[3]!);
        out.push(...fn(m[1]!));
        continue;
      }
      out.push(
        line.replace(/HELMHOLE\d+X/g, (key) => {
          const expr = this.values.get(key);
          if (expr === undefined) throw new Error(`unknown hole ${key}`);
          used.add(key);
          return `{{ ${expr} }}`;
        }),
      );
    }
    for (const key of [...this.values.keys(), ...this.blocks.keys()])
      if (!used.has(key))
        throw new Error(`hole ${key} was not rendered (is it a map key with a value, or inside a string?)`);
    return out.join('\n');
  }
}

/** A Go template raw string literal (backquotes), for JSON handed to a helper. */
export function rawString(s: string): string {
  if (s.includes('`')) throw new Error('a backquote cannot be in a Go raw string');
  return `\`${s}\``;
}
