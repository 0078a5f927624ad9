// The product page: event state from the edge, a countdown against the server's clock (not the
// visitor's), and the flow token -> buy -> pay, with a clear message for every outcome of the
// contract. The visitor's identity is the site's session cookie; where the edge offers dev
// sessions (the demo stack), a visitor without one is signed in as a new guest.
"use strict";
const eventId = location.pathname.startsWith("/events/") ? location.pathname.split("/")[2] : "demo";
const $ = (id) => document.getElementById(id);
const ORDER_KEY = `fg_order_${eventId}`; // this tab's order, so a reload still shows it
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
const UNDECIDED = new Set(["origin_failed", "unavailable", "no_origin"]);

const serverNow = () => Date.now() + skew;

// What each refusal code means to a buyer.
const explain = {
  not_started: "The sale has not started yet.",
  ended: "The sale has ended.",
  sold_out: "Sold out: every seat is taken.",
  already_bought: "You already bought a seat for this event.",
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
};

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
  return explain[body.code] || body.message || "Something went wrong; please try again.";
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
  tick();
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
  const untilOpen = Date.parse(state.starts_at) - serverNow();
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
  $("buy").disabled = busy || !open(untilOpen) || waitRetry > 0 || holdsSeat();
  if (waitRetry > 0) {
    say(`${WAIT_TEXT[retryCode]} Try again in ${Math.ceil(waitRetry / 1000)} s.`);
  } else if (retryAt) {
    retryAt = 0;
    say(`${WAIT_TEXT[retryCode]} You can try again now.`);
  }
}

// Sends a request; returns [ok, body, status], and notes a 429's Retry-After.
async function send(url, method = "POST") {
  let res;
  try {
    res = await fetch(url, { method });
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
  if (!order) {
    pay.hidden = true;
    return;
  }
  sessionStorage.setItem(ORDER_KEY, order.order_id);
  const deadline = new Date(order.pay_by).toLocaleTimeString();
  if (order.status === "reserved") {
    say(`Seat reserved! Order ${order.order_id}. Please pay by ${deadline}.`);
    pay.hidden = false;
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
    const [bought, result] = await send(url);
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

async function pay() {
  $("pay").disabled = true;
  try {
    const [paid, result] = await send(`/api/orders/${order.order_id}/pay`);
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

// A reload keeps the order this tab made: its current status comes from the shop.
async function restoreOrder() {
  const id = sessionStorage.getItem(ORDER_KEY);
  if (!id) return;
  const [found, result] = await send(`/api/orders/${encodeURIComponent(id)}`, "GET");
  if (found) {
    order = result;
    showOrder();
  } else {
    sessionStorage.removeItem(ORDER_KEY);
  }
  tick();
}

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

poll().then(restoreOrder);
setInterval(tick, 250);
