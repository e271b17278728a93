// A tiny, text-only element builder. Strings always become text nodes, and
// the attribute helper refuses event handlers, inline styles and URLs other
// than data:image thumbnails, so model output and file names can never be
// interpreted as markup or script. Nothing in the UI uses innerHTML.

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  /** Space-separated class names. */
  class?: string;
  /** Sets `data-testid`, the stable hook of the end-to-end test. */
  testid?: string;
  /** Other attributes (set with setAttribute after checking them). */
  attrs?: Record<string, string | number | boolean | null | undefined>;
}

const FORBIDDEN_ATTR = /^(on|style$|srcdoc$|formaction$|action$)/i;
const URL_ATTRS = new Set(["href", "src", "xlink:href", "poster", "data", "background"]);

/** Whether a URL may be put into an attribute: only inline raster images (thumbnails). */
export function isSafeImageUrl(url: string): boolean {
  return /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]*$/.test(url);
}

export function setAttr(node: Element, name: string, value: string | number | boolean | null | undefined): void {
  if (FORBIDDEN_ATTR.test(name)) {
    throw new Error(`refusing to set attribute ${name}`);
  }
  if (value === null || value === undefined || value === false) {
    node.removeAttribute(name);
    return;
  }
  const text = value === true ? "" : String(value);
  if (URL_ATTRS.has(name.toLowerCase()) && !isSafeImageUrl(text) && !text.startsWith("#")) {
    throw new Error(`refusing to set ${name} to a non-inline URL`);
  }
  node.setAttribute(name, text);
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.testid) node.dataset.testid = props.testid;
  if (props.attrs) {
    for (const [name, value] of Object.entries(props.attrs)) setAttr(node, name, value);
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

/** Replace all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/**
 * Give a select these options and this value. The options are replaced only
 * when their values or labels differ: rebuilding them on every refresh
 * closes a list the user has open and drops their choice halfway.
 */
export function setOptions(select: HTMLSelectElement, options: readonly HTMLOptionElement[], value: string): void {
  const key = (o: HTMLOptionElement) => `${o.value}\u0000${o.textContent ?? ""}`;
  const same = select.options.length === options.length && options.every((o, i) => key(o) === key(select.options[i] as HTMLOptionElement));
  if (!same) replaceChildren(select, ...options);
  if (select.value !== value) select.value = value;
}

/** Look up an element that must exist (built by the app itself). */
export function byTestId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T {
  const found = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`missing element ${id}`);
  return found;
}
