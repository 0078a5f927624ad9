// The development payment provider's checkout: the shop sent the buyer here with the payment, the
// order and the amount in the URL. Paying (or declining) asks the development edge to sign the
// provider's confirmation, then posts it to the shop's webhook as a provider would: twice, to
// show a repeat changes nothing. Then the buyer goes back to the event page, which waits for
// the order to show paid.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const paymentId = location.pathname.split("/").pop();
const orderId = params.get("order") || "";
const amount = Number(params.get("amount") || "0");
const eventId = orderId.split(".")[0];

$("order").textContent = orderId;
$("amount").textContent = (amount / 100).toFixed(2);

async function confirm(outcome) {
  $("succeed").disabled = true;
  $("fail").disabled = true;
  $("message").textContent = outcome === "succeeded" ? "Paying…" : "Declining…";
  const query = new URLSearchParams({
    payment_id: paymentId, order_id: orderId, amount_cents: String(amount), outcome,
  });
  const signed = await fetch(`/api/dev/payments/sign?${query}`, { method: "POST" });
  if (!signed.ok) {
    $("message").textContent = "The development provider is not available here.";
    return;
  }
  const { body, header, signature } = await signed.json();
  let answered = 0;
  for (let i = 0; i < 2; i++) {
    const res = await fetch("/api/payments/webhook", {
      method: "POST",
      headers: { "content-type": "application/json", [header]: signature },
      body,
    });
    if (res.ok) answered++;
  }
  $("message").textContent = answered ? "Done. Back to the shop…" : "The shop refused the confirmation.";
  if (answered) location.assign(`/events/${encodeURIComponent(eventId)}`);
}

$("succeed").addEventListener("click", () => confirm("succeeded"));
$("fail").addEventListener("click", () => confirm("failed"));
