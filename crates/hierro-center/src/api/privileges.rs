//! What each operation needs, as typed privileges: every handler file
//! declares its operations' needs next to its handlers (`ACCESS`), and the
//! OpenAPI document's "Privilege:" line of each operation is written from
//! them, so the document names only privileges that exist.

use hierro_api::Privilege;
use utoipa::openapi::OpenApi;

/// A privilege on an object (in words), and when it is needed.
pub struct Need {
    privilege: Privilege,
    on: &'static str,
    when: &'static str,
}

/// `privilege` on `on` ("the VM", "the root", "each network").
pub const fn on(privilege: Privilege, on: &'static str) -> Need {
    Need {
        privilege,
        on,
        when: "",
    }
}

impl Need {
    /// Only in some cases ("to rename", "running VM").
    pub const fn when(self, when: &'static str) -> Need {
        Need { when, ..self }
    }
}

/// What an operation needs: privileges, and a note for what they do not
/// say ("none", "the others are left out"...).
pub struct Access {
    pub needs: &'static [Need],
    pub note: &'static str,
}

pub const fn needs(needs: &'static [Need]) -> Access {
    Access { needs, note: "" }
}

pub const fn note(note: &'static str, needs: &'static [Need]) -> Access {
    Access { needs, note }
}

impl Access {
    /// "Privilege: A on X; B on Y (when)."
    pub fn line(&self) -> String {
        let mut parts: Vec<String> = vec![];
        if !self.note.is_empty() {
            parts.push(self.note.to_string());
        }
        for n in self.needs {
            let when = if n.when.is_empty() {
                String::new()
            } else {
                format!(" ({})", n.when)
            };
            parts.push(format!("{} on {}{when}", n.privilege, n.on));
        }
        format!("Privilege: {}.", parts.join("; "))
    }
}

/// Puts each operation's "Privilege:" line first in its description.
/// Returns the operations that need a session but have no entry, and the
/// entries that name no operation: both should be empty.
pub fn write(doc: &mut OpenApi, tables: &[&[(&str, Access)]]) -> (Vec<String>, Vec<String>) {
    let mut unused: Vec<&str> = tables.iter().flat_map(|t| t.iter().map(|e| e.0)).collect();
    let mut missing = vec![];
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let id = op.operation_id.clone().unwrap_or_default();
            let access = tables.iter().flat_map(|t| t.iter()).find(|e| e.0 == id);
            let Some((_, access)) = access else {
                if op.security.is_some() {
                    missing.push(id);
                }
                continue;
            };
            unused.retain(|u| *u != id);
            let rest = op.description.take().unwrap_or_default();
            op.description = Some(if rest.is_empty() {
                access.line()
            } else {
                format!("{}\n\n{rest}", access.line())
            });
        }
    }
    (missing, unused.into_iter().map(String::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Privilege as P;

    #[test]
    fn lines_read_as_sentences() {
        const ONE: Access = needs(&[on(P::HostConfigConnection, "the host")]);
        const TWO: Access = note(
            "none for one's own tokens",
            &[on(P::GlobalSettings, "the root").when("to list everyone's")],
        );
        assert_eq!(ONE.line(), "Privilege: Host.Config.Connection on the host.");
        assert_eq!(
            TWO.line(),
            "Privilege: none for one's own tokens; Global.Settings on the root (to list everyone's)."
        );
    }
}
