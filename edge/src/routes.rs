//! The public URL space of the contract, parsed once per request into a [`Route`] that every later
//! phase matches on instead of re-reading the path.

use http::Method;
use sale::wire;

/// What an order action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// `GET /api/orders/{id}`.
    Show,
    /// `POST /api/orders/{id}/pay`.
    Pay,
    /// `POST /api/orders/{id}/cancel`.
    Cancel,
}

/// Which waiting-room endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    /// `GET /api/events/{id}/queue`: the buyer's place.
    Status,
    /// `POST /api/events/{id}/queue`: joining.
    Join,
    /// `GET /api/events/{id}/queue/challenge`: a proof-of-work challenge.
    Challenge,
    /// `GET /api/events/{id}/fairness`: the commitment, and the seed once drawn.
    Fairness,
    /// `GET /api/events/{id}/fairness/entrants`: the frozen entrant list.
    Entrants,
}

impl QueueKind {
    /// Whether the endpoint is about the signed-in buyer's own place (a session is required,
    /// and a stale view cannot answer it).
    pub fn personal(self) -> bool {
        matches!(self, Self::Status | Self::Join)
    }
}

/// A recognised request, borrowing from the request path (no allocation per request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// A page or asset from memory: the file name within `static/`.
    Page(&'a str),
    /// `GET /api/events/{id}`.
    EventView(&'a str),
    /// `GET /api/events/{id}/seats`: a seated event's seat availability.
    SeatMap(&'a str),
    /// `GET /api/venues/{venue}`: a venue's map.
    Venue(&'a str),
    /// `POST /api/events/{id}/token`.
    Token(&'a str),
    /// `POST /api/events/{id}/buy/{token}`.
    Buy {
        /// The event.
        event: &'a str,
        /// The purchase token from the URL.
        token: &'a str,
    },
    /// `GET /api/events/{id}/orders`: the signed-in user's orders there, proxied to an origin.
    EventOrders(&'a str),
    /// An order request, proxied to an origin.
    Order {
        /// The order id.
        order: &'a str,
        /// Which action.
        action: OrderAction,
    },
    /// A waiting-room endpoint of an event.
    Queue(&'a str, QueueKind),
    /// `POST /api/dev/session?user=ID`.
    DevSession,
    /// `POST /api/payments/webhook`: a payment provider's confirmation.
    PaymentWebhook,
    /// `GET /dev/checkout/{payment_id}`: the development provider's checkout page.
    DevCheckout,
    /// `POST /api/dev/payments/sign`: the development provider signs a confirmation.
    DevPaymentSign,
    /// `GET /api/openapi.json`: the API's description.
    OpenApi,
    /// The path exists, but not for this method.
    MethodNotAllowed,
    /// Nothing here.
    NotFound,
}

/// The page every event URL serves; the page reads the event id from its own URL.
pub const INDEX: &str = "index.html";
/// The development provider's checkout page; it reads the payment from its own URL.
pub const CHECKOUT: &str = "checkout.html";

impl<'a> Route<'a> {
    /// Every label [`Route::label`] gives, so per-route metric series can be made up front.
    pub const LABELS: [&'static str; 13] = [
        "page",
        "event",
        "seats",
        "token",
        "buy",
        "order",
        "fairness",
        "queue",
        "dev_session",
        "payment",
        "dev_payment",
        "openapi",
        "other",
    ];

    /// Classifies a request; `path` excludes the query string.
    pub fn parse(method: &Method, path: &'a str) -> Self {
        const MAX_SEGMENTS: usize = 6;
        let mut segments = [""; MAX_SEGMENTS];
        let mut count = 0;
        for segment in path.trim_start_matches('/').split('/') {
            if count == MAX_SEGMENTS {
                return Route::NotFound;
            }
            segments[count] = segment;
            count += 1;
        }
        let get = method == Method::GET || method == Method::HEAD;
        let post = method == Method::POST;
        let only = |ok: bool, route: Route<'a>| if ok { route } else { Route::MethodNotAllowed };
        let order = |order: &'a str, action: OrderAction| Route::Order { order, action };
        match segments[..count] {
            [""] | ["events", _] => only(get, Route::Page(INDEX)),
            ["static", file] if !file.is_empty() && !file.starts_with('.') => {
                only(get, Route::Page(file))
            }
            ["api", "events", id] => only(get, Route::EventView(id)),
            ["api", "events", id, "token"] => only(post, Route::Token(id)),
            ["api", "events", id, "seats"] => only(get, Route::SeatMap(id)),
            ["api", "venues", id] => only(get, Route::Venue(id)),
            ["api", "events", event, "buy", token] => only(post, Route::Buy { event, token }),
            ["api", "events", id, "orders"] => only(get, Route::EventOrders(id)),
            ["api", "events", id, "queue"] if get => Route::Queue(id, QueueKind::Status),
            ["api", "events", id, "queue"] => only(post, Route::Queue(id, QueueKind::Join)),
            ["api", "events", id, "queue", "challenge"] => {
                only(get, Route::Queue(id, QueueKind::Challenge))
            }
            ["api", "events", id, "fairness"] => only(get, Route::Queue(id, QueueKind::Fairness)),
            ["api", "events", id, "fairness", "entrants"] => {
                only(get, Route::Queue(id, QueueKind::Entrants))
            }
            ["api", "orders", id] => only(get, order(id, OrderAction::Show)),
            ["api", "orders", id, "pay"] => only(post, order(id, OrderAction::Pay)),
            ["api", "orders", id, "cancel"] => only(post, order(id, OrderAction::Cancel)),
            ["api", "dev", "session"] => only(post, Route::DevSession),
            ["api", "payments", "webhook"] => only(post, Route::PaymentWebhook),
            ["dev", "checkout", payment] if !payment.is_empty() => only(get, Route::DevCheckout),
            ["api", "dev", "payments", "sign"] => only(post, Route::DevPaymentSign),
            ["api", "openapi.json"] => only(get, Route::OpenApi),
            _ => Route::NotFound,
        }
    }

    /// The methods `path` answers, for a 405's `Allow` (rare, so the path is classified again
    /// rather than every route carrying its methods); `served` says whether the config serves a
    /// route at all. Empty when it serves the path under no method: that is a 404.
    pub fn allowed_methods(path: &str, served: impl Fn(&Route) -> bool) -> &'static str {
        let serves = |method| match Route::parse(&method, path) {
            Route::MethodNotAllowed | Route::NotFound => false,
            route => served(&route),
        };
        match (serves(Method::GET), serves(Method::POST)) {
            (true, true) => "GET, HEAD, POST",
            (true, false) => "GET, HEAD",
            (false, true) => "POST",
            (false, false) => "",
        }
    }

    /// The origin path this route is forwarded to, if it is forwarded at all.
    pub fn origin_path(&self) -> Option<String> {
        match self {
            Self::Buy { event, .. } => Some(wire::buy_path(event)),
            Self::EventOrders(event) => Some(wire::event_orders_path(event)),
            Self::PaymentWebhook => Some(sale::payments::CONFIRM_ROUTE.to_owned()),
            Self::Order { order, action } => Some(match action {
                OrderAction::Show => wire::order_path(order),
                OrderAction::Pay => wire::pay_path(order),
                OrderAction::Cancel => wire::cancel_path(order),
            }),
            _ => None,
        }
    }

    /// Whether this is an API request, subject to the per-address cap. Pages are not: they are
    /// served from memory and cost next to nothing. Nor are payment confirmations: a provider
    /// sends every buyer's from a few addresses, and a 429 there would turn paid orders into
    /// late ones (`refund_due`); what guards that route is its signature, checked (header and
    /// MAC over the body) at the edge before any origin sees it, and again at the origin.
    pub fn is_api(&self) -> bool {
        !matches!(
            self,
            Self::Page(_)
                | Self::DevCheckout
                | Self::PaymentWebhook
                | Self::NotFound
                | Self::MethodNotAllowed
        )
    }

    /// A short label for logs and metrics, one of [`Route::LABELS`].
    pub fn label(&self) -> &'static str {
        match self {
            Self::Page(_) => "page",
            Self::EventView(_) => "event",
            Self::SeatMap(_) | Self::Venue(_) => "seats",
            Self::Token(_) => "token",
            Self::Buy { .. } => "buy",
            Self::Order { .. } | Self::EventOrders(_) => "order",
            Self::Queue(_, QueueKind::Fairness | QueueKind::Entrants) => "fairness",
            Self::Queue(..) => "queue",
            Self::DevSession => "dev_session",
            Self::PaymentWebhook => "payment",
            Self::DevCheckout | Self::DevPaymentSign => "dev_payment",
            Self::OpenApi => "openapi",
            Self::MethodNotAllowed | Self::NotFound => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_is_listed() {
        let requests = [
            (Method::GET, "/"),
            (Method::GET, "/static/app.js"),
            (Method::GET, "/api/events/demo"),
            (Method::GET, "/api/events/demo/seats"),
            (Method::GET, "/api/venues/hall"),
            (Method::POST, "/api/events/demo/token"),
            (Method::POST, "/api/events/demo/buy/t"),
            (Method::GET, "/api/orders/o"),
            (Method::GET, "/api/events/demo/orders"),
            (Method::GET, "/api/events/demo/fairness"),
            (Method::GET, "/api/events/demo/queue"),
            (Method::POST, "/api/dev/session"),
            (Method::POST, "/api/payments/webhook"),
            (Method::GET, "/dev/checkout/p"),
            (Method::POST, "/api/dev/payments/sign"),
            (Method::GET, "/api/openapi.json"),
            (Method::DELETE, "/"),
            (Method::GET, "/nowhere"),
        ];
        let mut seen: Vec<&str> = requests
            .iter()
            .map(|(method, path)| Route::parse(method, path).label())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        let mut listed = Route::LABELS.to_vec();
        listed.sort_unstable();
        assert_eq!(seen, listed);
    }

    #[test]
    fn waiting_room_routes_parse_by_method() {
        let queue = "/api/events/demo/queue";
        assert_eq!(
            Route::parse(&Method::GET, queue),
            Route::Queue("demo", QueueKind::Status)
        );
        assert_eq!(
            Route::parse(&Method::POST, queue),
            Route::Queue("demo", QueueKind::Join)
        );
        assert_eq!(
            Route::parse(&Method::DELETE, queue),
            Route::MethodNotAllowed
        );
        let challenge = Route::parse(&Method::GET, "/api/events/demo/queue/challenge");
        assert_eq!(challenge, Route::Queue("demo", QueueKind::Challenge));
        let entrants = Route::parse(&Method::GET, "/api/events/demo/fairness/entrants");
        assert_eq!(entrants, Route::Queue("demo", QueueKind::Entrants));
        assert_eq!(entrants.label(), "fairness");
        assert_eq!(
            Route::parse(&Method::POST, "/api/events/demo/fairness"),
            Route::MethodNotAllowed
        );
    }

    #[test]
    fn contract_routes_parse() {
        assert_eq!(Route::parse(&Method::GET, "/"), Route::Page(INDEX));
        assert_eq!(
            Route::parse(&Method::GET, "/events/demo"),
            Route::Page(INDEX)
        );
        assert_eq!(
            Route::parse(&Method::GET, "/static/app.js"),
            Route::Page("app.js")
        );
        assert_eq!(
            Route::parse(&Method::GET, "/api/events/demo"),
            Route::EventView("demo")
        );
        assert_eq!(
            Route::parse(&Method::POST, "/api/events/demo/token"),
            Route::Token("demo")
        );
        assert_eq!(
            Route::parse(&Method::GET, "/api/events/demo/seats"),
            Route::SeatMap("demo")
        );
        assert_eq!(
            Route::parse(&Method::GET, "/api/venues/hall"),
            Route::Venue("hall")
        );
        assert_eq!(
            Route::parse(&Method::POST, "/api/events/demo/buy/abc"),
            Route::Buy {
                event: "demo",
                token: "abc"
            }
        );
        assert_eq!(
            Route::parse(&Method::POST, "/api/orders/o1/pay")
                .origin_path()
                .as_deref(),
            Some("/internal/orders/o1/pay")
        );
        let orders = Route::parse(&Method::GET, "/api/events/demo/orders");
        assert_eq!(orders, Route::EventOrders("demo"));
        assert_eq!(
            orders.origin_path().as_deref(),
            Some("/internal/events/demo/orders")
        );
        assert_eq!(
            Route::parse(&Method::POST, "/api/events/demo/orders"),
            Route::MethodNotAllowed
        );
        let webhook = Route::parse(&Method::POST, "/api/payments/webhook");
        assert_eq!(webhook, Route::PaymentWebhook);
        assert_eq!(
            webhook.origin_path().as_deref(),
            Some("/internal/payments/confirm")
        );
        assert_eq!(
            Route::parse(&Method::GET, "/dev/checkout/pay_1"),
            Route::DevCheckout
        );
    }

    #[test]
    fn a_wrong_method_is_told_the_methods_its_path_answers() {
        for (path, allowed) in [
            ("/api/events/demo/token", "POST"),
            ("/api/events/demo", "GET, HEAD"),
            ("/api/events/demo/queue", "GET, HEAD, POST"),
            ("/api/orders/demo.0123/cancel", "POST"),
        ] {
            assert_eq!(
                Route::parse(&Method::DELETE, path),
                Route::MethodNotAllowed,
                "{path}"
            );
            assert_eq!(Route::allowed_methods(path, |_| true), allowed, "{path}");
        }
    }

    #[test]
    fn a_route_the_config_does_not_serve_allows_no_method() {
        let no_dev_sessions = |route: &Route| *route != Route::DevSession;
        assert_eq!(
            Route::allowed_methods("/api/dev/session", no_dev_sessions),
            ""
        );
        assert_eq!(Route::allowed_methods("/api/dev/session", |_| true), "POST");
    }

    #[test]
    fn wrong_methods_and_unknown_paths_are_told_apart() {
        assert_eq!(
            Route::parse(&Method::GET, "/api/events/demo/token"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(&Method::GET, "/nope"), Route::NotFound);
        assert_eq!(
            Route::parse(&Method::GET, "/static/.hidden"),
            Route::NotFound
        );
        assert_eq!(
            Route::parse(&Method::GET, "/static/a/../b"),
            Route::NotFound
        );
    }
}
