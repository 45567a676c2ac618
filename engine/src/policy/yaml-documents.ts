// Parses one file into documents, with the source offset of every key and value so schema
// errors (JSON pointers) can be reported at file:line:col. js-yaml 5's event stream gives
// offsets directly (ADR 0100), and walking it once also enforces the limits js-yaml does not:
// alias expansion, documents per file, and duplicate keys reported at the second key.
import { constructFromEvents, CORE_SCHEMA, EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml';
import type { DiagnosticCode } from './diagnostic.js';
import type { LoaderLimits } from './limits.js';
import { LineIndex } from './line-index.js';
import { classifyYamlError } from './yaml-errors.js';

/** Offsets of the keys and values of one document, by JSON pointer (as ajv's instancePath). */
export interface PositionMap {
  value: Map<string, number>;
  key: Map<string, number>;
}

export interface ParsedDocument {
  /** 0-based index of the document in its file. */
  index: number;
  value: unknown;
  /** Offset where the document's content starts. */
  offset: number;
  positions: PositionMap;
}

export interface YamlProblem {
  code: DiagnosticCode;
  message: string;
  hint?: string;
  line: number;
  column: number;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  problems: YamlProblem[];
  lines: LineIndex;
}

export const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Offset of `pointer`, or of its nearest ancestor that has one (aliased content has none). */
export function locate(doc: ParsedDocument, pointer: string, prefer: 'key' | 'value' = 'value'): number {
  for (let p = pointer; ; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
    const at =
      prefer === 'key'
        ? (doc.positions.key.get(p) ?? doc.positions.value.get(p))
        : (doc.positions.value.get(p) ?? doc.positions.key.get(p));
    if (at !== undefined) return at;
    if (p === '') return doc.offset;
  }
}

interface Frame {
  kind: 'map' | 'seq';
  pointer: string;
  /** Next item index (sequence). */
  index: number;
  /** Whether the next node is a key (mapping). */
  expectKey: boolean;
  pendingKey: string;
  keys: Set<string>;
  size: number;
  anchor: string | null;
  /** Whether this collection is itself a mapping key. */
  role: 'key' | 'value';
  /** Inside a collection used as a mapping key: js-yaml refuses those; we only skip over it. */
  inKey: boolean;
}

const startOf = (ev: Event): number => {
  switch (ev.type) {
    case EVENT_ID.SCALAR:
      // Quoted scalars start at the quote; valueStart is inside it.
      return ev.anchorStart >= 0
        ? ev.anchorStart - 1
        : ev.tagStart >= 0
          ? ev.tagStart
          : ev.style === 2 || ev.style === 3
            ? ev.valueStart - 1
            : ev.valueStart;
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return ev.anchorStart >= 0 ? ev.anchorStart - 1 : ev.tagStart >= 0 ? ev.tagStart : ev.start;
    case EVENT_ID.ALIAS:
      return ev.anchorStart - 1;
    default:
      return -1;
  }
};

class DocumentWalker {
  readonly positions: PositionMap = { value: new Map(), key: new Map() };
  readonly problems: { code: DiagnosticCode; message: string; hint?: string; offset: number }[] = [];
  firstOffset = -1;
  private readonly stack: Frame[] = [];
  private readonly anchors = new Map<string, number>();
  /** Expanded nodes so far: each counted when it starts; an alias counts as its anchor's expanded size. */
  private total = 0;
  private aliases = 0;
  /** Set once the expansion limit is hit: the rest of the document is skipped. */
  exploded = false;

  constructor(
    private readonly src: string,
    private readonly limits: LoaderLimits,
  ) {}

  /** Handles one event of the document. */
  feed(ev: Event): void {
    if (this.exploded) return;
    if (ev.type === EVENT_ID.POP) {
      const frame = this.stack.pop();
      if (frame) this.finishNode(frame.size, frame.anchor, frame.role, '?');
      return;
    }
    if (ev.type === EVENT_ID.DOCUMENT) return;
    // An empty (null) value has no text of its own; it is then located by its key.
    const offset = startOf(ev);
    if (this.firstOffset < 0 && offset >= 0) this.firstOffset = offset;
    const parent = this.stack.at(-1);
    const anchor = 'anchorStart' in ev && ev.anchorStart >= 0 ? this.src.slice(ev.anchorStart, ev.anchorEnd) : null;
    const role: 'key' | 'value' = parent?.kind === 'map' && parent.expectKey ? 'key' : 'value';
    const inKey = parent ? parent.inKey || parent.role === 'key' : false;

    // Where this node sits, as ajv will name it.
    let pointer = '';
    if (parent?.kind === 'map') pointer = `${parent.pointer}/${escapePointer(parent.pendingKey)}`;
    else if (parent?.kind === 'seq') pointer = `${parent.pointer}/${parent.index++}`;

    if (role === 'key' && ev.type === EVENT_ID.SCALAR && parent) {
      this.total += 1;
      const key = getScalarValue(this.src, ev);
      if (parent.keys.has(key)) {
        this.problems.push({
          code: 'BH_YAML_DUPLICATE_KEY',
          message: `duplicate key "${key}"`,
          hint: 'remove one of the two keys (other YAML tools would silently keep one)',
          offset,
        });
      } else {
        parent.keys.add(key);
        if (!inKey) this.positions.key.set(`${parent.pointer}/${escapePointer(key)}`, offset);
      }
      this.finishNode(1, anchor, 'key', key, offset);
      return;
    }
    if (role === 'value' && !inKey && offset >= 0) this.positions.value.set(pointer, offset);

    if (ev.type === EVENT_ID.ALIAS) {
      this.total += this.anchors.get(this.src.slice(ev.anchorStart, ev.anchorEnd)) ?? 1;
    } else {
      this.total += 1;
    }
    if (ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) {
      this.stack.push({
        kind: ev.type === EVENT_ID.MAPPING ? 'map' : 'seq',
        pointer,
        index: 0,
        expectKey: true,
        pendingKey: '',
        keys: new Set(),
        size: 1,
        anchor,
        role,
        inKey,
      });
      return;
    }
    if (ev.type === EVENT_ID.ALIAS) {
      this.aliases++;
      const name = this.src.slice(ev.anchorStart, ev.anchorEnd);
      this.finishNode(this.anchors.get(name) ?? 1, null, role, '?', offset);
      return;
    }
    this.finishNode(1, anchor, role, '?', offset);
  }

  /** A node of `size` (expanded) nodes is complete: count it, remember its anchor, advance the parent. */
  private finishNode(
    size: number,
    anchor: string | null,
    role: 'key' | 'value',
    keyName: string,
    offset?: number,
  ): void {
    if (anchor !== null) this.anchors.set(anchor, size);
    const parent = this.stack.at(-1);
    if (parent) {
      parent.size += size;
      if (parent.kind === 'map' && role === 'key') {
        parent.pendingKey = keyName;
        parent.expectKey = false;
      } else if (parent.kind === 'map') {
        parent.expectKey = true;
      }
    }
    // Every node counts once when it starts (see feed); an alias counts its anchor's whole
    // expanded size, so one alias of a big anchor trips the limit at once, long before
    // anything is materialized.
    if (this.total > this.limits.maxExpandedNodes && !this.exploded) {
      this.exploded = true;
      this.problems.push({
        code: this.aliases > 0 ? 'BH_YAML_ALIAS_EXPANSION' : 'BH_OUT_OF_RANGE',
        message:
          this.aliases > 0
            ? `aliases expand this document beyond ${this.limits.maxExpandedNodes} nodes`
            : `document has more than ${this.limits.maxExpandedNodes} nodes`,
        hint:
          this.aliases > 0
            ? 'write the values out instead of nesting aliases (this is the billion-laughs pattern)'
            : 'split the document',
        offset: offset ?? this.firstOffset,
      });
    }
  }
}

export function parseYamlDocuments(text: string, limits: LoaderLimits): ParsedFile {
  const lines = new LineIndex(text);
  const problems: YamlProblem[] = [];
  const at = (offset: number): { line: number; column: number } =>
    offset >= 0 ? lines.position(offset) : { line: 1, column: 1 };
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: limits.maxDepth });
  } catch (err) {
    const f = classifyYamlError(err);
    if (!f) throw err;
    problems.push({
      code: f.code,
      message: f.code === 'BH_YAML_DEPTH' ? `document nests deeper than ${limits.maxDepth} levels` : f.message,
      ...(f.hint ? { hint: f.hint } : {}),
      line: f.line ?? 1,
      column: f.column ?? 1,
    });
    return { documents: [], problems, lines };
  }

  // Count first: past the limit the file is rejected whole, with one diagnostic.
  let count = 0;
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.type !== EVENT_ID.DOCUMENT) continue;
    if (++count > limits.maxDocumentsPerFile) {
      const next =
        events
          .slice(i + 1, i + 4)
          .map(startOf)
          .find((o) => o >= 0) ?? -1;
      problems.push({
        code: 'BH_TOO_MANY_DOCUMENTS',
        message: `more than ${limits.maxDocumentsPerFile} documents in one file`,
        hint: 'split the file',
        ...at(next),
      });
      return { documents: [], problems, lines };
    }
  }

  const documents: ParsedDocument[] = [];
  let start = 0;
  let docIndex = 0;
  while (start < events.length) {
    // A document is DOCUMENT … POP; find its end by depth.
    let depth = 0;
    let end = start;
    for (; end < events.length; end++) {
      const t = events[end]!.type;
      if (t === EVENT_ID.POP) depth--;
      else if (t !== EVENT_ID.SCALAR && t !== EVENT_ID.ALIAS) depth++;
      if (depth === 0) break;
    }
    const slice = events.slice(start, end + 1);
    start = end + 1;
    const walker = new DocumentWalker(text, limits);
    for (const ev of slice) walker.feed(ev);
    const index = docIndex++;
    for (const p of walker.problems)
      problems.push({ code: p.code, message: p.message, ...(p.hint ? { hint: p.hint } : {}), ...at(p.offset) });
    if (walker.problems.length > 0) continue;
    let value: unknown;
    try {
      [value] = constructFromEvents(slice, { source: text, schema: CORE_SCHEMA });
    } catch (err) {
      const f = classifyYamlError(err);
      if (!f) throw err;
      problems.push({
        code: f.code,
        message: f.message,
        ...(f.hint ? { hint: f.hint } : {}),
        line: f.line ?? at(walker.firstOffset).line,
        column: f.column ?? at(walker.firstOffset).column,
      });
      continue;
    }
    // `---` with nothing after it is an empty document, not an error.
    if (value === null || value === undefined) continue;
    documents.push({ index, value, offset: Math.max(0, walker.firstOffset), positions: walker.positions });
  }
  return { documents, problems, lines };
}
