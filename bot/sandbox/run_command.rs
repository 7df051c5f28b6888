//! SSM Run Command in the sandbox: `send` resolves the targets to the
//! account's instances (a tag, or ids that must exist) and records when it
//! started; each instance takes a little longer than the one before, so a
//! look at the command shows them finishing one by one.

use std::time::Duration;

use async_trait::async_trait;
use opsbot_commands::ports::{
    CommandRun, Invocation, ManagedInstance, Receipt, RunCommands, RunStatus, RunningCommand, Started,
};
use opsbot_commands::values::SlackUserId;
use opsbot_commands::values::ssm::{DocParams, DocumentName, Targets};
use opsbot_commands::{GatewayError, GatewayResult};
use tokio::time::Instant;

use super::Sandbox;
use super::account::Account;
use super::ssm::{SimCommand, SimInvocation, SimSsm, command_output, knows_command};

/// Before this, an invocation is still pending delivery.
const DELIVERY: Duration = Duration::from_secs(1);

fn resolve(ssm: &SimSsm, targets: &Targets) -> GatewayResult<Vec<String>> {
    match targets {
        Targets::Tag { key, values } => Ok(ssm.tagged(key, values)),
        Targets::Instances(ids) => {
            let missing = ids.iter().find(|id| !ssm.instances.contains_key(*id));
            missing.map_or(Ok(ids.clone()), |id| Err(GatewayError::not_found(format!("instance `{id}`"))))
        }
    }
}

fn send(
    account: &mut Account,
    document: &DocumentName,
    targets: &Targets,
    parameters: &DocParams,
) -> GatewayResult<Started> {
    if !knows_command(document.as_str()) {
        return Err(GatewayError::not_found(format!("document `{document}`")));
    }
    let ssm = &mut account.ssm;
    let mut invocations = Vec::new();
    for (n, instance) in resolve(ssm, targets)?.into_iter().enumerate() {
        let (output, fails) =
            command_output(document.as_str(), &parameters.0, &ssm.instances[&instance]).unwrap_or_default();
        let takes = DELIVERY + Duration::from_secs(2 + n as u64);
        invocations.push(SimInvocation { instance, takes, output, fails });
    }
    let id = ssm.next_id();
    ssm.commands
        .insert(id.clone(), SimCommand { document: document.to_string(), started: Instant::now(), invocations });
    Ok(Started { receipt: Receipt { request_id: Some(format!("sandbox-command-{id}")) }, id })
}

fn view(account: &Account, id: &str, sim: &SimCommand, with_output: bool) -> CommandRun {
    let elapsed = sim.started.elapsed();
    let invocations: Vec<Invocation> = sim
        .invocations
        .iter()
        .map(|i| {
            let status = match elapsed {
                e if e < DELIVERY => RunStatus::Pending,
                e if e < i.takes => RunStatus::InProgress,
                _ if i.fails => RunStatus::Failed,
                _ => RunStatus::Success,
            };
            Invocation {
                instance: i.instance.clone(),
                instance_name: account.ssm.instances.get(&i.instance).map(|x| x.name.clone()),
                detail: Some(status.label().to_owned()),
                output: (with_output && status.is_final()).then(|| i.output.clone()),
                status,
            }
        })
        .collect();
    let done = invocations.iter().filter(|i| i.status.is_final()).count();
    let failed = invocations.iter().filter(|i| i.status == RunStatus::Failed).count();
    let status = match (done == invocations.len(), failed, elapsed < DELIVERY) {
        (true, 0, _) => RunStatus::Success,
        (true, _, _) => RunStatus::Failed,
        (false, _, true) => RunStatus::Pending,
        (false, _, false) => RunStatus::InProgress,
    };
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    CommandRun {
        id: id.to_owned(),
        document: sim.document.clone(),
        status,
        targets: count(invocations.len()),
        completed: count(done),
        errors: count(failed),
        invocations,
    }
}

#[async_trait]
impl RunCommands for Sandbox {
    async fn send(
        &self,
        document: &DocumentName,
        targets: &Targets,
        parameters: &DocParams,
        _by: &SlackUserId,
    ) -> GatewayResult<Started> {
        self.update(|account| send(account, document, targets, parameters))
    }

    async fn status(&self, id: &str, with_output: bool) -> GatewayResult<CommandRun> {
        self.read(|account| account.ssm.commands.get(id).map(|sim| view(account, id, sim, with_output)))
            .ok_or_else(|| GatewayError::not_found(format!("command `{id}`")))
    }

    /// Every sandbox instance is online; ids it does not have are left out.
    async fn instances(&self, targets: &Targets) -> GatewayResult<Vec<ManagedInstance>> {
        Ok(self.read(|account| {
            let ssm = &account.ssm;
            let ids = match targets {
                Targets::Tag { key, values } => ssm.tagged(key, values),
                Targets::Instances(ids) => ids.iter().filter(|id| ssm.instances.contains_key(*id)).cloned().collect(),
            };
            let mut found: Vec<ManagedInstance> =
                ids.into_iter().map(|id| ManagedInstance { id, ping: "Online".into() }).collect();
            found.sort_by(|a, b| a.id.cmp(&b.id));
            found
        }))
    }

