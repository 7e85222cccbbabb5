//! A scenario's timeline as inline SVG: a row of go's commands, a row per host with a
//! bar per request (coloured by status, outlined when a fault fired on it, dashed when
//! it never ended), a row of DNS queries, and the phases behind them. Every element
//! carries its details as a `<title>` tooltip and as `data-` attributes, so the picture
//! needs no script.

use super::markup::{Html, number};
use crate::report::journal::record::{DnsEntry, ExitKind, GoCommandEntry, PhaseName, RequestEntry, ScenarioRecord};

/// Width of the whole picture, in SVG units (it scales to the page's width).
const WIDTH: f64 = 1000.0;
/// Width of the label column.
const LABELS: f64 = 190.0;
/// Right margin.
const MARGIN: f64 = 12.0;
/// Height of one lane of bars.
const LANE: f64 = 11.0;
/// Lanes a row may have; further overlapping bars share the last one.
const MAX_LANES: usize = 6;
/// Height of the time axis.
const AXIS: f64 = 30.0;
/// The narrowest bar, so that a 0.2 ms request still shows.
const MIN_BAR: f64 = 2.0;
/// The narrowest bar of a request a fault fired on: wide enough to show its colour
/// inside the outline.
const MIN_FAULT_BAR: f64 = 5.0;

/// One bar to draw.
struct Bar<'a> {
    start: f64,
    end: Option<f64>,
    /// Space-separated class names (static).
    class: String,
    title: String,
    data: Vec<(&'static str, &'a str)>,
}

/// A row: a label and its bars.
struct Row<'a> {
    label: String,
    class: &'static str,
    bars: Vec<Bar<'a>>,
}

/// Writes the timeline of `record`; nothing when it has nothing to show.
pub fn write(html: &mut Html, record: &ScenarioRecord) {
    let rows = rows(record);
    if rows.iter().all(|r| r.bars.is_empty()) {
        html.raw("<p class=\"empty\">Nothing ran: no timeline.</p>");
        return;
    }
    let span = time_span(record, &rows);
    let scale = (WIDTH - LABELS - MARGIN) / span;
    let x = |ms: f64| LABELS + ms.max(0.0) * scale;
    let laid: Vec<(Row, Vec<usize>, usize)> = rows
        .into_iter()
        .map(|row| {
            let (lanes, count) = lanes(&row.bars, scale);
            (row, lanes, count)
        })
        .collect();
    let height = AXIS + laid.iter().map(|(_, _, n)| *n as f64 * LANE + 8.0).sum::<f64>() + 4.0;
    html.raw("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"")
        .attr("viewBox", &format!("0 0 {} {}", number(WIDTH), number(height)))
        .attr("aria-label", &format!("timeline of {}", record.name))
        .raw(">");
    phases(html, record, height, &x);
    axis(html, span, height, &x);
    let mut y = AXIS;
    for (row, lane_of, count) in &laid {
        let row_height = *count as f64 * LANE + 8.0;
        html.raw("<g").attr("class", &format!("row {}", row.class)).attr("data-label", &row.label).raw(">");
        html.raw("<line class=\"sep\"")
            .num_attr("x1", 0.0)
            .num_attr("x2", WIDTH)
            .num_attr("y1", y)
            .num_attr("y2", y)
            .raw("/>");
        html.raw("<text class=\"label\"").num_attr("x", 4.0).num_attr("y", y + 4.0 + LANE * 0.8).raw(">");
        html.text(&shorten(&row.label, 30)).raw("</text>");
        for (bar, lane) in row.bars.iter().zip(lane_of) {
            let end = bar.end.unwrap_or(span);
            let left = x(bar.start);
            let narrowest = if bar.class.contains(" fault") { MIN_FAULT_BAR } else { MIN_BAR };
            let w = (x(end) - left).max(narrowest);
            html.raw("<rect").attr("class", &bar.class);
            for (name, value) in &bar.data {
                html.attr(name, value);
            }
            html.num_attr("x", left)
                .num_attr("y", y + 4.0 + *lane as f64 * LANE)
                .num_attr("width", w)
                .num_attr("height", LANE - 2.0)
                .raw("><title>")
                .text(&bar.title)
                .raw("</title></rect>");
        }
        html.raw("</g>");
        y += row_height;
    }
    html.raw("</svg>");
}

/// The rows: go's commands, each declared host (then any other host requests named, such
/// as `<outside>`), and DNS.
fn rows(record: &ScenarioRecord) -> Vec<Row<'_>> {
    let mut rows =
        vec![Row { label: "go".into(), class: "go", bars: record.go_commands.iter().map(command_bar).collect() }];
    let mut names: Vec<&str> = record.hosts.iter().map(|h| h.name.as_str()).collect();
    for request in &record.requests {
        if !names.contains(&request.host.as_str()) {
            names.push(&request.host);
        }
    }
    for name in names {
        let bars = record.requests.iter().filter(|r| r.host == name).map(request_bar).collect();
        rows.push(Row { label: name.to_string(), class: "host", bars });
    }
    if !record.dns.is_empty() {
        rows.push(Row { label: "DNS".into(), class: "dns", bars: record.dns.iter().map(dns_bar).collect() });
    }
    rows
}

