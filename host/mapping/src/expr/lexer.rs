//! The expression lexer: turns the text of a mapping expression into tokens.
//!
//! Columns are 1-based and counted in characters (not bytes) from the start
//! of the expression, so an error under a multi-byte character points at
//! the character a person sees. The lexer never panics: every input either
//! yields a token list ending in [`Tok::Eof`] or one [`ExprError`].

use super::ExprError;

/// One token with the column of its first character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub col: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `${name}`: the name, surrounding blanks removed.
    Ref(String),
    /// A string literal, escapes resolved.
    Str(String),
    /// An integer literal (digits only); saturates at `usize::MAX`.
    Int(usize),
    /// A function name.
    Ident(String),
    LParen,
    RParen,
    Comma,
    Plus,
    /// `??`
    Fallback,
    Eof,
}

impl Tok {
    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ref(n) => format!("attribute reference '${{{n}}}'"),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Int(_) => "a number".to_owned(),
            Tok::Ident(n) => format!("'{n}'"),
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::Comma => "','".to_owned(),
            Tok::Plus => "'+'".to_owned(),
            Tok::Fallback => "'??'".to_owned(),
            Tok::Eof => "the end of the expression".to_owned(),
        }
    }
}

/// Characters allowed in an attribute name inside `${...}`: LDAP
/// descriptors (letters, digits, `-`), numeric OIDs (`.`), attribute
/// options (`;binary`), plus `_` and `:` for other sources' column names.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ';' | ':')
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Split `src` into tokens; the last one is always [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, next) = match c {
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            ',' => (Tok::Comma, i + 1),
            '+' => (Tok::Plus, i + 1),
            '?' => {
                if chars.get(i + 1) == Some(&'?') {
                    (Tok::Fallback, i + 2)
                } else {
                    return Err(ExprError::new(col, "expected '??' (a single '?' is not an operator)"));
                }
            }
            '$' => lex_ref(&chars, i)?,
            '"' | '\'' => lex_string(&chars, i)?,
            '0'..='9' => lex_int(&chars, i),
            c if is_ident_start(c) => {
                let mut j = i;
                while j < chars.len() && is_ident_char(chars[j]) {
                    j += 1;
                }
                (Tok::Ident(chars[i..j].iter().collect()), j)
            }
            '-' if chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                return Err(ExprError::new(col, "negative numbers are not allowed"));
            }
            other => {
                return Err(ExprError::new(col, format!("unexpected character {}", show_char(other))));
            }
        };
        out.push(Token { tok, col });
        i = next;
    }
    out.push(Token { tok: Tok::Eof, col: chars.len() + 1 });
    Ok(out)
}

/// `'x'`, or a `U+XXXX` form for control and invisible characters.
pub(crate) fn show_char(c: char) -> String {
    if c.is_control() || (c.is_whitespace() && c != ' ') { format!("U+{:04X}", c as u32) } else { format!("'{c}'") }
}

/// `${name}` starting at `chars[start] == '$'`.
fn lex_ref(chars: &[char], start: usize) -> Result<(Tok, usize), ExprError> {
    let col = start + 1;
    if chars.get(start + 1) != Some(&'{') {
        return Err(ExprError::new(col, "expected '{' after '$' (attribute references are written ${name})"));
    }
    let mut j = start + 2;
    let mut name = String::new();
    loop {
        match chars.get(j) {
            None => return Err(ExprError::new(col, "unterminated attribute reference: missing '}'")),
            Some('}') => break,
            Some(&c) if c.is_whitespace() => {
                // Blanks are allowed only around the name: `${ mail }`.
                let mut k = j;
                while chars.get(k).is_some_and(|c| c.is_whitespace()) {
                    k += 1;
                }
                match chars.get(k) {
                    None => return Err(ExprError::new(col, "unterminated attribute reference: missing '}'")),
                    Some('}') => {
                        j = k;
                        break;
                    }
                    Some(_) if name.is_empty() => j = k,
                    Some(_) => {
                        return Err(ExprError::new(j + 1, "blank inside an attribute name"));
                    }
                }
            }
            Some(&c) if is_name_char(c) => {
                name.push(c);
                j += 1;
            }
            Some(&c) => {
                return Err(ExprError::new(
                    j + 1,
                    format!("unexpected character {} in an attribute reference", show_char(c)),
                ));
            }
        }
    }
    if name.is_empty() {
        return Err(ExprError::new(col, "empty attribute reference '${}'"));
    }
    Ok((Tok::Ref(name), j + 1))
}

