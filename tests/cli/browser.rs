//! The pages of `squiggle serve` in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) by fantoccini. The playground must show the lesson's numbers after
//! ten clicks on Step, freeze and unfreeze by clicking, follow a dragged point, and play; the
//! dashboard must draw the epochs a run writes while it is open.
//!
//! They need Debian's `chromium` and `chromium-driver` (`.ci/run` installs them), so they are
//! ignored by a plain `cargo test` and run by `.ci/run` with `--ignored`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::serve::Server;
use crate::util::{close, scratch, squiggle, write};

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let path = std::env::var("SQUIGGLE_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{path} should start (install Debian's chromium-driver): {e}")
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `test` with a fresh headless Chromium session.
fn with_browser<F>(test: impl FnOnce(Client) -> F)
where
    F: std::future::Future<Output = Client>,
{
    let driver = Driver::start();
    let profile = scratch();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let binary =
            std::env::var("SQUIGGLE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1500",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": binary, "args": args}),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");
        let client = test(client).await;
        let _ = client.close().await;
    });
}

/// Waits until `script` (a function body returning a value) returns something truthy, and
/// returns it.
async fn until(client: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let value = client.execute(script, vec![]).await.unwrap();
        let done = match &value {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::String(s) => !s.is_empty(),
            _ => true,
        };
        if done {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text(client: &Client, id: &str) -> String {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Ten clicks on Step, each answered before the next.
async fn ten_steps(client: &Client) {
    for k in 1..=10 {
        click(client, "#step").await;
        let script = format!("return document.getElementById('step-count').textContent === '{k}'");
        until(client, "a step", &script).await;
    }
}

/// A double click at (`x`, `y`) from the centre of `element`.
fn double_click(element: fantoccini::elements::Element, x: f64, y: f64) -> MouseActions {
    let press = |m: MouseActions| {
        m.then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
    };
    let moved = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
        element,
        duration: None,
        x,
        y,
    });
    press(press(moved))
}

/// Every parameter's value in the page's last state.
async fn param_values(client: &Client) -> Value {
    let script = "return state.params.map(p => p.value)";
    client.execute(script, vec![]).await.unwrap()
}

/// Where the tests leave their screenshots (README's comes from here).
fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
fn the_playground_reproduces_the_lesson_in_a_browser() {
    let server = Server::start(&[]);
    let cli = squiggle(&["train", "configs/statquest-pt2.toml", "--json"]).json();
    let url = format!("{}/", server.url);
    with_browser(|client| async move {
        client.goto(&url).await.unwrap();
        until(
            &client,
            "the first state",
            "return document.getElementById('loss').textContent.includes('20.42')",
        )
        .await;
        ten_steps(&client).await;
        let b3 = client
            .find(Locator::Id("param-b3"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b3, "2.608911");
        close(
            "b3",
            b3.parse().unwrap(),
            cli["params"]["b3"].as_f64().unwrap(),
            1e-6,
        );
        let ssr: f64 = text(&client, "loss").await.parse().unwrap();
        close("SSR", ssr, cli["final_loss"].as_f64().unwrap(), 1e-9);
        close("SSR", ssr, 6.3036e-5, 1e-8);
        let status = text(&client, "status").await;
        assert!(
            status.starts_with("min_step_size fired after 10 steps"),
            "{status}"
        );
        assert_eq!(
            client
                .find(Locator::Id("step"))
                .await
                .unwrap()
                .prop("disabled")
                .await
                .unwrap()
                .as_deref(),
            Some("true"),
            "a stopped run cannot step"
        );
        // The chain rule of b3 is shown and agrees with autodiff and finite differences.
        assert_eq!(text(&client, "explain-param").await, "b3");
        assert!(
            text(&client, "explain-check")
                .await
                .contains("all three agree")
        );

        // Freeze b3 by clicking it in the network; unfreeze w3; step: only w3 moves.
        click(&client, "#node-b3").await;
        until(
            &client,
            "b3 frozen",
            "return document.getElementById('status').textContent.startsWith('nothing trains')",
        )
        .await;
        click(&client, "#node-w3").await;
        until(
            &client,
            "w3 trains",
            "return document.getElementById('trains-w3').checked",
        )
        .await;
        let before = param_values(&client).await;
        click(&client, "#step").await;
        until(
            &client,
            "step 11",
            "return document.getElementById('step-count').textContent === '11'",
        )
        .await;
        let after = param_values(&client).await;
        for (k, name) in ["w1", "w2", "b1", "b2", "w3", "w4", "b3"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                before[k] != after[k],
                *name == "w3",
                "{name}: {before} → {after}"
            );
        }

        // Drag the middle point up: the data and the squiggle change.
        let squiggle_before = client
            .find(Locator::Id("squiggle"))
            .await
            .unwrap()
            .attr("d")
            .await
            .unwrap();
        let point = client
            .find(Locator::Css("circle.point[data-index='1']"))
            .await
            .unwrap();
        let drag = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: point,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(200)),
                x: 0.0,
                y: -60.0,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        client.perform_actions(drag).await.unwrap();
        let moved = until(
            &client,
            "the dragged point",
            "return state.data[1][1] > 1.2 && state.data[1][1]",
        )
        .await;
        let squiggle_after = client
            .find(Locator::Id("squiggle"))
            .await
            .unwrap()
            .attr("d")
            .await
            .unwrap();
        assert_ne!(squiggle_before, squiggle_after, "the squiggle is redrawn");
        assert_eq!(
            client
                .execute("return state.data.length", vec![])
                .await
                .unwrap(),
            json!(3),
            "a drag moves a point, it does not add one"
        );
        assert!(moved.as_f64().unwrap() > 1.2);
        let png = client.screenshot().await.unwrap();
        std::fs::write(screenshot_path("playground-dragged.png"), png).unwrap();

        // Double-click empty space: a point is added there; double-click it: it is gone.
        let fit = client.find(Locator::Id("fit")).await.unwrap();
        client
            .perform_actions(double_click(fit, 120.0, 60.0))
            .await
            .unwrap();
        until(&client, "a fourth point", "return state.data.length === 4").await;
        let added = client
            .find(Locator::Css("circle.point[data-index='3']"))
            .await
            .unwrap();
        client
            .perform_actions(double_click(added, 0.0, 0.0))
            .await
            .unwrap();
        until(
            &client,
            "three points again",
            "return state.data.length === 3",
        )
        .await;

        // Back to the lesson for the picture: Pt. 2 after ten steps.
        click(&client, "#reload").await;
        until(
            &client,
            "a fresh Pt. 2",
            "return state.step === 0 && state.data[1][1] === 1",
        )
        .await;
        ten_steps(&client).await;
        let png = client.screenshot().await.unwrap();
        std::fs::write(screenshot_path("playground.png"), png).unwrap();

        // Play Details Pt. 2 (all seven parameters, 8,066 steps to converge) for two seconds.
        let preset = client.find(Locator::Id("preset")).await.unwrap();
        preset
            .select_by_value("statquest-details-pt2")
            .await
            .unwrap();
        until(
            &client,
            "Details Pt. 2",
            "return state.name === 'statquest-details-pt2'",
        )
        .await;
        click(&client, "#play").await;
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        click(&client, "#play").await;
        let seconds = start.elapsed().as_secs_f64();
        let steps = client
            .execute("return state.step", vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        eprintln!(
            "playing: {steps} steps in {seconds:.2} s = {:.0} steps/s (one step a frame)",
            steps / seconds
        );
        assert!(steps >= 10.0, "Play steps on its own: {steps} steps");
        client
    });
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
fn the_dashboard_draws_epochs_as_they_are_written() {
    let dir = scratch();
    crate::util::generate(dir.path(), 200, "dosage.csv", &[]);
    let config = write(
        dir.path(),
        "epochs.toml",
        "[model]\nhidden = [2]\n[data]\ncsv = \"dosage.csv\"\ninputs = [\"dosage\"]\ntargets = [\"efficacy\"]\nvalid_fraction = 0.2\n[train]\nepochs = 3\nbatch_size = 16\n",
    );
    let runs = dir.path().join("runs");
    let run = runs.join("dosage");
    squiggle(&["train", &config, "--run-dir", run.to_str().unwrap()]).success();
    let server = Server::start(&["--run", runs.to_str().unwrap()]);
    let url = format!("{}/runs", server.url);
    let metrics = run.join("metrics.csv");
    with_browser(|client| async move {
        client.goto(&url).await.unwrap();
        until(
            &client,
            "three epochs",
            "return document.getElementById('run-title').dataset.epochs === '3'",
        )
        .await;
        assert!(text(&client, "config").await.contains("batch_size = 16"));
        let points = "return document.querySelectorAll('#loss circle').length";
        let before = client
            .execute(points, vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        assert_eq!(before, 6, "train and validation loss for three epochs");
        // Two more epochs are written while the page is open (as a run still training writes
        // them): they appear without a reload.
        let text_before = std::fs::read_to_string(&metrics).unwrap();
        let last = text_before.lines().last().unwrap().to_string();
        let more: String = (4..=5)
            .map(|e| format!("{}\n", last.replacen("3,", &format!("{e},"), 1)))
            .collect();
        std::fs::write(&metrics, format!("{text_before}{more}")).unwrap();
        until(
            &client,
            "five epochs",
            "return document.getElementById('run-title').dataset.epochs === '5'",
        )
        .await;
        let after = client
            .execute(points, vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        assert_eq!(after, 10);
        let png = client.screenshot().await.unwrap();
        std::fs::write(screenshot_path("runs.png"), png).unwrap();
        client
    });
}
