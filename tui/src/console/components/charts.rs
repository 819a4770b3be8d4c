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

/// What one chart shows: facts above, bars (label, value, text on the bar)
/// and the value a full bar stands for.
struct Drawn {
    facts: Vec<String>,
    bars: Vec<(String, u64, String)>,
    max: u64,
    count: usize,
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
                let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(m.threshold);
                facts.push(format!(
                    "A full bar is {max}{}",
                    if m.months.iter().any(|p| p.value.is_none()) {
                        "; no bar: before the store existed"
                    } else {
                        ""
                    }
                ));
                facts.push(of(i, n, "Service"));
                Drawn {
                    facts,
                    bars,
                    max,
                    count: n,
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
                        format!(
                            "{} seats licensed today; a full bar is {}",
                            p.total,
                            peak.max(u64::from(p.total))
                        ),
                        of(i, n, "Pool"),
                    ],
                    bars,
                    max: peak.max(u64::from(p.total)),
                    count: n,
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
                Drawn {
                    facts: vec![
                        format!("{}: user-days charged each day", d.label),
                        format!("{total} from {first} to {}; {month} this month", h.today),
                        of(i, n, "Pool"),
                    ],
                    max: bars.iter().map(|b| b.1).max().unwrap_or(0),
                    bars,
                    count: n,
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
                    format!(
                        "Allowance {allowance} GB today; a full bar is {} GB",
                        peak.max(allowance)
                    ),
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
                    max: peak.max(allowance),
                    count: 1,
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
            max: 0,
            count: 0,
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
        // Bars at least two columns wide with a gap, so a day's number and
        // a value fit under and on each: when they do not all fit, the
        // oldest give way and the facts say how many are shown.
        let room = usize::from(inner.width / 3).max(1);
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
        let n = shown.len() as u16;
        let bar_w = (chart.width / n.max(1)).saturating_sub(1).clamp(2, 7);
        let gap = 1;
        let bars: Vec<Bar> = shown
            .iter()
            .map(|(label, v, text)| {
                let mut bar = Bar::default().value(*v);
                // A label that would be cut is left off rather than misread.
                if label.len() <= usize::from(bar_w) {
                    bar = bar.label(Line::from(label.clone()));
                }
                // A value wider than its bar would be cut: left to the facts.
                if text.len() <= usize::from(bar_w) {
                    bar.text_value(text.clone())
                } else {
                    bar.text_value(String::new())
                }
            })
            .collect();
        let mut widget = BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_w)
            .bar_gap(gap)
            .max(d.max.max(1))
            .bar_style(t.header())
            .value_style(t.selected());
        if !t.unicode {
            widget = widget.bar_set(ASCII_BARS);
        }
        frame.render_widget(widget, chart);
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Charts]
    }
}
