// The product page: event state from the edge, a countdown against the server's clock (not the
// visitor's), the waiting room when the event has one (join, place in line, turn), the seat map
// of a seated event (seats.js), and the flow token -> buy -> pay, with a clear message for every
// outcome of the contract and the hold's countdown. The visitor's identity is the site's session cookie; where the edge offers dev
// sessions (the demo stack), a visitor without one is signed in as a new guest.
"use strict";
const eventId = location.pathname.startsWith("/events/") ? location.pathname.split("/")[2] : "demo";
const $ = (id) => document.getElementById(id);
const ORDER_KEY = `fg_order_${eventId}`; // this tab's order, so a reload still shows it
const PAYING_KEY = `fg_paying_${eventId}`; // the order this tab sent to the provider's checkout
let skew = 0;       // server clock minus this browser's clock, in ms
let state = null;   // the last event document
let busy = false;   // a request is in flight: the button stays disabled
let retryAt = 0;    // after a 429 or 503 with Retry-After: no retry before this (server time, ms)
let retryCode = ""; // the refusal that asked for the wait
let order = null;   // the reservation, once there is one
let askedAtOpen = false; // the countdown reached zero and the edge was asked once for the state
// A buy that ended without a definite answer: the next click retries this same link, which finds
// the order if the first attempt did reserve, instead of a new link that would be refused
// "already bought" without saying which order.
let retryUrl = null;
let queue = null;      // the last waiting-room document, when the event has a waiting room
let queueFirst = null; // the position when first known, for the progress bar
let queueTimer = null;
const UNDECIDED = new Set(["origin_failed", "unavailable", "no_origin"]);

const serverNow = () => Date.now() + skew;

// What each refusal code means to a buyer.
const explain = {
  not_started: "The sale has not started yet.",
  ended: "The sale has ended.",
  sold_out: "Sold out: every seat is taken.",
  already_bought: "You already bought a seat for this event.",
  limit_reached: "That is more of this ticket type than one buyer may hold.",
  unknown_ticket_type: "That ticket type is not sold here; reload the page.",
  code_required: "This presale is for access code holders: enter your code.",
  bad_code: "This access code is not valid for this presale, or not yours.",
  code_used_up: "This access code has been used up.",
  not_together: "No row has that many seats side by side any more: ask for fewer, or allow seats apart.",
  unknown_seat: "That seat is not in this venue; reload the page.",
  token_used: "This purchase link was already used.",
  token_expired: "The purchase link expired; press Buy again.",
  bad_token: "The purchase link is not valid; press Buy again.",
  wrong_user: "This purchase link belongs to someone else.",
  rate_limited: "Too many attempts.",
  no_session: "Please sign in first.",
  bad_session: "Your session has expired; please sign in again.",
  no_origin: "The shop is busy; press Buy again in a moment.",
  unavailable: "The shop is busy; press Buy again in a moment.",
  origin_failed: "No answer from the shop; press Buy again to see whether your order went through.",
  illegal_transition: "This order cannot be changed any more.",
  expired: "The reservation expired before payment; the seat went back on sale.",
  not_admitted: "Wait for your turn in the queue before buying.",
  queue_closed: "The queue is not open yet.",
  pow_required: "Joining needs a moment of work from your browser; press Join again.",
  bad_pow: "Joining failed; press Join again.",
};

// The waiting room's states, as a buyer reads them.
function queueText(q) {
  const at = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  switch (q.state) {
    case "not_joined": return "Join the queue to get your turn to buy.";
    case "pre_queue": return `You're in; places are drawn at ${at(state.starts_at)}.`;
    case "waiting": return q.position !== null
      ? `You are number ${q.position} in line, ${q.ahead} ${q.ahead === 1 ? "person" : "people"} ahead of you` +
        (q.eta_seconds !== null ? `, about ${duration(q.eta_seconds * 1000)} to go.` : " (admission is paused).")
      : "You are in line.";
    case "admitted": return `It's your turn! Buy within ${duration(Date.parse(q.admitted_until) - serverNow())}.`;
    case "expired": return "Your turn has passed; the seats went to the next in line.";
    case "sold_out": return "Sold out: every seat is taken.";
    case "ended": return "The sale has ended.";
    default: return "";
  }
}

