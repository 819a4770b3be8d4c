//! The charts (`c` on Status): one chart at a time, drawn as bars so they read
//! without colour and at 80x24. Left/Right change the chart (metered
//! services, seats per pool, charged user-days of the daily pools, storage
//! against its allowance); Up/Down the series within it (which service,
//! which pool). The history is read by the performer on the worker thread.

use chrono::Datelike as _;
use crossterm::event::KeyEvent;
use licfile::YearMonth;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Clear, Paragraph};
use store::history::{History, MonthPoint};

use super::super::action::{Action, Job};
use super::super::keys::Place;
use super::details::wrap_words;
use super::grid::block;
use super::{Component, Cx};

/// Bars in ASCII for terminals without UTF-8.
const ASCII_BARS: ratatui::symbols::bar::Set<'static> = ratatui::symbols::bar::Set {
    full: "#",
    seven_eighths: "#",
    three_quarters: "#",
    five_eighths: "+",
    half: "+",
    three_eighths: "+",
    one_quarter: ".",
    one_eighth: ".",
    empty: " ",
};

/// Days of charged user-days shown per daily pool.
pub const DAILY_DAYS: u32 = 31;

/// The charts, in the order Left/Right go through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Metered services month by month, and this month's overage.
    Metered,
    /// Seats in use per pool month by month.
    Seats,
    /// Charged user-days per day of each daily pool.
    Daily,
    /// Storage against the allowance month by month.
    Storage,
}

impl Chart {
    const ALL: [Chart; 4] = [Chart::Metered, Chart::Seats, Chart::Daily, Chart::Storage];

    fn title(self) -> &'static str {
        match self {
            Chart::Metered => "Metered services",
            Chart::Seats => "Seats in use",
            Chart::Daily => "Charged user-days",
            Chart::Storage => "Storage",
        }
    }
}

/// The charts popup.
#[derive(Debug, Clone)]
pub struct Charts {
    /// What the store said.
    pub history: History,
    /// The chart shown.
    pub chart: Chart,
    /// The series shown within it (clamped when drawn).
    pub series: usize,
}

/// What one chart shows: facts above, bars (label, value, text on the bar),
/// the largest value a bar has, and the limit drawn across the bars.
struct Drawn {
    facts: Vec<String>,
    bars: Vec<(String, u64, String)>,
    peak: u64,
    count: usize,
    limit: Option<Limit>,
}

/// A limit the bars are measured against (a metered service's threshold,
/// the seats licensed, the storage allowance), drawn as a line across the
/// bars at its height and named at its left, so that a bar over it reads as
/// over without reading the numbers, and without colour.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Limit {
    /// What it is: "threshold", "licensed", "allowance".
    word: &'static str,
    value: u64,
    /// After the value: " GB", or nothing.
    unit: &'static str,
}

impl Limit {
    /// The label at the line's left where there is room: "threshold 500".
    fn label(&self) -> String {
        format!("{} {}{}", self.word, self.value, self.unit)
    }
}

/// The value a full bar stands for, and the row (from the top of bars
/// `height` rows high, their labels below not counted) of the line at
/// `limit`, when the largest bar is `peak`.
///
/// ratatui draws a bar of `v` as `v * height * 8 / full` eighths of a cell,
/// rounded down. The scale is chosen so that a bar of `limit` fills `k`
/// whole cells and a bar of `limit + 1` reaches into the next: the line
/// drawn in that next row then parts the bars exactly, every bar over the
/// limit reaching it and every other staying below, at any size and without
/// colour. `k` is as high as the tallest bar allows. A limit under one cell
/// (a bar far over it) is drawn on the bottom row at the plain scale.
fn scale(peak: u64, limit: Option<u64>, height: u16) -> (u64, Option<u16>) {
    let limit = match limit {
        Some(l) if l > 0 && height > 0 => l,
        _ => return (peak.max(1), None),
    };
    let h = u128::from(height);
    for k in (1..height).rev() {
        // The largest scale with a bar of `limit + 1` at 8k + 1 eighths; it
        // also keeps a bar of `limit` at 8k at most, since the two bounds
        // are more than one apart (8 * height > 8k + 1).
        let full = (u128::from(limit) + 1) * h * 8 / (8 * u128::from(k) + 1);
        if full >= u128::from(peak) {
            let full = u64::try_from(full).unwrap_or(u64::MAX);
            return (full, Some(height - 1 - k));
        }
    }
    (peak.max(1), Some(height - 1))
}

