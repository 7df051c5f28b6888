//! Where an execution is, and which approval waits, among stages that
//! belong to several executions.

use super::*;
use crate::ports::ExecStatus::*;
use crate::testing::{pay, web};

#[test]
fn where_an_execution_is_skips_stages_of_other_executions() {
    let mut state = web("exec-2", InProgress, [Some(Succeeded), Some(InProgress), None]);
    state.stages[0] = pay("exec-1").stages[1].clone();
    assert_eq!(where_it_is(&state, "exec-2", None), "Execution `exec-2` is at *Build* (2 of 3): Build in progress.");
    assert_eq!(waiting_approval(&state, "exec-1", None).as_deref(), Some("Approve/Approve"));
    assert_eq!(waiting_approval(&state, "exec-1", Some("tok-Approve")), None, "just answered");
    assert_eq!(waiting_approval(&state, "exec-2", None), None, "not this execution's");
    assert_eq!(where_it_is(&state, "exec-9", None), "Execution `exec-9` is in progress.");
    assert_eq!(where_it_is(&state, "exec-1", Some("tok-Approve")), "Execution `exec-1` is in progress.");
}
