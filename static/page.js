// The product page: event state from the edge, a countdown against the server's clock (not the
// visitor's), and the flow token -> buy -> pay, with a clear message for every outcome of the
// contract. The development stack signs visitors in through the dev session endpoint.
"use strict";
const eventId = location.pathname.startsWith("/events/") ? location.pathname.split("/")[2] : "demo";
const $ = (id) => document.getElementById(id);
let skew = 0;       // server clock minus this browser's clock, in ms
let state = null;   // the last event document
let busy = false;   // a request is in flight: the button stays disabled
let retryAt = 0;    // after a 429: no retry before this (server time, ms)
let order = null;   // the reservation, once there is one

const serverNow = () => Date.now() + skew;

// What each refusal code means to a buyer.
const explain = {
  not_started: "The sale has not started yet.",
  ended: "The sale has ended.",
  sold_out: "Sold out: every seat is taken.",
  already_bought: "You already hold a seat for this event.",
  token_used: "This purchase link was already used.",
  token_expired: "The purchase link expired; press Buy again.",
  bad_token: "The purchase link is not valid; press Buy again.",
  wrong_user: "This purchase link belongs to someone else.",
  rate_limited: "Too many attempts.",
  no_session: "Please sign in first.",
  bad_session: "Your session has expired; please sign in again.",
  no_origin: "The shop is busy; please try again in a moment.",
  unavailable: "The shop is busy; nothing was reserved. Please try again.",
  origin_failed: "No answer from the shop; press Buy again to see whether your order went through.",
  illegal_transition: "This order cannot be changed any more.",
  expired: "The reservation expired before payment; the seat went back on sale.",
};

function say(text) {
  $("message").textContent = text;
}

async function refresh() {
  const res = await fetch(`/api/events/${eventId}`);
  if (!res.ok) {
    $("name").textContent = "No such event";
    return;
  }
  state = await res.json();
  skew = Date.parse(state.now) - Date.now();
  $("name").textContent = state.name;
  $("price").textContent = `${(state.price_cents / 100).toFixed(2)} ${state.currency}`;
  $("remaining").textContent = state.remaining;
  $("stock").textContent = state.stock;
  tick();
}

function tick() {
  if (!state) return;
  const untilOpen = Date.parse(state.starts_at) - serverNow();
  const waitRetry = Math.ceil((retryAt - serverNow()) / 1000);
  let status;
  if (state.state === "ended") status = "The sale has ended.";
  else if (state.state === "sold_out") status = "Sold out.";
  else if (untilOpen > 0) status = `Sale opens in ${Math.ceil(untilOpen / 1000)} s`;
  else status = "On sale now.";
  $("countdown").textContent = status;
  const open = untilOpen <= 0 && state.state === "on_sale";
  $("buy").disabled = busy || !open || waitRetry > 0 || order !== null;
  if (waitRetry > 0) say(`${explain.rate_limited} Try again in ${waitRetry} s.`);
}

async function signIn() {
  // The session cookie is HttpOnly, so remember here that this tab has signed in.
  if (sessionStorage.getItem("fg_user")) return;
  const user = `guest-${Math.random().toString(36).slice(2, 10)}`;
  const res = await fetch(`/api/dev/session?user=${user}`, { method: "POST" });
  if (res.ok) sessionStorage.setItem("fg_user", user);
}

// Sends a request; returns [ok, body], and handles the refusals every step shares.
async function send(url, method = "POST") {
  const res = await fetch(url, { method });
  const body = await res.json().catch(() => ({}));
  if (res.status === 429) {
    retryAt = serverNow() + 1000 * Number(res.headers.get("retry-after") || 1);
  }
  return [res.ok, body];
}

function showOrder() {
  const pay = $("pay");
  if (!order) {
    pay.hidden = true;
    return;
  }
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
  try {
    await signIn();
    const [gotToken, token] = await send(`/api/events/${eventId}/token`);
    if (!gotToken) {
      say(explain[token.code] || token.message || "Something went wrong.");
      return;
    }
    const [bought, result] = await send(token.buy_url);
    if (bought) {
      order = result;
      showOrder();
    } else {
      say(explain[result.code] || result.message || "Something went wrong.");
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
    if (paid) order = result;
    else say(explain[result.code] || result.message);
    if (paid) showOrder();
  } finally {
    $("pay").disabled = false;
  }
}

$("buy").addEventListener("click", buy);
$("pay").addEventListener("click", pay);
refresh();
setInterval(refresh, 2000);
setInterval(tick, 250);
