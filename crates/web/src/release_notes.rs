//! Release notes as HTML: the domain builds them as plain values (and writes the
//! Markdown); here the same value goes through an askama template, so every piece of
//! text people typed is escaped.

use askama::Template;
use tend_domain::change::ReleaseNotes;

/// The notes as a document of their own, to download or to send to the client.
#[derive(Template)]
#[template(path = "release_notes_page.html")]
struct NotesDocument<'a> {
    notes: &'a ReleaseNotes,
    top: u8,
}

/// The notes inside a page whose headings already go down to `top - 1`.
#[derive(Template)]
#[template(path = "release_notes.html")]
pub struct NotesFragment<'a> {
    pub notes: &'a ReleaseNotes,
    pub top: u8,
}

/// A standalone HTML document with the notes.
pub fn html_document(notes: &ReleaseNotes) -> Result<String, askama::Error> {
    NotesDocument { notes, top: 1 }.render()
}

/// The name a downloaded file gets: `release-12-november-window.md`.
pub fn file_name(id: i64, name: &str, extension: &str) -> String {
    let mut words = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            words.push(ch.to_ascii_lowercase());
        } else if !words.ends_with('-') && !words.is_empty() {
            words.push('-');
        }
    }
    let words = words.trim_end_matches('-');
    if words.is_empty() {
        format!("release-{id}.{extension}")
    } else {
        format!("release-{id}-{words}.{extension}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tend_domain::change::NotesEntry;

    #[test]
    fn typed_text_is_escaped_in_the_html_notes() {
        let notes = ReleaseNotes {
            title: "Acme <b>Dental</b>".into(),
            status_line: "Planned".into(),
            entries: vec![NotesEntry {
                heading: "#1 <script>alert(1)</script>".into(),
                what_changed: "Fixed \"quotes\" & <tags>".into(),
                client_notes: String::new(),
                systems: vec!["<Stripe>".into()],
                tested_before: String::new(),
                verified_after: "Live booking (pass)".into(),
            }],
        };
        let html = html_document(&notes).unwrap();
        assert!(
            html.contains("<h1>Release notes: Acme &#60;b&#62;Dental&#60;/b&#62;</h1>"),
            "{html}"
        );
        assert!(html.contains("<h2>#1 &#60;script&#62;"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(html.contains("Systems touched: &#60;Stripe&#62;"));
        assert!(html.contains("<li>Verified after release: Live booking (pass)</li>"));
        assert!(!html.contains("Tested before release"));
    }

    #[test]
    fn file_names_are_plain_words() {
        assert_eq!(
            file_name(12, "November window", "md"),
            "release-12-november-window.md"
        );
        assert_eq!(
            file_name(3, "Ünïcode / ???", "html"),
            "release-3-n-code.html"
        );
        assert_eq!(file_name(3, "???", "md"), "release-3.md");
    }
}