// Why the button is held after a 429 or a 503 with Retry-After.
const WAIT_TEXT = {
  rate_limited: "Too many attempts.",
  unavailable: "The shop is busy.",
  no_origin: "The shop is busy.",
};

function say(text) {
  $("message").textContent = text;
}

function explainRefusal(body) {
  if (body.code === "seat_taken" && body.seats) {
    fgSeats.markTaken(body.seats);
    return `${lostText(body.seats)} Choose again.`;
  }
  const type = body.ticket_type && (state.ticket_types || []).find((t) => t.id === body.ticket_type);
  if (type && body.code === "sold_out") return `${type.name} is sold out.`;
  if (type && body.code === "not_started") return `${type.name} is not on sale yet.`;
  return explain[body.code] || body.message || "Something went wrong; please try again.";
}

// The picked seats someone else took first.
function lostText(ids) {
  return ids.length === 1 ? `Seat ${ids[0]} was just taken by someone else.`
    : `Seats ${ids.join(", ")} were just taken by someone else.`;
}

// When the sale (re)opens: the next phase's start, or the event's.
function opensAt() {
  const next = (state.phases || []).map((p) => Date.parse(p.starts_at)).find((t) => t > serverNow());
  return state.state === "upcoming" && next ? next : Date.parse(state.starts_at);
}

async function refresh() {
  let res;
  try {
    res = await fetch(`/api/events/${eventId}`, { cache: "no-cache" });
  } catch {
    $("countdown").textContent = "Cannot reach the shop; retrying…";
    return;
  }
  if (!res.ok) {
    $("name").textContent = "No such event";
    return;
  }
  state = await res.json();
  skew = Date.parse(state.now) - Date.now();
  document.title = state.name;
  $("name").textContent = state.name;
  $("price").textContent = new Intl.NumberFormat(undefined, {
    style: "currency",
    currency: state.currency,
  }).format(state.price_cents / 100);
  $("remaining").textContent = state.remaining;
  $("stock").textContent = state.stock;
  if (state.venue && !fgSeats.active()) {
    const names = new Map((state.ticket_types || []).map((t) => [t.id, t.name]));
    fgSeats.start(eventId, state.venue, names, (lost) => say(`${lostText(lost)} Choose again.`));
  }
  showTypes();
  showPhases();
  $("code-row").hidden = !(state.phase && state.phase.channel);
  tick();
}

const money = (cents) => new Intl.NumberFormat(undefined, {
  style: "currency", currency: state.currency,
}).format(cents / 100);

const TYPE_STATE = { on_sale: "", sold_out: "sold out", upcoming: "not on sale yet", ended: "no longer on sale" };

// An event of several ticket types, or a seated one: one line per type with its price, what is
// left and a quantity to choose (on a seated event, how many of the best seats left). An event of
// one type, unseated, keeps the single Buy button.
function showTypes() {
  const types = state.ticket_types || [];
  $("types").hidden = types.length < 2 && !state.venue;
  if ($("types").hidden) return;
  for (const t of types) {
    let line = document.getElementById(`type-${t.id}`);
    if (!line) {
      line = document.createElement("li");
      line.id = `type-${t.id}`;
      const what = document.createElement("span");
      what.className = "what";
      const label = document.createElement("label");
      label.htmlFor = `qty-${t.id}`;
      label.textContent = "Quantity";
      const qty = document.createElement("input");
      qty.type = "number";
      qty.id = `qty-${t.id}`;
      qty.min = "0";
      qty.value = "0";
      qty.dataset.type = t.id;
      line.append(what, label, qty);
      $("type-list").append(line);
    }
    const note = TYPE_STATE[t.state] ?? "";
    line.querySelector(".what").textContent =
      `${t.name}: ${money(t.price_cents)}, ${t.remaining} of ${t.stock} left${note ? ` (${note})` : ""}`;
    const qty = line.querySelector("input");
    qty.disabled = t.state !== "on_sale";
    qty.max = String(t.remaining);
  }
}

