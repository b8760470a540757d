//! One parser for the attribute syntax, shared by the four function
//! attributes and the `#[metrics]`, `#[metric]` and `#[label]` attributes of
//! the derives.
//!
//! Every attribute takes a comma-separated list of `key = value` and
//! `key(..)` items (and `#[redis_op]` one leading string). Unknown and
//! repeated keys are errors spanned at the key, reported by [`parse_args`]
//! for all of them. Only syntax is checked here; the rules are
//! [`crate::valid`]'s.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Expr, ExprArray, ExprLit, ExprUnary, Fields, Ident, Lit,
    LitFloat, LitStr, Meta, Token, UnOp,
};

use crate::ast::{
    Attr, Bound, Buckets, FamilyArgs, Label, LabelEnum, LabelVariant, MetricField, MetricsStruct,
    Name, TimedArgs, Which,
};

/// Parses `key = value, key(..), ..` from `input`: checks each key against
/// `keys` and against the keys already in `seen`, then hands the input,
/// positioned after the key, to `value`. `context` names the attribute in
/// errors (`timed`, `metric`).
pub fn parse_args(
    input: ParseStream,
    context: &str,
    keys: &[&str],
    seen: &mut Vec<String>,
    mut value: impl FnMut(&Ident, ParseStream) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        let key: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected an argument of #[{context}]: {}", keys.join(", ")),
            )
        })?;
        let text = key.to_string();
        if !keys.contains(&text.as_str()) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown argument `{text}` for #[{context}]; expected one of: {}",
                    keys.join(", ")
                ),
            ));
        }
        if seen.contains(&text) {
            return Err(syn::Error::new(
                key.span(),
                format!("duplicate argument `{text}`"),
            ));
        }
        value(&key, input)?;
        seen.push(text);
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

/// The argument tokens of an attribute: nothing for `#[name]`, the list for
/// `#[name(..)]`; `#[name = ..]` is an error.
pub fn arg_tokens(attribute: &Attribute, context: &str) -> syn::Result<TokenStream> {
    match &attribute.meta {
        Meta::Path(_) => Ok(TokenStream::new()),
        Meta::List(list) => Ok(list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new(
            nv.eq_token.span(),
            format!("use #[{context}(...)] or #[{context}]"),
        )),
    }
}

/// `= "…"`.
fn string(input: ParseStream) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    input.parse()
}

/// `= N` (a positive integer) or `= none` (no limit).
fn max_series(input: ParseStream) -> syn::Result<Option<syn::LitInt>> {
    input.parse::<Token![=]>()?;
    if input.peek(syn::LitInt) {
        let n: syn::LitInt = input.parse()?;
        if n.base10_parse::<usize>()? == 0 {
            return Err(syn::Error::new(
                n.span(),
                "max_series must be at least 1 (or `none` for no limit)",
            ));
        }
        return Ok(Some(n));
    }
    let word: Ident = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), "expected a number of series or `none`"))?;
    if word == "none" {
        Ok(None)
    } else {
        Err(syn::Error::new(
            word.span(),
            "expected a number of series or `none`",
        ))
    }
}

/// `= [b1, b2, ..]`.
fn buckets(input: ParseStream) -> syn::Result<Buckets> {
    input.parse::<Token![=]>()?;
    let array: ExprArray = input.parse()?;
    let bounds = array.elems.iter().map(bound).collect::<syn::Result<_>>()?;
    Ok(Buckets {
        bounds,
        span: array.bracket_token.span.join(),
    })
}

/// `(key = "value", ..)`. Keywords are fine label names (`type`, `match`).
fn labels_with_values(input: ParseStream) -> syn::Result<Vec<Label>> {
    let content;
    syn::parenthesized!(content in input);
    let pairs = Punctuated::<(Ident, LitStr), Token![,]>::parse_terminated_with(&content, |i| {
        let key = Ident::parse_any(i)?;
        Ok((key, string(i)?))
    })?;
    Ok(pairs
        .into_iter()
        .map(|(key, value)| Label {
            name: Name::from_ident(&key),
            value,
        })
        .collect())
}

