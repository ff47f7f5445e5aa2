//! The few W3C WebDriver commands the browser tests use, spoken to chromedriver over HTTP with
//! the API tests' client.
//!
//! Why not a WebDriver crate: fantoccini (checked first) brings the `webdriver` and `url`
//! crates and two versions of ICU, whose proc-macros turn on `syn` features the rest of the
//! build does not use; the test build then compiled every crate above `syn` — Burn included —
//! a second time: 304 s instead of 45 s for `cargo test`'s targets on a cold 2-core machine.
//! The protocol itself is JSON over HTTP, and these tests need nine commands of it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver on a free port, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts `chromedriver` (or `$SQUIGGLE_CHROMEDRIVER`) and waits until it listens.
    pub fn start() -> Self {
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

/// A browser session, closed when dropped.
pub struct Browser {
    agent: ureq::Agent,
    session: String,
    _profile: tempfile::TempDir,
}

/// An element of the page, as WebDriver names it.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Browser {
    /// A headless Chromium (`/usr/bin/chromium`, or `$SQUIGGLE_CHROMIUM`) of 1400 × 1500
    /// pixels with a fresh profile, driven by `driver`.
    pub fn open(driver: &Driver) -> Self {
        let binary =
            std::env::var("SQUIGGLE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1400,1500".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": binary, "args": args}
        }}});
        let created = send(
            &agent,
            "POST",
            &format!("{}/session", driver.url),
            Some(capabilities),
        );
        let session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"));
        Self {
            session: format!("{}/session/{session}", driver.url),
            agent,
            _profile: profile,
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        send(
            &self.agent,
            method,
            &format!("{}{path}", self.session),
            body,
        )
    }

    /// Runs the command `make` builds from the id of the element `css` finds. The page
    /// replaces its SVG elements whenever an answer from the server arrives, so the element
    /// found a moment ago may be gone by the time the command reaches it ("stale element
    /// reference"): then it is looked up again, up to ten times.
    fn on_element(
        &self,
        css: &str,
        make: impl Fn(&str) -> (&'static str, String, Option<Value>),
    ) -> Value {
        let mut tries = 0;
        loop {
            let Element(id) = self.find(css);
            let (method, path, body) = make(&id);
            let url = format!("{}{path}", self.session);
            match try_send(&self.agent, method, &url, body) {
                Ok(value) => return value,
                Err(answer)
                    if answer["value"]["error"] == "stale element reference" && tries < 10 =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(answer) => panic!("{method} {url}: {answer}"),
            }
        }
    }

    /// Goes to `url`.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    /// The result of `script`, a function body run in the page.
    pub fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// The element that the CSS selector `css` finds first.
    pub fn find(&self, css: &str) -> Element {
        let found = self.command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        Element(
            found[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("{css}: {found}"))
                .to_string(),
        )
    }

    /// Clicks the element `css` finds.
    pub fn click(&self, css: &str) {
        self.on_element(css, |id| {
            ("POST", format!("/element/{id}/click"), Some(json!({})))
        });
    }

    /// The element's DOM property `name` (`value`, `disabled`, …).
    pub fn property(&self, css: &str, name: &str) -> Value {
        self.on_element(css, |id| {
            ("GET", format!("/element/{id}/property/{name}"), None)
        })
    }

    /// The element's attribute `name`.
    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let value = self.on_element(css, |id| {
            ("GET", format!("/element/{id}/attribute/{name}"), None)
        });
        value.as_str().map(str::to_string)
    }

    /// The element's rendered text.
    pub fn text(&self, css: &str) -> String {
        let value = self.on_element(css, |id| ("GET", format!("/element/{id}/text"), None));
        value.as_str().unwrap_or_default().to_string()
    }

    /// A mouse moving to (`x`, `y`) from the centre of the element `css` finds, then doing
    /// `steps` (`down`, `up`, or a move by `[dx, dy]` over 200 ms).
    pub fn mouse(&self, css: &str, x: f64, y: f64, steps: &[Mouse]) {
        self.on_element(css, |id| {
            let mut actions = vec![json!({
                "type": "pointerMove", "origin": {ELEMENT: id}, "x": x, "y": y
            })];
            for step in steps {
                actions.push(match step {
                    Mouse::Down => json!({"type": "pointerDown", "button": 0}),
                    Mouse::Up => json!({"type": "pointerUp", "button": 0}),
                    Mouse::By(dx, dy) => json!({
                        "type": "pointerMove", "origin": "pointer", "x": dx, "y": dy, "duration": 200
                    }),
                });
            }
            let sequence = json!({"actions": [{
                "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                "actions": actions
            }]});
            ("POST", "/actions".to_string(), Some(sequence))
        });
    }

    /// Resizes the window to `width` × `height` pixels (a projector's 1024 × 768, a desktop's
    /// 1920 × 1080).
    pub fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let encoded = self.command("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap()
    }

    /// Waits until `script` (a function body) returns something truthy, and returns it.
    pub fn until(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = self.execute(script);
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
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.session).call();
    }
}

/// One step of [`Browser::mouse`].
pub enum Mouse {
    /// Press the left button.
    Down,
    /// Release it.
    Up,
    /// Move by this many pixels.
    By(f64, f64),
}

/// A WebDriver command: its `value`, or a failure naming the error.
fn send(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Value {
    try_send(agent, method, url, body).unwrap_or_else(|answer| panic!("{method} {url}: {answer}"))
}

/// A WebDriver command: its `value`, or the error answer (status ≥ 400).
fn try_send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<Value>,
) -> Result<Value, Value> {
    let response = match method {
        "GET" => agent.get(url).call(),
        _ => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.unwrap_or(json!({})).to_string()),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let answer: Value = response.body_mut().read_json().unwrap();
    if status < 400 {
        Ok(answer["value"].clone())
    } else {
        Err(json!({"status": status, "value": answer["value"]}))
    }
}
