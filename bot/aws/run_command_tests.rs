//! Run Command mapping against documented SendCommand, ListCommands and
//! ListCommandInvocations shapes (moto has no ListCommandInvocations).

use aws_sdk_ssm::Client;
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::mocked_client;

const ID: &str = "0831e1a8-a1ac-4257-a1fd-c831bEXAMPLE";

fn sent(document: &str) -> String {
    format!(
        r#"{{"Command": {{"CommandId": "{ID}", "DocumentName": "{document}", "Status": "Pending",
        "RequestedDateTime": 1763812800.0, "TargetCount": 0, "CompletedCount": 0, "ErrorCount": 0}}}}"#
    )
}

const LISTED: &str = r#"{"Commands": [{"CommandId": "0831e1a8-a1ac-4257-a1fd-c831bEXAMPLE",
  "DocumentName": "AWS-RunShellScript", "Status": "Failed", "StatusDetails": "Failed",
  "TargetCount": 2, "CompletedCount": 2, "ErrorCount": 1, "DeliveryTimedOutCount": 0,
  "Targets": [{"Key": "tag:Environment", "Values": ["staging"]}]}]}"#;

const INVOCATIONS: &str = r#"{"CommandInvocations": [
  {"CommandId": "0831e1a8-a1ac-4257-a1fd-c831bEXAMPLE", "InstanceId": "i-0bbbbbbbbbbbbbbbb", "InstanceName": "",
   "DocumentName": "AWS-RunShellScript", "Status": "Failed", "StatusDetails": "Failed",
   "CommandPlugins": [{"Name": "aws:runShellScript", "Status": "Failed", "ResponseCode": 1,
                       "Output": "nginx: configuration file test failed\n"}]},
  {"CommandId": "0831e1a8-a1ac-4257-a1fd-c831bEXAMPLE", "InstanceId": "i-0aaaaaaaaaaaaaaaa", "InstanceName": "web-1",
   "DocumentName": "AWS-RunShellScript", "Status": "Success", "StatusDetails": "Success",
   "CommandPlugins": [{"Name": "aws:runShellScript", "Status": "Success", "ResponseCode": 0, "Output": "reloaded\n"}]}]}"#;

fn user() -> SlackUserId {
    SlackUserId::parse("U0DEV").unwrap()
}

#[tokio::test]
async fn a_tag_target_is_sent_as_targets_with_the_parameters_and_who_asked() {
    let send = mock!(Client::send_command)
        .match_requests(|req| {
            let target = &req.targets()[0];
            req.document_name() == Some("AWS-RunShellScript")
                && target.key() == Some("tag:Environment")
                && target.values() == ["staging".to_string()]
                && req.instance_ids().is_empty()
                && req.parameters().and_then(|p| p.get("commands")) == Some(&vec!["systemctl reload nginx".to_string()])
                && req.comment() == Some("opsbot, for U0DEV")
        })
        .sequence()
        .http_status(200, Some(sent("AWS-RunShellScript")))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&send]);
    let params = DocParams::parse(&["commands=systemctl reload nginx".to_string()]).unwrap();
    let document = DocumentName::parse("AWS-RunShellScript").unwrap();

    let started = AwsRunCommands::new(client)
        .send(&document, &Targets::parse("tag:Environment=staging").unwrap(), &params, &user())
        .await
        .unwrap();

    assert_eq!(started.id, ID);
}

#[tokio::test]
async fn instance_ids_are_sent_as_instance_ids() {
    let send = mock!(Client::send_command)
        .match_requests(|req| {
            req.instance_ids() == ["i-0aaaaaaaaaaaaaaaa".to_string(), "i-12345678".to_string()]
                && req.targets().is_empty()
        })
        .sequence()
        .http_status(200, Some(sent("AWS-RunShellScript")))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&send]);
    let targets = Targets::parse("i-0aaaaaaaaaaaaaaaa,i-12345678").unwrap();
    let document = DocumentName::parse("AWS-RunShellScript").unwrap();

    let started = AwsRunCommands::new(client).send(&document, &targets, &DocParams::default(), &user()).await;

    assert_eq!(started.unwrap().id, ID);
}

#[tokio::test]
async fn status_has_the_counts_and_every_instance_with_its_output_when_asked() {
    let listed = mock!(Client::list_commands)
        .match_requests(|req| req.command_id() == Some(ID))
        .sequence()
        .http_status(200, Some(LISTED.into()))
        .build();
    let invocations = mock!(Client::list_command_invocations)
        .match_requests(|req| req.command_id() == Some(ID) && req.details() == Some(true))
        .sequence()
        .http_status(200, Some(INVOCATIONS.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&listed, &invocations]);

    let run = AwsRunCommands::new(client).status(ID, true).await.unwrap();

    assert_eq!((run.status.clone(), run.targets, run.completed, run.errors), (RunStatus::Failed, 2, 2, 1));
    assert_eq!(run.document, "AWS-RunShellScript");
    let first = &run.invocations[0];
    assert_eq!(
        (first.instance.as_str(), first.instance_name.as_deref(), &first.status),
        ("i-0aaaaaaaaaaaaaaaa", Some("web-1"), &RunStatus::Success),
        "sorted by instance id"
    );
    assert_eq!(first.output.as_deref(), Some("reloaded\n"));
    assert_eq!(run.invocations[1].instance_name, None, "an empty name is no name");
    assert_eq!(run.invocations[1].output.as_deref(), Some("nginx: configuration file test failed\n"));
}

