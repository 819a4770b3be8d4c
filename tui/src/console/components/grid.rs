//! Tables and lists that fit: columns share the width by content (display
//! width, so wide characters count twice), numbers are never cut, cut text
//! ends in `…`; a list shows its position (row N of M) and a scrollbar, and
//! takes Up, Down, PgUp, PgDn, Home and End.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Row, Scrollbar, ScrollbarOrientation, ScrollbarState, Table, TableState,
};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::super::keys::KeyList;
use super::super::theme::Theme;

/// The display width of `s`.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

thread_local! {
    /// Whether the frame being drawn is ASCII only (no UTF-8 locale): cut
    /// text then ends in `~`. Set per frame by the drawing thread.
    static ASCII: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sets whether cut text ends in `~` (ASCII) or `…`, for this thread's frames.
pub fn set_ascii(ascii: bool) {
    ASCII.with(|a| a.set(ascii));
}

/// `s` in at most `max` columns: whole when it fits, else cut and ended with
/// `…` (`~` on an ASCII terminal).
pub fn ellipsis(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push(if ASCII.with(|a| a.get()) { '~' } else { '…' });
    out
}

/// `s` padded with spaces on the left to `w` columns.
pub fn right(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

/// A bordered block with a title.
pub fn block<'a>(theme: &Theme, title: &str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .title(Span::styled(format!(" {title} "), theme.header()))
}

/// A column: its header, and whether it holds numbers (never cut, right-aligned).
#[derive(Debug, Clone, Copy)]
pub struct Col {
    /// The header.
    pub header: &'static str,
    /// Numbers: shown whole, to the right.
    pub numeric: bool,
    /// The narrowest it may be cut to.
    pub min: usize,
    /// Takes the width left over (else the last text column does).
    pub flex: bool,
}

impl Col {
    /// A text column.
    pub const fn text(header: &'static str) -> Col {
        Col {
            header,
            numeric: false,
            min: 4,
            flex: false,
        }
    }
    /// A text column that takes the width left over.
    pub const fn flex(header: &'static str) -> Col {
        Col {
            header,
            numeric: false,
            min: 4,
            flex: true,
        }
    }
    /// A number column.
    pub const fn num(header: &'static str) -> Col {
        Col {
            header,
            numeric: true,
            min: 1,
            flex: false,
        }
    }
    /// A column that must keep at least `min` columns (a date, a state).
    pub const fn at_least(header: &'static str, min: usize) -> Col {
        Col {
            header,
            numeric: false,
            min,
            flex: false,
        }
    }
}

/// The widths of `cols` for `rows` in `avail` columns (one column between
/// each): every column as wide as its widest cell when that fits; else the
/// widest text columns are cut first, never below their minimum, and number
/// columns never. The last text column takes what is left over.
pub fn fit(cols: &[Col], rows: &[Vec<String>], avail: usize) -> Vec<usize> {
    let gaps = cols.len().saturating_sub(1);
    let avail = avail.saturating_sub(gaps);
    let mut want: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|s| width(s))
                .chain([width(c.header)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let fixed: usize = cols
        .iter()
        .zip(&want)
        .filter(|(c, _)| c.numeric)
        .map(|(_, w)| *w)
        .sum();
    let total: usize = want.iter().sum();
    if total > avail {
        // The level L such that text columns cut to max(L, min) fit.
        let room = avail.saturating_sub(fixed);
        let text: Vec<usize> = (0..cols.len()).filter(|i| !cols[*i].numeric).collect();
        let used_at = |level: usize| -> usize {
            text.iter()
                .map(|i| want[*i].min(level.max(cols[*i].min.min(want[*i]))))
                .sum()
        };
        let mut level = want.iter().copied().max().unwrap_or(0);
        while level > 0 && used_at(level) > room {
            level -= 1;
        }
        for i in text {
            want[i] = want[i].min(level.max(cols[i].min.min(want[i])));
        }
    }
    let used: usize = want.iter().sum();
    let taker = (0..cols.len())
        .find(|i| cols[*i].flex)
        .or_else(|| (0..cols.len()).rev().find(|i| !cols[*i].numeric));
    if used < avail
        && let Some(i) = taker
    {
        want[i] += avail - used;
    }
    want
}

/// Where a list stands: the selected row and the first row shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPos {
    /// The selected row.
    pub sel: usize,
    /// The first row shown, kept between frames so that the selection moves
    /// within the window instead of dragging the window with it.
    pub offset: std::cell::Cell<usize>,
}

/// Rows to a page before a list was ever drawn (its height is known then).
pub const PAGE_BEFORE_DRAWN: usize = 15;

/// Where a move wants to go, in a list of `len` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// To this row.
    To(usize),
    /// To the first row.
    Home,
    /// To the last row.
    End,
}

/// The move `key` asks for from row `sel` (`page` rows to a page), if any.
pub fn list_move(keys: &KeyList, key: &KeyEvent, sel: usize, page: usize) -> Option<Move> {
    let page = page.max(1);
    if keys.down.matches(key) {
        Some(Move::To(sel + 1))
    } else if keys.up.matches(key) {
        Some(Move::To(sel.saturating_sub(1)))
    } else if keys.page_down.matches(key) {
        Some(Move::To(sel + page))
    } else if keys.page_up.matches(key) {
        Some(Move::To(sel.saturating_sub(page)))
    } else if keys.home.matches(key) {
        Some(Move::Home)
    } else if keys.end.matches(key) {
        Some(Move::End)
    } else {
        None
    }
}

