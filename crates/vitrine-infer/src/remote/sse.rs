//! Server-sent events as OpenAI-compatible servers stream them: `data:`
//! lines, an event ends at a blank line, `data: [DONE]` ends the stream.

use std::io::{self, BufRead};

/// One thing read from the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum SseItem {
    /// The data of one event (multi-line data joined with `\n`).
    Data(String),
    /// `data: [DONE]`: the server is finished.
    Done,
}

/// Reads events from a byte stream, one at a time, so the caller can look at
/// a cancel flag between two of them.
pub struct SseReader<R> {
    inner: R,
    line: Vec<u8>,
}

impl<R: BufRead> SseReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            line: Vec::new(),
        }
    }

    /// The next event, or `None` at the end of the stream.
    pub fn next_item(&mut self) -> io::Result<Option<SseItem>> {
        let mut data: Option<String> = None;
        loop {
            self.line.clear();
            let n = self.inner.read_until(b'\n', &mut self.line)?;
            if n == 0 {
                // A last event without its blank line still counts.
                return Ok(data.map(finish));
            }
            let line = String::from_utf8_lossy(&self.line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                match data.take() {
                    Some(d) => return Ok(Some(finish(d))),
                    None => continue,
                }
            }
            // Comments (`: ping`) keep idle connections alive; other fields
            // (`event:`, `id:`, `retry:`) mean nothing for chat completions.
            let Some(value) = line.strip_prefix("data:") else {
                continue;
            };
            let value = value.strip_prefix(' ').unwrap_or(value);
            match data.as_mut() {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            }
        }
    }
}

fn finish(data: String) -> SseItem {
    if data.trim() == "[DONE]" {
        SseItem::Done
    } else {
        SseItem::Data(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<SseItem> {
        let mut r = SseReader::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = r.next_item().unwrap() {
            out.push(item);
        }
        out
    }

    #[test]
    fn reads_events_comments_crlf_and_done() {
        let stream =
            ": ping\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata:{\"b\":2}\n\ndata: [DONE]\n\n";
        assert_eq!(
            all(stream),
            vec![
                SseItem::Data("{\"a\":1}".into()),
                SseItem::Data("{\"b\":2}".into()),
                SseItem::Done
            ]
        );
    }

    #[test]
    fn joins_multi_line_data_and_keeps_a_last_unterminated_event() {
        assert_eq!(
            all("data: one\ndata: two\n\ndata: tail"),
            vec![
                SseItem::Data("one\ntwo".into()),
                SseItem::Data("tail".into())
            ]
        );
        assert!(all("").is_empty());
    }
}
