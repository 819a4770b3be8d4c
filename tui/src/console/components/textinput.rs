//! A one-line text field with readline editing: a cursor that moves by
//! character (Left/Right, Home/End, Ctrl-A/E), deletion both ways
//! (Backspace, Delete), and the kill commands (Ctrl-U to the start, Ctrl-K to
//! the end, Ctrl-W the word before the cursor). A paste is inserted as text,
//! with line breaks turned into spaces: it is never a key.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthStr;

/// The most characters a field holds: longer than any name, path or e-mail
/// the console asks for, short enough that a runaway paste cannot grow it.
pub const MAX_CHARS: usize = 1024;

/// A text field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    /// The text, as characters so the cursor never lands inside one.
    chars: Vec<char>,
    /// The cursor, a character index from 0 to `chars.len()`.
    cursor: usize,
}

/// What a key did to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    /// The key is not an editing key: the caller decides what it means.
    Ignored,
}

impl TextInput {
    /// A field holding `text`, the cursor at its end.
    pub fn new(text: &str) -> TextInput {
        let mut t = TextInput::default();
        t.insert_str(text);
        t
    }

    /// The text.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The cursor as a character index.
    #[cfg(test)]
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether the field is empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Replaces the text, the cursor at its end.
    pub fn set(&mut self, text: &str) {
        self.chars.clear();
        self.cursor = 0;
        self.insert_str(text);
    }

    /// Inserts pasted or typed text at the cursor. Control characters are
    /// dropped and line breaks become spaces, so a pasted line ending never
    /// submits a form and a pasted escape sequence never reaches the terminal.
    pub fn insert_str(&mut self, text: &str) {
        // A line break ending the paste (a copied line) is no space.
        let text = text.trim_end_matches(['\r', '\n']);
        let mut last_space = false;
        for c in text.chars() {
            let c = match c {
                '\r' | '\n' | '\t' => ' ',
                c if c.is_control() => continue,
                c => c,
            };
            // "a\r\nb" is one line break, so one space.
            if c == ' ' && last_space && text.contains(['\r', '\n']) {
                continue;
            }
            last_space = c == ' ';
            if self.chars.len() >= MAX_CHARS {
                break;
            }
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// Applies an editing key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('a') if ctrl => self.move_to(0),
            KeyCode::Char('e') if ctrl => self.move_to(self.chars.len()),
            KeyCode::Char('b') if ctrl => self.move_to(self.cursor.saturating_sub(1)),
            KeyCode::Char('f') if ctrl => self.move_to((self.cursor + 1).min(self.chars.len())),
            KeyCode::Char('u') if ctrl => self.kill(0, self.cursor),
            KeyCode::Char('k') if ctrl => self.kill(self.cursor, self.chars.len()),
            KeyCode::Char('w') if ctrl => self.kill(self.word_start(), self.cursor),
            KeyCode::Char('h') if ctrl => self.backspace(),
            KeyCode::Char('d') if ctrl => self.delete(),
            KeyCode::Backspace if alt => self.kill(self.word_start(), self.cursor),
            // Any other Ctrl or Alt letter is a command somewhere else, never text.
            KeyCode::Char(_) if ctrl || alt => Edit::Ignored,
            KeyCode::Char(c) => {
                if self.chars.len() >= MAX_CHARS {
                    return Edit::Moved;
                }
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
                Edit::Changed
            }
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left => self.move_to(self.cursor.saturating_sub(1)),
            KeyCode::Right => self.move_to((self.cursor + 1).min(self.chars.len())),
            KeyCode::Home => self.move_to(0),
            KeyCode::End => self.move_to(self.chars.len()),
            _ => Edit::Ignored,
        }
    }

    fn move_to(&mut self, at: usize) -> Edit {
        self.cursor = at;
        Edit::Moved
    }

    fn backspace(&mut self) -> Edit {
        if self.cursor == 0 {
            return Edit::Moved;
        }
        self.cursor -= 1;
        self.chars.remove(self.cursor);
        Edit::Changed
    }

    fn delete(&mut self) -> Edit {
        if self.cursor >= self.chars.len() {
            return Edit::Moved;
        }
        self.chars.remove(self.cursor);
        Edit::Changed
    }

    fn kill(&mut self, from: usize, to: usize) -> Edit {
        if from >= to {
            return Edit::Moved;
        }
        self.chars.drain(from..to);
        self.cursor = from;
        Edit::Changed
    }

