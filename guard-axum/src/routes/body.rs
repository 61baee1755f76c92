//! Request bodies whose errors are JSON in the contract's shape, not axum's plain text: 415
//! for a content type not accepted, 413 over the size cap, 400 for a body that does not
//! parse, 422 for the wrong shape (wrong types, unknown or missing fields).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::{ApiError, code_for};

/// How a body was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `application/json` (or `…+json`).
    Json,
    /// `application/x-www-form-urlencoded`: a browser's form.
    Form,
}

fn format_of(request: &Request) -> Option<Format> {
    let mime =
        request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?.split(';').next()?.trim();
    if mime.eq_ignore_ascii_case("application/json")
        || (mime.len() > 5 && mime[mime.len() - 5..].eq_ignore_ascii_case("+json"))
    {
        Some(Format::Json)
    } else if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(Format::Form)
    } else {
        None
    }
}

/// Reads a body of one of the `accepted` formats; an empty body reads as `empty`, if given.
pub(crate) async fn read<T: DeserializeOwned, S: Send + Sync>(
    request: Request,
    state: &S,
    accepted: &[Format],
    empty: Option<&[u8]>,
) -> Result<(T, Format), ApiError> {
    let format = format_of(&request);
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|r| ApiError::new(r.status(), code_for(r.status()), r.body_text()))?;
    let (body, format): (&[u8], Format) = match (empty, format) {
        (Some(empty), _) if bytes.is_empty() => (empty, Format::Json),
        (_, Some(format)) if accepted.contains(&format) => (&bytes, format),
        _ => {
            let json = accepted.contains(&Format::Json);
            let form = accepted.contains(&Format::Form);
            let expected = match (json, form) {
                (true, true) => {
                    "the body must be JSON or a form (`application/json`, `application/x-www-form-urlencoded`)"
                }
                (false, true) => {
                    "the body must be a form, with `Content-Type: application/x-www-form-urlencoded`"
                }
                _ => "the body must be JSON, with `Content-Type: application/json`",
            };
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                expected,
            ));
        }
    };
    let parsed = match format {
        Format::Json => serde_json::from_slice(body).map_err(|e| {
            if e.is_data() {
                ApiError::invalid(e.to_string())
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("the body is not valid JSON: {e}"),
                )
            }
        })?,
        Format::Form => {
            serde_urlencoded::from_bytes(body).map_err(|e| ApiError::invalid(e.to_string()))?
        }
    };
    Ok((parsed, format))
}

/// A JSON body. An empty body reads as `{}`, so routes whose fields are all optional need
/// none.
pub(crate) struct AdminJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        read(request, state, &[Format::Json], Some(b"{}")).await.map(|(value, _)| AdminJson(value))
    }
}

/// A JSON or form body, and which it was.
pub(crate) struct JsonOrForm<T> {
    pub(crate) value: T,
    pub(crate) format: Format,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonOrForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let (value, format) = read(request, state, &[Format::Json, Format::Form], None).await?;
        Ok(JsonOrForm { value, format })
    }
}
