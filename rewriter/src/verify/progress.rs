//! The one status line `knit merge --verify` keeps on a terminal while cargo
//! checks: a spinner, the crates checked so far, the last one, the time.

use std::io::Write;
use std::time::Instant;

const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

/// The status line; draws nothing when off (stderr is not a terminal).
pub struct Progress {
    on: bool,
    started: Instant,
    crates: usize,
    last: String,
    frame: usize,
}

impl Progress {
    /// A status line on stderr when `on`.
    pub fn new(on: bool) -> Progress {
        Progress {
            on,
            started: Instant::now(),
            crates: 0,
            last: String::new(),
            frame: 0,
        }
    }

    /// Cargo finished crate `name` (checked, or fresh from an earlier run).
    pub fn done(&mut self, name: &str) {
        self.crates += 1;
        self.last.clear();
        self.last.extend(name.chars().take(28));
        self.draw();
    }

    /// Redraws the line, the spinner one frame on.
    pub fn tick(&mut self) {
        self.frame = (self.frame + 1) % FRAMES.len();
        self.draw();
    }

    /// Erases the line.
    pub fn clear(&self) {
        if self.on {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }

    fn draw(&self) {
        if !self.on {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} knit: cargo check: {} crates, last {} ({} s)",
            FRAMES[self.frame],
            self.crates,
            if self.last.is_empty() {
                "-"
            } else {
                &self.last
            },
            self.started.elapsed().as_secs()
        );
        let _ = err.flush();
    }
}
