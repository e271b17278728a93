//! Brand profiles: the voice a merchant's copy keeps, the words it prefers
//! and must never use, the phrases and disclaimers it must carry, the
//! languages it sells in, and approved examples the model sees as few-shot.
//! Stored in the store (`brand_profiles`, migration 0005), imported and
//! exported as TOML files (`vitrine brand import|export`).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::listing::Lang;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandProfile {
    pub name: String,
    /// How the brand sounds, in a few words ("warm, plain-spoken, no hype").
    #[serde(default)]
    pub voice: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default)]
    pub preferred_words: Vec<String>,
    /// Words the copy must never use (case-insensitive; whole words for
    /// English, substrings for Chinese).
    #[serde(default)]
    pub forbidden_words: Vec<String>,
    /// Phrases the copy must contain, each in the language it is written
    /// in (a phrase with Chinese characters applies to Chinese copy).
    #[serde(default)]
    pub required_phrases: Vec<String>,
    /// Disclaimers the description must end with or contain (same
    /// language rule).
    #[serde(default)]
    pub disclaimers: Vec<String>,
    /// Languages the brand publishes in (`en`, `zh-CN`); empty: any.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Approved copy, shown to the model as examples of the voice.
    #[serde(default)]
    pub examples: Vec<BrandExample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandExample {
    pub lang: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// At most this many examples go into a prompt: more cost context without
/// teaching the voice any better.
pub const MAX_PROMPT_EXAMPLES: usize = 2;

impl BrandProfile {
    /// Parse and validate a profile file.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let p: BrandProfile =
            toml::from_str(text).map_err(|e| CoreError::InvalidInput(format!("{origin}: {e}")))?;
        p.validate(origin)?;
        Ok(p)
    }

    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| CoreError::InvalidInput(e.to_string()))
    }

    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |why: String| Err(CoreError::InvalidInput(format!("{origin}: {why}")));
        let name = self.name.trim();
        if name.is_empty() || name.len() > 80 || name.chars().any(char::is_control) {
            return bad("`name` must be 1–80 characters without control characters".into());
        }
        for l in self
            .languages
            .iter()
            .chain(self.examples.iter().map(|e| &e.lang))
        {
            if Lang::parse(l).is_err() {
                return bad(format!("language `{l}` is not en or zh-CN"));
            }
        }
        for w in self
            .forbidden_words
            .iter()
            .chain(&self.required_phrases)
            .chain(&self.disclaimers)
            .chain(&self.preferred_words)
        {
            if w.trim().is_empty() {
                return bad("word lists may not contain empty entries".into());
            }
        }
        let clashes: Vec<&String> = self
            .required_phrases
            .iter()
            .filter(|r| {
                self.forbidden_words
                    .iter()
                    .any(|f| r.to_lowercase().contains(&f.to_lowercase()))
            })
            .collect();
        if !clashes.is_empty() {
            return bad(format!(
                "required phrases contain forbidden words: {clashes:?}"
            ));
        }
        Ok(())
    }

    /// Whether the brand publishes in `lang`.
    pub fn allows(&self, lang: Lang) -> bool {
        self.languages.is_empty()
            || self
                .languages
                .iter()
                .any(|l| Lang::parse(l).is_ok_and(|l| l == lang))
    }

    /// The phrases of `list` that apply to copy in `lang`.
    pub fn for_lang(list: &[String], lang: Lang) -> Vec<&String> {
        list.iter().filter(|s| phrase_lang(s) == lang).collect()
    }

    /// Lines for the prompt: voice, words, phrases and examples in `lang`.
    pub fn prompt_lines(&self, lang: Lang) -> Vec<String> {
        let mut out = vec![format!("Brand: {}", self.name)];
        if !self.voice.is_empty() {
            out.push(format!("Voice: {}", self.voice));
        }
        if !self.tone.is_empty() {
            out.push(format!("Tone: {}", self.tone));
        }
        if !self.preferred_words.is_empty() {
            out.push(format!(
                "Prefer these words: {}",
                self.preferred_words.join(", ")
            ));
        }
        if !self.forbidden_words.is_empty() {
            out.push(format!("Never use: {}", self.forbidden_words.join(", ")));
        }
        let required = Self::for_lang(&self.required_phrases, lang);
        if !required.is_empty() {
            out.push(format!(
                "The description must include, word for word: {}",
                required
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let disclaimers = Self::for_lang(&self.disclaimers, lang);
        if !disclaimers.is_empty() {
            out.push(format!(
                "End the description with: {}",
                disclaimers
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        for e in self
            .examples
            .iter()
            .filter(|e| Lang::parse(&e.lang).is_ok_and(|l| l == lang))
            .take(MAX_PROMPT_EXAMPLES)
        {
            out.push(format!("Approved example title: {}", e.title));
            if !e.description.is_empty() {
                out.push(format!("Approved example description: {}", e.description));
            }
        }
        out
    }
}

/// Whether a phrase is written in `lang`: Chinese when it has Han
/// characters.
pub(crate) fn phrase_lang(phrase: &str) -> Lang {
    if phrase.chars().any(crate::checks::is_han) {
        Lang::ZhCn
    } else {
        Lang::En
    }
}

impl crate::store::Store {
    /// Store a brand profile, replacing the brand's previous one.
    pub async fn save_brand(&self, profile: &BrandProfile) -> Result<()> {
        profile.validate("brand profile")?;
        let json =
            serde_json::to_string(profile).map_err(|e| CoreError::InvalidInput(e.to_string()))?;
        sqlx::query(
            "INSERT INTO brand_profiles (name, profile, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at",
        )
        .bind(profile.name.trim())
        .bind(json)
        .bind(crate::store::now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A brand profile by name, with the names there are when it is missing.
    pub async fn brand(&self, name: &str) -> Result<BrandProfile> {
        let row: Option<String> =
            sqlx::query_scalar("SELECT profile FROM brand_profiles WHERE name = $1")
                .bind(name.trim())
                .fetch_optional(self.pool())
                .await?;
        match row {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| CoreError::InvalidInput(format!("stored brand `{name}`: {e}"))),
            None => {
                let known = self.brand_names().await?;
                Err(CoreError::InvalidInput(if known.is_empty() {
                    format!("no brand `{name}`: none is stored yet (vitrine brand import FILE)")
                } else {
                    format!("no brand `{name}` (known: {})", known.join(", "))
                }))
            }
        }
    }

    pub async fn brand_names(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM brand_profiles ORDER BY name")
                .fetch_all(self.pool())
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
name = "Northwind"
voice = "warm, plain-spoken, no hype"
preferred_words = ["soft", "everyday"]
forbidden_words = ["cheap", "便宜"]
required_phrases = ["Designed in Oslo", "奥斯陆设计"]
disclaimers = ["Colours may vary slightly from the photo."]
languages = ["en", "zh-CN"]

[[examples]]
lang = "en"
title = "Everyday Navy Hoodie in Soft Cotton"
description = "A soft hoodie for everyday wear. Designed in Oslo."
"#;

    #[test]
    fn parses_validates_and_round_trips() {
        let p = BrandProfile::from_toml(FILE, "northwind.toml").unwrap();
        assert!(p.allows(Lang::ZhCn));
        let again = BrandProfile::from_toml(&p.to_toml().unwrap(), "again").unwrap();
        assert_eq!(p, again);
        let lines = p.prompt_lines(Lang::En).join("\n");
        assert!(lines.contains("\"Designed in Oslo\""), "{lines}");
        assert!(!lines.contains("奥斯陆设计"), "{lines}");
        assert!(lines.contains("Approved example title"));
    }

    #[test]
    fn refuses_bad_profiles_with_the_reason() {
        let e = BrandProfile::from_toml("name = \"\"", "x.toml").unwrap_err();
        assert!(e.to_string().contains("name"), "{e}");
        let e =
            BrandProfile::from_toml("name = \"A\"\nlanguages = [\"fr\"]", "x.toml").unwrap_err();
        assert!(e.to_string().contains("fr"), "{e}");
        let e = BrandProfile::from_toml(
            "name = \"A\"\nforbidden_words = [\"cheap\"]\nrequired_phrases = [\"Cheap and cheerful\"]",
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("forbidden"), "{e}");
    }
}
