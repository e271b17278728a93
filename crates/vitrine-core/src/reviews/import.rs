//! Reading review files: CSV (with a header row), JSON or plain lines, in
//! UTF-8 or GBK/GB18030.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::text::fold_whitespace;
use super::{Position, Review, ReviewError, MAX_FILE_BYTES, MAX_REVIEWS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Json,
    Lines,
}

impl Format {
    /// `csv`, `json` or `lines` (also `txt`).
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "lines" | "txt" | "text" => Some(Format::Lines),
            _ => None,
        }
    }
}

/// The reviews of one file and what was skipped on the way.
#[derive(Debug, Clone)]
pub struct Imported {
    pub format: Format,
    /// `utf-8` or `gb18030` (a superset of GBK).
    pub encoding: String,
    pub reviews: Vec<Review>,
    /// Records without text (blank cells, whitespace-only lines).
    pub empty_skipped: usize,
    pub invalid_ratings: usize,
}

/// Read a review file; the format comes from the extension, else is sniffed.
pub fn import_file(path: &Path) -> Result<Imported, ReviewError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReviewError::MissingFile {
            path: path.to_path_buf(),
        },
        _ => ReviewError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    // Refuse before reading: a 10 GB file must not be loaded to learn that.
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReviewError::TooLarge {
            size: meta.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| ReviewError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let hint = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(Format::parse);
    import_bytes(&bytes, hint)
}

/// Parse review file contents; `hint` is the format when known.
pub fn import_bytes(bytes: &[u8], hint: Option<Format>) -> Result<Imported, ReviewError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReviewError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    let (text, encoding) = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(ReviewError::Empty);
    }
    let format = hint.unwrap_or_else(|| sniff(&text));
    let mut acc = Accumulator::default();
    match format {
        Format::Csv => read_csv(&text, &mut acc)?,
        Format::Json => read_json(&text, &mut acc)?,
        Format::Lines => read_lines(&text, &mut acc)?,
    }
    if acc.reviews.is_empty() {
        return Err(ReviewError::NoReviews(format!(
            "{} record(s) had no review text",
            acc.empty_skipped
        )));
    }
    Ok(Imported {
        format,
        encoding: encoding.to_string(),
        reviews: acc.reviews,
        empty_skipped: acc.empty_skipped,
        invalid_ratings: acc.invalid_ratings,
    })
}

fn decode(bytes: &[u8]) -> Result<(std::borrow::Cow<'_, str>, &'static str), ReviewError> {
    crate::text_decode::decode(bytes).map_err(|e| ReviewError::Encoding {
        utf8_offset: e.utf8_offset,
        gbk_offset: e.gbk_offset,
    })
}

/// JSON when it opens with `[` or `{`; CSV when the first line is a header
/// naming a text column; else one review per line.
fn sniff(text: &str) -> Format {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return Format::Json;
    }
    let first = trimmed.lines().next().unwrap_or_default();
    let delim = delimiter(first);
    let header_names_text = first
        .split(delim as char)
        .any(|h| column_role(h) == Some(Role::Text));
    if header_names_text {
        Format::Csv
    } else {
        Format::Lines
    }
}

fn delimiter(header: &str) -> u8 {
    if header.contains('\t') && !header.contains(',') {
        b'\t'
    } else if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Product,
    Rating,
    Text,
    Date,
}

/// What a column holds, from its header: case, spaces, `_` and `-` ignored.
fn column_role(header: &str) -> Option<Role> {
    let key: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    let role = match key.as_str() {
        "product" | "productid" | "productname" | "sku" | "item" | "asin" | "商品" | "产品"
        | "商品名称" => Role::Product,
        "rating" | "stars" | "star" | "score" | "评分" | "星级" | "打分" => Role::Rating,
        "text" | "review" | "reviewtext" | "reviewbody" | "body" | "content" | "comment"
        | "comments" | "评价" | "内容" | "评论" | "评价内容" | "评论内容" => {
            Role::Text
        }
        "date" | "time" | "createdat" | "reviewdate" | "日期" | "时间" | "评价时间" => {
            Role::Date
        }
        _ => return None,
    };
    Some(role)
}

#[derive(Default)]
struct Accumulator {
    reviews: Vec<Review>,
    empty_skipped: usize,
    invalid_ratings: usize,
}

impl Accumulator {
    fn push(
        &mut self,
        position: Position,
        product: Option<&str>,
        rating: Option<&str>,
        text: &str,
        date: Option<&str>,
    ) -> Result<(), ReviewError> {
        let text = fold_whitespace(text);
        if text.is_empty() {
            self.empty_skipped += 1;
            return Ok(());
        }
        if self.reviews.len() >= MAX_REVIEWS {
            return Err(ReviewError::TooMany { limit: MAX_REVIEWS });
        }
        let rating_raw = rating.map(str::trim).filter(|r| !r.is_empty());
        let rating = rating_raw.and_then(parse_rating);
        if rating_raw.is_some() && rating.is_none() {
            self.invalid_ratings += 1;
        }
        let field = |v: Option<&str>| v.map(fold_whitespace).filter(|s| !s.is_empty());
        self.reviews.push(Review {
            id: self.reviews.len() + 1,
            position,
            product: field(product),
            rating,
            text,
            date: field(date),
        });
        Ok(())
    }
}

