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
}
