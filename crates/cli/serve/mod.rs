//! `squiggle serve`: the lesson in the browser and a dashboard of training runs.
//!
//! - the playground itself (a config trained step by step by the core's
//!   [`Stepper`](squiggle_train::Stepper), the state its page draws, the lesson presets, the
//!   requests it reads) is the `squiggle_playground` crate, which the WebAssembly page runs
//!   too;
//! - `registry.rs`: the playgrounds of a server (independent, capped, expiring);
//! - `api.rs`: the JSON API; `runs.rs`: the run folders the dashboard reads;
//! - `limits.rs`: every limit of the server;
//! - `assets/`: the two pages (HTML, CSS, JavaScript: drawing only, every number comes from
//!   the API), compiled into the binary so the server needs no network and no files.
//!
//! axum serves HTTP/1 on tokio's runtime; the computations run on tokio's blocking pool, so
//! a long request never holds up the others. `guard.rs` refuses requests for another host and
//! changes from another site's page; connections are capped, and one that sends its headers
//! too slowly or sits idle is closed (`limits.rs`).

mod api;
mod guard;
mod limits;
mod registry;
mod runs;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use serde_json::Value;

use squiggle_config::Overrides;
use squiggle_playground::presets;
use squiggle_playground::{Playground, Refusal};

use crate::interrupt::{self, Interrupted};
use api::{ApiError, View};
use limits::{COMPUTE_THREADS, HEADER_READ_TIMEOUT, IDLE_TIMEOUT, MAX_BODY_BYTES, MAX_CONNECTIONS};
use registry::Registry;
pub use runs::Runs;

/// What `squiggle serve` was asked for.
pub struct Options {
    /// The config a new playground opens on: its name, path and text.
    pub start: (String, PathBuf, String),
    /// Flags that override every playground's config (`--backend`).
    pub overrides: Overrides,
    /// The run folders of the dashboard (`--run DIR`).
    pub runs: Option<Runs>,
    /// Where to listen.
    pub host: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// Open the page in a browser.
    pub open: bool,
}

/// The built-in lesson config a playground opens on without a config.
pub fn default_start() -> (String, PathBuf, String) {
    let preset = presets::default_preset();
    (
        preset.name.to_string(),
        preset.path(),
        preset.text.to_string(),
    )
}

/// The server's state, shared by every request.
#[derive(Clone)]
pub struct App {
    registry: Arc<Mutex<Registry>>,
    start: (String, PathBuf, String),
    overrides: Overrides,
    runs: Option<Runs>,
}

impl App {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // The registry is only a map: a request that panicked while holding it left it whole.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work` on the blocking pool.
    async fn compute<T: Send + 'static>(
        &self,
        work: impl FnOnce(&App) -> Result<T, Refusal> + Send + 'static,
    ) -> Result<T, ApiError> {
        let app = self.clone();
        match tokio::task::spawn_blocking(move || work(&app)).await {
            Ok(result) => result.map_err(ApiError::from),
            Err(_) => Err(Refusal::Failed("the computation failed".into()).into()),
        }
    }

    /// Changes playground `id` with `change`, then answers its state.
    async fn with(
        &self,
        id: String,
        view: View,
        change: impl FnOnce(&mut Playground) -> Result<(), Refusal> + Send + 'static,
    ) -> Result<axum::Json<Value>, ApiError> {
        self.on(id, move |playground, id| {
            change(playground)?;
            playground.state(id, view.param())
        })
        .await
    }

    /// Runs `work` on playground `id` (given its id) on the blocking pool, and answers what
    /// it returns.
    async fn on(
        &self,
        id: String,
        work: impl FnOnce(&mut Playground, &str) -> Result<Value, Refusal> + Send + 'static,
    ) -> Result<axum::Json<Value>, ApiError> {
        let shared = self
            .registry()
            .get(&id, std::time::Instant::now())
            .ok_or_else(|| api::unknown(&id))?;
        let answer = self
            .compute(move |app| {
                let Ok(mut playground) = shared.lock() else {
                    // A computation panicked inside it: its state cannot be trusted.
                    app.registry().remove(&id);
                    return Err(Refusal::Failed(
                        "this playground failed and was closed; create a new one".into(),
                    ));
                };
                work(&mut playground, &id)
            })
            .await?;
        Ok(axum::Json(answer))
    }
}

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const BACKEND_JS: &str = include_str!("assets/backend.js");
const PLOT_JS: &str = include_str!("assets/plot.js");
const STYLE_CSS: &str = include_str!("assets/style.css");
const RUNS_HTML: &str = include_str!("assets/runs.html");
const RUNS_JS: &str = include_str!("assets/runs.js");

