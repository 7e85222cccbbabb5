//! HTML written so that nothing user-controlled can become markup: markup comes only
//! from `&'static str` (text in this program), and every other string — scenario names,
//! go's output, paths, request paths, fault labels — goes through [`escape`]. A template
//! crate would give the same guarantee with a macro language and a dependency; this
//! type gives it with the type system in a page of code.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references: safe as an
/// element's text and as a double- or single-quoted attribute value.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A page being written.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// An empty page.
    pub fn new() -> Html {
        Html::default()
    }

    /// Markup, which can only be text of this program.
    pub fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.out.push_str(markup);
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Html {
        self.out.push_str(&escape(text));
        self
    }

    /// ` name="value"`, the value escaped.
    pub fn attr(&mut self, name: &'static str, value: &str) -> &mut Html {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.out.push_str(&escape(value));
        self.out.push('"');
        self
    }

    /// ` name="number"`, with at most one decimal.
    pub fn num_attr(&mut self, name: &'static str, value: f64) -> &mut Html {
        let _ = write!(self.out, " {name}=\"{}\"", number(value));
        self
    }

    /// A whole number.
    pub fn int(&mut self, value: i64) -> &mut Html {
        let _ = write!(self.out, "{value}");
        self
    }

    /// `<tag>text</tag>` with the text escaped.
    pub fn element(&mut self, open: &'static str, text: &str, close: &'static str) -> &mut Html {
        self.raw(open).text(text).raw(close)
    }

    /// The page.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A number with at most one decimal, without a trailing `.0` (compact SVG).
pub fn number(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 { format!("{}", rounded as i64) } else { format!("{rounded:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape("a<script>alert('x')</script>&\"b\""),
            "a&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;b&quot;"
        );
        assert!(matches!(escape("plain text"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_and_attributes_are_escaped_markup_is_not() {
        let mut html = Html::new();
        html.raw("<p").attr("title", "\"><script>x</script>").raw(">").text("<b>").raw("</p>");
        assert_eq!(html.finish(), "<p title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">&lt;b&gt;</p>");
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(3.04), "3");
        assert_eq!(number(3.25), "3.3");
        assert_eq!(number(f64::NAN), "0");
    }
}
