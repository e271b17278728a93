//! A dry run of one pickle before candle's pickle VM executes it.
//!
//! candle's VM trusts its input: it allocates whatever length a string
//! opcode declares, clones memoised objects on every `BINGET` (a few dozen
//! opcodes can build an exponentially large object), shifts by unchecked
//! amounts in `LONG1`, and builds (and later drops) objects recursively, so
//! a deeply nested pickle overflows the stack. This pass walks the opcodes
//! over the bytes actually present, tracking for every stack slot only how
//! deep and how large its object would be, and rejects the pickle before
//! anything is allocated on its say-so. It also finds where the pickle ends,
//! which the legacy checkpoint layout needs to locate the next section.

use std::collections::HashMap;

/// Objects in a state dict nest about eight deep (dict, tensor, argument
/// tuple, storage tuple); anything near this is not a checkpoint.
const MAX_DEPTH: u32 = 64;

/// Budget of objects the VM may copy (memo puts and gets), per byte of
/// pickle plus a floor. Real checkpoints copy a few objects per byte.
const COPIES_PER_BYTE: u64 = 16;
const COPIES_FLOOR: u64 = 1 << 20;

#[derive(Clone, Copy)]
struct Shape {
    depth: u32,
    nodes: u64,
}

const LEAF: Shape = Shape { depth: 1, nodes: 1 };

enum Slot {
    Mark,
    Obj(Shape),
}

struct Dry<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Slot>,
    memo: HashMap<u32, Shape>,
    copies: u64,
    copy_budget: u64,
}

/// Checks the pickle that starts at `data[start]` and returns the offset just
/// past its STOP opcode. The error says what is wrong and where.
pub(crate) fn check(data: &[u8], start: usize) -> Result<usize, String> {
    let len = data.len().saturating_sub(start) as u64;
    let mut dry = Dry {
        data,
        pos: start,
        stack: Vec::new(),
        memo: HashMap::new(),
        copies: 0,
        copy_budget: len.saturating_mul(COPIES_PER_BYTE) + COPIES_FLOOR,
    };
    loop {
        let at = dry.pos;
        let op = dry
            .take(1)
            .map_err(|e| format!("{e} (pickle starting at byte {start})"))?[0];
        let done = dry
            .step(op)
            .map_err(|e| format!("{e} at byte {at} (opcode {op:#04x})"))?;
        if done {
            return Ok(dry.pos);
        }
    }
}