fn command_bar(c: &GoCommandEntry) -> Bar<'_> {
    let outcome = match c.exit.kind {
        ExitKind::Code if c.exit.code == Some(0) => "ok",
        ExitKind::Timeout => "timeout",
        _ => "failed",
    };
    Bar {
        start: c.start_ms,
        end: Some(c.start_ms + c.duration_ms),
        class: format!("cmd {outcome}"),
        title: format!("[{}] {} → {} ({} ms)", PhaseName::name(c.phase), c.command, c.exit.text, number(c.duration_ms)),
        data: vec![("data-phase", PhaseName::name(c.phase))],
    }
}

fn request_bar(r: &RequestEntry) -> Bar<'_> {
    let status = match r.status {
        Some(s) if s < 300 => "s2xx",
        Some(s) if s < 400 => "s3xx",
        Some(s) if s < 500 => "s4xx",
        Some(_) => "s5xx",
        None if matches!(r.method.as_str(), "TLS" | "TCP" | "CONNECT") && r.note.is_none() => "conn",
        None => "none",
    };
    let mut class = format!("req {status}");
    if !r.faults.is_empty() {
        class.push_str(" fault");
    }
    if r.end_ms.is_none() {
        class.push_str(" open");
    }
    let mut title = format!(
        "#{} {} {} → {} ({} B, {})",
        r.seq,
        r.method,
        r.path,
        r.status.map_or("no response".to_string(), |s| s.to_string()),
        r.bytes,
        r.end_ms.map_or("never ended".to_string(), |end| format!("{} ms", number(end - r.start_ms))),
    );
    if !r.faults.is_empty() {
        title += &format!(" [fault: {}]", r.faults.join(", "));
    }
    if let Some(note) = &r.note {
        title += &format!(" ({note})");
    }
    title += &format!(" at {} ms, {}", number(r.start_ms), PhaseName::name(r.phase));
    Bar {
        start: r.start_ms,
        end: r.end_ms,
        class,
        title,
        data: vec![("data-host", &r.host), ("data-phase", PhaseName::name(r.phase))],
    }
}

fn dns_bar(q: &DnsEntry) -> Bar<'_> {
    let answered = match q.rcode.as_deref() {
        Some("NOERROR") => "ok",
        Some(_) => "error",
        None => "none",
    };
    let mut class = format!("dnsq {answered}");
    if !q.faults.is_empty() {
        class.push_str(" fault");
    }
    if q.end_ms.is_none() {
        class.push_str(" open");
    }
    let mut title =
        format!("#{} {} {} {} → {}", q.seq, q.transport, q.qtype, q.name, q.rcode.as_deref().unwrap_or("no answer"));
    if !q.answers.is_empty() {
        title += &format!(" {}", q.answers.join(", "));
    }
    if !q.faults.is_empty() {
        title += &format!(" [fault: {}]", q.faults.join(", "));
    }
    Bar { start: q.start_ms, end: q.end_ms, class, title, data: vec![("data-name", &q.name)] }
}

/// The time the picture spans: the scenario, or more if something outlasted it.
fn time_span(record: &ScenarioRecord, rows: &[Row]) -> f64 {
    let ends = rows.iter().flat_map(|r| &r.bars).map(|b| b.end.unwrap_or(b.start).max(b.start));
    ends.fold(record.duration_ms as f64, f64::max).max(1.0)
}

/// Which lane each bar goes in (greedy: the first lane free at its start, in pixels),
/// and how many lanes the row needs.
fn lanes(bars: &[Bar], scale: f64) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..bars.len()).collect();
    order.sort_by(|&a, &b| bars[a].start.total_cmp(&bars[b].start));
    let mut free_at: Vec<f64> = Vec::new();
    let mut lane_of = vec![0; bars.len()];
    for i in order {
        let start = bars[i].start * scale;
        let end = (bars[i].end.unwrap_or(f64::INFINITY) * scale).max(start + MIN_BAR + 1.0);
        let lane = match free_at.iter().position(|&f| f <= start) {
            Some(lane) => lane,
            None if free_at.len() < MAX_LANES => {
                free_at.push(0.0);
                free_at.len() - 1
            }
            None => free_at.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(l, _)| l),
        };
        free_at[lane] = end;
        lane_of[i] = lane;
    }
    (lane_of, free_at.len().max(1))
}

