//! A spinner line for long runs on a terminal: nothing for the first second (most runs end
//! before it), then one rewritten line naming the current phase and the time so far, erased
//! before anything else is printed.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run stays silent before the spinner appears.
pub const DELAY: Duration = Duration::from_secs(1);

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const TICK: Duration = Duration::from_millis(100);
const CLEAR: &str = "\r\x1b[2K";

/// The spinner; dropping it erases its line.
pub struct Spinner {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    out: Box<dyn Write + Send>,
    /// The phase shown; `None` while paused.
    phase: Option<String>,
    /// Whether the line is on screen.
    drawn: bool,
    stop: bool,
}

impl State {
    fn clear(&mut self) {
        if self.drawn {
            let _ = write!(self.out, "{CLEAR}");
            let _ = self.out.flush();
            self.drawn = false;
        }
    }
}

impl Spinner {
    /// A spinner writing to `out` (a terminal) once `delay` has passed since now.
    #[must_use]
    pub fn new(out: Box<dyn Write + Send>, delay: Duration) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                out,
                phase: None,
                drawn: false,
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let started = Instant::now();
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || draw(&shared, started, delay))
        };
        Self {
            shared,
            thread: Some(thread),
        }
    }

    /// Shows `phase` (`linting 20 files…`) from now on.
    pub fn phase(&self, phase: impl Into<String>) {
        let mut state = self.lock();
        state.phase = Some(phase.into());
        drop(state);
        self.shared.wake.notify_all();
    }

    /// Erases the line and shows nothing until the next [`Spinner::phase`]: call it before
    /// printing anything else.
    pub fn pause(&self) {
        let mut state = self.lock();
        state.phase = None;
        state.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.lock().clear();
    }
}

fn draw(shared: &Shared, started: Instant, delay: Duration) {
    let mut frame = 0;
    let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
    while !state.stop {
        let elapsed = started.elapsed();
        if elapsed >= delay
            && let Some(phase) = state.phase.clone()
        {
            let line = format!(
                "{CLEAR}{} {phase} {:.1}s",
                FRAMES[frame % FRAMES.len()],
                elapsed.as_secs_f32()
            );
            let _ = state.out.write_all(line.as_bytes());
            let _ = state.out.flush();
            state.drawn = true;
            frame += 1;
        }
        let wait = delay
            .checked_sub(elapsed)
            .filter(|w| !w.is_zero())
            .unwrap_or(TICK);
        state = shared
            .wake
            .wait_timeout(state, wait)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// The spinner of this run: only when stderr is a terminal, shown after a second.
static SPINNER: Mutex<Option<Spinner>> = Mutex::new(None);

/// Names the phase a run is in, for the process's spinner on stderr (started by the first call
/// when stderr is a terminal).
pub fn phase(text: impl Into<String>) {
    if std::io::stderr().is_terminal() {
        let mut spinner = SPINNER.lock().unwrap_or_else(PoisonError::into_inner);
        spinner
            .get_or_insert_with(|| Spinner::new(Box::new(std::io::stderr()), DELAY))
            .phase(text);
    }
}

/// Erases the spinner for good (the end of a run).
pub fn end_phases() {
    drop(
        SPINNER
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(),
    );
}

/// A writer that erases the spinner before each write: everything a command prints goes
/// through one, so the spinner never garbles a line.
pub struct AfterSpinner<'a>(pub &'a mut dyn Write);

impl Write for AfterSpinner<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(spinner) = &*SPINNER.lock().unwrap_or_else(PoisonError::into_inner) {
            spinner.pause();
        }
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test can read while the spinner holds it.
    #[derive(Clone, Default)]
    struct Screen(Arc<Mutex<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Screen {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn silent_for_short_runs() {
        let screen = Screen::default();
        let spinner = Spinner::new(Box::new(screen.clone()), Duration::from_secs(5));
        spinner.phase("linting 1 file…");
        drop(spinner);
        assert_eq!(screen.text(), "");
    }

    #[test]
    fn shows_the_phase_after_the_delay_and_erases_itself() {
        let screen = Screen::default();
        let spinner = Spinner::new(Box::new(screen.clone()), Duration::from_millis(50));
        spinner.phase("compiling 6 policies…");
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            screen.text().contains("compiling 6 policies…"),
            "{}",
            screen.text()
        );
        spinner.pause();
        assert!(screen.text().ends_with(CLEAR), "{:?}", screen.text());
        let paused = screen.text();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(screen.text(), paused, "nothing is drawn while paused");
        spinner.phase("linting 20 files…");
        std::thread::sleep(Duration::from_millis(250));
        drop(spinner);
        let text = screen.text();
        assert!(text.contains("linting 20 files…"), "{text}");
        assert!(text.ends_with(CLEAR), "{text:?}");
    }
}
