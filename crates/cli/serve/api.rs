//! The JSON API under `/api/` that the pages use (docs/playground.md, "The API", lists it).
//!
//! Every answer is JSON; every refusal is a 4xx (or a 500 for a device failure) with
//! `{"error": "one line"}`. Bodies are read whole up to [`MAX_BODY_BYTES`] and parsed by
//! serde with unknown fields refused; computations run on the blocking pool (at most
//! [`COMPUTE_THREADS`](super::limits::COMPUTE_THREADS) at once), each playground behind its
//! own lock.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use squiggle_playground::Refusal;
use squiggle_playground::request::{self, Change, Create};

use super::App;
use super::limits::MAX_BODY_BYTES;

/// A refused request: its status and one line saying why.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// A refusal; control characters a request brought into the message are escaped, so it
    /// stays one line.
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: crate::escape_controls(&message.into()),
        }
    }

    /// 405 for a method a path does not take.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, message)
    }

    /// 404 for an id or run that does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Bad(m) => Self::new(StatusCode::BAD_REQUEST, m),
            Refusal::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            Refusal::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            Refusal::Failed(m) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

type Answer = Result<Json<Value>, ApiError>;

/// The body's bytes, or the refusal of one axum could not read (over [`MAX_BODY_BYTES`]).
fn body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    bytes.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                format!("the request body is over {} KiB", MAX_BODY_BYTES / 1024),
            )
        } else {
            ApiError::new(status, e.body_text())
        }
    })
}

/// Which parameter the landscape and the chain rule show (`?param=w1`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    param: Option<String>,
}

impl View {
    /// The parameter asked for, if any.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }
}

fn view(query: Result<Query<View>, QueryRejection>) -> Result<View, ApiError> {
    query.map(|Query(v)| v).map_err(bad_query)
}

/// The path's parts; one that is not UTF-8 once decoded is a 400.
fn segment<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))
}

/// `query string: colour: unknown field …`.
fn bad_query(e: QueryRejection) -> ApiError {
    let text = e.body_text();
    let why = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    ApiError::new(StatusCode::BAD_REQUEST, format!("query string: {why}"))
}

/// `GET /api/presets`: the lesson configs the playground opens.
pub async fn presets() -> Json<Value> {
    Json(request::presets_json())
}

/// `POST /api/playgrounds`: a new playground (201) and its state, made as [`Create`] says
/// (`{}`: the config the server was started with).
pub async fn create(
    State(app): State<App>,
    query: Result<Query<View>, QueryRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let view = view(query)?;
    let request = Create::parse(&body(bytes)?)?;
    let made = app
        .compute(move |app| {
            let (name, path, text) = app.start.clone();
            let playground = request.open(
                Some((&name, &path, text)),
                app.overrides.clone(),
                crate::session::playground_device,
            )?;
            let (id, shared) = app.registry().insert(playground, Instant::now());
            let state = shared
                .lock()
                .map_err(|_| Refusal::Failed("the playground failed".into()))?
                .state(&id, view.param())?;
            Ok(state)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// `GET /api/playgrounds/{id}`: the state.
pub async fn state(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<View>, QueryRejection>,
) -> Answer {
    let (id, view) = (segment(id)?, view(query)?);
    app.with(id, view, |_| Ok(())).await
}

/// `DELETE /api/playgrounds/{id}`.
pub async fn delete(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = segment(id)?;
    if app.registry().remove(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown(&id))
    }
}

/// The refusal of an id that names no playground.
pub fn unknown(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no playground `{id}` (it may have expired after being idle; create one with POST /api/playgrounds)"
    ))
}

/// `POST /api/playgrounds/{id}/{action}`: every change of a playground, by its action
/// ([`Change`] lists them), then its state.
pub async fn act(
    State(app): State<App>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<View>, QueryRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let ((id, action), view) = (segment(path)?, view(query)?);
    let change = Change::parse(&action, &body(bytes)?)?;
    app.with(id, view, move |p| p.apply(&change)).await
}

/// `GET /api/playgrounds/{id}/explain?param=w1`: the chain rule of one parameter at the
/// current values.
pub async fn explain(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<View>, QueryRejection>,
) -> Answer {
    let (id, view) = (segment(id)?, view(query)?);
    app.on(id, move |p, _| p.explanation(view.param())).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Since {
    #[serde(default)]
    since: usize,
}

/// `GET /api/runs`: the run folders the dashboard shows.
pub async fn runs(State(app): State<App>) -> Answer {
    let runs = app.runs.clone().ok_or_else(no_runs)?;
    Ok(Json(
        tokio::task::spawn_blocking(move || runs.list_json())
            .await
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "listing failed"))?,
    ))
}

/// `GET /api/runs/{name}?since=N`: a run's config and its metrics rows from row `N` on.
pub async fn run(
    State(app): State<App>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<Since>, QueryRejection>,
) -> Answer {
    let name = segment(name)?;
    let Query(since) = query.map_err(bad_query)?;
    let runs = app.runs.clone().ok_or_else(no_runs)?;
    let answer = tokio::task::spawn_blocking(move || runs.run_json(&name, since.since))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "reading failed"))?;
    Ok(Json(answer?))
}

fn no_runs() -> ApiError {
    ApiError::not_found("this server shows no runs; start it with `squiggle serve --run DIR`")
}

/// Any other path under `/api/`.
pub async fn not_found() -> ApiError {
    request::no_such_action().into()
}
