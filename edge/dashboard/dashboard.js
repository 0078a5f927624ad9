// The operator dashboard: polls the admin API once a second (`/admin/status` for seats, origins
// and the config version; `/metrics` for buys forwarded and refusals), keeps the last five minutes
// in memory and draws them on canvases. No library: the page must work on an isolated network.
"use strict";
const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const HISTORY = 300; // samples kept per chart: five minutes at one a second
const STRIP_POLLS = 60; // polls shown in an origin's health strip: the last minute
const PALETTE = ["#1d4ed8", "#b42318", "#0a6b35", "#9a3412", "#6d28d9", "#0e7490", "#a16207",
  "#be185d", "#374151", "#15803d", "#7c2d12", "#4338ca"];
// Fixed colours for the series every sale has, so they read the same on every chart.
const SERIES_COLORS = { remaining: "#1d4ed8", reserved: "#a16207", paid: "#0a6b35",
  expired: "#b42318", forwarded: "#1d4ed8", sold_out: "#6d28d9", rate_limited: "#be185d" };
// Requests answered by the edge or an origin that are not refusals.
const NOT_REFUSALS = new Set(["ok", "none"]);

// A line chart of several named series over time on one canvas.
class LineChart {
  constructor(canvas, legend, unit) {
    this.canvas = canvas;
    this.legend = legend;
    this.unit = unit;
    this.times = [];
    this.series = new Map(); // name -> { color, values }
  }

  color(name) {
    if (!this.series.has(name)) {
      const color = SERIES_COLORS[name] || PALETTE[this.series.size % PALETTE.length];
      this.series.set(name, { color, values: new Array(this.times.length).fill(0) });
    }
    return this.series.get(name).color;
  }

  push(time, values) {
    for (const name of Object.keys(values)) this.color(name);
    this.times.push(time);
    for (const [name, s] of this.series) s.values.push(values[name] ?? 0);
    if (this.times.length > HISTORY) {
      this.times.shift();
      for (const s of this.series.values()) s.values.shift();
    }
    this.canvas.dataset.points = String(this.times.length);
    this.draw();
    this.describe(values);
  }

  describe(latest) {
    const parts = [...this.series.keys()].map((n) => `${n} ${format(latest[n] ?? 0)}`);
    this.canvas.setAttribute("aria-label", `${this.canvas.dataset.title}: ${parts.join(", ")}`);
    if (!this.legend) return;
    this.legend.replaceChildren(...[...this.series].map(([name, s]) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = s.color;
      item.append(swatch, `${name}: ${format(latest[name] ?? 0)}${this.unit}`);
      item.dataset.series = name;
      return item;
    }));
  }

  draw() {
    const ratio = window.devicePixelRatio || 1;
    const { clientWidth: w, clientHeight: h } = this.canvas;
    this.canvas.width = w * ratio;
    this.canvas.height = h * ratio;
    const g = this.canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.clearRect(0, 0, w, h);
    const left = 48, bottom = 18, top = 6;
    let max = 1;
    for (const s of this.series.values()) max = Math.max(max, ...s.values);
    max = niceCeiling(max);
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#4a4f5a";
    g.strokeStyle = "#d5d8de";
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = top + ((h - top - bottom) * i) / 4;
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(w, y);
      g.stroke();
      g.fillText(format((max * (4 - i)) / 4), 2, y + 4);
    }
    const span = Math.max(1, this.times.length - 1);
    const x = (i) => left + ((w - left) * i) / span;
    const y = (v) => top + (h - top - bottom) * (1 - v / max);
    if (this.times.length > 0) {
      const seconds = Math.round((this.times[this.times.length - 1] - this.times[0]) / 1000);
      g.fillText(`last ${seconds} s`, left, h - 4);
    }
    g.lineWidth = 2;
    for (const s of this.series.values()) {
      g.strokeStyle = s.color;
      g.beginPath();
      s.values.forEach((v, i) => (i === 0 ? g.moveTo(x(i), y(v)) : g.lineTo(x(i), y(v))));
      g.stroke();
      // The newest sample as a dot, so a chart with one sample is not blank.
      const last = s.values.length - 1;
      if (last >= 0) {
        g.fillStyle = s.color;
        g.beginPath();
        g.arc(x(last), y(s.values[last]), 3, 0, 2 * Math.PI);
        g.fill();
      }
    }
  }
}

