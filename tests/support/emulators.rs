//! AWS emulators for the end-to-end tests: ONE moto server (SSM, ECS,
//! CodePipeline, IAM, SQS, SNS, ...) and ONE ministack (CloudWatch, whose Rust
//! SDK speaks RPC v2 CBOR, which moto does not route) per test-binary run,
//! started by the first test that asks and shared by all.
//!
//! # Use
//! ```ignore
//! let emu = emulators().await;                  // starts both on first use
//! let sdk = emu.sdk_config().await;             // CloudWatch → ministack, the rest → moto
//! let gateways = opsbot::aws::gateways(&sdk, &Default::default());   // the production wiring, unchanged
//! let name = unique("orders");                  // resource names never collide
//! ```
//! The servers are shared and never reset, so every test creates its own,
//! uniquely named resources (and must not assert on whole-account lists).
//!
//! # Decisions
//! - **Endpoints live in the test's config only, as an in-memory AWS profile**
//!   (`endpoint_url` = moto, `[services]` section: `cloudwatch` = ministack),
//!   loaded through `opsbot::aws::loader()`. That is the same mechanism as
//!   `AWS_ENDPOINT_URL[_CLOUDWATCH]` in production, and one `SdkConfig` serves
//!   `gateways()` with both emulators. (An endpoint set in code would beat the
//!   per-service one, so CloudWatch could not go elsewhere.) Because the
//!   environment outranks a profile, the launcher refuses to run with any
//!   `AWS_ENDPOINT_URL*` variable set.
//! - **A fresh `SdkConfig` per test**: its HTTP connection pool belongs to the
//!   tokio runtime that first used it, and every `#[tokio::test]` has its own
//!   runtime; a shared client fails with dispatch errors once a test ends.
//! - **No orphans**: each server runs under `sh`, which starts it in the
//!   background and then blocks reading its stdin, a pipe from this process.
//!   When the test process exits — normally, by panic, or killed with SIGKILL —
//!   the kernel closes the pipe, `cat` sees EOF and the shell kills the server.
//!   No signal handler, `atexit` or `unsafe` is needed, and nothing depends on a
//!   static's destructor (statics are never dropped).
//! - Start-up is blocking std code (`std::process`, `std::net`), run under
//!   `spawn_blocking`: nothing of the launcher belongs to one test's runtime.
//! - Server logs go to `$CARGO_TARGET_TMPDIR/emulators/<pid>-<name>.log`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};

const REGION: &str = "us-east-1";
const PROFILE: &str = "opsbot-emulators";
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The two running servers. Get it with [`emulators`].
pub struct Emulators {
    moto: Server,
    ministack: Server,
}

struct Server {
    url: String,
    /// The `sh` watchdog; its stdin pipe is what keeps the server alive.
    _watchdog: Mutex<Child>,
}

static EMULATORS: OnceLock<Emulators> = OnceLock::new();

/// Both emulators, started on first use (about 1–2 s), shared by every test.
pub async fn emulators() -> &'static Emulators {
    tokio::task::spawn_blocking(|| EMULATORS.get_or_init(Emulators::start)).await.expect("emulator start-up panicked")
}

