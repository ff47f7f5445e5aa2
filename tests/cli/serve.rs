//! `squiggle serve`: the API against a real server on a free port — the lesson's numbers,
//! freezing, data edits, every refusal, independent and concurrent playgrounds — and the
//! run dashboard.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::util::{close, generate, root, scratch, squiggle, squiggle_in, write};

/// A `squiggle serve` process on a free port, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, without the final slash.
    pub url: String,
    agent: ureq::Agent,
}

impl Server {
    /// Starts `squiggle serve --port 0 ARGS` in the repository root and waits for its URL.
    pub fn start(args: &[&str]) -> Self {
        Self::start_in(&root(), args)
    }

    /// `squiggle serve ARGS` started in `dir`.
    pub fn start_in(dir: &std::path::Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_squiggle"))
            .arg("serve")
            .args(["--port", "0"])
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("squiggle serve should start");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("The playground is at ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .trim_end_matches('/')
            .to_string();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Self { child, url, agent }
    }

    /// `METHOD path` with `body` (JSON text), answering the status and the parsed JSON.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, Some(text)) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(text),
            (_, None) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send_empty(),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
        };
        (status, value)
    }

    /// `POST path` with a JSON value, expecting 200 (201 for a new playground).
    #[track_caller]
    pub fn post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.call("POST", path, Some(&body.to_string()));
        assert!(
            status == 200 || status == 201,
            "POST {path}: {status} {value}"
        );
        value
    }

    /// A new playground of `preset`: its state.
    pub fn playground(&self, preset: &str) -> Value {
        self.post("/api/playgrounds", json!({"preset": preset}))
    }

    /// The answer to `METHOD path` with `body`, which must be refused with `status`: its
    /// message.
    #[track_caller]
    pub fn refused(&self, method: &str, path: &str, body: Option<&str>, status: u16) -> String {
        let (got, value) = self.call(method, path, body);
        assert_eq!(got, status, "{method} {path}: {value}");
        value["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {value}"))
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of parameter `name` in a state.
pub fn param(state: &Value, name: &str) -> f64 {
    state["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {state}"))["value"]
        .as_f64()
        .unwrap()
}

fn id(state: &Value) -> String {
    state["id"].as_str().unwrap().to_string()
}

