//! The optional rewrite by a language model: an OpenAI-compatible
//! chat-completions call that gets only the audit evidence and the template
//! draft, and must answer with a `Subject:` line and a body. Whatever it
//! returns still has to pass the evidence gate.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::template::Rendered;
use crate::config::LlmConfig;
use crate::domain::secret::Secret;

const INSTRUCTIONS: &str = "You rewrite a short cold email from a web agency to a local business so it reads naturally and personally. \
Rules: use only the facts in AUDIT; never add a number, metric, percentage, claim or promise that is not there; keep every URL exactly; \
keep it under 180 words; plain text, no markdown. Answer with the line `Subject: ...`, a blank line, then the body.";

/// The facts the model may use.
#[derive(Debug, Serialize)]
pub struct Evidence<'a> {
    pub business_name: &'a str,
    pub website: &'a str,
    pub overall_score: u8,
    /// The mobile estimate in one sentence, with its label, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_speed: Option<String>,
    pub findings: Vec<(&'a str, &'a str)>,
}

pub struct Rewriter {
    client: reqwest::Client,
    endpoint: String,
    model: String,
    key: Option<Secret>,
}

impl Rewriter {
    /// `None` when no provider is configured.
    pub fn new(config: &LlmConfig, key: Option<Secret>) -> Option<Result<Self, String>> {
        if config.base_url.is_empty() {
            return None;
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot set up the LLM client: {e}"));
        Some(client.map(|client| Self {
            client,
            endpoint: format!("{}/chat/completions", config.base_url.trim_end_matches('/')),
            model: config.model.clone(),
            key,
        }))
    }

    /// The model's version of the draft, or why there is none (provider
    /// errors, timeouts and malformed answers all end here).
    pub async fn rewrite(
        &self,
        evidence: &Evidence<'_>,
        draft: &Rendered,
    ) -> Result<Rendered, String> {
        let facts = serde_json::to_string(evidence).map_err(|e| e.to_string())?;
        let request = json!({
            "model": self.model,
            "temperature": 0.3,
            "messages": [
                { "role": "system", "content": INSTRUCTIONS },
                { "role": "user", "content": format!("AUDIT:\n{facts}\n\nDRAFT:\nSubject: {}\n\n{}", draft.subject, draft.body) },
            ],
        });
        let mut call = self.client.post(&self.endpoint).json(&request);
        if let Some(key) = &self.key {
            call = call.bearer_auth(key.expose());
        }
        let response = call.send().await.map_err(|e| {
            if e.is_timeout() {
                "the LLM provider did not answer in time".to_string()
            } else {
                format!("the LLM provider could not be reached: {}", without_url(&e))
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the LLM provider answered HTTP {status}"));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("the LLM provider's answer is not JSON: {}", without_url(&e)))?;
        let text = body["choices"][0]["message"]["content"]
            .as_str()
            .ok_or("the LLM provider's answer has no choices[0].message.content")?;
        parse(text)
    }
}

/// reqwest errors name the URL; the key never is in it, but keep messages
/// short.
fn without_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => text.replace(url.as_str(), "the endpoint"),
        None => text,
    }
}

fn parse(text: &str) -> Result<Rendered, String> {
    let text = text
        .trim()
        .trim_start_matches("```")
        .trim_end_matches("```")
        .trim();
    let (first, body) = text.split_once('\n').ok_or("the rewrite has no body")?;
    let subject = first
        .trim()
        .strip_prefix("Subject:")
        .ok_or("the rewrite does not start with a Subject: line")?;
    let body = body.trim();
    if body.is_empty() {
        return Err("the rewrite has an empty body".into());
    }
    Ok(Rendered {
        subject: crate::domain::outreach::single_line(subject),
        body: format!("{body}\n"),
    })
}
