// The product page: event state from the edge, a countdown against the server's clock, and the
// token -> buy flow. Development stacks sign in through the dev session endpoint.
"use strict";
const eventId = location.pathname.startsWith("/events/") ? location.pathname.split("/")[2] : "demo";
const $ = (id) => document.getElementById(id);
let skew = 0;
let state = null;

async function refresh() {
  const res = await fetch(`/api/events/${eventId}`);
  if (!res.ok) { $("name").textContent = "No such event"; return; }
  state = await res.json();
  skew = Date.parse(state.now) - Date.now();
  $("name").textContent = state.name;
  $("price").textContent = `${(state.price_cents / 100).toFixed(2)} ${state.currency}`;
  $("remaining").textContent = state.remaining;
  $("stock").textContent = state.stock;
}

function tick() {
  if (!state) return;
  const left = Date.parse(state.starts_at) - (Date.now() + skew);
  const open = left <= 0 && state.state !== "ended" && state.remaining > 0;
  $("countdown").textContent = left > 0 ? `Sale opens in ${Math.ceil(left / 1000)} s` : state.state.replace("_", " ");
  if (!$("buy").dataset.busy) $("buy").disabled = !open;
}

async function buy() {
  const button = $("buy");
  button.dataset.busy = "1";
  button.disabled = true;
  try {
    // The session cookie is HttpOnly, so remember here that this tab has signed in.
    if (!sessionStorage.getItem("fg_user")) {
      const user = `guest-${Math.random().toString(36).slice(2, 10)}`;
      const res = await fetch(`/api/dev/session?user=${user}`, { method: "POST" });
      if (res.ok) sessionStorage.setItem("fg_user", user);
    }
    const tokenRes = await fetch(`/api/events/${eventId}/token`, { method: "POST" });
    const token = await tokenRes.json();
    if (!tokenRes.ok) { $("message").textContent = token.message; return; }
    const buyRes = await fetch(token.buy_url, { method: "POST" });
    const order = await buyRes.json();
    $("message").textContent = buyRes.ok ? `Reserved! Order ${order.order_id}, pay by ${order.pay_by}.` : order.message;
  } finally {
    delete button.dataset.busy;
    tick();
  }
}

$("buy").addEventListener("click", buy);
refresh();
setInterval(refresh, 2000);
setInterval(tick, 250);
