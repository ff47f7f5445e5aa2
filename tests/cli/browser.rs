//! The pages of `squiggle serve` in a real browser: headless Chromium driven through
//! chromedriver (WebDriver, `webdriver.rs`). The playground must show the lesson's numbers
//! after ten clicks on Step, freeze and unfreeze by clicking, follow a dragged point, add and
//! remove points, and play; the dashboard must draw the epochs a run writes while it is open,
//! fit a projector's window and a desktop's with a wide network's run, and overlay runs.
//!
//! The static site (`crates/web/build.sh`) must play the lesson the same way with its
//! WebAssembly module alone, served by a plain static file server (`site.rs`).
//!
//! They need Debian's `chromium` and `chromium-driver` (`.ci/run` installs them), and the
//! static site built, so they are ignored by a plain `cargo test` and run by `.ci/run` with
//! `--ignored`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::serve::Server;
use crate::site::{StaticSite, built_site};
use crate::util::{close, scratch, squiggle, write};
use crate::webdriver::{Browser, Driver, Mouse};

/// Ten clicks on Step, each answered before the next.
fn ten_steps(browser: &Browser) {
    for k in 1..=10 {
        browser.click("#step");
        let script = format!("return document.getElementById('step-count').textContent === '{k}'");
        browser.until("a step", &script);
    }
}

/// Every parameter's value in the page's last state.
fn param_values(browser: &Browser) -> serde_json::Value {
    browser.execute("return state.params.map(p => p.value)")
}

/// Where the tests leave their screenshots (README's comes from here).
fn screenshot(browser: &Browser, name: &str) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(path, browser.screenshot()).unwrap();
}