function niceCeiling(v) {
  const step = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

function format(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return String(Number(v.toFixed(v < 10 ? 2 : 1)));
}

function chart(id, legendId, title, unit = "") {
  const canvas = $(id);
  canvas.dataset.title = title;
  return new LineChart(canvas, legendId ? $(legendId) : null, unit);
}

const seatsChart = chart("seats-chart", "seats-legend", "Seats");
const forwardedChart = chart("forwarded-chart", null, "Buys forwarded per second", "/s");
const refusalsChart = chart("refusals-chart", "refusals-legend", "Refusals per second", "/s");
let previous = null; // the last counters read from /metrics, for rates
const originHistory = new Map(); // origin address -> health at each poll, oldest first
let selected = null; // the event shown

// Prometheus text -> { forwarded, refusals: { code: count } }.
function parseMetrics(text) {
  const counters = { forwarded: 0, refusals: {} };
  for (const line of text.split("\n")) {
    if (line.startsWith("flashgate_edge_forwarded_buys_total ")) {
      counters.forwarded = Number(line.split(" ")[1]);
      continue;
    }
    const match = /^flashgate_edge_requests_total\{(.*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const code = /code="([^"]*)"/.exec(match[1])?.[1] ?? "";
    if (NOT_REFUSALS.has(code) || code.startsWith("origin_2")) continue;
    counters.refusals[code] = (counters.refusals[code] || 0) + Number(match[2]);
  }
  return counters;
}

function showStatus(status) {
  $("config-version").textContent = status.config_version;
  $("config-loaded").textContent = new Date(status.loaded_at).toLocaleString();
  const picker = $("event");
  const ids = status.events.map((e) => e.id);
  if (picker.options.length !== ids.length) {
    picker.replaceChildren(...status.events.map((e) => new Option(`${e.name} (${e.id})`, e.id)));
    if (selected && ids.includes(selected)) picker.value = selected;
  }
  selected = picker.value;
  const event = status.events.find((e) => e.id === selected);
  if (event) {
    const state = $("event-state");
    state.textContent = event.stale
      ? `${event.state.replace("_", " ")} (stale: Redis unreachable, not selling)`
      : event.state.replace("_", " ");
    state.classList.toggle("stale", event.stale);
    $("event-gate").textContent = event.seats.gate;
    for (const k of ["total", "remaining", "reserved", "paid", "expired", "canceled", "refund_due",
      "amount_mismatch"]) {
      $(`seats-${k}`).textContent = event.seats[k];
    }
    showCatalog(event);
    showSeatMap(event.seat_rows);
    const { remaining, reserved, paid, expired } = event.seats;
    seatsChart.push(Date.parse(status.now), { remaining, reserved, paid, expired });
  }
  $("origins").replaceChildren(...status.origins.map((o) => {
    const history = originHistory.get(o.addr) || [];
    history.push(o.healthy);
    if (history.length > STRIP_POLLS) history.shift();
    originHistory.set(o.addr, history);
    const row = document.createElement("tr");
    const health = document.createElement("td");
    health.textContent = o.healthy ? "healthy" : "down";
    health.className = o.healthy ? "healthy" : "unhealthy";
    const strip = document.createElement("td");
    strip.append(healthStrip(history));
    row.append(cell(o.addr), cell(o.weight), health, strip);
    return row;
  }));
  $("queues").replaceChildren(...(status.queues || []).map((q) => {
    const row = document.createElement("tr");
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "quiet";
    toggle.textContent = q.paused ? "Resume" : "Pause";
    toggle.addEventListener("click", () => setQueue(q.event, q.paused ? "resume" : "pause"));
    const control = document.createElement("td");
    control.append(q.paused ? "paused " : "admitting ", toggle);
    const commitment = q.commitment ? `${q.commitment.slice(0, 16)}…` : "–";
    row.append(cell(q.event), cell(q.waiting), cell(q.admitted), cell(`${q.admit_rate_per_second}/s`),
      cell(`${q.back_of_line_eta_seconds} s`), cell(commitment), control);
    return row;
  }));
  const redis = status.redis || { nodes: [] };
  $("redis-nodes").replaceChildren(...redis.nodes.map((n) => {
    const row = document.createElement("tr");
    const health = cell(n.healthy ? "healthy" : "failing");
    health.className = n.healthy ? "healthy" : "unhealthy";
    row.append(cell(n.address), cell(n.role), health, cell(n.events.join(", ") || "–"));
    return row;
  }));
  $("redis-error").textContent = redis.error ? `Cannot list the Redis nodes: ${redis.error}` : "";
  $("limiter-keys").textContent =
    `${status.limiter_keys.user} users, ${status.limiter_keys.ip} addresses`;
  showTls(status.tls);
  showWebhooks(status.webhooks);
}

// The event's ticket types with what is left of each, and the phase running (or the next).
function showCatalog(event) {
  const phases = event.phases || [];
  const next = phases.find((p) => Date.parse(p.starts_at) > Date.parse(event.now));
  $("event-phase").textContent = event.phase
    ? `Phase ${event.phase.id} until ${event.phase.ends_at}` +
      (event.phase.channel ? `, access codes of ${event.phase.channel}` : ", open to everyone")
    : phases.length ? (next ? `Between phases; ${next.id} starts ${next.starts_at}` : "Every phase is over")
    : "One phase: the event's window, open to everyone";
  $("event-types").replaceChildren(...(event.ticket_types || []).map((t) => {
    const row = document.createElement("tr");
    row.append(cell(t.id), cell((t.price_cents / 100).toFixed(2)), cell(t.stock), cell(t.remaining),
      cell(t.state.replace("_", " ")));
    return row;
  }));
}

// A seated event's map filling: one line of squares per row, taken seats dark.
function showSeatMap(rows) {
  $("seat-map-figure").hidden = !rows;
  if (!rows) return;
  const canvas = $("seat-map");
  const widest = Math.max(...rows.map((r) => r.taken.length));
  const size = Math.max(2, Math.min(12, Math.floor(600 / widest)));
  canvas.width = widest * size;
  canvas.height = rows.length * size;
  const ctx = canvas.getContext("2d");
  let taken = 0;
  rows.forEach((row, y) => {
    for (let x = 0; x < row.taken.length; x++) {
      const sold = row.taken[x] === "1";
      taken += sold ? 1 : 0;
      ctx.fillStyle = sold ? "#1b1b1b" : "#c9ced6";
      ctx.fillRect(x * size, y * size, size - 1, size - 1);
    }
  });
  const seats = rows.reduce((n, r) => n + r.taken.length, 0);
  $("seat-map-caption").textContent = `${taken} of ${seats} seats held or sold, ${rows.length} rows`;
}

// Order webhooks: what waits, what was set aside after its last try (replay it), what arrived.
function showWebhooks(hooks) {
  $("webhooks-target").textContent = hooks ? `To ${hooks.url}` : "Off: no [webhooks] receiver.";
  for (const k of ["pending", "set_aside", "delivered"]) {
    const value = hooks ? hooks[k] : null;
    $(`webhooks-${k}`).textContent = value === null || value === undefined ? "–" : value;
  }
  $("webhooks-set_aside").className = hooks && hooks.set_aside > 0 ? "unhealthy" : "";
}

// The https listener and its certificates; a certificate with under 14 days left is flagged.
function showTls(tls) {
  $("tls-listener").textContent = tls
    ? `https://${tls.listen}${tls.http2 ? " (h2 and http/1.1)" : " (http/1.1)"}` +
      (tls.development ? ", development certificate" : "")
    : "Off: plain HTTP only.";
  $("certificates").replaceChildren(...(tls ? tls.certificates : []).map((c) => {
    const row = document.createElement("tr");
    const days = cell(c.days_left);
    days.className = c.days_left < 14 ? "unhealthy" : "healthy";
    row.append(cell(c.cert), cell(c.names.join(", ") || "–"), cell(c.serial), cell(c.not_after), days);
    return row;
  }));
}

// One origin's health over the polls kept: a bar per poll, green while healthy, red while down.
function healthStrip(history) {
  const canvas = document.createElement("canvas");
  canvas.className = "strip";
  const up = history.filter(Boolean).length;
  const seconds = Math.round((history.length * POLL_MS) / 1000);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `healthy in ${up} of the last ${history.length} polls (${seconds} s)`);
  canvas.dataset.points = String(history.length);
  canvas.dataset.down = String(history.length - up);
  const [w, h] = [120, 16];
  const ratio = window.devicePixelRatio || 1;
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  const bar = w / STRIP_POLLS;
  history.forEach((healthy, i) => {
    g.fillStyle = healthy ? "#0a6b35" : "#b42318";
    g.fillRect(w - (history.length - i) * bar, healthy ? 4 : 0, bar - 0.5, healthy ? h - 4 : h);
  });
  return canvas;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function showTraffic(now, counters) {
  $("forwarded-total").textContent = counters.forwarded;
  if (previous) {
    const seconds = Math.max(0.001, (now - previous.at) / 1000);
    const forwarded = Math.max(0, counters.forwarded - previous.counters.forwarded) / seconds;
    $("forwarded-rate").textContent = format(forwarded);
    forwardedChart.push(now, { forwarded });
    const refusals = {};
    for (const [code, count] of Object.entries(counters.refusals)) {
      refusals[code] = Math.max(0, count - (previous.counters.refusals[code] || 0)) / seconds;
    }
    refusalsChart.push(now, refusals);
  }
  previous = { at: now, counters };
}

async function get(path) {
  const res = await fetch(path, { cache: "no-store" });
  if (res.status === 401) location.assign("/admin/sign-in");
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res;
}

async function poll() {
  try {
    const [status, metrics] = await Promise.all([
      get("/admin/status").then((r) => r.json()),
      get("/metrics").then((r) => r.text()),
    ]);
    showStatus(status);
    showTraffic(Date.now(), parseMetrics(metrics));
    $("freshness").textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
    $("freshness").className = "";
  } catch (e) {
    $("freshness").textContent = `Not updating: ${e.message}`;
    $("freshness").className = "stale";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// Changes go with the dashboard's header: the admin listener refuses cookie-signed changes
// without it, so another site cannot make an operator's browser send them.
async function change(path) {
  const res = await fetch(path, { method: "POST", headers: { "x-flashgate-dashboard": "1" } });
  return [res, await res.json().catch(() => ({}))];
}

async function reload() {
  const button = $("reload");
  const result = $("reload-result");
  button.disabled = true;
  try {
    const [res, body] = await change("/admin/reload");
    if (res.ok) {
      result.className = "accepted";
      result.textContent = `Reloaded: version ${body.config_version} is in force.`;
    } else {
      result.className = "refused";
      const heading = document.createElement("p");
      heading.textContent = body.message || `Reload refused (HTTP ${res.status}).`;
      const list = document.createElement("ul");
      list.replaceChildren(...(body.problems || []).map((p) => {
        const item = document.createElement("li");
        item.textContent = p;
        return item;
      }));
      result.replaceChildren(heading, list);
    }
  } catch (e) {
    result.className = "refused";
    result.textContent = `Reload failed: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

async function setQueue(event, action) {
  const [res] = await change(`/admin/events/${encodeURIComponent(event)}/queue/${action}`);
  $("queue-result").textContent = res.ok ? `${event}: ${action === "pause" ? "paused" : "admitting again"}.`
    : `Could not ${action} ${event}.`;
  poll();
}

async function setGate(action) {
  if (!selected) return;
  const [res, body] = await change(`/admin/events/${encodeURIComponent(selected)}/${action}`);
  const result = $("gate-result");
  result.className = res.ok ? "accepted" : "refused";
  result.textContent = res.ok ? `Event ${selected}: gate ${body.gate}.` : body.message;
}

$("reload").addEventListener("click", reload);
$("open").addEventListener("click", () => setGate("open"));
$("close").addEventListener("click", () => setGate("close"));
$("event").addEventListener("change", (e) => {
  selected = e.target.value;
  seatsChart.times = [];
  seatsChart.series.clear();
});
poll();
