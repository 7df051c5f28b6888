//! Preflight for `run` and `automation run`: what SSM says about a run before
//! it is sent. Their plans call these, so the checks happen when the plan is
//! made and again right before acting (the lifecycle plans again then): a run
//! that became unsafe while it waited for approval is refused with the
//! reason, not sent.
//!
//! - [`document`]: the document exists, is of the kind the command runs, the
//!   parameters given are ones it declares, and every required one is given.
//! - [`targets`]: which SSM-managed instances `on …` names; none online is
//!   refused, saying what was looked for.
//! - [`command_in_progress`], [`automation_in_progress`]: another run of the
//!   same document on the same targets that has not finished.
//!
//! [`verdict`] sorts what they found: a run of the same document in progress
//! is [`Verdict::Unsafe`], the one check `--force` (where a policy allows it)
//! goes past; a document, parameters or targets that do not fit are
//! [`Verdict::Invalid`], never forced past (a forced run would only fail in
//! SSM, or reach nothing).

use crate::change::Verdict;
use crate::error::GatewayResult;
use crate::mrkdwn::esc;
use crate::ports::{DocumentKind, Gateways, ManagedInstance, RunningAutomation};
use crate::spec::suggest;
use crate::values::ssm::{DocParams, DocumentName, Targets};

/// Instance ids a plan names; the rest are counted.
const NAMED: usize = 3;

/// The verdict of a preflight that found `invalid` (the document, its
/// parameters, the targets) and `in_progress` (another run).
pub fn verdict(mut invalid: Vec<String>, in_progress: Option<String>) -> Verdict {
    match (invalid.is_empty(), in_progress) {
        (true, None) => Verdict::Ready,
        (true, Some(busy)) => Verdict::Unsafe(vec![busy]),
        (false, busy) => {
            invalid.extend(busy);
            Verdict::Invalid(invalid)
        }
    }
}

/// The targets in words: "instances tagged `Environment=staging`".
pub fn targets_words(targets: &Targets) -> String {
    match targets {
        Targets::Tag { key, values } => format!("instances tagged `{}={}`", esc(key), esc(&values.join(","))),
        Targets::Instances(ids) => format!("`{}`", ids.join("`, `")),
    }
}

/// "a Command", "an Automation", "a Session".
fn kind_name(kind: &DocumentKind) -> String {
    match kind {
        DocumentKind::Command => "a Command".into(),
        DocumentKind::Automation => "an Automation".into(),
        DocumentKind::Other(raw) => format!("a {}", esc(raw)),
    }
}

fn code_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(|n| format!("`{}`", esc(n))).collect::<Vec<_>>().join(", ")
}

/// Why `parameters` cannot be sent to `name` as a `kind` document (none: they can).
pub async fn document(
    aws: &Gateways,
    name: &DocumentName,
    kind: DocumentKind,
    parameters: &DocParams,
) -> GatewayResult<Vec<String>> {
    let Some(doc) = aws.documents.document(name).await? else {
        return Ok(vec![format!(
            "there is no SSM document `{}` in this account and region (names are case-sensitive; \
             `aws ssm list-documents` lists them)",
            esc(name.as_str())
        )]);
    };
    if doc.kind != kind {
        return Ok(vec![format!(
            "`{}` is {} document, not {} one",
            esc(name.as_str()),
            kind_name(&doc.kind),
            kind_name(&kind)
        )]);
    }
    let declared: Vec<&str> = doc.parameters.iter().map(|p| p.name.as_str()).collect();
    let mut reasons: Vec<String> = parameters
        .0
        .iter()
        .filter(|(key, _)| !declared.contains(&key.as_str()))
        .map(|(key, _)| {
            let hint = match suggest(key, declared.iter().copied()).first() {
                Some(close) => format!("did you mean `{}`?", esc(close)),
                None if declared.is_empty() => "it takes none".to_owned(),
                None => format!("it takes {}", code_list(declared.iter().copied())),
            };
            format!("`{}` has no parameter `{}` — {hint}", esc(name.as_str()), esc(key))
        })
        .collect();
    let given = |p: &&crate::ports::DocumentParameter| parameters.0.iter().any(|(key, _)| *key == p.name);
    let missing: Vec<&str> =
        doc.parameters.iter().filter(|p| p.required && !given(p)).map(|p| p.name.as_str()).collect();
    if !missing.is_empty() {
        reasons.push(format!(
            "`{}` needs {} (no default value): add `Name=value` for each",
            esc(name.as_str()),
            code_list(missing)
        ));
    }
    Ok(reasons)
}

/// What `on …` resolves to: a plan line, the reasons it cannot run, and the
/// ids of the instances it would reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub lines: Vec<String>,
    pub reasons: Vec<String>,
    pub instances: Vec<String>,
}

/// Instance ids shown in a line: "`i-1`, `i-2`, `i-3`, +4 more".
fn named(ids: &[&str]) -> String {
    let mut text = code_list(ids.iter().take(NAMED).copied());
    if ids.len() > NAMED {
        text.push_str(&format!(", +{} more", ids.len() - NAMED));
    }
    text
}

fn offline_words(offline: &[&ManagedInstance]) -> String {
    offline.iter().map(|i| format!("`{}` ({})", esc(&i.id), esc(&i.ping))).collect::<Vec<_>>().join(", ")
}