    /// Where the word before the cursor starts (spaces before it go with it,
    /// as in readline's Ctrl-W).
    fn word_start(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.chars[i - 1] == ' ' {
            i -= 1;
        }
        while i > 0 && self.chars[i - 1] != ' ' && self.chars[i - 1] != '/' {
            i -= 1;
        }
        // A path loses one component at a time, its slash with it.
        if i == self.cursor && i > 0 {
            i -= 1;
        }
        i
    }

    /// The part of the text to show in `width` columns so that the cursor is
    /// visible, and the cursor's column within it.
    pub fn window(&self, width: usize) -> (String, usize) {
        let width = width.max(2);
        let before: String = self.chars[..self.cursor].iter().collect();
        let mut start = 0;
        // Keep one column for the cursor itself.
        while UnicodeWidthStr::width(before.chars().skip(start).collect::<String>().as_str())
            > width - 1
        {
            start += 1;
        }
        let mut shown = String::new();
        let mut used = 0;
        for c in &self.chars[start..] {
            let w = unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
            if used + w > width {
                break;
            }
            used += w;
            shown.push(*c);
        }
        let col = UnicodeWidthStr::width(before.chars().skip(start).collect::<String>().as_str());
        (shown, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn typing_inserts_at_the_cursor() {
        let mut t = TextInput::new("ac");
        t.on_key(&key(KeyCode::Left));
        assert_eq!(t.on_key(&key(KeyCode::Char('b'))), Edit::Changed);
        assert_eq!(t.text(), "abc");
        assert_eq!(t.cursor(), 2);
    }

    #[test]
    fn home_end_and_ctrl_a_e_move() {
        let mut t = TextInput::new("hello");
        t.on_key(&key(KeyCode::Home));
        assert_eq!(t.cursor(), 0);
        t.on_key(&key(KeyCode::End));
        assert_eq!(t.cursor(), 5);
        t.on_key(&ctrl('a'));
        assert_eq!(t.cursor(), 0);
        t.on_key(&ctrl('e'));
        assert_eq!(t.cursor(), 5);
        t.on_key(&key(KeyCode::Right));
        assert_eq!(t.cursor(), 5, "Right stops at the end");
    }

    #[test]
    fn kill_commands() {
        let mut t = TextInput::new("/home/ann/lic.txt");
        t.on_key(&ctrl('w'));
        assert_eq!(t.text(), "/home/ann/");
        t.on_key(&ctrl('w'));
        assert_eq!(t.text(), "/home/ann");
        let mut t = TextInput::new("two words");
        t.on_key(&ctrl('w'));
        assert_eq!(t.text(), "two ");
        let mut t = TextInput::new("abcdef");
        for _ in 0..3 {
            t.on_key(&key(KeyCode::Left));
        }
        t.on_key(&ctrl('k'));
        assert_eq!(t.text(), "abc");
        t.on_key(&key(KeyCode::Left));
        t.on_key(&ctrl('u'));
        assert_eq!(t.text(), "c");
        assert_eq!(t.cursor(), 0);
        t.on_key(&key(KeyCode::Delete));
        assert_eq!(t.text(), "");
    }

    #[test]
    fn ctrl_letters_are_not_text() {
        let mut t = TextInput::new("x");
        assert_eq!(t.on_key(&ctrl('u')), Edit::Changed);
        assert_eq!(t.text(), "", "Ctrl-U clears, it does not type u");
        assert_eq!(t.on_key(&ctrl('q')), Edit::Ignored);
        assert_eq!(
            t.on_key(&KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT)),
            Edit::Ignored
        );
        assert_eq!(t.text(), "");
    }

    #[test]
    fn paste_turns_line_breaks_into_spaces_and_drops_controls() {
        let mut t = TextInput::new("");
        t.insert_str("ann\r\nbob\n\x1b[2~c\td");
        assert_eq!(t.text(), "ann bob [2~c d");
        let mut t = TextInput::new("");
        t.insert_str(&"y".repeat(MAX_CHARS * 2));
        assert_eq!(t.text().chars().count(), MAX_CHARS);
    }

    #[test]
    fn the_window_keeps_the_cursor_visible() {
        let t = TextInput::new("abcdefghij");
        let (shown, col) = t.window(5);
        assert_eq!(shown, "ghij");
        assert_eq!(col, 4);
        let mut t = TextInput::new("日本語テキスト");
        t.on_key(&key(KeyCode::Home));
        let (shown, col) = t.window(6);
        assert_eq!(shown, "日本語");
        assert_eq!(col, 0);
    }
}
