use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One seeded virtual user, as `seed` prints it and `hammer` reads it.
///
/// `Debug` redacts the secrets so they never reach a log by accident.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The login name (an e-mail address for the TaskTracker scenario).
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Unix epoch seconds at which `token` expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Values the seed steps captured: IDs of data created for this user.
    /// Any JSON: a list is what `{var:NAME}` picks from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, Var>,
    /// Session cookies, name to value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cookies: BTreeMap<String, String>,
    /// Most values an [`append`](User::append) leaves in a list var (hammer's
    /// `--list-max`; 0, the default: all): appending to a full list drops
    /// its oldest. A setting of the run, not part of the record.
    #[serde(skip)]
    pub list_max: usize,
}

/// A captured value, with its JSON type: a list that requests pick from at
/// random (a JSON array), or one value of any other type. A captured integer
/// stays an integer, so a JSON template `"{var:user_id}"` sends it as a number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Var {
    List(Vec<serde_json::Value>),
    One(serde_json::Value),
}

impl Var {
    /// A single string value.
    pub fn text(value: impl Into<String>) -> Var {
        Var::One(serde_json::Value::String(value.into()))
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("User")
            .field("user", &self.user)
            .field("password", &hidden(&self.password))
            .field("token", &hidden(&self.token))
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("expires_at", &self.expires_at)
            .field("vars", &self.vars)
            .field("cookies", &self.cookies.keys().collect::<Vec<_>>())
            .finish()
    }
}
