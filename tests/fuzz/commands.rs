//! The command parser: `tokenize`, `canonical` and `Command::parse` on any
//! text. Beyond "no panic": the canonical form is a fixed point, reads back
//! to the same words, and parses to the same command (it is what a change's
//! parameter hash is taken over, so it must mean exactly what was typed).

use opsbot_commands::Command;
use opsbot_commands::cmd::is_forced;
use opsbot_commands::spec::{canonical, tokenize};

use super::{Shape, Target, coarse};

pub const TARGET: Target = Target {
    name: "commands",
    seed_dirs: &[],
    shape: Shape::Text,
    dictionary: &[
        "pipeline",
        "pipelines",
        "start",
        "retry",
        "stop",
        "approve",
        "reject",
        "services",
        "service",
        "alarms",
        "alerts",
        "alert",
        "ack",
        "param",
        "params",
        "get",
        "set",
        "history",
        "rollback",
        "audit",
        "scale",
        "deploy",
        "restart",
        "automation",
        "run",
        "status",
        "whoami",
        "help",
        "on",
        "tag:Environment=staging",
        "--force",
        "--FORCE",
        "prod/api",
        "staging/api",
        "/shop/prod/db",
        "storefront-web",
        "Build",
        "ApproveProd/Manual",
        "0",
        "-1",
        "3",
        "4294967296",
        "99999999999999999999",
        "1.2.3",
        "InstanceId=i-0abc",
        "command:deploy",
        "\"a b\"",
        "'x'",
        "“x”",
        "‘y’",
        "\"\"",
        "''",
        "“",
        "”",
    ],
    check,
};

fn check(input: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(input);
    let words = tokenize(&text);
    let canon = canonical(&text);
    if words.is_ok() != canon.is_ok() {
        return Err(format!("tokenize is {words:?} but canonical is {canon:?}"));
    }
    if let (Ok(words), Ok(canon)) = (&words, &canon) {
        canonical_form_holds(&text, words, canon)?;
    }
    match Command::parse(&text) {
        Ok(command) => {
            let canon = canon.map_err(|e| format!("parsed as {command:?} but has no canonical form: {e:?}"))?;
            let again = Command::parse(&canon);
            if again.as_ref() != Ok(&command) {
                return Err(format!("parses to {command:?}, its canonical form {canon:?} to {again:?}"));
            }
            let _ = command.shown(&canon);
            Ok(format!("ok {}", command.spec().name))
        }
        Err(err) if err.message.trim().is_empty() => Err(format!("a usage error without a message: {err:?}")),
        Err(err) => Ok(format!("err {}", coarse(&err.message))),
    }
}

fn canonical_form_holds(text: &str, words: &[String], canon: &str) -> Result<(), String> {
    let reread = tokenize(canon).map_err(|e| format!("canonical {canon:?} does not tokenize: {e:?}"))?;
    if reread != words {
        return Err(format!("canonical {canon:?} reads as {reread:?}, not {words:?}"));
    }
    match canonical(canon) {
        Ok(twice) if twice == canon => {}
        other => return Err(format!("canonical is not a fixed point: {canon:?} then {other:?}")),
    }
    if is_forced(canon) != is_forced(text) {
        return Err(format!("--force differs between {text:?} and its canonical form {canon:?}"));
    }
    Ok(())
}

#[test]
fn the_command_parser_survives_fuzzing_and_its_canonical_form_is_stable() {
    super::run(&TARGET);
}
