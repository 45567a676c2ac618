// Building the page's elements. Every value reaches the DOM as a text node or an attribute,
// never as markup (no innerHTML anywhere; lint forbids it here), so a pod name or message
// containing `<script>` is shown as text.
const SVGNS = 'http://www.w3.org/2000/svg';

/** A child: strings and numbers become text nodes; nested lists are flattened; nothing is skipped. */
export type Child = Node | string | number | null | undefined | false | Child[];
/** An attribute's value: false, null or undefined leave it out, true sets it empty. */
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** The page's element with this id, of the kind the code expects (index.html defines them). */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`the page has no #${id} of the expected kind`);
  return el;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  children?: Child,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  children?: Child,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVGNS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el: Node, children: Child): void {
  if (children === undefined || children === null || children === false) return;
  if (Array.isArray(children)) {
    for (const c of children) append(el, c);
    return;
  }
  el.appendChild(
    typeof children === 'string' || typeof children === 'number' ? document.createTextNode(String(children)) : children,
  );
}

/** Empties the element with this id and fills it with the children. */
export function replace(id: string, children: Child): void {
  const el = byId(id, HTMLElement);
  el.replaceChildren();
  append(el, children);
}
