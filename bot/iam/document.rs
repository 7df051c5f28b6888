//! The policy document: [`IamPolicy`] (statements in a fixed order), how
//! statements are added and merged without widening any action's resources,
//! and its two printed forms — a plain IAM policy document (any region and
//! account: `*`; partition `aws`) and a CloudFormation `AWS::IAM::Role`
//! `Policies` entry whose ARNs are `Fn::Sub` strings of the stack's
//! partition, region and account. Both are JSON (which YAML reads), actions
//! and resources sorted, so the output is stable to diff.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use super::arn::Arn;

/// The policy language version every statement here is written in.
const VERSION: &str = "2012-10-17";

/// An identity-based IAM policy: statements in a fixed order.
#[derive(Debug, Clone, PartialEq)]
pub struct IamPolicy {
    pub statements: Vec<Statement>,
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: String,
    pub actions: BTreeSet<&'static str>,
    pub resources: BTreeSet<Resource>,
    pub condition: Option<Value>,
}

/// What a statement applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    /// Every resource: only for actions AWS cannot scope, or targets no
    /// policy rule narrows.
    Any,
    Arn(Arn),
}

impl IamPolicy {
    /// One statement for the changes whose actions apply to the same
    /// resources (`ChangeDeployRestartRollback`): shorter, and no action gets
    /// a resource it did not have.
    pub(super) fn merge_changes(&mut self) {
        let mut merged: Vec<Statement> = Vec::new();
        for statement in self.statements.drain(..) {
            let same_scope = |s: &&mut Statement| {
                s.sid.starts_with("Change") && s.resources == statement.resources && s.condition == statement.condition
            };
            match merged.iter_mut().find(same_scope).filter(|_| statement.sid.starts_with("Change")) {
                Some(into) => {
                    into.sid.push_str(statement.sid.trim_start_matches("Change"));
                    into.actions.extend(statement.actions);
                }
                None => merged.push(statement),
            }
        }
        self.statements = merged;
    }

    /// Adds to the statement `sid` (same scope by construction), or a new one.
    pub(super) fn add(
        &mut self,
        sid: &str,
        actions: &[&'static str],
        resources: impl IntoIterator<Item = Resource>,
        condition: Option<Value>,
    ) {
        let at = match self.statements.iter().position(|s| s.sid == sid) {
            Some(at) => at,
            None => {
                let statement =
                    Statement { sid: sid.to_owned(), actions: BTreeSet::new(), resources: BTreeSet::new(), condition };
                self.statements.push(statement);
                self.statements.len() - 1
            }
        };
        let statement = &mut self.statements[at];
        statement.actions.extend(actions);
        statement.resources.extend(resources);
        // `*` covers every ARN: keep the statement readable.
        if statement.resources.contains(&Resource::Any) {
            statement.resources.retain(|r| *r == Resource::Any);
        }
    }

    /// Every action of every statement.
    pub fn actions(&self) -> BTreeSet<&'static str> {
        self.statements.iter().flat_map(|s| s.actions.iter().copied()).collect()
    }

    /// The statement named `sid`.
    pub fn statement(&self, sid: &str) -> Option<&Statement> {
        self.statements.iter().find(|s| s.sid == sid)
    }

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
