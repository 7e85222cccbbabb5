//! What a problem's snippet shows of its file: the problem's line and a line either
//! side, each cut to a window around the problem, with line numbers and columns as in
//! the whole file. A 10 MB one-line value prints as a couple of hundred characters, not
//! as 10 MB (and messages quoting such a value are cut in the middle, by [`cut_middle`]).

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Lines shown before and after the problem's line.
const CONTEXT_LINES: usize = 1;
/// Characters of the problem's line shown before the problem, and after its shown part.
const SIDE_CHARS: usize = 60;
/// Most characters of the problem itself shown.
const SPAN_CHARS: usize = 80;
/// Most characters of a context line shown.
const CONTEXT_CHARS: usize = 2 * SIDE_CHARS;
/// What replaces the text cut from a line or a message.
const ELLIPSIS: &str = "…";

/// A window of a file for miette: the cut lines, where they start in the file, and how
/// the problem's line was shifted by the cut.
#[derive(Debug, Clone)]
pub struct Excerpt {
    /// The file's name, as snippets show it.
    name: String,
    /// The cut lines, joined by newlines.
    text: String,
    /// 0-based line number of the first line of `text` in the file.
    first_line: usize,
    /// Index of the problem's line within `text`.
    problem_line: usize,
    /// Bytes cut from the start of the problem's line, less the ellipsis that replaced
    /// them: what to add to a column of that line (miette counts columns in bytes).
    column_shift: usize,
    /// Bytes the shown control characters before the problem added to its line (see
    /// [`visible`]): what to take off a column of that line.
    column_widening: usize,
}

impl Excerpt {
    /// The window of `source` around the `len` bytes at `offset` (on 1-based `line` of
    /// the file, 0 when unknown), and the span of the problem inside the window.
    pub fn around(name: &str, source: &str, offset: usize, len: usize, line: usize) -> (Excerpt, SourceSpan) {
        let offset = floor_boundary(source, offset.min(source.len()));
        let end = floor_boundary(source, offset.saturating_add(len).min(source.len()));
        let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[offset..].find('\n').map_or(source.len(), |i| offset + i);

        let mut before = Vec::new();
        let mut start = line_start;
        while before.len() < CONTEXT_LINES && start > 0 {
            let previous = source[..start - 1].rfind('\n').map_or(0, |i| i + 1);
            before.push(visible(&cut_end(&source[previous..start - 1], CONTEXT_CHARS)).into_owned());
            start = previous;
        }
        before.reverse();
        let mut after = Vec::new();
        let mut stop = line_end;
        while after.len() < CONTEXT_LINES && stop < source.len() {
            let next = source[stop + 1..].find('\n').map_or(source.len(), |i| stop + 1 + i);
            after.push(visible(&cut_end(&source[stop + 1..next], CONTEXT_CHARS)).into_owned());
            stop = next;
        }

        // The problem's line: a window from a little before the problem to a little
        // after its first SPAN_CHARS characters.
        let window_start = back_chars(source, offset, SIDE_CHARS).max(line_start);
        let shown_end = forward_chars(source, offset, SPAN_CHARS).min(end);
        let window_end = forward_chars(source, shown_end, SIDE_CHARS).min(line_end);
        let prefix = if window_start > line_start { ELLIPSIS } else { "" };
        let suffix = if window_end < line_end { ELLIPSIS } else { "" };
        // miette counts columns in bytes.
        let column_shift = (window_start - line_start).saturating_sub(prefix.len());

        let mut text = String::new();
        for l in &before {
            text.push_str(l);
            text.push('\n');
        }
        let lead = visible(&source[window_start..offset]);
        let problem_len = visible(&source[offset..shown_end]).len();
        let problem_at = text.len() + prefix.len() + lead.len();
        text.push_str(prefix);
        text.push_str(&lead);
        text.push_str(&visible(&source[offset..window_end]));
        text.push_str(suffix);
        for l in &after {
            text.push('\n');
            text.push_str(l);
        }
        let problem_line_number =
            if line > 0 { line - 1 } else { source[..line_start].bytes().filter(|b| *b == b'\n').count() };
        let excerpt = Excerpt {
            name: name.to_string(),
            text,
            first_line: problem_line_number - before.len(),
            problem_line: before.len(),
            column_shift,
            column_widening: lead.len() - (offset - window_start),
        };
        (excerpt, SourceSpan::from((problem_at, problem_len)))
    }

