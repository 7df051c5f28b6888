//! `aws.assume_role` against moto's STS: the role is assumed for the
//! requester (`opsbot::aws::AssumeRole`, the production wiring), and the
//! gateways it hands out work with the temporary credentials. That AWS then
//! records the Slack user id as `SourceIdentity` is checked on the request by
//! the aws-smithy-mocks tests in `bot/aws/identity.rs` (moto does not keep it).

use std::time::Duration;

use aws_sdk_ssm::config::ProvideCredentials;
use aws_sdk_ssm::types::ParameterType;
use opsbot_commands::change::identity::Identity;
use opsbot_commands::ports::ParamValue;
use opsbot_commands::values::{ParamName, SlackUserId};

use crate::support::emulators::{emulators, unique};

#[tokio::test]
async fn changes_act_through_a_role_assumed_for_the_requester() {
    let emu = emulators().await;
    let sdk = emu.sdk_config().await;
    let role = emu.create_role("opsbot-changes", r#"{"AWS":"arn:aws:iam::123456789012:root"}"#).await;
    let name = format!("/{}/release", unique("identity"));
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    ssm.put_parameter().name(&name).r#type(ParameterType::String).value("v42").send().await.unwrap();
    let identity = opsbot::aws::AssumeRole::new(&sdk, &role, Duration::from_secs(900), Default::default());
    let dev = SlackUserId::parse("U0DEV").unwrap();

    let gateways = identity.gateways_for(&dev).await.unwrap();
    let read = gateways.params.get(&ParamName::parse(&name).unwrap()).await.unwrap();

    assert_eq!(read.value, ParamValue::Plain("v42".into()));
    let config = identity.config_for(&dev).await.unwrap();
    let credentials = config.credentials_provider().unwrap().provide_credentials().await.unwrap();
    assert_ne!(credentials.access_key_id(), "testing", "the role's temporary credentials, not the bot's");
    assert!(credentials.session_token().is_some() && credentials.expiry().is_some());
}
