use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatastoreCreate {
    /// Unique on the host; used in datastore paths: `[name] folder/file`.
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub name: String,
    /// An existing directory on the host (local disk or a shared mount).
    #[schema(pattern = "^/")]
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Datastore {
    pub name: String,
    pub path: String,
    pub capacity_bytes: u64,
    pub free_bytes: u64,
    pub accessible: bool,
}

/// A datastore path, vSphere style: `[datastore] relative/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastorePath {
    pub datastore: String,
    pub path: String,
}

impl DatastorePath {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let rest = s
            .strip_prefix('[')
            .ok_or_else(|| format!("datastore path {s:?} must look like \"[datastore] path\""))?;
        let (ds, path) = rest
            .split_once(']')
            .ok_or_else(|| format!("datastore path {s:?} lacks the closing ']'"))?;
        let path = path.trim().trim_start_matches('/');
        if ds.is_empty() || path.is_empty() {
            return Err(format!("datastore path {s:?} needs a datastore and a file"));
        }
        if path.split('/').any(|c| c == "..") {
            return Err(format!("datastore path {s:?} may not contain '..'"));
        }
        Ok(Self {
            datastore: ds.to_string(),
            path: path.to_string(),
        })
    }
}

impl std::fmt::Display for DatastorePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.datastore, self.path)
    }
}

/// A datastore named in a path (`/api/datastores/{datastore}/...`): its
/// name on a host, its inventory object's id on a center.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DatastoreKey {
    pub datastore: String,
}

/// A folder in a datastore to list, by its path from the datastore's top
/// (`iso`; empty for the top itself).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FolderAt {
    /// Folders separated by `/`, no `.` or `..`, no leading `/`, no
    /// control character, no part beginning with `.hierro-`.
    #[serde(default)]
    #[param(
        pattern = r"^(((?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/)*(?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/?)?$",
        max_length = 256
    )]
    pub path: String,
}

/// A file or folder in a datastore, by its path from the datastore's top
/// (`iso/debian.iso`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileAt {
    /// As `FolderAt`'s, and not empty.
    #[param(
        pattern = r"^((?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/)*(?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/?$",
        max_length = 256
    )]
    pub path: String,
}

/// Where an upload goes (`PUT /api/datastores/{datastore}/file`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadAt {
    /// The new file's path; its folder must exist.
    #[param(
        pattern = r"^((?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/)*(?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/?$",
        max_length = 256
    )]
    pub path: String,
    /// Replace a file of that name (never a folder); refused otherwise.
    #[serde(default)]
    pub overwrite: bool,
}

/// One entry of a datastore folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct DatastoreFile {
    pub name: String,
    /// From the datastore's top.
    pub path: String,
    pub kind: FileKind,
    /// A file's length (a folder's: 0).
    pub size_bytes: u64,
    pub modified: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Folder,
}

/// A datastore folder's entries, folders first, then by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatastoreFolder {
    pub datastore: String,
    pub path: String,
    pub entries: Vec<DatastoreFile>,
}

/// A new folder (`POST /api/datastores/{datastore}/folders`); its parent
/// must exist.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderCreate {
    #[schema(
        pattern = r"^((?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/)*(?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/?$",
        max_length = 256
    )]
    pub path: String,
}

/// A rename or move inside one datastore (`POST
/// /api/datastores/{datastore}/move`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileMove {
    #[schema(
        pattern = r"^((?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/)*(?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/?$",
        max_length = 256
    )]
    pub from: String,
    #[schema(
        pattern = r"^((?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/)*(?!\.\.?(/|$))(?!\.hierro-)[^/\x00-\x1f\x7f-\x9f]{1,63}/?$",
        max_length = 256
    )]
    pub to: String,
    /// Replace a file at `to` (never a folder); refused otherwise.
    #[serde(default)]
    pub overwrite: bool,
}

/// Names that begin so are the host agent's own (uploads in progress,
/// VM folders being made): no request may name one.
pub const RESERVED_PREFIX: &str = ".hierro-";

/// The parts of a path inside a datastore, checked: relative, no empty,
/// `.` or `..` part, no control character, parts of at most 255 bytes,
/// none reserved. `top` allows the empty path (the datastore's top).
pub fn file_path_parts(path: &str, top: bool) -> Result<Vec<&str>, String> {
    if path.is_empty() {
        return if top {
            Ok(vec![])
        } else {
            Err("the path is empty: name a file or folder".into())
        };
    }
    if path.len() > 1024 {
        return Err("the path is longer than 1024 bytes".into());
    }
    if path.starts_with('/') {
        return Err(format!(
            "{path:?} is absolute: give the path from the datastore's top, without a leading '/'"
        ));
    }
    if path.chars().any(char::is_control) {
        return Err(format!("{path:?} holds a control character"));
    }
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    for p in &parts {
        match *p {
            "" => return Err(format!("{path:?} has an empty part ('//')")),
            "." | ".." => return Err(format!("{path:?} may not contain '.' or '..'")),
            p if p.len() > 255 => return Err(format!("{path:?} has a part over 255 bytes")),
            p if p.starts_with(RESERVED_PREFIX) => {
                return Err(format!(
                    "{path:?}: names beginning with {RESERVED_PREFIX:?} are the host agent's own"
                ))
            }
            _ => {}
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_datastore_paths() {
        let p = DatastorePath::parse("[shared] images/vmlinuz").unwrap();
        assert_eq!(p.datastore, "shared");
        assert_eq!(p.path, "images/vmlinuz");
        assert_eq!(p.to_string(), "[shared] images/vmlinuz");
        assert!(DatastorePath::parse("images/vmlinuz").is_err());
        assert!(DatastorePath::parse("[shared]").is_err());
        assert!(DatastorePath::parse("[] x").is_err());
        assert!(DatastorePath::parse("[ds] ../etc/passwd").is_err());
    }

    #[test]
    fn file_paths_stay_in_the_datastore() {
        assert_eq!(
            file_path_parts("iso/a.iso", false).unwrap(),
            ["iso", "a.iso"]
        );
        assert_eq!(file_path_parts("iso/", false).unwrap(), ["iso"]);
        assert!(file_path_parts("", true).unwrap().is_empty());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\0b",
            "a\nb",
            ".hierro-upload-x",
        ] {
            assert!(file_path_parts(bad, false).is_err(), "{bad:?}");
        }
        assert!(file_path_parts(&"x".repeat(256), false).is_err());
    }
}
