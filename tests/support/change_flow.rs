//! The commands' change flow in-process, without Slack, over the production
//! AWS wiring (`opsbot::aws::gateways`) on the emulators: what the Parameter
//! Store tests (`ssm_changes`, `params_declared`, `accounts`) set up alike —
//! a test policy, a fresh SQLite store, a chat that records what it was
//! sent, and users acting in `#C0OPS`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use opsbot::app::Wiring;
use opsbot::store::Storage;
use opsbot_commands::Ops;
use opsbot_commands::cmd::ENTRIES;
use opsbot_commands::context::Context;
use opsbot_commands::ports::Gateways;
use opsbot_commands::ports::store::ChangeId;
use opsbot_commands::testing::MemoryChat;
use opsbot_commands::values::{ChannelId, SlackUserId};
use opsbot_policies::Policy;

/// The commands [`on_moto`] wired, and what a test looks at.
pub struct Flow {
    pub ops: Arc<Ops>,
    /// The gateways `ops` uses, with what the test's wiring added.
    pub gateways: Gateways,
    /// SSM in the bot's own account, to set up and look.
    pub ssm: aws_sdk_ssm::Client,
    pub store: Arc<dyn Storage>,
    pub chat: Arc<MemoryChat>,
}

/// The commands under `policy` (YAML) over the production gateways for
/// `sdk` (the emulators'), with what `wire` adds (declared parameters,
/// accounts).
pub fn on_moto(sdk: &SdkConfig, policy: &str, wire: impl FnOnce(Wiring) -> Wiring) -> Flow {
    let names: Vec<&str> = ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(policy, Path::new("policy.yaml"), &names).expect("the test policy is valid");
    let wiring = wire(Wiring::new(opsbot::aws::gateways(sdk, &Default::default())).with_policy(Arc::new(policy)));
    let (store, chat) = (opsbot::store::open(None).unwrap(), Arc::new(MemoryChat::default()));
    Flow {
        ops: Arc::new(wiring.ops(store.clone(), chat.clone(), vec![])),
        gateways: wiring.aws.clone(),
        ssm: aws_sdk_ssm::Client::new(sdk),
        store,
        chat,
    }
}

/// `user` in `#C0OPS`, in request `request`.
pub fn as_user(user: &str, request: &str) -> Context {
    Context {
        request_id: request.into(),
        user: SlackUserId::parse(user).unwrap(),
        user_name: None,
        groups: vec![],
        channel: ChannelId::parse("C0OPS").unwrap(),
        channel_name: None,
        now: chrono::Utc::now(),
    }
}

/// The chat's last message once the change of `request` is final; panics
/// after 10 s (changes run on their own task, so there is nothing to await).
pub async fn finished(store: &dyn Storage, chat: &MemoryChat, request: &str) -> String {
    for _ in 0..200 {
        let change = store.change(&ChangeId(request.into())).await.unwrap().expect("the change is stored");
        if change.state.is_final() {
            return chat.messages.lock().unwrap().last().unwrap().1.text();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{request} did not finish");
}
