use opsbot_commands::cmd::ENTRIES;
use serde_json::json;

use super::*;

fn policy(yaml: &str, principal: Principal) -> Result<IamPolicy, IamError> {
    let settings = Settings::from_test_yaml(yaml).expect("the test config loads");
    IamPolicy::for_settings(&settings, &Options { principal, store_init: false, account: None })
}

fn task(yaml: &str) -> IamPolicy {
    policy(yaml, Principal::Task).unwrap()
}

fn arns(policy: &IamPolicy, sid: &str) -> Vec<String> {
    let statement = policy.statement(sid).unwrap_or_else(|| panic!("no {sid} in {}", policy.to_json()));
    statement
        .resources
        .iter()
        .map(|r| match r {
            Resource::Any => "*".to_owned(),
            Resource::Arn(arn) => arn.render("aws", "*", "*"),
        })
        .collect()
}

const DEVS: &str = "policies:\n  roles:\n    devs: { everyone: true }\n  rules:\n";

#[test]
fn every_command_says_what_it_needs_in_aws() {
    for entry in ENTRIES {
        let needs =
            needs(entry.spec.name).unwrap_or_else(|| panic!("`{}`: add it to iam/commands.rs", entry.spec.name));
        assert_eq!(
            !needs.change.is_empty(),
            entry.spec.changes,
            "`{}`: a change has actions of its own, a read none",
            entry.spec.name
        );
    }
}

#[test]
fn without_a_policy_the_bot_may_only_read_and_no_action_has_a_wildcard() {
    let built_in = task("store:\n  path: x.db\n");
    let actions = built_in.actions();
    assert!(actions.contains("codepipeline:ListPipelines") && actions.contains("ssm:GetParameterHistory"));
    for change in ["ecs:UpdateService", "ssm:PutParameter", "codepipeline:StartPipelineExecution", "ssm:SendCommand"] {
        assert!(!actions.contains(change), "{change}: the built-in policy allows no change");
    }
    assert!(built_in.statement("Store").is_none(), "SQLite needs no AWS permission");
    assert!(actions.iter().all(|a| !a.contains('*')), "{actions:?}");
    assert!(!actions.iter().any(|a| a.starts_with("kms:")), "nothing decrypts or encrypts");
}

#[test]
fn the_store_and_queues_are_named_by_their_arns() {
    let yaml = "store:\n  dynamodb: { table: opsbot-prod }\nnotifications:\n  default_channel: C0OPS\n  sqs_queues: [https://sqs.eu-west-1.amazonaws.com/111122223333/opsbot-events]\n";
    let p = task(yaml);
    assert_eq!(
        arns(&p, "Store"),
        ["arn:aws:dynamodb:*:*:table/opsbot-prod", "arn:aws:dynamodb:*:*:table/opsbot-prod/index/*"]
    );
    assert_eq!(arns(&p, "NotificationQueue"), ["arn:aws:sqs:eu-west-1:111122223333:opsbot-events"]);
    let store = &p.statement("Store").unwrap().actions;
    assert!(store.contains("dynamodb:ConditionCheckItem") && !store.contains("dynamodb:CreateTable"), "{store:?}");
    let settings = Settings::from_test_yaml(yaml).unwrap();
    let init =
        IamPolicy::for_settings(&settings, &Options { principal: Principal::Task, store_init: true, account: None })
            .unwrap();
    assert!(init.statement("StoreInit").unwrap().actions.contains("dynamodb:UpdateTimeToLive"));
}

