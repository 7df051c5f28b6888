//! What the three `ListTagsForResource` readers share: following every page,
//! collecting the tags into a map, and mapping a failed read to a
//! `GatewayError`. Each reader keeps its own SDK call (see `tags.rs`).

use opsbot_commands::error::GatewayResult;

use crate::aws::errors::OrGateway;
use crate::notify::tags::Tags;

/// One page of a resource's tags, as (key, value) pairs, and the token of
/// the next page (`None`: the last; always, for an API without pages).
type Page = (Vec<(String, String)>, Option<String>);

/// `arn`'s tags from every page `page` reads, given the token of the page
/// before it (`None` for the first).
pub(super) async fn every_page<F, Fut, E>(arn: &str, mut page: F) -> GatewayResult<Tags>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page, E>>,
    Result<Page, E>: OrGateway<Page>,
{
    let (mut tags, mut next) = (Tags::new(), None);
    loop {
        let (found, token) = page(next).await.or_gateway(&format!("the tags of `{arn}`"))?;
        tags.extend(found);
        next = token;
        if next.is_none() {
            return Ok(tags);
        }
    }
}

/// A tag as a (key, value) pair: none without a key, and a missing value
/// reads as an empty one (the SDK types leave both optional for some APIs).
pub(super) fn pair(key: Option<&str>, value: Option<&str>) -> Option<(String, String)> {
    Some((key?.to_owned(), value.unwrap_or_default().to_owned()))
}
