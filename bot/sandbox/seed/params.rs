//! Demo Parameter Store under `/shop/prod` and `/shop/staging`: hosts,
//! StringList feature flags and SecureString passwords, each with versions
//! written by people, Terraform and a rotation role, some labelled.
//! The SecureString values are stored so the sandbox is faithful; the port
//! masks them.

use opsbot_commands::ports::ParamKind::{self, SecureString, String as Plain, StringList};
use opsbot_commands::values::ParamName;

use super::common::{ago, role, user};
use crate::sandbox::account::Account;
use crate::sandbox::params::{SimParam, SimParamVersion, Stored};

const DAY: i64 = 1440;

/// One version: `(minutes ago, writer, value, labels)`; writers are IAM user
/// names, or `tf` (Terraform in CI) and `rotation` (the rotation Lambda).
type Version = (i64, &'static str, &'static str, &'static [&'static str]);

const PARAMS: &[(&str, ParamKind, &str, &[Version])] = &[
    (
        "/shop/prod/api/max-connections",
        Plain,
        "Connection pool size of the API",
        &[(30 * DAY, "tf", "200", &[]), (3 * DAY + 240, "daniel", "400", &[])],
    ),
    (
        "/shop/prod/db-host",
        Plain,
        "Aurora writer endpoint",
        &[
            (180 * DAY, "tf", "shop-prod.cluster-c1x2y3z4w5v6.eu-west-1.rds.amazonaws.com", &["pre-migration"]),
            (12 * DAY + 75, "maria", "shop-prod-v2.cluster-c8k2m1n0p9q7.eu-west-1.rds.amazonaws.com", &["aurora-v2"]),
        ],
    ),
    (
        "/shop/prod/db-password",
        SecureString,
        "Application database password (rotated monthly)",
        &[
            (180 * DAY, "tf", "initial-Xq7!placeholder", &[]),
            (35 * DAY + 2, "rotation", "Vb9#rT2m!kLp4sQz", &["previous"]),
            (5 * DAY + 2, "rotation", "pR0d-7f#Kq9!vLx2-Zw8", &["current"]),
        ],
    ),
    (
        "/shop/prod/feature-flags",
        StringList,
        "Flags on for every prod customer",
        &[
            (60 * DAY, "daniel", "new-checkout", &[]),
            (21 * DAY + 300, "maria", "new-checkout,recommendations", &["stable"]),
            (2 * DAY + 30, "li.wei", "new-checkout,recommendations,one-click-pay", &[]),
            (190, "maria", "new-checkout,recommendations", &[]),
        ],
    ),
    (
        "/shop/staging/db-host",
        Plain,
        "Aurora writer endpoint",
        &[(150 * DAY, "tf", "shop-staging.cluster-c3d4e5f6g7h8.eu-west-1.rds.amazonaws.com", &[])],
    ),
    (
        "/shop/staging/db-password",
        SecureString,
        "Application database password (rotated monthly)",
        &[(150 * DAY, "tf", "staging-only-Tr4in!", &[]), (5 * DAY + 4, "rotation", "st4g-Mn3#pQ8wR", &["current"])],
    ),
    (
        "/shop/staging/feature-flags",
        StringList,
        "Flags on in staging",
        &[
            (60 * DAY, "daniel", "new-checkout", &[]),
            (10 * DAY, "li.wei", "new-checkout,recommendations,one-click-pay", &[]),
            (DAY + 45, "li.wei", "new-checkout,recommendations,one-click-pay,gift-cards", &["qa-ready"]),
        ],
    ),
];

pub(super) fn seed(account: &mut Account) {
    let now = account.now;
    for (name, kind, description, versions) in PARAMS {
        let versions = versions
            .iter()
            .zip(1..)
            .map(|(&(minutes, writer, value, labels), version)| SimParamVersion {
                version,
                kind: kind.clone(),
                value: Stored(value.into()),
                modified: ago(now, minutes),
                modified_by: arn(writer),
                labels: labels.iter().map(|l| (*l).into()).collect(),
                description: Some((*description).into()),
            })
            .collect();
        let name = ParamName::parse(name).expect("demo parameter names are valid");
        account.params.insert(name, SimParam { versions, tags: Default::default() });
    }
}

fn arn(writer: &str) -> String {
    match writer {
        "tf" => role("terraform-ci", "gh-actions-4711"),
        "rotation" => role("shop-db-password-rotation", "SecretsManagerRotation"),
        name => user(name),
    }
}
