//! `opsbot config check` as CI runs it: the real binary, a config file, the
//! exit code and what it prints — the case measured on main, where `policy
//! lint` passed a file `serve` then refused.

use std::process::Command;

fn opsbot(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("the opsbot binary runs");
    (out.status.code().expect("an exit code"), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn config_check_refuses_what_serve_would_refuse_with_every_place_while_policy_lint_checks_the_policy_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsbot.yaml");
    let file_arg = file.to_str().unwrap();
    let policy = "policies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [scale], to: devs }\n";
    std::fs::write(&file, format!("server:\n  lisen: 0.0.0.0:8080\n{policy}")).unwrap();

    let (code, out) = opsbot(&["config", "check", "--config", file_arg]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("{file_arg}:2:3: unknown key `lisen` — did you mean `listen`?")), "{out}");
    assert!(out.contains("config check: 1 problem in"), "{out}");
    let (code, out) = opsbot(&["policy", "lint", file_arg]);
    assert_eq!(code, 0, "lint is the policy part: {out}");
    assert!(out.contains("its other settings: opsbot config check"), "{out}");

    std::fs::write(
        &file,
        format!("server:\n  listen: 0.0.0.0:8080\nstore:\n  path: {}\n{policy}", dir.path().join("x.db").display()),
    )
    .unwrap();
    let (code, out) = opsbot(&["config", "check", "--config", file_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("config ok:") && out.contains("(1 rule, 1 role)"), "{out}");
    let (code, out) = opsbot(&["config", "check", "--config", file_arg, "--transport", "socket"]);
    assert_eq!(code, 1, "no Slack tokens in this environment: {out}");
    assert!(out.contains("SLACK_BOT_TOKEN is not set"), "{out}");
}

#[test]
fn config_check_reports_every_broken_declared_parameters_setting_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsbot.yaml");
    let file_arg = file.to_str().unwrap();
    let params =
        "params:\n  environments:\n    prod: { prefix: /shop/prod/ }\n  drift_check: { every: 5s, channel: C0OPS }\n";
    std::fs::write(&file, params).unwrap();

    let (code, out) = opsbot(&["config", "check", "--config", file_arg]);

    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("{file_arg}:3:11: params.environments.prod: give exactly one of")), "{out}");
    assert!(out.contains(&format!("{file_arg}:4:16: params.drift_check: every: `5s`")), "{out}");
}