impl Dry<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| "truncated pickle".to_string())?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self) -> Result<(), String> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| "truncated pickle (unterminated GLOBAL)".to_string())?;
        self.pos += n + 1;
        Ok(())
    }

    fn push(&mut self, shape: Shape) -> Result<(), String> {
        if shape.depth > MAX_DEPTH {
            return Err(format!("objects nested deeper than {MAX_DEPTH}"));
        }
        self.stack.push(Slot::Obj(shape));
        Ok(())
    }

    fn pop(&mut self) -> Result<Shape, String> {
        match self.stack.pop() {
            Some(Slot::Obj(s)) => Ok(s),
            Some(Slot::Mark) => Err("unexpected MARK".into()),
            None => Err("stack underflow".into()),
        }
    }

    fn pop_to_mark(&mut self) -> Result<Vec<Shape>, String> {
        let mut items = Vec::new();
        loop {
            match self.stack.pop() {
                Some(Slot::Obj(s)) => items.push(s),
                Some(Slot::Mark) => return Ok(items),
                None => return Err("no MARK on the stack".into()),
            }
        }
    }

    /// The shape of a new object holding `parts`.
    fn containing(parts: &[Shape]) -> Shape {
        Shape {
            depth: 1 + parts.iter().map(|s| s.depth).max().unwrap_or(0),
            nodes: parts
                .iter()
                .fold(1u64, |acc, s| acc.saturating_add(s.nodes)),
        }
    }

    /// The object on top of the stack (a list or dict) gains `parts`.
    fn extend_top(&mut self, parts: &[Shape]) -> Result<(), String> {
        let top = self.pop()?;
        let added = Self::containing(parts);
        self.push(Shape {
            depth: top.depth.max(added.depth),
            nodes: top.nodes.saturating_add(added.nodes),
        })
    }

    fn copy(&mut self, shape: Shape) -> Result<(), String> {
        self.copies = self.copies.saturating_add(shape.nodes);
        if self.copies > self.copy_budget {
            return Err("memo copies grow without bound (not a checkpoint)".into());
        }
        Ok(())
    }

    fn memo_put(&mut self, id: u32) -> Result<(), String> {
        let top = match self.stack.last() {
            Some(Slot::Obj(s)) => *s,
            Some(Slot::Mark) => LEAF,
            None => return Err("memo put on an empty stack".into()),
        };
        self.copy(top)?;
        self.memo.insert(id, top);
        Ok(())
    }

    fn memo_get(&mut self, id: u32) -> Result<(), String> {
        let shape = *self
            .memo
            .get(&id)
            .ok_or_else(|| format!("memo entry {id} was never stored"))?;
        self.copy(shape)?;
        self.push(shape)
    }

    /// Mirrors one opcode of the subset candle's VM implements; returns true
    /// on STOP.
    fn step(&mut self, op: u8) -> Result<bool, String> {
        match op {
            0x80 => {
                self.u8()?; // PROTO
            }
            b'c' => {
                self.line()?;
                self.line()?;
                self.push(LEAF)?;
            }
            b'q' => {
                let id = self.u8()?;
                self.memo_put(id.into())?;
            }
            b'r' => {
                let id = self.u32()?;
                self.memo_put(id)?;
            }
            b'h' => {
                let id = self.u8()?;
                self.memo_get(id.into())?;
            }
            b'j' => {
                let id = self.u32()?;
                self.memo_get(id)?;
            }
            b'X' => {
                let n = self.u32()? as usize;
                self.take(n)?;
                self.push(LEAF)?;
            }
            b'K' => {
                self.take(1)?;
                self.push(LEAF)?;
            }
            b'M' => {
                self.take(2)?;
                self.push(LEAF)?;
            }
            b'J' => {
                self.take(4)?;
                self.push(LEAF)?;
            }
            b'G' => {
                self.take(8)?;
                self.push(LEAF)?;
            }
            0x8a => {
                // LONG1: candle decodes at most an i64.
                let n = self.u8()? as usize;
                if n > 8 {
                    return Err(format!("{n}-byte integer"));
                }
                self.take(n)?;
                self.push(LEAF)?;
            }
            b')' | b'N' | 0x88 | 0x89 | b'}' | b']' => self.push(LEAF)?,
            b'(' => self.stack.push(Slot::Mark),
            b't' | b'd' => {
                let items = self.pop_to_mark()?;
                self.push(Self::containing(&items))?;
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop()?);
                }
                self.push(Self::containing(&items))?;
            }
            b'Q' => {
                let id = self.pop()?;
                self.push(Self::containing(&[id]))?;
            }
            b'R' | b'b' | 0x81 => {
                let b = self.pop()?;
                let a = self.pop()?;
                self.push(Self::containing(&[a, b]))?;
            }
            b'a' => {
                let v = self.pop()?;
                self.extend_top(&[v])?;
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                self.extend_top(&[k, v])?;
            }
            b'e' | b'u' => {
                let items = self.pop_to_mark()?;
                self.extend_top(&items)?;
            }
            b'.' => return Ok(true),
            _ => return Err("unsupported pickle opcode".into()),
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_a_small_pickle_and_finds_its_end() {
        // {'a': (1, 2)} at protocol 2, then two trailing bytes.
        let p = b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01K\x02\x86s.xy";
        assert_eq!(check(p, 0), Ok(p.len() - 2));
    }

    #[test]
    fn rejects_a_string_longer_than_the_file() {
        let p = b"\x80\x02X\xff\xff\xff\x7fabc.";
        assert!(check(p, 0).unwrap_err().contains("truncated"));
    }

    #[test]
    fn rejects_exponential_memo_copies() {
        // x = []; repeat: x = (x, x)  -- doubles on each round.
        let mut p = b"\x80\x02]q\x00".to_vec();
        for _ in 0..60 {
            p.extend_from_slice(b"h\x00h\x00\x86q\x00");
        }
        p.push(b'.');
        assert!(check(&p, 0).unwrap_err().contains("without bound"));
    }

    #[test]
    fn rejects_deep_nesting() {
        let mut p = b"\x80\x02N".to_vec();
        p.extend(std::iter::repeat_n(0x85u8, 100_000));
        p.push(b'.');
        assert!(check(&p, 0).unwrap_err().contains("nested"));
    }

    #[test]
    fn rejects_oversized_long_and_unknown_opcodes() {
        assert!(check(b"\x8a\x0a0123456789.", 0).is_err());
        assert!(check(b"\x80\x02\xff.", 0)
            .unwrap_err()
            .contains("unsupported"));
        assert!(check(b"", 0).unwrap_err().contains("truncated"));
    }
}
