//! A seeded random user for soak runs (`st80 soak`): mouse moves, clicks and drags with each
//! button (so menus open and items are chosen), typing, scrolling, closing and framing
//! windows. The same seed and screen give the same events at the same cycles, so a soak that
//! finds a problem can be replayed: every burst is returned as replay-log events
//! ([`crate::replay`]), which `st80 soak --log` writes out.

use crate::replay::Stamped;
use st80_core::host::key;
use st80_core::{InputEvent, MouseButton};

/// Bytecodes between two events of one gesture (the image polls its input between them).
const STEP: u64 = 20_000;

/// A small, fast, well-mixed generator (SplitMix64); good enough to pick gestures, and
/// independent of any crate's stream so logs stay reproducible across versions.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }
}

/// Characters the random user types: mostly letters and spaces, some digits, Smalltalk's
/// punctuation and line ends, so the text is sometimes code.
const TYPED: &[u8] = b"abcdefghijklmnopqrstuvwxyz  ABCXYZ 0123456789 +-*/<>=:;.,#'()[]^_";
/// Whole phrases typed now and then, so some selections are expressions worth a "do it".
const PHRASES: &[&str] = &["3 + 4", "100 factorial", "Smalltalk", "#(1 2 3) reverse", "'abc' , 'def'", "1/0"];

/// The random user. See the module documentation.
#[derive(Clone, Debug)]
pub struct RandomUser {
    rng: SplitMix64,
    width: i32,
    height: i32,
    /// Where the pointer is.
    x: i32,
    y: i32,
}

impl RandomUser {
    /// A user of a screen `width` × `height` pixels, its choices following `seed`.
    pub fn new(seed: u64, width: usize, height: usize) -> RandomUser {
        let (width, height) = (width.max(1) as i32, height.max(1) as i32);
        RandomUser { rng: SplitMix64::new(seed), width, height, x: width / 2, y: height / 2 }
    }

    /// The screen changed size (the image may resize its Display).
    pub fn resize(&mut self, width: usize, height: usize) {
        self.width = width.max(1) as i32;
        self.height = height.max(1) as i32;
        self.x = self.x.min(self.width - 1);
        self.y = self.y.min(self.height - 1);
    }

    fn point(&mut self) -> (i32, i32) {
        (self.rng.below(self.width as u32) as i32, self.rng.below(self.height as u32) as i32)
    }

    /// The next gesture, its events stamped from `cycle` on: every button or key pressed in a
    /// gesture is released in it, and every position is on the screen.
    pub fn gesture(&mut self, cycle: u64) -> Vec<Stamped> {
        let mut g = Gesture { events: Vec::new(), cycle };
        match self.rng.below(100) {
            0..=24 => {
                let (x, y) = self.point();
                self.glide(&mut g, x, y);
            }
            25..=44 => self.click(&mut g, MouseButton::Red),
            45..=54 => self.drag(&mut g, MouseButton::Red),
            // The yellow and blue buttons open menus; releasing somewhere below picks an item.
            55..=69 => self.menu(&mut g, MouseButton::Yellow),
            70..=76 => self.menu(&mut g, MouseButton::Blue),
            77..=92 => self.type_text(&mut g),
            _ => {
                // Idle for a while: the image's own processes run.
                g.cycle += STEP * (10 + self.rng.below(90) as u64);
                g.push(InputEvent::MouseMove { x: self.x, y: self.y });
            }
        }
        g.events
    }

    fn glide(&mut self, g: &mut Gesture, x: i32, y: i32) {
        let steps = 1 + self.rng.below(4) as i32;
        let (x0, y0) = (self.x, self.y);
        for i in 1..=steps {
            self.x = x0 + (x - x0) * i / steps;
            self.y = y0 + (y - y0) * i / steps;
            g.push(InputEvent::MouseMove { x: self.x, y: self.y });
            g.cycle += STEP;
        }
    }

    fn click(&mut self, g: &mut Gesture, button: MouseButton) {
        let (x, y) = self.point();
        self.glide(g, x, y);
        g.push(InputEvent::Button { button, down: true });
        g.cycle += STEP * (1 + self.rng.below(3) as u64);
        g.push(InputEvent::Button { button, down: false });
        g.cycle += STEP;
    }