#[test]
fn a_change_no_rule_allows_gets_no_permission_and_allowed_ones_are_narrowed_by_their_rules() {
    let yaml = format!(
        "{DEVS}    - allow: [param set]\n      to: devs\n      where: {{ name: \"^/shop/staging/\" }}\n    - allow: [scale]\n      to: devs\n      where: {{ service: \"^staging/(web|api)$\" }}\n    - allow: [pipeline start]\n      to: devs\n      where: {{ pipeline: \"storefront\" }}\n"
    );
    let p = task(&yaml);
    assert_eq!(arns(&p, "ChangeParamSet"), ["arn:aws:ssm:*:*:parameter/shop/staging/*"]);
    assert_eq!(arns(&p, "ChangeScale"), ["arn:aws:ecs:*:*:service/staging/*"]);
    assert!(p.to_json().find("\"Sid\"") < p.to_json().find("\"Action\""), "keys in IAM's usual order");
    assert_eq!(arns(&p, "ChangePipelineStart"), ["*"], "an unanchored pattern cannot be narrowed");
    assert!(p.statement("ChangeDeploy").is_none() && !p.actions().contains("ecs:RegisterTaskDefinition"));
    assert!(!p.actions().contains("ssm:SendCommand"), "`run` is allowed by no rule");
    assert!(
        !p.actions().contains("codepipeline:ListPipelines"),
        "nor is `pipelines`: reads are sized to the policy too"
    );
    let kms = p.statement("SecureStringKeys").expect("param set may write a SecureString");
    assert!(kms.actions.contains("kms:Encrypt") && !kms.actions.contains("kms:Decrypt"), "only rollback decrypts");
    assert_eq!(kms.condition, Some(json!({"StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}})));
    assert!(p.actions().contains("ssm:DescribeParameters"), "param set keeps a parameter's type and key");
}

#[test]
fn declared_parameters_get_permissions_only_when_configured_and_the_diff_may_decrypt() {
    assert!(!task("store:\n  path: x.db\n").actions().contains("kms:Decrypt"), "no environments: nothing to diff");
    let p = task("store:\n  path: x.db\nparams:\n  environments:\n    prod: { prefix: /shop/prod/, file: p.yaml }\n");
    assert!(p.actions().contains("ssm:GetParametersByPath") && p.actions().contains("ssm:DescribeParameters"));
    let kms = p.statement("SecureStringKeys").expect("params diff compares SecureStrings by hash");
    assert!(kms.actions.contains("kms:Decrypt") && !kms.actions.contains("kms:Encrypt"), "{:?}", kms.actions);
    assert!(!p.actions().contains("ssm:PutParameter"), "the built-in policy allows no `params apply`");
    assert!(p.actions().contains("ssm:ListTagsForResource"), "declared tags are compared");
    assert!(p.statement("DeclaredParameters").is_none(), "no S3 object named: {}", p.to_json());
}

#[test]
fn a_declared_file_in_s3_lets_the_bot_get_exactly_that_object_and_tags_may_be_applied() {
    let yaml = format!(
        "store:\n  path: x.db\nparams:\n  environments:\n    prod: {{ prefix: /shop/prod/, url: \"s3://shop-config/params/prod.yaml\" }}\n    qa: {{ prefix: /shop/qa/, file: qa.yaml }}\n{DEVS}    - allow: [params apply]\n      to: devs\n"
    );
    let p = task(&yaml);
    assert_eq!(arns(&p, "DeclaredParameters"), ["arn:aws:s3:::shop-config/params/prod.yaml"]);
    let actions: Vec<&str> = p.statement("DeclaredParameters").unwrap().actions.iter().copied().collect();
    assert_eq!(actions, ["s3:GetObject"]);
    for action in ["ssm:PutParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"] {
        assert!(p.actions().contains(action), "{action}: {}", p.to_json());
    }
}

#[test]
fn a_followed_rollout_may_read_why_its_tasks_stopped_without_notifications_and_as_the_changes_role() {
    let yaml = format!(
        "aws:\n  assume_role: {{ role_arn: \"arn:aws:iam::123456789012:role/opsbot-changes\" }}\n{DEVS}    - allow: [restart]\n      to: devs\n"
    );
    assert!(task(&yaml).statement("ReadWhyItFailed").is_none(), "no notifications configured");
    let changes = policy(&yaml, Principal::Changes).unwrap();
    let reads = &changes.statement("ReadEcsServices").expect("the rollout's reads").actions;
    assert!(reads.contains("ecs:ListTasks") && reads.contains("ecs:DescribeTasks"), "{reads:?}");
}

#[test]
fn with_a_role_to_assume_changes_go_to_that_role_and_the_bot_may_only_assume_it() {
    let yaml = format!(
        "aws:\n  assume_role: {{ role_arn: \"arn:aws:iam::123456789012:role/opsbot-changes\" }}\n{DEVS}    - allow: [deploy, param rollback]\n      to: devs\n"
    );
    let bot = task(&yaml);
    assert_eq!(arns(&bot, "AssumeRoles"), ["arn:aws:iam::123456789012:role/opsbot-changes"]);
    assert!(!bot.actions().contains("ecs:UpdateService") && !bot.actions().contains("iam:PassRole"));
    assert!(bot.actions().contains("ecs:DescribeServices"), "plans are made with the bot's own credentials");
    let changes = policy(&yaml, Principal::Changes).unwrap();
    for action in ["ecs:UpdateService", "ecs:RegisterTaskDefinition", "iam:PassRole", "ecs:TagResource", "kms:Decrypt"]
    {
        assert!(changes.actions().contains(action), "{action} in {}", changes.to_json());
    }
    assert!(!changes.actions().contains("codepipeline:ListPipelines"), "reads-only commands stay with the bot");
    assert!(changes.statement("AssumeRoles").is_none() && changes.statement("Store").is_none());
    let err = policy("store:\n  path: x.db\n", Principal::Changes).unwrap_err().to_string();
    assert!(err.contains("no `aws.assume_role`"), "{err}");
}

const ACCOUNTS: &str = "aws:
  accounts:
    prod: { role_arn: \"arn:aws:iam::111111111111:role/opsbot\" }
    staging: { role_arn: \"arn:aws:iam::222222222222:role/opsbot\" }
";

#[test]
fn with_accounts_the_bots_role_may_assume_each_accounts_role_with_a_source_identity() {
    let bot = task(ACCOUNTS);
    assert_eq!(
        arns(&bot, "AssumeRoles"),
        ["arn:aws:iam::111111111111:role/opsbot", "arn:aws:iam::222222222222:role/opsbot"]
    );
    assert!(
        bot.statement("AssumeRoles").unwrap().actions.contains("sts:SetSourceIdentity"),
        "changes name their requester"
    );
}

#[test]
fn an_accounts_role_needs_the_reads_and_the_changes_the_policy_allows_and_nothing_of_the_bots_own() {
    let yaml = format!("{ACCOUNTS}{DEVS}    - allow: [deploy]\n      to: devs\n");
    let settings = Settings::from_test_yaml(&yaml).unwrap();
    let options = Options { principal: Principal::Task, store_init: false, account: Some("prod".into()) };
    let prod = IamPolicy::for_settings(&settings, &options).unwrap();
    for action in ["ecs:UpdateService", "ecs:RegisterTaskDefinition", "ecs:DescribeServices"] {
        assert!(prod.actions().contains(action), "{action} in {}", prod.to_json());
    }
    assert!(!prod.actions().contains("codepipeline:ListPipelines"), "no rule allows reading pipelines");
    assert!(prod.statement("AssumeRoles").is_none() && prod.statement("Store").is_none());

    let options = Options { account: Some("prdo".into()), ..options };
    let err = IamPolicy::for_settings(&settings, &options).unwrap_err().to_string();
    assert!(err.contains("`--account prdo`") && err.contains("prod, staging"), "{err}");
}

#[test]
fn json_names_any_region_and_account_and_cloudformation_substitutes_the_stacks() {
    let p = task("store:\n  dynamodb: { table: opsbot }\n");
    let doc: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    let store = doc["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "Store").unwrap().clone();
    assert_eq!(store["Resource"][0], "arn:aws:dynamodb:*:*:table/opsbot");
    let cfn: serde_json::Value = serde_json::from_str(&p.to_cloudformation("opsbot-task")).unwrap();
    assert_eq!(cfn["PolicyName"], "opsbot-task");
    let store =
        cfn["PolicyDocument"]["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "Store").unwrap().clone();
    assert_eq!(
        store["Resource"][0],
        json!({"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/opsbot"})
    );
    let role = task("aws:\n  assume_role: { role_arn: \"arn:aws:iam::123456789012:role/changes\" }\n");
    let cfn: serde_json::Value = serde_json::from_str(&role.to_cloudformation("opsbot-task")).unwrap();
    let assume = cfn["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "AssumeRoles")
        .unwrap()
        .clone();
    assert_eq!(assume["Resource"][0], "arn:aws:iam::123456789012:role/changes", "nothing to substitute");
    let list = doc["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "ReadPipelines").unwrap().clone();
    assert_eq!(list["Resource"], "*", "list calls cannot be scoped");
}

#[test]
fn changes_on_the_same_resources_share_one_statement_and_others_keep_theirs() {
    let yaml = format!(
        "{DEVS}    - allow: [restart, rollback]\n      to: devs\n      where: {{ service: \"^prod/\" }}\n    - allow: [scale]\n      to: devs\n"
    );
    let p = task(&yaml);
    assert_eq!(arns(&p, "ChangeRestartRollback"), ["arn:aws:ecs:*:*:service/prod/*"]);
    assert_eq!(arns(&p, "ChangeScale"), ["*"], "scale is open to any service: not merged into prod's");
}

#[test]
fn a_route_by_tags_lets_the_bot_and_each_account_read_tags_and_without_one_nothing_reads_them() {
    let route = "notifications:\n  default_channel: C0OPS\n  routes:\n    - { match: { tags: { team: payments } }, channel: C0PAY }\n";
    let bot = task(&format!("{ACCOUNTS}{route}"));
    let reads = &bot.statement("NotificationTags").expect("tag reads").actions;
    for action in ["ecs:ListTagsForResource", "cloudwatch:ListTagsForResource", "codepipeline:ListTagsForResource"] {
        assert!(reads.contains(action), "{action}");
    }
    let settings = Settings::from_test_yaml(&format!("{ACCOUNTS}{route}")).unwrap();
    let options = Options { principal: Principal::Task, store_init: false, account: Some("prod".into()) };
    assert!(IamPolicy::for_settings(&settings, &options).unwrap().statement("NotificationTags").is_some());
    assert!(task(ACCOUNTS).statement("NotificationTags").is_none());
}

#[test]
fn with_notifications_each_accounts_role_may_read_why_its_builds_deployments_and_automations_failed() {
    let notified = "notifications:\n  default_channel: C0OPS\n  sqs_queues: [\"https://sqs.us-east-1.amazonaws.com/123456789012/opsbot\"]\n";
    let options = Options { principal: Principal::Task, store_init: false, account: Some("prod".into()) };
    let prod = |yaml: &str| IamPolicy::for_settings(&Settings::from_test_yaml(yaml).unwrap(), &options).unwrap();
    let why = prod(&format!("{ACCOUNTS}{notified}"));
    let actions = &why.statement("ReadWhyItFailed").expect("why-it-failed reads in prod").actions;
    for action in ["codebuild:BatchGetBuilds", "logs:GetLogEvents", "ecs:ListTasks", "ssm:GetAutomationExecution"] {
        assert!(actions.contains(action), "{action}");
    }
    assert!(task(&format!("{ACCOUNTS}{notified}")).statement("ReadWhyItFailed").is_some(), "and the bot's own");
    assert!(prod(ACCOUNTS).statement("ReadWhyItFailed").is_none(), "without notifications nothing fails to explain");
}

#[test]
fn a_policy_too_large_for_iam_is_printed_with_a_warning_saying_where_it_can_go() {
    let teams = |n: usize| {
        let rules: String = (0..n)
            .map(|i| format!("    - {{ allow: [scale], to: devs, where: {{ service: \"^team-{i:03}-cluster/\" }} }}\n"))
            .collect();
        Settings::from_test_yaml(&format!("{DEVS}{rules}")).unwrap()
    };
    let options = || Options { principal: Principal::Task, store_init: false, account: None };
    let (_, small) = print(&teams(2), options(), Format::Json).unwrap();
    assert_eq!(small, None, "the usual policy fits anywhere");
    let (_, managed) = print(&teams(150), options(), Format::Json).unwrap();
    assert!(managed.unwrap().starts_with("note: this policy is"), "over a managed policy's 6,144");
    let (text, inline) = print(&teams(260), options(), Format::Json).unwrap();
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    let inline = inline.unwrap();
    assert!(chars > 10_240 && inline.starts_with(&format!("warning: this policy is {chars} characters")), "{inline}");
}
