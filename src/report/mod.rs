//! Reporters: they turn runner events into output for people and machines, and nothing
//! else (they never look at a run directly).

pub mod console;
pub mod diagnosis;
pub mod doctor;
pub mod html;
pub mod journal;
pub mod junit;
pub mod outputs;
pub mod terminal;
pub mod text;