/// `(name, ..)`.
fn label_names(input: ParseStream) -> syn::Result<Vec<Name>> {
    let content;
    syn::parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
    Ok(names.iter().map(Name::from_ident).collect())
}

/// Parses the arguments of function attribute `which`.
pub fn function_attr(which: Which, tokens: TokenStream) -> syn::Result<Attr> {
    let parser = move |input: ParseStream| match which {
        Which::Timed => {
            let mut args = TimedArgs::default();
            let keys = ["name", "help", "buckets", "labels", "objective"];
            parse_args(input, "timed", &keys, &mut Vec::new(), |key, input| {
                if key == "buckets" {
                    args.buckets = Some(buckets(input)?);
                    Ok(())
                } else {
                    family_arg(&mut args.family, key, input)
                }
            })?;
            Ok(Attr::Timed(args))
        }
        Which::Counted => {
            let keys = ["name", "help", "labels", "objective"];
            family_args(input, "counted", &keys).map(Attr::Counted)
        }
        Which::InFlight => {
            family_args(input, "in_flight", &["name", "help", "labels"]).map(Attr::InFlight)
        }
        Which::RedisOp => {
            let mut seen = Vec::new();
            let mut operation = None;
            if input.peek(LitStr) {
                operation = Some(input.parse()?);
                seen.push("operation".to_owned());
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            }
            parse_args(input, "redis_op", &["operation"], &mut seen, |_, input| {
                operation = Some(string(input)?);
                Ok(())
            })?;
            Ok(Attr::RedisOp(operation))
        }
    };
    parser.parse2(tokens)
}

/// The arguments of `#[counted]` and `#[in_flight]` (`keys`: those it takes).
fn family_args(input: ParseStream, context: &str, keys: &[&str]) -> syn::Result<FamilyArgs> {
    let mut args = FamilyArgs::default();
    parse_args(input, context, keys, &mut Vec::new(), |key, input| {
        family_arg(&mut args, key, input)
    })?;
    Ok(args)
}

/// One of `name`, `help`, `labels`, `objective` (the keys `parse_args` let
/// through).
fn family_arg(args: &mut FamilyArgs, key: &Ident, input: ParseStream) -> syn::Result<()> {
    if key == "labels" {
        args.labels = labels_with_values(input)?;
    } else if key == "objective" {
        input.parse::<Token![=]>()?;
        args.objective = Some(input.parse()?);
    } else if key == "name" {
        args.name = Some(string(input)?);
    } else {
        args.help = Some(string(input)?);
    }
    Ok(())
}

/// Runs `parse_args` over every `#[context(..)]` attribute in `attrs`, with
/// one set of seen keys (a key may not repeat across them either).
fn each_attr(
    attrs: &[Attribute],
    context: &str,
    keys: &[&str],
    mut value: impl FnMut(&Ident, ParseStream) -> syn::Result<()>,
) -> syn::Result<()> {
    let mut seen = Vec::new();
    for attribute in attrs.iter().filter(|a| a.path().is_ident(context)) {
        let tokens = arg_tokens(attribute, context)?;
        let parser = |input: ParseStream| parse_args(input, context, keys, &mut seen, &mut value);
        parser.parse2(tokens)?;
    }
    Ok(())
}