/// Resolves `targets` to SSM-managed instances. Listed ids SSM does not
/// manage, or that are not online, are refused (the command could never
/// reach them); a tag is refused when it matches no instance online, and
/// warns about the ones that are not.
pub async fn targets(aws: &Gateways, targets: &Targets) -> GatewayResult<Resolved> {
    let found = aws.run_commands.instances(targets).await?;
    let ids: Vec<&str> = found.iter().map(|i| i.id.as_str()).collect();
    let offline: Vec<&ManagedInstance> = found.iter().filter(|i| !i.online()).collect();
    let mut resolved =
        Resolved { lines: Vec::new(), reasons: Vec::new(), instances: found.iter().map(|i| i.id.clone()).collect() };
    match targets {
        Targets::Instances(listed) => {
            let unknown: Vec<&str> = listed.iter().map(String::as_str).filter(|id| !ids.contains(id)).collect();
            if !unknown.is_empty() {
                resolved.reasons.push(format!(
                    "SSM does not manage {} — no such instance, or its SSM agent or instance profile is missing",
                    code_list(unknown)
                ));
            }
            if !offline.is_empty() {
                resolved.reasons.push(format!("not online in SSM: {}", offline_words(&offline)));
            }
        }
        Targets::Tag { .. } if found.is_empty() => {
            resolved.reasons.push(format!("no SSM-managed instance matches: looked for {}", targets_words(targets)));
        }
        Targets::Tag { .. } if offline.len() == found.len() => {
            resolved.reasons.push(format!(
                "none of the instances matching {} is online in SSM: {}",
                targets_words(targets),
                offline_words(&offline)
            ));
        }
        Targets::Tag { .. } if !offline.is_empty() => {
            resolved.lines.push(format!(
                ":warning: not online in SSM, so the command will not reach them: {}",
                offline_words(&offline)
            ));
        }
        Targets::Tag { .. } => {}
    }
    if !found.is_empty() {
        let s = if found.len() == 1 { "" } else { "s" };
        resolved.lines.insert(0, format!("Resolves to {} instance{s} ({})", found.len(), named(&ids)));
    }
    Ok(resolved)
}

/// Why not now, when a command of `document` that has not finished runs on
/// one of `instances`. A command sent to a tag is resolved the same way, so
/// overlap means a shared instance however either was addressed.
pub async fn command_in_progress(
    aws: &Gateways,
    document: &DocumentName,
    instances: &[String],
) -> GatewayResult<Option<String>> {
    for running in aws.run_commands.running(document).await? {
        let reached = match &running.tag {
            Some(tag) => aws.run_commands.instances(tag).await?.into_iter().map(|i| i.id).collect(),
            None => running.instances.clone(),
        };
        let shared: Vec<&str> =
            reached.iter().map(String::as_str).filter(|id| instances.iter().any(|i| i == id)).collect();
        if !shared.is_empty() {
            return Ok(Some(format!(
                "command `{}` of `{}` is still running on {} — wait for it to finish, or cancel it in SSM",
                esc(&running.id),
                esc(document.as_str()),
                named(&shared)
            )));
        }
    }
    Ok(None)
}

/// Why not now, when an execution of `document` that has not finished was
/// started with the same parameters: every parameter either sets has a value
/// in common with the other's (both unset counts as the same default).
pub async fn automation_in_progress(
    aws: &Gateways,
    document: &DocumentName,
    parameters: &DocParams,
) -> GatewayResult<Option<String>> {
    let running = aws.automations.running(document).await?;
    Ok(running.iter().find(|r| same_parameters(&r.parameters, parameters)).map(|r: &RunningAutomation| {
        format!(
            "execution `{}` of `{}` with the same parameters is still running — wait for it \
             (`automation status {}`) or stop it",
            esc(&r.id),
            esc(document.as_str()),
            esc(&r.id)
        )
    }))
}

fn same_parameters(a: &DocParams, b: &DocParams) -> bool {
    let values = |p: &DocParams, key: &str| -> Vec<String> {
        p.0.iter().filter(|(k, _)| k == key).flat_map(|(_, v)| v.clone()).collect()
    };
    let keys = a.0.iter().chain(&b.0).map(|(k, _)| k.as_str());
    keys.into_iter().all(|key| {
        let (x, y) = (values(a, key), values(b, key));
        (x.is_empty() && y.is_empty()) || x.iter().any(|v| y.contains(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(words: &[&str]) -> DocParams {
        DocParams::parse(&words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn runs_with_the_same_parameters_or_a_shared_list_value_overlap_and_others_do_not() {
        assert!(same_parameters(&params(&["InstanceId=i-1"]), &params(&["InstanceId=i-1"])));
        assert!(same_parameters(&params(&["InstanceId=i-1", "InstanceId=i-2"]), &params(&["InstanceId=i-2"])));
        assert!(same_parameters(&params(&[]), &params(&[])));
        assert!(!same_parameters(&params(&["InstanceId=i-1"]), &params(&["InstanceId=i-2"])));
        assert!(!same_parameters(&params(&["InstanceId=i-1"]), &params(&[])));
    }

    #[test]
    fn a_plan_names_three_instances_and_counts_the_rest() {
        assert_eq!(named(&["i-1", "i-2"]), "`i-1`, `i-2`");
        assert_eq!(named(&["i-1", "i-2", "i-3", "i-4", "i-5"]), "`i-1`, `i-2`, `i-3`, +2 more");
    }
}
