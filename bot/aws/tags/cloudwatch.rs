//! A CloudWatch alarm's tags (`ListTagsForResource`).

use aws_config::SdkConfig;
use opsbot_commands::error::GatewayResult;

use super::pages::{every_page, pair};
use crate::aws::gateways::client as make;
use crate::metrics::aws::AwsCalls;
use crate::notify::tags::Tags;

pub(super) fn client(config: &SdkConfig, calls: &AwsCalls) -> aws_sdk_cloudwatch::Client {
    make!(aws_sdk_cloudwatch, config, calls)
}

/// `arn`'s tags (one page: the API has no others).
pub(super) async fn tags(cloudwatch: &aws_sdk_cloudwatch::Client, arn: &str) -> GatewayResult<Tags> {
    every_page(arn, |_| async move {
        let out = cloudwatch.list_tags_for_resource().resource_arn(arn).send().await;
        out.map(|out| (out.tags().iter().filter_map(|t| pair(t.key(), t.value())).collect(), None))
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatch::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_cloudwatch::types::Tag;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::aws::mocked_client;

    const ALARM: &str = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-5xx";

    #[tokio::test]
    async fn an_alarms_tags_are_read_by_its_arn() {
        let rule = mock!(aws_sdk_cloudwatch::Client::list_tags_for_resource)
            .match_requests(|req| req.resource_arn() == Some(ALARM))
            .then_output(|| {
                ListTagsForResourceOutput::builder().tags(Tag::builder().key("team").value("shop").build()).build()
            });
        let cloudwatch: aws_sdk_cloudwatch::Client = mocked_client!(aws_sdk_cloudwatch, [&rule]);
        assert_eq!(super::tags(&cloudwatch, ALARM).await.unwrap(), Tags::from([("team".into(), "shop".into())]));
    }
}
