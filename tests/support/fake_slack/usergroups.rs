//! User groups: `usergroups.list` (with `include_users=true`, members listed)
//! and `usergroups.users.list`, over groups a test registers with
//! [`FakeSlack::add_user_group`]. Shapes are what slack-morphism 2.31
//! deserializes (`SlackUserGroup`: id, team_id, name, handle, prefs, dates, ...).
//! A workspace without the `usergroups:read` scope is simulated with
//! `fail_next("usergroups.list", Failure::Error("missing_scope".into()))`.

use std::collections::BTreeMap;

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::web_api::{ok, slack_error};
use super::{FakeSlack, Shared};

/// Group id → (handle, member ids).
pub(crate) type Groups = BTreeMap<String, (String, Vec<String>)>;

impl FakeSlack {
    /// Registers a user group (`S...`) with its handle and members.
    pub fn add_user_group(&self, id: &str, handle: &str, members: &[&str]) {
        let members = members.iter().map(|m| m.to_string()).collect();
        self.shared.update(|s| s.usergroups.insert(id.to_string(), (handle.to_string(), members)));
    }
}

pub(super) fn list(shared: &Shared, p: &Map<String, Value>) -> Response {
    let with_users = matches!(p.get("include_users"), Some(Value::Bool(true))) || flag(p, "include_users");
    let groups = shared.inspect(|s| s.usergroups.clone());
    let team = &shared.config.team_id;
    let usergroups: Vec<Value> = groups
        .iter()
        .map(|(id, (handle, members))| {
            let mut group = json!({
                "id": id, "team_id": team, "is_usergroup": true, "is_subteam": true,
                "name": handle, "description": "", "handle": handle, "is_external": false,
                "date_create": 1_700_000_000, "date_update": 1_700_000_000, "date_delete": 0,
                "auto_type": null, "created_by": "U0ADMIN", "updated_by": "U0ADMIN", "deleted_by": null,
                "prefs": {"channels": [], "groups": []}, "user_count": members.len(),
            });
            if with_users {
                group["users"] = json!(members);
            }
            group
        })
        .collect();
    ok(json!({"usergroups": usergroups}))
}

pub(super) fn users_list(shared: &Shared, p: &Map<String, Value>) -> Response {
    let id = p.get("usergroup").and_then(Value::as_str).unwrap_or_default();
    match shared.inspect(|s| s.usergroups.get(id).cloned()) {
        Some((_, members)) => ok(json!({"users": members})),
        None => slack_error("no_such_subteam"),
    }
}

fn flag(p: &Map<String, Value>, key: &str) -> bool {
    matches!(p.get(key).and_then(Value::as_str), Some("true" | "1"))
}
