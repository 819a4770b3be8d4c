//! Colours, marks and line drawing, as the terminal allows them.
//!
//! Every coloured state also carries a word or mark, so nothing is lost under
//! `NO_COLOR` or on a monochrome terminal; where the locale is not UTF-8
//! (`LANG=C`, the Linux console) borders and bars are plain ASCII.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols;

/// How the console draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Colours allowed.
    pub colour: bool,
    /// Line drawing and block characters allowed.
    pub unicode: bool,
}

impl Theme {
    /// From the environment: `NO_COLOR` (any value) turns colour off; a locale
    /// without UTF-8 turns line drawing off.
    pub fn from_env() -> Theme {
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true);
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let unicode = locale.contains("utf-8") || locale.contains("utf8");
        Theme { colour, unicode }
    }

    fn fg(&self, c: Color) -> Style {
        if self.colour {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    /// Less important text.
    pub fn dim(&self) -> Style {
        if self.colour {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
    /// Titles and headers.
    pub fn header(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    /// The selected row.
    pub fn selected(&self) -> Style {
        if self.colour {
            Style::default()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    /// Something fine.
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }
    /// Something to watch.
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    /// Something wrong (over-allocated users, terminated licences).
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    /// The DEMO badge.
    pub fn demo(&self) -> Style {
        if self.colour {
            Style::default()
                .bg(Color::Magenta)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    /// The active tab.
    pub fn tab(&self) -> Style {
        if self.colour {
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }
    /// Keys in the footer.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Borders.
    pub fn border(&self) -> symbols::border::Set<'static> {
        if self.unicode {
            symbols::border::PLAIN
        } else {
            symbols::border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            }
        }
    }

    /// A bar of `width` cells for `used` of `total` (and `pending` after it).
    pub fn bar(&self, used: u64, pending: u64, total: u64, width: usize) -> String {
        let (full, part, empty) = if self.unicode {
            ('█', '▒', '░')
        } else {
            ('#', '+', '.')
        };
        let scale = total.max(used + pending).max(1);
        let u = ((used as f64 / scale as f64) * width as f64).round() as usize;
        let p = ((pending as f64 / scale as f64) * width as f64).round() as usize;
        let u = u.min(width);
        let p = p.min(width - u);
        let mut s = String::with_capacity(width * 3);
        s.extend(std::iter::repeat_n(full, u));
        s.extend(std::iter::repeat_n(part, p));
        s.extend(std::iter::repeat_n(empty, width - u - p));
        s
    }
}
