//! Parameter writes against documented DescribeParameters, PutParameter and
//! GetParameter shapes: what a write keeps, and that a value never shows in
//! an error. (The emulator tests in `tests/aws_emulators.rs` check the same
//! against moto's real Parameter Store.)

use aws_sdk_ssm::Client;
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::mocked_client;

const SECRET: &str = "pR0d-7f#Kq9!vLx2";

fn name() -> ParamName {
    ParamName::parse("/shop/prod/db-password").unwrap()
}

fn user() -> SlackUserId {
    SlackUserId::parse("U0DEV").unwrap()
}

fn secure() -> ParamSettings {
    ParamSettings {
        kind: ParamKind::SecureString,
        key_id: Some("alias/shop-prod".into()),
        tier: Some("Advanced".into()),
        data_type: Some("text".into()),
        description: Some("DB password".into()),
        allowed_pattern: None,
    }
}

#[tokio::test]
async fn settings_come_from_describe_parameters_filtered_by_exact_name() {
    let described = mock!(Client::describe_parameters)
        .match_requests(|req| {
            let filter = &req.parameter_filters()[0];
            filter.key() == "Name" && filter.option() == Some("Equals") && filter.values() == ["/shop/prod/db-password"]
        })
        .sequence()
        .http_status(200, Some(r#"{"Parameters": [], "NextToken": "t1"}"#.into()))
        .http_status(
            200,
            Some(
                r#"{"Parameters": [{"Name": "/shop/prod/db-password", "Type": "SecureString",
                "KeyId": "alias/shop-prod", "Version": 7, "Tier": "Advanced", "DataType": "text",
                "Description": "DB password", "LastModifiedDate": 1763812800.0}]}"#
                    .into(),
            ),
        )
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&described]);

    let settings = AwsParamChanges::new(client).settings(&name()).await.unwrap();

    assert_eq!(settings, secure(), "found on the second page, after an empty one");
}

#[tokio::test]
async fn a_parameter_describe_does_not_find_is_not_found() {
    let none =
        mock!(Client::describe_parameters).sequence().http_status(200, Some(r#"{"Parameters": []}"#.into())).build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&none]);

    let err = AwsParamChanges::new(client).settings(&name()).await.unwrap_err();

    assert_eq!(err.to_string(), "parameter `/shop/prod/db-password` was not found");
}

#[tokio::test]
async fn a_write_keeps_type_key_tier_data_type_and_description() {
    let put = mock!(Client::put_parameter)
        .match_requests(|req| {
            req.value() == Some(SECRET)
                && req.r#type().map(|t| t.as_str()) == Some("SecureString")
                && req.key_id() == Some("alias/shop-prod")
                && req.tier().map(|t| t.as_str()) == Some("Advanced")
                && req.data_type() == Some("text")
                && req.description() == Some("DB password")
                && req.overwrite() == Some(true)
        })
        .sequence()
        .http_status(200, Some(r#"{"Version": 8, "Tier": "Advanced"}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&put]);

    let write = AwsParamChanges::new(client).put(&name(), &NewValue::new(SECRET), &secure(), &user()).await.unwrap();

    assert_eq!(write.version, 8);
}

#[tokio::test]
async fn a_plain_parameter_is_written_without_a_key() {
    let put = mock!(Client::put_parameter)
        .match_requests(|req| req.key_id().is_none() && req.r#type().map(|t| t.as_str()) == Some("StringList"))
        .sequence()
        .http_status(200, Some(r#"{"Version": 3}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&put]);
    let keep = ParamSettings { kind: ParamKind::StringList, key_id: Some("stray".into()), ..secure() };

    let write = AwsParamChanges::new(client).put(&name(), &NewValue::new("a,b"), &keep, &user()).await;

    assert_eq!(write.unwrap().version, 3);
}

#[tokio::test]
async fn an_error_that_quotes_the_value_is_scrubbed_before_anyone_sees_it() {
    let refused = mock!(Client::put_parameter)
        .sequence()
        .http_status(
            400,
            Some(format!(
                r#"{{"__type": "ValidationException", "message": "Value '{SECRET}' at 'value' failed to satisfy constraint"}}"#
            )),
        )
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&refused]);

    let err = AwsParamChanges::new(client).put(&name(), &NewValue::new(SECRET), &secure(), &user()).await.unwrap_err();

    let mut seen = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        seen.push_str(&format!(" {cause} {cause:?}"));
        source = cause.source();
    }
    assert!(seen.contains("failed to satisfy constraint"), "{seen}");
    assert!(!seen.contains(SECRET), "{seen}");
}

#[tokio::test]
async fn restore_reads_the_old_version_decrypted_and_writes_it_back() {
    let old = mock!(Client::get_parameter)
        .match_requests(|req| req.name() == Some("/shop/prod/db-password:5") && req.with_decryption() == Some(true))
        .sequence()
        .http_status(
            200,
            Some(format!(
                r#"{{"Parameter": {{"Name": "/shop/prod/db-password", "Type": "SecureString", "Value": "{SECRET}",
                "Version": 5, "Selector": ":5"}}}}"#
            )),
        )
        .build();
    let put = mock!(Client::put_parameter)
        .match_requests(|req| req.value() == Some(SECRET) && req.key_id() == Some("alias/shop-prod"))
        .sequence()
        .http_status(200, Some(r#"{"Version": 8}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&old, &put]);

    let write = AwsParamChanges::new(client).restore(&name(), 5, &secure(), &user()).await.unwrap();

    assert_eq!(write.version, 8);
}
