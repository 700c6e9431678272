// schema-form.js — an HTML form generated from a JSON Schema (a tool's inputSchema, an elicitation's
// requestedSchema): string, number, integer, boolean, enum (select), nested object (fieldset), array
// (add/remove items), with required marks, defaults and descriptions. Local $refs and nullable anyOf/oneOf
// are followed. Every input carries data-path (the dotted path of its value, e.g. "a", "address.city").
// Anything else makes the schema unsupported: the caller then offers raw JSON.

import { el, append } from "./dom.js";

export class FormError extends Error {}
class Unsupported extends Error {}

/** {element, read() → value (throws FormError naming every missing or bad field), write(value)}, or null when
 *  the generator cannot handle `schema` (the caller falls back to raw JSON). */
export function schemaForm(schema) {
  try {
    const root = schema && typeof schema === "object" ? schema : { type: "object" };
    const field = objectField(resolve(root, root), [], root, true);
    const element = el("div", { class: "schema-form" }, field.node);
    return {
      element,
      read() {
        const errors = [];
        const value = field.read(errors);
        if (errors.length) throw new FormError(errors.join("; "));
        return value ?? {};
      },
      write: (value) => field.write(value ?? {}),
    };
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

function resolve(schema, root) {
  let s = schema;
  for (let depth = 0; s && s.$ref && depth < 16; depth++) {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    if (!match || !root[match[1]]?.[match[2]]) throw new Unsupported(`$ref ${s.$ref}`);
    const { $ref, ...rest } = s;
    s = { ...root[match[1]][match[2]], ...rest };
  }
  const variants = s.anyOf || s.oneOf;
  if (variants) {
    const real = variants.filter((v) => v.type !== "null");
    if (real.length !== 1) throw new Unsupported("a union");
    const { anyOf, oneOf, ...rest } = s;
    return { ...resolve(real[0], root), ...rest };
  }
  if (Array.isArray(s.type)) {
    const real = s.type.filter((t) => t !== "null");
    if (real.length !== 1) throw new Unsupported("a union type");
    return { ...s, type: real[0] };
  }
  return s;
}

function makeField(schema, path, root, required) {
  const s = resolve(schema, root);
  if (s.enum) return enumField(s, path, required);
  switch (s.type) {
    case "object": return objectField(s, path, root, required);
    case "array": return arrayField(s, path, root, required);
    case "string": return textField(s, path, required);
    case "number":
    case "integer": return numberField(s, path, required);
    case "boolean": return booleanField(s, path, required);
    default: throw new Unsupported(`type ${s.type}`);
  }
}

const key = (path) => path.join(".");
const label = (s, path) => s.title || path[path.length - 1] || "value";

/** The label row of a leaf input: title, required mark, description. */
function labelled(s, path, required, input) {
  const id = `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return el("div", { class: "field" },
    el("label", { for: id }, label(s, path), required ? el("span", { class: "required", title: "required" }, " *") : null),
    input,
    s.description ? el("small", { class: "hint" }, s.description) : null);
}

function missing(errors, s, path, required) {
  if (required) errors.push(`${key(path) || label(s, path)} is required`);
  return undefined;
}

function textField(s, path, required) {
  const input = el("input", { type: "text", "data-path": key(path), name: key(path) });
  if (s.default != null) input.value = String(s.default);
  return {
    node: labelled(s, path, required, input),
    read: (errors) => (input.value === "" ? missing(errors, s, path, required) : input.value),
    write: (v) => { input.value = v === undefined || v === null ? "" : String(v); },
  };
}

function numberField(s, path, required) {
  const input = el("input", { type: "number", step: s.type === "integer" ? "1" : "any", "data-path": key(path), name: key(path) });
  if (s.default != null) input.value = String(s.default);
  return {
    node: labelled(s, path, required, input),
    read(errors) {
      if (input.value.trim() === "") return missing(errors, s, path, required);
      const n = Number(input.value);
      if (!Number.isFinite(n) || (s.type === "integer" && !Number.isInteger(n))) {
        errors.push(`${key(path)} must be ${s.type === "integer" ? "an integer" : "a number"}`);
        return undefined;
      }
      return n;
    },
    write: (v) => { input.value = v === undefined || v === null ? "" : String(v); },
  };
}

function booleanField(s, path, required) {
  if (required || s.default != null) {
    const input = el("input", { type: "checkbox", "data-path": key(path), name: key(path) });
    input.checked = s.default === true;
    return {
      node: el("div", { class: "field checkbox" }, labelled(s, path, required, input)),
      read: () => input.checked,
      write: (v) => { input.checked = v === true; },
    };
  }
  return choiceField(s, path, required, [true, false]); // optional without default: unset, true or false
}

function enumField(s, path, required) {
  return choiceField(s, path, required, s.enum);
}

function choiceField(s, path, required, values) {
  const select = el("select", { "data-path": key(path), name: key(path) },
    required && s.default != null ? null : el("option", { value: "" }, "—"),
    values.map((v, i) => el("option", { value: String(i) }, typeof v === "string" ? v : JSON.stringify(v))));
  const write = (v) => {
    const i = values.findIndex((x) => x === v);
    select.value = i < 0 ? "" : String(i);
  };
  if (s.default != null) write(s.default);
  return {
    node: labelled(s, path, required, select),
    read: (errors) => (select.value === "" ? missing(errors, s, path, required) : values[Number(select.value)]),
    write,
  };
}

function objectField(s, path, root, required) {
  const props = Object.entries(s.properties || {});
  if (!s.properties && s.additionalProperties && path.length) throw new Unsupported("a free-form object");
  const need = new Set(s.required || []);
  const fields = props.map(([name, sub]) => [name, makeField(sub, [...path, name], root, need.has(name))]);
  const body = fields.map(([, f]) => f.node);
  const node = path.length
    ? el("fieldset", { class: "object", "data-path": key(path) },
        el("legend", {}, label(s, path), required ? el("span", { class: "required" }, " *") : null),
        s.description ? el("small", { class: "hint" }, s.description) : null, body)
    : el("div", { class: "object root" }, body.length ? body : el("p", { class: "muted" }, "No arguments."));
  return {
    node,
    read(errors) {
      // An optional object left empty is omitted, and its required fields are only required once it is used.
      const own = [];
      const out = {};
      for (const [name, f] of fields) {
        const v = f.read(own);
        if (v !== undefined) out[name] = v;
      }
      const used = Object.keys(out).length > 0 || required || !path.length;
      if (used) errors.push(...own);
      return used ? out : undefined;
    },
    write(v) {
      for (const [name, f] of fields) f.write(v && typeof v === "object" ? v[name] : undefined);
    },
  };
}

function arrayField(s, path, root, required) {
  const itemSchema = s.items && !Array.isArray(s.items) ? s.items : null;
  if (!itemSchema) throw new Unsupported("an array without one item schema");
  makeField(itemSchema, [...path, "0"], root, true); // fail early when the items are unsupported
  const list = el("div", { class: "array-items" });
  let items = [];
  const addItem = (value) => {
    const field = makeField(itemSchema, [...path, String(items.length)], root, true);
    const row = el("div", { class: "array-item" }, field.node);
    const entry = { field, row };
    append(row, [el("button", { type: "button", class: "small secondary", onclick: () => {
      items = items.filter((x) => x !== entry);
      row.remove();
    } }, "Remove")]);
    if (value !== undefined) field.write(value);
    items.push(entry);
    list.append(row);
  };
  const node = el("fieldset", { class: "array", "data-path": key(path) },
    el("legend", {}, label(s, path), required ? el("span", { class: "required" }, " *") : null),
    s.description ? el("small", { class: "hint" }, s.description) : null,
    list,
    el("button", { type: "button", class: "small secondary", "data-add": key(path), onclick: () => addItem() }, "Add item"));
  const write = (v) => {
    items = [];
    list.replaceChildren();
    for (const x of Array.isArray(v) ? v : []) addItem(x);
  };
  if (Array.isArray(s.default)) write(s.default);
  return {
    node,
    read(errors) {
      const out = items.map(({ field }) => field.read(errors));
      return out.length || required ? out : undefined;
    },
    write,
  };
}
