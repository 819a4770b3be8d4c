//! The Licences tab: the contract of the issuer shown (plan, dates, state,
//! data usage), its pools (total, in use, available, pending, as bars, with
//! scheduled reductions), add-ons and integrations. Keys open the details,
//! the purchase and removal forms, the import and export forms and the
//! system licences.

use crossterm::event::KeyEvent;
use licfile::{ModuleKind, SeatAction, Term};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use store::views::{LicenceView, PoolView};

use super::super::action::Action;
use super::super::forms::{Choice, ModuleForm, PathForm, PathPurpose, SeatsForm, terms};
use super::super::keys::Place;
use super::super::strings as s;
use super::details::{Details, wrap_words};
use super::form::FormPopup;
use super::grid::{Col, Grid, ListPos, block, ellipsis};
use super::textinput::TextInput;
use super::{Component, Cx, Data, Popup};

/// The Licences tab.
#[derive(Debug, Default)]
pub struct Licences {
    /// Which issuer's licences are shown (0 the vendor).
    pub issuer: usize,
    /// The selected pool.
    pub pos: ListPos,
    /// The column the pools are sorted by, if any.
    pub sort: Option<usize>,
    /// Rows of the pools table on screen, for page moves.
    pub page: std::cell::Cell<usize>,
}

/// A row of the add-ons and integrations, selectable after the pools (seed
/// 003: add-ons are added and removed by their number in the overview).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleRow {
    /// The licence's add-on module at this index.
    AddOn(usize),
    /// The licence's integration at this index.
    Integration(usize),
}

/// The pools table's columns.
const COLS: [Col; 8] = [
    Col::text("Licence"),
    Col::at_least("Term", 5),
    Col::num("Total"),
    Col::num("In use"),
    Col::num("Avail"),
    Col::num("Pend."),
    // The bar is made to its width: never cut.
    Col::num("Use"),
    Col::text("State"),
];

