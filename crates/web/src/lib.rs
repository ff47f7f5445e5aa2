//! The playground inside the page: `squiggle_playground` compiled to WebAssembly, on Burn's
//! flex backend with Burn's autodiff (and the fused kernels, single-threaded), answering the
//! page's requests as `squiggle serve` answers its JSON API.
//!
//! The page's script (`crates/web/backend.js`) hands each request here as the server would receive
//! it — method, path under `/api/`, `?param=`, JSON body — and gets the same JSON back, or
//! the same one-line refusal. So the page is one set of assets for both hosts, and a request
//! means the same in both: the routes below are the API's (docs/playground.md, "The API"),
//! and the bodies are read by [`squiggle_playground::request`], as the server reads them.

use std::collections::VecDeque;

use burn::prelude::Device;
use squiggle_config::{Backend, Config, Overrides};
use squiggle_playground::request::{self, Change, Create};
use squiggle_playground::{Playground, Refusal};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::wasm_bindgen;

/// Playgrounds a page keeps; opening one more drops the oldest (the page works on one, and
/// opens a new one with each lesson it loads).
pub const MAX_PLAYGROUNDS: usize = 4;

/// The device of a config on the page: flex, the one backend compiled in.
fn flex(config: &Config) -> Result<Device, String> {
    match config.backend {
        Backend::Flex => Ok(Device::flex()),
        other => Err(format!(
            "backend `{other}` is not available in the browser; the page trains on flex (remove `backend = \"{other}\"` from [train])"
        )),
    }
}

/// The playgrounds of one page, by id. Exported to the page's script on wasm32 only: the
/// host build (its tests) has no use for wasm-bindgen, whose macros would change the
/// features of crates the rest of the workspace shares, and so rebuild Burn.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
#[derive(Default)]
pub struct Page {
    playgrounds: VecDeque<(String, Playground)>,
    opened: u64,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
impl Page {
    /// A page with no playground yet.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(constructor))]
    pub fn new() -> Page {
        Page::default()
    }

    /// Answers one request of the page's API: `method` (`GET`, `POST`, `DELETE`), `path`
    /// under `/api/` (`playgrounds/1/step`), the `param` of `?param=` and the JSON `body`
    /// (empty for none). The answer is the JSON the server would send; a refusal is its
    /// one-line message, which the page shows as the server's `{"error": …}`.
    ///
    /// # Errors
    /// The request's refusal, as the server words it.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        param: Option<String>,
        body: &str,
    ) -> Result<String, String> {
        self.answer(method, path, param.as_deref(), body.as_bytes())
            .map(|value| value.to_string())
            .map_err(|refusal| refusal.message().to_string())
    }
}

impl Page {
    /// The routes of `crates/cli/serve`'s API that the playground page uses.
    fn answer(
        &mut self,
        method: &str,
        path: &str,
        param: Option<&str>,
        body: &[u8],
    ) -> Result<serde_json::Value, Refusal> {
        let parts: Vec<&str> = path.split('/').collect();
        match (method, parts.as_slice()) {
            ("GET", ["presets"]) => Ok(request::presets_json()),
            ("POST", ["playgrounds"]) => {
                let memory = Overrides::default();
                let playground = Create::parse(body)?.open(None, memory, flex)?;
                self.opened += 1;
                let id = self.opened.to_string();
                if self.playgrounds.len() == MAX_PLAYGROUNDS {
                    self.playgrounds.pop_front();
                }
                let state = playground.state(&id, param)?;
                self.playgrounds.push_back((id, playground));
                Ok(state)
            }
            ("GET", ["playgrounds", id]) => self.find(id)?.state(id, param),
            ("DELETE", ["playgrounds", id]) => {
                self.find(id)?;
                self.playgrounds.retain(|(kept, _)| kept != id);
                Ok(serde_json::Value::Null)
            }
            ("GET", ["playgrounds", id, "explain"]) => self.find(id)?.explanation(param),
            ("POST", ["playgrounds", id, action]) => {
                let change = Change::parse(action, body)?;
                let playground = self.find(id)?;
                playground.apply(&change)?;
                playground.state(id, param)
            }
            _ => Err(request::no_such_action()),
        }
    }