#[test]
fn ten_steps_of_pt2_are_the_numbers_of_squiggle_train() {
    let server = Server::start(&[]);
    let state = server.playground("statquest-pt2");
    assert_eq!(state["step"], 0);
    close(
        "initial SSR",
        state["loss"].as_f64().unwrap(),
        20.423598,
        1e-5,
    );
    let path = format!("/api/playgrounds/{}/step", id(&state));
    let mut state = state;
    let mut b3 = Vec::new();
    for _ in 0..10 {
        state = server.post(&path, json!({"steps": 1}));
        b3.push(param(&state, "b3"));
    }
    let cli = squiggle(&["train", "configs/statquest-pt2.toml", "--json"]).json();
    let cli_b3 = cli["params"]["b3"].as_f64().unwrap();
    assert_eq!(param(&state, "b3"), cli_b3, "the same core, the same bits");
    close("b3", cli_b3, 2.608911, 1e-6);
    let loss = state["loss"].as_f64().unwrap();
    assert_eq!(loss, cli["final_loss"].as_f64().unwrap());
    close("SSR", loss, 6.3036e-5, 1e-8);
    assert_eq!(state["step"], 10);
    assert_eq!(state["status"]["rule"], "min_step_size");
    assert_eq!(state["status"]["verdict"], "converged");
    // The lesson's path: 0 → 1.5655 → 2.1917 → 2.4422 → …
    for (got, want) in b3.iter().zip([1.565511, 2.191715, 2.442197]) {
        close("b3 step", *got, want, 1e-5);
    }
    // The loss curve holds every step; the landscape is exact (b3 alone trains), with a dot
    // per step at the loss the run had.
    assert_eq!(state["history"]["steps"].as_array().unwrap().len(), 11);
    assert_eq!(state["landscape"]["exact"], true);
    assert_eq!(state["landscape"]["dots"].as_array().unwrap().len(), 10);
    close(
        "first dot",
        state["landscape"]["dots"][0][2].as_f64().unwrap(),
        20.423598,
        1e-5,
    );
    // A stopped run refuses more steps, saying why and what to do.
    let message = server.refused("POST", &path, Some(r#"{"steps": 1}"#), 409);
    assert_eq!(
        message,
        "the run has stopped (min_step_size fired after 10 steps: every step size fell below 0.001); change a setting, a value or the data, or reset"
    );
    // Reset goes back to the start; ten steps in one request end at the same numbers.
    let reset = server.post(&format!("/api/playgrounds/{}/reset", id(&state)), json!({}));
    assert_eq!(
        (reset["step"].as_u64(), param(&reset, "b3")),
        (Some(0), 0.0)
    );
    let again = server.post(&path, json!({"steps": 1000}));
    assert_eq!(again["step"], 10);
    assert_eq!(param(&again, "b3"), cli_b3);
}

/// The page's kernels selector: Burn's autodiff of the module takes the steps from then on,
/// with the numbers of `squiggle train --kernels burn`.
#[test]
fn the_playground_steps_with_either_kernels() {
    let server = Server::start(&[]);
    let state = server.playground("statquest-pt2");
    assert_eq!(state["kernels"], "fused");
    assert_eq!(state["explain"]["kernels"], "fused");
    let settings = format!("/api/playgrounds/{}/settings", id(&state));
    let state = server.post(&settings, json!({"kernels": "burn"}));
    assert_eq!(state["kernels"], "burn");
    assert_eq!(state["explain"]["kernels"], "burn");
    let path = format!("/api/playgrounds/{}/step", id(&state));
    let state = server.post(&path, json!({"steps": 100}));
    let cli = squiggle(&[
        "train",
        "configs/statquest-pt2.toml",
        "--json",
        "--kernels",
        "burn",
    ])
    .json();
    assert_eq!(cli["kernels"], "burn");
    assert_eq!(param(&state, "b3"), cli["params"]["b3"].as_f64().unwrap());
    assert_eq!(state["loss"], cli["final_loss"]);
    close("b3", param(&state, "b3"), 2.608911, 1e-6);
    let message = server.refused("POST", &settings, Some(r#"{"kernels": "cuda"}"#), 400);
    assert!(
        message.contains("unknown variant `cuda`") || message.contains("kernels"),
        "{message}"
    );
}

#[test]
fn the_explanation_is_the_chain_rule_checked_two_ways() {
    let server = Server::start(&[]);
    let state = server.playground("statquest-details-pt2");
    let explain = &state["explain"];
    // Details Pt. 2 trains every parameter; the first is w1.
    assert_eq!(explain["param"], "w1");
    let names: Vec<&str> = explain["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["dSSR/dpredicted", "dpredicted/dy1", "dy1/dx1", "dx1/dw1"]
    );
    assert_eq!(explain["agree"], true);
    for key in ["burn_autodiff", "fused_backward", "finite_difference"] {
        close(
            key,
            explain[key].as_f64().unwrap(),
            explain["chain_rule"].as_f64().unwrap(),
            1e-5,
        );
    }
    assert_eq!(explain["shown"].as_array().unwrap().len(), 4);
    // The same derivative `squiggle explain` prints for step 0.
    let cli = squiggle(&[
        "explain",
        "configs/statquest-details-pt2.toml",
        "--param",
        "w1",
        "--json",
    ])
    .json();
    let want = cli["params"][0]["chain_rule"].as_f64().unwrap();
    close(
        "dSSR/dw1",
        explain["chain_rule"].as_f64().unwrap(),
        want,
        1e-12,
    );
    // Asking for another parameter explains that one.
    let path = format!("/api/playgrounds/{}/explain?param=b3", id(&state));
    let (status, b3) = server.call("GET", &path, None);
    assert_eq!(status, 200);
    assert_eq!(b3["param"], "b3");
    assert_eq!(b3["factors"].as_array().unwrap().len(), 2);
}

#[test]
fn frozen_parameters_stay_where_they_are() {
    let server = Server::start(&[]);
    let state = server.playground("statquest-details-pt1");
    let pg = id(&state);
    let before: Vec<f64> = ["w1", "w2", "b1", "b2", "w3", "w4", "b3"]
        .iter()
        .map(|n| param(&state, n))
        .collect();
    // Only w3 trains now.
    let state = server.post(
        &format!("/api/playgrounds/{pg}/trainable"),
        json!({"trainable": ["w3"]}),
    );
    assert_eq!(state["landscape"]["param"], "w3");
    let state = server.post(&format!("/api/playgrounds/{pg}/step"), json!({"steps": 5}));
    for (k, name) in ["w1", "w2", "b1", "b2", "w3", "w4", "b3"]
        .iter()
        .enumerate()
    {
        let moved = param(&state, name) != before[k];
        assert_eq!(moved, *name == "w3", "{name}: {state}");
    }
    // With nothing trainable, stepping is refused.
    server.post(
        &format!("/api/playgrounds/{pg}/trainable"),
        json!({"trainable": []}),
    );
    let message = server.refused("POST", &format!("/api/playgrounds/{pg}/step"), None, 409);
    assert_eq!(message, "nothing trains: click a parameter to unfreeze it");
}

#[test]
fn dragged_points_give_the_loss_the_cli_gives_on_the_same_data() {
    let server = Server::start(&[]);
    let state = server.playground("statquest-pt2");
    let pg = id(&state);
    let points = json!([[0.0, 0.0], [0.5, 1.4], [1.0, 0.0], [0.8, 0.3]]);
    let state = server.post(
        &format!("/api/playgrounds/{pg}/data"),
        json!({"points": points}),
    );
    assert_eq!(state["data"], points);
    let after = server.post(&format!("/api/playgrounds/{pg}/step"), json!({"steps": 4}));
    let set = "data.points=[[0.0, 0.0], [0.5, 1.4], [1.0, 0.0], [0.8, 0.3]]";
    let cli = squiggle(&[
        "train",
        "configs/statquest-pt2.toml",
        "--set",
        set,
        "--max-steps",
        "4",
        "--json",
    ])
    .json();
    assert_eq!(state["loss"], cli["initial_loss"]);
    assert_eq!(after["loss"], cli["final_loss"]);
    assert_eq!(param(&after, "b3"), cli["params"]["b3"].as_f64().unwrap());
    // Setting a value moves the network; training goes on from it.
    let state = server.post(
        &format!("/api/playgrounds/{pg}/values"),
        json!({"values": {"b3": 1.5}}),
    );
    assert_eq!(param(&state, "b3"), 1.5);
    assert_eq!(state["step"], 4, "the step count goes on");
    // The loss curve marks the change; the landscape shows only the steps taken since, on
    // the loss it draws.
    assert_eq!(state["history"]["changes"], json!([4]));
    assert_eq!(after["landscape"]["dots"].as_array().unwrap().len(), 4);
    assert_eq!(state["landscape"]["dots"], json!([]));
    let state = server.post(&format!("/api/playgrounds/{pg}/step"), json!({"steps": 2}));
    let dots: Vec<u64> = state["landscape"]["dots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[0].as_u64().unwrap())
        .collect();
    assert_eq!(dots, [4, 5]);
}

#[test]
fn settings_are_checked_like_a_config_and_a_diverging_rate_keeps_the_last_finite_state() {
    let server = Server::start(&[]);
    let state = server.playground("statquest-details-pt2");
    let pg = id(&state);
    let settings = format!("/api/playgrounds/{pg}/settings");
    assert_eq!(
        server.refused("POST", &settings, Some(r#"{"learning_rate": -1}"#), 400),
        "learning_rate = -1: `learning_rate` must be a positive number, got -1"
    );
    assert_eq!(
        server.refused("POST", &settings, Some(r#"{"learning_rat": 1}"#), 400),
        "malformed JSON body: unknown field `learning_rat`, expected one of `learning_rate`, `max_steps`, `min_step_size`, `target_loss`, `kernels` at line 1 column 15"
    );
    let state = server.post(&settings, json!({"learning_rate": 1e6}));
    assert_eq!(state["learning_rate"], 1e6);
    let state = server.post(
        &format!("/api/playgrounds/{pg}/step"),
        json!({"steps": 100}),
    );
    assert_eq!(state["status"]["state"], "diverged");
    let message = state["status"]["message"].as_str().unwrap();
    assert!(message.starts_with("diverged at step "), "{message}");
    let step: usize = message["diverged at step ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..100).contains(&step), "{message}");
    assert!(
        state["params"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["value"].as_f64().is_some_and(f64::is_finite)),
        "the last finite state stays: {state}"
    );
    // Another rate, and training goes on.
    let state = server.post(&settings, json!({"learning_rate": 0.01, "max_steps": 3}));
    assert_eq!(state["status"]["state"], "ready");
    let state = server.post(&format!("/api/playgrounds/{pg}/step"), json!({"steps": 10}));
    assert_eq!(state["status"]["rule"], "max_steps");
}

#[test]
fn bad_requests_get_their_status_and_one_line() {
    let server = Server::start(&[]);
    let state = server.playground("statquest-pt2");
    let pg = format!("/api/playgrounds/{}", id(&state));
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        (
            "POST",
            format!("{pg}/step"),
            Some("{\"steps\": 1"),
            400,
            "malformed JSON body: EOF while parsing an object at line 1 column 11",
        ),
        (
            "POST",
            format!("{pg}/step"),
            Some("{\"steps\": 0}"),
            400,
            "steps: 0 asked; one request takes 1 to 10000",
        ),
        (
            "POST",
            format!("{pg}/step"),
            Some("{\"steps\": 1000000000000}"),
            400,
            "steps: 1000000000000 asked; one request takes 1 to 10000",
        ),
        (
            "POST",
            format!("{pg}/step"),
            Some("{\"steps\": -1}"),
            400,
            "malformed JSON body: invalid value: integer `-1`, expected u64 at line 1 column 12",
        ),
        (
            "POST",
            format!("{pg}/values"),
            Some("{\"values\": {\"b3\": NaN}}"),
            400,
            "malformed JSON body: expected value at line 1 column 19",
        ),
        (
            "POST",
            format!("{pg}/values"),
            Some("{\"values\": {\"b3\": 1e400}}"),
            400,
            "malformed JSON body: number out of range at line 1 column 23",
        ),
        (
            "POST",
            format!("{pg}/values"),
            Some("{\"values\": {\"b3\": 1e300}}"),
            400,
            "b3: 1.0000e300 is outside ±1e6, which the network's f32 arithmetic cannot train from",
        ),
        (
            "POST",
            format!("{pg}/values"),
            Some("{\"values\": {\"w9\": 1}}"),
            400,
            "unknown parameter `w9`; expected one of w1, w2, w3, w4, b1, b2, b3, hidden.0.weight, hidden.0.bias, output.weight, output.bias (or an element such as output.bias[0])",
        ),
        (
            "POST",
            format!("{pg}/trainable"),
            Some("{\"trainable\": [\"output.weight\"]}"),
            400,
            "`output.weight` is a whole tensor; name one of its parameters: w1, w2, b1, b2, w3, w4, b3",
        ),
        (
            "POST",
            format!("{pg}/data"),
            Some("{\"points\": []}"),
            400,
            "points: 0 given; the playground takes 1 to 1000",
        ),
        (
            "POST",
            format!("{pg}/data"),
            Some("{\"points\": [[1, 2, 3]]}"),
            400,
            "points: point 1 has 3 values; each point is [input, target]",
        ),
        (
            "GET",
            format!("{pg}?param=w9"),
            None,
            400,
            "unknown parameter `w9`; expected one of w1, w2, w3, w4, b1, b2, b3, hidden.0.weight, hidden.0.bias, output.weight, output.bias (or an element such as output.bias[0])",
        ),
        (
            "GET",
            format!("{pg}?colour=red"),
            None,
            400,
            "query string: colour: unknown field `colour`, expected `param`",
        ),
        (
            "POST",
            "/api/playgrounds/1-0000/step".into(),
            None,
            404,
            "no playground `1-0000` (it may have expired after being idle; create one with POST /api/playgrounds)",
        ),
        (
            "DELETE",
            "/api/playgrounds/1-0000".into(),
            None,
            404,
            "no playground `1-0000` (it may have expired after being idle; create one with POST /api/playgrounds)",
        ),
        (
            "POST",
            "/api/playgrounds".into(),
            Some("{\"preset\": \"pt9\"}"),
            400,
            "unknown preset `pt9`; expected one of statquest-pt1, statquest-pt2, statquest-pt2-adam, statquest-details-pt1, statquest-details-pt2, gradient-descent, statquest-pt4-iris, statquest-pt7-cross-entropy",
        ),
        (
            "POST",
            "/api/playgrounds".into(),
            Some("{\"toml\": \"[data]\\ncsv = \\\"/etc/passwd\\\"\"}"),
            400,
            "request.toml: [data] csv: a config sent to the server cannot read its files; give the data as [data] points",
        ),
        (
            "POST",
            "/api/playgrounds".into(),
            Some("{\"toml\": \"[model]\\nhidden = [2]\\nactivation = \\\"sigmoidal\\\"\"}"),
            400,
            "request.toml:3:14: unknown activation `sigmoidal`; expected one of softplus, relu, sigmoid, tanh, identity",
        ),
        (
            "GET",
            "/api/runs".into(),
            None,
            404,
            "this server shows no runs; start it with `squiggle serve --run DIR`",
        ),
        (
            "GET",
            "/api/nothing".into(),
            None,
            404,
            "no such API endpoint; docs/playground.md lists them",
        ),
        (
            "GET",
            format!("{pg}/step"),
            None,
            405,
            "this path does not take that method; docs/playground.md lists the API",
        ),
        (
            "GET",
            "/nothing".into(),
            None,
            404,
            "no such page; the playground is at / and the run dashboard at /runs",
        ),
        (
            "POST",
            "/api/playgrounds/%FF/step".into(),
            None,
            400,
            "Invalid URL: Invalid UTF-8 in `id`",
        ),
        (
            "POST",
            format!("{pg}/fly"),
            None,
            404,
            "no such API endpoint; docs/playground.md lists them",
        ),
        (
            "POST",
            format!("{pg}/settings"),
            Some(r#"{"lear\ning_rate": 1}"#),
            400,
            "malformed JSON body: unknown field `lear\\ning_rate`, expected one of `learning_rate`, `max_steps`, `min_step_size`, `target_loss`, `kernels` at line 1 column 17",
        ),
    ];
    for (method, path, body, status, message) in cases {
        assert_eq!(
            server.refused(method, &path, body, status),
            message,
            "{method} {path}"
        );
    }
    // Enormous bodies and data sets are refused before anything is computed.
    let points: Vec<[f64; 2]> = (0..1001).map(|i| [f64::from(i), 0.0]).collect();
    let body = json!({"points": points}).to_string();
    assert_eq!(
        server.refused("POST", &format!("{pg}/data"), Some(&body), 400),
        "points: 1001 given; the playground takes 1 to 1000"
    );
    let huge = format!("{{\"toml\": \"{}\"}}", "#".repeat(300 * 1024));
    assert_eq!(
        server.refused("POST", "/api/playgrounds", Some(&huge), 413),
        "the request body is over 256 KiB"
    );
    // The playground is untouched by all of it.
    let (status, after) = server.call("GET", &pg, None);
    assert_eq!(
        (status, param(&after, "b3"), after["step"].as_u64()),
        (200, 0.0, Some(0))
    );
}

#[test]
fn playgrounds_are_independent_and_answer_many_requests_at_once() {
    let server = Server::start(&[]);
    let a = id(&server.playground("statquest-pt2"));
    let b = id(&server.playground("statquest-pt2"));
    assert_ne!(a, b);
    let after = server.post(&format!("/api/playgrounds/{a}/step"), json!({"steps": 3}));
    let (_, other) = server.call("GET", &format!("/api/playgrounds/{b}"), None);
    assert_eq!(
        (after["step"].as_u64(), other["step"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(param(&other, "b3"), 0.0);
    // 200 concurrent step requests over the two: all answered, none lost.
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..200)
            .map(|k| {
                let (server, id) = (&server, if k % 2 == 0 { &a } else { &b });
                s.spawn(move || {
                    let path = format!("/api/playgrounds/{id}/step");
                    server.call("POST", &path, Some(r#"{"steps": 1}"#)).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each playground converges after 10 steps; the requests after that are refused (409).
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 409),
        "{statuses:?}"
    );
    assert_eq!(ok, 7 + 10, "7 more steps for a, 10 for b");
    for id in [&a, &b] {
        let (_, state) = server.call("GET", &format!("/api/playgrounds/{id}"), None);
        assert_eq!(state["step"], 10);
        close("b3", param(&state, "b3"), 2.608911, 1e-6);
    }
    // A playground can be closed.
    let (status, _) = server.call("DELETE", &format!("/api/playgrounds/{a}"), None);
    assert_eq!(status, 204);
    let (status, _) = server.call("GET", &format!("/api/playgrounds/{a}"), None);
    assert_eq!(status, 404);
}

#[test]
fn a_config_given_to_serve_opens_the_playground_and_bad_ones_stop_it() {
    let dir = scratch();
    let config = write(
        dir.path(),
        "line.toml",
        "[model]\nhidden = []\n[data]\npoints = [[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]]\n[train]\nlearning_rate = 0.05\nmax_steps = 5000\nmin_step_size = 1e-9\n",
    );
    let server = Server::start(&[&config]);
    let state = server.post("/api/playgrounds", json!({}));
    assert_eq!(state["name"], "line");
    assert_eq!(state["network"], "1-[]-1 linear");
    let state = server.post(
        &format!("/api/playgrounds/{}/step", id(&state)),
        json!({"steps": 5000}),
    );
    close("slope", param(&state, "slope"), 2.0, 1e-3);
    close("intercept", param(&state, "intercept"), 1.0, 1e-3);
    drop(server);

    let bad = write(
        dir.path(),
        "bad.toml",
        "[model]\nhidden = [2]\n[data]\ncsv = \"nope.csv\"\n",
    );
    let out = squiggle(&["serve", "--port", "0", &bad]);
    assert_eq!(out.status, 2, "{out}");
    assert!(out.stderr.contains("nope.csv"), "{out}");
    // A busy port names itself.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    squiggle(&["serve", "--port", &port]).fails_with(
        2,
        &format!(
            "squiggle: cannot listen on 127.0.0.1:{port}: the port is in use; choose another with --port (--port 0 picks a free one)"
        ),
    );
}

/// `dir/runs/<name>` for each name: a run of a 1-[2]-1 network trained for `epochs` epochs on
/// 200 generated dosage rows with a validation split, as the dashboard lists them.
fn trained_runs(dir: &std::path::Path, epochs: usize, names: &[&str]) -> std::path::PathBuf {
    let runs = dir.join("runs");
    std::fs::create_dir(&runs).unwrap();
    crate::util::generate(dir, 200, "dosage.csv", &[]);
    let config = write(
        dir,
        "epochs.toml",
        &format!(
            "[model]\nhidden = [2]\n[data]\ncsv = \"dosage.csv\"\ninputs = [\"dosage\"]\ntargets = [\"efficacy\"]\nvalid_fraction = 0.2\n[train]\nepochs = {epochs}\nbatch_size = 16\n"
        ),
    );
    for name in names {
        let run = runs.join(name);
        squiggle(&["train", &config, "--run-dir", run.to_str().unwrap()]).success();
    }
    runs
}

#[test]
fn the_dashboard_sees_new_epochs_and_nothing_outside_its_folder() {
    let dir = scratch();
    let runs = trained_runs(dir.path(), 3, &["first"]);
    let server = Server::start(&["--run", runs.to_str().unwrap()]);
    let (status, list) = server.call("GET", "/api/runs", None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["runs"][0]["name"], "first");
    assert_eq!(list["runs"][0]["epochs"], 3);
    let (_, run) = server.call("GET", "/api/runs/first", None);
    assert_eq!(run["total"], 3);
    assert_eq!(run["rows"].as_array().unwrap().len(), 3);
    assert!(run["config"].as_str().unwrap().contains("[train]"));
    // A row appended to metrics.csv shows at the next request, alone after `since`.
    let metrics = runs.join("first/metrics.csv");
    let text = std::fs::read_to_string(&metrics).unwrap();
    let last = text.lines().last().unwrap().to_string();
    let next = last.replacen("3,", "4,", 1);
    std::fs::write(&metrics, format!("{text}{next}\n")).unwrap();
    let (_, run) = server.call("GET", "/api/runs/first?since=3", None);
    assert_eq!(
        (run["total"].as_u64(), run["rows"].as_array().unwrap().len()),
        (Some(4), 1)
    );
    assert_eq!(run["rows"][0]["epoch"], 4);
    assert!(run["rows"][0]["train_accuracy"].is_null(), "{run}");
    // A classifier's run carries its accuracy per epoch (and no R²).
    let iris = root().join("configs/statquest-pt4-iris.toml");
    let classifier = runs.join("iris");
    squiggle(&[
        "train",
        iris.to_str().unwrap(),
        "--epochs",
        "2",
        "--run-dir",
        classifier.to_str().unwrap(),
    ])
    .success();
    let (_, run) = server.call("GET", "/api/runs/iris", None);
    let row = &run["rows"][1];
    assert!(row["valid_accuracy"].as_f64().unwrap() > 0.0, "{run}");
    assert!(row["train_r2"].is_null(), "{run}");
    // Names are looked up among the runs, never joined onto a path.
    std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
    for name in [
        "..",
        "..%2Fsecret.txt",
        "%2E%2E",
        "first%2F..%2F..",
        "secret.txt",
    ] {
        let message = server.refused("GET", &format!("/api/runs/{name}"), None, 404);
        assert!(message.starts_with("no run `"), "{name}: {message}");
    }
}

#[test]
fn the_pages_and_their_scripts_are_served_from_the_binary() {
    let server = Server::start(&[]);
    for (path, kind, contains) in [
        ("/", "text/html", "squiggle playground"),
        ("/app.js", "text/javascript", "act(\"step\""),
        ("/plot.js", "text/javascript", "function frame"),
        ("/style.css", "text/css", ".card"),
        ("/runs", "text/html", "training runs"),
        ("/runs.js", "text/javascript", "/api/runs"),
    ] {
        let mut response = ureq::get(&format!("{}{path}", server.url)).call().unwrap();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        let text = response.body_mut().read_to_string().unwrap();
        assert!(text.contains(contains), "{path}");
        // Nothing is fetched from elsewhere: the page works offline.
        for outside in [
            "https://",
            "src=\"http",
            "href=\"http",
            "url(http",
            "@import",
        ] {
            assert!(!text.contains(outside), "{path} refers outside: {outside}");
        }
    }
}

#[test]
fn ctrl_c_and_sigterm_stop_the_server_with_one_line() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_squiggle"))
            .args(["serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(
            first.starts_with("The playground is at http://127.0.0.1:"),
            "{first}"
        );
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "SIG{signal}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "squiggle: interrupted; the server stopped\n"
        );
    }
}

/// One raw HTTP/1.1 exchange with the server (the request as written, so its headers are
/// exactly the test's): the status code of the answer.
fn raw_status(server: &Server, request: &str) -> u16 {
    use std::io::{Read, Write};
    let address = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

#[test]
fn requests_for_another_host_or_from_another_site_are_refused() {
    let server = Server::start(&[]);
    let host = server.url.trim_start_matches("http://").to_string();
    let port = host.rsplit(':').next().unwrap().to_string();
    let body = r#"{"preset": "statquest-pt2"}"#;
    let post = |host: &str, kind: &str, origin: &str| {
        let origin = if origin.is_empty() {
            String::new()
        } else {
            format!("Origin: {origin}\r\n")
        };
        raw_status(
            &server,
            &format!(
                "POST /api/playgrounds HTTP/1.1\r\nHost: {host}\r\nContent-Type: {kind}\r\n{origin}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    // The page's own requests, by any of the names of this machine.
    assert_eq!(post(&host, "application/json", ""), 201);
    assert_eq!(
        post(
            &format!("localhost:{port}"),
            "application/json",
            &format!("http://localhost:{port}")
        ),
        201
    );
    // A DNS-rebinding page's Host, a text/plain POST, another site's Origin.
    assert_eq!(
        post(&format!("evil.example:{port}"), "application/json", ""),
        421
    );
    assert_eq!(post(&host, "text/plain", ""), 415);
    assert_eq!(post(&host, "application/json", "http://evil.example"), 403);
    let get = |host: &str| {
        raw_status(
            &server,
            &format!("GET /api/presets HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    };
    assert_eq!(get(&host), 200);
    assert_eq!(get(&format!("evil.example:{port}")), 421);
}

#[test]
fn a_request_sent_too_slowly_is_closed() {
    use std::io::{Read, Write};
    let server = Server::start(&[]);
    let address = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(format!("GET / HTTP/1.1\r\nHost: {address}\r\nX-Half: ").as_bytes())
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let waited = started.elapsed().as_secs_f64();
    assert!((9.0..15.0).contains(&waited), "closed after {waited:.1} s");
}

#[test]
fn the_dashboard_reads_run_files_as_what_they_are() {
    let dir = scratch();
    let runs = trained_runs(dir.path(), 2, &["linked", "piped"]);
    // A run file linked to a file outside, and a FIFO where the metrics belong.
    let linked = runs.join("linked/config.toml");
    std::fs::remove_file(&linked).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &linked).unwrap();
    let metrics = runs.join("piped/metrics.csv");
    std::fs::remove_file(&metrics).unwrap();
    crate::util::mkfifo(&metrics);
    let server = Server::start(&["--run", runs.to_str().unwrap()]);
    let started = std::time::Instant::now();
    let (status, list) = server.call("GET", "/api/runs", None);
    assert_eq!(status, 200, "{list}");
    let (status, linked) = server.call("GET", "/api/runs/linked", None);
    assert_eq!(status, 409, "{linked}");
    assert!(!linked.to_string().contains("root:"), "{linked}");
    assert!(
        linked["error"]
            .as_str()
            .unwrap()
            .contains("the dashboard reads only the run's own regular files"),
        "{linked}"
    );
    let (status, piped) = server.call("GET", "/api/runs/piped", None);
    assert_eq!(status, 409, "{piped}");
    assert!(
        started.elapsed().as_secs() < 5,
        "nothing waited on the FIFO"
    );
}

#[test]
fn connections_beyond_the_cap_are_closed_at_once() {
    use std::io::{Read, Write};
    let server = Server::start(&[]);
    let address = server.url.trim_start_matches("http://").to_string();
    // 256 connections are served at once (crates/cli/serve/limits.rs); each of these sends
    // half a request and waits.
    let streams: Vec<std::net::TcpStream> = (0..300)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&address).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let closed = streams
        .iter()
        .filter(|s| {
            s.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 1];
            match (&**s).read(&mut buf) {
                Ok(0) => true,
                Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                Ok(_) => false,
            }
        })
        .count();
    assert_eq!(
        closed,
        300 - 256,
        "the connections beyond the cap, and no more"
    );
    // The server still answers once the slow ones are gone.
    drop(streams);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (status, _) = server.call("GET", "/api/presets", None);
    assert_eq!(status, 200);
}

#[test]
fn classifiers_play_as_decision_regions_or_probability_curves() {
    let server = Server::start(&[]);
    // Pt. 7: two inputs, three classes, cross entropy.
    let state = server.playground("statquest-pt7-cross-entropy");
    assert_eq!(state["view"], "regions");
    assert_eq!(
        state["classes"],
        json!(["setosa", "versicolor", "virginica"])
    );
    assert_eq!(
        state["data"],
        json!([[0.04, 0.42, 0.0], [1.0, 0.54, 2.0], [0.5, 0.37, 1.0]])
    );
    let fit = &state["fit"];
    let cells = fit["cells"].as_u64().unwrap() as usize;
    assert_eq!(fit["classes"].as_array().unwrap().len(), cells * cells);
    for p in fit["confidence"].as_array().unwrap() {
        let p = p.as_f64().unwrap();
        assert!(
            (1.0 / 3.0 - 1e-9..=1.0).contains(&p),
            "an ArgMax's probability is {p}"
        );
    }
    assert_eq!(state["colours"]["classes"].as_array().unwrap().len(), 3);
    // The cross-entropy chain rule starts from dCE/dp_true, as `squiggle explain` does.
    assert_eq!(state["explain"]["factors"][0]["name"], "dCE/dp_true");
    // Five steps: the numbers of `squiggle train`.
    let state = server.post(
        &format!("/api/playgrounds/{}/step", id(&state)),
        json!({"steps": 5}),
    );
    let cli = squiggle(&[
        "train",
        "configs/statquest-pt7-cross-entropy.toml",
        "--max-steps",
        "5",
        "--json",
    ])
    .json();
    assert_eq!(state["loss"], cli["final_loss"]);
    // A fourth flower, of class 0: added with its class; a class that is none is refused.
    let data = format!("/api/playgrounds/{}/data", id(&state));
    let points = json!([
        [0.04, 0.42, 0],
        [1.0, 0.54, 2],
        [0.5, 0.37, 1],
        [0.2, 0.5, 0]
    ]);
    let state = server.post(&data, json!({ "points": points }));
    assert_eq!(state["data"].as_array().unwrap().len(), 4);
    assert_eq!(state["data"][3], json!([0.2, 0.5, 0.0]));
    let refused = |points: Value, message: &str| {
        let (status, body) = server.call(
            "POST",
            &data,
            Some(&json!({ "points": points }).to_string()),
        );
        assert_eq!((status, body["error"].as_str().unwrap()), (400, message));
    };
    refused(
        json!([[0.04, 0.42, 7]]),
        "points: [data] points: row 1 class 7 is not a class index: expected a whole number from 0 to 2",
    );
    refused(
        json!([[0.04, 0.42]]),
        "points: point 1 has 2 values; each point is [input 1, input 2, class]",
    );

    // One input and two classes: each class's SoftMax probability over the input.
    let dir = scratch();
    let one = write(
        dir.path(),
        "one.toml",
        "[model]\nhidden = [2]\nseed = 3\n[data]\npoints = [[0.0, 0], [0.3, 0], [0.7, 1], [1.0, 1]]\nclasses = [\"low\", \"high\"]\n[train]\nloss = \"cross_entropy\"\nlearning_rate = 0.5\n",
    );
    let server = Server::start(&[&one]);
    let state = server.post("/api/playgrounds", json!({}));
    assert_eq!(state["view"], "probabilities");
    assert_eq!(state["axes"], json!(["x", "probability"]));
    let curves = state["fit"]["probabilities"].as_array().unwrap();
    assert_eq!(curves.len(), 2);
    let xs = state["fit"]["x"].as_array().unwrap().len();
    for k in 0..xs {
        let sum: f64 = curves.iter().map(|c| c[k].as_f64().unwrap()).sum();
        close("Σ p", sum, 1.0, 1e-9);
    }
    // A regression of two inputs: each prediction against its observation; its points are
    // its inputs, then its target.
    let two = write(
        dir.path(),
        "two.toml",
        "[model]\ninputs = 2\nhidden = [2]\n[data]\npoints = [[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [1.0, 1.0, 3.0]]\n[train]\nlearning_rate = 0.1\n",
    );
    let server = Server::start(&[&two]);
    let state = server.post("/api/playgrounds", json!({}));
    assert_eq!(state["view"], "predicted");
    assert_eq!(state["axes"], json!(["observed", "predicted"]));
    assert_eq!(state["fit"]["observed"], json!([2.0, 1.0, 3.0]));
    assert_eq!(state["fit"]["predicted"].as_array().unwrap().len(), 3);
    let data = format!("/api/playgrounds/{}/data", id(&state));
    let state = server.post(&data, json!({"points": [[0.0, 1.0, 2.0], [2.0, 2.0, 5.0]]}));
    assert_eq!(state["data"], json!([[0.0, 1.0, 2.0], [2.0, 2.0, 5.0]]));
    let (status, body) = server.call("POST", &data, Some(r#"{"points": [[0.0, 1.0]]}"#));
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (
            400,
            "points: point 1 has 2 values; each point is its 2 inputs, then its 1 target"
        )
    );
    // A classifier of three inputs has no picture here.
    let three = write(
        dir.path(),
        "three.toml",
        "[model]\ninputs = 3\nhidden = [2]\n[data]\npoints = [[0.0, 1.0, 2.0, 0], [1.0, 0.0, 1.0, 1]]\nclasses = [\"a\", \"b\"]\n[train]\nloss = \"cross_entropy\"\n",
    );
    let out = squiggle(&["serve", &three, "--port", "0"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr.contains(
            "the playground draws a classifier's classes over one or two inputs; this network is 3-[2]-2 softplus"
        ),
        "{out}"
    );
}

#[test]
fn a_config_by_epochs_plays_step_by_step_on_its_scaled_training_rows() {
    // The Iris lesson trains by epochs on a CSV file; its preset carries the file, so it
    // opens from any folder.
    let dir = scratch();
    let server = Server::start_in(dir.path(), &[]);
    let state = server.playground("statquest-pt4-iris");
    assert_eq!(state["view"], "regions");
    assert_eq!(state["network"], "2-[2]-3 relu");
    // The training rows (a fifth held out, as by epochs), rescaled to 0..1 as it trains.
    let data = state["data"].as_array().unwrap();
    assert_eq!(data.len(), 120);
    for point in data {
        for v in &point.as_array().unwrap()[..2] {
            let v = v.as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{point}");
        }
    }
    assert_eq!(
        state["axes"],
        json!([
            "petal_width (rescaled to 0..1)",
            "sepal_width (rescaled to 0..1)"
        ])
    );
    // The lesson's network as the config writes it, every parameter training, full batch.
    close("w", param(&state, "hidden.0.weight[0][0]"), -2.5, 1e-6);
    let before = state["loss"].as_f64().unwrap();
    let state = server.post(
        &format!("/api/playgrounds/{}/step", id(&state)),
        json!({"steps": 20}),
    );
    assert_eq!(state["step"], 20);
    assert!(state["loss"].as_f64().unwrap() < before, "{state}");
    // A regression by epochs with two targets keeps both in its points, and is drawn as
    // predicted against observed.
    let mut two = String::from("x,y,z\n");
    for i in 0..12 {
        two += &format!("{i},{},{}\n", 2 * i, 10 - i);
    }
    write(dir.path(), "two.csv", &two);
    let config = write(
        dir.path(),
        "two.toml",
        "[data]\ncsv = \"two.csv\"\ninputs = [\"x\"]\ntargets = [\"y\", \"z\"]\nstandardize = true\n[train]\nepochs = 2\n",
    );
    let server2 = Server::start_in(dir.path(), &[&config]);
    let state = server2.post("/api/playgrounds", json!({}));
    assert_eq!(state["view"], "predicted");
    let rows = state["data"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    assert!(
        rows.iter().all(|r| r.as_array().unwrap().len() == 3),
        "{state}"
    );
    assert_eq!(state["fit"]["observed"].as_array().unwrap().len(), 24);
    drop(server2);
    // More training rows than the playground takes: one line.
    generate(dir.path(), 1500, "big.csv", &[]);
    let big = write(
        dir.path(),
        "big.toml",
        "[data]\ncsv = \"big.csv\"\n[train]\nepochs = 2\n",
    );
    let out = squiggle_in(dir.path(), &["serve", &big, "--port", "0"]);
    out.fails_with(
        2,
        &format!("squiggle: {big}: 1500 training rows; the playground takes at most 1000"),
    );
}