/// The issuers with licences in force ("" is the vendor), in order.
pub fn issuers(data: &Data) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in &data.licences {
        if !out.contains(&l.issuer) {
            out.push(l.issuer.clone());
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// The licence state's style: fine, to watch, or wrong.
pub fn state_style(cx: &Cx, state: &str) -> Style {
    match state {
        "valid" => cx.theme.good(),
        "expiring" | "grace" => cx.theme.warn(),
        _ => cx.theme.bad(),
    }
}

/// The features a limited pool's seats reach (seed 002: Sales Support seats
/// reach attached files, the customer database, the diary and opportunities),
/// or none when its seats reach everything of their area.
pub fn pool_limits(p: &PoolView) -> Option<Vec<&'static str>> {
    // A pool named after the Sales support level is that level's limited seat.
    match store::Role::parse(&p.licence) {
        Some(r @ store::Role::SalesSupport) => {
            Some(r.permissions().into_iter().map(|x| x.feature).collect())
        }
        _ => None,
    }
}

/// What a pool's State column says: over-allocation, pending seats, a
/// scheduled reduction, limited access.
pub fn pool_state(p: &PoolView) -> String {
    let mut parts = Vec::new();
    if p.over_allocated > 0 {
        parts.push(format!("OVER {}", p.over_allocated));
    }
    if let Some(sch) = &p.scheduled {
        parts.push(format!("to {} from {}", sch.seats, sch.from));
    }
    if p.pending > 0 {
        parts.push("pending".to_string());
    }
    if pool_limits(p).is_some() {
        parts.push("limited".to_string());
    }
    parts.join(", ")
}

impl Licences {
    /// The pools of the issuer shown, in the order shown.
    pub fn pools<'a>(&self, data: &'a Data) -> Vec<&'a PoolView> {
        let issuers = issuers(data);
        let issuer = issuers.get(self.issuer).cloned().unwrap_or_default();
        let mut pools: Vec<&PoolView> = data
            .status
            .as_ref()
            .map(|s| s.pools.iter().filter(|p| p.issuer == issuer).collect())
            .unwrap_or_default();
        match self.sort {
            Some(0) => pools.sort_by_key(|p| p.licence.to_lowercase()),
            Some(1) => pools.sort_by_key(|p| p.term.as_str()),
            Some(2) => pools.sort_by_key(|p| std::cmp::Reverse(p.total)),
            Some(3) => pools.sort_by_key(|p| std::cmp::Reverse(p.in_use)),
            Some(4) => pools.sort_by_key(|p| std::cmp::Reverse(p.available)),
            Some(5) => pools.sort_by_key(|p| std::cmp::Reverse(p.pending)),
            _ => {}
        }
        pools
    }

    /// The licence of the issuer shown.
    pub fn licence<'a>(&self, data: &'a Data) -> Option<&'a LicenceView> {
        let issuers = issuers(data);
        let issuer = issuers.get(self.issuer)?;
        data.licences.iter().find(|l| &l.issuer == issuer)
    }

    /// The selected pool (none when an add-on or integration is selected).
    pub fn selected<'a>(&self, data: &'a Data) -> Option<&'a PoolView> {
        self.pools(data).get(self.pos.sel).copied()
    }

    /// The add-ons, then the integrations, of the licence shown: the rows
    /// the selection reaches after the pools.
    pub fn modules(&self, data: &Data) -> Vec<ModuleRow> {
        let Some(l) = self.licence(data) else {
            return Vec::new();
        };
        (0..l.add_ons.len())
            .map(ModuleRow::AddOn)
            .chain((0..l.integrations.len()).map(ModuleRow::Integration))
            .collect()
    }

    /// The selected add-on or integration, if the selection is past the pools.
    pub fn selected_module(&self, data: &Data) -> Option<ModuleRow> {
        let pools = self.pools(data).len();
        self.pos
            .sel
            .checked_sub(pools)
            .and_then(|i| self.modules(data).get(i).copied())
    }

    /// Rows the selection moves over: the pools, then the add-ons and integrations.
    fn rows(&self, data: &Data) -> usize {
        self.pools(data).len() + self.modules(data).len()
    }

    /// Keeps the selection and issuer within what the store now says.
    pub fn clamp(&mut self, data: &Data) {
        self.issuer = self.issuer.min(issuers(data).len().saturating_sub(1));
        self.pos.sel = self.pos.sel.min(self.rows(data).saturating_sub(1));
    }

    /// The details of the selected add-on or integration.
    fn module_details(&self, cx: &Cx, row: ModuleRow) -> Option<Popup> {
        let l = self.licence(cx.data)?;
        let (title, mut lines) = match row {
            ModuleRow::AddOn(i) => {
                let a = l.add_ons.get(i)?;
                (
                    format!("{} (add-on)", a.name),
                    vec![
                        format!("Add-on module  {}", a.name),
                        format!("Licences       {}", a.count),
                        format!("Assigned       {} (Users tab, m: who holds it)", a.assigned),
                        format!(
                            "Pending        {} (bought, not yet granted by a licence)",
                            a.pending
                        ),
                        format!("Price          {} a month", a.price),
                    ],
                )
            }
            ModuleRow::Integration(i) => {
                let n = l.integrations.get(i)?;
                let count = if n.follows_standard {
                    format!("{} (follows the standard seat count)", n.seats)
                } else {
                    format!("{} of its own", n.seats)
                };
                (
                    format!("{} (integration)", n.name),
                    vec![
                        format!("Integration    {}", n.name),
                        format!("Licences       {count}"),
                        format!(
                            "Pending        {} (bought, not yet granted by a licence)",
                            n.pending
                        ),
                        format!("Price          {} a month", n.price),
                    ],
                )
            }
        };
        let scheduled = match row {
            ModuleRow::AddOn(i) => l.add_ons.get(i).and_then(|a| a.scheduled.as_ref()),
            ModuleRow::Integration(i) => l.integrations.get(i).and_then(|n| n.scheduled.as_ref()),
        };
        if let Some(sch) = scheduled {
            lines.push(format!(
                "Scheduled      {} licences from {} (a reduction for the next period)",
                sch.seats, sch.from
            ));
        }
        lines.push(String::new());
        lines.push(format!(
            "From licence {} (sequence {}), issuer {}",
            l.licence_id, l.sequence, l.issuer_label
        ));
        Some(Popup::Details(Details::new(title, lines)))
    }

    /// The form that buys or gives back the selected add-on or integration,
    /// or why it cannot be: an integration following the standard seats has
    /// no count of its own.
    fn module_form(&self, cx: &Cx, row: ModuleRow, action: SeatAction) -> Action {
        let Some(l) = self.licence(cx.data) else {
            return Action::Fail("no licence is shown".into());
        };
        let (kind, name, names, facts) = match row {
            ModuleRow::AddOn(i) => {
                let Some(a) = l.add_ons.get(i) else {
                    return Action::Fail("no add-on is selected".into());
                };
                let facts = match action {
                    SeatAction::Add => format!(
                        "{}: {} licences, {} assigned, {} a month each, to the contract end {}.",
                        a.name, a.count, a.assigned, a.price, l.contract_end
                    ),
                    SeatAction::Remove => {
                        let most = u64::from(a.count).saturating_sub(a.assigned);
                        if most == 0 {
                            return Action::Fail(format!(
                                "{}: all {} licences are assigned: take the module from users first (Users tab, m shows who holds it)",
                                a.name, a.count
                            ));
                        }
                        format!(
                            "{}: at most {most} can be given back ({} assigned stay), from the next period.",
                            a.name, a.assigned
                        )
                    }
                };
                let names = l.add_ons.iter().map(|a| a.name.clone()).collect();
                (ModuleKind::AddOn, a.name.clone(), names, facts)
            }
            ModuleRow::Integration(i) => {
                let Some(n) = l.integrations.get(i) else {
                    return Action::Fail("no integration is selected".into());
                };
                if n.follows_standard {
                    return Action::Fail(format!(
                        "{} follows the standard seat count ({} seats) and cannot be bought or given back separately: buy or give back standard seats instead",
                        n.name, n.seats
                    ));
                }
                let facts = match action {
                    SeatAction::Add => format!(
                        "{}: {} licences of its own, {} a month each, to the contract end {}.",
                        n.name, n.seats, n.price, l.contract_end
                    ),
                    SeatAction::Remove => format!(
                        "{}: {} licences of its own; fewer from the next period.",
                        n.name, n.seats
                    ),
                };
                let names = l
                    .integrations
                    .iter()
                    .filter(|n| !n.follows_standard)
                    .map(|n| n.name.clone())
                    .collect();
                (ModuleKind::Integration, n.name.clone(), names, facts)
            }
        };
        Action::Open(Popup::Form(FormPopup::new(Box::new(ModuleForm {
            action,
            kind,
            name: Choice::new(names, &name),
            count: TextInput::new("1"),
            facts: Some(facts),
        }))))
    }

    fn details(&self, cx: &Cx) -> Option<Popup> {
        let p = self.selected(cx.data)?;
        let daily = p.term == Term::Daily;
        let mut lines = vec![
            format!("Licence        {}", p.licence),
            format!("Product area   {}", p.area),
            format!("Term           {}", p.term),
            format!(
                "Seats          {} licensed, {} in force",
                p.licensed, p.total
            ),
            format!("In use         {}", p.in_use),
            format!("Available      {}", p.available),
            format!(
                "Pending        {} (bought, not yet granted by a licence)",
                p.pending
            ),
            format!("Over-allocated {}", p.over_allocated),
            format!(
                "Storage        {} GB a seat{}",
                p.storage_gb_per_seat,
                if daily {
                    " (daily seats bring none)"
                } else {
                    ""
                }
            ),
            format!(
                "Price          {} {}",
                p.price,
                if daily { "a user-day" } else { "a month" }
            ),
        ];
        if let Some(sch) = &p.scheduled {
            lines.push(format!(
                "Scheduled      {} seats from {} (a reduction for the next period)",
                sch.seats, sch.from
            ));
        }
        if let Some(limits) = pool_limits(p) {
            lines.push(format!("Limited to     {}", limits.join(", ")));
        }
        if let Some(l) = self.licence(cx.data) {
            lines.push(String::new());
            lines.push(format!(
                "From licence {} (sequence {}), issuer {}",
                l.licence_id, l.sequence, l.issuer_label
            ));
        }
        Some(Popup::Details(Details::new(
            format!("{} ({})", p.licence, p.term),
            lines,
        )))
    }

    fn system(&self, cx: &Cx) -> Popup {
        let mut lines = Vec::new();
        match self.licence(cx.data) {
            Some(l) if !l.system_licences.is_empty() => {
                for (name, description) in &l.system_licences {
                    lines.push(name.clone());
                    if !description.is_empty() {
                        lines.push(format!("    {description}"));
                    }
                }
            }
            _ => lines.push("The licence shown grants no system licences.".into()),
        }
        Popup::Details(Details::new("System licences", lines))
    }

    fn seats_form(&self, cx: &Cx, action: SeatAction) -> Action {
        let Some(p) = self.selected(cx.data) else {
            return Action::Fail("no licence is selected".into());
        };
        let mut names: Vec<String> = Vec::new();
        for q in self.pools(cx.data) {
            if !names.contains(&q.licence) {
                names.push(q.licence.clone());
            }
        }
        let facts = match action {
            SeatAction::Add => {
                let mut f = format!(
                    "{} ({}): {} in force, {} in use, {} a {}.",
                    p.licence,
                    p.term,
                    p.total,
                    p.in_use,
                    p.price,
                    if p.term == Term::Daily {
                        "user-day"
                    } else {
                        "month"
                    }
                );
                if let Some(sch) = &p.scheduled {
                    f.push_str(&format!(
                        " Buying cancels the reduction to {} seats scheduled from {}.",
                        sch.seats, sch.from
                    ));
                }
                f
            }
            SeatAction::Remove => {
                if p.term == Term::Contracted {
                    format!(
                        "{} (contracted): a commitment; fewer seats only in the renewal window, from the renewal.",
                        p.licence
                    )
                } else {
                    // At least one seat stays (seed 003), and assigned seats stay.
                    let most = p.available.min(u64::from(p.total.saturating_sub(1)));
                    if most == 0 {
                        return Action::Fail(format!(
                            "{} ({}): no seat can be given back: {} in force, {} in use, and at least one stays",
                            p.licence, p.term, p.total, p.in_use
                        ));
                    }
                    format!(
                        "{} ({}): at most {most} can be given back (unassigned, and one stays).",
                        p.licence, p.term
                    )
                }
            }
        };
        Action::Open(Popup::Form(FormPopup::new(Box::new(SeatsForm {
            action,
            licence: Choice::new(names, &p.licence),
            term: Choice::new(terms(), p.term.as_str()),
            count: TextInput::new("1"),
            facts: Some(facts),
        }))))
    }
}