/// A resource name no other test of this run uses: `<prefix>-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Emulators {
    /// `http://127.0.0.1:PORT` of moto.
    pub fn moto_url(&self) -> &str {
        &self.moto.url
    }

    /// `http://127.0.0.1:PORT` of ministack (CloudWatch).
    pub fn ministack_url(&self) -> &str {
        &self.ministack.url
    }

    /// An SDK config for this test: static credentials `testing/testing`,
    /// us-east-1, CloudWatch → ministack, every other service → moto, and the
    /// production loader's HTTP client and retry policy.
    pub async fn sdk_config(&self) -> SdkConfig {
        #[allow(deprecated)] // the new names live in aws-runtime, which we do not depend on
        let files = aws_config::profile::profile_file::ProfileFiles::builder()
            .include_default_config_file(false)
            .include_default_credentials_file(false)
            .with_contents(aws_config::profile::profile_file::ProfileFileKind::Config, self.profile())
            .build();
        opsbot::aws::loader()
            .profile_files(files)
            .profile_name(PROFILE)
            .region(Region::new(REGION))
            .credentials_provider(aws_sdk_ssm::config::Credentials::new("testing", "testing", None, None, "emulators"))
            .load()
            .await
    }

    /// The same routing as environment variables, for a bot run as a child process.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.moto.url.clone()),
            ("AWS_ENDPOINT_URL_CLOUDWATCH", self.ministack.url.clone()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }

    /// Creates (in moto's IAM) a role CodePipeline may assume, which moto's
    /// `CreatePipeline` insists on, and returns its ARN.
    pub async fn codepipeline_role(&self) -> String {
        self.create_role("codepipeline-role", r#"{"Service":"codepipeline.amazonaws.com"}"#).await
    }

    /// Creates (in moto's IAM) a uniquely named role that `principal` (an IAM
    /// policy `Principal` object, e.g. `{"AWS":"arn:aws:iam::123456789012:root"}`)
    /// may assume, and returns its ARN. There is no IAM SDK crate in the build,
    /// so this is one form-encoded Query API call.
    pub async fn create_role(&self, prefix: &str, principal: &str) -> String {
        let name = unique(prefix);
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}}]}}"#
        );
        let form = [
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", name.as_str()),
            ("AssumeRolePolicyDocument", trust.as_str()),
        ];
        let body = serde_urlencoded::to_string(form).unwrap();
        let addr = self.moto.addr();
        let (status, answer) = tokio::task::spawn_blocking(move || iam_post(&addr, &body)).await.unwrap();
        assert_eq!(status, 200, "moto CreateRole: {answer}");
        format!("arn:aws:iam::123456789012:role/{name}")
    }

    fn profile(&self) -> String {
        format!(
            "[profile {PROFILE}]\nendpoint_url = {}\nservices = {PROFILE}\n\n[services {PROFILE}]\ncloudwatch =\n  endpoint_url = {}\n",
            self.moto.url, self.ministack.url
        )
    }

    /// A moto and a ministack of the caller's own, stopped when dropped: for
    /// a load test, so its load does not slow every test sharing the pair of
    /// [`emulators`]. Blocks until both answer (call it off the runtime).
    pub fn private() -> Emulators {
        Emulators::start()
    }

    fn start() -> Emulators {
        refuse_endpoint_env();
        let venv = venv();
        let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("emulators");
        std::fs::create_dir_all(&logs).unwrap();
        let log = |name: &str| logs.join(format!("{}-{name}.log", std::process::id()));

        // Both start at once; each takes about a second to answer.
        let (moto_port, ministack_port) = (free_port(), free_port());
        // moto_server, its DynamoDB made atomic (see the script).
        let mut moto = Command::new(venv.join("bin/python"));
        moto.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/moto_server.py"));
        moto.args(["-H", "127.0.0.1", "-p", &moto_port.to_string()]);
        let moto = Server::spawn("moto", moto, moto_port, &log("moto"));
        let mut ministack = Command::new(venv.join("bin/ministack"));
        ministack.env("BIND_HOST", "127.0.0.1").env("GATEWAY_PORT", ministack_port.to_string());
        // Else every ministack also opens an IoT MQTT/TLS listener on 0.0.0.0:8883.
        ministack.env("IOT_MTLS_ENABLED", "0");
        let ministack = Server::spawn("ministack", ministack, ministack_port, &log("ministack"));
        moto.wait_ready("moto", "GET /moto-api/", &log("moto"));
        ministack.wait_ready("ministack", "GET /_ministack/health", &log("ministack"));
        Emulators { moto, ministack }
    }
}

impl Server {
    /// Runs `server` under the stdin watchdog (see the module docs).
    fn spawn(name: &str, server: Command, port: u16, log: &Path) -> Server {
        // $1 = log file, the rest = the server's argv. `cat` returns when our end
        // of its stdin closes, i.e. when this process is gone.
        const WATCHDOG: &str = r#"log="$1"; shift; "$@" >"$log" 2>&1 & server=$!
trap 'kill $server 2>/dev/null' EXIT INT TERM HUP
cat >/dev/null"#;
        let mut sh = Command::new("sh");
        sh.args(["-c", WATCHDOG, "sh"]).arg(log).arg(server.get_program()).args(server.get_args());
        for (key, value) in server.get_envs() {
            if let Some(value) = value {
                sh.env(key, value);
            }
        }
        let child = sh.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        let child = child.unwrap_or_else(|e| panic!("cannot start {name} under sh: {e}"));
        Server { url: format!("http://127.0.0.1:{port}"), _watchdog: Mutex::new(child) }
    }

    fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// Polls `probe` (`METHOD /path`) until it answers 200.
    fn wait_ready(&self, name: &str, probe: &str, log: &Path) {
        let started = Instant::now();
        let (method, path) = probe.split_once(' ').unwrap();
        while started.elapsed() < READY_WITHIN {
            let request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr());
            if matches!(http(&self.addr(), &request), Ok((200, _))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let output = std::fs::read_to_string(log).unwrap_or_default();
        panic!("{name} did not answer {probe} within {READY_WITHIN:?}; its log ({}):\n{output}", log.display());
    }
}

fn venv() -> PathBuf {
    let venv = super::venv();
    assert!(
        venv.join("bin/moto_server").exists() && venv.join("bin/ministack").exists(),
        "no AWS emulators in {}: run scripts/emulators.sh (or set OPSBOT_VENV)",
        venv.display()
    );
    venv
}

fn refuse_endpoint_env() {
    let set: Vec<String> = std::env::vars()
        .map(|(key, _)| key)
        .filter(|key| key.starts_with("AWS_ENDPOINT_URL") || key == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .collect();
    assert!(set.is_empty(), "unset {set:?}: they outrank the emulator endpoints the tests configure");
}

/// A port nothing listens on right now (the OS's pick for port 0).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One plain HTTP/1.1 exchange (`Connection: close`): status and body.
fn http(addr: &str, request: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// An IAM Query API call to moto. moto routes by the credential scope's service
/// name and does not check signatures, so a well-formed header is enough.
fn iam_post(addr: &str, body: &str) -> (u16, String) {
    let auth =
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http(addr, &request).expect("moto IAM call")
}