/// Bands behind the rows for each phase (from its first command's start to its last's
/// end) and a mark where the recovery's steps were applied.
fn phases(html: &mut Html, record: &ScenarioRecord, height: f64, x: &dyn Fn(f64) -> f64) {
    let mut bands: Vec<(&'static str, f64, f64)> = Vec::new();
    for c in &record.go_commands {
        let name = PhaseName::name(c.phase);
        let end = c.start_ms + c.duration_ms;
        match bands.last_mut() {
            Some((last, _, e)) if *last == name => *e = end,
            _ => bands.push((name, c.start_ms, end)),
        }
    }
    for (name, start, end) in bands {
        let width = (x(end) - x(start)).max(1.0);
        html.raw("<rect")
            .attr("class", &format!("band {name}"))
            .num_attr("x", x(start))
            .num_attr("y", AXIS)
            .num_attr("width", width)
            .num_attr("height", height - AXIS)
            .raw("><title>")
            .text(name)
            .raw("</title></rect>");
        // A name only where it fits (the tooltip says it everywhere).
        if width >= 40.0 {
            html.raw("<text class=\"bandname\"")
                .num_attr("x", x(start) + 2.0)
                .num_attr("y", AXIS - 18.0)
                .raw(">")
                .text(name)
                .raw("</text>");
        }
    }
    if let Some(recovery) = &record.recovery {
        html.raw("<line class=\"recovery\"")
            .num_attr("x1", x(recovery.start_ms))
            .num_attr("x2", x(recovery.start_ms))
            .num_attr("y1", AXIS - 4.0)
            .num_attr("y2", height)
            .raw("><title>")
            .text(&format!("recovery applied: {}", recovery.steps.join("; ")))
            .raw("</title></line>");
    }
}

/// The time axis: ticks at 1, 2 or 5 times a power of ten, about eight of them.
fn axis(html: &mut Html, span: f64, height: f64, x: &dyn Fn(f64) -> f64) {
    let raw = span / 8.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(power * 10.0);
    let mut t = 0.0;
    while t <= span + step * 0.01 {
        // Seconds from two seconds up: `2500ms` reads slower than `2.5s`.
        let label = if span >= 2000.0 { format!("{}s", number(t / 1000.0)) } else { format!("{}ms", number(t)) };
        html.raw("<line class=\"tick\"")
            .num_attr("x1", x(t))
            .num_attr("x2", x(t))
            .num_attr("y1", AXIS - 4.0)
            .num_attr("y2", height)
            .raw("/><text class=\"ticklabel\"");
        // The last labels end at their tick, inside the picture.
        if x(t) > WIDTH - 60.0 {
            html.raw(" text-anchor=\"end\"").num_attr("x", x(t) - 2.0);
        } else {
            html.num_attr("x", x(t) + 2.0);
        }
        html.num_attr("y", AXIS - 4.0).raw(">").text(&label).raw("</text>");
        t += step;
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(start: f64, end: Option<f64>) -> Bar<'static> {
        Bar { start, end, class: "req s2xx".into(), title: String::new(), data: Vec::new() }
    }

    #[test]
    fn overlapping_bars_get_lanes_of_their_own_up_to_the_limit() {
        let (lanes_of, count) = lanes(&[bar(0.0, Some(10.0)), bar(5.0, Some(15.0)), bar(20.0, Some(30.0))], 1.0);
        assert_eq!((lanes_of, count), (vec![0, 1, 0], 2));
        let many: Vec<Bar> = (0..20).map(|i| bar(i as f64, None)).collect();
        let (lanes_of, count) = lanes(&many, 1.0);
        assert_eq!(count, MAX_LANES);
        assert!(lanes_of.iter().all(|&l| l < MAX_LANES));
    }

    #[test]
    fn ticks_are_round_and_cover_the_span() {
        let mut html = Html::new();
        axis(&mut html, 2500.0, 100.0, &|ms| LABELS + ms * 0.3);
        let page = html.finish();
        let labels: Vec<&str> =
            page.split("\">").skip(1).filter_map(|s| s.split_once("</text>")).map(|(l, _)| l).collect();
        assert_eq!(labels, ["0s", "0.5s", "1s", "1.5s", "2s", "2.5s"]);
    }
}
