//! Logging and process signals. Logs go to stderr (stdout belongs to the
//! console's replies): human-readable by default, JSON lines with
//! `OPSBOT_LOG_FORMAT=json`; the level from `RUST_LOG`, else `default_level`
//! (`info` for the server; `warn` for the console, whose stdout is the reply;
//! `error` for the demo, whose stdout is the whole show).

use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colours only for a person at a terminal: in a file or a log service
    // the escape codes are noise around every field.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if std::env::var("OPSBOT_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
    // One rustls provider for the whole process (slack-morphism and the AWS
    // SDK both use rustls; see notes/crates.md on the CryptoProvider panic).
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Resolves on Ctrl-C or SIGTERM (what container runtimes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("stop requested");
}
