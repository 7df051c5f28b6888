//! An ECS resource's tags (`ListTagsForResource`).

use aws_config::SdkConfig;
use opsbot_commands::error::GatewayResult;

use super::pages::{every_page, pair};
use crate::aws::gateways::client as make;
use crate::metrics::aws::AwsCalls;
use crate::notify::tags::Tags;

pub(super) fn client(config: &SdkConfig, calls: &AwsCalls) -> aws_sdk_ecs::Client {
    make!(aws_sdk_ecs, config, calls)
}

/// `arn`'s tags (one page: the API has no others); a tag without a value reads as an empty one.
pub(super) async fn tags(ecs: &aws_sdk_ecs::Client, arn: &str) -> GatewayResult<Tags> {
    every_page(arn, |_| async move {
        let out = ecs.list_tags_for_resource().resource_arn(arn).send().await;
        out.map(|out| (out.tags().iter().filter_map(|t| pair(t.key(), t.value())).collect(), None))
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::operation::list_tags_for_resource::{ListTagsForResourceError, ListTagsForResourceOutput};
    use aws_sdk_ecs::types::Tag;
    use aws_smithy_mocks::mock;
    use opsbot_commands::GatewayError;

    use super::*;
    use crate::aws::mocked_client;

    const SERVICE: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";

    #[tokio::test]
    async fn a_services_tags_are_read_by_its_arn() {
        let rule = mock!(aws_sdk_ecs::Client::list_tags_for_resource)
            .match_requests(|req| req.resource_arn() == Some(SERVICE))
            .then_output(|| {
                let tags = [Tag::builder().key("team").value("payments").build(), Tag::builder().key("pci").build()];
                ListTagsForResourceOutput::builder().set_tags(Some(tags.into())).build()
            });
        let ecs: aws_sdk_ecs::Client = mocked_client!(aws_sdk_ecs, [&rule]);
        let tags = super::tags(&ecs, SERVICE).await.unwrap();
        assert_eq!(tags, Tags::from([("pci".into(), String::new()), ("team".into(), "payments".into())]));
    }

    #[tokio::test]
    async fn a_denied_read_is_access_denied() {
        let denied = mock!(aws_sdk_ecs::Client::list_tags_for_resource).then_error(|| {
            ListTagsForResourceError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized to perform: ecs:ListTagsForResource")
                    .build(),
            )
        });
        let ecs: aws_sdk_ecs::Client = mocked_client!(aws_sdk_ecs, [&denied]);
        let err = super::tags(&ecs, SERVICE).await.unwrap_err();
        assert!(matches!(err, GatewayError::AccessDenied { .. }), "{err:?}");
    }
}
