//! Minting what the site's login service and the edge would hand a buyer: sessions, and
//! purchase tokens the edge would not hand out (outside the window, expired).

use sale::{EventId, UserId};

use super::Stack;

impl Stack {
    /// A valid session for `user`.
    pub fn session(&self, user: &str) -> String {
        let user = UserId::parse(user).expect("valid user id");
        let expires_at = sale::time::now_millis() + 3_600_000;
        sale::session::mint(&self.config.secrets.session_keys, &user, expires_at)
    }

    /// A purchase token for `user` at `demo` expiring at `expires_at` (ms), minted with the
    /// edge's key, for tests that need tokens the edge would not hand out.
    pub fn token_expiring(&self, user: &str, expires_at: u64) -> String {
        let event = EventId::parse("demo").expect("valid event id");
        let user = UserId::parse(user).expect("valid user id");
        sale::purchase_token::issue(&self.config.secrets.token_keys, &event, &user, expires_at).0
    }
}