/// `n` short enough to sit on a bar: 12345 as 12k.
pub fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=9_999_999 => format!("{}k", n / 1_000),
        _ => format!("{}M", n / 1_000_000),
    }
}

fn month_label(m: YearMonth) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES
        .get(m.month().saturating_sub(1) as usize)
        .copied()
        .unwrap_or("?")
        .to_string()
}

/// Bars of a monthly series; a month before the store existed is an empty
/// bar labelled `-` rather than a zero that did not happen.
fn month_bars(points: &[MonthPoint]) -> Vec<(String, u64, String)> {
    points
        .iter()
        .map(|p| match p.value {
            Some(v) => (month_label(p.month), v, compact(v)),
            None => (month_label(p.month), 0, "-".into()),
        })
        .collect()
}

fn gb(bytes: u64) -> u64 {
    bytes.div_ceil(1_000_000_000)
}

impl Charts {
    /// The charts over `history`, opening on the metered services.
    pub fn new(history: History) -> Charts {
        Charts {
            history,
            chart: Chart::Metered,
            series: 0,
        }
    }

    /// The chart shown, as facts and bars.
    fn drawn(&self) -> Drawn {
        let h = &self.history;
        let of = |i: usize, n: usize, what: &str| {
            if n > 1 {
                format!("{what} {} of {n} (Up/Down for the others)", i + 1)
            } else {
                String::new()
            }
        };
        match self.chart {
            Chart::Metered => {
                let n = h.metered.len();
                let Some(m) = h.metered.get(self.series.min(n.saturating_sub(1))) else {
                    return Drawn::empty("No metered services in the licences in force.");
                };
                let i = self.series.min(n - 1);
                let used = m.months.last().and_then(|p| p.value).unwrap_or(0);
                let mut facts = vec![
                    format!("{} ({}), the last 12 months", m.name, m.unit),
                    format!(
                        "This month: {used} used, {} free, {} over; overage so far {} {}",
                        m.threshold, m.excess, m.overage_cost, h.currency
                    ),
                ];
                if m.excess > 0 {
                    facts.push(format!(
                        "OVER: {} x {} {} each",
                        m.excess, m.overage_price, h.currency
                    ));
                }
                let bars = month_bars(&m.months);
                let peak = bars.iter().map(|b| b.1).max().unwrap_or(0);
                if m.months.iter().any(|p| p.value.is_none()) {
                    facts.push("No bar: before the store existed".into());
                }
                facts.push(of(i, n, "Service"));
                Drawn {
                    facts,
                    bars,
                    peak,
                    count: n,
                    limit: Some(Limit {
                        word: "threshold",
                        value: m.threshold,
                        unit: "",
                    }),
                }
            }
            Chart::Seats => {
                let n = h.seats.len();
                let Some(p) = h.seats.get(self.series.min(n.saturating_sub(1))) else {
                    return Drawn::empty("No seat pools in the licences in force.");
                };
                let i = self.series.min(n - 1);
                let bars = month_bars(&p.months);
                let peak = bars.iter().map(|b| b.1).max().unwrap_or(0);
                Drawn {
                    facts: vec![
                        format!("{}: the most seats in use each month", p.label),
                        format!("{} seats licensed today", p.total),
                        of(i, n, "Pool"),
                    ],
                    bars,
                    peak,
                    count: n,
                    limit: Some(Limit {
                        word: "licensed",
                        value: u64::from(p.total),
                        unit: "",
                    }),
                }
            }
            Chart::Daily => {
                let n = h.daily.len();
                let Some(d) = h.daily.get(self.series.min(n.saturating_sub(1))) else {
                    return Drawn::empty("No daily pools in the licences in force.");
                };
                let i = self.series.min(n - 1);
                let total: u64 = d.days.iter().map(|p| p.charged).sum();
                let month: u64 = d
                    .days
                    .iter()
                    .filter(|p| p.day.month() == h.today.month() && p.day.year() == h.today.year())
                    .map(|p| p.charged)
                    .sum();
                let bars: Vec<_> = d
                    .days
                    .iter()
                    .map(|p| (p.day.day().to_string(), p.charged, compact(p.charged)))
                    .collect();
                let first = d
                    .days
                    .first()
                    .map(|p| p.day.to_string())
                    .unwrap_or_default();
                // A seat is charged at most once a day: the seats licensed
                // are the most user-days a day should bring.
                let licensed = h
                    .seats
                    .iter()
                    .find(|p| p.pool == d.pool)
                    .map(|p| u64::from(p.total));
                let peak = bars.iter().map(|b| b.1).max().unwrap_or(0);
                Drawn {
                    facts: vec![
                        format!("{}: user-days charged each day", d.label),
                        format!("{total} from {first} to {}; {month} this month", h.today),
                        of(i, n, "Pool"),
                    ],
                    peak,
                    bars,
                    count: n,
                    limit: licensed.map(|value| Limit {
                        word: "licensed",
                        value,
                        unit: "",
                    }),
                }
            }
            Chart::Storage => {
                let Some(now) = h.storage.last() else {
                    return Drawn::empty("No storage recorded.");
                };
                let bars: Vec<_> = h
                    .storage
                    .iter()
                    .map(|p| match p.used_bytes {
                        Some(b) => (month_label(p.month), gb(b), compact(gb(b))),
                        None => (month_label(p.month), 0, "-".into()),
                    })
                    .collect();
                let allowance = now.allowance_gb;
                let peak = bars.iter().map(|b| b.1).max().unwrap_or(0);
                let mut facts = vec![
                    "Storage in use each month (the month's most), GB".to_string(),
                    format!("Allowance {allowance} GB today"),
                ];
                if h.storage.iter().any(|p| !p.allowance_recorded) {
                    facts.push(
                        "Months before the store recorded its allowance are measured against today's."
                            .into(),
                    );
                }
                if let Some(over) = h
                    .storage
                    .iter()
                    .rev()
                    .find(|p| p.used_bytes.is_some_and(|b| gb(b) > p.allowance_gb))
                {
                    facts.push(format!(
                        "OVER the allowance of {} GB in {}",
                        over.allowance_gb, over.month
                    ));
                }
                Drawn {
                    facts,
                    bars,
                    peak,
                    count: 1,
                    limit: Some(Limit {
                        word: "allowance",
                        value: allowance,
                        unit: " GB",
                    }),
                }
            }
        }
    }
}

