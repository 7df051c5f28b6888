//! Declared parameters against Parameter Store (moto), through the
//! production wiring: `params diff` tells missing, extra and changed apart
//! (a SecureString by hash, never shown), an approved `params apply` makes
//! Parameter Store match, and an apply touching a prefix the policy forbids
//! is refused whole.

use std::sync::Arc;

use aws_sdk_ssm::types::ParameterType;
use opsbot::declared::DeclaredSources;
use opsbot::settings::{DeclaredEnv, DeclaredFrom};
use opsbot_commands::testing::{MemoryChat, change_button};
use opsbot_commands::values::{ChannelId, ParamPath};
use opsbot_commands::{ClickOutcome, Ops};

use crate::support::change_flow::{Flow, as_user, finished, on_moto};
use crate::support::emulators::{emulators, unique};

/// Developers may set parameters (not payments') and apply declared ones once a lead approves.
const POLICY: &str = "roles:\n  devs: { everyone: true }\n  leads: { users: [U0LEAD] }\nrules:\n  - deny: [param set]\n    where: { name: \"/payments/\" }\n  - allow: [param set, params diff]\n    to: devs\n  - allow: [params apply]\n    to: devs\n    approval: { by: leads, ttl: 30m }\n";

/// The declared secret, as the bot's environment holds it.
const SECRET: &str = "Declared-s3cret!";

struct World {
    ops: Arc<Ops>,
    ssm: aws_sdk_ssm::Client,
    store: Arc<dyn opsbot::store::Storage>,
    chat: Arc<MemoryChat>,
    /// The bot's gateways, with the declared parameters.
    gateways: opsbot_commands::ports::Gateways,
    /// `/<unique>/` — the environment's prefix.
    prefix: String,
    file: tempfile::NamedTempFile,
}

async fn world() -> World {
    let prefix = format!("/{}/", unique("shop"));
    let file = tempfile::NamedTempFile::new().unwrap();
    let env = DeclaredEnv {
        name: "prod".into(),
        prefix: ParamPath::parse(&prefix).unwrap(),
        from: DeclaredFrom::File(file.path().to_path_buf()),
    };
    let lookup = Arc::new(|name: &str| (name == "SHOP_DB_PASSWORD").then(|| SECRET.to_owned()));
    let declared = Arc::new(DeclaredSources::with_env(vec![env], lookup));
    let sdk = emulators().await.sdk_config().await;
    let Flow { ops, gateways, ssm, store, chat } = on_moto(&sdk, POLICY, |w| w.with_declared(declared));
    World { ops, ssm, store, chat, gateways, prefix, file }
}

impl World {
    /// Writes the declared file: `/<prefix>/<name>` for each name.
    fn declare(&self, yaml: &str) {
        std::fs::write(self.file.path(), yaml.replace("PFX/", &self.prefix)).unwrap();
    }

    async fn put(&self, name: &str, kind: ParameterType, value: &str) {
        let put = self.ssm.put_parameter().name(format!("{}{name}", self.prefix)).r#type(kind).value(value);
        put.overwrite(true).send().await.unwrap();
    }

