//! `authsignal-fake`: the fake Authsignal Server API as a standalone server,
//! for tests in any language and docker-compose stacks. See the
//! `authsignal-testkit` crate docs for the options and the seed file format.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;

use authsignal_testkit::FakeAuthsignal;

const USAGE: &str = "usage: authsignal-fake [--host ADDR] [--port PORT] [--secret KEY] \
[--call-connect-secret KEY] [--seed FILE]";

/// The command line, parsed.
#[derive(Debug, Default)]
struct Options {
    host: Option<IpAddr>,
    port: u16,
    secret: Option<String>,
    call_connect_secret: Option<String>,
    seed: Option<PathBuf>,
}

fn parse_args() -> Result<Options, lexopt::Error> {
    use lexopt::prelude::*;
    let mut options = Options::default();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("host") => options.host = Some(parser.value()?.parse()?),
            Long("port") | Short('p') => options.port = parser.value()?.parse()?,
            Long("secret") => options.secret = Some(parser.value()?.string()?),
            Long("call-connect-secret") => {
                options.call_connect_secret = Some(parser.value()?.string()?);
            }
            Long("seed") => options.seed = Some(parser.value()?.into()),
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("authsignal-fake: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_args().map_err(|e| format!("{e}\n{USAGE}"))?;
    let fake = match (options.secret, options.call_connect_secret) {
        (Some(secret), Some(cc)) => FakeAuthsignal::with_secrets(secret, cc),
        (Some(secret), None) => FakeAuthsignal::with_secret(secret),
        (None, Some(cc)) => FakeAuthsignal::with_secrets(FakeAuthsignal::new().secret(), cc),
        (None, None) => {
            let fake = FakeAuthsignal::new();
            // Made up, so the user has to learn it somehow.
            println!("secret {}", fake.secret());
            fake
        }
    };
    if let Some(path) = &options.seed {
        let json = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        fake.load_seed(&json)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let host = options.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let listener = TcpListener::bind(SocketAddr::new(host, options.port))
        .map_err(|e| format!("cannot listen on {host}:{}: {e}", options.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let shutdown = shutdown_signal()?;
        println!("listening on http://{addr}/v1");
        fake.serve(listener, shutdown, true)
            .await
            .map_err(|e| e.to_string())
    })
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
