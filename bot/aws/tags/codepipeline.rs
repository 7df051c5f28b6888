//! A CodePipeline pipeline's tags (`ListTagsForResource`, every page).

use aws_config::SdkConfig;
use opsbot_commands::error::GatewayResult;

use super::pages::{every_page, pair};
use crate::aws::gateways::client as make;
use crate::metrics::aws::AwsCalls;
use crate::notify::tags::Tags;

pub(super) fn client(config: &SdkConfig, calls: &AwsCalls) -> aws_sdk_codepipeline::Client {
    make!(aws_sdk_codepipeline, config, calls)
}

/// `arn`'s tags, from every page.
pub(super) async fn tags(pipelines: &aws_sdk_codepipeline::Client, arn: &str) -> GatewayResult<Tags> {
    every_page(arn, |next| async move {
        let page = pipelines.list_tags_for_resource().resource_arn(arn).set_next_token(next).send().await;
        page.map(|page| {
            let tags = page.tags().iter().filter_map(|t| pair(Some(t.key()), Some(t.value()))).collect();
            (tags, page.next_token().map(str::to_owned))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_codepipeline::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_codepipeline::types::Tag;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::aws::mocked_client;

    const PIPELINE: &str = "arn:aws:codepipeline:eu-west-1:111122223333:storefront-web";

    #[tokio::test]
    async fn a_pipelines_tags_are_read_from_every_page() {
        let first = mock!(aws_sdk_codepipeline::Client::list_tags_for_resource)
            .match_requests(|req| req.resource_arn() == Some(PIPELINE) && req.next_token().is_none())
            .then_output(|| {
                let tag = Tag::builder().key("team").value("web").build().unwrap();
                ListTagsForResourceOutput::builder().tags(tag).next_token("page-2").build()
            });
        let second = mock!(aws_sdk_codepipeline::Client::list_tags_for_resource)
            .match_requests(|req| req.next_token() == Some("page-2"))
            .then_output(|| {
                let tag = Tag::builder().key("tier").value("1").build().unwrap();
                ListTagsForResourceOutput::builder().tags(tag).build()
            });
        let pipelines: aws_sdk_codepipeline::Client = mocked_client!(aws_sdk_codepipeline, [&first, &second]);
        let tags = super::tags(&pipelines, PIPELINE).await.unwrap();
        assert_eq!(tags, Tags::from([("team".into(), "web".into()), ("tier".into(), "1".into())]));
    }
}
