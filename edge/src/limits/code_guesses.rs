//! Wrong access codes are guesses, and are limited like any: a user, or an address, whose buys
//! an origin refused as `bad_code` ten times within a minute is refused (429 with Retry-After)
//! before its next buy leaves the edge, until that minute has passed. Memory is bounded as the
//! admin lockout's is (`sale::lockout`). Per edge: a guesser spread over many edges gets ten a
//! minute on each, still against 2^96 (bound codes) or 2^80 (shared codes) possibilities.

use std::net::IpAddr;

use sale::UserId;
use sale::client_key::ClientKey;
use sale::lockout::Lockout;
use tokio::time::Instant;

/// Wrong codes by user and by address.
#[derive(Debug, Default)]
pub struct CodeGuesses {
    by_user: Lockout<String>,
    by_address: Lockout<ClientKey>,
}

impl CodeGuesses {
    /// Whole seconds until `user` at `ip` may buy again, if either is locked out at `now`.
    pub fn locked(&self, user: &UserId, ip: IpAddr, now: Instant) -> Option<u64> {
        let by_user = self.by_user.locked_key(&user.as_str().to_owned(), now);
        let by_address = self.by_address.locked(ip, now);
        by_user.into_iter().chain(by_address).max()
    }

    /// Notes a wrong code from `user` at `ip`.
    pub fn failed(&self, user: &UserId, ip: IpAddr, now: Instant) {
        self.by_user.failed_key(user.as_str().to_owned(), now);
        self.by_address.failed(ip, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_wrong_codes_lock_the_user_everywhere_and_the_address_for_everyone() {
        let guesses = CodeGuesses::default();
        let (alice, bob) = (
            UserId::parse("alice").unwrap(),
            UserId::parse("bob").unwrap(),
        );
        let (home, cafe) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 9, 0, 1]));
        let now = Instant::now();
        for _ in 0..9 {
            guesses.failed(&alice, home, now);
        }
        assert_eq!(guesses.locked(&alice, home, now), None);
        guesses.failed(&alice, home, now);
        assert_eq!(
            guesses.locked(&alice, cafe, now),
            Some(60),
            "the user, from anywhere"
        );
        assert_eq!(
            guesses.locked(&bob, home, now),
            Some(60),
            "anyone at that address"
        );
        assert_eq!(guesses.locked(&bob, cafe, now), None);
    }
}