    /// Playground `id`.
    fn find(&mut self, id: &str) -> Result<&mut Playground, Refusal> {
        self.playgrounds
            .iter_mut()
            .find(|(kept, _)| kept == id)
            .map(|(_, playground)| playground)
            .ok_or_else(|| {
                Refusal::NotFound(format!(
                    "no playground `{id}` (the page keeps its {MAX_PLAYGROUNDS} latest; open the lesson again)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn call(page: &mut Page, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        page.request(method, path, None, &text)
            .map(|answer| serde_json::from_str(&answer).unwrap())
    }

    fn b3(state: &Value) -> f64 {
        let params = state["params"].as_array().unwrap();
        let b3 = params.iter().find(|p| p["name"] == "b3").unwrap();
        b3["value"].as_f64().unwrap()
    }

    #[test]
    fn ten_steps_of_the_lesson_give_its_numbers_with_either_kernels() {
        for kernels in ["fused", "burn"] {
            let mut page = Page::new();
            let opened = call(
                &mut page,
                "POST",
                "playgrounds",
                json!({"preset": "statquest-pt2"}),
            )
            .unwrap();
            let id = opened["id"].as_str().unwrap().to_string();
            let step = format!("playgrounds/{id}/step");
            let settings = format!("playgrounds/{id}/settings");
            call(&mut page, "POST", &settings, json!({"kernels": kernels})).unwrap();
            let state = call(&mut page, "POST", &step, json!({"steps": 10})).unwrap();
            assert_eq!(state["kernels"], kernels);
            assert_eq!(state["step"], 10);
            assert!(
                (b3(&state) - 2.608911).abs() < 1e-6,
                "{kernels}: {}",
                b3(&state)
            );
            let loss = state["loss"].as_f64().unwrap();
            assert!((loss - 6.3039e-5).abs() < 1e-8, "{kernels}: {loss}");
            // The run has stopped as the CLI's does: one more step is refused.
            let refused = call(&mut page, "POST", &step, Value::Null).unwrap_err();
            assert!(refused.starts_with("the run has stopped"), "{refused}");
        }
    }

    #[test]
    fn the_page_opens_every_preset_even_those_that_read_data_files() {
        let mut page = Page::new();
        let list = call(&mut page, "GET", "presets", Value::Null).unwrap();
        let names: Vec<&str> = list["presets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let presets = squiggle_playground::presets::PRESETS;
        assert_eq!(names.len(), presets.len());
        assert!(names.contains(&list["default"].as_str().unwrap()));
        for name in names {
            call(&mut page, "POST", "playgrounds", json!({"preset": name}))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // Iris reads configs/data/iris.csv, compiled in: its training rows, a fifth held out.
        let iris = call(
            &mut page,
            "POST",
            "playgrounds",
            json!({"preset": "statquest-pt4-iris"}),
        )
        .unwrap();
        assert_eq!(iris["data"].as_array().unwrap().len(), 120);
    }

    #[test]
    fn requests_are_refused_in_the_servers_words() {
        let mut page = Page::new();
        let no_route = call(&mut page, "GET", "playgrounds/1/sideways", Value::Null);
        assert_eq!(
            no_route.unwrap_err(),
            "no such API endpoint; docs/playground.md lists them"
        );
        let missing = call(&mut page, "GET", "playgrounds/7", Value::Null).unwrap_err();
        assert!(missing.starts_with("no playground `7`"), "{missing}");
        let opened = call(&mut page, "POST", "playgrounds", Value::Null).unwrap();
        assert_eq!(opened["name"], "statquest-pt2", "{{}} opens the default");
        let bad = page
            .request("POST", "playgrounds/1/step", None, "{\"steps\": ")
            .unwrap_err();
        assert!(bad.starts_with("malformed JSON body"), "{bad}");
        let unknown = call(
            &mut page,
            "POST",
            "playgrounds/1/step",
            json!({"stride": 2}),
        );
        assert!(unknown.unwrap_err().contains("unknown field `stride`"));
        // A config that names a backend the page does not have, or files, is refused.
        let wgpu = "[model]\nhidden = [2]\n[train]\nbackend = \"wgpu\"\nlearning_rate = 0.1\n";
        let refused = call(&mut page, "POST", "playgrounds", json!({"toml": wgpu})).unwrap_err();
        assert!(
            refused.starts_with("backend `wgpu` is not available in the browser"),
            "{refused}"
        );
        let files = "[data]\ncsv = \"d.csv\"\n";
        let refused = call(&mut page, "POST", "playgrounds", json!({"toml": files})).unwrap_err();
        assert!(refused.contains("cannot read its files"), "{refused}");
    }

    #[test]
    fn the_page_keeps_its_latest_playgrounds() {
        let mut page = Page::new();
        for _ in 0..MAX_PLAYGROUNDS + 1 {
            call(&mut page, "POST", "playgrounds", Value::Null).unwrap();
        }
        assert!(call(&mut page, "GET", "playgrounds/1", Value::Null).is_err());
        for id in 2..=MAX_PLAYGROUNDS + 1 {
            call(&mut page, "GET", &format!("playgrounds/{id}"), Value::Null).unwrap();
        }
        call(&mut page, "DELETE", "playgrounds/2", Value::Null).unwrap();
        assert!(call(&mut page, "GET", "playgrounds/2", Value::Null).is_err());
    }
}