    fn drag(&mut self, g: &mut Gesture, button: MouseButton) {
        let (x, y) = self.point();
        self.glide(g, x, y);
        g.push(InputEvent::Button { button, down: true });
        g.cycle += STEP;
        let dx = self.rng.below(201) as i32 - 100;
        let dy = self.rng.below(201) as i32 - 100;
        let (tx, ty) = ((self.x + dx).clamp(0, self.width - 1), (self.y + dy).clamp(0, self.height - 1));
        self.glide(g, tx, ty);
        g.push(InputEvent::Button { button, down: false });
        g.cycle += STEP;
    }

    fn menu(&mut self, g: &mut Gesture, button: MouseButton) {
        let (x, y) = self.point();
        self.glide(g, x, y);
        g.push(InputEvent::Button { button, down: true });
        // Wait for the menu to appear, then move down onto an item (or off the menu).
        g.cycle += STEP * 5;
        let ty = (self.y + self.rng.below(160) as i32 - 10).clamp(0, self.height - 1);
        let tx = (self.x + self.rng.below(41) as i32 - 20).clamp(0, self.width - 1);
        self.glide(g, tx, ty);
        g.push(InputEvent::Button { button, down: false });
        g.cycle += STEP * 5;
    }

    fn type_text(&mut self, g: &mut Gesture) {
        let text: Vec<u16> = if self.rng.below(4) == 0 {
            let phrase = PHRASES[self.rng.below(PHRASES.len() as u32) as usize];
            phrase.bytes().map(u16::from).collect()
        } else {
            let n = 1 + self.rng.below(20);
            (0..n)
                .map(|_| match self.rng.below(30) {
                    0 => key::RETURN,
                    1 => key::BACKSPACE,
                    _ => TYPED[self.rng.below(TYPED.len() as u32) as usize] as u16,
                })
                .collect()
        };
        for code in text {
            g.push(InputEvent::Key { code, down: true });
            g.cycle += STEP / 4;
            g.push(InputEvent::Key { code, down: false });
            g.cycle += STEP / 4;
        }
    }
}

struct Gesture {
    events: Vec<Stamped>,
    cycle: u64,
}

impl Gesture {
    fn push(&mut self, event: InputEvent) {
        self.events.push((self.cycle, event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(seed: u64, gestures: usize) -> Vec<Stamped> {
        let mut user = RandomUser::new(seed, 640, 480);
        let mut cycle = 0;
        let mut all = Vec::new();
        for _ in 0..gestures {
            let g = user.gesture(cycle);
            cycle = g.last().map_or(cycle, |e| e.0) + STEP;
            all.extend(g);
        }
        all
    }

    #[test]
    fn the_same_seed_gives_the_same_events_and_another_seed_others() {
        assert_eq!(session(7, 500), session(7, 500));
        assert_ne!(session(7, 500), session(8, 500));
    }

    #[test]
    fn gestures_stay_on_screen_release_what_they_press_and_go_forward_in_time() {
        let events = session(42, 5_000);
        let mut held = std::collections::HashSet::new();
        let mut last = 0;
        let (mut menus, mut keys) = (0, 0);
        for &(cycle, event) in &events {
            assert!(cycle >= last, "events in cycle order");
            last = cycle;
            match event {
                InputEvent::MouseMove { x, y } => assert!((0..640).contains(&x) && (0..480).contains(&y)),
                InputEvent::Button { button, down } => {
                    assert_eq!(held.insert(format!("{button:?}")), down, "{button:?} pressed once, released once");
                    if !down {
                        held.remove(&format!("{button:?}"));
                    }
                    menus += (button != MouseButton::Red && down) as usize;
                }
                InputEvent::Key { code, down } => {
                    assert_eq!(held.insert(format!("key {code}")), down);
                    if !down {
                        held.remove(&format!("key {code}"));
                    }
                    keys += down as usize;
                }
            }
        }
        assert!(held.is_empty(), "nothing left pressed: {held:?}");
        assert!(menus > 500 && keys > 2_000, "every kind of gesture happens ({menus} menus, {keys} keys)");
    }

    #[test]
    fn every_event_can_be_written_to_a_replay_log_and_read_back() {
        let events = session(3, 300);
        let log: String = events.iter().map(|(c, e)| crate::replay::format(*c, e) + "\n").collect();
        assert_eq!(crate::replay::parse(&log).unwrap(), events);
    }
}