#[tokio::test]
async fn an_unknown_command_is_not_found() {
    let invalid = mock!(Client::list_commands)
        .sequence()
        .http_status(400, Some(r#"{"__type": "InvalidCommandId", "Message": ""}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&invalid]);

    let err = AwsRunCommands::new(client).status(ID, false).await.unwrap_err();

    assert_eq!(err.to_string(), format!("command `{ID}` was not found"));
}

/// DescribeInstanceInformation as documented: one instance online, one whose agent stopped answering.
const INSTANCES: &str = r#"{"InstanceInformationList": [
  {"InstanceId": "i-0bbbbbbbbbbbbbbbb", "PingStatus": "ConnectionLost", "ResourceType": "EC2Instance",
   "PlatformType": "Linux", "AgentVersion": "3.3.40.0", "ComputerName": "web-2"},
  {"InstanceId": "i-0aaaaaaaaaaaaaaaa", "PingStatus": "Online", "ResourceType": "EC2Instance",
   "PlatformType": "Linux", "AgentVersion": "3.3.40.0", "ComputerName": "web-1"}]}"#;

#[tokio::test]
async fn a_tag_is_resolved_by_ssm_filters_to_instances_sorted_with_their_ping_status() {
    let describe = mock!(Client::describe_instance_information)
        .match_requests(|req| {
            let filter = &req.filters()[0];
            filter.key() == "tag:Role" && filter.values() == ["web".to_string()]
        })
        .sequence()
        .http_status(200, Some(INSTANCES.into()))
        .build();
    let by_id = mock!(Client::describe_instance_information)
        .match_requests(|req| req.filters()[0].key() == "InstanceIds")
        .sequence()
        .http_status(200, Some(r#"{"InstanceInformationList": []}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&describe, &by_id]);
    let commands = AwsRunCommands::new(client);

    let found = commands.instances(&Targets::parse("tag:Role=web").unwrap()).await.unwrap();
    let unknown = commands.instances(&Targets::parse("i-0cccccccccccccccc").unwrap()).await.unwrap();

    let found: Vec<(&str, bool)> = found.iter().map(|i| (i.id.as_str(), i.online())).collect();
    assert_eq!(found, [("i-0aaaaaaaaaaaaaaaa", true), ("i-0bbbbbbbbbbbbbbbb", false)]);
    assert!(unknown.is_empty());
}

#[tokio::test]
async fn commands_in_progress_are_listed_by_document_and_status_with_where_they_were_sent() {
    let pending = mock!(Client::list_commands)
        .match_requests(|req| {
            let filters: Vec<(&str, &str)> = req.filters().iter().map(|f| (f.key().as_str(), f.value())).collect();
            filters == [("DocumentName", "AWS-RunShellScript"), ("Status", "Pending")]
        })
        .sequence()
        .http_status(
            200,
            Some(
                r#"{"Commands": [{"CommandId": "c-ids", "DocumentName": "AWS-RunShellScript", "Status": "Pending",
                   "InstanceIds": ["i-0aaaaaaaaaaaaaaaa"], "Targets": []}]}"#
                    .into(),
            ),
        )
        .build();
    let in_progress = mock!(Client::list_commands)
        .match_requests(|req| req.filters().iter().any(|f| f.value() == "InProgress"))
        .sequence()
        .http_status(
            200,
            Some(
                r#"{"Commands": [{"CommandId": "c-tag", "DocumentName": "AWS-RunShellScript", "Status": "InProgress",
                   "InstanceIds": [], "Targets": [{"Key": "tag:Environment", "Values": ["staging"]}]}]}"#
                    .into(),
            ),
        )
        .build();
    let client: Client = mocked_client!(aws_sdk_ssm, [&pending, &in_progress]);

    let running =
        AwsRunCommands::new(client).running(&DocumentName::parse("AWS-RunShellScript").unwrap()).await.unwrap();

    assert_eq!(
        running,
        [
            RunningCommand { id: "c-ids".into(), instances: vec!["i-0aaaaaaaaaaaaaaaa".into()], tag: None },
            RunningCommand {
                id: "c-tag".into(),
                instances: vec![],
                tag: Some(Targets::parse("tag:Environment=staging").unwrap())
            },
        ]
    );
}