// The sale's phases in order, the running one marked.
function showPhases() {
  const phases = state.phases || [];
  $("phases").hidden = phases.length === 0;
  $("timeline").replaceChildren(...phases.map((p) => {
    const li = document.createElement("li");
    const when = `${new Date(p.starts_at).toLocaleString()} – ${new Date(p.ends_at).toLocaleString()}`;
    const who = p.channel ? `access code holders (${p.channel})` : "everyone";
    li.textContent = `${p.id}: ${when}, for ${who}`;
    if (state.phase && state.phase.id === p.id) {
      li.className = "now";
      li.textContent += " (now)";
    }
    return li;
  }));
}

// What a buy asks for: the seats picked on the map; else the chosen quantities of an event of
// several types (on a seated event, the best seats left, side by side unless the buyer allows
// them apart); and the code in a coded phase. Nothing: one seat of the only type.
function basket() {
  const body = {};
  const picked = state.venue ? fgSeats.selection() : [];
  if (picked.length) {
    body.seats = picked;
  } else if (!$("types").hidden) {
    if (state.venue) body.together = !$("apart").checked;
    body.items = [...document.querySelectorAll("#type-list input")]
      .filter((q) => !q.disabled && Number(q.value) > 0)
      .map((q) => ({ ticket_type: q.dataset.type, quantity: Number(q.value) }));
  }
  const code = $("code").value.trim();
  if (!$("code-row").hidden && code) body.access_code = code;
  return Object.keys(body).length ? body : undefined;
}

