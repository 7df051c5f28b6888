use opsbot_commands::click::Press;
use opsbot_commands::mrkdwn;
use opsbot_commands::reply::{Button, ButtonStyle};
use slack_morphism::prelude::SlackMessageContent;

use super::*;
use crate::settings::Secret;

fn outbox() -> Outbox {
    let store = crate::store::open(None).unwrap();
    let web =
        Arc::new(SlackWeb::new("http://127.0.0.1:9/api", &Secret::new("xoxb-unused"), Default::default()).unwrap());
    Outbox::new(store, web, opsbot_commands::ports::system_clock(), Pacing::default(), "replica-a").0
}

fn alarm_message() -> Reply {
    let press = Press::Run("alert ack arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-5xx".into());
    Reply::in_channel("shop-5xx is in ALARM")
        .header("shop-5xx: ALARM")
        .section(mrkdwn!("*Threshold crossed*: 5 errors in 1 minute"))
        .context(vec![mrkdwn!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-5xx")])
        .buttons(vec![Button { label: "Ack".into(), press, style: ButtonStyle::Primary }])
}

#[test]
fn a_queued_message_reads_back_as_exactly_the_block_kit_it_renders_to() {
    let reply = alarm_message();
    let stored: SlackMessageContent = serde_json::from_str(&render(&reply)).unwrap();
    assert_eq!(stored, blocks::content(&reply));
}

#[tokio::test]
async fn updating_or_replying_to_a_message_never_posted_says_which_key_and_what_to_do() {
    let outbox = outbox();
    let err = outbox.update("alarm:ghost", &alarm_message()).await.unwrap_err();
    assert!(matches!(&err, OutboxError::UnknownMessage { key } if key == "alarm:ghost"), "{err:?}");
    assert!(err.to_string().contains("post it before"), "{err}");
    assert!(matches!(outbox.reply("alarm:ghost", &alarm_message()).await, Err(OutboxError::UnknownMessage { .. })));
}

#[tokio::test]
async fn a_message_has_no_ref_until_the_sender_posted_it() {
    let outbox = outbox();
    let channel = ChannelId::parse("C0ALERTS").unwrap();
    outbox.post("alarm:a", &channel, &alarm_message()).await.unwrap();
    outbox.reply("alarm:a", &Reply::in_channel("OK → ALARM")).await.unwrap();
    assert_eq!(outbox.message_ref("alarm:a").await.unwrap(), None);
}