impl ListPos {
    /// Applies a list key for a list of `len` rows; whether it was one.
    pub fn on_key(&mut self, keys: &KeyList, key: &KeyEvent, len: usize, page: usize) -> bool {
        let Some(m) = list_move(keys, key, self.sel, page) else {
            return false;
        };
        let last = len.saturating_sub(1);
        self.sel = match m {
            Move::To(i) => i.min(last),
            Move::Home => 0,
            Move::End => last,
        };
        true
    }
}

/// A table to draw: columns, rows of styled cells, the selection.
pub struct Grid<'a> {
    /// Title of its block.
    pub title: String,
    /// Columns.
    pub cols: &'a [Col],
    /// Rows: (text, style) per cell.
    pub rows: Vec<Vec<(String, Style)>>,
    /// The selected row of `rows`, if the list has a selection.
    pub selected: Option<usize>,
    /// The list's position: (index of `rows[0]` in the whole list, its length),
    /// when it is longer than what is read (a page from the store).
    pub window: Option<(usize, u64)>,
}

impl Grid<'_> {
    /// Draws the table in `area`, with the position below it and a
    /// scrollbar when the rows do not all fit.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, pos: &ListPos) {
        let inner_width = usize::from(area.width.saturating_sub(3));
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|(s, _)| s.clone()).collect())
            .collect();
        let widths = fit(self.cols, &texts, inner_width);
        let rows: Vec<Row> = self
            .rows
            .iter()
            .map(|r| {
                Row::new(r.iter().enumerate().map(|(i, (s, style))| {
                    let w = widths.get(i).copied().unwrap_or(0);
                    let text = if self.cols.get(i).is_some_and(|c| c.numeric) {
                        right(s, w)
                    } else {
                        ellipsis(s, w)
                    };
                    Cell::from(Span::styled(text, *style))
                }))
            })
            .collect();
        let header = Row::new(self.cols.iter().enumerate().map(|(i, c)| {
            let w = widths.get(i).copied().unwrap_or(0);
            if c.numeric {
                right(c.header, w)
            } else {
                ellipsis(c.header, w)
            }
        }))
        .style(theme.header());
        let (first, len) = self.window.unwrap_or((0, self.rows.len() as u64));
        let mut block = block(theme, &self.title);
        let visible = usize::from(area.height.saturating_sub(3));
        if let Some(sel) = self.selected
            && len > 0
        {
            block = block.title_bottom(
                Line::from(format!(" {} of {} ", first + sel + 1, len)).right_aligned(),
            );
        }
        let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w as u16)))
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.selected())
            .highlight_symbol(if theme.unicode { "▶" } else { ">" })
            .block(block);
        let mut state = TableState::default()
            .with_offset(pos.offset.get())
            .with_selected(self.selected);
        frame.render_stateful_widget(table, area, &mut state);
        pos.offset.set(state.offset());
        if (len as usize) > visible && visible > 0 {
            let mut sb = ScrollbarState::new(len as usize)
                .position(first + self.selected.unwrap_or(state.offset()))
                .viewport_content_length(visible);
            let bar = Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .track_symbol(Some(if theme.unicode { "│" } else { "|" }))
                .thumb_symbol(if theme.unicode { "█" } else { "#" });
            frame.render_stateful_widget(
                bar,
                area.inner(Margin {
                    vertical: 1,
                    horizontal: 0,
                }),
                &mut sb,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_counts_display_width() {
        assert_eq!(ellipsis("Customer Journey", 16), "Customer Journey");
        assert_eq!(ellipsis("Customer Journey", 10), "Customer …");
        assert_eq!(ellipsis("日本語テキスト", 7), "日本語…");
        assert_eq!(width(&ellipsis("日本語テキスト", 6)), 5);
    }

    #[test]
    fn numbers_are_never_cut_and_text_gives_way() {
        let cols = [Col::text("Licence"), Col::num("Total"), Col::text("State")];
        let rows = vec![vec![
            "A very long licence name indeed".to_string(),
            "100000".to_string(),
            "over-allocated".to_string(),
        ]];
        let w = fit(&cols, &rows, 30);
        assert_eq!(w[1], 6, "100000 whole");
        assert_eq!(w.iter().sum::<usize>() + 2, 30);
        assert!(w[0] >= 4 && w[2] >= 4);
        let w = fit(&cols, &rows, 200);
        assert_eq!(w[0], 31);
        assert!(w[2] >= 14);
    }

    #[test]
    fn list_keys_move_and_stop_at_the_ends() {
        let keys = KeyList::default();
        let k = |c| KeyEvent::new(c, crossterm::event::KeyModifiers::NONE);
        use crossterm::event::KeyCode::*;
        let mut p = ListPos::default();
        assert!(p.on_key(&keys, &k(End), 50, 10));
        assert_eq!(p.sel, 49);
        p.on_key(&keys, &k(PageUp), 50, 10);
        assert_eq!(p.sel, 39);
        p.on_key(&keys, &k(Home), 50, 10);
        assert_eq!(p.sel, 0);
        p.on_key(&keys, &k(Up), 50, 10);
        assert_eq!(p.sel, 0);
        p.on_key(&keys, &k(PageDown), 50, 100);
        assert_eq!(p.sel, 49);
        assert!(!p.on_key(&keys, &k(Char('x')), 50, 10));
    }
}
