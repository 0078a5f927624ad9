// The seat map of a seated event: the venue drawn as SVG from GET /api/venues/{venue}, each seat
// a focusable control a buyer picks or unpicks, zoom to one section, and every second what is
// taken from GET /api/events/{id}/seats (the edge's cached bitmap), so seats fill as they sell.
// A picked seat someone else takes is unpicked and reported; the buyer's own held seats show as
// theirs. The product page (page.js) asks it for the selection and tells it what it holds.
"use strict";
const fgSeats = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PAD = 1;
  const seats = new Map(); // id -> { el, category, label, taken }
  const picked = new Set();
  let mine = new Set();
  let venue = null;
  let eventId = null;
  let onLost = () => {};
  let sections = []; // [{ id, box: [x0, y0, x1, y1] }]
  let whole = null;

  const svg = () => document.getElementById("seat-svg");

  function boxOf(points) {
    const xs = points.map((p) => p.x);
    const ys = points.map((p) => p.y);
    return [Math.min(...xs) - PAD, Math.min(...ys) - PAD, Math.max(...xs) + PAD, Math.max(...ys) + PAD];
  }

  function view([x0, y0, x1, y1]) {
    svg().setAttribute("viewBox", `${x0} ${y0} ${x1 - x0} ${y1 - y0}`);
  }

  function paint(id) {
    const seat = seats.get(id);
    const state = mine.has(id) ? "mine" : picked.has(id) ? "picked" : seat.taken ? "taken" : "free";
    seat.el.setAttribute("class", `seat ${state} ${seat.category}`);
    seat.el.setAttribute("aria-pressed", String(picked.has(id)));
    const words = { mine: "held by you", picked: "selected", taken: "taken", free: "free" };
    seat.el.setAttribute("aria-label", `${seat.label}, ${words[state]}`);
  }

  function toggle(id) {
    const seat = seats.get(id);
    if (seat.taken || mine.has(id)) return;
    if (picked.has(id)) picked.delete(id);
    else picked.add(id);
    paint(id);
    document.dispatchEvent(new Event("fg-seats-picked"));
  }

  function draw(doc, categoryNames) {
    const root = svg();
    root.replaceChildren();
    const all = [];
    const palette = new Map();
    for (const section of doc.sections) {
      const group = document.createElementNS(NS, "g");
      group.setAttribute("aria-label", `Section ${section.id}`);
      group.setAttribute("role", "group");
      const points = [];
      for (const row of section.rows) {
        for (const s of row.seats) {
          if (!palette.has(s.category)) palette.set(s.category, `cat-${palette.size % 4}`);
          const el = document.createElementNS(NS, "circle");
          el.setAttribute("cx", s.x);
          el.setAttribute("cy", s.y);
          el.setAttribute("r", "0.4");
          el.setAttribute("tabindex", "0");
          el.setAttribute("role", "button");
          el.dataset.seat = s.id;
          const flags = (s.flags || []).length ? ` (${s.flags.join(", ").replaceAll("_", " ")})` : "";
          const label = `Seat ${s.id}, ${categoryNames.get(s.category) || s.category}${flags}`;
          el.addEventListener("click", () => toggle(s.id));
          el.addEventListener("keydown", (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              toggle(s.id);
            }
          });
          const title = document.createElementNS(NS, "title");
          title.textContent = label;
          el.append(title);
          group.append(el);
          seats.set(s.id, { el, category: palette.get(s.category), label, taken: false });
          points.push(s);
          all.push(s);
        }
      }
      root.append(group);
      sections.push({ id: section.id, box: boxOf(points) });
    }
    whole = boxOf(all);
    view(whole);
    for (const id of seats.keys()) paint(id);
    legend(palette, categoryNames);
    zoomButtons();
  }

  function legend(palette, categoryNames) {
    const list = document.getElementById("seat-legend");
    const entry = (cls, text) => {
      const li = document.createElement("li");
      const dot = document.createElement("span");
      dot.className = `dot ${cls}`;
      dot.setAttribute("aria-hidden", "true");
      li.append(dot, document.createTextNode(text));
      return li;
    };
    list.replaceChildren(
      ...[...palette].map(([id, cls]) => entry(`free ${cls}`, categoryNames.get(id) || id)),
      entry("picked", "Selected"),
      entry("mine", "Held by you"),
      entry("taken", "Taken"),
    );
  }

  function zoomButtons() {
    const bar = document.getElementById("seat-zoom");
    const button = (text, box) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "zoom";
      b.textContent = text;
      b.addEventListener("click", () => view(box));
      return b;
    };
    bar.replaceChildren(button("Whole venue", whole), ...sections.map((s) => button(`Section ${s.id}`, s.box)));
  }

  // The bitmap is in the venue's order: sections, rows, seats, as drawn.
  function apply(taken) {
    const bits = Uint8Array.from(atob(taken), (c) => c.charCodeAt(0));
    const lost = [];
    let i = 0;
    for (const [id, seat] of seats) {
      const now = (bits[i >> 3] & (0x80 >> (i & 7))) !== 0;
      i += 1;
      if (now === seat.taken) continue;
      seat.taken = now;
      if (now && picked.has(id)) {
        picked.delete(id);
        lost.push(id);
      }
      paint(id);
    }
    if (lost.length) onLost(lost);
  }

  async function poll() {
    try {
      const res = await fetch(`/api/events/${eventId}/seats`);
      if (res.ok) apply((await res.json()).taken);
    } catch {
      // The next poll tries again; the buy itself is decided by the shop, not by this view.
    }
    setTimeout(poll, 1000);
  }

  async function start(event, venueId, categoryNames, lostHandler) {
    if (venue) return;
    venue = venueId;
    eventId = event;
    onLost = lostHandler;
    document.getElementById("seatmap").hidden = false;
    const res = await fetch(`/api/venues/${venueId}`);
    if (!res.ok) return;
    draw(await res.json(), categoryNames);
    poll();
  }

  return {
    start,
    active: () => venue !== null,
    selection: () => [...picked],
    // Seats the shop said are gone: shown taken and no longer picked.
    markTaken(ids) {
      for (const id of ids) {
        const seat = seats.get(id);
        if (!seat) continue;
        seat.taken = true;
        picked.delete(id);
        paint(id);
      }
      document.dispatchEvent(new Event("fg-seats-picked"));
    },
    // The buyer's own seats (an order that holds them), shown as theirs and no longer picked.
    hold(ids) {
      mine = new Set(ids);
      for (const id of ids) picked.delete(id);
      for (const id of seats.keys()) paint(id);
      document.dispatchEvent(new Event("fg-seats-picked"));
    },
  };
})();