    /// Value and type of `name`, decrypted.
    async fn live(&self, name: &str) -> (String, String) {
        let got = self.ssm.get_parameter().name(format!("{}{name}", self.prefix)).with_decryption(true).send().await;
        let p = got.unwrap().parameter.unwrap();
        (p.value.unwrap_or_default(), p.r#type.map(|t| t.as_str().to_owned()).unwrap_or_default())
    }

    async fn says(&self, text: &str) -> String {
        self.ops.handle(&as_user("U0DEV", &unique("req")), text).await.text()
    }

    /// `U0DEV` asks for `text`, confirms, `U0LEAD` approves; returns once it has finished.
    async fn approved(&self, text: &str) -> String {
        let request = unique("req");
        let dev = as_user("U0DEV", &request);
        let plan = self.ops.handle(&dev, text).await;
        let confirmed = self.ops.click(&dev, &change_button(&plan, "Confirm")).await;
        assert!(matches!(confirmed, ClickOutcome::Replace(_)), "{plan:?}");
        let approval = self.chat.messages.lock().unwrap().last().expect("an approval request").1.clone();
        self.ops.click(&as_user("U0LEAD", &unique("click")), &change_button(&approval, "Approve")).await;
        finished(&*self.store, &self.chat, &request).await
    }
}

const DECLARED: &str = "parameters:\n  PFX/db-host: { value: db.internal, description: Primary DB }\n  PFX/hosts: { type: StringList, value: \"a.internal,b.internal\" }\n  PFX/db-password: { type: SecureString, from: \"env:SHOP_DB_PASSWORD\" }\n  PFX/new-flag: { value: \"on\" }\n";

async fn drifted() -> World {
    let w = world().await;
    w.declare(DECLARED);
    w.put("db-host", ParameterType::String, "db-old.internal").await;
    w.put("hosts", ParameterType::String, "a.internal,b.internal").await;
    w.put("db-password", ParameterType::SecureString, "live-old-pass").await;
    w.put("legacy", ParameterType::String, "x").await;
    w
}

#[tokio::test]
async fn params_diff_against_moto_tells_missing_changed_and_extra_apart_and_never_shows_a_secret() {
    let w = drifted().await;

    let text = w.says("params diff prod").await;

    let p = &w.prefix;
    assert!(
        text.contains(&format!("*Missing* (declared, not in Parameter Store):\n• `{p}new-flag` _String_ `on`")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "• `{p}db-host`: value `db-old.internal` → `db.internal`; description \"(none)\" → \"Primary DB\""
        )),
        "{text}"
    );
    assert!(text.contains(&format!("• `{p}db-password`: value differs (SecureString, compared by hash)")), "{text}");
    assert!(text.contains(&format!("• `{p}hosts`: type String → StringList")), "{text}");
    assert!(text.contains(&format!("• `{p}legacy` _String_")), "{text}");
    assert!(!text.contains(SECRET) && !text.contains("live-old-pass"), "{text}");
}

#[tokio::test]
async fn an_approved_params_apply_makes_parameter_store_match_and_leaves_extras() {
    let w = drifted().await;

    let last = w.approved("params apply prod").await;

    assert!(last.contains(":white_check_mark:"), "{last}");
    assert!(!last.contains(SECRET), "{last}");
    assert_eq!(w.live("db-password").await, (SECRET.to_owned(), "SecureString".to_owned()));
    assert_eq!(w.live("hosts").await, ("a.internal,b.internal".to_owned(), "StringList".to_owned()));
    assert_eq!(w.live("new-flag").await, ("on".to_owned(), "String".to_owned()));
    assert_eq!(w.live("legacy").await.0, "x", "extras are never deleted");
    let text = w.says("params diff prod").await;
    assert!(text.contains("Extra") && !text.contains("Missing") && !text.contains("Changed"), "{text}");
}

#[tokio::test]
async fn an_apply_touching_a_prefix_the_policy_forbids_is_refused_whole() {
    let w = world().await;
    w.declare("parameters:\n  PFX/db-host: { value: db.internal }\n  PFX/payments/key-id: { value: k-2 }\n");

    let text = w.says("params apply prod").await;

    let p = &w.prefix;
    assert!(text.contains("the policy does not allow all of it, so nothing is done"), "{text}");
    assert!(text.contains(&format!("you may not `param set` {p}payments/key-id here")), "{text}");
    let got = w.ssm.get_parameter().name(format!("{p}db-host")).send().await;
    assert!(got.is_err(), "nothing was written: {got:?}");
}

#[tokio::test]
async fn a_broken_declared_file_is_reported_with_its_place() {
    let w = world().await;
    w.declare("parameters:\n  PFX/db-host: { type: Strng, value: db.internal }\n");

    let text = w.says("params diff prod").await;

    let at = format!("{}:2:", w.file.path().display());
    assert!(text.contains(&at), "the file and line: {text}");
    assert!(
        text.contains("type `Strng` is not one of String, StringList, SecureString — fix it and ask again"),
        "{text}"
    );
}

impl World {
    /// A replica's drift check on this world's store, posting to C0DRIFT;
    /// nothing sends (tests read what was queued).
    fn drift_check(&self, replica: &str) -> opsbot::notify::drift_check::DriftCheck {
        self.drift_check_on(replica, self.store.clone())
    }

