//! What a sandbox pipeline tells as its executions move, as CodePipeline's
//! EventBridge events: each action, stage and execution state change,
//! kept in [`SimPipeline::told`] until the demo delivers them
//! ([`crate::sandbox::Sandbox::take_events`]). So a run the channel shows —
//! the approved `payments-api` run, a retried build — moves on there as it
//! moves on in the account, as it would with a real pipeline.

use opsbot_commands::ports::{ActionCategory, Time};
use serde_json::json;

use super::SimPipeline;
use crate::sandbox::events::run_event;

/// The provider CodePipeline names for an action of `category` in the sandbox's pipelines.
fn provider(category: &ActionCategory) -> (&str, &'static str) {
    match category {
        ActionCategory::Source => ("Source", "CodeStarSourceConnection"),
        ActionCategory::Build => ("Build", "CodeBuild"),
        ActionCategory::Test => ("Test", "CodeBuild"),
        ActionCategory::Deploy => ("Deploy", "ECS"),
        ActionCategory::Approval => ("Approval", "Manual"),
        ActionCategory::Invoke => ("Invoke", "Lambda"),
        ActionCategory::Other(other) => (other.as_str(), "Custom"),
    }
}

impl SimPipeline {
    fn tell(&mut self, execution: &str, at: Time, detail_type: &str, what: &str, detail: serde_json::Value) {
        let id = format!("{}/{execution}/{what}/{}", self.name, at.timestamp_millis());
        self.told.push(run_event(self.name.as_str(), execution, &id, at, detail_type, detail));
    }

    /// Action `action` of stage `stage` took `state` (STARTED, SUCCEEDED, FAILED, ABANDONED).
    pub(super) fn tell_action(&mut self, execution: &str, (stage, action): (usize, usize), state: &str, at: Time) {
        let (stage_name, sim) = (self.stages[stage].name.clone(), &self.stages[stage].actions[action]);
        let (category, provider) = provider(&sim.category);
        let detail = json!({"stage": stage_name, "action": sim.name, "state": state,
            "type": {"owner": "AWS", "category": category, "provider": provider, "version": "1"}});
        let what = format!("{stage_name}/{}/{state}", sim.name);
        self.tell(execution, at, "CodePipeline Action Execution State Change", &what, detail);
    }

    /// Stage `stage` took `state` (STARTED, RESUMED, SUCCEEDED, FAILED, STOPPED).
    pub(super) fn tell_stage(&mut self, execution: &str, stage: usize, state: &str, at: Time) {
        let name = self.stages[stage].name.clone();
        let what = format!("{name}/{state}");
        self.tell(
            execution,
            at,
            "CodePipeline Stage Execution State Change",
            &what,
            json!({"stage": name, "state": state}),
        );
    }

    /// The execution took `state` (STARTED, RESUMED, STOPPING, STOPPED,
    /// SUCCEEDED, FAILED, SUPERSEDED); `extra` adds to its detail (the trigger).
    pub(super) fn tell_execution(&mut self, execution: &str, state: &str, at: Time, extra: serde_json::Value) {
        let mut detail = json!({"state": state});
        for (k, v) in extra.as_object().into_iter().flatten() {
            detail[k] = v.clone();
        }
        self.tell(execution, at, "CodePipeline Pipeline Execution State Change", state, detail);
    }
}
