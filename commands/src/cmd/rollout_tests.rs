//! The shared parts on their own: image lines and the follow verdicts the
//! command tests do not reach (no rollout state, no deployment yet).

use super::*;
use crate::testing::{FakeAws, rolling_out, service};

fn container(name: &str, image: &str) -> Container {
    Container { name: name.into(), image: image.into() }
}

#[test]
fn image_lines_show_changes_additions_removals_and_the_rest_in_one_line() {
    let before = [container("api", "r.io/api:1"), container("router", "r.io/fb:2"), container("old", "r.io/x:1")];
    let after = [container("api", "r.io/api:2"), container("router", "r.io/fb:2"), container("new", "r.io/y:1")];
    assert_eq!(
        image_lines(&before, &after),
        ["• `api`: `api:1` → `api:2`", "• `new`: added, `y:1`", "• `old`: removed", "• unchanged: `router`"]
    );
}

async fn check_with(detail: ServiceDetail) -> Progress {
    let aws = FakeAws::default().with_service(detail).gateways();
    check(&aws, &ServiceRef::parse("prod/api").unwrap(), &Started::default()).await.unwrap()
}

#[tokio::test]
async fn without_a_rollout_state_a_deployment_is_done_once_it_alone_runs_its_tasks() {
    // CODE_DEPLOY and EXTERNAL controllers report no rolloutState.
    let mut steady = service("prod/api", 4, 4);
    steady.deployments[0].rollout = None;
    assert_eq!(check_with(steady).await, Progress::Done("`api:1` runs: 4/4 running — done.".into()));
    let mut moving = rolling_out("prod/api", 2, 4, RolloutState::InProgress);
    moving.deployments[0].rollout = None;
    moving.deployments[1].running = 1;
    assert_eq!(check_with(moving).await, Progress::Running("rolling out api:2: 4/4 running".into()));
}

#[tokio::test]
async fn a_service_without_deployments_is_waited_for() {
    let mut empty = service("prod/api", 4, 0);
    empty.deployments.clear();
    assert_eq!(check_with(empty).await, Progress::Running("waiting for ECS to start the deployment".into()));
}