    /// A replica's drift check on `store`.
    fn drift_check_on(
        &self,
        replica: &str,
        store: Arc<dyn opsbot::store::Storage>,
    ) -> opsbot::notify::drift_check::DriftCheck {
        use opsbot::settings::Secret;
        use opsbot::slack::outbox::{Outbox, Pacing};
        use opsbot::slack::web::SlackWeb;
        let web =
            Arc::new(SlackWeb::new("http://127.0.0.1:9/api", &Secret::new("xoxb-test"), Default::default()).unwrap());
        let clock = opsbot_commands::ports::system_clock();
        let (outbox, _sender) = Outbox::new(store.clone(), web, clock, Pacing::default(), replica);
        opsbot::notify::drift_check::DriftCheck {
            aws: self.gateways.clone(),
            store,
            outbox,
            channel: ChannelId::parse("C0DRIFT").unwrap(),
        }
    }
}

#[tokio::test]
async fn the_drift_check_posts_one_living_message_when_drift_appears_and_resolves_it_when_gone() {
    use opsbot::store::WriteOp;

    let w = world().await;
    w.declare("parameters:\n  PFX/db-host: { value: db.internal }\n");
    w.put("db-host", ParameterType::String, "db-old.internal").await;
    let check = w.drift_check("a");
    let rows = || async { w.store.outbox_rows().await.unwrap() };

    check.check(chrono::Utc::now()).await;
    check.check(chrono::Utc::now()).await;
    let posted = rows().await;
    assert_eq!(posted.len(), 1, "one message however often the same drift is seen: {posted:?}");
    assert_eq!((posted[0].op, posted[0].channel.as_str()), (WriteOp::Post, "C0DRIFT"));
    assert!(posted[0].key.starts_with("drift:prod:"), "{}", posted[0].key);
    assert!(posted[0].payload.contains("value `db-old.internal` → `db.internal`"), "{}", posted[0].payload);

    w.put("db-host", ParameterType::String, "db.internal").await;
    check.check(chrono::Utc::now()).await;
    check.check(chrono::Utc::now()).await;

    let after = rows().await;
    let ops: Vec<WriteOp> = after.iter().map(|r| r.op).collect();
    // Nothing was sent yet, so the outbox folds the update into the waiting post.
    assert_eq!(ops, [WriteOp::Post, WriteOp::Reply], "{after:?}");
    assert!(after.iter().all(|r| r.key == posted[0].key), "the same message: {after:?}");
    assert!(after[0].payload.contains("match what is declared again"), "{}", after[0].payload);
    assert!(after[1].payload.contains("No drift any more"), "{}", after[1].payload);
}

#[tokio::test]
async fn declared_tags_are_diffed_and_an_approved_apply_sets_and_removes_them_on_moto() {
    use aws_sdk_ssm::types::{ResourceTypeForTagging, Tag};
    let w = world().await;
    w.declare("parameters:\n  PFX/db-host: { value: db.internal, tags: { team: shop, owner: platform } }\n  PFX/new-flag: { value: \"on\", tags: { team: shop } }\n");
    w.put("db-host", ParameterType::String, "db.internal").await;
    let db_host = format!("{}db-host", w.prefix);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    w.ssm
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(&db_host)
        .tags(tag("owner", "web"))
        .tags(tag("old", "x"))
        .send()
        .await
        .unwrap();
    let tags_of = |name: String| {
        let ssm = w.ssm.clone();
        async move {
            let listed = ssm
                .list_tags_for_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .send()
                .await
                .unwrap();
            let mut tags: Vec<String> =
                listed.tag_list().iter().map(|t| format!("{}={}", t.key(), t.value())).collect();
            tags.sort();
            tags
        }
    };

    let text = w.says("params diff prod").await;
    let p = &w.prefix;
    assert!(
        text.contains(&format!("• `{p}db-host`: missing `team=shop`; `owner` `web` → `platform`; extra `old=x`")),
        "{text}"
    );
    assert!(text.contains(&format!("• `{p}new-flag` _String_ `on`, tags `team=shop`")), "{text}");

    let last = w.approved("params apply prod").await;

    assert!(last.contains(":white_check_mark:"), "{last}");
    assert_eq!(tags_of(db_host.clone()).await, ["owner=platform", "team=shop"]);
    assert_eq!(tags_of(format!("{p}new-flag")).await, ["team=shop"]);
    assert_eq!(w.live("db-host").await.0, "db.internal");
    let history = w.ssm.get_parameter_history().name(&db_host).send().await.unwrap();
    assert_eq!(history.parameters().len(), 1, "retagging wrote no new version");
    let text = w.says("params diff prod").await;
    assert!(text.contains("Parameter Store matches the 2 declared parameters"), "{text}");
}