function duration(ms) {
  const s = Math.ceil(ms / 1000);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

// Whether the sale is open now, by the server's word or, between refreshes, by its clock.
function open(untilOpen) {
  return state.state === "on_sale" || (state.state === "upcoming" && untilOpen <= 0);
}

function tick() {
  if (!state) return;
  const untilOpen = opensAt() - serverNow();
  const waitRetry = retryAt - serverNow();
  let status;
  if (state.state === "ended") status = "The sale has ended.";
  else if (state.state === "sold_out") status = "Sold out.";
  else if (open(untilOpen)) status = "On sale now.";
  else status = `Sale opens in ${duration(untilOpen)}`;
  if ($("countdown").textContent !== status) $("countdown").textContent = status;
  if (state.state === "upcoming" && untilOpen <= 0 && !askedAtOpen) {
    askedAtOpen = true;
    refresh();
  }
  const turn = !state.queue || (queue && queue.state === "admitted");
  $("buy").disabled = busy || !open(untilOpen) || waitRetry > 0 || holdsSeat() || !turn;
  if (state.venue) {
    const n = fgSeats.selection().length;
    const label = n ? `Buy ${n} selected seat${n === 1 ? "" : "s"}` : "Buy the best seats";
    if ($("buy").textContent !== label) $("buy").textContent = label;
  }
  const held = order && order.status === "reserved" ? Date.parse(order.pay_by) - serverNow() : 0;
  const holdText = held > 0 ? `Held for you for ${duration(held)}.` : "";
  if ($("hold").textContent !== holdText) $("hold").textContent = holdText;
  showQueue();
  if (waitRetry > 0) {
    say(`${WAIT_TEXT[retryCode]} Try again in ${Math.ceil(waitRetry / 1000)} s.`);
  } else if (retryAt) {
    retryAt = 0;
    say(`${WAIT_TEXT[retryCode]} You can try again now.`);
  }
}

// Sends a request; returns [ok, body, status], and notes a 429's Retry-After.
async function send(url, method = "POST", payload = undefined) {
  let res;
  try {
    res = await fetch(url, payload === undefined ? { method }
      : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
  } catch {
    return [false, { code: "origin_failed" }, 0];
  }
  const body = await res.json().catch(() => ({}));
  const wait = res.headers.get("retry-after");
  if (res.status === 429 || (res.status === 503 && wait)) {
    retryAt = serverNow() + 1000 * Number(wait || 1);
    retryCode = WAIT_TEXT[body.code] ? body.code : "rate_limited";
  }
  return [res.ok, body, res.status];
}

// The purchase token; a visitor without a session gets a guest one where the edge offers it.
async function fetchToken() {
  const url = `/api/events/${eventId}/token`;
  const first = await send(url);
  if (first[2] !== 401) return first;
  const guest = `guest-${Math.random().toString(36).slice(2, 10)}`;
  const [signedIn] = await send(`/api/dev/session?user=${guest}`);
  return signedIn ? send(url) : first;
}

// A canceled or expired order gave its seat back, so its buyer may try again.
function holdsSeat() {
  return order !== null && ["reserved", "paid", "finished"].includes(order.status);
}

function showOrder() {
  const pay = $("pay");
  if (state && state.venue) fgSeats.hold(order && holdsSeat() ? order.seats || [] : []);
  if (!order) {
    pay.hidden = true;
    return;
  }
  sessionStorage.setItem(ORDER_KEY, order.order_id);
  const deadline = new Date(order.pay_by).toLocaleTimeString();
  if (order.status === "reserved" && sessionStorage.getItem(PAYING_KEY) === order.order_id) {
    say(`Order ${order.order_id}: waiting for the payment provider to confirm…`);
    pay.hidden = false;
    waitForPayment();
  } else if (order.status === "reserved" && order.seats && order.seats.length) {
    say(`Seats ${order.seats.join(", ")} reserved! Order ${order.order_id}. Please pay by ${deadline}.`);
    pay.hidden = false;
  } else if (order.status === "reserved") {
    say(`Seat reserved! Order ${order.order_id}. Please pay by ${deadline}.`);
    pay.hidden = false;
  } else if (order.status === "refund_due") {
    say(`Order ${order.order_id}: the payment arrived after the reservation ended; it will be refunded.`);
    pay.hidden = true;
  } else {
    say(`Order ${order.order_id}: ${order.status}.`);
    pay.hidden = true;
  }
}

async function buy() {
  busy = true;
  tick();
  say("Getting your seat…");
  try {
    let url = retryUrl;
    if (!url) {
      const [gotToken, token] = await fetchToken();
      if (!gotToken) {
        say(explainRefusal(token));
        return;
      }
      url = token.buy_url;
    }
    const wanted = basket();
    if (wanted && wanted.items && wanted.items.length === 0) {
      say(state.venue ? "Pick seats on the map, or choose how many of which category."
        : "Choose how many tickets of which type first.");
      return;
    }
    const [bought, result] = await send(url, "POST", wanted);
    retryUrl = !bought && UNDECIDED.has(result.code) ? url : null;
    if (bought) {
      order = result;
      showOrder();
    } else {
      say(explainRefusal(result));
    }
  } finally {
    busy = false;
    refresh();
  }
}

// Back from the provider's checkout, the order is paid only once the provider's confirmation
// reached the shop: its status is asked for until it changes or the reservation runs out.
let waiting = false;
async function waitForPayment() {
  if (waiting) return;
  waiting = true;
  try {
    while (order && order.status === "reserved" && Date.parse(order.pay_by) > serverNow()) {
      await new Promise((r) => setTimeout(r, 1000));
      const [ok, latest] = await send(`/api/orders/${order.order_id}`, "GET");
      if (ok) order = latest;
    }
  } finally {
    waiting = false;
  }
  if (order) {
    sessionStorage.removeItem(PAYING_KEY);
    showOrder();
  }
}

async function pay() {
  $("pay").disabled = true;
  try {
    const [paid, result, status] = await send(`/api/orders/${order.order_id}/pay`);
    if (status === 202) {
      // A payment provider confirms the payment, not the buyer: off to its checkout.
      sessionStorage.setItem(PAYING_KEY, order.order_id);
      location.assign(result.checkout_url);
      return;
    }
    if (paid) {
      order = result;
      showOrder();
    } else {
      say(explainRefusal(result));
      if (result.code === "expired") {
        order = null;
        sessionStorage.removeItem(ORDER_KEY);
        showOrder();
      }
    }
  } finally {
    $("pay").disabled = false;
    tick();
  }
}

// A reload keeps the order this tab made: its current status comes from the shop. A tab that
// never saw its answer (a new tab, an answer lost on the way) asks for the buyer's orders at this
// event and shows the latest that still holds a seat.
async function restoreOrder() {
  const id = sessionStorage.getItem(ORDER_KEY);
  if (!id) {
    const [listed, result] = await send(`/api/events/${eventId}/orders`, "GET");
    const held = listed ? (result.orders || []).filter((o) =>
      ["reserved", "paid", "finished"].includes(o.status)) : [];
    if (held.length) {
      order = held[held.length - 1];
      showOrder();
    }
    tick();
    return;
  }
  const [found, result] = await send(`/api/orders/${encodeURIComponent(id)}`, "GET");
  if (found) {
    order = result;
    showOrder();
  } else {
    sessionStorage.removeItem(ORDER_KEY);
  }
  tick();
}

// The waiting room, when the event has one.
function showQueue() {
  const box = $("queue");
  box.hidden = !state.queue;
  if (!state.queue) return;
  const opensIn = Date.parse(state.queue.opens_at) - serverNow();
  const joined = queue && queue.state !== "not_joined";
  const join = $("join");
  join.hidden = joined;
  join.disabled = busy || opensIn > 0 || state.state === "ended" || state.state === "sold_out";
  let text = queueText(queue || { state: "not_joined" });
  if (!joined && opensIn > 0) text = `The queue opens in ${duration(opensIn)}.`;
  if ($("queue-state").textContent !== text) $("queue-state").textContent = text;
  const bar = $("queue-progress");
  const position = queue && queue.position;
  bar.hidden = !(queue && queue.state === "waiting" && position);
  if (!bar.hidden) {
    queueFirst = Math.max(queueFirst || position, position);
    bar.max = queueFirst;
    bar.value = queueFirst - position + 1;
  }
}

async function pollQueue() {
  clearTimeout(queueTimer);
  const [ok, body] = await send(`/api/events/${eventId}/queue`, "GET");
  if (ok) queue = body;
  tick();
  const after = ok ? body.poll_after_seconds : 5;
  if (!ok || !["sold_out", "ended", "expired"].includes(body.state)) {
    queueTimer = setTimeout(pollQueue, 1000 * Math.min(after, queue && queue.state === "admitted" ? 5 : after));
  }
}

// The proof of work a join may need: a nonce whose SHA-256 with the challenge starts with the
// asked-for zero bits.
async function solve(challenge, bits) {
  const enc = new TextEncoder();
  for (let nonce = 0; ; nonce++) {
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(`${challenge}:${nonce}`)));
    let zeros = 0;
    for (const byte of hash) {
      if (byte === 0) { zeros += 8; continue; }
      zeros += Math.clz32(byte) - 24;
      break;
    }
    if (zeros >= bits) return String(nonce);
  }
}

