// dom.js — tiny element helpers. Every string given here becomes a text node or an attribute value,
// never markup, so server- and user-provided data is safe to pass (the UI never assigns innerHTML).

/** An element `tag` with `attrs` (class, data-*, aria-*, …; `on*` keys become listeners) and `children`
 *  (strings become text nodes; null/false are skipped; arrays are flattened). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key in node && typeof value !== "string") {
      node[key] = value; // properties such as value, checked, disabled
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Appends `children` (nodes, strings, arrays of them; null/false skipped) to `node`. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Removes every child of `node`, then appends `children`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** Pretty JSON of `value` (for <pre> blocks). */
export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A local time string for an RFC 3339 timestamp (the raw string when it does not parse, "—" when absent). */
export function when(rfc3339) {
  if (!rfc3339) return "—";
  const t = new Date(rfc3339);
  return Number.isNaN(t.getTime()) ? String(rfc3339) : t.toLocaleString();
}
