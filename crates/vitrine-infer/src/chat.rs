//! Chat prompts: the model's own Jinja chat template from its GGUF, rendered
//! with minijinja set up as Transformers renders templates (trim_blocks,
//! lstrip_blocks, `raise_exception`, Python string methods); plain ChatML when
//! a template is missing or cannot render.
//!
//! Some templates have no system turn: Gemma 2's raises on one, Phi-3-mini's
//! drops it without a word. Our instructions live in the system message, so
//! then it is folded into the first user turn (as Gemma 3's template does
//! itself) rather than lost.

use serde::{Deserialize, Serialize};

use crate::error::{InferError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

pub struct ChatTemplate {
    source: Option<String>,
    bos: String,
    eos: String,
    enable_thinking: Option<bool>,
}

impl ChatTemplate {
    pub fn new(source: Option<String>, bos: String, eos: String) -> Self {
        Self {
            source,
            bos,
            eos,
            enable_thinking: None,
        }
    }

    /// Set the `enable_thinking` variable templates with a reasoning switch
    /// read (Qwen3: `false` closes an empty `<think>` block in the generation
    /// prompt). Unset, each template follows its own default.
    pub fn with_enable_thinking(mut self, on: bool) -> Self {
        self.enable_thinking = Some(on);
        self
    }

    /// Render `messages` and open the assistant's turn.
    pub fn render(&self, messages: &[ChatMessage]) -> Result<String> {
        if let Some(src) = &self.source {
            let rendered = self.render_jinja(src, messages);
            if let Ok(text) = &rendered {
                if keeps_system(messages, text) {
                    return rendered;
                }
            }
            if let Some(folded) = fold_system(messages) {
                if let Ok(text) = self.render_jinja(src, &folded) {
                    tracing::debug!(
                        "chat template has no system turn; folded it into the first user turn"
                    );
                    return Ok(text);
                }
            }
            match rendered {
                // Still the model's own format, which beats ChatML for it.
                Ok(text) => {
                    tracing::warn!("chat template drops a system message");
                    return Ok(text);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "chat template failed to render; using ChatML")
                }
            }
        }
        Ok(chatml(messages))
    }

    fn render_jinja(&self, src: &str, messages: &[ChatMessage]) -> Result<String> {
        let mut env = jinja_env();
        env.add_template("chat", src)
            .map_err(|e| InferError::Template(e.to_string()))?;
        let tmpl = env
            .get_template("chat")
            .map_err(|e| InferError::Template(e.to_string()))?;
        let ctx = minijinja::context! {
            messages => messages,
            add_generation_prompt => true,
            bos_token => self.bos.as_str(),
            eos_token => self.eos.as_str(),
        };
        let ctx = match self.enable_thinking {
            Some(on) => minijinja::context! { enable_thinking => on, ..ctx },
            None => ctx,
        };
        tmpl.render(ctx)
            .map_err(|e| InferError::Template(e.to_string()))
    }
}

/// A minijinja environment set up as Transformers renders chat templates.
pub(crate) fn jinja_env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |msg: String| -> std::result::Result<String, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                msg,
            ))
        },
    );
    env
}

/// Whether every system message's text made it into the prompt.
fn keeps_system(messages: &[ChatMessage], rendered: &str) -> bool {
    messages
        .iter()
        .filter(|m| m.role == Role::System)
        .all(|m| rendered.contains(m.content.trim()))
}

/// The conversation with a leading system message moved into the first user
/// turn, or `None` when there is nothing to fold.
fn fold_system(messages: &[ChatMessage]) -> Option<Vec<ChatMessage>> {
    let (first, rest) = messages.split_first()?;
    if first.role != Role::System || rest.first()?.role != Role::User {
        return None;
    }
    let mut folded = rest.to_vec();
    folded[0].content = format!("{}\n\n{}", first.content, folded[0].content);
    Some(folded)
}

/// ChatML, the format of every model in our manifest.
pub fn chatml(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str("<|im_start|>");
        out.push_str(m.role.as_str());
        out.push('\n');
        out.push_str(&m.content);
        out.push_str("<|im_end|>\n");
    }
    out.push_str("<|im_start|>assistant\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_chatml_jinja_template() {
        let src = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        let t = ChatTemplate::new(Some(src.into()), String::new(), String::new());
        let msgs = [ChatMessage::system("Be brief."), ChatMessage::user("Hi")];
        assert_eq!(t.render(&msgs).unwrap(), chatml(&msgs));
    }

    #[test]
    fn falls_back_to_chatml_on_a_broken_template() {
        let t = ChatTemplate::new(Some("{% for %}".into()), String::new(), String::new());
        let msgs = [ChatMessage::user("Hi")];
        assert_eq!(t.render(&msgs).unwrap(), chatml(&msgs));
    }
}
