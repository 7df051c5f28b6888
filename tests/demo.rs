//! `opsbot demo` as a new user runs it: the real binary, commands on stdin,
//! no credentials and no network.

use std::io::Write;
use std::process::{Command, Stdio};

fn demo(input: &str) -> (String, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .arg("demo")
        // Whatever the caller's environment holds, the demo must not need or touch it.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("opsbot runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn the_demo_answers_help_and_pipelines_from_a_pipe() {
    let (out, err, ok) = demo("help\npipelines\n");
    assert!(ok, "exit status; stderr: {err}");
    for usage in ["pipelines", "pipeline NAME", "service CLUSTER/NAME", "param history NAME", "whoami"] {
        assert!(out.contains(usage), "help lacks {usage}:\n{out}");
    }
    assert!(out.contains("storefront-web — Failed"), "{out}");
    assert!(out.contains("payments-api"), "{out}");
    assert!(out.contains("catalog-service — Succeeded"), "{out}");
    assert!(!out.contains("opsbot console —"), "no banner when stdin is not a terminal:\n{out}");
}

#[test]
fn the_demo_shows_every_command_and_never_a_secret() {
    let script = "pipeline storefront-web\npipeline payments-api\nservices\nservice prod/api\nalarms\n\
                  param get /shop/prod/db-host\nparams /shop/prod\nparam history /shop/prod/db-password\nwhoami\n";
    let (out, err, ok) = demo(script);
    assert!(ok, "stderr: {err}");
    for expected in
        ["JobFailed", "ApproveProd", "prod/api", "rolling out", "shop-checkout-5xx", "SecureString", "U0CONSOLE"]
    {
        assert!(out.contains(expected), "{expected} missing:\n{out}");
    }
    // Every version of the demo's SecureString (bot/sandbox/seed/params.rs).
    for secret in ["Xq7!placeholder", "Vb9#rT2m!kLp4sQz", "pR0d-7f#Kq9!vLx2-Zw8"] {
        assert!(!out.contains(secret) && !err.contains(secret), "a SecureString value leaked: {secret}");
    }
}

#[test]
fn the_demo_shows_the_declared_prod_parameters_drifted_in_one_value() {
    let (out, err, ok) = demo("params diff prod\n");
    assert!(ok, "stderr: {err}");
    assert!(out.contains("Parameters of prod (/shop/prod/, from params/prod.yaml)"), "{out}");
    assert!(out.contains("/shop/prod/api/max-connections`: value `400` → `200`"), "{out}");
    assert!(out.contains("1 changed") && !out.contains("Missing") && !out.contains("Extra"), "{out}");
    assert!(!out.contains("pR0d-7f#Kq9!vLx2-Zw8"), "the declared secret leaked:\n{out}");
}