async function joinQueue() {
  busy = true;
  tick();
  try {
    const url = `/api/events/${eventId}/queue`;
    let [ok, body, status] = await send(url);
    if (status === 401) {
      const guest = `guest-${Math.random().toString(36).slice(2, 10)}`;
      await send(`/api/dev/session?user=${guest}`);
      [ok, body, status] = await send(url);
    }
    if (!ok && body.code === "pow_required") {
      $("queue-state").textContent = "Joining…";
      const [, ch] = await send(`/api/events/${eventId}/queue/challenge`, "GET");
      const nonce = await solve(ch.challenge, ch.bits);
      [ok, body] = await send(url, "POST", { pow: { challenge: ch.challenge, nonce } });
    }
    if (ok) {
      queue = body;
      pollQueue();
    } else {
      say(explainRefusal(body));
    }
  } finally {
    busy = false;
    tick();
  }
}

$("join").addEventListener("click", joinQueue);
document.addEventListener("fg-seats-picked", tick);
$("buy").addEventListener("click", buy);
$("pay").addEventListener("click", pay);
// How long until the next look at the event: every 2 s while it matters, every 10 s while the
// opening is more than a minute away or the sale is over, with ±20% jitter so a crowd that
// loaded the page together does not poll the edge in lockstep.
function pollDelay() {
  const far = state && ((state.state === "upcoming" &&
    Date.parse(state.starts_at) - serverNow() > 60000) || state.state === "ended");
  return (far ? 10000 : 2000) * (0.8 + 0.4 * Math.random());
}

async function poll() {
  await refresh();
  setTimeout(poll, pollDelay());
}

poll().then(restoreOrder).then(() => { if (state && state.queue) pollQueue(); });
setInterval(tick, 250);