/// `4`, `4.0`, `4/5`, `4 stars`, `4星`, `★★★★`: 1..=5, else `None`.
pub fn parse_rating(raw: &str) -> Option<u8> {
    let s = raw.trim();
    let stars = s.chars().filter(|&c| c == '★').count();
    if stars > 0 && s.chars().all(|c| c == '★' || c == '☆' || c.is_whitespace()) {
        return u8::try_from(stars).ok().filter(|n| (1..=5).contains(n));
    }
    let number = s
        .trim_end_matches(|c: char| c.is_alphabetic() || c.is_whitespace() || c == '星')
        .trim_end_matches("/5")
        .trim_end_matches("/ 5")
        .trim();
    let value: f64 = number.parse().ok()?;
    if !(1.0..=5.0).contains(&value) || value.fract() != 0.0 {
        return None;
    }
    Some(value as u8)
}

fn read_csv(text: &str, acc: &mut Accumulator) -> Result<(), ReviewError> {
    let first = text.lines().next().unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(first))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ReviewError::Csv {
            record: 0,
            reason: e.to_string(),
        })?
        .clone();
    let find = |role: Role| headers.iter().position(|h| column_role(h) == Some(role));
    let Some(text_col) = find(Role::Text) else {
        return Err(ReviewError::NoTextColumn {
            found: headers
                .iter()
                .map(|h| format!("`{}`", h.trim_start_matches('\u{feff}').trim()))
                .collect(),
        });
    };
    let (product_col, rating_col, date_col) =
        (find(Role::Product), find(Role::Rating), find(Role::Date));
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ReviewError::Csv {
            record: i + 1,
            reason: e.to_string(),
        })?;
        let line = record.position().map(|p| p.line());
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c));
        acc.push(
            Position {
                record: i + 1,
                line,
            },
            cell(product_col),
            cell(rating_col),
            record.get(text_col).unwrap_or_default(),
            cell(date_col),
        )?;
    }
    Ok(())
}

fn read_json(text: &str, acc: &mut Accumulator) -> Result<(), ReviewError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ReviewError::Json(e.to_string()))?;
    let items = match &value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(map) => map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("reviews"))
            .and_then(|(_, v)| v.as_array())
            .ok_or_else(|| {
                ReviewError::Json(
                    "expected an array of reviews or an object with a `reviews` array".into(),
                )
            })?,
        _ => {
            return Err(ReviewError::Json(
                "expected an array of reviews or an object with a `reviews` array".into(),
            ))
        }
    };
    for (i, item) in items.iter().enumerate() {
        let position = Position {
            record: i + 1,
            line: None,
        };
        match item {
            serde_json::Value::String(s) => acc.push(position, None, None, s, None)?,
            serde_json::Value::Object(map) => {
                let mut fields: [Option<String>; 4] = Default::default();
                for (k, v) in map {
                    let slot = match column_role(k) {
                        Some(Role::Product) => 0,
                        Some(Role::Rating) => 1,
                        Some(Role::Text) => 2,
                        Some(Role::Date) => 3,
                        None => continue,
                    };
                    let s = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => continue,
                    };
                    fields[slot].get_or_insert(s);
                }
                let [product, rating, text, date] = fields;
                acc.push(
                    position,
                    product.as_deref(),
                    rating.as_deref(),
                    text.as_deref().unwrap_or_default(),
                    date.as_deref(),
                )?;
            }
            _ => {
                return Err(ReviewError::Json(format!(
                    "review {} is neither an object nor a string",
                    i + 1
                )))
            }
        }
    }
    Ok(())
}