    /// Commands not finished, with the instances they were sent to (the
    /// sandbox resolves a tag when it sends, as SSM does).
    async fn running(&self, document: &DocumentName) -> GatewayResult<Vec<RunningCommand>> {
        Ok(self.read(|account| {
            let commands = account.ssm.commands.iter().filter(|(_, sim)| sim.document == document.as_str());
            commands
                .filter(|(id, sim)| !view(account, id, sim, false).status.is_final())
                .map(|(id, sim)| RunningCommand {
                    id: id.clone(),
                    instances: sim.invocations.iter().map(|i| i.instance.clone()).collect(),
                    tag: None,
                })
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;

    async fn send_to(sandbox: &Sandbox, targets: &str, commands: &str) -> GatewayResult<Started> {
        let params = DocParams::parse(&[format!("commands={commands}")]).unwrap();
        let user = SlackUserId::parse("U0DEV").unwrap();
        let doc = DocumentName::parse("AWS-RunShellScript").unwrap();
        sandbox.send(&doc, &Targets::parse(targets).unwrap(), &params, &user).await
    }

    #[tokio::test(start_paused = true)]
    async fn instances_with_the_tag_finish_one_by_one_with_their_output() {
        let sandbox = demo();
        let id = send_to(&sandbox, "tag:Environment=staging", "uptime").await.unwrap().id;

        let first = sandbox.status(&id, false).await.unwrap();
        tokio::time::advance(Duration::from_millis(3500)).await;
        let midway = sandbox.status(&id, false).await.unwrap();
        tokio::time::advance(Duration::from_secs(10)).await;
        let done = sandbox.status(&id, true).await.unwrap();

        assert_eq!((first.status, first.targets), (RunStatus::Pending, 2));
        assert_eq!((midway.status, midway.completed), (RunStatus::InProgress, 1));
        assert_eq!(done.status, RunStatus::Success);
        assert_eq!(done.invocations[0].instance_name.as_deref(), Some("shop-staging-web-1"));
        assert!(done.invocations[0].output.as_deref().unwrap().starts_with("$ uptime\n 09:30:01 up 12 days"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_shell_command_fails_on_every_instance() {
        let sandbox = demo();
        let id = send_to(&sandbox, "tag:Role=web", "test -f /nope || exit 1").await.unwrap().id;
        tokio::time::advance(Duration::from_secs(30)).await;

        let run = sandbox.status(&id, true).await.unwrap();

        assert_eq!((run.status, run.errors, run.targets), (RunStatus::Failed, 3, 3));
        assert!(run.invocations.iter().all(|i| i.output.as_deref().unwrap().contains("exit status 1")));
    }

    #[tokio::test]
    async fn unknown_instances_documents_and_commands_are_not_found() {
        let sandbox = demo();
        let err = send_to(&sandbox, "i-0123456789abcdef0", "uptime").await.unwrap_err();
        assert_eq!(err.to_string(), "instance `i-0123456789abcdef0` was not found");
        let user = SlackUserId::parse("U0DEV").unwrap();
        let doc = DocumentName::parse("Nope-Doc").unwrap();
        let targets = Targets::parse("tag:Environment=staging").unwrap();
        let err = sandbox.send(&doc, &targets, &DocParams::default(), &user).await.unwrap_err();
        assert_eq!(err.to_string(), "document `Nope-Doc` was not found");
        assert!(sandbox.status("nope", false).await.is_err());
    }

    #[tokio::test]
    async fn a_tag_nothing_has_reaches_no_instance() {
        let sandbox = demo();
        let id = send_to(&sandbox, "tag:Environment=stagin", "uptime").await.unwrap().id;
        let run = sandbox.status(&id, false).await.unwrap();
        assert_eq!((run.targets, run.invocations.len()), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_command_is_running_on_its_instances_until_the_last_one_finishes() {
        let sandbox = demo();
        let doc = DocumentName::parse("AWS-RunShellScript").unwrap();
        let id = send_to(&sandbox, "tag:Environment=staging", "uptime").await.unwrap().id;

        let running = sandbox.running(&doc).await.unwrap();
        tokio::time::advance(Duration::from_secs(30)).await;
        let later = sandbox.running(&doc).await.unwrap();

        assert_eq!(running.len(), 1);
        assert_eq!((running[0].id.as_str(), running[0].instances.len()), (id.as_str(), 2));
        assert!(later.is_empty(), "{later:?}");
    }

    #[tokio::test]
    async fn targets_resolve_to_the_accounts_instances_and_unknown_ids_are_left_out() {
        let sandbox = demo();
        let tagged = sandbox.instances(&Targets::parse("tag:Role=web").unwrap()).await.unwrap();
        let listed = sandbox.instances(&Targets::parse("i-0a1b2c3d4e5f60011,i-0123456789abcdef0").unwrap()).await;
        assert_eq!(tagged.len(), 3);
        assert!(tagged.iter().all(ManagedInstance::online));
        assert_eq!(listed.unwrap().iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["i-0a1b2c3d4e5f60011"]);
    }
}