    /// An excerpt of nothing (a problem without a position shows no snippet).
    pub fn empty(name: &str) -> Excerpt {
        Excerpt {
            name: name.to_string(),
            text: String::new(),
            first_line: 0,
            problem_line: 0,
            column_shift: 0,
            column_widening: 0,
        }
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        let column = if inner.line() == self.problem_line {
            (inner.column() + self.column_shift).saturating_sub(self.column_widening)
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

/// `text` safe to print on a terminal: each control character but a tab, a newline or a
/// line's closing carriage return (a file saved on Windows) shown as its Unicode picture
/// (`␀`, `␛`, `␡`), or as `�` beyond ASCII. A binary file, or a stray escape in a text
/// file, then prints as marks, not as bytes the terminal obeys.
fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let kept = |c: char, next: Option<char>| matches!((c, next), ('\t' | '\n', _) | ('\r', Some('\n') | None));
    let mut chars = text.chars().peekable();
    let mut safe = true;
    while let Some(c) = chars.next() {
        safe &= !c.is_control() || kept(c, chars.peek().copied());
    }
    if safe {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(match c {
            c if !c.is_control() || kept(c, chars.peek().copied()) => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or(char::REPLACEMENT_CHARACTER),
            '\u{7f}' => '\u{2421}',
            _ => char::REPLACEMENT_CHARACTER,
        });
    }
    std::borrow::Cow::Owned(out)
}

/// `text` cut to at most `max` characters by replacing its middle with an ellipsis and
/// the number of characters left out.
pub fn cut_middle(text: &str, max: usize) -> String {
    // A text of at most `max` bytes has at most `max` characters: no need to count.
    if text.len() <= max || text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max / 2;
    let head_end = forward_chars(text, 0, keep);
    // Walk back from the end rather than forward through a long middle.
    let tail_start = back_chars(text, text.len(), keep / 2).max(head_end);
    let left_out = text[head_end..tail_start].chars().count();
    format!("{}{ELLIPSIS}[{left_out} characters]{ELLIPSIS}{}", &text[..head_end], &text[tail_start..])
}

/// `line` cut to `max` characters, with an ellipsis when cut.
fn cut_end(line: &str, max: usize) -> String {
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}{ELLIPSIS}", &line[..i]),
        None => line.to_string(),
    }
}

/// The byte index `n` characters before `at` (or 0).
fn back_chars(text: &str, at: usize, n: usize) -> usize {
    text[..at].char_indices().rev().nth(n.saturating_sub(1)).map_or(0, |(i, _)| i)
}

/// The byte index `n` characters after `at` (or the end).
fn forward_chars(text: &str, at: usize, n: usize) -> usize {
    text[at..].char_indices().nth(n).map_or(text.len(), |(i, _)| at + i)
}

/// The largest character boundary at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(excerpt: &Excerpt, span: SourceSpan) -> String {
        #[derive(Debug, thiserror::Error, miette::Diagnostic)]
        #[error("problem")]
        struct P {
            #[source_code]
            src: Excerpt,
            #[label("here")]
            span: SourceSpan,
        }
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, &P { src: excerpt.clone(), span })
            .unwrap();
        out
    }

    #[test]
    fn control_characters_show_as_marks_at_their_columns() {
        let source = "name: t\n\x1b[2J\x00\x01 bad: [\n\x7fafter\n";
        let offset = source.find("bad").unwrap();
        let (excerpt, span) = Excerpt::around("f.yaml", source, offset, 3, 2);
        let out = render(&excerpt, span);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("␛[2J␀␁ bad: ["), "{out}");
        assert!(out.contains("␡after"), "{out}");
        assert_eq!(visible("a: b\r\nc\r"), "a: b\r\nc\r", "a Windows file's line ends stay");
        assert_eq!(visible("a\rb"), "a␍b", "a lone carriage return would overwrite the line");
        // miette's column is the file's (in bytes), not the widened line's.
        assert!(out.contains("[f.yaml:2:8]"), "{out}");
    }

    #[test]
    fn short_lines_show_whole_with_their_numbers() {
        let source = "name: t\nhosts:\n  x: {}\nrun: {}\n";
        let offset = source.find("x:").unwrap();
        let (excerpt, span) = Excerpt::around("f.yaml", source, offset, 1, 3);
        let out = render(&excerpt, span);
        assert!(out.contains("[f.yaml:3:3]"), "{out}");
        assert!(out.contains(" 2 │ hosts:") && out.contains(" 3 │   x: {}") && out.contains(" 4 │ run: {}"), "{out}");
        assert!(!out.contains("name: t"), "{out}");
    }

    #[test]
    fn regression_a_ten_megabyte_line_shows_a_window_at_the_right_column() {
        let value = "a".repeat(10_000_000);
        let source = format!("name: t\nenv: {{GOPROXY: \"https://{value}\"}}\nrun: {{}}\n");
        let offset = source.find("aaa").unwrap() + 5_000_000;
        let (excerpt, span) = Excerpt::around("f.yaml", &source, offset, 4_000_000, 2);
        let out = render(&excerpt, span);
        assert!(out.len() < 2_000, "{} bytes", out.len());
        let column = source[..offset].len() - source.find("env").unwrap() + 1;
        assert!(out.contains(&format!("[f.yaml:2:{column}]")), "{out}");
        assert!(out.contains(" 2 │ …aaaa") && out.contains("aaaa…"), "{out}");
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let source = format!("k: {}\n", "é".repeat(500));
        let (excerpt, span) = Excerpt::around("f.yaml", &source, 3 + 2 * 200 + 1, 5, 1);
        let out = render(&excerpt, span);
        assert!(out.contains('é'), "{out}");
        assert_eq!(cut_middle(&"é".repeat(10), 4), "éé…[7 characters]…é");
        assert_eq!(cut_middle("short", 10), "short");
    }
}