#[tokio::test]
async fn of_two_replicas_on_one_sqlite_store_one_checks_drift_each_period_and_the_other_skips_it() {
    let w = drifted_host().await;
    let (a, b) = (w.drift_check("a"), w.drift_check("b"));
    one_check_per_period(&a, &b, &*w.store).await;
}

#[tokio::test]
async fn of_two_replicas_on_one_dynamodb_table_one_checks_drift_each_period_and_the_other_skips_it() {
    let w = drifted_host().await;
    let (one, two) = crate::store_dynamodb::two_replicas().await;
    let (a, b) = (w.drift_check_on("a", one.clone()), w.drift_check_on("b", two));
    one_check_per_period(&a, &b, &*one).await;
}

async fn drifted_host() -> World {
    let w = world().await;
    w.declare("parameters:\n  PFX/db-host: { value: db.internal }\n");
    w.put("db-host", ParameterType::String, "db-old.internal").await;
    w
}

/// Replicas `a` and `b` tick in turn through two hours; `store` is where `a` posts.
async fn one_check_per_period(
    a: &opsbot::notify::drift_check::DriftCheck,
    b: &opsbot::notify::drift_check::DriftCheck,
    store: &dyn opsbot::store::Storage,
) {
    use std::time::Duration;
    let every = Duration::from_secs(3600);
    let hour = chrono::DateTime::from_timestamp(1_800_000_000 / 3600 * 3600, 0).unwrap();
    let at = |minutes: i64| hour + chrono::Duration::minutes(minutes);

    assert!(a.tick(at(1), every).await, "the first replica in a period checks");
    assert!(!b.tick(at(2), every).await, "the other skips the period a checked");
    assert!(!a.tick(at(59), every).await, "once per period, whoever asks");
    assert_eq!(store.outbox_rows().await.unwrap().len(), 1, "a's check posted the drift");

    assert!(b.tick(at(61), every).await, "the next period goes to whichever replica comes first");
    assert!(!a.tick(at(62), every).await);
}

#[tokio::test]
async fn a_declared_file_in_s3_is_read_with_the_bots_aws_configuration_and_a_missing_one_is_not_found() {
    use opsbot_commands::ports::DeclaredParams;
    let sdk = emulators().await.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let bucket = unique("shop-config");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = "parameters:\n  /shop/qa/db-host: { value: db.internal, tags: { team: shop } }\n";
    let put = s3.put_object().bucket(&bucket).key("params/qa.yaml").body(body.as_bytes().to_vec().into());
    put.send().await.unwrap();
    let env = |key: &str| DeclaredEnv {
        name: "qa".into(),
        prefix: ParamPath::parse("/shop/qa/").unwrap(),
        from: DeclaredFrom::S3 { bucket: bucket.clone(), key: key.into() },
    };
    let sources = |key: &str| {
        let objects = opsbot::aws::AwsObjects::new(aws_sdk_s3::Client::new(&sdk));
        DeclaredSources::with_env(vec![env(key)], Arc::new(|_| None)).with_s3(objects)
    };

    let declared = sources("params/qa.yaml").load("qa").await.unwrap();

    assert_eq!(declared.source, format!("s3://{bucket}/params/qa.yaml"));
    assert_eq!(declared.params.len(), 1);
    assert_eq!(declared.params[0].tags.as_ref().unwrap()["team"], "shop");
    let err = sources("params/nope.yaml").load("qa").await.unwrap_err();
    assert_eq!(err.to_string(), format!("s3://{bucket}/params/nope.yaml was not found"));
    let without_aws = DeclaredSources::with_env(vec![env("params/qa.yaml")], Arc::new(|_| None));
    let err = without_aws.load("qa").await.unwrap_err();
    assert!(err.to_string().contains("without AWS configuration"), "{err}");
}