impl Drawn {
    fn empty(why: &str) -> Drawn {
        Drawn {
            facts: vec![why.to_string()],
            bars: vec![],
            peak: 0,
            count: 0,
            limit: None,
        }
    }
}

impl Component for Charts {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if k.close.matches(key) || k.quit.matches(key) {
            return Action::Close;
        }
        let at = Chart::ALL
            .iter()
            .position(|c| *c == self.chart)
            .unwrap_or(0);
        if k.next_view.matches(key) {
            self.chart = Chart::ALL[(at + 1) % Chart::ALL.len()];
            self.series = 0;
        } else if k.prev_view.matches(key) {
            self.chart = Chart::ALL[(at + Chart::ALL.len() - 1) % Chart::ALL.len()];
            self.series = 0;
        } else if k.down.matches(key) {
            let n = self.drawn().count;
            self.series = (self.series + 1).min(n.saturating_sub(1));
        } else if k.up.matches(key) {
            self.series = self.series.saturating_sub(1);
        } else if k.refresh.matches(key) {
            return Action::Job(Job::History);
        } else {
            return Action::None;
        }
        Action::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        frame.render_widget(Clear, area);
        let at = Chart::ALL
            .iter()
            .position(|c| *c == self.chart)
            .unwrap_or(0);
        let title = format!(
            "Charts {}/{}: {} (to {})",
            at + 1,
            Chart::ALL.len(),
            self.chart.title(),
            self.history.today
        );
        let b = block(t, &title);
        let inner = b.inner(area);
        frame.render_widget(b, area);
        let d = self.drawn();
        let w = usize::from(inner.width);
        let facts: Vec<Line> = d
            .facts
            .iter()
            .filter(|f| !f.is_empty())
            .flat_map(|f| wrap_words(f, w, 2))
            .map(Line::from)
            .collect();
        // The limit's label stands in a column left of the bars, on the
        // line's row (at 60 columns, the smallest screen, a label of 20
        // characters leaves room for 12 months of bars).
        let limit = d.limit.as_ref().filter(|l| l.value > 0);
        let label = limit.map(Limit::label);
        let gutter = label.as_ref().map_or(0, |l| l.len() as u16 + 2);
        // Bars at least two columns wide with a gap, so a day's number and
        // a value fit under and on each: when they do not all fit, the
        // oldest give way and the facts say how many are shown.
        let room = usize::from(inner.width.saturating_sub(gutter) / 3).max(1);
        let cut = d.bars.len().saturating_sub(room);
        let mut facts = facts;
        if cut > 0 {
            facts.push(Line::from(format!(
                "The last {room} of {} shown (a wider screen shows more).",
                d.bars.len()
            )));
        }
        let shown = &d.bars[cut..];
        let [top, chart] = Layout::vertical([
            Constraint::Length((facts.len() as u16).min(inner.height / 2)),
            Constraint::Min(0),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(facts), top);
        if shown.is_empty() || chart.height < 3 {
            return;
        }
        let [left, chart] =
            Layout::horizontal([Constraint::Length(gutter), Constraint::Min(0)]).areas(chart);
        let n = shown.len() as u16;
        let bar_w = (chart.width / n.max(1)).saturating_sub(1).clamp(2, 7);
        let gap = 1;
        let mut labelled = false;
        let bars: Vec<Bar> = shown
            .iter()
            .map(|(label, v, text)| {
                let mut bar = Bar::default().value(*v);
                // Over the limit: in the warning style (where there is colour;
                // without it the line shows the bar passing it).
                if limit.is_some_and(|l| *v > l.value) {
                    bar = bar.style(t.warn());
                }
                // A label that would be cut is left off rather than misread.
                if label.len() <= usize::from(bar_w) {
                    bar = bar.label(Line::from(label.clone()));
                    labelled = true;
                }
                // A value wider than its bar would be cut: left to the facts.
                if text.len() <= usize::from(bar_w) {
                    bar.text_value(text.clone())
                } else {
                    bar.text_value(String::new())
                }
            })
            .collect();
        // The bars' own height: the chart less its row of labels.
        let height = chart.height.saturating_sub(u16::from(labelled));
        let (full, row) = scale(d.peak, limit.map(|l| l.value), height);
        let mut widget = BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_w)
            .bar_gap(gap)
            .max(full)
            .bar_style(t.header())
            .value_style(t.selected());
        if !t.unicode {
            widget = widget.bar_set(ASCII_BARS);
        }
        frame.render_widget(widget, chart);
        if let (Some(row), Some(label)) = (row, label) {
            let y = chart.y + row;
            let rule = if t.unicode { "─" } else { "-" };
            let buf = frame.buffer_mut();
            buf.set_string(left.x, y, &label, t.header());
            for x in left.x + label.len() as u16 + 1..chart.right() {
                // Behind the bars: a bar that reaches the line keeps its
                // cell, so it is seen crossing it.
                if buf[(x, y)].symbol() == " " {
                    buf[(x, y)].set_symbol(rule);
                }
            }
        }
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Charts]
    }
}

