//! Keeping a VU's token valid, seed 002's way: refresh it shortly before it
//! expires (the scenario's `auth.refresh` request); when a request gets a
//! `reauth_on` status (default 401), refresh, fall back to logging in again
//! with the password (`auth.login`, or the seed's login), and retry the
//! request once. These requests are events too, under their own names.
//!
//! No login storm, whatever the target answers: a user's token is renewed
//! at most once per generation (the VUs that got a 401 under it wait and
//! use the new one), and a 401 that a fresh token did not cure marks that
//! generation suspect: for [`SUSPECT_FOR`] such answers are ordinary
//! failures, and the ID they were about is dropped.

use std::time::{Duration, Instant};

use crate::mix::Prepared;
use crate::transport::Transport;
use crate::vu::{now_secs, Plan, Vu};

/// The scenario's auth requests.
#[derive(Debug, Default)]
pub struct AuthPlan {
    /// Refresh this long before the token expires (at most half its lifetime).
    pub refresh_before: Duration,
    pub refresh: Option<Prepared>,
    pub login: Option<Prepared>,
    /// Statuses that mean "the token is no longer good".
    pub reauth_on: Vec<u16>,
}

/// After a failed re-authentication, wait this long before trying again
/// ahead of expiry (a 401 still triggers it at once).
const BACKOFF: Duration = Duration::from_secs(1);

/// How long a generation whose renewal did not cure a `reauth_on` answer
/// keeps such answers from renewing the token again. A token that really
/// lapses meanwhile is renewed ahead of its expiry, or after this.
pub const SUSPECT_FOR: Duration = Duration::from_secs(10);

impl AuthPlan {
    pub fn can_reauth(&self) -> bool {
        self.refresh.is_some() || self.login.is_some()
    }

    /// Whether a token with `expires_at` and a lifetime of `ttl` seconds
    /// should be refreshed at `now` (Unix seconds).
    pub fn due(&self, expires_at: Option<i64>, ttl: Option<i64>, now: i64) -> bool {
        let Some(expires_at) = expires_at else {
            return false;
        };
        let mut before = self.refresh_before.as_secs() as i64;
        if let Some(ttl) = ttl.filter(|t| *t > 0) {
            // A short-lived token is refreshed at half-life, not on every request.
            before = before.min(ttl / 2);
        }
        now + before >= expires_at
    }
}

impl<T: Transport> Vu<T> {
    /// The token generation, when the user's token should be renewed now.
    pub(crate) fn token_due(&self, plan: &Plan<T>) -> Option<u64> {
        if !plan.auth.can_reauth() {
            return None;
        }
        let state = self.user.lock();
        (state.auth_backoff.is_none_or(|t| Instant::now() >= t)
            && plan
                .auth
                .due(state.user.expires_at, state.token_ttl, now_secs()))
        .then_some(state.token_gen)
    }

    /// Refreshes the user's token, or logs in again when that fails. True
    /// when the user has a fresh token. `seen` is the token generation the
    /// caller used: when another VU of the same user renewed the token
    /// since, that new token serves (no second refresh). `proactive`: only
    /// while the token is still due (another VU may have renewed it).
    pub(crate) async fn reauth(&mut self, plan: &Plan<T>, seen: u64, proactive: bool) -> bool {
        let user = self.user.clone();
        let _renewing = user.auth.lock().await;
        let has_refresh = {
            let state = user.lock();
            if state.token_gen != seen {
                return true;
            }
            if !proactive && state.suspect_of(seen) {
                return false;
            }
            if proactive
                && !(state.auth_backoff.is_none_or(|t| Instant::now() >= t)
                    && plan
                        .auth
                        .due(state.user.expires_at, state.token_ttl, now_secs()))
            {
                return true;
            }
            state.user.refresh_token.is_some()
        };
        if has_refresh {
            if let Some(refresh) = &plan.auth.refresh {
                if self.auth_request(plan, refresh).await {
                    return true;
                }
            }
        }
        if let Some(login) = &plan.auth.login {
            if self.auth_request(plan, login).await {
                return true;
            }
        }
        user.lock().auth_backoff = Some(Instant::now() + BACKOFF);
        false
    }

    async fn auth_request(&mut self, plan: &Plan<T>, p: &Prepared) -> bool {
        match self.render(&p.request, None) {
            Ok((rendered, _)) => {
                let ok = self
                    .exchange(plan, p, &rendered, None, None, Some(u64::MAX))
                    .await
                    .1
                    .is_none();
                if ok {
                    let mut state = self.user.lock();
                    state.auth_backoff = None;
                    state.token_gen += 1;
                }
                ok
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_ahead_of_expiry_but_not_every_request() {
        let plan = AuthPlan {
            refresh_before: Duration::from_secs(30),
            ..AuthPlan::default()
        };
        assert!(!plan.due(None, None, 1000));
        assert!(!plan.due(Some(1100), Some(900), 1000));
        assert!(plan.due(Some(1020), Some(900), 1000));
        // A 2 s token: refresh in its last second, not 30 s ahead (always).
        assert!(!plan.due(Some(1002), Some(2), 1000));
        assert!(plan.due(Some(1002), Some(2), 1001));
        // An expired token is due whatever its lifetime.
        assert!(plan.due(Some(900), Some(2), 1000));
    }
}