/// Pt. 2 in the page at `browser`, as a learner plays it: ten clicks on Step give the CLI's
/// numbers and stop as it stops; clicking freezes and unfreezes; a dragged point moves the
/// data and the squiggle; double-clicks add and remove points. The same whoever answers the
/// page (`squiggle serve`, or the WebAssembly module of the static site).
fn the_lesson_plays(browser: &Browser) {
    let cli = squiggle(&["train", "configs/statquest-pt2.toml", "--json"]).json();
    browser.until(
        "the first state",
        "return document.getElementById('loss').textContent.includes('20.42')",
    );
    ten_steps(browser);
    let b3 = browser.property("#param-b3", "value");
    assert_eq!(b3, "2.608911");
    let b3: f64 = b3.as_str().unwrap().parse().unwrap();
    close("b3", b3, cli["params"]["b3"].as_f64().unwrap(), 1e-6);
    let ssr: f64 = browser.text("#loss").parse().unwrap();
    close("SSR", ssr, cli["final_loss"].as_f64().unwrap(), 1e-9);
    close("SSR", ssr, 6.3036e-5, 1e-8);
    let status = browser.text("#status");
    assert!(
        status.starts_with("min_step_size fired after 10 steps"),
        "{status}"
    );
    assert_eq!(
        browser.property("#step", "disabled"),
        true,
        "a stopped run cannot step"
    );
    // The chain rule of b3 is shown and agrees with autodiff and finite differences.
    assert_eq!(browser.text("#explain-param"), "b3");
    assert!(browser.text("#explain-check").contains("all four agree"));

    // Freeze b3 by clicking it in the network; unfreeze w3; step: only w3 moves.
    browser.click("#node-b3");
    browser.until(
        "b3 frozen",
        "return document.getElementById('status').textContent.startsWith('nothing trains')",
    );
    browser.click("#node-w3");
    browser.until(
        "w3 trains",
        "return document.getElementById('trains-w3').checked",
    );
    let before = param_values(browser);
    browser.click("#step");
    browser.until(
        "step 11",
        "return document.getElementById('step-count').textContent === '11'",
    );
    let after = param_values(browser);
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
    let squiggle_before = browser.attribute("#squiggle", "d");
    browser.mouse(
        "circle.point[data-index='1']",
        0.0,
        0.0,
        &[Mouse::Down, Mouse::By(0.0, -60.0), Mouse::Up],
    );
    let moved = browser.until(
        "the dragged point",
        "return state.data[1][1] > 1.2 && state.data[1][1]",
    );
    assert!(moved.as_f64().unwrap() > 1.2);
    assert_ne!(
        squiggle_before,
        browser.attribute("#squiggle", "d"),
        "the squiggle is redrawn"
    );
    assert_eq!(
        browser.execute("return state.data.length"),
        json!(3),
        "a drag moves a point, it does not add one"
    );

    // Double-click empty space: a point is added there; double-click it: it is gone.
    let double = [Mouse::Down, Mouse::Up, Mouse::Down, Mouse::Up];
    browser.mouse("#fit", 120.0, 60.0, &double);
    browser.until("a fourth point", "return state.data.length === 4");
    browser.mouse("circle.point[data-index='3']", 0.0, 0.0, &double);
    browser.until("three points again", "return state.data.length === 3");
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
fn the_playground_reproduces_the_lesson_in_a_browser() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&format!("{}/", server.url));
    the_lesson_plays(&browser);

    // Back to the lesson for the picture: Pt. 2 after ten steps.
    browser.click("#reload");
    browser.until(
        "a fresh Pt. 2",
        "return state.step === 0 && state.data[1][1] === 1",
    );
    ten_steps(&browser);
    screenshot(&browser, "playground.png");

    // Play Details Pt. 2 (all seven parameters, 8,066 steps to converge) for two seconds.
    browser.execute(
        "const s = document.getElementById('preset'); s.value = 'statquest-details-pt2'; s.dispatchEvent(new Event('change')); return true",
    );
    browser.until(
        "Details Pt. 2",
        "return state.name === 'statquest-details-pt2'",
    );
    browser.click("#play");
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    browser.click("#play");
    let seconds = start.elapsed().as_secs_f64();
    let steps = browser.execute("return state.step").as_f64().unwrap();
    eprintln!(
        "playing: {steps} steps in {seconds:.2} s = {:.0} steps/s (one step a frame)",
        steps / seconds
    );
    assert!(steps >= 10.0, "Play steps on its own: {steps} steps");
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
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&format!("{}/runs", server.url));
    browser.until(
        "three epochs",
        "return document.getElementById('run-title').dataset.epochs === '3'",
    );
    assert!(browser.text("#config").contains("batch_size = 16"));
    let points = "return document.querySelectorAll('#loss circle').length";
    assert_eq!(
        browser.execute(points),
        json!(6),
        "train and validation loss for three epochs"
    );
    // Two more epochs are written while the page is open (as a run still training writes
    // them): they appear without a reload.
    let metrics = run.join("metrics.csv");
    let text = std::fs::read_to_string(&metrics).unwrap();
    let last = text.lines().last().unwrap().to_string();
    let more: String = (4..=5)
        .map(|e| format!("{}\n", last.replacen("3,", &format!("{e},"), 1)))
        .collect();
    std::fs::write(&metrics, format!("{text}{more}")).unwrap();
    browser.until(
        "five epochs",
        "return document.getElementById('run-title').dataset.epochs === '5'",
    );
    assert_eq!(browser.execute(points), json!(10));
    screenshot(&browser, "runs.png");
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
fn the_dashboard_fits_the_window_and_overlays_runs() {
    let dir = scratch();
    let runs = dir.path().join("runs");
    // A wide network on eight columns, and the Iris classifier.
    let mut csv = String::from("a,b,c,d,e,f,g,h,y\n");
    for i in 0..64 {
        let row: Vec<String> = (0..8).map(|k| ((i * (k + 3)) % 17).to_string()).collect();
        csv += &format!("{},{}\n", row.join(","), i % 5);
    }
    write(dir.path(), "wide.csv", &csv);
    let wide = write(
        dir.path(),
        "wide.toml",
        "[model]\nhidden = [64, 64]\nseed = 11\n[data]\ncsv = \"wide.csv\"\nvalid_fraction = 0.25\nstandardize = true\n[train]\nepochs = 4\nbatch_size = 16\n",
    );
    squiggle(&[
        "train",
        &wide,
        "--run-dir",
        runs.join("wide").to_str().unwrap(),
    ])
    .success();
    let iris = crate::util::root().join("configs/statquest-pt4-iris.toml");
    squiggle(&[
        "train",
        iris.to_str().unwrap(),
        "--epochs",
        "6",
        "--run-dir",
        runs.join("iris").to_str().unwrap(),
    ])
    .success();
    // A config line as long as a network's written-out weights were: it must scroll inside
    // its panel, not widen the page.
    let config = runs.join("wide/config.toml");
    let long = format!("# {}\n", "0.123456789, ".repeat(10_000));
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}{long}")).unwrap();

    let server = Server::start(&["--run", runs.to_str().unwrap()]);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
    let chart_width = |id: &str| {
        let width = browser.execute(&format!(
            "return document.getElementById('{id}').getBoundingClientRect().width"
        ));
        width.as_f64().unwrap()
    };
    for (width, height) in [(1024, 768), (1920, 1080)] {
        browser.resize(width, height);
        browser.goto(&format!("{}/runs#wide", server.url));
        browser.until(
            "the wide run",
            "return document.getElementById('run-title').dataset.epochs === '4'",
        );
        assert_eq!(
            browser.execute(fits),
            json!(true),
            "the page is wider than {width} px"
        );
        for id in ["loss", "r2", "lr"] {
            let w = chart_width(id);
            assert!(w > 200.0, "#{id} is {w} px wide at {width} × {height}");
        }
        // The loss curve starts on the first screen.
        let top = browser.execute(
            "return document.getElementById('loss').getBoundingClientRect().top < window.innerHeight / 2",
        );
        assert_eq!(
            top,
            json!(true),
            "the loss chart is below the fold at {width} × {height}"
        );
        screenshot(&browser, &format!("runs-{width}.png"));
    }
    // Two runs on the same charts: each run's curves, named in the legend.
    browser.goto(&format!("{}/runs#wide,iris", server.url));
    browser.until(
        "both runs",
        "return document.getElementById('run-title').dataset.runs === '2'",
    );
    for run in ["wide", "iris"] {
        let curves =
            format!("return document.querySelectorAll('#loss path[data-run=\"{run}\"]').length");
        let count = browser.execute(&curves).as_u64().unwrap();
        assert_eq!(count, 2, "{run}: its train and validation loss");
    }
    let legend = browser.text("#loss-legend");
    for entry in ["wide train", "wide valid", "iris train", "iris valid"] {
        assert!(
            legend.contains(entry),
            "{entry} missing from the legend: {legend}"
        );
    }
    assert_eq!(browser.execute(fits), json!(true));
    screenshot(&browser, "runs-overlaid.png");
    // Unticking a run takes it off the charts.
    browser.click("#runs input[data-run=\"iris\"]");
    browser.until(
        "one run",
        "return document.getElementById('run-title').dataset.runs === '1'",
    );
    assert_eq!(browser.text("#run-title"), "wide: 4 epochs");
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
fn the_playground_fits_a_projector_and_presents_in_large_type() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.resize(1024, 768);
    browser.goto(&format!("{}/", server.url));
    browser.until(
        "the first state",
        "return document.getElementById('loss').textContent.includes('20.42')",
    );
    // Step, Play and the whole fit on the first screen, the page no wider than the window.
    let on_screen = |css: &str| {
        browser.execute(&format!(
            "const r = document.querySelector('{css}').getBoundingClientRect(); \
             return r.top >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth"
        ))
    };
    for css in ["#step", "#play", "#fit"] {
        assert_eq!(
            on_screen(css),
            json!(true),
            "{css} is off the first screen at 1024 × 768"
        );
    }
    let widths = browser.execute(
        "return [document.documentElement.scrollWidth, window.innerWidth, [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)]",
    );
    assert!(
        widths[0].as_f64() <= widths[1].as_f64(),
        "the page is wider than the window: {widths}"
    );
    // Three steps: the loss curve's step axis ticks whole numbers only.
    for k in 1..=3 {
        browser.click("#step");
        browser.until(
            "a step",
            &format!("return document.getElementById('step-count').textContent === '{k}'"),
        );
    }
    let labels = browser.execute(
        "return [...document.querySelectorAll('#curve .axis text[text-anchor=middle]')].map(t => t.textContent)",
    );
    let numbers: Vec<f64> = labels
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str().unwrap().parse().ok())
        .collect();
    assert!(numbers.contains(&3.0), "{labels}");
    let steps: Vec<&f64> = numbers
        .iter()
        .filter(|x| **x >= 0.0 && **x <= 3.0)
        .collect();
    assert!(steps.iter().all(|x| x.fract() == 0.0), "{labels}");
    // Play to the end (min_step_size fires at step 10, in well under half a second): the
    // rate is still shown.
    browser.click("#play");
    browser.until(
        "the run's stop",
        "return document.getElementById('play').textContent === 'Play' && state.step === 10",
    );
    let rate = browser.text("#rate");
    assert!(
        rate.parse::<f64>().is_ok_and(|r| r > 0.0),
        "steps/s reads {rate:?}"
    );
    screenshot(&browser, "playground-1024.png");

    // `?present`: large type, the labels in full ink, the network on the first screen.
    browser.goto(&format!("{}/?present", server.url));
    browser.until(
        "present mode",
        "return document.body.classList.contains('present') && state",
    );
    let size = browser.execute(
        "return parseFloat(getComputedStyle(document.querySelector('.param-label')).fontSize)",
    );
    assert!(size.as_f64().unwrap() >= 16.0, "edge labels of {size} px");
    for css in ["#step", "#network", "#fit"] {
        assert_eq!(
            on_screen(css),
            json!(true),
            "{css} is off the first screen when presenting"
        );
    }
    assert_eq!(
        browser.execute("return document.documentElement.scrollWidth <= window.innerWidth"),
        json!(true),
        "the presented page is wider than the window"
    );
    screenshot(&browser, "playground-present.png");
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
fn the_cross_entropy_lesson_plays_as_decision_regions() {
    let server = Server::start(&[]);
    let cli = squiggle(&[
        "train",
        "configs/statquest-pt7-cross-entropy.toml",
        "--max-steps",
        "10",
        "--json",
    ])
    .json();
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&format!("{}/", server.url));
    browser.until("the first state", "return state && state.step === 0");
    browser.execute(
        "const s = document.getElementById('preset'); s.value = 'statquest-pt7-cross-entropy'; s.dispatchEvent(new Event('change')); return true",
    );
    browser.until(
        "Pt. 7",
        "return state.name === 'statquest-pt7-cross-entropy'",
    );
    let cells = browser.execute("return document.querySelectorAll('#fit rect.region').length");
    assert_eq!(cells, json!(48 * 48), "the decision regions");
    let classes = browser.execute(
        "return [...document.querySelectorAll('#fit circle.point')].map(c => c.dataset.class)",
    );
    assert_eq!(
        classes,
        json!(["0", "2", "1"]),
        "each flower in its class's colour"
    );
    assert!(browser.text("#fit-legend").contains("versicolor"));
    ten_steps(&browser);
    let loss: f64 = browser.text("#loss").parse().unwrap();
    close("CE", loss, cli["final_loss"].as_f64().unwrap(), 1e-6);
    // Drag the versicolor flower: its inputs change, its class stays.
    browser.mouse(
        "circle.point[data-index='2']",
        0.0,
        0.0,
        &[Mouse::Down, Mouse::By(40.0, -40.0), Mouse::Up],
    );
    browser.until(
        "the dragged flower",
        "return state.data[2][0] > 0.52 && state.data[2][2] === 1",
    );
    // Double-click adds a flower of the class chosen under the picture.
    browser.execute(
        "const s = document.getElementById('new-class'); s.value = '2'; s.dispatchEvent(new Event('change')); return true",
    );
    let double = [Mouse::Down, Mouse::Up, Mouse::Down, Mouse::Up];
    browser.mouse("#fit", -150.0, 60.0, &double);
    browser.until(
        "a virginica flower",
        "return state.data.length === 4 && state.data[3][2] === 2",
    );

    // The Iris lesson (Pt. 4, by epochs in its config): its 120 training flowers, stepping.
    browser.execute(
        "const s = document.getElementById('preset'); s.value = 'statquest-pt4-iris'; s.dispatchEvent(new Event('change')); return true",
    );
    browser.until("Pt. 4", "return state.name === 'statquest-pt4-iris'");
    assert_eq!(
        browser.execute("return document.querySelectorAll('#fit circle.point').length"),
        json!(120)
    );
    ten_steps(&browser);
    let loss: f64 = browser.text("#loss").parse().unwrap();
    assert!(loss.is_finite() && loss > 0.0);
    screenshot(&browser, "playground-regions.png");
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver and the static site; .ci/run builds it and runs this"]
fn the_static_site_plays_the_lesson_with_webassembly_alone() {
    let site = StaticSite::start(built_site());
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    let opened = Instant::now();
    browser.goto(&format!("{}/", site.url));
    browser.until(
        "the module's first state",
        "return document.getElementById('loss').textContent.includes('20.42')",
    );
    eprintln!(
        "static site: first state {:.2} s after the page was asked for",
        opened.elapsed().as_secs_f64()
    );
    // The page is the static site's: no dashboard link, and no server to ask.
    assert_eq!(
        browser.execute("return document.getElementById('runs-link') === null"),
        json!(true)
    );
    the_lesson_plays(&browser);
    assert_eq!(browser.text("#error"), "", "no request was refused");
    screenshot(&browser, "static-site.png");

    // Burn's autodiff computes the same steps as the fused kernels, inside the page too.
    browser.click("#reload");
    browser.until(
        "a fresh Pt. 2",
        "return state.step === 0 && state.data[1][1] === 1",
    );
    browser.execute(
        "const k = document.getElementById('kernels'); k.value = 'burn'; k.dispatchEvent(new Event('change')); return true",
    );
    browser.until("Burn's autodiff", "return state.kernels === 'burn'");
    ten_steps(&browser);
    assert_eq!(browser.property("#param-b3", "value"), "2.608911");

    // The cross-entropy lesson, a classifier, opens and steps too.
    browser.execute(
        "const s = document.getElementById('preset'); s.value = 'statquest-pt7-cross-entropy'; s.dispatchEvent(new Event('change')); return true",
    );
    browser.until(
        "Pt. 7",
        "return state.name === 'statquest-pt7-cross-entropy'",
    );
    browser.click("#step");
    browser.until("a classifier's step", "return state.step === 1");

    // Pt. 4's Iris network reads its data file, compiled into the module.
    browser.execute(
        "const s = document.getElementById('preset'); s.value = 'statquest-pt4-iris'; s.dispatchEvent(new Event('change')); return true",
    );
    browser.until("Iris", "return state.name === 'statquest-pt4-iris'");
    browser.click("#step");
    browser.until("Iris's step", "return state.step === 1");
    assert_eq!(browser.text("#error"), "", "no request was refused");
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver and the static site; .ci/run builds it and runs this"]
fn the_static_site_opened_as_a_file_says_how_to_serve_it() {
    let index = built_site().join("index.html");
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&format!("file://{}", index.display()));
    let said = browser.until(
        "the page's advice",
        "const t = document.getElementById('error').textContent; return t.includes('serve this folder over HTTP') && t",
    );
    assert!(
        said.as_str()
            .unwrap()
            .starts_with("the playground's WebAssembly module did not load"),
        "{said}"
    );
}
