// Accessibility checks run inside the page under test; returns a list of problems (empty when
// all pass): a document language, a name for every control and picture, a label for every field,
// and WCAG AA contrast (4.5:1, or 3:1 for large text) for every visible text on its background.
const problems = [];
if (!document.documentElement.lang) problems.push("the page has no lang");

const visible = (el) => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return style.visibility !== "hidden" && style.display !== "none" && box.width > 0 && box.height > 0;
};
const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}`;

for (const el of document.querySelectorAll("button, [role=img], canvas, img")) {
  const name = (el.getAttribute("aria-label") || el.textContent || el.getAttribute("alt") || "").trim();
  if (visible(el) && !name) problems.push(`${describe(el)} has no accessible name`);
}
for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
  const labelled = el.getAttribute("aria-label") ||
    (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label");
  if (!labelled) problems.push(`${describe(el)} has no label`);
}

const rgba = (text) => {
  const m = text.match(/rgba?\(([^)]+)\)/);
  if (!m) return [0, 0, 0, 0];
  const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
};
const luminance = ([r, g, b]) => {
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
};
// The colour behind an element: the first opaque background up the tree (white at the top).
const background = (el) => {
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const color = rgba(getComputedStyle(node).backgroundColor);
    if (color[3] >= 0.99) return color;
  }
  return [255, 255, 255, 1];
};
for (const el of document.body.querySelectorAll("*")) {
  const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!ownText || !visible(el) || el.disabled || el.closest("[disabled]")) continue;
  const style = getComputedStyle(el);
  const fg = rgba(style.color);
  const [light, dark] = [luminance(fg), luminance(background(el))].sort((a, b) => b - a);
  const ratio = (light + 0.05) / (dark + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const needed = large ? 3 : 4.5;
  if (ratio < needed) {
    problems.push(`${describe(el)} "${el.textContent.trim().slice(0, 30)}" contrast ${ratio.toFixed(2)} < ${needed}`);
  }
}
return problems;