fn read_lines(text: &str, acc: &mut Accumulator) -> Result<(), ReviewError> {
    let mut record = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        record += 1;
        acc.push(
            Position {
                record,
                line: Some(i as u64 + 1),
            },
            None,
            None,
            line,
            None,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(i: &Imported) -> Vec<&str> {
        i.reviews.iter().map(|r| r.text.as_str()).collect()
    }

    #[test]
    fn csv_with_quoted_newlines_and_odd_headers() {
        let csv = "SKU,Stars,Review Text,Date\n\
                   H1,5,\"Warm and soft.\nWould buy again\",2024-01-02\n\
                   H1,seven,\"Zip broke, sadly\",2024-01-03\n\
                   H1,,   ,2024-01-04\n\
                   H2,2,Runs small,2024-01-05\n";
        let i = import_bytes(csv.as_bytes(), Some(Format::Csv)).unwrap();
        assert_eq!(
            texts(&i),
            [
                "Warm and soft. Would buy again",
                "Zip broke, sadly",
                "Runs small"
            ]
        );
        assert_eq!(i.reviews[0].rating, Some(5));
        assert_eq!(i.reviews[1].rating, None);
        assert_eq!(i.invalid_ratings, 1);
        assert_eq!(i.empty_skipped, 1);
        assert_eq!(i.reviews[0].product.as_deref(), Some("H1"));
        // The second record starts on line 4: the first spans lines 2-3.
        assert_eq!(
            i.reviews[1].position,
            Position {
                record: 2,
                line: Some(4)
            }
        );
        assert_eq!(i.reviews[2].position.record, 4);
    }

    #[test]
    fn csv_without_a_text_column_lists_the_columns() {
        let err = import_bytes(b"sku,stars,when\nA,5,today\n", Some(Format::Csv)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ReviewError::NoTextColumn { .. }));
        assert!(msg.contains("`sku`, `stars`, `when`"), "{msg}");
    }

    #[test]
    fn gbk_and_bom_are_decoded() {
        let (gbk, _, bad) = encoding_rs::GBK.encode("商品,评分,评价\n卫衣,5,很舒服，质量好\n");
        assert!(!bad);
        let i = import_bytes(&gbk, None).unwrap();
        assert_eq!(i.encoding, "gb18030");
        assert_eq!(i.format, Format::Csv);
        assert_eq!(texts(&i), ["很舒服，质量好"]);
        assert_eq!(i.reviews[0].product.as_deref(), Some("卫衣"));

        let bom = b"\xEF\xBB\xBFtext,rating\nnice,4\n";
        let i = import_bytes(bom, None).unwrap();
        assert_eq!(i.encoding, "utf-8");
        assert_eq!(texts(&i), ["nice"]);
        assert_eq!(i.reviews[0].rating, Some(4));
    }

    #[test]
    fn undecodable_bytes_name_the_offset() {
        // Valid ASCII, then 0xFF: invalid in UTF-8 and in GB18030.
        let err = import_bytes(b"good hoodie\n\xFF\xFFbad", None).unwrap_err();
        match err {
            ReviewError::Encoding {
                utf8_offset,
                gbk_offset,
            } => {
                assert_eq!(utf8_offset, 12);
                assert_eq!(gbk_offset, 12);
            }
            other => panic!("expected an encoding error, got {other}"),
        }
    }

    #[test]
    fn json_shapes() {
        let a = r#"[{"Product":"H1","rating":4,"review":"Cosy"},"just text",{"body":"  "}]"#;
        let i = import_bytes(a.as_bytes(), None).unwrap();
        assert_eq!(i.format, Format::Json);
        assert_eq!(texts(&i), ["Cosy", "just text"]);
        assert_eq!(i.reviews[0].rating, Some(4));
        assert_eq!(i.empty_skipped, 1);
        assert_eq!(i.reviews[1].position.record, 2);

        let o = r#"{"reviews":[{"内容":"很好","评分":"5"}]}"#;
        let i = import_bytes(o.as_bytes(), Some(Format::Json)).unwrap();
        assert_eq!(texts(&i), ["很好"]);
        assert_eq!(i.reviews[0].rating, Some(5));

        assert!(matches!(
            import_bytes(br#"{"items":[]}"#, None),
            Err(ReviewError::Json(_))
        ));
        assert!(matches!(
            import_bytes(b"[1, 2]", None),
            Err(ReviewError::Json(_))
        ));
    }

    #[test]
    fn lines_empty_and_limits() {
        let i = import_bytes(b"Great hoodie\n\n   \nToo small\n", None).unwrap();
        assert_eq!(i.format, Format::Lines);
        assert_eq!(texts(&i), ["Great hoodie", "Too small"]);
        assert_eq!(
            i.reviews[1].position,
            Position {
                record: 2,
                line: Some(4)
            }
        );

        assert!(matches!(import_bytes(b"", None), Err(ReviewError::Empty)));
        assert!(matches!(
            import_bytes(b" \n\t\n", None),
            Err(ReviewError::Empty)
        ));
        assert!(matches!(
            import_bytes(b"text\n \n\"\"\n", Some(Format::Csv)),
            Err(ReviewError::NoReviews(_))
        ));

        let many = "ok\n".repeat(MAX_REVIEWS + 1);
        assert!(matches!(
            import_bytes(many.as_bytes(), None),
            Err(ReviewError::TooMany { .. })
        ));
    }

    #[test]
    fn oversize_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let f = std::fs::File::create(&path).unwrap();
        // Sparse: the size is real, the disk use is not.
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        assert!(matches!(
            import_file(&path),
            Err(ReviewError::TooLarge { .. })
        ));
        assert!(matches!(
            import_file(&dir.path().join("missing.csv")),
            Err(ReviewError::MissingFile { .. })
        ));
    }

    #[test]
    fn ratings_parse_or_are_dropped() {
        for (raw, want) in [
            ("5", Some(5)),
            ("4.0", Some(4)),
            ("3/5", Some(3)),
            ("2 stars", Some(2)),
            ("4星", Some(4)),
            ("★★★", Some(3)),
            ("0", None),
            ("6", None),
            ("4.5", None),
            ("great", None),
        ] {
            assert_eq!(parse_rating(raw), want, "{raw}");
        }
    }
}
