//! The two ways [`IamPolicy`] is printed: a plain IAM policy document (any
//! region and account: `*`; partition `aws`) and a CloudFormation
//! `AWS::IAM::Role` `Policies` entry whose ARNs are `Fn::Sub` strings of the
//! stack's partition, region and account. Both are JSON (which YAML reads),
//! with actions and resources sorted, so the output is stable to diff.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use super::{IamPolicy, Resource};

/// The policy language version every statement here is written in.
const VERSION: &str = "2012-10-17";

impl IamPolicy {
    /// The IAM policy document, pretty-printed.
    pub fn to_json(&self) -> String {
        let document = self.document(|resource| match resource {
            Resource::Any => json!("*"),
            Resource::Arn(arn) => json!(arn.render("aws", "*", "*")),
        });
        serde_json::to_string_pretty(&document).expect("a policy always serializes")
    }

    /// `{"PolicyName": name, "PolicyDocument": …}` for a role's `Policies`,
    /// pretty-printed.
    pub fn to_cloudformation(&self, name: &str) -> String {
        let document = self.document(|resource| match resource {
            Resource::Any => json!("*"),
            Resource::Arn(arn) => {
                let text = arn.render("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}");
                // An ARN the config spells out in full (a role to assume) needs no substitution.
                if text.contains("${") { json!({"Fn::Sub": text}) } else { json!(text) }
            }
        });
        let entry = Entry { policy_name: name, policy_document: document };
        serde_json::to_string_pretty(&entry).expect("a policy always serializes")
    }

    fn document(&self, resource: impl Fn(&Resource) -> Value) -> Document<'_> {
        let statements = self
            .statements
            .iter()
            .map(|s| {
                let resources: Vec<Value> = s.resources.iter().map(&resource).collect();
                let resource = if resources == [json!("*")] { json!("*") } else { json!(resources) };
                Printed { sid: &s.sid, effect: "Allow", action: &s.actions, resource, condition: s.condition.as_ref() }
            })
            .collect();
        Document { version: VERSION, statement: statements }
    }
}

/// A role's `Policies` entry.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry<'a> {
    policy_name: &'a str,
    policy_document: Document<'a>,
}

/// The document as IAM writes it, keys in its usual order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    version: &'static str,
    statement: Vec<Printed<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Printed<'a> {
    sid: &'a str,
    effect: &'static str,
    action: &'a BTreeSet<&'static str>,
    resource: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'a Value>,
}
