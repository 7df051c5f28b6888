//! The `Params` and `ParamChanges` ports of the sandbox over its
//! [`SimParam`]s. Apart from the data (`params.rs`), which the account names,
//! so that the data never imports the [`Sandbox`] that holds it.

use async_trait::async_trait;
use opsbot_commands::ports::{
    Fingerprint, LiveParam, NewValue, ParamChanges, ParamKind, ParamSettings, ParamTags, ParamVersion, ParamWrite,
    Parameter, Params, Receipt,
};
use opsbot_commands::values::{ParamName, ParamPath, SlackUserId};
use opsbot_commands::{GatewayError, GatewayResult};

use super::{SimParam, SimParamVersion, Stored};
use crate::sandbox::Sandbox;
use crate::sandbox::account::{ACCOUNT_ID, Account};

fn not_found(name: &ParamName) -> GatewayError {
    GatewayError::not_found(format!("parameter `{name}`"))
}

#[async_trait]
impl Params for Sandbox {
    async fn get(&self, name: &ParamName) -> GatewayResult<Parameter> {
        self.read(|a| a.params.get(name).and_then(|p| p.current(name))).ok_or_else(|| not_found(name))
    }

    async fn by_path(&self, path: &ParamPath) -> GatewayResult<Vec<Parameter>> {
        let prefix = format!("{}/", path.as_str().trim_end_matches('/'));
        Ok(self.read(|a| {
            a.params
                .iter()
                .filter(|(name, _)| name.as_str().starts_with(&prefix))
                .filter_map(|(n, p)| p.current(n))
                .collect()
        }))
    }

    async fn history(&self, name: &ParamName) -> GatewayResult<Vec<ParamVersion>> {
        self.read(|a| a.params.get(name).map(|p| p.versions.iter().map(SimParamVersion::to_port).collect()))
            .ok_or_else(|| not_found(name))
    }

    async fn fingerprints(&self, path: &ParamPath) -> GatewayResult<Vec<LiveParam>> {
        let prefix = format!("{}/", path.as_str().trim_end_matches('/'));
        Ok(self.read(|a| {
            let under = a.params.iter().filter(|(name, _)| name.as_str().starts_with(&prefix));
            under
                .filter_map(|(name, p)| {
                    let v = p.versions.last()?;
                    Some(LiveParam {
                        name: name.to_string(),
                        kind: v.kind.clone(),
                        value: Fingerprint::of(&v.kind, &v.value.0),
                        description: v.description.clone(),
                        version: v.version,
                    })
                })
                .collect()
        }))
    }

    async fn tags(&self, name: &ParamName) -> GatewayResult<ParamTags> {
        self.read(|a| a.params.get(name).map(|p| p.tags.clone())).ok_or_else(|| not_found(name))
    }
}

/// Appends a version with `value` to `name` (created when missing, as
/// `PutParameter` with overwrite does), keeping `keep`'s type.
fn append(
    account: &mut Account,
    name: &ParamName,
    value: String,
    keep: &ParamSettings,
    by: &SlackUserId,
) -> GatewayResult<ParamWrite> {
    let modified = account.ssm.now(account.now);
    let param = account
        .params
        .entry(name.clone())
        .or_insert_with(|| SimParam { versions: Vec::new(), tags: Default::default() });
    let version = param.versions.last().map_or(1, |v| v.version + 1);
    param.versions.push(SimParamVersion {
        version,
        kind: keep.kind.clone(),
        value: Stored(value),
        modified,
        modified_by: format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/opsbot/{by}"),
        labels: Vec::new(),
        description: keep.description.clone(),
    });
    Ok(ParamWrite { version, receipt: Receipt { request_id: Some(format!("sandbox-put-{name}-{version}")) } })
}

#[async_trait]
impl ParamChanges for Sandbox {
    async fn settings(&self, name: &ParamName) -> GatewayResult<ParamSettings> {
        let latest = self.read(|a| a.params.get(name).and_then(|p| p.versions.last().cloned()));
        let latest = latest.ok_or_else(|| not_found(name))?;
        let secure = latest.kind == ParamKind::SecureString;
        Ok(ParamSettings {
            key_id: secure.then(|| "alias/aws/ssm".to_owned()),
            kind: latest.kind,
            tier: Some("Standard".into()),
            data_type: Some("text".into()),
            description: latest.description,
            allowed_pattern: None,
        })
    }

    async fn put(
        &self,
        name: &ParamName,
        value: &NewValue,
        keep: &ParamSettings,
        by: &SlackUserId,
    ) -> GatewayResult<ParamWrite> {
        self.update(|a| append(a, name, value.expose().to_owned(), keep, by))
    }

    async fn restore(
        &self,
        name: &ParamName,
        version: i64,
        keep: &ParamSettings,
        by: &SlackUserId,
    ) -> GatewayResult<ParamWrite> {
        self.update(|a| {
            let old = a.params.get(name).ok_or_else(|| not_found(name))?.versions.iter().find(|v| v.version == version);
            let old = old.ok_or_else(|| GatewayError::not_found(format!("version {version} of parameter `{name}`")))?;
            let value = old.value.0.clone();
            append(a, name, value, keep, by)
        })
    }

