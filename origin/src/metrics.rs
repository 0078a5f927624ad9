//! The origin's Prometheus metrics: what it was asked, what it answered, and what it refused
//! before doing any work.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of one answered request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// The route, e.g. `buy`.
    pub route: &'static str,
    /// `ok` or the refusal code.
    pub code: &'static str,
}

/// Labels of a per-event gauge.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabel {
    /// The event id.
    pub event: String,
}

/// Counters shared by every handler.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Signed requests by route and outcome.
    pub requests: Family<Outcome, Counter>,
    /// Requests refused for a missing or bad edge signature.
    pub unsigned: Counter,
    /// Seats this node may still send to Redis before refilling.
    pub local_allowance: Family<EventLabel, Gauge>,
    /// 1 while this node believes the event sold out.
    pub sold_out: Family<EventLabel, Gauge>,
    /// Stream entries this node's ledger could not read and set aside; anything above zero
    /// deserves an alert.
    pub dead_letters: Family<EventLabel, Counter>,
    /// Payment confirmations by what they did (`paid`, `refund_due`, `unchanged`) or the
    /// refusal (`amount_mismatch` deserves a look; `bad_signature` in numbers, an alert).
    pub payments: Family<PaymentLabel, Counter>,
    /// Order webhook deliveries by outcome: `delivered`, `failed` (retried later), `set_aside`.
    pub webhooks: Family<PaymentLabel, Counter>,
    /// Order changes by delivery state (`pending`, `delivered`, `set_aside`), as last counted.
    pub webhook_backlog: Family<StateLabel, Gauge>,
    /// Stream entries of the event the ledger has not yet written to the order database
    /// (pending plus not yet delivered), read at each scrape.
    pub ledger_backlog: Family<EventLabel, Gauge>,
    /// Redis primaries with fewer in-sync replicas than every order change waits for, read at
    /// each scrape; while above zero, their buys answer 503.
    pub replicas_missing: Gauge,
}

/// Labels of a delivery state.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    /// `pending`, `delivered` or `set_aside`.
    pub state: String,
}

/// Labels of a payment confirmation or a webhook delivery.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PaymentLabel {
    /// What it did, or the refusal code.
    pub outcome: &'static str,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("flashgate_origin");
        let requests = Family::<Outcome, Counter>::default();
        let unsigned = Counter::default();
        registry.register(
            "requests",
            "Signed requests by route and outcome",
            requests.clone(),
        );
        registry.register(
            "unsigned_requests",
            "Requests refused for lacking the edge signature",
            unsigned.clone(),
        );
        let local_allowance = Family::<EventLabel, Gauge>::default();
        let sold_out = Family::<EventLabel, Gauge>::default();
        registry.register(
            "local_allowance",
            "Seats this node may reserve before refilling from Redis",
            local_allowance.clone(),
        );
        registry.register(
            "sold_out",
            "1 while this node believes the event is sold out",
            sold_out.clone(),
        );
        let dead_letters = Family::<EventLabel, Counter>::default();
        registry.register(
            "ledger_dead_letters",
            "Stream entries the ledger could not read, set aside in the event's dead-letter stream",
            dead_letters.clone(),
        );
        let payments = Family::<PaymentLabel, Counter>::default();
        registry.register(
            "payment_confirmations",
            "Payment confirmations by outcome",
            payments.clone(),
        );
        let webhooks = Family::<PaymentLabel, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Order webhook deliveries by outcome",
            webhooks.clone(),
        );
        let webhook_backlog = Family::<StateLabel, Gauge>::default();
        registry.register(
            "webhook_changes",
            "Order changes by webhook delivery state; set_aside above zero deserves an alert",
            webhook_backlog.clone(),
        );
        let ledger_backlog = Family::<EventLabel, Gauge>::default();
        registry.register(
            "ledger_backlog",
            "Order stream entries not yet written to the order database",
            ledger_backlog.clone(),
        );
        let replicas_missing = Gauge::default();
        registry.register(
            "replicas_missing",
            "Redis primaries short of the replicas order changes wait for",
            replicas_missing.clone(),
        );
        Self {
            ledger_backlog,
            replicas_missing,
            webhooks,
            webhook_backlog,
            payments,
            registry,
            requests,
            unsigned,
            local_allowance,
            sold_out,
            dead_letters,
        }
    }

    /// Makes the series the alert rules watch exist from the start (and, on a reload, for the
    /// events it adds), at zero where they are new and unchanged otherwise: a counter that first
    /// appears at 1 shows Prometheus no increase, so an alert on its increase would miss the
    /// first dead letter or unreplicated buy.
    pub fn start_series<'a>(&self, events: impl IntoIterator<Item = &'a str>) {
        for event in events {
            let label = EventLabel {
                event: event.to_owned(),
            };
            self.dead_letters.get_or_create(&label).inc_by(0);
            self.ledger_backlog.get_or_create(&label).inc_by(0);
        }
        for code in ["ok", "not_replicated"] {
            let outcome = Outcome { route: "buy", code };
            self.requests.get_or_create(&outcome).inc_by(0);
        }
        for outcome in ["paid", "refund_due", "amount_mismatch"] {
            self.payments
                .get_or_create(&PaymentLabel { outcome })
                .inc_by(0);
        }
        for state in ["pending", "delivered", "set_aside"] {
            let label = StateLabel {
                state: state.to_owned(),
            };
            self.webhook_backlog.get_or_create(&label).inc_by(0);
        }
    }

    /// Counts one answered request.
    pub fn record(&self, route: &'static str, code: &'static str) {
        self.requests.get_or_create(&Outcome { route, code }).inc();
    }

    /// Counts one payment confirmation.
    pub fn payment(&self, outcome: &'static str) {
        self.payments.get_or_create(&PaymentLabel { outcome }).inc();
    }

    /// Counts one webhook delivery.
    pub fn webhook(&self, outcome: &'static str) {
        self.webhooks.get_or_create(&PaymentLabel { outcome }).inc();
    }

    /// Sets the number of changes in delivery `state`.
    pub fn webhook_backlog(&self, state: &str, count: i64) {
        self.webhook_backlog
            .get_or_create(&StateLabel {
                state: state.to_owned(),
            })
            .set(count);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
