//! PDFs written by the tests (with lopdf): text placed line by line in Helvetica at given
//! positions and sizes, as a word processor's export places it, optionally an image-only
//! page, a title in the document's metadata, and password encryption. Nothing here
//! lays out paragraphs for the reader: the tests place every line themselves, so that
//! what the reader must rebuild (columns, hyphens, headers) is exactly what they wrote.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

/// A4 in points.
pub const WIDTH: f64 = 595.0;
pub const HEIGHT: f64 = 842.0;

/// One line of text drawn at (x, y), the baseline's left end, in points from the
/// bottom-left corner.
#[derive(Debug, Clone)]
pub struct Text {
    pub x: f64,
    pub y: f64,
    pub size: f64,
    pub text: String,
}

pub fn text(x: f64, y: f64, size: f64, text: &str) -> Text {
    Text {
        x,
        y,
        size,
        text: text.to_string(),
    }
}

/// One page: its lines, and whether it holds an image (a scanned page has nothing else).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub texts: Vec<Text>,
    pub image: bool,
}

impl Page {
    pub fn of(texts: Vec<Text>) -> Page {
        Page {
            texts,
            image: false,
        }
    }
}

/// Lines starting at `y`, going down by `leading`, all at `x` in `size`: one per item.
pub fn lines(x: f64, y: f64, size: f64, leading: f64, items: &[&str]) -> Vec<Text> {
    items
        .iter()
        .enumerate()
        .map(|(i, t)| text(x, y - i as f64 * leading, size, t))
        .collect()
}

/// Words wrapped into lines of at most `chars` characters.
pub fn wrap(words: &str, chars: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for w in words.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + w.len() > chars {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// The PDF of `pages`, with `/Title` in its metadata when given.
pub fn write(pages: &[Page], title: Option<&str>) -> Vec<u8> {
    let mut doc = document(pages, title);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// The PDF of `pages`, encrypted (RC4, 128 bits) with a user password.
pub fn write_encrypted(pages: &[Page], user_password: &str) -> Vec<u8> {
    let mut doc = document(pages, None);
    let version = lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner secret",
        user_password,
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    };
    let state = lopdf::EncryptionState::try_from(version).unwrap();
    doc.encrypt(&state).unwrap();
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn document(pages: &[Page], title: Option<&str>) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let image_id = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => 2,
            "Height" => 2,
            "ColorSpace" => "DeviceGray",
            "BitsPerComponent" => 8,
        },
        vec![0, 255, 255, 0],
    ));
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
        "XObject" => dictionary! { "Im1" => image_id },
    });
    let mut kids = Vec::new();
    for page in pages {
        let mut ops = Vec::new();
        if page.image {
            ops.push(Operation::new("q", vec![]));
            ops.push(Operation::new(
                "cm",
                vec![
                    500.into(),
                    0.into(),
                    0.into(),
                    700.into(),
                    40.into(),
                    60.into(),
                ],
            ));
            ops.push(Operation::new("Do", vec!["Im1".into()]));
            ops.push(Operation::new("Q", vec![]));
        }
        for t in &page.texts {
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Tf", vec!["F1".into(), t.size.into()]));
            ops.push(Operation::new("Td", vec![t.x.into(), t.y.into()]));
            ops.push(Operation::new(
                "Tj",
                vec![Object::string_literal(t.text.as_str())],
            ));
            ops.push(Operation::new("ET", vec![]));
        }
        let content = Content { operations: ops };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), (WIDTH as i64).into(), (HEIGHT as i64).into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    if let Some(title) = title {
        let info_id = doc.add_object(dictionary! {
            "Title" => Object::string_literal(title),
        });
        doc.trailer.set("Info", info_id);
    }
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal("briefbot-test-id-0"),
            Object::string_literal("briefbot-test-id-0"),
        ],
    );
    doc.compress();
    doc
}