impl Component for Licences {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if let Some(why) = &cx.data.denied {
            if k.open.matches(key)
                || k.buy.matches(key)
                || k.remove.matches(key)
                || k.import.matches(key)
                || k.export.matches(key)
            {
                return Action::Fail(why.clone());
            }
            return Action::Ignored;
        }
        let n = self.rows(cx.data);
        if self.pos.on_key(
            k,
            key,
            n,
            self.page.get().max(super::grid::PAGE_BEFORE_DRAWN),
        ) {
            return Action::None;
        }
        let module = self.selected_module(cx.data);
        if k.open.matches(key) {
            let popup = match module {
                Some(row) => self.module_details(cx, row),
                None => self.details(cx),
            };
            return popup.map(Action::Open).unwrap_or(Action::None);
        }
        for (binding, action) in [(&k.buy, SeatAction::Add), (&k.remove, SeatAction::Remove)] {
            if binding.matches(key) {
                return match module {
                    Some(row) => self.module_form(cx, row, action),
                    None => self.seats_form(cx, action),
                };
            }
        }
        if k.import.matches(key) {
            return Action::Open(Popup::Form(FormPopup::new(Box::new(PathForm {
                purpose: PathPurpose::Import,
                path: TextInput::new(""),
            }))));
        }
        if k.export.matches(key) {
            let day = cx
                .data
                .status
                .as_ref()
                .map(|s| s.today.format("%Y%m%d").to_string())
                .unwrap_or_default();
            return Action::Open(Popup::Form(FormPopup::new(Box::new(PathForm {
                purpose: PathPurpose::Export,
                path: TextInput::new(&format!("contracts-{day}.zip")),
            }))));
        }
        if k.system.matches(key) {
            return Action::Open(self.system(cx));
        }
        let count = issuers(cx.data).len().max(1);
        if k.next_issuer.matches(key) {
            self.issuer = (self.issuer + 1) % count;
            self.pos = ListPos::default();
            return Action::None;
        }
        if k.prev_issuer.matches(key) {
            self.issuer = (self.issuer + count - 1) % count;
            self.pos = ListPos::default();
            return Action::None;
        }
        if k.sort.matches(key) {
            self.sort = match self.sort {
                None => Some(0),
                Some(5) => None,
                Some(i) => Some(i + 1),
            };
            let by = self.sort.map(|i| COLS[i].header).unwrap_or("licence order");
            return Action::Say(format!("sorted by {by}"));
        }
        Action::Ignored
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        if cx.data.denied.is_some() {
            return denied(frame, area, cx, "Licences");
        }
        let t = cx.theme;
        let Some(status) = &cx.data.status else {
            return;
        };
        let wide = area.width >= 110 && area.height >= 16;
        let lic = self.licence(cx.data);
        let inner = if wide {
            34
        } else {
            usize::from(area.width.saturating_sub(2))
        };

