//! The two ways [`IamPolicy`] is printed: a plain IAM policy document (any
//! region and account: `*`; partition `aws`) and a CloudFormation
//! `AWS::IAM::Role` `Policies` entry whose ARNs are `Fn::Sub` strings of the
//! stack's partition, region and account. Both are JSON (which YAML reads),
//! with actions and resources sorted, so the output is stable to diff.

use serde_json::{Map, Value, json};

use super::{IamPolicy, Resource};

/// The policy language version every statement here is written in.
const VERSION: &str = "2012-10-17";

impl IamPolicy {
    /// The IAM policy document.
    pub fn to_json(&self) -> Value {
        self.document(|resource| match resource {
            Resource::Any => json!("*"),
            Resource::Arn(arn) => json!(arn.render("aws", "*", "*")),
        })
    }

    /// `{"PolicyName": name, "PolicyDocument": …}` for a role's `Policies`.
    pub fn to_cloudformation(&self, name: &str) -> Value {
        let document = self.document(|resource| match resource {
            Resource::Any => json!("*"),
            Resource::Arn(arn) => {
                json!({"Fn::Sub": arn.render("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}")})
            }
        });
        json!({"PolicyName": name, "PolicyDocument": document})
    }

    fn document(&self, resource: impl Fn(&Resource) -> Value) -> Value {
        let statements: Vec<Value> = self
            .statements
            .iter()
            .map(|s| {
                let mut out = Map::new();
                out.insert("Sid".into(), json!(s.sid));
                out.insert("Effect".into(), json!("Allow"));
                out.insert("Action".into(), json!(s.actions));
                let resources: Vec<Value> = s.resources.iter().map(&resource).collect();
                out.insert("Resource".into(), if resources == [json!("*")] { json!("*") } else { json!(resources) });
                if let Some(condition) = &s.condition {
                    out.insert("Condition".into(), condition.clone());
                }
                Value::Object(out)
            })
            .collect();
        json!({"Version": VERSION, "Statement": statements})
    }
}
