//! The public URL space of the contract, parsed once per request into a [`Route`] that every later
//! phase matches on instead of re-reading the path.

use http::Method;

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

/// A recognised request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A page or asset from memory: the file name within `static/`.
    Page(String),
    /// `GET /api/events/{id}`.
    EventView(String),
    /// `POST /api/events/{id}/token`.
    Token(String),
    /// `POST /api/events/{id}/buy/{token}`.
    Buy {
        /// The event.
        event: String,
        /// The purchase token from the URL.
        token: String,
    },
    /// An order request, proxied to an origin.
    Order {
        /// The order id.
        order: String,
        /// Which action.
        action: OrderAction,
    },
    /// `POST /api/dev/session?user=ID`.
    DevSession,
    /// The path exists, but not for this method.
    MethodNotAllowed,
    /// Nothing here.
    NotFound,
}

/// The page every event URL serves; the page reads the event id from its own URL.
pub const INDEX: &str = "index.html";

impl Route {
    /// Classifies a request; `path` excludes the query string.
    pub fn parse(method: &Method, path: &str) -> Self {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let get = method == Method::GET || method == Method::HEAD;
        let post = method == Method::POST;
        let only = |ok: bool, route: Route| if ok { route } else { Route::MethodNotAllowed };
        match segments.as_slice() {
            [""] | ["events", _] => only(get, Route::Page(INDEX.into())),
            ["static", file] if !file.is_empty() && !file.starts_with('.') => {
                only(get, Route::Page((*file).into()))
            }
            ["api", "events", id] => only(get, Route::EventView((*id).into())),
            ["api", "events", id, "token"] => only(post, Route::Token((*id).into())),
            ["api", "events", id, "buy", token] => only(
                post,
                Route::Buy {
                    event: (*id).into(),
                    token: (*token).into(),
                },
            ),
            ["api", "orders", order] => only(
                get,
                Route::Order {
                    order: (*order).into(),
                    action: OrderAction::Show,
                },
            ),
            ["api", "orders", order, "pay"] => only(
                post,
                Route::Order {
                    order: (*order).into(),
                    action: OrderAction::Pay,
                },
            ),
            ["api", "orders", order, "cancel"] => only(
                post,
                Route::Order {
                    order: (*order).into(),
                    action: OrderAction::Cancel,
                },
            ),
            ["api", "dev", "session"] => only(post, Route::DevSession),
            _ => Route::NotFound,
        }
    }

    /// The origin path this route is forwarded to, if it is forwarded at all.
    pub fn origin_path(&self) -> Option<String> {
        match self {
            Self::Buy { event, .. } => Some(format!("/internal/events/{event}/buy")),
            Self::Order { order, action } => Some(match action {
                OrderAction::Show => format!("/internal/orders/{order}"),
                OrderAction::Pay => format!("/internal/orders/{order}/pay"),
                OrderAction::Cancel => format!("/internal/orders/{order}/cancel"),
            }),
            _ => None,
        }
    }

    /// Whether this is an API request, subject to the per-address cap. Pages are not: they are
    /// served from memory and cost next to nothing.
    pub fn is_api(&self) -> bool {
        !matches!(
            self,
            Self::Page(_) | Self::NotFound | Self::MethodNotAllowed
        )
    }

    /// A short label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Page(_) => "page",
            Self::EventView(_) => "event",
            Self::Token(_) => "token",
            Self::Buy { .. } => "buy",
            Self::Order { .. } => "order",
            Self::DevSession => "dev_session",
            Self::MethodNotAllowed | Self::NotFound => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_routes_parse() {
        assert_eq!(Route::parse(&Method::GET, "/"), Route::Page(INDEX.into()));
        assert_eq!(
            Route::parse(&Method::GET, "/events/demo"),
            Route::Page(INDEX.into())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/static/app.js"),
            Route::Page("app.js".into())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/api/events/demo"),
            Route::EventView("demo".into())
        );
        assert_eq!(
            Route::parse(&Method::POST, "/api/events/demo/token"),
            Route::Token("demo".into())
        );
        assert_eq!(
            Route::parse(&Method::POST, "/api/events/demo/buy/abc"),
            Route::Buy {
                event: "demo".into(),
                token: "abc".into()
            }
        );
        assert_eq!(
            Route::parse(&Method::POST, "/api/orders/o1/pay")
                .origin_path()
                .as_deref(),
            Some("/internal/orders/o1/pay")
        );
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
