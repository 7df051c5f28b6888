//! Parameter Store changes through the whole change flow — request, plan,
//! confirm, a lead's approval, execute, verify — over the production AWS
//! wiring (`opsbot::aws::gateways`) against moto, with the SQLite store and a
//! chat that records what it was sent. What moto cannot do (Automation,
//! ListCommandInvocations) is covered by the aws-smithy-mocks tests in
//! `bot/aws/` and by the sandbox.

use std::sync::Arc;

use aws_sdk_ssm::types::ParameterType;
use opsbot_commands::ClickOutcome;
use opsbot_commands::Ops;
use opsbot_commands::testing::{MemoryChat, change_button};

use crate::support::change_flow::{Flow, as_user, finished, on_moto};
use crate::support::emulators::{emulators, unique};

/// Developers may change parameters once a lead approves.
const POLICY: &str = "roles:\n  devs: { everyone: true }\n  leads: { users: [U0LEAD] }\nrules:\n  - allow: [\"param set\", \"param rollback\", \"param get\"]\n    to: devs\n    approval: { by: leads, ttl: 30m }\n";

struct World {
    ops: Arc<Ops>,
    ssm: aws_sdk_ssm::Client,
    store: Arc<dyn opsbot::store::Storage>,
    chat: Arc<MemoryChat>,
}

async fn world() -> World {
    let Flow { ops, ssm, store, chat, .. } = on_moto(&emulators().await.sdk_config().await, POLICY, |w| w);
    World { ops, ssm, store, chat }
}

impl World {
    /// `U0DEV` asks for `text`, confirms, `U0LEAD` approves; returns once it has finished.
    async fn approved(&self, text: &str) -> String {
        let request = unique("req");
        let dev = as_user("U0DEV", &request);
        let plan = self.ops.handle(&dev, text).await;
        assert!(
            matches!(self.ops.click(&dev, &change_button(&plan, "Confirm")).await, ClickOutcome::Replace(_)),
            "{plan:?}"
        );
        let approval = self.chat.messages.lock().unwrap().last().expect("an approval request").1.clone();
        let lead = as_user("U0LEAD", &unique("click"));
        let approve = change_button(&approval, "Approve");
        self.ops.click(&lead, &approve).await;
        self.ops.click(&lead, &approve).await; // a double click runs nothing twice
        finished(&*self.store, &self.chat, &request).await
    }

    async fn put(&self, name: &str, kind: ParameterType, value: &str, key: Option<&str>) {
        let put = self.ssm.put_parameter().name(name).r#type(kind).value(value).overwrite(true);
        put.set_key_id(key.map(str::to_owned)).send().await.unwrap();
    }

    async fn history(&self, name: &str) -> Vec<(i64, String)> {
        let got = self.ssm.get_parameter_history().name(name).with_decryption(true).send().await.unwrap();
        got.parameters().iter().map(|p| (p.version(), p.value().unwrap_or_default().to_owned())).collect()
    }

    async fn key_and_type(&self, name: &str) -> (Option<String>, Option<String>) {
        let filter = aws_sdk_ssm::types::ParameterStringFilter::builder().key("Name").values(name).build().unwrap();
        let described = self.ssm.describe_parameters().parameter_filters(filter).send().await.unwrap();
        let meta = &described.parameters()[0];
        (meta.key_id().map(str::to_owned), meta.r#type().map(|t| t.as_str().to_owned()))
    }
}

#[tokio::test]
async fn an_approved_param_set_adds_exactly_one_version() {
    let w = world().await;
    let name = format!("/{}/feature-flags", unique("shop"));
    w.put(&name, ParameterType::StringList, "new-checkout", None).await;

    let last = w.approved(&format!("param set {name} new-checkout,one-click-pay")).await;

    assert_eq!(w.history(&name).await, [(1, "new-checkout".into()), (2, "new-checkout,one-click-pay".into())]);
    assert!(
        last.contains(":white_check_mark:")
            && last.contains("is now version *2*")
            && last.contains("Version 2 is live."),
        "{last}"
    );
}

#[tokio::test]
async fn a_secure_string_keeps_its_type_and_kms_key_and_its_value_shows_nowhere() {
    let w = world().await;
    let name = format!("/{}/db-password", unique("shop"));
    w.put(&name, ParameterType::SecureString, "old-Secret-1", Some("alias/shop-prod")).await;

    w.approved(&format!("param set {name} \"n3w Secret!\"")).await;

    assert_eq!(w.history(&name).await.last().unwrap(), &(2, "n3w Secret!".to_string()));
    assert_eq!(w.key_and_type(&name).await, (Some("alias/shop-prod".into()), Some("SecureString".into())));
    let shown = format!("{:?}", w.chat.messages.lock().unwrap());
    assert!(!shown.contains("n3w Secret") && !shown.contains("old-Secret-1"), "{shown}");
}

#[tokio::test]
async fn a_rollback_writes_an_earlier_value_again_as_a_new_version() {
    let w = world().await;
    let name = format!("/{}/db-password", unique("shop"));
    for value in ["first-secret", "second-secret"] {
        w.put(&name, ParameterType::SecureString, value, Some("alias/shop-prod")).await;
    }

    let last = w.approved(&format!("param rollback {name}")).await;

    let history = w.history(&name).await;
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[2], (3, "first-secret".to_string()));
    assert_eq!(w.key_and_type(&name).await.0.as_deref(), Some("alias/shop-prod"));
    assert!(last.contains("with the value of version 1") && !last.contains("first-secret"), "{last}");
}

#[tokio::test]
async fn setting_a_parameter_that_does_not_exist_is_refused_with_what_to_do() {
    let w = world().await;
    let name = format!("/{}/nothing", unique("shop"));

    let reply = w.ops.handle(&as_user("U0DEV", &unique("req")), &format!("param set {name} x")).await;

    assert!(reply.text().contains("existing parameters only"), "{}", reply.text());
    assert!(w.ssm.get_parameter().name(&name).send().await.is_err(), "nothing was created");
}
