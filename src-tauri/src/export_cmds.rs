//! The Export screen's and the Settings screen's commands: where files go
//! by default, writing an export, and the data dir shown read-only.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::State;
use vitrine_core::catalogue::export::ExportFormat;
use vitrine_core::exports::{ExportFilter, ExportReport};
use vitrine_core::review::Profile;

use crate::error::IpcError;
use crate::state::Shell;

type CmdResult<T> = Result<T, IpcError>;

/// The folder under the data dir where exports go unless the user names
/// another path.
pub(crate) const EXPORTS_DIR: &str = "exports";

/// What the Settings screen shows.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub exports_dir: PathBuf,
    pub profile: Profile,
    pub version: &'static str,
}

#[tauri::command]
pub async fn app_info(shell: State<'_, Shell>) -> CmdResult<AppInfo> {
    let studio = shell.studio().await?;
    let dirs = studio.dirs();
    Ok(AppInfo {
        data_dir: dirs.root().to_path_buf(),
        models_dir: dirs.models_dir().to_path_buf(),
        exports_dir: dirs.root().join(EXPORTS_DIR),
        profile: crate::review_cmds::actor(studio.store()).await?,
        version: env!("CARGO_PKG_VERSION"),
    })
}

fn parse_format(format: &str) -> CmdResult<ExportFormat> {
    format.parse().map_err(IpcError::bad_request)
}

/// The file an export of `format` in `lang` writes to by default.
fn default_path(data_dir: &Path, format: ExportFormat, lang: &str) -> PathBuf {
    data_dir.join(EXPORTS_DIR).join(format!(
        "listings-{}-{lang}.{}",
        format.name(),
        format.extension()
    ))
}

#[tauri::command]
pub async fn default_export_path(
    shell: State<'_, Shell>,
    format: String,
    lang: String,
) -> CmdResult<PathBuf> {
    let studio = shell.studio().await?;
    let format = parse_format(&format)?;
    Ok(default_path(studio.dirs().root(), format, lang_tag(&lang)?))
}

/// Only the two listing languages, so the tag is safe in a file name.
fn lang_tag(lang: &str) -> CmdResult<&'static str> {
    match lang {
        "en" => Ok("en"),
        "zh-CN" => Ok("zh-CN"),
        other => Err(IpcError::bad_request(format!(
            "unknown listing language `{other}`: en or zh-CN"
        ))),
    }
}

/// Where an export may be written: the path the user typed, which must be
/// absolute, end in the format's extension (so an export cannot overwrite
/// a file of another kind) and sit in an existing folder; or, when empty,
/// the default under the data dir (created on demand).
async fn target(
    data_dir: &Path,
    format: ExportFormat,
    lang: &str,
    path: Option<&str>,
) -> CmdResult<PathBuf> {
    let path = match path.map(str::trim).filter(|p| !p.is_empty()) {
        None => {
            let path = default_path(data_dir, format, lang);
            let dir = data_dir.join(EXPORTS_DIR);
            tokio::fs::create_dir_all(&dir).await.map_err(|e| {
                IpcError::new("io", format!("cannot create {}: {e}", dir.display()))
            })?;
            return Ok(path);
        }
        Some(p) => PathBuf::from(p),
    };
    if !path.is_absolute() {
        return Err(IpcError::bad_request(format!(
            "{}: give a full path (starting at the root of the disk)",
            path.display()
        )));
    }
    let ext = format.extension();
    let matches = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if !matches {
        return Err(IpcError::bad_request(format!(
            "{}: a {} export must be a .{ext} file",
            path.display(),
            format.name()
        )));
    }
    let parent_is_dir = match path.parent() {
        Some(dir) => tokio::fs::metadata(dir).await.is_ok_and(|m| m.is_dir()),
        None => false,
    };
    if !parent_is_dir {
        return Err(IpcError::bad_request(format!(
            "{}: the folder does not exist",
            path.display()
        )));
    }
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        return Err(IpcError::bad_request(format!(
            "{}: is a folder",
            path.display()
        )));
    }
    Ok(path)
}

/// Write the newest listing of each product in `lang` as `format` to
/// `path` (the default under the data dir when empty). Approved drafts
/// that go out are marked `exported`; `includeUnapproved` adds drafts in
/// any state (not marked).
#[tauri::command]
pub async fn export_listings(
    shell: State<'_, Shell>,
    format: String,
    lang: String,
    include_unapproved: bool,
    path: Option<String>,
) -> CmdResult<ExportReport> {
    let studio = shell.studio().await?;
    let format = parse_format(&format)?;
    let lang = lang_tag(&lang)?;
    let out = target(studio.dirs().root(), format, lang, path.as_deref()).await?;
    let actor = crate::review_cmds::actor(studio.store()).await?;
    let filter = ExportFilter {
        lang: Some(lang.to_string()),
        include_unapproved,
        ..ExportFilter::default()
    };
    Ok(studio.export(format, &filter, &out, &actor).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn export_paths_are_checked() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).expect("mkdir");
        let json = ExportFormat::Json;

        let default = target(&data, json, "en", None).await.expect("default");
        assert_eq!(default, data.join("exports").join("listings-json-en.json"));
        assert!(data.join("exports").is_dir());
        let blank = target(&data, ExportFormat::Shopify, "zh-CN", Some("  "))
            .await
            .expect("blank is the default");
        assert_eq!(
            blank,
            data.join("exports").join("listings-shopify-zh-CN.csv")
        );

        let mine = tmp.path().join("out.JSON");
        let chosen = target(&data, json, "en", mine.to_str()).await.expect("ok");
        assert_eq!(chosen, mine);

        let code = |r: CmdResult<PathBuf>| r.err().map(|e| e.code);
        assert_eq!(
            code(target(&data, json, "en", Some("relative.json")).await),
            Some("bad_request")
        );
        let bashrc = tmp.path().join(".bashrc");
        assert_eq!(
            code(target(&data, json, "en", bashrc.to_str()).await),
            Some("bad_request")
        );
        let csv = tmp.path().join("out.csv");
        assert_eq!(
            code(target(&data, json, "en", csv.to_str()).await),
            Some("bad_request")
        );
        let nowhere = tmp.path().join("missing").join("out.json");
        assert_eq!(
            code(target(&data, json, "en", nowhere.to_str()).await),
            Some("bad_request")
        );
        let folder = tmp.path().join("folder.json");
        std::fs::create_dir_all(&folder).expect("mkdir");
        assert_eq!(
            code(target(&data, json, "en", folder.to_str()).await),
            Some("bad_request")
        );
    }

    #[test]
    fn only_known_formats_and_languages() {
        assert_eq!(parse_format("json").ok(), Some(ExportFormat::Json));
        assert_eq!(
            parse_format("pdf").err().map(|e| e.code),
            Some("bad_request")
        );
        assert_eq!(lang_tag("zh-CN").ok(), Some("zh-CN"));
        assert_eq!(lang_tag("../x").err().map(|e| e.code), Some("bad_request"));
    }
}