/// A string literal starting at `chars[start]`, which is `"` or `'`.
fn lex_string(chars: &[char], start: usize) -> Result<(Tok, usize), ExprError> {
    let quote = chars[start];
    let mut j = start + 1;
    let mut s = String::new();
    loop {
        match chars.get(j) {
            None => {
                return Err(ExprError::new(start + 1, format!("unterminated string: missing closing {quote}")));
            }
            Some(&c) if c == quote => return Ok((Tok::Str(s), j + 1)),
            Some('\\') => {
                let esc = match chars.get(j + 1) {
                    Some('"') => '"',
                    Some('\'') => '\'',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some(&other) => {
                        return Err(ExprError::new(
                            j + 1,
                            format!("unknown escape '\\{other}' (allowed: \\\" \\' \\\\ \\n \\t)"),
                        ));
                    }
                    None => {
                        return Err(ExprError::new(start + 1, format!("unterminated string: missing closing {quote}")));
                    }
                };
                s.push(esc);
                j += 2;
            }
            Some(&c) => {
                s.push(c);
                j += 1;
            }
        }
    }
}

fn lex_int(chars: &[char], start: usize) -> (Tok, usize) {
    let mut j = start;
    let mut n: usize = 0;
    while let Some(d) = chars.get(j).and_then(|c| c.to_digit(10)) {
        n = n.saturating_mul(10).saturating_add(d as usize);
        j += 1;
    }
    (Tok::Int(n), j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens_and_columns() {
        let t = tokenize("${a} + 'x' ?? lower(1, 2)").unwrap();
        let cols: Vec<usize> = t.iter().map(|t| t.col).collect();
        assert_eq!(cols, vec![1, 6, 8, 12, 15, 20, 21, 22, 24, 25, 26]);
        assert_eq!(t[0].tok, Tok::Ref("a".into()));
        assert_eq!(t[2].tok, Tok::Str("x".into()));
        assert_eq!(t[4].tok, Tok::Ident("lower".into()));
        assert_eq!(t[6].tok, Tok::Int(1));
    }

    #[test]
    fn escapes() {
        assert_eq!(toks(r#""a\"b\\c\nd\te\'""#)[0], Tok::Str("a\"b\\c\nd\te'".into()));
        assert_eq!(toks(r#"'it\'s "x"'"#)[0], Tok::Str("it's \"x\"".into()));
        let e = tokenize(r#""a\qb""#).unwrap_err();
        assert_eq!(e.column, 3);
        assert!(e.message.contains("unknown escape"), "{e}");
    }

    #[test]
    fn references() {
        assert_eq!(toks("${ mail }")[0], Tok::Ref("mail".into()));
        assert_eq!(toks("${userCertificate;binary}")[0], Tok::Ref("userCertificate;binary".into()));
        assert_eq!(toks("${2.5.4.3}")[0], Tok::Ref("2.5.4.3".into()));
        assert_eq!(tokenize("${}").unwrap_err().column, 1);
        assert_eq!(tokenize("x ${ a b }").unwrap_err().column, 7);
        let e = tokenize("  ${abc").unwrap_err();
        assert_eq!(e.column, 3);
        assert!(e.message.contains("unterminated attribute reference"));
        let e = tokenize("${a+b}").unwrap_err();
        assert_eq!(e.column, 4);
        let e = tokenize("$a").unwrap_err();
        assert!(e.message.contains("expected '{'"));
    }

    #[test]
    fn errors_have_character_columns() {
        let e = tokenize("\"é\" + #").unwrap_err();
        assert_eq!(e.column, 7);
        assert!(e.message.contains("unexpected character '#'"));
        let e = tokenize("'abc").unwrap_err();
        assert_eq!((e.column, e.message.contains("unterminated string")), (1, true));
        assert_eq!(tokenize("a ? b").unwrap_err().column, 3);
        assert!(tokenize("-1").unwrap_err().message.contains("negative"));
        assert!(tokenize("\u{7}").unwrap_err().message.contains("U+0007"));
    }

    #[test]
    fn huge_integers_saturate() {
        assert_eq!(toks("99999999999999999999999999")[0], Tok::Int(usize::MAX));
    }
}