        // The contract.
        let mut lines: Vec<Line> = Vec::new();
        let label = |s: &'static str| Span::styled(s, t.dim());
        let used_gb = status.storage_used_bytes as f64 / 1e9;
        let allowance = status.storage_allowance_gb;
        let over = used_gb > allowance as f64;
        let usage = format!(
            "{used_gb:.1} of {allowance} GB{}",
            if over { " OVER" } else { "" }
        );
        if let Some(l) = lic {
            let ended = l.contract_end < status.today;
            let expires = l
                .expires
                .map(|d| d.to_string())
                .unwrap_or_else(|| "never".into());
            let state = Span::styled(
                format!("{} ({})", l.state.to_uppercase(), l.state_detail),
                state_style(cx, &l.state),
            );
            let end = Span::styled(
                format!("{}{}", l.contract_end, if ended { " ENDED" } else { "" }),
                if ended { t.bad() } else { Style::default() },
            );
            if wide {
                lines.push(Line::from(vec![
                    label("Plan     "),
                    Span::raw(l.plan.clone()),
                ]));
                lines.push(Line::from(vec![
                    label("Start    "),
                    Span::raw(l.contract_start.to_string()),
                ]));
                lines.push(Line::from(vec![label("Ends     "), end]));
                lines.push(Line::from(vec![label("Expires  "), Span::raw(expires)]));
                lines.push(Line::from(vec![
                    label("Renews   "),
                    Span::raw(if l.auto_renew { "automatically" } else { "no" }),
                ]));
                lines.push(Line::from(vec![label("State    "), state]));
                lines.push(Line::from(vec![
                    label("Licence  "),
                    Span::raw(format!("{} #{}", l.licence_id, l.sequence)),
                ]));
                lines.push(Line::from(vec![
                    label("E-mail   "),
                    Span::raw(status.licensee_email.clone()),
                ]));
            } else {
                lines.push(Line::from(vec![
                    label("Plan "),
                    Span::raw(format!("{}  ", l.plan)),
                    label("Renews "),
                    Span::raw(if l.auto_renew { "yes" } else { "no" }),
                ]));
                // The state whole (a termination date matters), wrapped below.
                lines.push(Line::from(vec![label("State "), state]));
                lines.push(Line::from(vec![
                    label("Ends "),
                    end,
                    Span::raw("  "),
                    label("Expires "),
                    Span::raw(expires),
                ]));
            }
        }
        let bar_w = if wide { 24 } else { 12 };
        let bar = Span::styled(
            t.bar(
                (used_gb.round() as u64).min(allowance.max(1)),
                0,
                allowance.max(1),
                bar_w,
            ),
            if over { t.bad() } else { t.good() },
        );
        if wide {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled("Data usage", t.header())));
            lines.push(Line::from(bar));
            lines.push(Line::from(usage));
            if let Some(l) = lic
                && !l.system_licences.is_empty()
            {
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled("System licences (l)", t.header())));
                for (name, _) in &l.system_licences {
                    lines.push(Line::from(ellipsis(&format!(" + {name}"), inner)));
                }
            }
        } else {
            lines.push(Line::from(vec![
                label("Data "),
                bar,
                Span::raw(format!(" {usage}")),
            ]));
        }
        let issuers = issuers(cx.data);
        let title = match issuers.get(self.issuer) {
            Some(i) if !i.is_empty() => format!("Contract: {i}"),
            _ => "Contract".to_string(),
        };
        let (left, right) = if wide {
            let [l, r] =
                Layout::horizontal([Constraint::Length(36), Constraint::Min(0)]).areas(area);
            (l, r)
        } else {
            // As tall as its lines wrapped, so that nothing in it is cut.
            let rows: usize = lines
                .iter()
                .map(|l| {
                    let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                    wrap_words(&text, inner, 0).len()
                })
                .sum();
            let [l, r] = Layout::vertical([
                Constraint::Length((rows as u16 + 2).min(8)),
                Constraint::Min(0),
            ])
            .areas(area);
            (l, r)
        };
        if wide {
            // Lines wider than the box are cut with an ellipsis (whole in the details).
            let lines: Vec<Line> = lines.into_iter().map(|l| cut_line(l, inner)).collect();
            frame.render_widget(Paragraph::new(lines).block(block(t, &title)), left);
        } else {
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(t, &title)),
                left,
            );
        }

        // Issuers, pools, add-ons and integrations.
        let extras_h = if wide { 9 } else { 2 };
        let show_issuers = issuers.len() > 1;
        let [issuer_row, pools_area, extras] = Layout::vertical([
            Constraint::Length(u16::from(show_issuers)),
            Constraint::Min(4),
            Constraint::Length(extras_h),
        ])
        .areas(right);
        if show_issuers {
            let mut spans = vec![Span::styled("Issuers ", t.dim())];
            for (i, name) in issuers.iter().enumerate() {
                let label = if name.is_empty() {
                    "Vendor".to_string()
                } else {
                    name.clone()
                };
                if i == self.issuer {
                    spans.push(Span::styled(format!("[{label}]"), t.tab()));
                } else {
                    spans.push(Span::raw(format!(" {label} ")));
                }
            }
            spans.push(Span::styled(" [ ] switch", t.dim()));
            frame.render_widget(Paragraph::new(Line::from(spans)), issuer_row);
        }
        let pools = self.pools(cx.data);
        let narrow = pools_area.width < 70;
        // The bar takes what the other columns leave, so that names and states
        // are whole wherever the width allows.
        let others: usize = {
            let w = |f: &dyn Fn(&PoolView) -> String, header: &str| {
                pools
                    .iter()
                    .map(|p| super::grid::width(&f(p)))
                    .chain([header.len()])
                    .max()
                    .unwrap_or(0)
            };
            w(&|p| p.licence.clone(), "Licence")
                + w(&|p| p.term.as_str().to_string(), "Term")
                + w(&|p| p.total.to_string(), "Total")
                + w(&|p| p.in_use.to_string(), "In use")
                + w(&|p| p.available.to_string(), "Avail")
                + w(&|p| p.pending.to_string(), "Pend.")
                + w(&pool_state, "State")
                + COLS.len()
                + 3
        };
        let bar_w = usize::from(pools_area.width)
            .saturating_sub(others)
            .clamp(4, 24);
        let rows = pools
            .iter()
            .map(|p| {
                let state = pool_state(p);
                let style = if p.over_allocated > 0 {
                    t.bad()
                } else if p.pending > 0 || p.scheduled.is_some() {
                    t.warn()
                } else {
                    Style::default()
                };
                vec![
                    (p.licence.clone(), Style::default()),
                    (
                        // Narrow: the licence's name matters more than the term's spelling.
                        if narrow && p.term == Term::Contracted {
                            "contr.".to_string()
                        } else {
                            p.term.as_str().to_string()
                        },
                        Style::default(),
                    ),
                    (p.total.to_string(), Style::default()),
                    (p.in_use.to_string(), Style::default()),
                    (p.available.to_string(), Style::default()),
                    (p.pending.to_string(), Style::default()),
                    (
                        t.bar(p.in_use, p.pending, u64::from(p.total), bar_w),
                        if p.over_allocated > 0 {
                            t.bad()
                        } else {
                            t.good()
                        },
                    ),
                    (state, style),
                ]
            })
            .collect();
        let mut sorted = String::new();
        if let Some(i) = self.sort {
            sorted = format!(", by {}", COLS[i].header.to_lowercase());
        }
        let grid = Grid {
            title: format!("Licences{sorted}"),
            cols: &COLS,
            rows,
            // An add-on or integration selected is marked below, not here.
            selected: (self.pos.sel < pools.len()).then_some(self.pos.sel),
            window: None,
        };
        self.page
            .set(usize::from(pools_area.height.saturating_sub(3)).max(1));
        grid.draw(frame, pools_area, t, &self.pos);

        let mut lines = Vec::new();
        let width = usize::from(extras.width.saturating_sub(if wide { 2 } else { 0 }));
        let chosen = self.selected_module(cx.data);
        // The selected one is marked by words (`>` or brackets) and by style,
        // so that it shows without colour.
        let mark = |row: ModuleRow| chosen == Some(row);
        let module_state = |pending: u64, scheduled: Option<&store::views::Scheduled>| {
            let mut s = String::new();
            if pending > 0 {
                s.push_str(&format!("  {pending} pending"));
            }
            if let Some(sch) = scheduled {
                s.push_str(&format!("  to {} from {}", sch.seats, sch.from));
            }
            s
        };
        if let Some(l) = lic {
            if wide {
                if !l.add_ons.is_empty() {
                    lines.push(Line::from(Span::styled("Add-on modules", t.header())));
                    for (i, a) in l.add_ons.iter().enumerate() {
                        let on = mark(ModuleRow::AddOn(i));
                        lines.push(Line::from(Span::styled(
                            ellipsis(
                                &format!(
                                    "{} {}  {} of {} assigned  {}/month{}",
                                    if on { ">" } else { " " },
                                    a.name,
                                    a.assigned,
                                    a.count,
                                    a.price,
                                    module_state(a.pending, a.scheduled.as_ref())
                                ),
                                width,
                            ),
                            if on { t.selected() } else { Style::default() },
                        )));
                    }
                }
                if !l.integrations.is_empty() {
                    lines.push(Line::from(Span::styled("Integrations", t.header())));
                    for (n, i) in l.integrations.iter().enumerate() {
                        let on = mark(ModuleRow::Integration(n));
                        let seats = if i.follows_standard {
                            format!("{} (follows standard)", i.seats)
                        } else {
                            i.seats.to_string()
                        };
                        lines.push(Line::from(Span::styled(
                            ellipsis(
                                &format!(
                                    "{} {}  {seats}  {}/month{}",
                                    if on { ">" } else { " " },
                                    i.name,
                                    i.price,
                                    module_state(i.pending, i.scheduled.as_ref())
                                ),
                                width,
                            ),
                            if on { t.selected() } else { Style::default() },
                        )));
                    }
                }
            } else {
                let item = |on: bool, text: String| {
                    if on {
                        Span::styled(format!("[{text}]"), t.selected())
                    } else {
                        Span::raw(text)
                    }
                };
                let mut add_ons = vec![Span::styled("Add-ons ", t.header())];
                for (i, a) in l.add_ons.iter().enumerate() {
                    if i > 0 {
                        add_ons.push(Span::raw(", "));
                    }
                    let pending = if a.pending > 0 {
                        format!(" +{}", a.pending)
                    } else {
                        String::new()
                    };
                    add_ons.push(item(
                        mark(ModuleRow::AddOn(i)),
                        format!("{} {}/{}{pending}", a.name, a.assigned, a.count),
                    ));
                }
                let mut integrations = vec![Span::styled("Integrations ", t.header())];
                for (n, i) in l.integrations.iter().enumerate() {
                    if n > 0 {
                        integrations.push(Span::raw(", "));
                    }
                    integrations.push(item(mark(ModuleRow::Integration(n)), i.name.clone()));
                }
                lines.push(cut_line(Line::from(add_ons), width));
                lines.push(cut_line(Line::from(integrations), width));
            }
        }
        if wide {
            frame.render_widget(
                Paragraph::new(lines).block(block(t, "Add-ons and integrations")),
                extras,
            );
        } else {
            frame.render_widget(Paragraph::new(lines), extras);
        }
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Licences, Place::Global]
    }
}

/// `line` cut to `width` columns, its last cell an ellipsis when cut.
pub fn cut_line(line: Line<'static>, width: usize) -> Line<'static> {
    let total: usize = line
        .spans
        .iter()
        .map(|s| super::grid::width(&s.content))
        .sum();
    if total <= width {
        return line;
    }
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let w = super::grid::width(&span.content);
        if w < left {
            left -= w;
            spans.push(span);
        } else {
            spans.push(Span::styled(
                ellipsis(&format!("{} ", span.content), left),
                span.style,
            ));
            left = 0;
        }
    }
    Line::from(spans)
}

/// The denial shown instead of licence data to operators without the role.
pub fn denied(frame: &mut Frame, area: Rect, cx: &Cx, title: &str) {
    let why = cx.data.denied.clone().unwrap_or_default();
    let text = vec![
        Line::from(Span::styled(s::NO_LICENCE_ROLE, cx.theme.warn())),
        Line::from(""),
        Line::from(why),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .block(block(cx.theme, title))
            .wrap(Wrap { trim: true }),
        area,
    );
}