/// The `#[derive(Metrics)]` model of `input`; errors of all fields combined.
pub fn metrics_struct(input: &DeriveInput) -> syn::Result<MetricsStruct<'_>> {
    let named = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => &fields.named,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "#[derive(Metrics)] needs a struct with named fields",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(Metrics)] needs a struct with named fields",
            ));
        }
    };
    let mut errors = Errors::default();
    let mut prefix = None;
    errors.check(each_attr(&input.attrs, "metrics", &["prefix"], |_, i| {
        prefix = Some(string(i)?);
        Ok(())
    }));
    let mut fields = Vec::new();
    for field in named {
        let ident = field.ident.as_ref().expect("named fields have names");
        let mut metric = MetricField {
            ident,
            name: Name::from_ident(ident),
            ty: &field.ty,
            help: doc_text(&field.attrs),
            family: None,
            labels: None,
            buckets: None,
            max_series: None,
        };
        let keys = ["name", "labels", "buckets", "max_series"];
        let parsed = each_attr(&field.attrs, "metric", &keys, |key, input| {
            if key == "name" {
                metric.family = Some(string(input)?);
            } else if key == "labels" {
                metric.labels = Some((key.span(), label_names(input)?));
            } else if key == "max_series" {
                metric.max_series = Some(max_series(input)?);
            } else {
                metric.buckets = Some((key.span(), buckets(input)?));
            }
            Ok(())
        });
        if errors.check(parsed) {
            fields.push(metric);
        }
    }
    errors.finish()?;
    Ok(MetricsStruct {
        ident: &input.ident,
        generics: &input.generics,
        prefix,
        fields,
    })
}

/// The `#[derive(LabelValue)]` model of `input`.
pub fn label_enum(input: &DeriveInput) -> syn::Result<LabelEnum<'_>> {
    let misplaced = input.attrs.iter().find(|a| a.path().is_ident("label"));
    let Data::Enum(data) = &input.data else {
        // On a struct, a `#[label(..)]` is the token that shows the
        // misunderstanding; without one, the struct itself.
        let span = misplaced.map_or(input.ident.span(), |a| a.path().span());
        return Err(syn::Error::new(
            span,
            "#[derive(LabelValue)] needs an enum: each variant is one label value (and, as an error, one reason)\nhint: `#[label(..)]` goes on a variant of that enum",
        ));
    };
    if let Some(misplaced) = misplaced {
        return Err(syn::Error::new(
            misplaced.path().span(),
            "#[label(..)] goes on a variant, not on the enum\nhint: `#[label(rename = \"…\")]` or `#[label(expected)]` above the variant it is about",
        ));
    }
    let mut variants = Vec::new();
    for variant in &data.variants {
        let mut rename = None;
        let mut expected = false;
        each_attr(
            &variant.attrs,
            "label",
            &["rename", "expected"],
            |key, input| {
                if key == "expected" {
                    expected = true;
                } else {
                    rename = Some(string(input)?);
                }
                Ok(())
            },
        )?;
        variants.push(LabelVariant {
            ident: &variant.ident,
            rename,
            expected,
        });
    }
    Ok(LabelEnum { variants })
}

/// The HELP text from `///` doc comments, lines joined with spaces.
fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// A numeric literal (optionally negated) as a [`Bound`].
fn bound(expr: &Expr) -> syn::Result<Bound> {
    let (negative, lit) = match expr {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            other => return Err(not_a_number(other.span())),
        },
        other => return Err(not_a_number(other.span())),
    };
    let (digits, span) = match lit {
        Lit::Float(f) => (f.base10_digits().to_owned(), f.span()),
        Lit::Int(i) => (i.base10_digits().to_owned(), i.span()),
        other => return Err(not_a_number(other.span())),
    };
    let value: f64 = digits.parse().map_err(|_| not_a_number(span))?;
    let sign = if negative { "-" } else { "" };
    let point = if digits.contains(['.', 'e', 'E']) {
        ""
    } else {
        ".0"
    };
    Ok(Bound {
        value: if negative { -value } else { value },
        lit: LitFloat::new(&format!("{sign}{digits}{point}"), span),
    })
}

fn not_a_number(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "bucket bounds must be number literals, e.g. `buckets = [0.01, 0.1, 1.0]`",
    )
}

/// Collects errors, so that one pass reports every mistake it finds.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Keeps the error of `result`, if any; whether it was `Ok`.
    pub fn check<T>(&mut self, result: syn::Result<T>) -> bool {
        match result {
            Ok(_) => true,
            Err(e) => {
                self.push(e);
                false
            }
        }
    }

    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