fn asset(kind: &'static str, text: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, kind)], text)
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every route of the server, behind the guard for requests to `hosts`.
pub fn router(app: App, hosts: guard::Hosts) -> Router {
    Router::new()
        .route("/", get(|| async { asset(HTML, INDEX_HTML) }))
        .route("/app.js", get(|| async { asset(JS, APP_JS) }))
        .route("/backend.js", get(|| async { asset(JS, BACKEND_JS) }))
        .route("/plot.js", get(|| async { asset(JS, PLOT_JS) }))
        .route("/style.css", get(|| async { asset(CSS, STYLE_CSS) }))
        .route("/runs", get(|| async { asset(HTML, RUNS_HTML) }))
        .route("/runs.js", get(|| async { asset(JS, RUNS_JS) }))
        .route("/api/presets", get(api::presets))
        .route("/api/playgrounds", post(api::create))
        .route("/api/playgrounds/{id}", get(api::state).delete(api::delete))
        .route("/api/playgrounds/{id}/explain", get(api::explain))
        .route("/api/playgrounds/{id}/{action}", post(api::act))
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{name}", get(api::run))
        .route("/api", any(api::not_found))
        .route("/api/{*rest}", any(api::not_found))
        .method_not_allowed_fallback(|| async {
            ApiError::method_not_allowed(
                "this path does not take that method; docs/playground.md lists the API",
            )
        })
        .fallback(|| async {
            ApiError::not_found(
                "no such page; the playground is at / and the run dashboard at /runs",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(hosts, guard::guard))
        .with_state(app)
}

/// Serves `router` on `listener` until `stop` completes: each connection on a task of its own,
/// at most [`MAX_CONNECTIONS`] at once (one more is closed at once), its headers read within
/// [`HEADER_READ_TIMEOUT`], closed once idle for [`IDLE_TIMEOUT`].
async fn accept(
    listener: tokio::net::TcpListener,
    router: Router,
    stop: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use std::sync::atomic::{AtomicU64, Ordering};
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let started = std::time::Instant::now();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            () = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let router = router.clone();
        tokio::spawn(async move {
            let _slot = slot;
            // Seconds since the server started at the connection's last request.
            let last = Arc::new(AtomicU64::new(started.elapsed().as_secs()));
            let seen = Arc::clone(&last);
            let service = hyper::service::service_fn(move |request| {
                seen.store(started.elapsed().as_secs(), Ordering::Relaxed);
                tower::ServiceExt::oneshot(router.clone(), request)
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let mut closing = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        let idle = started.elapsed().as_secs() - last.load(Ordering::Relaxed);
                        if !closing && idle >= IDLE_TIMEOUT.as_secs() {
                            // Closes the connection once no request is in flight.
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            }
        });
    }
}

/// Serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// The address cannot be listened on (a busy port names itself), the runtime cannot start,
/// or the server was interrupted (exit 130/143, after closing every connection).
pub fn serve(options: Options) -> anyhow::Result<()> {
    // The start config is checked now, so a bad one is an error here, not on the page.
    let (name, path, text) = &options.start;
    Playground::new(
        name,
        path,
        text.clone(),
        options.overrides.clone(),
        crate::session::playground_device,
    )
    .map_err(|r| anyhow::anyhow!("{}", refusal_text(r)))?;
    // Before the URL is printed: from then on a client (or a test) may signal at any time.
    interrupt::install()?;
    let address = SocketAddr::new(options.host, options.port);
    let listener = TcpListener::bind(address).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "cannot listen on {address}: the port is in use; choose another with --port (--port 0 picks a free one)"
            )
        } else {
            anyhow::anyhow!("cannot listen on {address}: {e}")
        }
    })?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let url = format!("http://{bound}/");
    let mut lines = vec![format!("The playground is at {url}")];
    if options.runs.is_some() {
        lines.push(format!("The run dashboard is at {url}runs"));
    }
    if !options.host.is_loopback() {
        lines.push(format!(
            "Listening on {} for every machine that can reach it; the API has no authentication.",
            options.host
        ));
    }
    lines.push("Press Ctrl-C to stop.".into());
    crate::output::print_lines(&lines)?;
    if options.open {
        open_browser(&url);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(COMPUTE_THREADS)
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the server's runtime")?;
    let app = App {
        registry: Arc::new(Mutex::new(Registry::default())),
        start: options.start,
        overrides: options.overrides,
        runs: options.runs,
    };
    let expiring = app.clone();
    let hosts = guard::Hosts::for_address(bound);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                expiring.registry().expire(std::time::Instant::now());
            }
        });
        accept(listener, router(app, hosts), async {
            while interrupt::requested().is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        Ok::<(), std::io::Error>(())
    })?;
    // Open connections and computations in progress are not waited for beyond a moment.
    runtime.shutdown_timeout(Duration::from_secs(2));
    let signal = interrupt::requested().unwrap_or(2);
    Err(Interrupted {
        signal,
        what: "interrupted; the server stopped".into(),
    }
    .into())
}