#[cfg(test)]
mod tests {
    use super::scale;

    /// Eighths of a cell ratatui draws a bar of `v` with, `full` the full bar.
    fn eighths(v: u64, full: u64, height: u16) -> u128 {
        (u128::from(v) * u128::from(height) * 8 / u128::from(full)).min(u128::from(height) * 8)
    }

    #[test]
    fn the_line_parts_bars_over_the_limit_from_the_rest_at_every_size() {
        for height in 2..=40u16 {
            for limit in [1u64, 2, 5, 7, 12, 99, 200, 500, 5_000, 100_000] {
                for peak in [
                    0,
                    limit / 2,
                    limit,
                    limit + 1,
                    limit * 3 / 2,
                    limit * 3,
                    limit * 20,
                ] {
                    let (full, row) = scale(peak, Some(limit), height);
                    assert!(full >= peak.max(1), "no bar is cut: {full} < {peak}");
                    let row = row.expect("a line");
                    assert!(row < height);
                    // The cells a bar reaches from the bottom; the line's row, counted the same way.
                    let line = u128::from(height - row);
                    let reaches = |v: u64| eighths(v, full, height).div_ceil(8) >= line;
                    if row == height - 1 {
                        // A limit under one cell: at the plain scale, on the bottom row.
                        assert_eq!(full, peak.max(1));
                        continue;
                    }
                    for v in [0, limit.saturating_sub(1), limit, limit + 1, peak] {
                        assert_eq!(
                            reaches(v),
                            v > limit,
                            "height {height} limit {limit} peak {peak}: bar {v} (full {full}, row {row})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn no_limit_or_a_zero_one_draws_no_line_at_the_plain_scale() {
        assert_eq!(scale(740, None, 13), (740, None));
        assert_eq!(scale(740, Some(0), 13), (740, None));
        assert_eq!(scale(0, None, 13), (1, None));
    }
}