    async fn retag(&self, name: &ParamName, set: &ParamTags, remove: &[String]) -> GatewayResult<Receipt> {
        self.update(|a| {
            let param = a.params.get_mut(name).ok_or_else(|| not_found(name))?;
            param.tags.extend(set.clone());
            param.tags.retain(|k, _| !remove.contains(k));
            Ok(Receipt { request_id: Some(format!("sandbox-tag-{name}")) })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;
    use opsbot_commands::ports::ParamValue;

    fn dev() -> SlackUserId {
        SlackUserId::parse("U0DEV").unwrap()
    }

    #[tokio::test]
    async fn a_write_is_a_new_version_by_the_requester_and_keeps_the_type() {
        let sandbox = demo();
        let flags = name("/shop/prod/feature-flags");
        let keep = sandbox.settings(&flags).await.unwrap();
        let before = sandbox.get(&flags).await.unwrap().version;

        let write = sandbox.put(&flags, &NewValue::new("new-checkout"), &keep, &dev()).await.unwrap();

        let history = sandbox.history(&flags).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!((write.version, last.version), (before + 1, before + 1));
        assert_eq!(
            (last.kind.clone(), last.value.clone()),
            (ParamKind::StringList, ParamValue::Plain("new-checkout".into()))
        );
        assert!(last.modified_by.as_deref().unwrap().ends_with(":assumed-role/opsbot/U0DEV"));
    }

    #[tokio::test]
    async fn a_restore_copies_a_secret_without_showing_it() {
        let sandbox = demo();
        let password = name("/shop/prod/db-password");
        let keep = sandbox.settings(&password).await.unwrap();
        assert_eq!(keep.key_id.as_deref(), Some("alias/aws/ssm"));
        let second = sandbox.read(|a| a.params[&password].versions[1].value.clone());

        let write = sandbox.restore(&password, 2, &keep, &dev()).await.unwrap();

        let now = sandbox.read(|a| a.params[&password].versions.last().unwrap().clone());
        assert_eq!((now.version, now.value), (write.version, second));
        assert_eq!(sandbox.get(&password).await.unwrap().value, ParamValue::Masked);
        assert!(sandbox.restore(&password, 99, &keep, &dev()).await.is_err());
    }

    fn name(raw: &str) -> ParamName {
        ParamName::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn secure_strings_are_stored_but_never_leave_the_sandbox() {
        let sandbox = demo();
        let db_password = name("/shop/prod/db-password");
        let secret = sandbox.read(|a| a.params[&db_password].versions.last().unwrap().value.0.clone());
        assert!(!secret.is_empty());
        let param = sandbox.get(&db_password).await.unwrap();
        assert_eq!((param.kind, param.value), (ParamKind::SecureString, ParamValue::Masked));
        let history = sandbox.history(&db_password).await.unwrap();
        assert!(history.len() > 1 && history.iter().all(|v| v.value == ParamValue::Masked));
        let listed = sandbox.by_path(&ParamPath::parse("/shop").unwrap()).await.unwrap();
        assert!(!format!("{listed:?}{history:?}").contains(&secret));
        assert!(!sandbox.read(|a| format!("{a:?}")).contains(&secret), "Debug must not print stored values");
    }

    #[tokio::test]
    async fn plain_values_and_history_show_who_changed_what() {
        let sandbox = demo();
        let flags = sandbox.get(&name("/shop/prod/feature-flags")).await.unwrap();
        assert_eq!(flags.kind, ParamKind::StringList);
        assert!(matches!(&flags.value, ParamValue::Plain(v) if v.contains(',')));
        let history = sandbox.history(&name("/shop/prod/feature-flags")).await.unwrap();
        assert_eq!(history.last().unwrap().version, flags.version);
        assert!(history.windows(2).all(|w| w[0].version < w[1].version), "oldest first");
        let writers: std::collections::BTreeSet<_> = history.iter().filter_map(|v| v.modified_by.clone()).collect();
        assert!(writers.len() >= 2, "{writers:?}");
        assert!(history.iter().any(|v| !v.labels.is_empty()));
    }

    #[tokio::test]
    async fn a_path_lists_everything_under_it_and_nothing_beside_it() {
        let listed = demo().by_path(&ParamPath::parse("/shop/prod").unwrap()).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
        assert!(names.contains(&"/shop/prod/db-host") && names.iter().all(|n| n.starts_with("/shop/prod/")));
        assert!(demo().by_path(&ParamPath::parse("/nothing").unwrap()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn unknown_parameters_are_not_found() {
        let err = demo().get(&name("/shop/prod/nope")).await.unwrap_err();
        assert_eq!(err.to_string(), "parameter `/shop/prod/nope` was not found");
        assert!(demo().history(&name("/shop/prod/nope")).await.is_err());
    }
}