/// A refusal's message, for the command line.
fn refusal_text(refusal: Refusal) -> String {
    match refusal {
        Refusal::Bad(m) | Refusal::NotFound(m) | Refusal::Conflict(m) | Refusal::Failed(m) => m,
    }
}

/// Opens `url` in the desktop's browser; says so when there is none.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let opened = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if opened.is_err() {
        eprintln!("squiggle: --open: no browser could be started ({opener}); open {url} yourself");
    }
}

#[cfg(test)]
mod fuzz_tests {
    use super::*;

    /// Mutated bodies, paths and query strings sent to every endpoint of a real server get a
    /// JSON answer below 500, and the server goes on answering (a bounded pass;
    /// `SQUIGGLE_FUZZ_SECONDS=600` for a long one).
    #[test]
    fn fuzzed_requests_get_an_answer() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = App {
            registry: Arc::new(Mutex::new(Registry::default())),
            start: default_start(),
            overrides: Overrides::default(),
            runs: None,
        };
        let hosts = guard::Hosts::for_address(listener.local_addr().unwrap());
        runtime.spawn(accept(listener, router(app, hosts), std::future::pending()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        // `None` where the client itself refuses the request (a path that is no URI).
        let post = |path: &str, body: &[u8]| -> Option<(u16, String)> {
            let mut response = agent
                .post(&format!("{url}{path}"))
                .header("Content-Type", "application/json")
                .send(body)
                .ok()?;
            let status = response.status().as_u16();
            Some((
                status,
                response.body_mut().read_to_string().unwrap_or_default(),
            ))
        };
        let (status, created) = post(
            "/api/playgrounds",
            br#"{"preset": "statquest-details-pt2"}"#,
        )
        .unwrap();
        assert_eq!(status, 201, "{created}");
        let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Each seed is `path body`, split at the first space after mutation.
        let seeds: Vec<Vec<u8>> = [
            format!("/api/playgrounds/{id}/step {{\"steps\": 3}}"),
            format!("/api/playgrounds/{id}/values {{\"values\": {{\"b3\": 1.5, \"w1\": -2}}}}"),
            format!("/api/playgrounds/{id}/trainable {{\"trainable\": [\"b3\", \"w1\"]}}"),
            format!(
                "/api/playgrounds/{id}/settings {{\"learning_rate\": 0.1, \"max_steps\": 50, \"min_step_size\": 0.001, \"target_loss\": 0.0001}}"
            ),
            format!("/api/playgrounds/{id}/data {{\"points\": [[0, 0], [0.5, 1], [1, 0]]}}"),
            format!("/api/playgrounds/{id}/reset?param=w3 {{}}"),
            "/api/playgrounds {\"toml\": \"[model]\\nhidden = [2]\\n[data]\\npoints = [[0.0, 0.0], [1.0, 1.0]]\\n[train]\\nlearning_rate = 0.1\"}".to_string(),
            "/api/playgrounds {\"preset\": \"statquest-pt1\"}".to_string(),
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let budget = squiggle_train::fuzz::Budget::from_env(300);
        let mut sent = 0;
        let ran = squiggle_train::fuzz::run(&seeds, budget, |input| {
            let text = String::from_utf8_lossy(input);
            let (path, body) = text.split_once(' ').unwrap_or((&text, ""));
            // A path must start with `/`, or the URL names another host.
            if !path.starts_with('/') {
                return;
            }
            let Some((status, answer)) = post(path, body.as_bytes()) else {
                return;
            };
            sent += 1;
            assert!(status < 500, "{path} {body}: {status} {answer}");
            if status >= 400 {
                let error: Value = serde_json::from_str(&answer)
                    .unwrap_or_else(|_| panic!("{path} {body}: {status} {answer}"));
                let message = error["error"].as_str().unwrap();
                assert!(!message.contains('\n'), "one line: {message}");
            }
        });
        eprintln!("serve: {ran} fuzzed requests, {sent} sent");
        assert!(ran >= 300 && sent >= ran / 2, "{sent} of {ran} sent");
        // A new client: the server may have closed the pooled connection after a request
        // whose body it refused unread, as HTTP allows.
        let fresh: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = fresh
            .get(&format!("{url}/api/playgrounds/{id}"))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response
                .body_mut()
                .read_to_string()
                .unwrap()
                .contains("\"step\"")
        );
    }
}
