//! The little of an ONNX file's protobuf that binding a card needs, read without a protobuf
//! library (the page has no tract): the graph's declared inputs and outputs, its initializer
//! names and the model's metadata_props. Field numbers from onnx.proto3.

use super::binding::{DType, Dim, Signature, TensorDecl};
use crate::{Error, Result, bail};

/// A protobuf field: its number and its value (a varint, or the bytes of a length-delimited one).
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn varint(buf: &mut &[u8]) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf.split_first().ok_or_else(truncated)?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    bail!("not an ONNX model (a malformed number in its protobuf)")
}

fn truncated() -> Error {
    Error("not an ONNX model (truncated or another format)".into())
}

/// Calls `f` on every field of a message.
fn fields<'a>(mut buf: &'a [u8], mut f: impl FnMut(u64, Value<'a>) -> Result<()>) -> Result<()> {
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut buf)?),
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                buf = buf.get(n..).ok_or_else(truncated)?;
                Value::Fixed
            }
            2 => {
                let n = usize::try_from(varint(&mut buf)?).map_err(|_| truncated())?;
                let (bytes, rest) = (buf.get(..n).ok_or_else(truncated)?, &buf[n..]);
                buf = rest;
                Value::Bytes(bytes)
            }
            _ => bail!("not an ONNX model (truncated or another format)"),
        };
        f(key >> 3, value)?;
    }
    Ok(())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1,
/// shape = 2: { dim = 1: { dim_value = 1, dim_param = 2 } } } } }.
fn value_info(buf: &[u8]) -> Result<TensorDecl> {
    let mut decl = TensorDecl { name: String::new(), dtype: DType::Other(0), dims: None };
    fields(buf, |n, v| match (n, v) {
        (1, Value::Bytes(b)) => Ok(decl.name = text(b)),
        (2, Value::Bytes(t)) => fields(t, |n, v| match (n, v) {
            (1, Value::Bytes(tensor)) => fields(tensor, |n, v| match (n, v) {
                (1, Value::Varint(e)) => Ok(decl.dtype = DType::from_onnx(e as i32)),
                (2, Value::Bytes(shape)) => {
                    let dims = decl.dims.insert(Vec::new());
                    fields(shape, |n, v| match (n, v) {
                        (1, Value::Bytes(dim)) => {
                            let mut d = Dim::Symbol(String::new());
                            fields(dim, |n, v| match (n, v) {
                                (1, Value::Varint(k)) if k > 0 => Ok(d = Dim::Fixed(k as usize)),
                                (2, Value::Bytes(p)) => Ok(d = Dim::Symbol(text(p))),
                                _ => Ok(()),
                            })?;
                            Ok(dims.push(d))
                        }
                        _ => Ok(()),
                    })
                }
                _ => Ok(()),
            }),
            _ => Ok(()),
        }),
        _ => Ok(()),
    })?;
    Ok(decl)
}

/// An ONNX file's declared interface (initializers excluded, as tract and onnxruntime see it)
/// and its metadata_props.
pub fn read_interface(bytes: &[u8]) -> Result<(Signature, Vec<(String, String)>)> {
    let (mut ir_version, mut graph, mut metadata) = (0, None, Vec::new());
    fields(bytes, |n, v| match (n, v) {
        (1, Value::Varint(v)) => Ok(ir_version = v),
        (7, Value::Bytes(g)) => Ok(graph = Some(g)),
        (14, Value::Bytes(entry)) => {
            let (mut key, mut value) = (String::new(), String::new());
            fields(entry, |n, v| match (n, v) {
                (1, Value::Bytes(b)) => Ok(key = text(b)),
                (2, Value::Bytes(b)) => Ok(value = text(b)),
                _ => Ok(()),
            })?;
            Ok(metadata.push((key, value)))
        }
        _ => Ok(()),
    })?;
    let graph = graph.filter(|_| ir_version > 0).ok_or_else(|| Error("not an ONNX model (no graph)".into()))?;
    let (mut nodes, mut inputs, mut outputs, mut initialized) = (0, Vec::new(), Vec::new(), std::collections::HashSet::new());
    fields(graph, |n, v| match (n, v) {
        (1, Value::Bytes(_)) => Ok(nodes += 1),
        // TensorProto: name = 8.
        (5, Value::Bytes(t)) => fields(t, |n, v| match (n, v) {
            (8, Value::Bytes(b)) => Ok(_ = initialized.insert(text(b))),
            _ => Ok(()),
        }),
        (11, Value::Bytes(b)) => Ok(inputs.push(value_info(b)?)),
        (12, Value::Bytes(b)) => Ok(outputs.push(value_info(b)?)),
        _ => Ok(()),
    })?;
    if nodes == 0 || outputs.is_empty() {
        bail!("not an ONNX model (no graph with nodes and outputs)");
    }
    inputs.retain(|i: &TensorDecl| !initialized.contains(&i.name));
    Ok((Signature { inputs, outputs }, metadata))
}
